//! The three sections: each computes every value first (so every problem is recorded), then
//! builds its part of the configuration; `None` means disabled, or broken with the problems
//! recorded.

use super::syntax::{Checker, KnownKeys, Section};
use super::values::*;
use super::*;
use crate::wire::dns::SearchList;
use std::path::Path;

/// The keys each section knows (any other is warned about as unknown).
pub(super) const KNOWN_KEYS: KnownKeys = KnownKeys {
    general: GENERAL_KEYS,
    dhcp: DHCP_KEYS,
    ipv6: IPV6_KEYS,
};

const GENERAL_KEYS: &[&str] = &[
    "pidfile",
    "datapath",
    "logdir",
    "user",
    "rate_limit",
    "rate_burst",
    "control_socket",
    "metrics_file",
];
const DHCP_KEYS: &[&str] = &[
    "enable_dhcp",
    "dhcp_queue",
    "lease_lifetime",
    "lease_renewal",
    "server_ip",
    "server_on_link",
    "nameservers",
    "domain",
    "domain_search",
    "ntp_servers",
    "ipv6_only_wait",
];
const IPV6_KEYS: &[&str] = &[
    "enable_ipv6",
    "mode",
    "ra_period",
    "rs_queue",
    "ns_queue",
    "dhcpv6_queue",
    "dhcp_queue",
    "nameservers",
    "domains",
    "ntp_servers",
    "pref64",
    "lease_lifetime",
    "lease_renewal",
    "enable_dhcpv6",
];

/// The original sent any domain as written; what our wire encoder can send is accepted, and
/// a name that is not a host name (RFC 1123: `_`, say) is pointed out.
fn warn_unless_host_names<'a>(
    ck: &mut Checker,
    sec: &Section,
    key: &str,
    names: impl Iterator<Item = &'a String>,
) {
    for name in names {
        if let Err(why) = dns_name(name) {
            let reason = format!("{name:?} is not a host name ({why}); sent as written");
            ck.warning(sec.name, key, sec.get(key).unwrap_or(""), reason);
        }
    }
}

pub(super) fn general(ck: &mut Checker, sec: &Section) -> Option<(Paths, Limits)> {
    for key in ["pidfile", "datapath", "logdir"] {
        if let Some(raw) = sec.get(key).filter(|p| !Path::new(p).is_absolute()) {
            ck.warning(
                sec.name,
                key,
                raw,
                "a relative path; taken from / (the original's working directory once detached)",
            );
        }
    }
    let pidfile = ck.value_or(sec, "pidfile", parse_abs_path, DEFAULT_PIDFILE.into());
    let datapath = ck.value_or(sec, "datapath", parse_abs_path, DEFAULT_DATAPATH.into());
    let logdir = ck.value_or(sec, "logdir", parse_abs_path, DEFAULT_LOGDIR.into());
    let user = ck.value_or(sec, "user", parse_user, DEFAULT_USER.into());
    // Written but empty switches the socket off (its default is on).
    let control_socket = match sec.values.get("control_socket").map(|v| v.is_empty()) {
        Some(true) => Some(None),
        _ => ck.value_or(
            sec,
            "control_socket",
            |s| parse_abs_path(s).map(Some),
            Some(DEFAULT_CONTROL_SOCKET.into()),
        ),
    };
    let metrics_file = ck.value_or(sec, "metrics_file", |s| parse_abs_path(s).map(Some), None);
    let rate = ck.value_or(sec, "rate_limit", parse_rate, DEFAULT_RATE_LIMIT);
    let burst = ck.value_or(sec, "rate_burst", parse_rate, DEFAULT_RATE_BURST);
    let paths = Paths {
        pidfile: pidfile?,
        datapath: datapath?,
        logdir: logdir?,
        user: user?,
        control_socket: control_socket?,
        metrics_file: metrics_file?,
    };
    let limits = Limits {
        rate_limit: rate?,
        rate_burst: burst?,
    };
    Some((paths, limits))
}

pub(super) fn dhcp(ck: &mut Checker, sec: &Section) -> Option<(DhcpQueue, Dhcp)> {
    // An invalid enable_dhcp stops here: checking the rest could only add noise.
    if !ck.value_or(sec, "enable_dhcp", parse_bool, true)? {
        return None;
    }
    let queue = ck.required(
        sec,
        "dhcp_queue",
        parse_queue,
        "required when enable_dhcp = yes",
    );
    let (lifetime, renewal) = lease_times(ck, sec, "sent as it is, without option 59 (T2)");
    let on_link = ck.value_or(sec, "server_on_link", parse_bool, false);
    let server_ip = ck.value_or(sec, "server_ip", |s| parse_v4(s).map(Some), None);
    if on_link == Some(false) && sec.get("server_ip").is_none() {
        ck.problem(
            sec.name,
            "server_ip",
            "",
            "missing; required unless server_on_link = yes",
        );
    }
    let nameservers = ck.value_or(sec, "nameservers", |s| parse_list(s, parse_v4), Vec::new());
    let domain = ck.value_or(sec, "domain", |s| parse_domain(s).map(Some), None);
    warn_unless_host_names(ck, sec, "domain", domain.iter().flatten());
    let search = ck.value_or(
        sec,
        "domain_search",
        parse_search_list,
        SearchList::default(),
    );
    warn_unless_host_names(
        ck,
        sec,
        "domain_search",
        search.iter().flat_map(|l| l.names()),
    );
    let ntp_servers = ck.value_or(sec, "ntp_servers", parse_v4_option_list, Vec::new());
    let mut v6only_wait = ck.value_or(
        sec,
        "ipv6_only_wait",
        |s| parse_uint(s, 0, u32::MAX.into()).map(|n| n as u32),
        DEFAULT_IPV6_ONLY_WAIT,
    );
    if let Some(wait) = v6only_wait.filter(|w| *w < MIN_IPV6_ONLY_WAIT) {
        // RFC 8925 §3.2: a client takes anything below MIN_V6ONLY_WAIT as MIN_V6ONLY_WAIT.
        let reason = format!(
            "below RFC 8925's MIN_V6ONLY_WAIT; {MIN_IPV6_ONLY_WAIT} is sent, the least a \
             client waits"
        );
        ck.warning(sec.name, "ipv6_only_wait", &wait.to_string(), reason);
        v6only_wait = Some(MIN_IPV6_ONLY_WAIT);
    }
    let queue = DhcpQueue { dhcp_queue: queue? };
    Some((
        queue,
        Dhcp {
            lease_lifetime: lifetime?,
            lease_renewal: renewal?,
            server_ip: server_ip?,
            server_on_link: on_link?,
            nameservers: nameservers?,
            domain: domain?,
            domain_search: search?,
            ntp_servers: ntp_servers?,
            ipv6_only_wait: v6only_wait?,
        },
    ))
}

/// `lease_lifetime` and `lease_renewal` of `[dhcp]` or `[ipv6]`, with their defaults; a
/// renewal that is not below the lifetime is warned about (`then` says what happens).
fn lease_times(ck: &mut Checker, sec: &Section, then: &str) -> (Option<u32>, Option<u32>) {
    let lifetime = ck.value_or(sec, "lease_lifetime", parse_seconds, DEFAULT_LEASE_LIFETIME);
    let renewal = ck.value_or(sec, "lease_renewal", parse_seconds, DEFAULT_LEASE_RENEWAL);
    if let (Some(lifetime), Some(renewal)) = (lifetime, renewal) {
        if renewal >= lifetime {
            // The original sent it as it was; a client then renews only as its lease ends.
            let reason = format!(
                "should be below lease_lifetime ({lifetime}): a client renews before its lease \
                 ends; {then}"
            );
            ck.warning(sec.name, "lease_renewal", &renewal.to_string(), reason);
        }
    }
    (lifetime, renewal)
}

/// `[ipv6] mode` as written, before the queues decide what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ModeSetting {
    Auto,
    Slaac,
    Dhcpv6,
    SlaacDhcpv6,
}

impl ModeSetting {
    fn name(self) -> &'static str {
        match self {
            ModeSetting::Auto => "auto",
            ModeSetting::Slaac => "slaac",
            ModeSetting::Dhcpv6 => "dhcpv6",
            ModeSetting::SlaacDhcpv6 => "slaac+dhcpv6",
        }
    }
}

fn parse_mode(s: &str) -> Result<ModeSetting, String> {
    match s.to_ascii_lowercase().as_str() {
        "auto" => Ok(ModeSetting::Auto),
        "slaac" => Ok(ModeSetting::Slaac),
        "dhcpv6" => Ok(ModeSetting::Dhcpv6),
        "slaac+dhcpv6" => Ok(ModeSetting::SlaacDhcpv6),
        _ => Err("not a mode: use auto, slaac, slaac+dhcpv6 or dhcpv6".into()),
    }
}

/// A valid `[ipv6]` section whose mode is not resolved yet: mode errors have their own exit
/// codes and are reported only once the rest of the file is valid, as the original did.
pub(super) struct Ipv6Draft {
    mode: ModeSetting,
    ra_period: u32,
    queues: [Option<u16>; 3],
    nameservers: Vec<Ipv6Addr>,
    domains: Vec<String>,
    ntp_servers: Vec<Ipv6Addr>,
    pref64: Option<Ipv6Network>,
    lease_lifetime: u32,
    lease_renewal: u32,
}

pub(super) fn ipv6(ck: &mut Checker, sec: &Section) -> Option<Ipv6Draft> {
    if sec.values.contains_key("enable_dhcpv6") {
        // Still in the original's shipped sample, but unused since `mode` replaced it.
        let value = sec.get("enable_dhcpv6").unwrap_or("");
        ck.warning(
            sec.name,
            "enable_dhcpv6",
            value,
            "obsolete and ignored; `mode` decides whether DHCPv6 is answered",
        );
    }
    if !ck.value_or(sec, "enable_ipv6", parse_bool, true)? {
        return None;
    }
    let mode = ck.value_or(sec, "mode", parse_mode, ModeSetting::Auto);
    let ra_period = ck.value_or(sec, "ra_period", parse_seconds, DEFAULT_RA_PERIOD);
    let rs = ck.value_or(sec, "rs_queue", |s| parse_queue(s).map(Some), None);
    let ns = ck.value_or(sec, "ns_queue", |s| parse_queue(s).map(Some), None);
    let dhcpv6 = dhcpv6_queue(ck, sec);
    let nameservers = ck.value_or(sec, "nameservers", |s| parse_list(s, parse_v6), Vec::new());
    let domains = ck.value_or(sec, "domains", |s| parse_list(s, parse_domain), Vec::new());
    warn_unless_host_names(ck, sec, "domains", domains.iter().flatten());
    let ntp_servers = ck.value_or(sec, "ntp_servers", |s| parse_list(s, parse_v6), Vec::new());
    let pref64 = ck.value_or(sec, "pref64", |s| parse_pref64(s).map(Some), None);
    let (lifetime, renewal) = lease_times(ck, sec, "sent as T1 and T2 alike");
    Some(Ipv6Draft {
        mode: mode?,
        ra_period: ra_period?,
        queues: [rs?, ns?, dhcpv6?],
        nameservers: nameservers?,
        domains: domains?,
        ntp_servers: ntp_servers?,
        pref64: pref64?,
        lease_lifetime: lifetime?,
        lease_renewal: renewal?,
    })
}

/// `dhcpv6_queue`, or its deprecated older name `dhcp_queue` (accepted, with a warning).
fn dhcpv6_queue(ck: &mut Checker, sec: &Section) -> Option<Option<u16>> {
    let new = ck.value_or(sec, "dhcpv6_queue", |s| parse_queue(s).map(Some), None);
    let old = ck.value_or(sec, "dhcp_queue", |s| parse_queue(s).map(Some), None);
    if let Some(value) = sec.get("dhcp_queue") {
        if sec.get("dhcpv6_queue").is_some() {
            // Configs from the 0.13.5 rename have both; the original used dhcpv6_queue.
            ck.warning(
                sec.name,
                "dhcp_queue",
                value,
                "deprecated name of dhcpv6_queue, which is also set; ignored (remove it)",
            );
        } else {
            ck.warning(
                sec.name,
                "dhcp_queue",
                value,
                "deprecated; rename it to dhcpv6_queue",
            );
        }
    }
    Some(new?.or(old?))
}

/// Each worker binds its own NFQUEUE, so two features cannot share one.
pub(super) fn check_distinct_queues(
    ck: &mut Checker,
    dhcp: Option<&(DhcpQueue, Dhcp)>,
    ipv6: Option<&Ipv6Draft>,
) {
    let mut queues: Vec<(&str, &str, u16)> = Vec::new();
    if let Some(d) = dhcp {
        queues.push(("dhcp", "dhcp_queue", d.0.dhcp_queue));
    }
    if let Some(v6) = ipv6 {
        let names = ["rs_queue", "ns_queue", "dhcpv6_queue"];
        queues.extend(
            names
                .iter()
                .zip(v6.queues)
                .filter_map(|(k, q)| Some(("ipv6", *k, q?))),
        );
    }
    for (i, &(section, key, queue)) in queues.iter().enumerate() {
        if let Some(&(s0, k0, _)) = queues[..i].iter().find(|other| other.2 == queue) {
            let reason = format!(
                "queue {queue} is also [{s0}] {k0}; each kind of packet needs its own queue"
            );
            ck.problem(section, key, &queue.to_string(), reason);
        }
    }
}

impl Ipv6Draft {
    pub(super) fn resolve(self, ck: &mut Checker) -> Result<(Ipv6Queues, Ipv6), ConfigError> {
        let dhcpv6 = self.queues[2];
        let (mode, rs_queue, ns_queue) =
            resolve_mode(self.mode, self.queues).map_err(|(code, why)| ConfigError::Ipv6Mode {
                code,
                message: format!("{}: [ipv6] {why}", ck.file.display()),
            })?;
        let dhcpv6_queue = match mode {
            Ipv6Mode::SlaacDhcpv6 | Ipv6Mode::Dhcpv6 => dhcpv6,
            Ipv6Mode::Slaac => {
                if let Some(q) = dhcpv6 {
                    ck.warning(
                        "ipv6",
                        "dhcpv6_queue",
                        &q.to_string(),
                        "ignored: mode slaac does not answer DHCPv6",
                    );
                }
                None
            }
        };
        let queues = Ipv6Queues {
            mode,
            rs_queue,
            ns_queue,
            dhcpv6_queue,
        };
        let live = Ipv6 {
            ra_period: self.ra_period,
            nameservers: self.nameservers,
            domains: self.domains,
            ntp_servers: self.ntp_servers,
            pref64: self.pref64,
            lease_lifetime: self.lease_lifetime,
            lease_renewal: self.lease_renewal,
        };
        Ok((queues, live))
    }
}

/// The mode the queues allow, with the rs and ns queues it uses; or the exit code and why.
/// Auto prefers slaac+dhcpv6, then slaac; it never picks the stateful mode, which must be
/// asked for. Every mode needs rs_queue and ns_queue (even dhcpv6: its RAs carry the M flag
/// and the default route). Unlike the original, a partial slaac setup with dhcpv6_queue (say
/// rs_queue without ns_queue) gives code 2 naming the missing queue, not code 4: the
/// operator clearly meant slaac; and mode dhcpv6 is served (the original exited with 4).
fn resolve_mode(
    setting: ModeSetting,
    queues: [Option<u16>; 3],
) -> Result<(Ipv6Mode, u16, u16), (u8, String)> {
    const NAMES: [&str; 3] = ["rs_queue", "ns_queue", "dhcpv6_queue"];
    let missing = |needed: usize| -> String {
        let names: Vec<&str> = (0..needed)
            .filter(|&i| queues[i].is_none())
            .map(|i| NAMES[i])
            .collect();
        names.join(", ")
    };
    match (setting, queues) {
        (ModeSetting::Dhcpv6, [Some(rs), Some(ns), Some(_)]) => Ok((Ipv6Mode::Dhcpv6, rs, ns)),
        (ModeSetting::Auto | ModeSetting::SlaacDhcpv6, [Some(rs), Some(ns), Some(_)]) => Ok((Ipv6Mode::SlaacDhcpv6, rs, ns)),
        (ModeSetting::Auto | ModeSetting::Slaac, [Some(rs), Some(ns), _]) => Ok((Ipv6Mode::Slaac, rs, ns)),
        (ModeSetting::Auto, _) => Err((
            2,
            format!(
                "mode auto found no usable mode: slaac needs rs_queue, ns_queue, and slaac+dhcpv6 also \
                 dhcpv6_queue (missing: {}); set them, or set enable_ipv6 = no",
                missing(3)
            ),
        )),
        (explicit, _) => {
            let needed = if explicit == ModeSetting::Slaac { 2 } else { 3 };
            let names = NAMES[..needed].join(", ");
            Err((3, format!("mode {} needs {names}; missing: {}", explicit.name(), missing(needed))))
        }
    }
}
