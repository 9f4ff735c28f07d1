//! The configuration file (`/etc/nfdhcpd/nfdhcpd.conf`): INI text -> a typed, validated
//! [`Config`], with every problem named by file, section, key and value.
//!
//! The format is the original daemon's (configobj): `[general]`, `[dhcp]` and `[ipv6]`
//! sections of `key = value` lines, `#` comments on their own line or after a value (preceded
//! by whitespace), comma-separated lists, yes/no booleans. rust-ini does the tokenizing; this
//! module checks what rust-ini is lenient about (line structure, duplicate keys and sections)
//! and everything typed: booleans, integer ranges, address families, DNS names, the IPv6 mode.
//!
//! Where we differ from the original, on purpose:
//! - All problems are reported at once ([`ConfigError::Invalid`]), not just the first.
//! - `[general]` keys, `lease_lifetime` (604800) and `lease_renewal` (3600) have defaults;
//!   `server_ip` may be left out with `server_on_link = yes`; nameservers are optional.
//! - The keys of a disabled feature (`enable_dhcp = no`, `enable_ipv6 = no`) are neither
//!   required nor checked; the section may be absent.
//! - Queue 0 is a valid IPv6 queue (the original tested truthiness, so 0 counted as unset).
//! - Unknown keys and sections are warned about instead of silently ignored.
//! - An empty value (`key =`, `key = ""`) means the key is not set: its default applies.
//! - Two features may not share a queue: each worker binds its own NFQUEUE.

//!
//! The validated [`Config`] is split by lifetime: [`Fixed`] holds what is set up once at
//! start-up (paths, the user, queues, which features run), [`Live`] what every packet reads
//! afresh. SIGHUP swaps the live part whole and only compares the fixed part, so the struct a
//! key is declared in decides whether it applies on reload; nothing else has to remember.

mod sections;
mod syntax;
#[cfg(test)]
mod tests;
mod values;

pub use values::dns_name;

use syntax::Checker;

use ipnetwork::Ipv6Network;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

pub const DEFAULT_CONFIG_PATH: &str = "/etc/nfdhcpd/nfdhcpd.conf";
pub const DEFAULT_PIDFILE: &str = "/var/run/nfdhcpd/nfdhcpd.pid";
pub const DEFAULT_DATAPATH: &str = "/var/lib/nfdhcpd";
pub const DEFAULT_LOGDIR: &str = "/var/log/nfdhcpd";
pub const DEFAULT_USER: &str = "nobody";
pub const DEFAULT_CONTROL_SOCKET: &str = "/run/nfdhcpd/control";
/// A booting VM sends a handful of DHCP/RS/NS packets; 20/s with a burst of 50 per
/// interface and queue never touches a legitimate client and caps a flooding one.
pub const DEFAULT_RATE_LIMIT: u32 = 20;
pub const DEFAULT_RATE_BURST: u32 = 50;
/// One week, the shipped sample's value (the original had no default).
pub const DEFAULT_LEASE_LIFETIME: u32 = 604_800;
/// One hour, the shipped sample's value (the original had no default).
pub const DEFAULT_LEASE_RENEWAL: u32 = 3_600;
/// `[dhcp] ipv6_only_wait`: RFC 8925 §3.4's default V6ONLY_WAIT.
pub const DEFAULT_IPV6_ONLY_WAIT: u32 = 1_800;
/// RFC 8925 §3.4's MIN_V6ONLY_WAIT: a client waits at least this long whatever the option
/// says (§3.2), so a smaller configured value is raised to it.
pub const MIN_IPV6_ONLY_WAIT: u32 = 300;
/// The original's spec said 600, but its code constant (`DEFAULT_RA_PERIOD`) and its shipped
/// sample both said 300, so every deployment ran with 300. A shorter period also shortens how
/// long a guest that missed the solicited RA waits for IPv6.
pub const DEFAULT_RA_PERIOD: u32 = 300;

/// Declares one section's part of the configuration: a struct whose field names are the
/// file's key names, and `diff`, which lists the keys whose values differ (for the reload
/// log). A key added here is compared on reload without being named anywhere else.
macro_rules! settings {
    ($(#[$meta:meta])* pub struct $name:ident in $section:literal {
        $($(#[$fmeta:meta])* pub $key:ident: $ty:ty,)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name { $($(#[$fmeta])* pub $key: $ty,)* }

        impl $name {
            /// `(section.key, new value)` for every key whose value differs in `new`.
            pub fn diff(&self, new: &Self) -> Vec<(String, String)> {
                let mut out = Vec::new();
                $(if self.$key != new.$key {
                    out.push((concat!($section, ".", stringify!($key)).to_string(),
                              format!("{:?}", new.$key)));
                })*
                out
            }
        }
    };
}

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Set up once at start-up; a change in the file needs a restart.
    pub fixed: Fixed,
    /// Read on every packet; a reload replaces it whole.
    pub live: Live,
}

/// What needs a restart to change: paths, the user, queues, and which features run.
#[derive(Debug, Clone, PartialEq)]
pub struct Fixed {
    pub general: Paths,
    /// `None` when `enable_dhcp = no`.
    pub dhcp: Option<DhcpQueue>,
    /// `None` when `enable_ipv6 = no`.
    pub ipv6: Option<Ipv6Queues>,
}

/// What applies on SIGHUP. A feature's part is `Some` exactly when [`Fixed`] enables it.
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    pub general: Limits,
    pub dhcp: Option<Dhcp>,
    pub ipv6: Option<Ipv6>,
}

settings! {
    /// `[general]`: where things live and whom to run as.
    pub struct Paths in "general" {
        pub pidfile: PathBuf,
        /// The binding-file directory.
        pub datapath: PathBuf,
        pub logdir: PathBuf,
        /// User name or numeric uid to drop privileges to.
        pub user: String,
        /// The control socket of `nfdhcpd ctl`; `None`: none (`control_socket =`).
        pub control_socket: Option<PathBuf>,
        /// Where the metrics are rewritten every 15 s; `None`: nowhere (the default).
        pub metrics_file: Option<PathBuf>,
    }
}

settings! {
    /// `[general]`: the per-interface packet limits.
    pub struct Limits in "general" {
        /// Packets per second each interface may send to each queue before the excess is
        /// dropped unanswered (token bucket); 0 disables the limit.
        pub rate_limit: u32,
        /// How many packets above the rate an interface may send at once.
        pub rate_burst: u32,
    }
}

settings! {
    /// `[dhcp]`: the queue DHCPv4 is served on.
    pub struct DhcpQueue in "dhcp" {
        pub dhcp_queue: u16,
    }
}

settings! {
    /// `[dhcp]`: what DHCPv4 replies carry.
    pub struct Dhcp in "dhcp" {
        /// Option 51, seconds, at least 1.
        pub lease_lifetime: u32,
        /// Option 58 (T1), seconds, at least 1 and below `lease_lifetime`.
        pub lease_renewal: u32,
        /// Option 54 and the IP source; `None` only when `server_on_link` is set.
        pub server_ip: Option<Ipv4Addr>,
        pub server_on_link: bool,
        /// Option 6; empty means the option is left out.
        pub nameservers: Vec<Ipv4Addr>,
        /// Option 15, without a trailing dot.
        pub domain: Option<String>,
        /// Option 119 (RFC 3397), checked and encoded once; empty means it is left out.
        pub domain_search: crate::wire::dns::SearchList,
        /// Option 42 (RFC 2132 §8.3), at most 63 addresses; empty means it is left out.
        pub ntp_servers: Vec<Ipv4Addr>,
        /// Option 108 (RFC 8925), V6ONLY_WAIT in seconds, at least 300: for IPV6ONLY
        /// bindings whose client asks for it.
        pub ipv6_only_wait: u32,
    }
}

/// What the IPv6 side answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv6Mode {
    /// RS -> RA and NS -> NA.
    Slaac,
    /// As `Slaac`, plus DHCPv6 (Information-Request -> Reply, and IA_PD/IA_NA to clients
    /// that ask), and the RA's O flag.
    SlaacDhcpv6,
    /// Stateful: the RA's M and O flags, its prefix without A, so addresses come from
    /// DHCPv6 (IA_NA) only.
    Dhcpv6,
}

impl Ipv6Mode {
    /// Whether the DHCPv6 queue is bound.
    pub fn serves_dhcpv6(self) -> bool {
        self != Ipv6Mode::Slaac
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Ipv6Mode::Slaac => "slaac",
            Ipv6Mode::SlaacDhcpv6 => "slaac+dhcpv6",
            Ipv6Mode::Dhcpv6 => "dhcpv6",
        }
    }
}

settings! {
    /// `[ipv6]`: the mode, resolved from the queues it is served on.
    pub struct Ipv6Queues in "ipv6" {
        pub mode: Ipv6Mode,
        pub rs_queue: u16,
        pub ns_queue: u16,
        /// `Some` exactly when `mode` serves DHCPv6.
        pub dhcpv6_queue: Option<u16>,
    }
}

settings! {
    /// `[ipv6]`: what RAs and DHCPv6 replies carry.
    pub struct Ipv6 in "ipv6" {
        /// Seconds between periodic RAs (1..=2^32-1).
        pub ra_period: u32,
        /// RDNSS and DHCPv6 option 23; empty means neither is sent.
        pub nameservers: Vec<Ipv6Addr>,
        /// DHCPv6 option 24, without trailing dots.
        pub domains: Vec<String>,
        /// DHCPv6 option 56 (RFC 5908), to clients that ask for it; empty means it is not
        /// sent.
        pub ntp_servers: Vec<Ipv6Addr>,
        /// The NAT64 prefix RAs carry in a PREF64 option (RFC 8781): /96, /64, /56, /48,
        /// /40 or /32, no host bits set; `None`: not sent.
        pub pref64: Option<Ipv6Network>,
        /// IA_NA/IA_PD valid and preferred lifetime, seconds, at least 1.
        pub lease_lifetime: u32,
        /// IA T1, seconds, at least 1 (T2 is 4/5 of the lifetime, RFC 8415 §21.4).
        pub lease_renewal: u32,
    }
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            pidfile: DEFAULT_PIDFILE.into(),
            datapath: DEFAULT_DATAPATH.into(),
            logdir: DEFAULT_LOGDIR.into(),
            user: DEFAULT_USER.into(),
            control_socket: Some(DEFAULT_CONTROL_SOCKET.into()),
            metrics_file: None,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rate_limit: DEFAULT_RATE_LIMIT,
            rate_burst: DEFAULT_RATE_BURST,
        }
    }
}

impl Config {
    /// The IPv6 mode, when IPv6 is enabled.
    pub fn ipv6_mode(&self) -> Option<Ipv6Mode> {
        self.fixed.ipv6.as_ref().map(|q| q.mode)
    }
}

impl Fixed {
    /// The keys whose values differ in `new` (a feature switched on or off is its `enable_`
    /// key).
    pub fn diff(&self, new: &Fixed) -> Vec<String> {
        let mut keys: Vec<String> = self
            .general
            .diff(&new.general)
            .into_iter()
            .map(|d| d.0)
            .collect();
        keys.extend(option_diff(
            "dhcp.enable_dhcp",
            &self.dhcp,
            &new.dhcp,
            DhcpQueue::diff,
        ));
        keys.extend(option_diff(
            "ipv6.enable_ipv6",
            &self.ipv6,
            &new.ipv6,
            Ipv6Queues::diff,
        ));
        keys
    }
}

impl Live {
    /// The new live settings to run with, given which features this process runs: a
    /// feature's part comes from `new` only when it runs in both (switching a feature on or
    /// off needs a restart, and `Fixed::diff` reports it).
    pub fn follow(&self, new: Live) -> Live {
        Live {
            general: new.general,
            dhcp: keep_enablement(&self.dhcp, new.dhcp),
            ipv6: keep_enablement(&self.ipv6, new.ipv6),
        }
    }

    /// `(section.key, new value)` for every live key that differs in `new`.
    pub fn diff(&self, new: &Live) -> Vec<(String, String)> {
        let mut out = self.general.diff(&new.general);
        if let (Some(a), Some(b)) = (&self.dhcp, &new.dhcp) {
            out.extend(a.diff(b));
        }
        if let (Some(a), Some(b)) = (&self.ipv6, &new.ipv6) {
            out.extend(a.diff(b));
        }
        out
    }
}

fn keep_enablement<T: Clone>(running: &Option<T>, new: Option<T>) -> Option<T> {
    match (running, new) {
        (Some(_), Some(new)) => Some(new),
        (running, _) => running.clone(),
    }
}

fn option_diff<T>(
    enable_key: &str,
    old: &Option<T>,
    new: &Option<T>,
    diff: fn(&T, &T) -> Vec<(String, String)>,
) -> Vec<String> {
    match (old, new) {
        (Some(a), Some(b)) => diff(a, b).into_iter().map(|d| d.0).collect(),
        (None, None) => Vec::new(),
        _ => vec![enable_key.to_string()],
    }
}

/// One problem in the file: everything the operator needs to find and fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    /// Empty for problems of the whole file (or keys outside any section).
    pub section: String,
    /// Empty for problems of a whole section or of the file.
    pub key: String,
    /// Empty when the problem is not about one value.
    pub value: String,
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if !self.section.is_empty() || !self.key.is_empty() {
            f.write_str(":")?;
        }
        if !self.section.is_empty() {
            write!(f, " [{}]", self.section)?;
        }
        if !self.key.is_empty() {
            write!(f, " {}", self.key)?;
        }
        if !self.value.is_empty() {
            // {:?} so a control character in the file cannot reach the terminal or the log.
            write!(f, " = {:?}", self.value)?;
        }
        write!(f, ": {}", self.reason)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Every problem found; `Display` gives one per line.
    #[error("{}", join_lines(.0))]
    Invalid(Vec<Problem>),
    /// The `[ipv6]` mode cannot run with the queues given; `code` is the exit status.
    #[error("{message}")]
    Ipv6Mode { code: u8, message: String },
}

impl ConfigError {
    /// The original's exit codes: 1 for an unreadable or invalid file; for the IPv6 mode,
    /// 2 when auto found no usable mode, 3 when an explicit mode misses queues, 4 when the
    /// mode is dhcpv6 (stateful DHCPv6 does not exist yet).
    pub fn exit_code(&self) -> u8 {
        match self {
            ConfigError::Read { .. } | ConfigError::Invalid(_) => 1,
            ConfigError::Ipv6Mode { code, .. } => *code,
        }
    }
}

fn join_lines(problems: &[Problem]) -> String {
    let lines: Vec<String> = problems.iter().map(Problem::to_string).collect();
    lines.join("\n")
}

/// A configuration and what the operator should hear about it without it being fatal.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub config: Config,
    /// Unknown keys and sections, the deprecated `[ipv6] dhcp_queue`, the obsolete
    /// `enable_dhcpv6`, keys the chosen mode ignores.
    pub warnings: Vec<Problem>,
}

/// Reads and validates the file at `path`.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let text = utf8_text(path, &bytes)?;
    parse(path, text)
}

/// The file's text, or the line where it stops being UTF-8 (an editor's Latin-1 `é`, say).
fn utf8_text<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str, ConfigError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = bytes.get(..e.valid_up_to()).unwrap_or_default();
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        ConfigError::Invalid(vec![Problem {
            file: path.to_path_buf(),
            section: String::new(),
            key: String::new(),
            value: String::new(),
            reason: format!("line {line}: not UTF-8 text; save the file as UTF-8"),
        }])
    })
}

/// Validates `text`; `path_for_messages` only names the file in problems.
pub fn parse(path_for_messages: &Path, text: &str) -> Result<Loaded, ConfigError> {
    // A byte order mark, as some Windows editors write; configobj skipped it too.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut ck = Checker::new(path_for_messages);
    let Some(sections) = syntax::read_sections(&mut ck, text, &sections::KNOWN_KEYS) else {
        return Err(ConfigError::Invalid(ck.problems));
    };
    let general = sections::general(&mut ck, &sections.general);
    let dhcp = sections::dhcp(&mut ck, &sections.dhcp);
    let ipv6 = sections::ipv6(&mut ck, &sections.ipv6);
    sections::check_distinct_queues(&mut ck, dhcp.as_ref(), ipv6.as_ref());
    // A section function returns None for a broken section only after recording why, so
    // with no problems, `general` is Some and `None` for dhcp/ipv6 means "disabled".
    let (Some((paths, limits)), true) = (general, ck.problems.is_empty()) else {
        return Err(ConfigError::Invalid(ck.problems));
    };
    let ipv6 = match ipv6 {
        Some(draft) => Some(draft.resolve(&mut ck)?),
        None => None,
    };
    let (dhcp_queue, dhcp) = dhcp.unzip();
    let (ipv6_queues, ipv6) = ipv6.unzip();
    Ok(Loaded {
        config: Config {
            fixed: Fixed {
                general: paths,
                dhcp: dhcp_queue,
                ipv6: ipv6_queues,
            },
            live: Live {
                general: limits,
                dhcp,
                ipv6,
            },
        },
        warnings: ck.warnings,
    })
}
