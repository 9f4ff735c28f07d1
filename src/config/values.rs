//! Value parsers: raw (non-empty) text -> typed value, or the reason it is refused.

use ipnetwork::Ipv6Network;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

/// Raw (non-empty) text -> typed value, or the reason it is refused.
pub(super) type Parser<T> = fn(&str) -> Result<T, String>;

pub(super) fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Ok(true),
        "no" | "false" | "off" | "0" => Ok(false),
        _ => Err("not a boolean: use yes or no (or true/false, on/off, 1/0)".into()),
    }
}

/// A decimal integer in `min..=max`. Digits only: no sign, no hex, no spaces.
pub(super) fn parse_uint(s: &str, min: u64, max: u64) -> Result<u64, String> {
    let n = s
        .parse::<u64>()
        .ok()
        .filter(|_| s.bytes().all(|b| b.is_ascii_digit()));
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("not an integer from {min} to {max}")),
    }
}

pub(super) fn parse_queue(s: &str) -> Result<u16, String> {
    let n = parse_uint(s, 0, u16::MAX.into())?;
    u16::try_from(n).map_err(|e| e.to_string())
}

/// A duration in seconds: 1..=2^32-1 (DHCP lease times and RA periods are 32-bit).
pub(super) fn parse_seconds(s: &str) -> Result<u32, String> {
    let n = parse_uint(s, 1, u32::MAX.into())?;
    u32::try_from(n).map_err(|e| e.to_string())
}

/// Packets per second or a burst size; 0 turns rate limiting off.
pub(super) fn parse_rate(s: &str) -> Result<u32, String> {
    let n = parse_uint(s, 0, 1_000_000)?;
    u32::try_from(n).map_err(|e| e.to_string())
}

/// A path; a relative one is taken from `/`, where the original ended up once detached
/// (the section warns about it).
pub(super) fn parse_abs_path(s: &str) -> Result<PathBuf, String> {
    Ok(Path::new("/").join(s))
}

/// A user name or numeric uid; what getpwnam would never match is refused here.
pub(super) fn parse_user(s: &str) -> Result<String, String> {
    if s.chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ':' || c == '/')
    {
        return Err("not a user name or uid".into());
    }
    Ok(s.to_string())
}

/// A unicast IPv4 address: what a client can use as a server or nameserver.
pub(super) fn parse_v4(s: &str) -> Result<Ipv4Addr, String> {
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

/// A comma list of unicast IPv4 addresses that one DHCPv4 option carries: at most 63
/// (252 bytes; an option's value holds 255).
pub(super) fn parse_v4_option_list(s: &str) -> Result<Vec<Ipv4Addr>, String> {
    let list = parse_list(s, parse_v4)?;
    let max = crate::wire::dhcp4::MAX_IPV4_LIST;
    if list.len() > max {
        return Err(format!(
            "{} addresses; one option holds at most {max}",
            list.len()
        ));
    }
    Ok(list)
}

/// A unicast IPv6 address (link-local is fine: RDNSS may point at the router).
pub(super) fn parse_v6(s: &str) -> Result<Ipv6Addr, String> {
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

/// A domain the DHCP and RA options can carry: a host name, or any name of visible ASCII
/// labels (the original sent whatever was written; the section warns about non-host names).
pub(super) fn parse_domain(s: &str) -> Result<String, String> {
    let name = s.strip_suffix('.').unwrap_or(s);
    match crate::wire::dns::encoded_len(name) {
        Ok(_) => Ok(name.to_string()),
        Err(_) => Err(format!(
            "{s:?} is not a DNS name: {}",
            dns_name(s).err().unwrap_or("cannot be encoded")
        )),
    }
}

/// `[dhcp] domain_search`: domains as `parse_domain` takes them that fit DHCPv4 option 119
/// (two options' worth once compressed).
pub(super) fn parse_search_list(s: &str) -> Result<crate::wire::dns::SearchList, String> {
    let names = parse_list(s, parse_domain)?;
    crate::wire::dns::SearchList::new(names)
}

/// A comma-separated list: items trimmed, empty items skipped, one layer of quotes removed
/// from each (rust-ini unquotes only the first item of `"a", "b"`).
pub(super) fn parse_list<T>(s: &str, item: Parser<T>) -> Result<Vec<T>, String> {
    s.split(',')
        .map(|i| unquote(i.trim()))
        .filter(|i| !i.is_empty())
        .map(item)
        .collect()
}

pub(super) fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

/// Checks a DNS host or domain name and returns it without its trailing dot: the rules
/// of `wire::dns::check_name` (RFC 1123), which the wire encoder shares, with the reason
/// as text for error messages.
pub fn dns_name(name: &str) -> Result<&str, &'static str> {
    crate::wire::dns::check_name(name).map_err(crate::wire::dns::NameError::as_str)
}

/// `[ipv6] pref64`: a NAT64 prefix of a length PREF64 can carry (RFC 8781 §4), no host
/// bits set.
pub(super) fn parse_pref64(s: &str) -> Result<Ipv6Network, String> {
    let (addr, len) = s
        .split_once('/')
        .ok_or("not a prefix: use ADDRESS/LENGTH, e.g. 2001:db8:64::/96")?;
    let addr: Ipv6Addr = addr
        .parse()
        .map_err(|_| format!("{addr:?} is not an IPv6 address"))?;
    let len: u8 = match len.parse() {
        Ok(l @ (96 | 64 | 56 | 48 | 40 | 32)) => l,
        _ => return Err(format!("length {len:?} is not 96, 64, 56, 48, 40 or 32")),
    };
    let net = Ipv6Network::new(addr, len).map_err(|e| e.to_string())?;
    if net.network() != addr {
        return Err(format!(
            "host bits set (the prefix is {}/{len})",
            net.network()
        ));
    }
    Ok(net)
}
