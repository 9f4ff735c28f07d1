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

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use ini::{Ini, ParseOption};

pub const DEFAULT_CONFIG_PATH: &str = "/etc/nfdhcpd/nfdhcpd.conf";
pub const DEFAULT_PIDFILE: &str = "/var/run/nfdhcpd/nfdhcpd.pid";
pub const DEFAULT_DATAPATH: &str = "/var/lib/nfdhcpd";
pub const DEFAULT_LOGDIR: &str = "/var/log/nfdhcpd";
pub const DEFAULT_USER: &str = "nobody";
/// A booting VM sends a handful of DHCP/RS/NS packets; 20/s with a burst of 50 per
/// interface and queue never touches a legitimate client and caps a flooding one.
pub const DEFAULT_RATE_LIMIT: u32 = 20;
pub const DEFAULT_RATE_BURST: u32 = 50;
/// One week, the shipped sample's value (the original had no default).
pub const DEFAULT_LEASE_LIFETIME: u32 = 604_800;
/// One hour, the shipped sample's value (the original had no default).
pub const DEFAULT_LEASE_RENEWAL: u32 = 3_600;
/// The original's spec said 600, but its code constant (`DEFAULT_RA_PERIOD`) and its shipped
/// sample both said 300, so every deployment ran with 300. A shorter period also shortens how
/// long a guest that missed the solicited RA waits for IPv6.
pub const DEFAULT_RA_PERIOD: u32 = 300;

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub general: General,
    /// `None` when `enable_dhcp = no`.
    pub dhcp: Option<Dhcp>,
    /// `None` when `enable_ipv6 = no`.
    pub ipv6: Option<Ipv6>,
}

/// `[general]`: where things live and whom to run as.
#[derive(Debug, Clone, PartialEq)]
pub struct General {
    pub pidfile: PathBuf,
    /// The binding-file directory.
    pub datapath: PathBuf,
    pub logdir: PathBuf,
    /// User name or numeric uid to drop privileges to.
    pub user: String,
    /// Packets per second each interface may send to each queue before the excess is
    /// dropped unanswered (token bucket); 0 disables the limit.
    pub rate_limit: u32,
    /// How many packets above the rate an interface may send at once.
    pub rate_burst: u32,
}

impl Default for General {
    fn default() -> Self {
        General {
            pidfile: DEFAULT_PIDFILE.into(),
            datapath: DEFAULT_DATAPATH.into(),
            logdir: DEFAULT_LOGDIR.into(),
            user: DEFAULT_USER.into(),
            rate_limit: DEFAULT_RATE_LIMIT,
            rate_burst: DEFAULT_RATE_BURST,
        }
    }
}

/// `[dhcp]` when DHCPv4 is enabled.
#[derive(Debug, Clone, PartialEq)]
pub struct Dhcp {
    pub queue: u16,
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
}

/// What the IPv6 side answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv6Mode {
    /// RS -> RA and NS -> NA.
    Slaac,
    /// As `Slaac`, plus DHCPv6 Information-Request -> Reply, and the RA's O flag.
    SlaacDhcpv6,
}

/// `[ipv6]` when IPv6 is enabled, with the mode resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Ipv6 {
    pub mode: Ipv6Mode,
    /// Seconds between periodic RAs (1..=2^32-1).
    pub ra_period: u32,
    pub rs_queue: u16,
    pub ns_queue: u16,
    /// `Some` exactly when `mode` is `SlaacDhcpv6`.
    pub dhcpv6_queue: Option<u16>,
    /// RDNSS and DHCPv6 option 23; empty means neither is sent.
    pub nameservers: Vec<Ipv6Addr>,
    /// DHCPv6 option 24, without trailing dots.
    pub domains: Vec<String>,
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
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text)
}

/// Validates `text`; `path_for_messages` only names the file in problems.
pub fn parse(path_for_messages: &Path, text: &str) -> Result<Loaded, ConfigError> {
    let mut ck = Checker::new(path_for_messages);
    let Some(sections) = read_sections(&mut ck, text) else {
        return Err(ConfigError::Invalid(ck.problems));
    };
    let general = general(&mut ck, &sections.general);
    let dhcp = dhcp(&mut ck, &sections.dhcp);
    let ipv6 = ipv6(&mut ck, &sections.ipv6);
    check_distinct_queues(&mut ck, dhcp.as_ref(), ipv6.as_ref());
    // A section function returns None for a broken section only after recording why, so
    // with no problems, `general` is Some and `None` for dhcp/ipv6 means "disabled".
    let (Some(general), true) = (general, ck.problems.is_empty()) else {
        return Err(ConfigError::Invalid(ck.problems));
    };
    let ipv6 = match ipv6 {
        Some(draft) => Some(draft.resolve(&mut ck)?),
        None => None,
    };
    Ok(Loaded {
        config: Config {
            general,
            dhcp,
            ipv6,
        },
        warnings: ck.warnings,
    })
}

// ---------------------------------------------------------------------------------------
// Problems and typed look-ups.

/// Raw (non-empty) text -> typed value, or the reason it is refused.
type Parser<T> = fn(&str) -> Result<T, String>;

/// Collects problems and warnings while the sections are checked.
struct Checker<'a> {
    file: &'a Path,
    problems: Vec<Problem>,
    warnings: Vec<Problem>,
}

impl<'a> Checker<'a> {
    fn new(file: &'a Path) -> Self {
        Checker {
            file,
            problems: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn make(&self, section: &str, key: &str, value: &str, reason: String) -> Problem {
        Problem {
            file: self.file.to_path_buf(),
            section: section.into(),
            key: key.into(),
            value: value.into(),
            reason,
        }
    }

    fn problem(&mut self, section: &str, key: &str, value: &str, reason: impl Into<String>) {
        let p = self.make(section, key, value, reason.into());
        self.problems.push(p);
    }

    fn warning(&mut self, section: &str, key: &str, value: &str, reason: impl Into<String>) {
        let p = self.make(section, key, value, reason.into());
        self.warnings.push(p);
    }

    /// The key's parsed value; `None` when it is not set or invalid (then a problem is
    /// recorded).
    fn value<T>(&mut self, sec: &Section, key: &str, parse: Parser<T>) -> Option<T> {
        let raw = sec.get(key)?;
        match parse(raw) {
            Ok(v) => Some(v),
            Err(reason) => {
                self.problem(sec.name, key, raw, reason);
                None
            }
        }
    }

    /// As [`Checker::value`], but an unset key gives `default`; `None` means invalid.
    fn value_or<T>(&mut self, sec: &Section, key: &str, parse: Parser<T>, default: T) -> Option<T> {
        match sec.get(key) {
            None => Some(default),
            Some(_) => self.value(sec, key, parse),
        }
    }

    /// As [`Checker::value`], but an unset key is a problem, explained by `why`.
    fn required<T>(&mut self, sec: &Section, key: &str, parse: Parser<T>, why: &str) -> Option<T> {
        if sec.get(key).is_none() {
            self.problem(sec.name, key, "", format!("missing; {why}"));
        }
        self.value(sec, key, parse)
    }
}

// ---------------------------------------------------------------------------------------
// INI structure: lines, sections, duplicates, unknown names.

const GENERAL_KEYS: &[&str] = &[
    "pidfile",
    "datapath",
    "logdir",
    "user",
    "rate_limit",
    "rate_burst",
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
    "enable_dhcpv6",
];

/// One known section's keys, each set once (duplicates were reported).
#[derive(Default)]
struct Section {
    name: &'static str,
    values: BTreeMap<String, String>,
}

impl Section {
    /// The raw value; `None` when the key is absent or its value empty (empty means unset).
    fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

struct Sections {
    general: Section,
    dhcp: Section,
    ipv6: Section,
}

/// Tokenizes the file into the three known sections, reporting structural problems,
/// duplicates and unknown names. `None` when the file cannot be tokenized reliably.
fn read_sections(ck: &mut Checker, text: &str) -> Option<Sections> {
    let clean = sanitize(ck, text)?;
    let opt = ParseOption {
        enabled_quote: true,
        // With escapes on, `\t` in a value would become a tab; configobj had no escapes.
        enabled_escape: false,
        ..ParseOption::default()
    };
    let ini = match Ini::load_from_str_opt(&clean, opt) {
        Ok(ini) => ini,
        Err(e) => {
            let reason = format!("line {}, column {}: {}", e.line, e.col, e.msg);
            ck.problem("", "", "", reason);
            return None;
        }
    };
    let mut raw: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for (name, props) in ini.iter() {
        let Some(name) = name else {
            for (key, value) in props.iter() {
                ck.warning("", key, value, "outside any section; ignored");
            }
            continue;
        };
        if raw.contains_key(name) {
            // rust-ini would merge them; configobj refused a repeated section.
            ck.problem(name, "", "", "section appears more than once; merge them");
        }
        raw.entry(name).or_default().extend(props.iter());
    }
    for name in raw
        .keys()
        .filter(|n| !["general", "dhcp", "ipv6"].contains(n))
    {
        let hint = hint_for(name, &["general", "dhcp", "ipv6"]);
        ck.warning(
            name,
            "",
            "",
            format!("unknown section; its keys are ignored{hint}"),
        );
    }
    let mut section = |name, known| {
        build_section(
            ck,
            name,
            known,
            raw.get(name).map_or(&[][..], Vec::as_slice),
        )
    };
    Some(Sections {
        general: section("general", GENERAL_KEYS),
        dhcp: section("dhcp", DHCP_KEYS),
        ipv6: section("ipv6", IPV6_KEYS),
    })
}

/// Checks each line's structure, which rust-ini is too lenient about: a line without `=`
/// silently swallows the following lines into its key name, an indented comment becomes part
/// of the next key, an unclosed quote eats the rest of the file. Returns the text to tokenize:
/// leading whitespace removed (indentation has no meaning in this format) and bad `key =
/// value` lines blanked so the rest is still checked. `None` after a malformed section
/// header, since the keys below it cannot be placed.
fn sanitize(ck: &mut Checker, text: &str) -> Option<String> {
    let mut clean = String::with_capacity(text.len());
    let mut header_broken = false;
    for (index, line) in text.lines().enumerate() {
        let line = line.trim_start();
        let problem = if line.starts_with('[') {
            header_problem(line).inspect(|_| header_broken = true)
        } else if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            None
        } else {
            key_line_problem(line)
        };
        match problem {
            Some(reason) => ck.problem(
                "",
                "",
                "",
                format!("line {}: {reason}: {line:?}", index + 1),
            ),
            None => clean.push_str(line),
        }
        clean.push('\n');
    }
    (!header_broken).then_some(clean)
}

fn header_problem(line: &str) -> Option<&'static str> {
    let Some(close) = line.find(']') else {
        return Some("section header without a closing ']'");
    };
    let name = line.get(1..close).unwrap_or("").trim();
    let rest = line.get(close + 1..).unwrap_or("").trim_start();
    if name.is_empty() {
        Some("empty section name")
    } else if !(rest.is_empty() || rest.starts_with('#') || rest.starts_with(';')) {
        Some("text after the section header (only a # comment may follow)")
    } else {
        None
    }
}

fn key_line_problem(line: &str) -> Option<&'static str> {
    let Some((key, value)) = line.split_once('=') else {
        return Some("not a `key = value` line, a [section] header or a # comment");
    };
    let key = key.trim();
    if key.is_empty() {
        return Some("no key before '='");
    }
    if key.contains(':') {
        // rust-ini also splits at ':', so "a:b = c" would set a key "a".
        return Some("':' in a key name");
    }
    if line.ends_with('\\') {
        // rust-ini would join the next line to this one; configobj did not.
        return Some("a line may not end with '\\'");
    }
    let mut rest = value.trim_start();
    // rust-ini takes quoted parts at the start of the value, one after another.
    while let Some((q, quoted)) = ['"', '\'']
        .iter()
        .find_map(|&q| Some((q, rest.strip_prefix(q)?)))
    {
        match quoted.split_once(q) {
            Some((_, after)) => rest = after,
            None => return Some("unclosed quote"),
        }
    }
    None
}

/// Builds one known section: reports keys given twice and warns about unknown keys.
fn build_section(
    ck: &mut Checker,
    name: &'static str,
    known: &[&str],
    entries: &[(&str, &str)],
) -> Section {
    // In file order, so problems come out in the order the operator reads the file.
    let mut seen: Vec<(&str, Vec<&str>)> = Vec::new();
    for &(key, value) in entries {
        match seen.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => values.push(value),
            None => seen.push((key, vec![value])),
        }
    }
    let mut section = Section {
        name,
        values: BTreeMap::new(),
    };
    for (key, values) in seen {
        if values.len() > 1 {
            // rust-ini keeps every occurrence; configobj refused duplicates, and silently
            // picking one would hide which the operator meant.
            let list: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
            let reason = format!("set {} times ({}); keep one", values.len(), list.join(", "));
            ck.problem(name, key, "", reason);
        }
        if !known.contains(&key) {
            let reason = format!("unknown key; ignored{}", hint_for(key, known));
            ck.warning(name, key, values.last().copied().unwrap_or(""), reason);
        }
        if let Some(last) = values.last() {
            section.values.insert(key.to_string(), last.to_string());
        }
    }
    section
}

/// ", did you mean ..." when `name` differs from a known name only in case.
fn hint_for(name: &str, known: &[&str]) -> String {
    match known.iter().find(|k| k.eq_ignore_ascii_case(name)) {
        Some(k) => format!(" (names are case-sensitive: did you mean {k}?)"),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------------------
// The sections. Each computes every value first (so every problem is recorded), then builds
// its struct; `None` means disabled, or broken with the problems recorded.

fn general(ck: &mut Checker, sec: &Section) -> Option<General> {
    let pidfile = ck.value_or(sec, "pidfile", parse_abs_path, DEFAULT_PIDFILE.into());
    let datapath = ck.value_or(sec, "datapath", parse_abs_path, DEFAULT_DATAPATH.into());
    let logdir = ck.value_or(sec, "logdir", parse_abs_path, DEFAULT_LOGDIR.into());
    let user = ck.value_or(sec, "user", parse_user, DEFAULT_USER.into());
    let rate = ck.value_or(sec, "rate_limit", parse_rate, DEFAULT_RATE_LIMIT);
    let burst = ck.value_or(sec, "rate_burst", parse_rate, DEFAULT_RATE_BURST);
    Some(General {
        pidfile: pidfile?,
        datapath: datapath?,
        logdir: logdir?,
        user: user?,
        rate_limit: rate?,
        rate_burst: burst?,
    })
}

fn dhcp(ck: &mut Checker, sec: &Section) -> Option<Dhcp> {
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
    let lifetime = ck.value_or(sec, "lease_lifetime", parse_seconds, DEFAULT_LEASE_LIFETIME);
    let renewal = ck.value_or(sec, "lease_renewal", parse_seconds, DEFAULT_LEASE_RENEWAL);
    if let (Some(lifetime), Some(renewal)) = (lifetime, renewal) {
        if renewal >= lifetime {
            let reason = format!(
                "must be below lease_lifetime ({lifetime}): a client renews before its lease ends"
            );
            ck.problem(sec.name, "lease_renewal", &renewal.to_string(), reason);
        }
    }
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
    Some(Dhcp {
        queue: queue?,
        lease_lifetime: lifetime?,
        lease_renewal: renewal?,
        server_ip: server_ip?,
        server_on_link: on_link?,
        nameservers: nameservers?,
        domain: domain?,
    })
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

/// A valid `[ipv6]` section whose mode is not resolved yet: mode errors have their own exit
/// codes and are reported only once the rest of the file is valid, as the original did.
struct Ipv6Draft {
    mode: ModeSetting,
    ra_period: u32,
    queues: [Option<u16>; 3],
    nameservers: Vec<Ipv6Addr>,
    domains: Vec<String>,
}

fn ipv6(ck: &mut Checker, sec: &Section) -> Option<Ipv6Draft> {
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
    Some(Ipv6Draft {
        mode: mode?,
        ra_period: ra_period?,
        queues: [rs?, ns?, dhcpv6?],
        nameservers: nameservers?,
        domains: domains?,
    })
}

/// `dhcpv6_queue`, or its deprecated older name `dhcp_queue` (accepted, with a warning).
fn dhcpv6_queue(ck: &mut Checker, sec: &Section) -> Option<Option<u16>> {
    let new = ck.value_or(sec, "dhcpv6_queue", |s| parse_queue(s).map(Some), None);
    let old = ck.value_or(sec, "dhcp_queue", |s| parse_queue(s).map(Some), None);
    if let Some(value) = sec.get("dhcp_queue") {
        if sec.get("dhcpv6_queue").is_some() {
            ck.problem(
                sec.name,
                "dhcp_queue",
                value,
                "deprecated name of dhcpv6_queue, which is also set; remove it",
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
fn check_distinct_queues(ck: &mut Checker, dhcp: Option<&Dhcp>, ipv6: Option<&Ipv6Draft>) {
    let mut queues: Vec<(&str, &str, u16)> = Vec::new();
    if let Some(d) = dhcp {
        queues.push(("dhcp", "dhcp_queue", d.queue));
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
    fn resolve(self, ck: &mut Checker) -> Result<Ipv6, ConfigError> {
        let dhcpv6 = self.queues[2];
        let (mode, rs_queue, ns_queue) =
            resolve_mode(self.mode, self.queues).map_err(|(code, why)| ConfigError::Ipv6Mode {
                code,
                message: format!("{}: [ipv6] {why}", ck.file.display()),
            })?;
        let dhcpv6_queue = match mode {
            Ipv6Mode::SlaacDhcpv6 => dhcpv6,
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
        Ok(Ipv6 {
            mode,
            ra_period: self.ra_period,
            rs_queue,
            ns_queue,
            dhcpv6_queue,
            nameservers: self.nameservers,
            domains: self.domains,
        })
    }
}

/// The mode the queues allow, with the rs and ns queues it uses; or the exit code and why.
/// Auto prefers slaac+dhcpv6, then slaac. When only dhcpv6_queue is set, auto lands on mode
/// dhcpv6, which does not exist yet (code 4). Unlike the original, a partial slaac setup
/// with dhcpv6_queue (say rs_queue without ns_queue) gives code 2 naming the missing queue,
/// not code 4: the operator clearly meant slaac.
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
    let not_supported =
        "mode dhcpv6 (stateful DHCPv6) is not supported yet; use slaac or slaac+dhcpv6";
    match (setting, queues) {
        (ModeSetting::Dhcpv6, _) => Err((4, not_supported.into())),
        (ModeSetting::Auto | ModeSetting::SlaacDhcpv6, [Some(rs), Some(ns), Some(_)]) => Ok((Ipv6Mode::SlaacDhcpv6, rs, ns)),
        (ModeSetting::Auto | ModeSetting::Slaac, [Some(rs), Some(ns), _]) => Ok((Ipv6Mode::Slaac, rs, ns)),
        (ModeSetting::Auto, [None, None, Some(_)]) => Err((
            4,
            format!("mode auto found only dhcpv6_queue: {not_supported}; set rs_queue and ns_queue too"),
        )),
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

// ---------------------------------------------------------------------------------------
// Value parsers: raw (non-empty) text -> typed value, or the reason it is refused.

fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Ok(true),
        "no" | "false" | "off" | "0" => Ok(false),
        _ => Err("not a boolean: use yes or no (or true/false, on/off, 1/0)".into()),
    }
}

/// A decimal integer in `min..=max`. Digits only: no sign, no hex, no spaces.
fn parse_uint(s: &str, min: u64, max: u64) -> Result<u64, String> {
    let n = s
        .parse::<u64>()
        .ok()
        .filter(|_| s.bytes().all(|b| b.is_ascii_digit()));
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("not an integer from {min} to {max}")),
    }
}

fn parse_queue(s: &str) -> Result<u16, String> {
    let n = parse_uint(s, 0, u16::MAX.into())?;
    u16::try_from(n).map_err(|e| e.to_string())
}

/// A duration in seconds: 1..=2^32-1 (DHCP lease times and RA periods are 32-bit).
fn parse_seconds(s: &str) -> Result<u32, String> {
    let n = parse_uint(s, 1, u32::MAX.into())?;
    u32::try_from(n).map_err(|e| e.to_string())
}

/// Packets per second or a burst size; 0 turns rate limiting off.
fn parse_rate(s: &str) -> Result<u32, String> {
    let n = parse_uint(s, 0, 1_000_000)?;
    u32::try_from(n).map_err(|e| e.to_string())
}

fn parse_abs_path(s: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s);
    if !path.is_absolute() {
        return Err("not an absolute path".into());
    }
    Ok(path)
}

/// A user name or numeric uid; what getpwnam would never match is refused here.
fn parse_user(s: &str) -> Result<String, String> {
    if s.chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ':' || c == '/')
    {
        return Err("not a user name or uid".into());
    }
    Ok(s.to_string())
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

/// A unicast IPv4 address: what a client can use as a server or nameserver.
fn parse_v4(s: &str) -> Result<Ipv4Addr, String> {
    match s.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) if a.is_unspecified() || a.is_broadcast() || a.is_multicast() => {
            Err(format!("{s:?} is not a unicast address"))
        }
        Ok(IpAddr::V4(a)) => Ok(a),
        Ok(IpAddr::V6(_)) => Err(format!(
            "{s:?} is an IPv6 address; this key takes IPv4 addresses"
        )),
        Err(_) => Err(format!("{s:?} is not an IPv4 address")),
    }
}

/// A unicast IPv6 address (link-local is fine: RDNSS may point at the router).
fn parse_v6(s: &str) -> Result<Ipv6Addr, String> {
    match s.parse::<IpAddr>() {
        Ok(IpAddr::V6(a)) if a.is_unspecified() || a.is_multicast() => {
            Err(format!("{s:?} is not a unicast address"))
        }
        Ok(IpAddr::V6(a)) => Ok(a),
        Ok(IpAddr::V4(_)) => Err(format!(
            "{s:?} is an IPv4 address; this key takes IPv6 addresses"
        )),
        Err(_) => Err(format!("{s:?} is not an IPv6 address")),
    }
}

fn parse_domain(s: &str) -> Result<String, String> {
    dns_name(s)
        .map(str::to_string)
        .map_err(|why| format!("{s:?} is not a DNS name: {why}"))
}

/// A comma-separated list: items trimmed, empty items skipped, one layer of quotes removed
/// from each (rust-ini unquotes only the first item of `"a", "b"`).
fn parse_list<T>(s: &str, item: Parser<T>) -> Result<Vec<T>, String> {
    s.split(',')
        .map(|i| unquote(i.trim()))
        .filter(|i| !i.is_empty())
        .map(item)
        .collect()
}

fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

/// Longest DNS name in text form, without the trailing dot (RFC 1035 section 2.3.4).
const MAX_DNS_NAME: usize = 253;
const MAX_DNS_LABEL: usize = 63;

/// Checks a DNS host or domain name (RFC 1123 letters, digits and hyphens; labels of 1-63
/// characters, not starting or ending with '-'; at most 253 characters) and returns it
/// without its trailing dot. Such a name is safe in DHCP options and in logs.
pub fn dns_name(name: &str) -> Result<&str, &'static str> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() {
        return Err("empty name");
    }
    if name.len() > MAX_DNS_NAME {
        return Err("longer than 253 characters");
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("empty label (two dots in a row, or a leading dot)");
        }
        if label.len() > MAX_DNS_LABEL {
            return Err("a label is longer than 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err("only letters, digits, '-' and '.' are allowed");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a label starts or ends with '-'");
        }
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A config with every construct of the original's shipped sample (tests/fixtures/README.md).
    const ORIGINAL_SAMPLE: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/compat-nfdhcpd.conf"
    ));
    /// The sample this crate ships.
    const SHIPPED_SAMPLE: &str =
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/conf/nfdhcpd.conf"));

    const FILE: &str = "/etc/nfdhcpd/nfdhcpd.conf";

    fn ok(text: &str) -> Loaded {
        match parse(Path::new(FILE), text) {
            Ok(loaded) => loaded,
            Err(e) => panic!("expected a valid config, got:\n{e}"),
        }
    }

    fn problems(text: &str) -> Vec<Problem> {
        match parse(Path::new(FILE), text) {
            Err(ConfigError::Invalid(p)) => p,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    /// The (section, key, value) of each problem, for compact assertions.
    fn keys(problems: &[Problem]) -> Vec<(&str, &str, &str)> {
        problems
            .iter()
            .map(|p| (p.section.as_str(), p.key.as_str(), p.value.as_str()))
            .collect()
    }

    fn mode_error(text: &str) -> (u8, String) {
        match parse(Path::new(FILE), text) {
            Err(e @ ConfigError::Ipv6Mode { .. }) => (e.exit_code(), e.to_string()),
            other => panic!("expected an IPv6 mode error, got {other:?}"),
        }
    }

    /// A minimal valid file with IPv4 only, plus `extra` lines in [dhcp].
    fn dhcp_only(extra: &str) -> String {
        format!(
            "[dhcp]\ndhcp_queue = 42\nserver_ip = 192.0.2.1\n{extra}\n[ipv6]\nenable_ipv6 = no\n"
        )
    }

    /// A file with DHCP off and `ipv6` as the [ipv6] section body.
    fn ipv6_only(ipv6: &str) -> String {
        format!("[dhcp]\nenable_dhcp = no\n[ipv6]\n{ipv6}\n")
    }

    #[test]
    fn original_sample_loads_unchanged() {
        let loaded = ok(ORIGINAL_SAMPLE);
        let c = loaded.config;
        assert_eq!(c.general, General::default());
        assert_eq!(c.general.datapath, Path::new("/var/lib/nfdhcpd"));
        assert_eq!(c.general.user, "nobody");
        let dhcp = c.dhcp.unwrap();
        assert_eq!(
            dhcp,
            Dhcp {
                queue: 42,
                lease_lifetime: 604_800,
                // The sample has "3600 \t# 1 hour": a tab before the inline comment.
                lease_renewal: 3600,
                server_ip: Some(Ipv4Addr::new(192, 0, 2, 1)),
                server_on_link: false,
                nameservers: vec![Ipv4Addr::new(192, 0, 2, 2), Ipv4Addr::new(192, 0, 2, 3)],
                domain: Some("example.com".into()),
            }
        );
        let ipv6 = c.ipv6.unwrap();
        assert_eq!(
            ipv6,
            Ipv6 {
                mode: Ipv6Mode::SlaacDhcpv6,
                ra_period: 300,
                rs_queue: 43,
                ns_queue: 44,
                dhcpv6_queue: Some(45),
                nameservers: vec![
                    "2001:db8:100::1".parse().unwrap(),
                    "2001:db8:200::2".parse().unwrap()
                ],
                domains: vec!["example.com".into()],
            }
        );
        assert_eq!(keys(&loaded.warnings), [("ipv6", "enable_dhcpv6", "yes")]);
    }

    #[test]
    fn shipped_sample_loads_without_warnings() {
        let loaded = ok(SHIPPED_SAMPLE);
        assert_eq!(loaded.warnings, []);
        // Same meaning as the original's sample.
        assert_eq!(loaded.config, ok(ORIGINAL_SAMPLE).config);
    }

    #[test]
    fn defaults_fill_general_and_leases() {
        let c = ok(&dhcp_only("")).config;
        assert_eq!(c.general, General::default());
        let dhcp = c.dhcp.unwrap();
        assert_eq!((dhcp.lease_lifetime, dhcp.lease_renewal), (604_800, 3600));
        assert_eq!((dhcp.nameservers, dhcp.domain), (vec![], None));
        assert_eq!(c.ipv6, None);
    }

    #[test]
    fn dhcp_queue_zero_is_valid() {
        let text = "[dhcp]\ndhcp_queue = 0\nserver_ip = 192.0.2.1\n[ipv6]\nenable_ipv6 = no\n";
        assert_eq!(ok(text).config.dhcp.unwrap().queue, 0);
    }

    #[test]
    fn ipv6_queue_zero_is_valid() {
        // The original tested truthiness, so queue 0 counted as "not set".
        let c = ok(&ipv6_only("rs_queue = 0\nns_queue = 1")).config;
        let ipv6 = c.ipv6.unwrap();
        assert_eq!(
            (ipv6.mode, ipv6.rs_queue, ipv6.ns_queue),
            (Ipv6Mode::Slaac, 0, 1)
        );
    }

    #[test]
    fn disabled_dhcp_needs_no_keys() {
        let c = ok(&ipv6_only("rs_queue = 43\nns_queue = 44")).config;
        assert_eq!(c.dhcp, None);
        // Nothing else in a disabled [dhcp] is checked.
        let text = "[dhcp]\nenable_dhcp = no\ndhcp_queue = banana\nserver_ip = ::1\n[ipv6]\nenable_ipv6 = no\n";
        let c = ok(text).config;
        assert_eq!((c.dhcp, c.ipv6), (None, None));
    }

    #[test]
    fn absent_dhcp_section_means_enabled_and_needs_queue() {
        let p = problems("[ipv6]\nenable_ipv6 = no\n");
        assert_eq!(
            keys(&p),
            [("dhcp", "dhcp_queue", ""), ("dhcp", "server_ip", "")]
        );
        assert!(
            p[0].reason.contains("required when enable_dhcp = yes"),
            "{}",
            p[0]
        );
    }

    #[test]
    fn disabled_ipv6_needs_no_section() {
        let c =
            ok("[dhcp]\nenable_dhcp = no\n[ipv6]\nenable_ipv6 = no\nmode = bogus\nra_period = 0\n")
                .config;
        assert_eq!(c.ipv6, None);
        let c = ok(&dhcp_only("")).config;
        assert_eq!(c.ipv6, None);
    }

    #[test]
    fn server_ip_optional_with_server_on_link() {
        let text = "[dhcp]\ndhcp_queue = 42\nserver_on_link = yes\n[ipv6]\nenable_ipv6 = no\n";
        let dhcp = ok(text).config.dhcp.unwrap();
        assert_eq!((dhcp.server_ip, dhcp.server_on_link), (None, true));
        let p = problems("[dhcp]\ndhcp_queue = 42\n[ipv6]\nenable_ipv6 = no\n");
        assert_eq!(keys(&p), [("dhcp", "server_ip", "")]);
        assert!(p[0].reason.contains("server_on_link"));
    }

    #[test]
    fn booleans_in_every_spelling() {
        for (word, value) in [
            ("yes", true),
            ("No", false),
            ("TRUE", true),
            ("false", false),
            ("on", true),
            ("Off", false),
            ("1", true),
            ("0", false),
        ] {
            let dhcp = ok(&dhcp_only(&format!("server_on_link = {word}")))
                .config
                .dhcp
                .unwrap();
            assert_eq!(dhcp.server_on_link, value, "{word}");
        }
        let p = problems(&dhcp_only("server_on_link = maybe"));
        assert_eq!(keys(&p), [("dhcp", "server_on_link", "maybe")]);
        assert!(p[0].reason.contains("yes or no"));
    }

    #[test]
    fn bad_values_are_named_by_file_section_key_value() {
        let text = "[general]\ndatapath = var/lib/nfdhcpd\nuser = no body\n\
                    [dhcp]\ndhcp_queue = 65536\nlease_lifetime = 0\nlease_renewal = -5\nserver_ip = 2001:db8::1\n\
                    nameservers = 192.0.2.2, 192.0.2.300\ndomain = exa_mple.com\n\
                    [ipv6]\nmode = stateless\nra_period = 1h\nrs_queue = 0x2b\nns_queue = +44\n\
                    nameservers = 192.0.2.2\ndomains = example.com, -bad.example\n";
        let p = problems(text);
        assert_eq!(
            keys(&p),
            [
                ("general", "datapath", "var/lib/nfdhcpd"),
                ("general", "user", "no body"),
                ("dhcp", "dhcp_queue", "65536"),
                ("dhcp", "lease_lifetime", "0"),
                ("dhcp", "lease_renewal", "-5"),
                ("dhcp", "server_ip", "2001:db8::1"),
                ("dhcp", "nameservers", "192.0.2.2, 192.0.2.300"),
                ("dhcp", "domain", "exa_mple.com"),
                ("ipv6", "mode", "stateless"),
                ("ipv6", "ra_period", "1h"),
                ("ipv6", "rs_queue", "0x2b"),
                ("ipv6", "ns_queue", "+44"),
                ("ipv6", "nameservers", "192.0.2.2"),
                ("ipv6", "domains", "example.com, -bad.example"),
            ]
        );
        assert!(p.iter().all(|p| p.file == Path::new(FILE)));
        let shown: Vec<String> = p.iter().map(Problem::to_string).collect();
        assert_eq!(
            shown[2],
            format!("{FILE}: [dhcp] dhcp_queue = \"65536\": not an integer from 0 to 65535")
        );
        assert!(
            shown[3].ends_with("not an integer from 1 to 4294967295"),
            "{}",
            shown[3]
        );
        assert!(
            shown[5].contains("is an IPv6 address; this key takes IPv4"),
            "{}",
            shown[5]
        );
        assert!(
            shown[6].contains("\"192.0.2.300\" is not an IPv4 address"),
            "{}",
            shown[6]
        );
        assert!(
            shown[12].contains("is an IPv4 address; this key takes IPv6"),
            "{}",
            shown[12]
        );
        assert!(shown[13].contains("\"-bad.example\""), "{}", shown[13]);
        // Display joins them one per line.
        let err = ConfigError::Invalid(p);
        assert_eq!(err.to_string().lines().count(), 14);
        assert_eq!(err.exit_code(), 1);
    }

    #[test]
    fn non_unicast_addresses_refused() {
        for bad in ["0.0.0.0", "255.255.255.255", "224.0.0.1"] {
            let p = problems(&dhcp_only(&format!("nameservers = {bad}")));
            assert_eq!(keys(&p), [("dhcp", "nameservers", bad)]);
        }
        let p = problems(&ipv6_only(
            "rs_queue = 1\nns_queue = 2\nnameservers = ff02::1",
        ));
        assert_eq!(keys(&p), [("ipv6", "nameservers", "ff02::1")]);
    }

    #[test]
    fn renewal_must_be_below_lifetime() {
        let p = problems(&dhcp_only("lease_lifetime = 3600\nlease_renewal = 3600"));
        assert_eq!(keys(&p), [("dhcp", "lease_renewal", "3600")]);
        assert!(p[0].reason.contains("below lease_lifetime (3600)"));
        // Against the default lifetime, too.
        let p = problems(&dhcp_only("lease_renewal = 604800"));
        assert_eq!(keys(&p), [("dhcp", "lease_renewal", "604800")]);
        // No second complaint when the lifetime itself is invalid.
        let p = problems(&dhcp_only("lease_lifetime = x\nlease_renewal = 3600"));
        assert_eq!(keys(&p), [("dhcp", "lease_lifetime", "x")]);
    }

    #[test]
    fn lists_trim_skip_empty_and_unquote() {
        let dhcp = ok(&dhcp_only("nameservers = 192.0.2.2 ,, 192.0.2.3,"))
            .config
            .dhcp
            .unwrap();
        assert_eq!(
            dhcp.nameservers,
            [Ipv4Addr::new(192, 0, 2, 2), Ipv4Addr::new(192, 0, 2, 3)]
        );
        let dhcp = ok(&dhcp_only("nameservers = \"192.0.2.2\", \"192.0.2.3\""))
            .config
            .dhcp
            .unwrap();
        assert_eq!(
            dhcp.nameservers,
            [Ipv4Addr::new(192, 0, 2, 2), Ipv4Addr::new(192, 0, 2, 3)]
        );
        let dhcp = ok(&dhcp_only("nameservers = 192.0.2.9"))
            .config
            .dhcp
            .unwrap();
        assert_eq!(dhcp.nameservers, [Ipv4Addr::new(192, 0, 2, 9)]);
        let ipv6 = ok(&ipv6_only(
            "rs_queue = 1\nns_queue = 2\ndomains = a.example., b.example",
        ))
        .config
        .ipv6
        .unwrap();
        assert_eq!(ipv6.domains, ["a.example", "b.example"]);
    }

    #[test]
    fn empty_value_means_unset() {
        let dhcp = ok(&dhcp_only("domain =\nnameservers = \"\"\nlease_lifetime ="))
            .config
            .dhcp
            .unwrap();
        assert_eq!(
            (dhcp.domain, dhcp.nameservers, dhcp.lease_lifetime),
            (None, vec![], 604_800)
        );
    }

    #[test]
    fn domain_trailing_dot_stripped() {
        let dhcp = ok(&dhcp_only("domain = example.com.")).config.dhcp.unwrap();
        assert_eq!(dhcp.domain.as_deref(), Some("example.com"));
    }

    #[test]
    fn dns_name_rules() {
        assert_eq!(dns_name("vm-1.Example.COM."), Ok("vm-1.Example.COM"));
        assert_eq!(dns_name(&"a".repeat(63)), Ok(&*"a".repeat(63)));
        let long = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61),
        ]
        .join(".");
        assert_eq!(long.len(), 253);
        assert!(dns_name(&long).is_ok());
        for bad in [
            "",
            ".",
            "a..b",
            ".a",
            "a b",
            "a_b",
            "-a",
            "a-",
            "é.example",
            "a\n",
            &"a".repeat(64),
            &format!("{long}x"),
        ] {
            assert!(dns_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn relative_paths_refused() {
        let text = "[general]\npidfile = nfdhcpd.pid\nlogdir = ./log\n[dhcp]\nenable_dhcp = no\n[ipv6]\nenable_ipv6 = no\n";
        let p = problems(text);
        assert_eq!(
            keys(&p),
            [
                ("general", "pidfile", "nfdhcpd.pid"),
                ("general", "logdir", "./log")
            ]
        );
        assert!(p[0].reason.contains("absolute"));
    }

    #[test]
    fn every_problem_is_reported_not_just_the_first() {
        let text = "[general]\nuser = a:b\n[dhcp]\nenable_dhcp = yes\n[ipv6]\nra_period = 0\nrs_queue = -1\n";
        let p = problems(text);
        assert_eq!(
            keys(&p),
            [
                ("general", "user", "a:b"),
                ("dhcp", "dhcp_queue", ""),
                ("dhcp", "server_ip", ""),
                ("ipv6", "ra_period", "0"),
                ("ipv6", "rs_queue", "-1"),
            ]
        );
    }

    #[test]
    fn invalid_enable_flag_stops_checking_its_section() {
        let p =
            problems("[dhcp]\nenable_dhcp = perhaps\ndhcp_queue = x\n[ipv6]\nenable_ipv6 = no\n");
        assert_eq!(keys(&p), [("dhcp", "enable_dhcp", "perhaps")]);
    }

    #[test]
    fn auto_mode_picks_by_queues() {
        let ipv6 = ok(&ipv6_only(
            "rs_queue = 43\nns_queue = 44\ndhcpv6_queue = 45",
        ))
        .config
        .ipv6
        .unwrap();
        assert_eq!(
            (ipv6.mode, ipv6.dhcpv6_queue),
            (Ipv6Mode::SlaacDhcpv6, Some(45))
        );
        let ipv6 = ok(&ipv6_only("rs_queue = 43\nns_queue = 44"))
            .config
            .ipv6
            .unwrap();
        assert_eq!((ipv6.mode, ipv6.dhcpv6_queue), (Ipv6Mode::Slaac, None));
        let ipv6 = ok(&ipv6_only("mode = auto\nrs_queue = 43\nns_queue = 44"))
            .config
            .ipv6
            .unwrap();
        assert_eq!(ipv6.mode, Ipv6Mode::Slaac);
    }

    #[test]
    fn auto_mode_without_queues_exits_2() {
        let (code, msg) = mode_error(&ipv6_only(""));
        assert_eq!(code, 2);
        assert!(msg.starts_with(FILE), "{msg}");
        assert!(
            msg.contains("missing: rs_queue, ns_queue, dhcpv6_queue"),
            "{msg}"
        );
        assert!(msg.contains("enable_ipv6 = no"), "{msg}");
        let (code, msg) = mode_error(&ipv6_only("rs_queue = 43\ndhcpv6_queue = 45"));
        assert_eq!(code, 2);
        assert!(msg.contains("missing: ns_queue"), "{msg}");
        // No [ipv6] section at all: IPv6 is on by default, as in the original.
        assert_eq!(mode_error("[dhcp]\nenable_dhcp = no\n").0, 2);
    }

    #[test]
    fn auto_mode_with_only_dhcpv6_exits_4() {
        let (code, msg) = mode_error(&ipv6_only("dhcpv6_queue = 45"));
        assert_eq!(code, 4);
        assert!(msg.contains("not supported"), "{msg}");
    }

    #[test]
    fn explicit_mode_missing_queues_exits_3() {
        let (code, msg) = mode_error(&ipv6_only("mode = slaac\nrs_queue = 43"));
        assert_eq!(code, 3);
        assert!(
            msg.contains("mode slaac needs rs_queue, ns_queue; missing: ns_queue"),
            "{msg}"
        );
        let (code, msg) = mode_error(&ipv6_only(
            "mode = slaac+dhcpv6\nrs_queue = 43\nns_queue = 44",
        ));
        assert_eq!(code, 3);
        assert!(
            msg.contains("needs rs_queue, ns_queue, dhcpv6_queue; missing: dhcpv6_queue"),
            "{msg}"
        );
    }

    #[test]
    fn explicit_modes_with_their_queues() {
        let ipv6 = ok(&ipv6_only(
            "mode = slaac+dhcpv6\nrs_queue = 1\nns_queue = 2\ndhcpv6_queue = 3",
        ))
        .config
        .ipv6
        .unwrap();
        assert_eq!(
            (ipv6.mode, ipv6.rs_queue, ipv6.ns_queue, ipv6.dhcpv6_queue),
            (Ipv6Mode::SlaacDhcpv6, 1, 2, Some(3))
        );
        // slaac with a dhcpv6_queue: the queue is unused, and the operator is told.
        let loaded = ok(&ipv6_only(
            "mode = slaac\nrs_queue = 1\nns_queue = 2\ndhcpv6_queue = 3",
        ));
        let ipv6 = loaded.config.ipv6.unwrap();
        assert_eq!((ipv6.mode, ipv6.dhcpv6_queue), (Ipv6Mode::Slaac, None));
        assert_eq!(keys(&loaded.warnings), [("ipv6", "dhcpv6_queue", "3")]);
    }

    #[test]
    fn explicit_dhcpv6_mode_exits_4() {
        assert_eq!(
            mode_error(&ipv6_only("mode = dhcpv6\ndhcpv6_queue = 45")).0,
            4
        );
        assert_eq!(
            mode_error(&ipv6_only(
                "mode = dhcpv6\nrs_queue = 1\nns_queue = 2\ndhcpv6_queue = 3"
            ))
            .0,
            4
        );
    }

    #[test]
    fn mode_errors_wait_for_other_problems() {
        // A config error (exit 1) is reported before the mode is resolved.
        let p = problems("[dhcp]\nenable_dhcp = no\n[ipv6]\nra_period = x\n");
        assert_eq!(keys(&p), [("ipv6", "ra_period", "x")]);
    }

    #[test]
    fn deprecated_dhcp_queue_warns() {
        let loaded = ok(&ipv6_only("rs_queue = 43\nns_queue = 44\ndhcp_queue = 45"));
        assert_eq!(loaded.config.ipv6.unwrap().dhcpv6_queue, Some(45));
        assert_eq!(keys(&loaded.warnings), [("ipv6", "dhcp_queue", "45")]);
        assert!(loaded.warnings[0]
            .reason
            .contains("rename it to dhcpv6_queue"));
    }

    #[test]
    fn deprecated_and_new_queue_together_refused() {
        let p = problems(&ipv6_only(
            "rs_queue = 43\nns_queue = 44\ndhcp_queue = 45\ndhcpv6_queue = 46",
        ));
        assert_eq!(keys(&p), [("ipv6", "dhcp_queue", "45")]);
    }

    #[test]
    fn shared_queue_refused() {
        let text = "[dhcp]\ndhcp_queue = 42\nserver_ip = 192.0.2.1\n[ipv6]\nrs_queue = 42\nns_queue = 44\ndhcpv6_queue = 44\n";
        let p = problems(text);
        assert_eq!(
            keys(&p),
            [("ipv6", "rs_queue", "42"), ("ipv6", "dhcpv6_queue", "44")]
        );
        assert!(p[0].reason.contains("also [dhcp] dhcp_queue"), "{}", p[0]);
    }

    #[test]
    fn unknown_keys_and_sections_warn() {
        let text = format!(
            "{}[extra]\nfoo = 1\n",
            dhcp_only("colour = blue\nDomain = example.com")
        );
        let loaded = ok(&format!("stray = 1\n{text}"));
        assert_eq!(
            keys(&loaded.warnings),
            [
                ("", "stray", "1"),
                ("extra", "", ""),
                ("dhcp", "colour", "blue"),
                ("dhcp", "Domain", "example.com")
            ]
        );
        assert!(loaded.warnings[3].reason.contains("did you mean domain?"));
        assert_eq!(
            loaded.warnings[1].to_string(),
            format!("{FILE}: [extra]: unknown section; its keys are ignored")
        );
        let loaded = ok(&format!("[DHCP]\n{}", dhcp_only("")));
        assert!(loaded.warnings[0].reason.contains("did you mean dhcp?"));
    }

    #[test]
    fn inline_comments_with_tabs_and_spaces() {
        let text = "[dhcp]\ndhcp_queue = 42\t# tab before\nserver_ip = 192.0.2.1 \t # mixed\n\
                    lease_renewal = 60\t\t;semicolon\ndomain = example.com#not-a-comment\n[ipv6]\nenable_ipv6 = no # off\n";
        let p = problems(text);
        // rust-ini needs whitespace before an inline '#'; without it the '#' stays in the
        // value, which then fails its check instead of being cut silently.
        assert_eq!(keys(&p), [("dhcp", "domain", "example.com#not-a-comment")]);
        let text = text.replace("#not-a-comment", "");
        let dhcp = ok(&text).config.dhcp.unwrap();
        assert_eq!((dhcp.queue, dhcp.lease_renewal), (42, 60));
    }

    #[test]
    fn indented_lines_and_comments() {
        // rust-ini alone glues an indented comment onto the next key's name.
        let text = "  [dhcp]\n  # indented comment\n\tdhcp_queue = 42\n    server_ip = 192.0.2.1\n[ipv6]\n\t; c\nenable_ipv6 = no\n";
        let loaded = ok(text);
        assert_eq!(loaded.config.dhcp.unwrap().queue, 42);
        assert_eq!(loaded.warnings, []);
    }

    #[test]
    fn backslashes_are_literal() {
        // With rust-ini's escapes on, "\t" would become a tab; configobj had no escapes.
        let p = problems(&dhcp_only("domain = a\\tb"));
        assert_eq!(keys(&p), [("dhcp", "domain", "a\\tb")]);
    }

    #[test]
    fn crlf_line_endings() {
        let text = dhcp_only("domain = example.com").replace('\n', "\r\n");
        assert_eq!(
            ok(&text).config.dhcp.unwrap().domain.as_deref(),
            Some("example.com")
        );
    }

    #[test]
    fn duplicate_key_refused() {
        let p = problems(&dhcp_only("dhcp_queue = 43"));
        assert_eq!(keys(&p), [("dhcp", "dhcp_queue", "")]);
        assert_eq!(p[0].reason, "set 2 times (\"42\", \"43\"); keep one");
        assert_eq!(
            p[0].to_string(),
            format!("{FILE}: [dhcp] dhcp_queue: set 2 times (\"42\", \"43\"); keep one")
        );
    }

    #[test]
    fn duplicate_section_refused() {
        let text = format!("{}[dhcp]\ndomain = example.com\n", dhcp_only(""));
        let p = problems(&text);
        assert_eq!(keys(&p), [("dhcp", "", "")]);
        assert!(p[0].reason.contains("more than once"));
        // A key repeated across the two copies is a duplicate too.
        let text = format!("{}[dhcp]\ndhcp_queue = 42\n", dhcp_only(""));
        assert_eq!(
            keys(&problems(&text)),
            [("dhcp", "", ""), ("dhcp", "dhcp_queue", "")]
        );
    }

    #[test]
    fn malformed_lines_reported_with_line_numbers() {
        let text = "[dhcp]\ndhcp_queue 42\nserver_ip = 192.0.2.1\n= 5\ndomain = \"example.com\nnameservers:x = 1\n[ipv6]\nenable_ipv6 = no\n";
        let p = problems(text);
        assert_eq!(
            p.iter().map(|p| p.reason.as_str()).collect::<Vec<_>>(),
            [
                "line 2: not a `key = value` line, a [section] header or a # comment: \"dhcp_queue 42\"",
                "line 4: no key before '=': \"= 5\"",
                "line 5: unclosed quote: \"domain = \\\"example.com\"",
                "line 6: ':' in a key name: \"nameservers:x = 1\"",
                // The rest of the file is still checked: dhcp_queue is missing.
                "missing; required when enable_dhcp = yes",
            ]
        );
    }

    #[test]
    fn malformed_section_header_stops_after_structure() {
        let p = problems("[dhcp\ndhcp_queue = 42\n[ipv6] junk\nfoo\n");
        assert_eq!(
            p.iter().map(|p| p.reason.as_str()).collect::<Vec<_>>(),
            [
                "line 1: section header without a closing ']': \"[dhcp\"",
                "line 3: text after the section header (only a # comment may follow): \"[ipv6] junk\"",
                "line 4: not a `key = value` line, a [section] header or a # comment: \"foo\"",
            ]
        );
        assert_eq!(
            p[0].to_string(),
            format!("{FILE}: line 1: section header without a closing ']': \"[dhcp\"")
        );
    }

    #[test]
    fn read_error_names_the_path() {
        let path = Path::new("/nonexistent/nfdhcpd.conf");
        let err = load(path).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }));
        assert_eq!(err.exit_code(), 1);
        assert!(
            err.to_string()
                .starts_with("cannot read /nonexistent/nfdhcpd.conf: "),
            "{err}"
        );
    }

    #[test]
    fn load_reads_the_file() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/compat-nfdhcpd.conf"
        ));
        assert_eq!(load(path).unwrap().config, ok(ORIGINAL_SAMPLE).config);
    }
}
