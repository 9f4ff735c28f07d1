//! Ethernet MAC addresses: parsed once, compared as bytes (so case never matters).

use std::fmt;
use std::str::FromStr;

/// A 48-bit Ethernet address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MacAddr(pub [u8; 6]);

/// Why a MAC address string was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacParseError {
    /// Not six colon-separated pairs of hex digits.
    Syntax,
}

impl fmt::Display for MacParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected six colon-separated hex bytes, like aa:bb:cc:dd:ee:ff")
    }
}

impl std::error::Error for MacParseError {}

impl MacAddr {
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    /// From a slice of exactly six bytes.
    pub fn from_slice(b: &[u8]) -> Option<MacAddr> {
        <[u8; 6]>::try_from(b).ok().map(MacAddr)
    }

    pub fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// Group bit set: multicast or broadcast, never a unicast NIC address.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    pub fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }

    /// Modified EUI-64 interface identifier (RFC 4291 appendix A).
    pub fn eui64(&self) -> [u8; 8] {
        let m = self.0;
        [m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]
    }
}

impl MacAddr {
    /// The link-local address `fe80::/64` + modified EUI-64 of this MAC (RFC 4291 §2.5.6).
    pub fn link_local(&self) -> std::net::Ipv6Addr {
        self.slaac_address(std::net::Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0))
    }

    /// The address this MAC forms in the /64 `prefix` (its first 64 bits) with modified
    /// EUI-64 (RFC 4862 §5.5.3): the SLAAC address, and the IA_NA default.
    pub fn slaac_address(&self, prefix: std::net::Ipv6Addr) -> std::net::Ipv6Addr {
        let mut o = prefix.octets();
        o[8..].copy_from_slice(&self.eui64());
        std::net::Ipv6Addr::from(o)
    }
}

impl FromStr for MacAddr {
    type Err = MacParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for byte in out.iter_mut() {
            let part = parts.next().ok_or(MacParseError::Syntax)?;
            if part.len() != 2 || !part.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(MacParseError::Syntax);
            }
            *byte = u8::from_str_radix(part, 16).map_err(|_| MacParseError::Syntax)?;
        }
        if parts.next().is_some() {
            return Err(MacParseError::Syntax);
        }
        Ok(MacAddr(out))
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_is_case_insensitive() {
        let a: MacAddr = "AA:6b:39:22:33:44".parse().unwrap();
        let b: MacAddr = "aa:6B:39:22:33:44".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "aa:6b:39:22:33:44");
    }

    #[test]
    fn parse_rejects_bad_syntax() {
        for bad in [
            "",
            "aa:bb:cc:dd:ee",
            "aa:bb:cc:dd:ee:ff:00",
            "aabbccddeeff",
            "a:bb:cc:dd:ee:ff",
            "gg:bb:cc:dd:ee:ff",
            "+a:bb:cc:dd:ee:ff",
        ] {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn eui64_flips_universal_bit() {
        let m: MacAddr = "aa:6b:39:22:33:44".parse().unwrap();
        assert_eq!(m.eui64(), [0xa8, 0x6b, 0x39, 0xff, 0xfe, 0x22, 0x33, 0x44]);
        assert_eq!(m.link_local().to_string(), "fe80::a86b:39ff:fe22:3344");
    }
}
