//! SIGHUP: what of a re-read configuration applies live, and what needs a restart.
//!
//! Answers are built from the live part of the config on every packet, so a new live part
//! (`config::Live`: rate limits, lease times, the server address, nameservers, domains,
//! ra_period) applies at once, swapped in whole. The fixed part (`config::Fixed`: paths, the
//! user, queues, the IPv6 mode, which features run) is only compared: a change there is
//! reported and the running value kept.

use crate::config::Config;

/// The outcome of merging a new config into the running one.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Settings now in effect with their new values, as `section.key=value`.
    pub applied: Vec<String>,
    /// Settings that changed in the file but need a restart to take effect, as `section.key`.
    pub need_restart: Vec<String>,
}

/// The config to run with from now on (the running fixed part, the new live part), and
/// what changed.
pub fn merge(running: &Config, new: Config) -> (Config, Changes) {
    let live = running.live.follow(new.live);
    let changes = Changes {
        applied: running
            .live
            .diff(&live)
            .into_iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect(),
        need_restart: running.fixed.diff(&new.fixed),
    };
    let merged = Config {
        fixed: running.fixed.clone(),
        live,
    };
    (merged, changes)
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
        assert_eq!((&merged.fixed.ipv6, &merged.live.ipv6), (&None, &None));
        assert_eq!(ch.need_restart, ["ipv6.enable_ipv6"]);
    }
}
