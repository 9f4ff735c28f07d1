//! One binding file -> a validated [`Binding`].
//!
//! A binding file is `<datapath>/<tap>`: the file name is the interface name, the content
//! shell-style `KEY=VALUE` lines written by the host's management (Ganeti's ifup scripts use
//! `cat > file`). The rules, kept from the original where they were deliberate:
//! - Leading and trailing whitespace of a line is ignored; blank lines and `#` lines too.
//! - The value is everything after the first `=` (the original lost text after a second
//!   `=`); one layer of matching `'...'` or `"..."` quotes is removed; an empty value means
//!   unset (so `MTU=` works, which the original choked on).
//! - Keys are case-sensitive (`mac=` is not `MAC=`), as in the original; unknown keys are
//!   ignored ([`unknown_keys`] lists them for a debug log). The last occurrence of a key wins,
//!   so lines appended after the generated ones override them.
//! - A line without `=` is an error; so is every value that does not parse. Each error names
//!   its line and key, and shows the value with `{:?}` so no control character reaches a log.
//!
//! Nothing downstream re-validates: a [`Binding`] holds only values the reply code can use.

use std::collections::HashMap;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnetwork::{Ipv4Network, Ipv6Network};

use crate::config::dns_name;
use crate::wire::MacAddr;

/// Larger files are not binding files (they hold a dozen short lines); the reader refuses
/// them before reading them into memory.
pub const MAX_FILE_SIZE: u64 = 64 * 1024;

/// Linux's IFNAMSIZ (16) minus the terminating NUL.
const MAX_IFNAME: usize = 15;

/// Smallest IPv4 MTU a host must accept (RFC 791).
const MIN_MTU: u16 = 68;

/// Every key this module understands; anything else is ignored.
const KNOWN_KEYS: &[&str] = &[
    "MAC",
    "IP",
    "HOSTNAME",
    "SUBNET",
    "GATEWAY",
    "SUBNET6",
    "GATEWAY6",
    "EUI64",
    "MTU",
    "PRIVATE",
    "MACSPOOF",
    "INDEV",
    "INSTANCE",
    "TAGS",
    "NAMESERVERS6",
    "ROUTES6",
    // Stateful DHCPv6 (issue 14).
    "IP6",
    "DELEGATED6",
    // DHCPv4 options per VM (issue 13).
    "ROUTES",
    "NAMESERVERS",
    "DOMAIN",
    "DOMAIN_SEARCH",
    "IPV6ONLY",
];

/// What one interface's VM is to be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The file name, which is the interface the VM's packets arrive on.
    pub tap: String,
    /// INSTANCE: the VM's name, for logs only.
    pub instance: Option<String>,
    /// INDEV: the interface whose MAC replies come from (the bridge in a bridged setup);
    /// the tap itself when absent (routed setup).
    pub indev: String,
    /// MAC: the VM's unicast MAC; requests from another MAC are spoofing unless `macspoof`.
    pub mac: MacAddr,
    /// IP: the address offered; without it DHCP requests get no answer.
    pub ip: Option<Ipv4Addr>,
    /// HOSTNAME when it is a DNS name (without a trailing dot): DHCP option 12. One that is
    /// not (Ganeti's `--no-name-check`, `my_vm5.example.org`) is left out, with a warning.
    pub hostname: Option<String>,
    /// The part of HOSTNAME after its first dot, when that is a DNS name: the search domain
    /// when none is configured (option 15, RA DNSSL, DHCPv6 option 24).
    pub hostname_domain: Option<String>,
    /// SUBNET as written (host bits may be set; use `.network()`); contains `ip` when both
    /// are set.
    pub subnet: Option<Ipv4Network>,
    /// GATEWAY: DHCP option 3. Not required to be inside `subnet` (see [`parse`]).
    pub gateway: Option<Ipv4Addr>,
    pub subnet6: Option<Ipv6Network>,
    pub gateway6: Option<Ipv6Addr>,
    /// EUI64: the VM's expected SLAAC address; shown in dumps only.
    pub eui64: Option<Ipv6Addr>,
    /// MTU: 68..=65535.
    pub mtu: Option<u16>,
    /// PRIVATE: no router is announced.
    pub private: bool,
    /// MACSPOOF: requests from any MAC are answered.
    pub macspoof: bool,
    /// IPV6ONLY: a DHCPv4 client that asks for option 108 gets it, and no address
    /// (RFC 8925).
    pub ipv6only: bool,
    /// TAGS: kept, unused. Unvalidated: escape it when displaying.
    pub tags: Option<String>,
    /// NAMESERVERS6: this VM's RA RDNSS and DHCPv6 option 23, over `[ipv6] nameservers`;
    /// empty when unset (or when the value was bad: then a warning says so).
    pub nameservers6: Vec<Ipv6Addr>,
    /// ROUTES6: prefixes routed via this router, sent as RA Route Information options
    /// (RFC 4191), PRIVATE or not; no host bits set, at most `MAX_ROUTES6`.
    pub routes6: Vec<Ipv6Network>,
    /// The IA_NA addresses: IP6 as written (unicast, not link-local, at most
    /// `MAX_IP6`), else the EUI-64 default: EUI64 when set, else the address the MAC forms
    /// in a /64 SUBNET6. Empty when IP6 is bad (a warning says so: no default is handed out
    /// in its place) or there is no default.
    pub ip6: Vec<Ipv6Addr>,
    /// DELEGATED6: the IA_PD prefixes (no host bits, not link-local or multicast, at most
    /// `MAX_DELEGATED6`); empty when unset or bad (with a warning).
    pub delegated6: Vec<Ipv6Network>,
    // DHCPv4 options per VM (issue 13). A bad value is left out with a warning, the rest
    // of the binding served.
    /// ROUTES: `CIDR via ADDRESS, ...`, classless static routes (options 121 and 249);
    /// destinations have no host bits set, routers are unicast or 0.0.0.0 (on the link).
    /// Short enough for one option with the gateway's routes added.
    pub routes: Vec<(Ipv4Network, Ipv4Addr)>,
    /// NAMESERVERS: option 6 instead of `[dhcp] nameservers`; unicast addresses.
    pub nameservers: Vec<Ipv4Addr>,
    /// DOMAIN: option 15 instead of `[dhcp] domain`, without a trailing dot.
    pub domain: Option<String>,
    /// DOMAIN_SEARCH: the search domains, without trailing dots (option 119 instead of
    /// `[dhcp] domain_search`).
    pub domain_search: Vec<String>,
    /// DOMAIN_SEARCH encoded for option 119 (RFC 3397, compressed), so replies copy it.
    pub domain_search_119: Vec<u8>,
    /// What the file has that the original served but we point out: a line that is not
    /// KEY=VALUE (ignored), a HOSTNAME that is not a DNS name, an IP outside SUBNET. Logged
    /// once when the file is read; the binding is served.
    pub warnings: Vec<BindingError>,
}

/// Why a binding file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingError {
    /// 1-based; `None` for problems of the whole file (a missing MAC, a bad file name).
    pub line: Option<usize>,
    pub key: Option<String>,
    /// Includes the offending value, escaped with `{:?}`.
    pub reason: String,
}

impl fmt::Display for BindingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        f.write_str(&self.reason)
    }
}

impl std::error::Error for BindingError {}

impl BindingError {
    fn file(reason: String) -> Self {
        BindingError {
            line: None,
            key: None,
            reason,
        }
    }
}

/// Whether `name` is a valid Linux interface name: 1 to 15 bytes, not `.` or `..`, no `/`,
/// `:` or whitespace (the kernel's `dev_valid_name`), and, stricter than the kernel, no
/// control characters, since the name goes into logs.
pub fn is_interface_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_IFNAME
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control())
}

/// Whether a file in the state directory is a binding file: an interface name that is not
/// a dot-file, an editor backup or a temporary file of a write-then-rename (those show up
/// as inotify events too and must not become bindings).
pub fn is_binding_name(name: &str) -> bool {
    const TEMP_SUFFIXES: &[&str] = &[".tmp", ".swp", ".new"];
    is_interface_name(name)
        && !name.starts_with('.')
        && !name.starts_with('#')
        && !name.ends_with('~')
        && !TEMP_SUFFIXES.iter().any(|s| name.ends_with(s))
        && !name.contains(".dpkg-")
}

/// One `KEY=VALUE` line, the value unquoted.
struct Line<'a> {
    number: usize,
    key: &'a str,
    value: &'a str,
}

/// Splits the text into lines of known keys, the last occurrence of each winning; a line
/// that is not KEY=VALUE is ignored, as the original did, with a warning.
fn known_lines<'a>(text: &'a str, warnings: &mut Vec<BindingError>) -> HashMap<&'a str, Line<'a>> {
    let mut lines = HashMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let key = line.split_once('=').map(|(k, _)| k.trim());
        let Some((key, value)) = line.split_once('=').filter(|_| key != Some("")) else {
            warnings.push(BindingError {
                line: Some(index + 1),
                key: None,
                // Never quoted: a file linked into the state directory (say /etc/shadow) must
                // not have its contents copied into the log.
                reason: "the line is not a KEY=VALUE line; ignored".into(),
            });
            continue;
        };
        let key = key.trim();
        if KNOWN_KEYS.contains(&key) {
            let value = unquote(value.trim());
            lines.insert(
                key,
                Line {
                    number: index + 1,
                    key,
                    value,
                },
            );
        }
    }
    lines
}

/// Removes one layer of matching shell quotes.
fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

/// The known keys of a file, with typed access.
struct Fields<'a> {
    lines: HashMap<&'a str, Line<'a>>,
}

impl<'a> Fields<'a> {
    /// The line of `key` when its value is set (non-empty).
    fn line(&self, key: &str) -> Option<&Line<'a>> {
        self.lines.get(key).filter(|l| !l.value.is_empty())
    }

    /// The parsed value of `key`, `None` when unset; a parse failure names line and key.
    fn get<T>(
        &self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, BindingError> {
        let Some(line) = self.line(key) else {
            return Ok(None);
        };
        parse(line.value)
            .map(Some)
            .map_err(|why| line_error(line, format!("{:?} {why}", line.value)))
    }

    /// As `get`, but a value that does not parse is left out with a warning naming line,
    /// key and value, and the binding served without it.
    fn lenient<T>(
        &self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
        warnings: &mut Vec<BindingError>,
    ) -> Option<T> {
        match self.get(key, parse) {
            Ok(v) => v,
            Err(mut e) => {
                e.reason.push_str(&format!("; {key} is left out"));
                warnings.push(e);
                None
            }
        }
    }

    fn flag(&self, key: &str) -> bool {
        self.line(key).is_some_and(|l| is_set(l.value))
    }
}

fn line_error(line: &Line, reason: String) -> BindingError {
    BindingError {
        line: Some(line.number),
        key: Some(line.key.to_string()),
        reason,
    }
}

/// Parses the binding file of interface `tap` (its file name).
///
/// Cross-field rule: IP must be inside SUBNET when both are set, since the subnet mask and
/// broadcast address (options 1 and 28) come from SUBNET and an address outside them is
/// a mistake no client can use. GATEWAY may lie outside SUBNET: routed setups give each VM
/// a /32 (or a small subnet) and a gateway off it, which the host answers for.
pub fn parse(tap: &str, text: &str) -> Result<Binding, BindingError> {
    if !is_interface_name(tap) {
        return Err(BindingError::file(format!(
            "file name {tap:?} is not an interface name"
        )));
    }
    if u64::try_from(text.len()).unwrap_or(u64::MAX) > MAX_FILE_SIZE {
        return Err(BindingError::file(format!(
            "larger than {MAX_FILE_SIZE} bytes"
        )));
    }
    let mut warnings = Vec::new();
    let fields = Fields {
        lines: known_lines(text, &mut warnings),
    };
    let Some(mac) = fields.get("MAC", parse_mac)? else {
        return Err(BindingError {
            line: None,
            key: Some("MAC".into()),
            reason: "missing: every binding needs the VM's MAC address".into(),
        });
    };
    let binding = Binding {
        tap: tap.to_string(),
        instance: fields.get("INSTANCE", parse_text)?,
        indev: fields
            .get("INDEV", parse_ifname)?
            .unwrap_or_else(|| tap.to_string()),
        mac,
        ip: fields.get("IP", parse_v4)?,
        hostname: None,
        hostname_domain: None,
        subnet: fields.get(
            "SUBNET",
            parse_as::<Ipv4Network>("IPv4 network (address/prefix)"),
        )?,
        gateway: fields.get("GATEWAY", parse_v4)?,
        subnet6: fields.get(
            "SUBNET6",
            parse_as::<Ipv6Network>("IPv6 network (address/prefix)"),
        )?,
        gateway6: fields.get("GATEWAY6", parse_v6)?,
        eui64: fields.get("EUI64", parse_v6)?,
        mtu: fields.get("MTU", parse_mtu)?,
        private: fields.flag("PRIVATE"),
        macspoof: fields.flag("MACSPOOF"),
        ipv6only: fields.flag("IPV6ONLY"),
        tags: fields.line("TAGS").map(|l| l.value.to_string()),
        routes: fields
            .lenient("ROUTES", parse_routes, &mut warnings)
            .unwrap_or_default(),
        nameservers: fields
            .lenient("NAMESERVERS", parse_nameservers, &mut warnings)
            .unwrap_or_default(),
        domain: fields.lenient("DOMAIN", checked_domain, &mut warnings),
        domain_search: Vec::new(),
        domain_search_119: Vec::new(),
        nameservers6: Vec::new(),
        routes6: fields
            .lenient("ROUTES6", |s| parse_prefixes(s, MAX_ROUTES6), &mut warnings)
            .unwrap_or_default(),
        ip6: Vec::new(),
        delegated6: fields
            .lenient("DELEGATED6", parse_delegated6, &mut warnings)
            .unwrap_or_default(),
        warnings: Vec::new(),
    };
    let mut binding = binding;
    if let Some(list) = fields.lenient("DOMAIN_SEARCH", parse_search, &mut warnings) {
        binding.domain_search = list.names().to_vec();
        binding.domain_search_119 = list.wire().to_vec();
    }
    // NAMESERVERS6: optional, so a bad value is served without (the [ipv6] nameservers
    // apply), with a warning, instead of refusing the binding.
    match fields.get("NAMESERVERS6", parse_v6_list) {
        Ok(list) => binding.nameservers6 = list.unwrap_or_default(),
        Err(e) => warnings.push(BindingError {
            reason: format!("{}; left out, [ipv6] nameservers apply", e.reason),
            ..e
        }),
    }
    if let Some(text) = fields.get("HOSTNAME", parse_hostname_text)? {
        set_hostname(&mut binding, &text, fields.line("HOSTNAME"), &mut warnings);
    }
    warnings.extend(check_ip_in_subnet(&fields, &binding));
    set_ip6(&mut binding, &fields, &mut warnings);
    warnings.extend(check_delegated6(&fields, &binding));
    binding.warnings = warnings;
    Ok(binding)
}

/// HOSTNAME goes out as option 12 only when it is a DNS name; its domain part is the
/// fallback search domain when that part is one. The original sent whatever was written.
fn set_hostname(
    b: &mut Binding,
    text: &str,
    line: Option<&Line>,
    warnings: &mut Vec<BindingError>,
) {
    let text = text.strip_suffix('.').unwrap_or(text);
    b.hostname_domain = hostname_domain(text)
        .and_then(|d| dns_name(d).ok())
        .map(str::to_string);
    match dns_name(text) {
        Ok(name) => b.hostname = Some(name.to_string()),
        Err(why) => {
            if let Some(line) = line {
                let reason =
                    format!("{text:?} is not a valid host name ({why}); option 12 is left out");
                warnings.push(line_error(line, reason));
            }
        }
    }
}

/// An IP outside SUBNET: the original served it, with a netmask and broadcast the address
/// does not fit; served, with a warning.
fn check_ip_in_subnet(fields: &Fields, b: &Binding) -> Option<BindingError> {
    let (Some(ip), Some(subnet)) = (b.ip, b.subnet) else {
        return None;
    };
    match fields.line("IP") {
        Some(line) if !subnet.contains(ip) => {
            let at = fields.line("SUBNET").map_or(0, |l| l.number);
            Some(line_error(
                line,
                format!("{ip} is outside SUBNET {subnet} (line {at}); served as written"),
            ))
        }
        _ => None,
    }
}

/// IP6 (or its EUI-64 default) into `b.ip6`. A bad IP6 is left out with a warning and no
/// address is served: handing out the default instead would give the VM an address the
/// operator did not choose. An address outside SUBNET6 is served, with a warning (the VM
/// then has no on-link prefix for it).
fn set_ip6(b: &mut Binding, fields: &Fields, warnings: &mut Vec<BindingError>) {
    let Some(line) = fields.line("IP6") else {
        let in_subnet = b.subnet6.filter(|n| n.prefix() == 64);
        b.ip6 = b
            .eui64
            .or(in_subnet.map(|n| b.mac.slaac_address(n.network())))
            .into_iter()
            .collect();
        return;
    };
    match parse_ip6(line.value) {
        Ok(list) => {
            for a in list
                .iter()
                .filter(|a| b.subnet6.is_some_and(|n| !n.contains(**a)))
            {
                let net = b.subnet6.map_or(String::new(), |n| n.to_string());
                let reason = format!("{a} is outside SUBNET6 {net}; served as written");
                warnings.push(line_error(line, reason));
            }
            b.ip6 = list;
        }
        Err(why) => {
            let reason = format!(
                "{:?} {why}; IP6 is left out and no DHCPv6 address is served",
                line.value
            );
            warnings.push(line_error(line, reason));
        }
    }
}

/// A delegated prefix that overlaps SUBNET6 would be both on the link and routed to the VM.
fn check_delegated6(fields: &Fields, b: &Binding) -> Option<BindingError> {
    let subnet6 = b.subnet6?;
    let overlap = b.delegated6.iter().find(|p| p.overlaps(subnet6))?;
    let line = fields.line("DELEGATED6")?;
    Some(line_error(
        line,
        format!("{overlap} overlaps SUBNET6 {subnet6}; delegated as written"),
    ))
}

/// The names of keys this module ignores, in file order, for a debug log. Escape them
/// when logging: they are raw file content.
pub fn unknown_keys(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(key, _)| key.trim())
        .filter(|key| !KNOWN_KEYS.contains(key))
        .map(str::to_string)
        .collect()
}

// ---------------------------------------------------------------------------------------
// Value parsers: the raw (non-empty) value -> typed value, or why not (the caller prefixes
// the escaped value, so a reason reads as `"zz" is not a MAC address: ...`).

/// A parser for any `FromStr` type, refusing with "is not a valid {what}".
fn parse_as<T: FromStr>(what: &'static str) -> impl Fn(&str) -> Result<T, String> {
    move |s| s.parse().map_err(|_| format!("is not a valid {what}"))
}

/// IP and GATEWAY: addresses a client can be given or route through.
fn parse_v4(s: &str) -> Result<Ipv4Addr, String> {
    let a: Ipv4Addr = parse_as("IPv4 address")(s)?;
    if a.is_unspecified() || a.is_broadcast() || a.is_multicast() {
        return Err("is not a unicast IPv4 address".into());
    }
    Ok(a)
}

fn parse_v6(s: &str) -> Result<Ipv6Addr, String> {
    let a: Ipv6Addr = parse_as("IPv6 address")(s)?;
    if a.is_unspecified() || a.is_multicast() {
        return Err("is not a unicast IPv6 address".into());
    }
    Ok(a)
}

/// NAMESERVERS6: comma-separated unicast IPv6 addresses (empty items skipped).
fn parse_v6_list(s: &str) -> Result<Vec<Ipv6Addr>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .map(|i| parse_v6(i).map_err(|why| format!("has {i:?}, which {why}")))
        .collect()
}

/// The most ROUTES6 entries: 16 Route Information options of at most 24 bytes keep the RA
/// well within the minimum IPv6 MTU.
pub const MAX_ROUTES6: usize = 16;
/// The most IP6 addresses and DELEGATED6 prefixes: an IA with 8 of them (29 bytes each) and
/// the rest of a Reply stay well within the minimum IPv6 MTU.
pub const MAX_IP6: usize = 8;
pub const MAX_DELEGATED6: usize = 8;

/// The non-empty items of a comma-separated list.
fn items(s: &str) -> impl Iterator<Item = &str> {
    s.split(',').map(str::trim).filter(|e| !e.is_empty())
}

/// ROUTES6, DELEGATED6: comma-separated IPv6 prefixes (`2001:db8:100::/48`), no host bits
/// set (empty items skipped), at most `max`.
fn parse_prefixes(s: &str, max: usize) -> Result<Vec<Ipv6Network>, String> {
    let mut nets = Vec::new();
    for entry in items(s) {
        let net: Ipv6Network = entry
            .parse()
            .map_err(|_| format!("has {entry:?}, which is not an IPv6 network (address/prefix)"))?;
        if net.ip() != net.network() {
            return Err(format!(
                "has {entry:?}, which has host bits set (the network is {}/{})",
                net.network(),
                net.prefix()
            ));
        }
        nets.push(net);
    }
    if nets.len() > max {
        return Err(format!(
            "has {} prefixes, at most {max} are sent",
            nets.len()
        ));
    }
    Ok(nets)
}

/// DELEGATED6: prefixes a VM can route: not ::/0, link-local, multicast or loopback.
fn parse_delegated6(s: &str) -> Result<Vec<Ipv6Network>, String> {
    let nets = parse_prefixes(s, MAX_DELEGATED6)?;
    for net in &nets {
        let a = net.network();
        if net.prefix() == 0 || a.is_multicast() || a.is_unicast_link_local() || a.is_loopback() {
            return Err(format!(
                "has {net}, which is not a prefix a VM can be delegated"
            ));
        }
    }
    Ok(nets)
}

/// IP6: comma-separated global or unique-local unicast addresses, at most `MAX_IP6`,
/// duplicates dropped.
fn parse_ip6(s: &str) -> Result<Vec<Ipv6Addr>, String> {
    let mut list: Vec<Ipv6Addr> = Vec::new();
    for item in items(s) {
        let a = parse_v6(item).map_err(|why| format!("has {item:?}, which {why}"))?;
        if a.is_unicast_link_local() || a.is_loopback() {
            return Err(format!(
                "has {item:?}, which is not an address DHCPv6 hands out"
            ));
        }
        if !list.contains(&a) {
            list.push(a);
        }
    }
    if list.len() > MAX_IP6 {
        return Err(format!(
            "has {} addresses, at most {MAX_IP6} are sent",
            list.len()
        ));
    }
    if list.is_empty() {
        return Err("has no address".into());
    }
    Ok(list)
}

fn parse_mac(s: &str) -> Result<MacAddr, String> {
    let mac: MacAddr = s
        .parse()
        .map_err(|e| format!("is not a MAC address: {e}"))?;
    if mac.is_multicast() || mac.is_zero() {
        return Err("is not a unicast MAC address".into());
    }
    Ok(mac)
}

fn parse_ifname(s: &str) -> Result<String, String> {
    if !is_interface_name(s) {
        return Err("is not an interface name (1-15 bytes, no '/', ':' or spaces)".into());
    }
    Ok(s.to_string())
}

/// The domain of a host name: the part after its first dot, if any.
pub fn hostname_domain(hostname: &str) -> Option<&str> {
    hostname
        .split_once('.')
        .map(|(_, d)| d)
        .filter(|d| !d.is_empty())
}

/// HOSTNAME as written: anything but control characters, which would reach the log.
fn parse_hostname_text(s: &str) -> Result<String, String> {
    if s.chars().any(char::is_control) {
        return Err("is not a valid host name: contains control characters".into());
    }
    Ok(s.to_string())
}

/// Free text that ends up in logs: anything but control characters.
fn parse_text(s: &str) -> Result<String, String> {
    if s.chars().any(char::is_control) {
        return Err("contains control characters".into());
    }
    Ok(s.to_string())
}

fn parse_mtu(s: &str) -> Result<u16, String> {
    match s.parse::<u16>() {
        Ok(n) if n >= MIN_MTU && s.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(format!("is not an MTU from {MIN_MTU} to {}", u16::MAX)),
    }
}

// DHCPv4 options per VM (issue 13).

/// The most ROUTES may encode to: one option 121 (255 bytes) less the gateway's on-link
/// host route (9) and default route (5) the policy may add.
const MAX_ROUTES_LEN: usize = 255 - 9 - 5;

/// ROUTES: `CIDR via ADDRESS` entries, comma-separated.
fn parse_routes(s: &str) -> Result<Vec<(Ipv4Network, Ipv4Addr)>, String> {
    let mut routes = Vec::new();
    let mut len = 0usize;
    for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let route = parse_route(entry).map_err(|why| format!("entry {entry:?}: {why}"))?;
        len += 1 + usize::from(route.0.prefix()).div_ceil(8) + 4;
        routes.push(route);
    }
    if len > MAX_ROUTES_LEN {
        return Err(format!(
            "too many routes: {len} bytes encoded, at most {MAX_ROUTES_LEN} fit one option 121"
        ));
    }
    Ok(routes)
}

fn parse_route(entry: &str) -> Result<(Ipv4Network, Ipv4Addr), String> {
    let words: Vec<&str> = entry.split_whitespace().collect();
    let [dest, via, router] = words[..] else {
        return Err("is not \"CIDR via ADDRESS\"".into());
    };
    if !via.eq_ignore_ascii_case("via") {
        return Err("is not \"CIDR via ADDRESS\"".into());
    }
    let net: Ipv4Network = dest
        .parse()
        .map_err(|_| format!("{dest:?} is not an IPv4 network (address/prefix)"))?;
    if net.ip() != net.network() {
        return Err(format!(
            "{dest:?} has host bits set (the network is {}/{})",
            net.network(),
            net.prefix()
        ));
    }
    let net = Ipv4Network::new(net.network(), net.prefix()).map_err(|e| e.to_string())?;
    let router: Ipv4Addr = router
        .parse()
        .map_err(|_| format!("{router:?} is not an IPv4 address"))?;
    if router.is_broadcast() || router.is_multicast() {
        return Err(format!(
            "{router} is not a unicast address (or 0.0.0.0 for on-link)"
        ));
    }
    Ok((net, router))
}

/// NAMESERVERS: unicast IPv4 addresses, comma-separated, at most one option's worth.
fn parse_nameservers(s: &str) -> Result<Vec<Ipv4Addr>, String> {
    let list = s
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| parse_v4(a).map_err(|why| format!("entry {a:?} {why}")))
        .collect::<Result<Vec<_>, _>>()?;
    if list.len() > crate::wire::dhcp4::MAX_IPV4_LIST {
        return Err(format!(
            "more than {} addresses",
            crate::wire::dhcp4::MAX_IPV4_LIST
        ));
    }
    Ok(list)
}

/// DOMAIN, and each name of DOMAIN_SEARCH: a name option 15 or 119 can carry, any visible
/// ASCII labels, as `[dhcp] domain`.
fn checked_domain(s: &str) -> Result<String, String> {
    let name = s.strip_suffix('.').unwrap_or(s);
    crate::wire::dns::encoded_len(name)
        .map(|_| name.to_string())
        .map_err(|_| {
            format!(
                "is not a DNS name: {}",
                dns_name(s).err().unwrap_or("cannot be encoded")
            )
        })
}

/// DOMAIN_SEARCH: domains, comma-separated, that fit option 119.
fn parse_search(s: &str) -> Result<crate::wire::dns::SearchList, String> {
    let names = s
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| checked_domain(d).map_err(|why| format!("entry {d:?} {why}")))
        .collect::<Result<Vec<_>, _>>()?;
    crate::wire::dns::SearchList::new(names)
}

/// PRIVATE and MACSPOOF: the original treated any non-empty value as set; the natural
/// spellings of "off" are honoured too.
fn is_set(value: &str) -> bool {
    !["0", "no", "false", "off"]
        .iter()
        .any(|off| value.eq_ignore_ascii_case(off))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The binding file of the original's README, every construct (tests/fixtures/README.md).
    const ORIGINAL_TAP10: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/compat-binding-tap10"
    ));

    const MINIMAL: &str = "MAC=aa:6b:39:22:33:44\n";

    fn err(text: &str) -> BindingError {
        match parse("tap0", text) {
            Err(e) => e,
            Ok(b) => panic!("expected an error, got {b:?}"),
        }
    }

    /// Asserts that `text` fails on `line` and `key`, and returns the message.
    fn err_at(text: &str, line: usize, key: &str) -> String {
        let e = err(text);
        assert_eq!((e.line, e.key.as_deref()), (Some(line), Some(key)), "{e}");
        e.to_string()
    }

    fn with(extra: &str) -> String {
        format!("{MINIMAL}{extra}\n")
    }

    #[test]
    fn original_fixture_parses() {
        let b = parse("tap10", ORIGINAL_TAP10).unwrap();
        assert_eq!(
            b,
            Binding {
                tap: "tap10".into(),
                instance: None,
                indev: "tap10".into(),
                mac: "aa:6b:39:22:33:44".parse().unwrap(),
                ip: Some(Ipv4Addr::new(192, 0, 2, 100)),
                hostname: Some("testing-vm".into()),
                hostname_domain: None,
                subnet: Some("192.0.2.0/24".parse().unwrap()),
                gateway: Some(Ipv4Addr::new(192, 0, 2, 1)),
                subnet6: Some("2001:db8:aaaa:bbbb::/64".parse().unwrap()),
                gateway6: Some("2001:db8:aaaa:bbbb::1".parse().unwrap()),
                eui64: Some("2001:db8:aaaa:bbbb:a86b:39ff:fe22:3344".parse().unwrap()),
                // `MTU=` is unset here; the original rejected the whole binding for it.
                mtu: None,
                private: false,
                macspoof: false,
                ipv6only: false,
                // `TAGS=""`: quotes removed, empty means unset.
                tags: None,
                nameservers6: vec![],
                routes6: vec![],
                // No IP6: the EUI64 address is the IA_NA default.
                ip6: vec!["2001:db8:aaaa:bbbb:a86b:39ff:fe22:3344".parse().unwrap()],
                delegated6: vec![],
                routes: vec![],
                nameservers: vec![],
                domain: None,
                domain_search: vec![],
                domain_search_119: vec![],
                warnings: vec![],
            }
        );
        assert_eq!(unknown_keys(ORIGINAL_TAP10), Vec::<String>::new());
    }

    #[test]
    fn minimal_binding_defaults_indev_to_tap() {
        let b = parse("tap7", MINIMAL).unwrap();
        assert_eq!((b.indev.as_str(), b.ip, b.mtu), ("tap7", None, None));
        assert!(!b.private && !b.macspoof);
    }

    #[test]
    fn uppercase_mac_is_normalized() {
        let b = parse("tap0", "MAC=AA:6B:39:22:33:44").unwrap();
        assert_eq!(b.mac.to_string(), "aa:6b:39:22:33:44");
    }

    #[test]
    fn quotes_removed_once() {
        let b = parse(
            "tap0",
            &with("HOSTNAME=\"vm1.example.com\"\nINDEV='br0'\nINSTANCE=\"'quoted'\""),
        )
        .unwrap();
        assert_eq!(b.hostname.as_deref(), Some("vm1.example.com"));
        assert_eq!(b.indev, "br0");
        assert_eq!(b.instance.as_deref(), Some("'quoted'"));
        // Unmatched quotes stay, and then the value is checked as it is.
        let msg = err_at(&with("IP=\"192.0.2.1'"), 2, "IP");
        assert!(msg.contains("is not a valid IPv4 address"), "{msg}");
    }

    #[test]
    fn value_keeps_text_after_second_equals() {
        let b = parse("tap0", &with("TAGS=a=b=c\nINSTANCE=x=y")).unwrap();
        assert_eq!(
            (b.tags.as_deref(), b.instance.as_deref()),
            (Some("a=b=c"), Some("x=y"))
        );
    }

    #[test]
    fn last_occurrence_wins() {
        let text = "MAC=zz\nIP=192.0.2.1\nMAC=aa:6b:39:22:33:45\nIP=192.0.2.2\nGATEWAY=192.0.2.1\nGATEWAY=\n";
        let b = parse("tap0", text).unwrap();
        assert_eq!(b.mac.to_string(), "aa:6b:39:22:33:45");
        assert_eq!(b.ip, Some(Ipv4Addr::new(192, 0, 2, 2)));
        // A later empty value unsets an earlier one.
        assert_eq!(b.gateway, None);
    }

    #[test]
    fn comments_blank_lines_and_whitespace() {
        let text = "# written by the ifup script\n\n   \n  MAC=aa:6b:39:22:33:44  \n\t# IP=192.0.2.9\r\nIP = 192.0.2.3\r\n";
        let b = parse("tap0", text).unwrap();
        assert_eq!(b.ip, Some(Ipv4Addr::new(192, 0, 2, 3)));
    }

    #[test]
    fn unknown_keys_ignored_and_listed() {
        let text = with("LINK=br0\nmac=bb:bb:bb:bb:bb:bb\nDISABLE_IPV6=1");
        let b = parse("tap0", &text).unwrap();
        // Keys are case-sensitive, as in the original: `mac=` is not MAC.
        assert_eq!(b.mac.to_string(), "aa:6b:39:22:33:44");
        assert_eq!(unknown_keys(&text), ["LINK", "mac", "DISABLE_IPV6"]);
    }

    #[test]
    fn empty_mtu_is_unset_and_range_checked() {
        assert_eq!(parse("tap0", &with("MTU=")).unwrap().mtu, None);
        assert_eq!(parse("tap0", &with("MTU=\"\"")).unwrap().mtu, None);
        assert_eq!(parse("tap0", &with("MTU=68")).unwrap().mtu, Some(68));
        assert_eq!(parse("tap0", &with("MTU=9000")).unwrap().mtu, Some(9000));
        for bad in ["67", "65536", "-1", "+1500", "15OO", "1500 bytes"] {
            let msg = err_at(&with(&format!("MTU={bad}")), 2, "MTU");
            assert!(msg.contains("from 68 to 65535"), "{msg}");
        }
    }

    #[test]
    fn flags_set_unless_off_words() {
        for (value, set) in [
            ("1", true),
            ("yes", true),
            ("x", true),
            ("0", false),
            ("No", false),
            ("FALSE", false),
            ("off", false),
            ("", false),
        ] {
            let text = format!("PRIVATE={value}\nMACSPOOF={value}\nIPV6ONLY={value}");
            let b = parse("tap0", &with(&text)).unwrap();
            assert_eq!(
                (b.private, b.macspoof, b.ipv6only),
                (set, set, set),
                "{value:?}"
            );
        }
    }

    #[test]
    fn each_invalid_value_names_line_and_key() {
        let cases = [
            (
                "IP=192.0.2",
                "IP",
                "\"192.0.2\" is not a valid IPv4 address",
            ),
            ("IP=2001:db8::1", "IP", "is not a valid IPv4 address"),
            ("IP=255.255.255.255", "IP", "is not a unicast IPv4 address"),
            (
                "SUBNET=192.0.2.0/33",
                "SUBNET",
                "is not a valid IPv4 network",
            ),
            ("GATEWAY=gw", "GATEWAY", "is not a valid IPv4 address"),
            (
                "SUBNET6=2001:db8::/129",
                "SUBNET6",
                "is not a valid IPv6 network",
            ),
            (
                "GATEWAY6=192.0.2.1",
                "GATEWAY6",
                "is not a valid IPv6 address",
            ),
            ("EUI64=ff02::1", "EUI64", "is not a unicast IPv6 address"),
            ("INDEV=br0/x", "INDEV", "is not an interface name"),
            (
                "INDEV=averyveryverylongname",
                "INDEV",
                "is not an interface name",
            ),
            (
                "INSTANCE=vm\u{1b}[31m",
                "INSTANCE",
                "contains control characters",
            ),
        ];
        for (line, key, reason) in cases {
            let msg = err_at(&with(line), 2, key);
            assert!(msg.starts_with(&format!("line 2: {key}: ")), "{msg}");
            assert!(msg.contains(reason), "{line}: {msg}");
        }
    }

    #[test]
    fn bad_mac_refused() {
        let msg = err_at("IP=192.0.2.1\nMAC=zz\n", 2, "MAC");
        assert_eq!(msg, "line 2: MAC: \"zz\" is not a MAC address: expected six colon-separated hex bytes, like aa:bb:cc:dd:ee:ff");
        for bad in [
            "01:00:5e:00:00:01",
            "ff:ff:ff:ff:ff:ff",
            "00:00:00:00:00:00",
        ] {
            let msg = err_at(&format!("MAC={bad}"), 1, "MAC");
            assert!(msg.contains("is not a unicast MAC address"), "{msg}");
        }
    }

    #[test]
    fn missing_mac_refused() {
        for text in ["IP=192.0.2.1\n", "MAC=\n", ""] {
            let e = err(text);
            assert_eq!((e.line, e.key.as_deref()), (None, Some("MAC")));
            assert_eq!(
                e.to_string(),
                "MAC: missing: every binding needs the VM's MAC address"
            );
        }
    }

    #[test]
    fn control_characters_escaped_in_errors() {
        let msg = err_at(&with("HOSTNAME=vm\u{1b}]0;pwned\u{7}"), 2, "HOSTNAME");
        assert!(!msg.chars().any(char::is_control), "{msg:?}");
        assert!(msg.contains("\\u{1b}"), "{msg}");
    }

    /// The first warning of a binding that is served.
    fn warning(text: &str) -> (Binding, String) {
        let b = parse("tap0", text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        let w = b
            .warnings
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        (b, w)
    }

    fn v6(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn ip6_list_or_eui64_default() {
        let subnet = "SUBNET6=2001:db8:1::/64\n";
        let b = parse(
            "tap0",
            &with(&format!(
                "{subnet}IP6=2001:db8:1::5, 2001:db8:1::6,,2001:db8:1::5"
            )),
        )
        .unwrap();
        assert_eq!(b.ip6, [v6("2001:db8:1::5"), v6("2001:db8:1::6")]);
        assert_eq!(b.warnings, []);
        // Absent (or empty): EUI64 when set, else the MAC's address in a /64 SUBNET6.
        let b = parse("tap0", &with(subnet)).unwrap();
        assert_eq!(b.ip6, [v6("2001:db8:1::a86b:39ff:fe22:3344")]);
        let b = parse(
            "tap0",
            &with(&format!("{subnet}IP6=\nEUI64=2001:db8:1::99")),
        )
        .unwrap();
        assert_eq!(b.ip6, [v6("2001:db8:1::99")]);
        let b = parse("tap0", &with("SUBNET6=2001:db8:1::/56")).unwrap();
        assert_eq!(b.ip6, Vec::<Ipv6Addr>::new());
        // Outside SUBNET6: served, with a warning.
        let (b, w) = warning(&with(&format!("{subnet}IP6=2001:db8:2::5")));
        assert_eq!(b.ip6, [v6("2001:db8:2::5")]);
        assert_eq!(
            w,
            "line 3: IP6: 2001:db8:2::5 is outside SUBNET6 2001:db8:1::/64; served as written"
        );
    }

    #[test]
    fn bad_ip6_serves_no_address() {
        let many = ["2001:db8:1::1"; 9]
            .iter()
            .enumerate()
            .map(|(i, a)| format!("{a}{i}"))
            .collect::<Vec<_>>()
            .join(",");
        for (value, why) in [
            ("zz", "has \"zz\", which is not a valid IPv6 address"),
            (
                "fe80::1",
                "has \"fe80::1\", which is not an address DHCPv6 hands out",
            ),
            (
                "ff02::1",
                "has \"ff02::1\", which is not a unicast IPv6 address",
            ),
            (
                "::1",
                "has \"::1\", which is not an address DHCPv6 hands out",
            ),
            (",", "has no address"),
            (&many, "has 9 addresses, at most 8 are sent"),
        ] {
            let (b, w) = warning(&with(&format!("SUBNET6=2001:db8:1::/64\nIP6={value}")));
            assert_eq!(b.ip6, Vec::<Ipv6Addr>::new(), "{value}");
            assert_eq!(
                b.subnet6,
                Some("2001:db8:1::/64".parse().unwrap()),
                "served: {value}"
            );
            assert_eq!(
                w,
                format!(
                    "line 3: IP6: {value:?} {why}; IP6 is left out and no DHCPv6 address is served"
                ),
                "{value}"
            );
        }
    }

    #[test]
    fn delegated6_prefixes() {
        let b = parse(
            "tap0",
            &with("DELEGATED6=2001:db8:100::/56, 2001:db8:200::/48"),
        )
        .unwrap();
        let want: Vec<Ipv6Network> = vec![
            "2001:db8:100::/56".parse().unwrap(),
            "2001:db8:200::/48".parse().unwrap(),
        ];
        assert_eq!((b.delegated6, b.warnings), (want, vec![]));
        for (value, why) in [
            ("2001:db8:100::1/56", "has \"2001:db8:100::1/56\", which has host bits set (the network is 2001:db8:100::/56)"),
            ("fe80::/64", "has fe80::/64, which is not a prefix a VM can be delegated"),
            ("::/0", "has ::/0, which is not a prefix a VM can be delegated"),
            ("ff00::/8", "has ff00::/8, which is not a prefix a VM can be delegated"),
            ("zz/64", "has \"zz/64\", which is not an IPv6 network (address/prefix)"),
        ] {
            let (b, w) = warning(&with(&format!("DELEGATED6={value}")));
            assert_eq!(b.delegated6, vec![], "{value}");
            assert_eq!(w, format!("line 2: DELEGATED6: {value:?} {why}; DELEGATED6 is left out"));
        }
        // Overlapping the on-link prefix: delegated, with a warning.
        let (b, w) = warning(&with("SUBNET6=2001:db8:1::/64\nDELEGATED6=2001:db8:1::/48"));
        assert_eq!(b.delegated6.len(), 1);
        assert_eq!(w, "line 3: DELEGATED6: 2001:db8:1::/48 overlaps SUBNET6 2001:db8:1::/64; delegated as written");
    }

    /// Binding files as gnt-networking writes them (tests/fixtures/README.md): served, with a
    /// warning only for the instance name that is no DNS name.
    #[test]
    fn gnt_networking_files_are_served() {
        let fixture = |name: &str| {
            let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(path).unwrap();
            parse(name.trim_start_matches("gnt-networking-"), &text).unwrap()
        };
        let b = fixture("gnt-networking-tap3");
        assert_eq!(
            (b.indev.as_str(), b.mtu, b.private),
            ("br0", Some(1450), true)
        );
        assert_eq!(b.ip, Some(Ipv4Addr::new(192, 0, 2, 33)));
        assert_eq!(
            (b.hostname, b.hostname_domain.as_deref()),
            (None, Some("example.org"))
        );
        assert_eq!(b.tags.as_deref(), Some("web frontend"));
        assert!(b.subnet6.is_some() && b.gateway6.is_some() && b.eui64.is_some());
        assert_eq!(b.warnings.len(), 1, "{:?}", b.warnings);
        assert_eq!(b.warnings[0].key.as_deref(), Some("HOSTNAME"));
        let b = fixture("gnt-networking-tap4");
        assert_eq!((b.tap.as_str(), b.indev.as_str()), ("tap4", "tap4"));
        assert_eq!((b.ip, b.subnet, b.gateway6), (None, None, None));
        assert_eq!(b.hostname.as_deref(), Some("vm4.example.org"));
        assert_eq!(b.warnings, []);
    }

    #[test]
    fn nameservers6_is_a_list_of_unicast_addresses() {
        let b = parse(
            "tap0",
            &with("NAMESERVERS6=\"2001:db8::53, 2001:db8:1::53,,fe80::1\""),
        )
        .unwrap();
        let want: Vec<Ipv6Addr> = ["2001:db8::53", "2001:db8:1::53", "fe80::1"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        assert_eq!((b.nameservers6, b.warnings), (want, vec![]));
        assert_eq!(
            parse("tap0", &with("NAMESERVERS6=")).unwrap().nameservers6,
            Vec::<Ipv6Addr>::new()
        );
        assert_eq!(
            parse("tap0", MINIMAL).unwrap().nameservers6,
            Vec::<Ipv6Addr>::new()
        );
    }

    #[test]
    fn routes6_is_a_list_of_prefixes() {
        let b = parse(
            "tap0",
            &with("ROUTES6=\"2001:db8:100::/48, 2001:db8:200::/56,,::/0\""),
        )
        .unwrap();
        let want: Vec<Ipv6Network> = ["2001:db8:100::/48", "2001:db8:200::/56", "::/0"]
            .iter()
            .map(|n| n.parse().unwrap())
            .collect();
        assert_eq!((b.routes6, b.warnings), (want, vec![]));
        assert_eq!(parse("tap0", MINIMAL).unwrap().routes6, vec![]);
    }

    #[test]
    fn bad_routes6_is_left_out_with_a_warning() {
        let many = vec!["2001:db8::/32"; MAX_ROUTES6 + 1].join(",");
        for (value, why) in [
            (
                "2001:db8:100::/48,zz",
                "has \"zz\", which is not an IPv6 network (address/prefix)",
            ),
            (
                "2001:db8:100::1/48",
                "has \"2001:db8:100::1/48\", which has host bits set (the network is \
                 2001:db8:100::/48)",
            ),
            (
                "2001:db8::/129",
                "has \"2001:db8::/129\", which is not an IPv6 network (address/prefix)",
            ),
            (
                "192.0.2.0/24",
                "has \"192.0.2.0/24\", which is not an IPv6 network (address/prefix)",
            ),
            (&many, "has 17 prefixes, at most 16 are sent"),
        ] {
            let (b, w) = warning(&with(&format!("IP=192.0.2.9\nROUTES6={value}")));
            assert_eq!(b.routes6, vec![], "{value}");
            assert_eq!(b.ip, Some(Ipv4Addr::new(192, 0, 2, 9)), "served: {value}");
            assert_eq!(
                w,
                format!("line 3: ROUTES6: {value:?} {why}; ROUTES6 is left out"),
                "{value}"
            );
        }
    }

    #[test]
    fn bad_nameservers6_is_left_out_with_a_warning() {
        for (value, why) in [
            (
                "2001:db8::53,zz",
                "\"zz\", which is not a valid IPv6 address",
            ),
            (
                "ff02::1",
                "\"ff02::1\", which is not a unicast IPv6 address",
            ),
            ("::", "\"::\", which is not a unicast IPv6 address"),
            (
                "192.0.2.53",
                "\"192.0.2.53\", which is not a valid IPv6 address",
            ),
        ] {
            let (b, w) = warning(&with(&format!("IP=192.0.2.9\nNAMESERVERS6={value}")));
            assert_eq!(b.nameservers6, Vec::<Ipv6Addr>::new(), "{value}");
            assert_eq!(b.ip, Some(Ipv4Addr::new(192, 0, 2, 9)), "served: {value}");
            assert_eq!(
                (
                    b.warnings.len(),
                    b.warnings[0].line,
                    b.warnings[0].key.as_deref()
                ),
                (1, Some(3), Some("NAMESERVERS6"))
            );
            assert_eq!(
                w,
                format!(
                    "line 3: NAMESERVERS6: {value:?} has {why}; left out, [ipv6] nameservers apply"
                )
            );
        }
    }

    #[test]
    fn line_without_equals_is_ignored_with_a_warning() {
        // The original ignored such lines (issue 12); served.
        let (b, w) = warning(&with("garbage here\nIP=192.0.2.9"));
        assert_eq!(b.ip, Some(Ipv4Addr::new(192, 0, 2, 9)));
        assert_eq!(
            (b.warnings[0].line, b.warnings[0].key.as_deref()),
            (Some(2), None)
        );
        // By line number only: the text is never quoted (issue 11: a hard link to
        // /etc/shadow would have had its first line logged).
        assert_eq!(w, "line 2: the line is not a KEY=VALUE line; ignored");
        let (_, w) = warning(&with("root:$y$secret:19000:0"));
        assert!(!w.contains("secret"), "{w}");
        let (b, _) = warning(&with("=value"));
        assert_eq!(b.warnings[0].line, Some(2));
        assert_eq!(parse("tap0", MINIMAL).unwrap().warnings, []);
    }

    #[test]
    fn hostname_that_is_no_dns_name_is_served_without_option_12() {
        // Ganeti's --no-name-check (issue 12): the lease is served, option 12 left out, the
        // domain part still used.
        let (b, w) = warning(&with("HOSTNAME=my_vm5.example.org"));
        assert_eq!(
            (b.hostname, b.hostname_domain.as_deref()),
            (None, Some("example.org"))
        );
        assert!(
            w.starts_with("line 2: HOSTNAME: \"my_vm5.example.org\" is not a valid host name"),
            "{w}"
        );
        assert!(w.ends_with("option 12 is left out"), "{w}");
        let (b, _) = warning(&with("HOSTNAME=my vm"));
        assert_eq!((b.hostname, b.hostname_domain), (None, None));
        let b = parse("tap0", &with("HOSTNAME=vm1.example.org")).unwrap();
        assert_eq!(b.hostname.as_deref(), Some("vm1.example.org"));
        assert_eq!(b.hostname_domain.as_deref(), Some("example.org"));
        assert_eq!(b.warnings, []);
        // Control characters would reach the log: still refused.
        let msg = err_at(&with("HOSTNAME=vm\u{7}"), 2, "HOSTNAME");
        assert!(msg.contains("is not a valid host name"), "{msg}");
    }

    #[test]
    fn ip_outside_subnet_is_served_with_a_warning() {
        // The original served it (issue 12).
        let (b, w) = warning(&with("IP=192.0.3.1\nSUBNET=192.0.2.0/24"));
        assert_eq!(b.ip, Some(Ipv4Addr::new(192, 0, 3, 1)));
        assert_eq!(
            w,
            "line 2: IP: 192.0.3.1 is outside SUBNET 192.0.2.0/24 (line 3); served as written"
        );
        let b = parse("tap0", &with("IP=192.0.2.200\nSUBNET=192.0.2.128/25")).unwrap();
        assert_eq!(b.warnings, []);
    }

    #[test]
    fn gateway_outside_subnet_accepted() {
        // Routed setups: a /32 with the gateway off-subnet.
        let b = parse(
            "tap0",
            &with("IP=192.0.2.10\nSUBNET=192.0.2.10/32\nGATEWAY=198.51.100.1"),
        )
        .unwrap();
        assert_eq!(b.gateway, Some(Ipv4Addr::new(198, 51, 100, 1)));
    }

    #[test]
    fn subnet_kept_as_written() {
        let b = parse("tap0", &with("IP=192.0.2.5\nSUBNET=192.0.2.5/24")).unwrap();
        let subnet = b.subnet.unwrap();
        assert_eq!(
            (subnet.ip(), subnet.network(), subnet.prefix()),
            (Ipv4Addr::new(192, 0, 2, 5), Ipv4Addr::new(192, 0, 2, 0), 24)
        );
    }

    #[test]
    fn hostname_trailing_dot_stripped() {
        let b = parse("tap0", &with("HOSTNAME=vm1.example.com.")).unwrap();
        assert_eq!(b.hostname.as_deref(), Some("vm1.example.com"));
    }

    #[test]
    fn oversized_file_and_bad_tap_refused() {
        let big = format!("{MINIMAL}{}", "#".repeat(64 * 1024));
        assert_eq!(err(&big).to_string(), "larger than 65536 bytes");
        let e = parse("tap/0", MINIMAL).unwrap_err();
        assert_eq!(
            e.to_string(),
            "file name \"tap/0\" is not an interface name"
        );
    }

    #[test]
    fn interface_names() {
        for good in ["tap0", "br-vm.100", "a", "x23456789012345", "gnt.com.1"] {
            assert!(is_interface_name(good), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "tap/0",
            "tap:0",
            "tap 0",
            "tap\t0",
            "tap\u{1}",
            "x234567890123456",
        ] {
            assert!(!is_interface_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn binding_names_skip_temp_and_dot_files() {
        for good in ["tap0", "tap10", "vnet3", "br0.new0"] {
            assert!(is_binding_name(good), "{good}");
        }
        for bad in [
            ".tap0",
            ".tap0.swp",
            "tap0~",
            "tap0.tmp",
            "tap0.swp",
            "tap0.new",
            "tap0.dpkg-new",
            "tap0.dpkg-old",
            "#tap0#",
            "..",
            "",
            "tap0:1",
            "verylongname0123",
        ] {
            assert!(!is_binding_name(bad), "{bad:?}");
        }
    }

    // DHCPv4 options per VM (issue 13).

    #[test]
    fn routes_parse_into_networks_and_routers() {
        let b = parse(
            "tap0",
            &with("ROUTES=198.51.100.0/24 via 192.0.2.1, 203.0.113.0/25 VIA 192.0.2.1,,192.0.2.128/32 via 0.0.0.0"),
        )
        .unwrap();
        assert_eq!(b.warnings, []);
        let want: Vec<(Ipv4Network, Ipv4Addr)> = vec![
            (
                "198.51.100.0/24".parse().unwrap(),
                Ipv4Addr::new(192, 0, 2, 1),
            ),
            (
                "203.0.113.0/25".parse().unwrap(),
                Ipv4Addr::new(192, 0, 2, 1),
            ),
            ("192.0.2.128/32".parse().unwrap(), Ipv4Addr::UNSPECIFIED),
        ];
        assert_eq!(b.routes, want);
        assert_eq!(parse("tap0", &with("ROUTES=")).unwrap().routes, []);
    }

    #[test]
    fn bad_routes_are_left_out_with_one_warning() {
        for (entry, why) in [
            (
                "198.51.100.1/24 via 192.0.2.1",
                "has host bits set (the network is 198.51.100.0/24)",
            ),
            ("198.51.100.0/33 via 192.0.2.1", "is not an IPv4 network"),
            ("198.51.100.0/24 192.0.2.1", "is not \"CIDR via ADDRESS\""),
            (
                "198.51.100.0/24 via 192.0.2.1 x",
                "is not \"CIDR via ADDRESS\"",
            ),
            ("198.51.100.0/24 via gw", "\"gw\" is not an IPv4 address"),
            ("198.51.100.0/24 via 224.0.0.1", "is not a unicast address"),
        ] {
            let text = with(&format!(
                "IP=192.0.2.9\nROUTES=203.0.113.0/24 via 192.0.2.1, {entry}"
            ));
            let (b, w) = warning(&text);
            assert_eq!(b.routes, [], "{entry}");
            assert_eq!(b.ip, Some(Ipv4Addr::new(192, 0, 2, 9)), "served");
            assert_eq!(b.warnings.len(), 1);
            assert!(w.starts_with("line 3: ROUTES: "), "{w}");
            assert!(w.contains(&format!("entry {entry:?}: ")), "{w}");
            assert!(w.contains(why), "{w}");
            assert!(w.ends_with("; ROUTES is left out"), "{w}");
        }
        // 27 /25 routes are 243 bytes: more than fit beside the gateway's two routes.
        let many = vec!["203.0.113.0/25 via 192.0.2.1"; 27].join(", ");
        let (b, w) = warning(&with(&format!("ROUTES={many}")));
        assert_eq!(b.routes, []);
        assert!(w.contains("too many routes: 243 bytes"), "{w}");
        let fits = vec!["203.0.113.0/25 via 192.0.2.1"; 26].join(", ");
        assert_eq!(
            parse("tap0", &with(&format!("ROUTES={fits}")))
                .unwrap()
                .routes
                .len(),
            26
        );
    }

    #[test]
    fn nameservers_domain_and_search_per_vm() {
        let b = parse(
            "tap0",
            &with(
                "NAMESERVERS=198.51.100.53, 203.0.113.53\nDOMAIN=vm.example.net.\n\
                   DOMAIN_SEARCH=\"eng.example.net, example.net.\"",
            ),
        )
        .unwrap();
        assert_eq!(b.warnings, []);
        assert_eq!(
            b.nameservers,
            [
                Ipv4Addr::new(198, 51, 100, 53),
                Ipv4Addr::new(203, 0, 113, 53)
            ]
        );
        assert_eq!(b.domain.as_deref(), Some("vm.example.net"));
        assert_eq!(b.domain_search, ["eng.example.net", "example.net"]);
        assert_eq!(b.domain_search_119.len(), 17 + 2);
        for (line, key, why) in [
            (
                "NAMESERVERS=198.51.100.53, 255.255.255.255",
                "NAMESERVERS",
                "is not a unicast IPv4 address",
            ),
            (
                "NAMESERVERS=ns1",
                "NAMESERVERS",
                "is not a valid IPv4 address",
            ),
            ("DOMAIN=a..b", "DOMAIN", "is not a DNS name"),
            (
                "DOMAIN_SEARCH=example.net, exa mple.net",
                "DOMAIN_SEARCH",
                "entry \"exa mple.net\" is not a DNS name",
            ),
        ] {
            let (b, w) = warning(&with(line));
            assert!(w.starts_with(&format!("line 2: {key}: ")), "{w}");
            assert!(w.contains(why), "{w}");
            assert!(w.ends_with(&format!("; {key} is left out")), "{w}");
            assert!(
                (
                    b.nameservers.is_empty(),
                    b.domain.is_none(),
                    b.domain_search.is_empty()
                ) == (true, true, true)
            );
        }
        let long: Vec<String> = (0..9)
            .map(|i| format!("{i}{}.example", "x".repeat(60)))
            .collect();
        let (b, w) = warning(&with(&format!("DOMAIN_SEARCH={}", long.join(","))));
        assert!(w.contains("more than 510 bytes"), "{w}");
        assert_eq!((b.domain_search.len(), b.domain_search_119.len()), (0, 0));
    }
}
