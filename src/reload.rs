//! SIGHUP: what of a re-read configuration applies live, and what needs a restart.
//!
//! Answers are built from the config on every packet, so nameservers, domains, lease
//! times, the server address and ra_period apply at once. Queues, the user, paths and
//! enabling or disabling a feature are fixed at start-up: a change there is reported and
//! the running value kept.

use crate::config::{Config, Dhcp, Ipv6};
use std::fmt::Debug;

/// The outcome of merging a new config into the running one.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Settings now in effect with their new values, as `section.key`.
    pub applied: Vec<String>,
    /// Settings that changed in the file but need a restart to take effect.
    pub need_restart: Vec<String>,
}

/// The config to run with from now on, and what changed.
pub fn merge(running: &Config, new: Config) -> (Config, Changes) {
    let mut ch = Changes::default();
    let mut merged = new;
    if merged.general != running.general {
        ch.need_restart
            .push("general (pidfile, datapath, logdir, user)".into());
        merged.general = running.general.clone();
    }
    merged.dhcp = merge_dhcp(running.dhcp.as_ref(), merged.dhcp.take(), &mut ch);
    merged.ipv6 = merge_ipv6(running.ipv6.as_ref(), merged.ipv6.take(), &mut ch);
    (merged, ch)
}

fn note<T: PartialEq + Debug>(ch: &mut Changes, name: &str, old: &T, new: &T) {
    if old != new {
        ch.applied.push(format!("{name}={new:?}"));
    }
}

fn merge_dhcp(running: Option<&Dhcp>, new: Option<Dhcp>, ch: &mut Changes) -> Option<Dhcp> {
    let (r, mut n) = match (running, new) {
        (Some(r), Some(n)) => (r, n),
        (None, None) => return None,
        (r, _) => {
            ch.need_restart.push("dhcp.enable_dhcp".into());
            return r.cloned();
        }
    };
    if n.queue != r.queue {
        ch.need_restart.push("dhcp.dhcp_queue".into());
        n.queue = r.queue;
    }
    note(
        ch,
        "dhcp.lease_lifetime",
        &r.lease_lifetime,
        &n.lease_lifetime,
    );
    note(ch, "dhcp.lease_renewal", &r.lease_renewal, &n.lease_renewal);
    note(ch, "dhcp.server_ip", &r.server_ip, &n.server_ip);
    note(
        ch,
        "dhcp.server_on_link",
        &r.server_on_link,
        &n.server_on_link,
    );
    note(ch, "dhcp.nameservers", &r.nameservers, &n.nameservers);
    note(ch, "dhcp.domain", &r.domain, &n.domain);
    Some(n)
}

fn merge_ipv6(running: Option<&Ipv6>, new: Option<Ipv6>, ch: &mut Changes) -> Option<Ipv6> {
    let (r, mut n) = match (running, new) {
        (Some(r), Some(n)) => (r, n),
        (None, None) => return None,
        (r, _) => {
            ch.need_restart.push("ipv6.enable_ipv6".into());
            return r.cloned();
        }
    };
    // The mode follows from the queues, so both stay as started.
    let queues = |v: &Ipv6| (v.mode, v.rs_queue, v.ns_queue, v.dhcpv6_queue);
    if queues(&n) != queues(r) {
        ch.need_restart.push("ipv6 queues / mode".into());
        (n.mode, n.rs_queue, n.ns_queue, n.dhcpv6_queue) = queues(r);
    }
    note(ch, "ipv6.ra_period", &r.ra_period, &n.ra_period);
    note(ch, "ipv6.nameservers", &r.nameservers, &n.nameservers);
    note(ch, "ipv6.domains", &r.domains, &n.domains);
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn cfg(text: &str) -> Config {
        crate::config::parse(Path::new("t.conf"), text)
            .expect("valid")
            .config
    }

    const BASE: &str = "[general]\nuser = nobody\n[dhcp]\nserver_ip = 192.0.2.1\n\
        dhcp_queue = 42\nnameservers = 192.0.2.2\n[ipv6]\nrs_queue = 43\nns_queue = 44\n";

    #[test]
    fn live_settings_apply() {
        let old = cfg(BASE);
        let new = cfg(&BASE
            .replace("192.0.2.2", "192.0.2.9")
            .replace("ns_queue = 44\n", "ns_queue = 44\nra_period = 10\n"));
        let (merged, ch) = merge(&old, new.clone());
        assert_eq!(merged, new);
        assert!(ch.need_restart.is_empty(), "{ch:?}");
        assert_eq!(ch.applied.len(), 2, "{ch:?}");
    }

    #[test]
    fn queues_and_user_need_restart() {
        let old = cfg(BASE);
        let new = cfg(&BASE
            .replace("42", "52")
            .replace("43", "53")
            .replace("nobody", "daemon"));
        let (merged, ch) = merge(&old, new);
        assert_eq!(merged, old);
        assert_eq!(ch.need_restart.len(), 3, "{ch:?}");
    }

    #[test]
    fn enabling_a_feature_needs_restart() {
        let old = cfg(&BASE.replace("[ipv6]\n", "[ipv6]\nenable_ipv6 = no\n"));
        let (merged, ch) = merge(&old, cfg(BASE));
        assert_eq!(merged.ipv6, None);
        assert_eq!(ch.need_restart, ["ipv6.enable_ipv6"]);
    }
}
