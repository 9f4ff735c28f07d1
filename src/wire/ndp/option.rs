//! NDP options (RFC 4861 §4.6): the bounded walk over an options area, the typed readers
//! of the options we use (link-layer address §4.6.1, Prefix Information §4.6.2 with the R
//! flag of RFC 6275 §7.2, MTU §4.6.4, RDNSS and DNSSL from RFC 8106), and their writers.

use std::net::Ipv6Addr;

use super::super::bytes::{
    read, read_u32, read_u8, split_option, write, write_list, write_u32, write_u8,
};
use super::super::dns::{self, NameIter, WireName};
use super::super::{MacAddr, WireError};
use super::Preference;

enum_with_unknown! {
    /// NDP option types.
    pub enum OptionType(u8) {
        /// RFC 4861 §4.6.1.
        SourceLinkLayerAddr = 1,
        /// RFC 4861 §4.6.1.
        TargetLinkLayerAddr = 2,
        /// RFC 4861 §4.6.2.
        PrefixInfo = 3,
        /// RFC 4861 §4.6.4.
        Mtu = 5,
        /// RFC 4191 §2.3: Route Information.
        RouteInfo = 24,
        /// RFC 8106 §5.1: Recursive DNS Server.
        Rdnss = 25,
        /// RFC 8106 §5.2: DNS Search List.
        Dnssl = 31,
        /// RFC 8781 §4: the NAT64 prefix.
        Pref64 = 38,
    }
}

/// NDP option lengths count units of 8 bytes, type and length included (RFC 4861 §4.6).
pub(super) const OPTION_UNIT: usize = 8;
/// Type and length bytes in front of every option's data.
const OPTION_HDR_LEN: usize = 2;
/// Longest option: 255 units.
pub(super) const MAX_OPTION_LEN: usize = 255 * OPTION_UNIT;
/// Most addresses one RDNSS option can carry: (2040 - 8) / 16.
pub const MAX_RDNSS_ADDRS: usize = 127;

/// Byte offsets relative to the option data (what follows type and length).
mod field {
    pub type Field = std::ops::Range<usize>;

    /// Link-layer address option data (§4.6.1), Ethernet.
    pub mod link_layer {
        use super::Field;
        pub const ADDR: Field = 0..6;
    }

    /// MTU option data (§4.6.4).
    pub mod mtu {
        use super::Field;
        pub const MTU: Field = 2..6;
        pub const LEN: usize = 6;
    }

    /// Prefix Information option data (§4.6.2).
    pub mod prefix {
        use super::Field;
        pub const PREFIX_LEN: usize = 0;
        pub const FLAGS: usize = 1;
        pub const VALID_LIFETIME: Field = 2..6;
        pub const PREFERRED_LIFETIME: Field = 6..10;
        pub const PREFIX: Field = 14..30;
        pub const LEN: usize = 30;
    }

    /// Route Information option data (RFC 4191 §2.3): prefix length, Prf bits, route
    /// lifetime, then 0, 8 or 16 bytes of prefix.
    pub mod route {
        use super::Field;
        pub const PREFIX_LEN: usize = 0;
        pub const FLAGS: usize = 1;
        pub const LIFETIME: Field = 2..6;
        pub const PREFIX: usize = 6;
    }

    /// PREF64 option data (RFC 8781 §4): 13 bits of scaled lifetime and 3 of prefix length
    /// code, then the highest 96 bits of the prefix.
    pub mod pref64 {
        use super::Field;
        pub const LIFETIME_PLC: Field = 0..2;
        pub const PREFIX: Field = 2..14;
        pub const LEN: usize = 14;
    }

    /// RDNSS and DNSSL option data (RFC 8106 §5.1, §5.2): 2 reserved bytes, lifetime,
    /// then addresses or names.
    pub mod dns {
        use super::Field;
        pub const LIFETIME: Field = 2..6;
        pub const LIST: usize = 6;
    }
}

flag_set! {
    /// Prefix Information flags (RFC 4861 §4.6.2; R from RFC 6275 §7.2).
    pub struct PrefixFlags {
        /// L: the prefix is on-link.
        const ON_LINK = 0x80;
        /// A: usable for SLAAC.
        const AUTONOMOUS = 0x40;
        /// R: the prefix field is the router's own address.
        const ROUTER_ADDRESS = 0x20;
    }
}

/// Where the Prf bits sit in a Route Information option's flags byte (RFC 4191 §2.3), as
/// in the RA's (§2.2).
const ROUTE_PRF_SHIFT: u8 = 3;
/// The longest PREF64 lifetime: 8191 units of 8 seconds (RFC 8781 §4).
pub const MAX_PREF64_LIFETIME: u16 = 8191 * 8;
/// PREF64 prefix lengths by their code (PLC, RFC 8781 §4).
const PREF64_LENGTHS: [u8; 6] = [96, 64, 56, 48, 40, 32];

/// A Route Information option (RFC 4191 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteInfo {
    /// The bits past `prefix_len` are zero (cleared when emitting and parsing).
    pub prefix: Ipv6Addr,
    /// 0..=128.
    pub prefix_len: u8,
    pub preference: Preference,
    /// Seconds; 0xffffffff is infinity.
    pub lifetime: u32,
}

/// A PREF64 option (RFC 8781 §4): the NAT64 prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pref64 {
    /// The bits past `prefix_len` are zero.
    pub prefix: Ipv6Addr,
    /// 96, 64, 56, 48, 40 or 32.
    pub prefix_len: u8,
    /// Seconds, at most `MAX_PREF64_LIFETIME`; sent in units of 8 seconds, rounded up.
    pub lifetime: u16,
}

/// `addr` with the bits past `len` (0..=128) cleared.
fn masked(addr: Ipv6Addr, len: u8) -> Ipv6Addr {
    let bits = u128::from(addr);
    let mask = u128::MAX
        .checked_shl(128 - u32::from(len.min(128)))
        .unwrap_or(0);
    Ipv6Addr::from(bits & mask)
}

/// One option: its type and the bytes after type and length (padding included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NdpOption<'a> {
    pub kind: OptionType,
    pub data: &'a [u8],
}

/// Walks an options area. Yields `Err(BadOption)` once, then `None`, for a zero length
/// (which would loop forever, RFC 4861 §4.6), a length past the end, or a lone byte where
/// an option header should be. Options ending exactly at the end of the area are fine.
#[derive(Debug, Clone)]
pub struct NdpOptionIter<'a> {
    rest: &'a [u8],
}

impl<'a> NdpOptionIter<'a> {
    pub fn new(area: &'a [u8]) -> Self {
        NdpOptionIter { rest: area }
    }
}

impl<'a> Iterator for NdpOptionIter<'a> {
    type Item = Result<NdpOption<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        let opt = split_option(&mut self.rest, |[kind, units]: [u8; OPTION_HDR_LEN]| {
            // A zero length would never advance (RFC 4861 §4.6).
            if units == 0 {
                return None;
            }
            // The length counts units of the whole option, type and length included: the
            // data is at least 6 and at most 255 * 8 - 2 bytes, padding included.
            let len = usize::from(units).checked_mul(OPTION_UNIT)?;
            Some((OptionType::from(kind), len.checked_sub(OPTION_HDR_LEN)?))
        });
        opt.map(|opt| opt.map(|(kind, data)| NdpOption { kind, data }))
    }
}

/// A list of IPv6 addresses, as an RDNSS option carries them: the caller's addresses to
/// send, or the 16-byte chunks of a received option (borrowed either way, so neither
/// emitting nor parsing allocates). Equal when the addresses are.
#[derive(Debug, Clone, Copy)]
pub enum AddrList<'a> {
    Addrs(&'a [Ipv6Addr]),
    Wire(&'a [[u8; 16]]),
}

impl AddrList<'_> {
    pub fn len(&self) -> usize {
        match self {
            AddrList::Addrs(a) => a.len(),
            AddrList::Wire(c) => c.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> Ipv6AddrIter<'_> {
        Ipv6AddrIter { list: *self, at: 0 }
    }
}

impl PartialEq for AddrList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for AddrList<'_> {}

impl<'a> From<&'a [Ipv6Addr]> for AddrList<'a> {
    fn from(a: &'a [Ipv6Addr]) -> Self {
        AddrList::Addrs(a)
    }
}

impl<'a> From<&'a Vec<Ipv6Addr>> for AddrList<'a> {
    fn from(a: &'a Vec<Ipv6Addr>) -> Self {
        AddrList::Addrs(a)
    }
}

impl<'a, const N: usize> From<&'a [Ipv6Addr; N]> for AddrList<'a> {
    fn from(a: &'a [Ipv6Addr; N]) -> Self {
        AddrList::Addrs(a)
    }
}

/// The addresses of an RDNSS option or an `AddrList`, in order.
#[derive(Debug, Clone)]
pub struct Ipv6AddrIter<'a> {
    list: AddrList<'a>,
    at: usize,
}

impl Iterator for Ipv6AddrIter<'_> {
    type Item = Ipv6Addr;

    fn next(&mut self) -> Option<Ipv6Addr> {
        let addr = match self.list {
            AddrList::Addrs(a) => a.get(self.at).copied(),
            AddrList::Wire(c) => c.get(self.at).map(|o| Ipv6Addr::from(*o)),
        }?;
        self.at += 1;
        Some(addr)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.list.len().saturating_sub(self.at);
        (n, Some(n))
    }
}

impl ExactSizeIterator for Ipv6AddrIter<'_> {}

/// A list of search domains, as a DNSSL option carries them: the caller's names in dotted
/// text to send (checked when emitted), or the well-formed encoded names of a received
/// option, padding excluded. Borrowed either way. Equal when the encodings are.
#[derive(Debug, Clone, Copy)]
pub enum NameList<'a> {
    Text(&'a [String]),
    Wire(&'a [u8]),
}

/// One name of a `NameList`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListName<'a> {
    Text(&'a str),
    Wire(WireName<'a>),
}

impl std::fmt::Display for ListName<'_> {
    /// Dotted text without the final dot, as `WireName` displays.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListName::Text(t) => f.write_str(t.strip_suffix('.').unwrap_or(t)),
            ListName::Wire(w) => w.fmt(f),
        }
    }
}

impl<'a> NameList<'a> {
    pub fn is_empty(&self) -> bool {
        match self {
            NameList::Text(n) => n.is_empty(),
            NameList::Wire(w) => w.is_empty(),
        }
    }

    /// The names, in order. A `Wire` list was validated when parsed, so nothing is lost by
    /// skipping errors here.
    pub fn iter(&self) -> impl Iterator<Item = ListName<'a>> + 'a {
        let (text, wire): (&'a [String], &'a [u8]) = match *self {
            NameList::Text(n) => (n, &[]),
            NameList::Wire(w) => (&[], w),
        };
        let text = text.iter().map(|t| ListName::Text(t));
        text.chain(NameIter::new(wire).flatten().map(ListName::Wire))
    }

    /// The encoded length of the names, back to back, no padding. Errors: those of
    /// `dns::encoded_len` for a text name it refuses.
    pub fn encoded_len(&self) -> Result<usize, WireError> {
        match self {
            NameList::Text(n) => dns::encoded_list_len(n),
            NameList::Wire(w) => Ok(w.len()),
        }
    }

    /// Writes the names back to back at the start of `out`, sized with `encoded_len`.
    pub fn encode(&self, out: &mut [u8]) -> Result<(), WireError> {
        match self {
            NameList::Text(n) => dns::encode_list(n, out),
            NameList::Wire(w) => {
                let dst = out.get_mut(..w.len()).ok_or(WireError::BufferTooSmall)?;
                dst.copy_from_slice(w);
                Ok(())
            }
        }
    }
}

impl PartialEq for NameList<'_> {
    fn eq(&self, other: &Self) -> bool {
        // Compares encodings, one name at a time on the stack: no allocation.
        let mut a = self.iter();
        let mut b = other.iter();
        loop {
            let (mut ba, mut bb) = ([0u8; dns::MAX_NAME_LEN], [0u8; dns::MAX_NAME_LEN]);
            match (a.next(), b.next()) {
                (None, None) => return true,
                (Some(x), Some(y)) => match (encoded(&x, &mut ba), encoded(&y, &mut bb)) {
                    (Some(x), Some(y)) if x == y => {}
                    _ => return false,
                },
                _ => return false,
            }
        }
    }
}

impl Eq for NameList<'_> {}

/// The wire form of `name`, in `buf` for a text name; `None` if it does not encode.
fn encoded<'b>(name: &ListName<'b>, buf: &'b mut [u8]) -> Option<&'b [u8]> {
    match name {
        ListName::Text(t) => {
            let n = dns::encode_name(t, buf).ok()?;
            buf.get(..n)
        }
        ListName::Wire(w) => Some(w.as_bytes()),
    }
}

impl<'a> From<&'a [String]> for NameList<'a> {
    fn from(n: &'a [String]) -> Self {
        NameList::Text(n)
    }
}

impl<'a> From<&'a Vec<String>> for NameList<'a> {
    fn from(n: &'a Vec<String>) -> Self {
        NameList::Text(n)
    }
}

/// A Prefix Information option (RFC 4861 §4.6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixInfo {
    /// Sent as given: with `router_address` it is a whole router address (RFC 6275 §7.2),
    /// so the bits past `prefix_len` are not cleared.
    pub prefix: Ipv6Addr,
    /// 0..=128.
    pub prefix_len: u8,
    /// L: the prefix is on-link.
    pub on_link: bool,
    /// A: usable for SLAAC.
    pub autonomous: bool,
    /// R: `prefix` is the router's own address (RFC 6275 §7.2).
    pub router_address: bool,
    /// Seconds; 0xffffffff is infinity.
    pub valid_lifetime: u32,
    /// Seconds; 0xffffffff is infinity.
    pub preferred_lifetime: u32,
}

impl PrefixInfo {
    pub fn flags(&self) -> PrefixFlags {
        PrefixFlags::EMPTY
            .with(PrefixFlags::ON_LINK, self.on_link)
            .with(PrefixFlags::AUTONOMOUS, self.autonomous)
            .with(PrefixFlags::ROUTER_ADDRESS, self.router_address)
    }
}

impl<'a> NdpOption<'a> {
    fn expect(&self, kinds: &[OptionType], len_ok: bool) -> Result<(), WireError> {
        if kinds.contains(&self.kind) && len_ok {
            Ok(())
        } else {
            Err(WireError::BadOption)
        }
    }

    /// A Source or Target Link-Layer Address option holding an Ethernet address (§4.6.1:
    /// one unit, 6 bytes of address).
    pub fn link_layer_addr(&self) -> Result<MacAddr, WireError> {
        let kinds = [
            OptionType::SourceLinkLayerAddr,
            OptionType::TargetLinkLayerAddr,
        ];
        self.expect(&kinds, self.data.len() == field::link_layer::ADDR.len())?;
        MacAddr::from_slice(self.data).ok_or(WireError::BadOption)
    }

    /// The MTU option's value (§4.6.4).
    pub fn mtu(&self) -> Result<u32, WireError> {
        self.expect(&[OptionType::Mtu], self.data.len() == field::mtu::LEN)?;
        Ok(read_u32(self.data, field::mtu::MTU))
    }

    /// A Prefix Information option (§4.6.2); `BadOption` for a prefix length over 128.
    pub fn prefix_info(&self) -> Result<PrefixInfo, WireError> {
        let d = self.data;
        self.expect(&[OptionType::PrefixInfo], d.len() == field::prefix::LEN)?;
        let prefix_len = read_u8(d, field::prefix::PREFIX_LEN);
        if prefix_len > 128 {
            return Err(WireError::BadOption);
        }
        let flags = PrefixFlags::from_bits_truncate(read_u8(d, field::prefix::FLAGS));
        Ok(PrefixInfo {
            prefix: Ipv6Addr::from(read::<16>(d, field::prefix::PREFIX)),
            prefix_len,
            on_link: flags.contains(PrefixFlags::ON_LINK),
            autonomous: flags.contains(PrefixFlags::AUTONOMOUS),
            router_address: flags.contains(PrefixFlags::ROUTER_ADDRESS),
            valid_lifetime: read_u32(d, field::prefix::VALID_LIFETIME),
            preferred_lifetime: read_u32(d, field::prefix::PREFERRED_LIFETIME),
        })
    }

    /// A Route Information option (RFC 4191 §2.3). `BadOption` for a prefix length over
    /// 128 or one the option is too short for (length 1 holds /0 only, 2 up to /64, 3
    /// any), or a length over 3 units; RFC 4191 §3.1 has receivers ignore such an option.
    pub fn route_info(&self) -> Result<RouteInfo, WireError> {
        let d = self.data;
        self.expect(&[OptionType::RouteInfo], d.len() <= 22)?;
        let prefix_len = read_u8(d, field::route::PREFIX_LEN);
        let bytes = d.get(field::route::PREFIX..).unwrap_or(&[]);
        if prefix_len > 128 || bytes.len() * 8 < usize::from(prefix_len) {
            return Err(WireError::BadOption);
        }
        let mut prefix = [0u8; 16];
        prefix[..bytes.len()].copy_from_slice(bytes);
        let prf = read_u8(d, field::route::FLAGS) >> ROUTE_PRF_SHIFT;
        Ok(RouteInfo {
            prefix: masked(Ipv6Addr::from(prefix), prefix_len),
            prefix_len,
            preference: Preference::from_bits(prf),
            lifetime: read_u32(d, field::route::LIFETIME),
        })
    }

    /// A PREF64 option (RFC 8781 §4). `BadOption` for a length other than 2 units or a
    /// prefix length code over 5 (which §5 has receivers ignore).
    pub fn pref64(&self) -> Result<Pref64, WireError> {
        let d = self.data;
        self.expect(&[OptionType::Pref64], d.len() == field::pref64::LEN)?;
        let word = u16::from_be_bytes(read::<2>(d, field::pref64::LIFETIME_PLC));
        let prefix_len = *PREF64_LENGTHS
            .get(usize::from(word & 0x7))
            .ok_or(WireError::BadOption)?;
        let mut prefix = [0u8; 16];
        prefix[..12].copy_from_slice(&read::<12>(d, field::pref64::PREFIX));
        Ok(Pref64 {
            prefix: masked(Ipv6Addr::from(prefix), prefix_len),
            prefix_len,
            lifetime: (word >> 3) * 8,
        })
    }

    /// An RDNSS option (RFC 8106 §5.1): its lifetime and addresses. `BadOption` unless it
    /// holds one or more whole addresses (length 3, 5, 7, ... units).
    pub fn rdnss(&self) -> Result<(u32, Ipv6AddrIter<'a>), WireError> {
        let (lifetime, list) = self.rdnss_list()?;
        Ok((lifetime, Ipv6AddrIter { list, at: 0 }))
    }

    /// As `rdnss`, the addresses as a list.
    pub fn rdnss_list(&self) -> Result<(u32, AddrList<'a>), WireError> {
        let list = self.data.get(field::dns::LIST..).unwrap_or(&[]);
        let (chunks, rest) = list.as_chunks::<16>();
        self.expect(&[OptionType::Rdnss], !chunks.is_empty() && rest.is_empty())?;
        let lifetime = read_u32(self.data, field::dns::LIFETIME);
        Ok((lifetime, AddrList::Wire(chunks)))
    }

    /// A DNSSL option (RFC 8106 §5.2): its lifetime and names. `BadOption` unless it
    /// holds one or more well-formed uncompressed names followed only by zero padding.
    pub fn dnssl(&self) -> Result<(u32, NameIter<'a>), WireError> {
        let (lifetime, _) = self.dnssl_list()?;
        let list = self.data.get(field::dns::LIST..).unwrap_or(&[]);
        Ok((lifetime, NameIter::new(list)))
    }

    /// As `dnssl`, the names as a list (the padding cut off).
    pub fn dnssl_list(&self) -> Result<(u32, NameList<'a>), WireError> {
        let list = self.data.get(field::dns::LIST..).unwrap_or(&[]);
        self.expect(&[OptionType::Dnssl], true)?;
        let mut names = NameIter::new(list);
        // At least one name, and all of them (and the padding) well-formed.
        let mut end = names.next().ok_or(WireError::BadOption)??.as_bytes().len();
        for n in names {
            end += n?.as_bytes().len();
        }
        let names = NameList::Wire(list.get(..end).unwrap_or(&[]));
        Ok((read_u32(self.data, field::dns::LIFETIME), names))
    }
}

/// The wire length of an option with `data_len` bytes of data, padded to whole units.
pub(super) fn option_len(data_len: usize) -> Result<usize, WireError> {
    let len = data_len
        .checked_add(OPTION_HDR_LEN + OPTION_UNIT - 1)
        .ok_or(WireError::ValueTooLong)?
        / OPTION_UNIT
        * OPTION_UNIT;
    if len > MAX_OPTION_LEN {
        return Err(WireError::ValueTooLong);
    }
    Ok(len)
}

/// Writes the header of an option with `data_len` bytes of data at the start of `*area`,
/// advances `*area` past the (padded) option and returns its data area, padding included.
/// The area is zeroed already by `start_message`.
fn put_option<'b>(
    area: &mut &'b mut [u8],
    kind: OptionType,
    data_len: usize,
) -> Result<&'b mut [u8], WireError> {
    let len = option_len(data_len)?;
    let (option, rest) = std::mem::take(area)
        .split_at_mut_checked(len)
        .ok_or(WireError::BufferTooSmall)?;
    *area = rest;
    // len <= 2040, so the unit count fits in a byte.
    let units = u8::try_from(len / OPTION_UNIT).map_err(|_| WireError::ValueTooLong)?;
    let (hdr, data) = option
        .split_at_mut_checked(OPTION_HDR_LEN)
        .ok_or(WireError::BufferTooSmall)?;
    write(hdr, 0..2, &[kind.into(), units]);
    Ok(data)
}

pub(super) fn put_link_layer(
    area: &mut &mut [u8],
    kind: OptionType,
    mac: Option<MacAddr>,
) -> Result<(), WireError> {
    if let Some(mac) = mac {
        let data = put_option(area, kind, field::link_layer::ADDR.len())?;
        write(data, field::link_layer::ADDR, &mac.octets());
    }
    Ok(())
}

pub(super) fn link_layer_len(mac: Option<MacAddr>) -> usize {
    if mac.is_some() {
        OPTION_UNIT
    } else {
        0
    }
}

pub(super) fn mtu_len() -> Result<usize, WireError> {
    option_len(field::mtu::LEN)
}

pub(super) fn put_mtu(area: &mut &mut [u8], mtu: u32) -> Result<(), WireError> {
    let data = put_option(area, OptionType::Mtu, field::mtu::LEN)?;
    write_u32(data, field::mtu::MTU, mtu);
    Ok(())
}

pub(super) fn prefix_len() -> Result<usize, WireError> {
    option_len(field::prefix::LEN)
}

pub(super) fn put_prefix(area: &mut &mut [u8], p: &PrefixInfo) -> Result<(), WireError> {
    let data = put_option(area, OptionType::PrefixInfo, field::prefix::LEN)?;
    write_u8(data, field::prefix::PREFIX_LEN, p.prefix_len);
    write_u8(data, field::prefix::FLAGS, p.flags().bits());
    write_u32(data, field::prefix::VALID_LIFETIME, p.valid_lifetime);
    write_u32(
        data,
        field::prefix::PREFERRED_LIFETIME,
        p.preferred_lifetime,
    );
    write(data, field::prefix::PREFIX, &p.prefix.octets());
    Ok(())
}

/// Prefix bytes a Route Information option carries for `prefix_len`: 0, 8 or 16 (the
/// shortest option, RFC 4191 §2.3).
fn route_prefix_bytes(prefix_len: u8) -> usize {
    match prefix_len {
        0 => 0,
        1..=64 => 8,
        _ => 16,
    }
}

/// The wire length of a Route Information option; `BadOption` for a prefix length over 128.
pub(super) fn route_len(prefix_len: u8) -> Result<usize, WireError> {
    if prefix_len > 128 {
        return Err(WireError::BadOption);
    }
    option_len(field::route::PREFIX + route_prefix_bytes(prefix_len))
}

pub(super) fn put_route(area: &mut &mut [u8], r: &RouteInfo) -> Result<(), WireError> {
    let n = route_prefix_bytes(r.prefix_len);
    let data = put_option(area, OptionType::RouteInfo, field::route::PREFIX + n)?;
    write_u8(data, field::route::PREFIX_LEN, r.prefix_len);
    write_u8(
        data,
        field::route::FLAGS,
        r.preference.bits() << ROUTE_PRF_SHIFT,
    );
    write_u32(data, field::route::LIFETIME, r.lifetime);
    let prefix = masked(r.prefix, r.prefix_len).octets();
    write(
        data,
        field::route::PREFIX..field::route::PREFIX + n,
        &prefix[..n],
    );
    Ok(())
}

pub(super) fn pref64_len() -> Result<usize, WireError> {
    option_len(field::pref64::LEN)
}

/// The prefix length code of a PREF64 prefix length; `BadOption` for any other length.
pub(super) fn pref64_plc(prefix_len: u8) -> Result<u16, WireError> {
    let code = PREF64_LENGTHS
        .iter()
        .position(|&l| l == prefix_len)
        .ok_or(WireError::BadOption)?;
    u16::try_from(code).map_err(|_| WireError::BadOption)
}

pub(super) fn put_pref64(area: &mut &mut [u8], p: &Pref64) -> Result<(), WireError> {
    let plc = pref64_plc(p.prefix_len)?;
    let units = p.lifetime.min(MAX_PREF64_LIFETIME).div_ceil(8);
    let data = put_option(area, OptionType::Pref64, field::pref64::LEN)?;
    write(
        data,
        field::pref64::LIFETIME_PLC,
        &(units << 3 | plc).to_be_bytes(),
    );
    let prefix = masked(p.prefix, p.prefix_len).octets();
    write(data, field::pref64::PREFIX, &prefix[..12]);
    Ok(())
}

/// Wire data length of an RDNSS option for `addrs` (lifetime and reserved included).
pub(super) fn rdnss_data_len(addrs: &AddrList<'_>) -> Result<usize, WireError> {
    if addrs.len() > MAX_RDNSS_ADDRS {
        return Err(WireError::ValueTooLong);
    }
    // At most 127 * 16 + 6.
    addrs
        .len()
        .checked_mul(16)
        .and_then(|n| n.checked_add(field::dns::LIST))
        .ok_or(WireError::ValueTooLong)
}

pub(super) fn put_rdnss(
    area: &mut &mut [u8],
    lifetime: u32,
    addrs: &AddrList<'_>,
) -> Result<(), WireError> {
    let data = put_option(area, OptionType::Rdnss, rdnss_data_len(addrs)?)?;
    write_u32(data, field::dns::LIFETIME, lifetime);
    let list = data.get_mut(field::dns::LIST..).unwrap_or_default();
    write_list(list, addrs.iter().map(|a| a.octets()));
    Ok(())
}

/// Wire data length (before padding) of a DNSSL option for `names`, 0 when there are none.
pub(super) fn dnssl_data_len(names: &NameList<'_>) -> Result<usize, WireError> {
    if names.is_empty() {
        return Ok(0);
    }
    names
        .encoded_len()?
        .checked_add(field::dns::LIST)
        .ok_or(WireError::ValueTooLong)
}

pub(super) fn put_dnssl(
    area: &mut &mut [u8],
    lifetime: u32,
    names: &NameList<'_>,
) -> Result<(), WireError> {
    let data = put_option(area, OptionType::Dnssl, dnssl_data_len(names)?)?;
    write_u32(data, field::dns::LIFETIME, lifetime);
    let list = data.get_mut(field::dns::LIST..).unwrap_or_default();
    names.encode(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLLA_VM: [u8; 8] = [1, 1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

    fn vm_mac() -> MacAddr {
        "52:54:00:12:34:56".parse().unwrap()
    }

    fn options_of(area: &[u8]) -> Vec<Result<NdpOption<'_>, WireError>> {
        NdpOptionIter::new(area).collect()
    }

    #[test]
    fn option_iter_zero_length() {
        let area = [1, 1, 0, 0, 0, 0, 0, 0, 7, 0, 1, 1, 0, 0, 0, 0, 0, 0];
        let mut it = NdpOptionIter::new(&area);
        assert_eq!(u8::from(it.next().unwrap().unwrap().kind), 1);
        assert_eq!(it.next(), Some(Err(WireError::BadOption)));
        assert_eq!(it.next(), None);
        assert_eq!(it.next(), None);
        assert_eq!(options_of(&[1, 0]), [Err(WireError::BadOption)]);
    }

    #[test]
    fn option_iter_past_end() {
        // Two units claimed, one present.
        assert_eq!(
            options_of(&SLLA_VM.map(|b| if b == 1 { 2 } else { b })[..]).len(),
            1
        );
        let mut area = SLLA_VM.to_vec();
        area[1] = 2;
        assert_eq!(options_of(&area), [Err(WireError::BadOption)]);
        // A lone byte, or an option header cut short.
        assert_eq!(options_of(&[1]), [Err(WireError::BadOption)]);
        let mut area = SLLA_VM.to_vec();
        area.push(5);
        assert_eq!(options_of(&area).len(), 2);
        assert_eq!(options_of(&area)[1], Err(WireError::BadOption));
        // 255 units claimed in a short area: no overflow, no panic.
        assert_eq!(options_of(&[25, 255, 0, 0]), [Err(WireError::BadOption)]);
    }

    #[test]
    fn option_iter_exactly_at_end() {
        let mut area = SLLA_VM.to_vec();
        area.extend_from_slice(&[5, 1, 0, 0, 0, 0, 5, 0xaa]);
        let opts = options_of(&area);
        assert_eq!(
            opts,
            [
                Ok(NdpOption {
                    kind: 1.into(),
                    data: &SLLA_VM[2..]
                }),
                Ok(NdpOption {
                    kind: 5.into(),
                    data: &[0, 0, 0, 0, 5, 0xaa]
                }),
            ]
        );
        assert_eq!(opts[1].unwrap().mtu(), Ok(1450));
        assert_eq!(options_of(&[]), []);
        // The longest option: 255 units.
        let mut long = vec![0u8; MAX_OPTION_LEN];
        long[0] = 200;
        long[1] = 255;
        let opts = options_of(&long);
        assert_eq!(opts.len(), 1);
        assert_eq!(opts[0].unwrap().data.len(), MAX_OPTION_LEN - 2);
        long.pop();
        assert_eq!(options_of(&long), [Err(WireError::BadOption)]);
    }

    #[test]
    fn option_helpers_check_kind_and_size() {
        fn opt(kind: u8, data: &[u8]) -> NdpOption<'_> {
            NdpOption {
                kind: kind.into(),
                data,
            }
        }
        assert_eq!(opt(1, &SLLA_VM[2..]).link_layer_addr(), Ok(vm_mac()));
        assert_eq!(opt(2, &SLLA_VM[2..]).link_layer_addr(), Ok(vm_mac()));
        assert_eq!(
            opt(5, &SLLA_VM[2..]).link_layer_addr(),
            Err(WireError::BadOption)
        );
        assert_eq!(
            opt(1, &[0; 14]).link_layer_addr(),
            Err(WireError::BadOption)
        );
        assert_eq!(opt(1, &[0; 6]).mtu(), Err(WireError::BadOption));
        assert_eq!(opt(5, &[0; 14]).mtu(), Err(WireError::BadOption));
        let mut prefix = [0u8; 30];
        prefix[0] = 129;
        assert_eq!(opt(3, &prefix).prefix_info(), Err(WireError::BadOption));
        prefix[0] = 128;
        assert_eq!(opt(3, &prefix).prefix_info().unwrap().prefix_len, 128);
        assert_eq!(opt(3, &[0; 22]).prefix_info(), Err(WireError::BadOption));
        // RDNSS: 1 unit (no address) and 2 units (half an address) are malformed.
        assert!(opt(25, &[0; 6]).rdnss().is_err());
        assert!(opt(25, &[0; 14]).rdnss().is_err());
        assert_eq!(opt(25, &[0; 22]).rdnss().unwrap().1.len(), 1);
        assert!(opt(25, &[0; 30]).rdnss().is_err());
        assert!(opt(26, &[0; 22]).rdnss().is_err());
        // DNSSL: no name at all, a pointer, or padding with junk.
        assert!(opt(31, &[0; 6]).dnssl().is_err());
        assert!(opt(31, &[0; 14]).dnssl().is_err());
        let mut d = [0u8; 14];
        d[6] = 1;
        d[7] = b'a';
        assert_eq!(opt(31, &d).dnssl().unwrap().1.count(), 1);
        d[9] = 7;
        assert!(opt(31, &d).dnssl().is_err());
        d[6] = 0xc0;
        assert!(opt(31, &d).dnssl().is_err());
    }
}
