//! Neighbor Discovery (RFC 4861): the Router and Neighbor Solicitations VMs send, the
//! Router and Neighbor Advertisements we answer with, and their options (in `option`;
//! router preference from RFC 4191 §2.2).
//!
//! In the smoltcp manner each message has a checked view (`RsPacket`, `NsPacket`,
//! `NaPacket`, `RaPacket`) whose `new_checked` validates an `Icmpv6` (checksum already
//! verified) once, so its accessors cannot fail, and a representation (`RouterSolicit`,
//! `NeighborSolicit`, `NeighborAdvert`, `RouterAdvert`) with `parse`, `buffer_len` and
//! `emit`. Messages are emitted as a bare ICMPv6 message with a zero checksum, which
//! `frame::emit_ipv6_icmpv6` fills in. pnet's NDP types are not used: they mis-size options
//! and overflow on long ones. Here every option is walked by a bounded iterator, nothing
//! panics and nothing allocates.

use std::net::Ipv6Addr;

use super::bytes::{read, read_u16, read_u32, read_u8, write, write_u16, write_u32, write_u8};
use super::frame::{Icmpv6, Icmpv6Type, ICMPV6_HDR_LEN};
use super::{MacAddr, WireError};

mod option;

use ipnetwork::Ipv6Network;
use option::{
    dnssl_data_len, link_layer_len, mtu_len, option_len, pref64_len, pref64_plc, prefix_len,
    put_dnssl, put_link_layer, put_mtu, put_pref64, put_prefix, put_rdnss, put_route,
    rdnss_data_len, route_len,
};
pub use option::{
    AddrList, Ipv6AddrIter, ListName, NameList, NdpOption, NdpOptionIter, OptionType, Pref64,
    PrefixFlags, PrefixInfo, RouteInfo, MAX_PREF64_LIFETIME, MAX_RDNSS_ADDRS,
};

/// The IPv6 hop limit every NDP message is sent and must arrive with: a router would have
/// decremented it, so 255 proves the sender is on-link (RFC 4861 §6.1, §7.1).
pub const HOP_LIMIT: u8 = 255;

/// Byte offsets relative to the ICMPv6 body (what follows type, code and checksum, as
/// `Icmpv6::body` gives it).
mod field {
    pub type Field = std::ops::Range<usize>;

    /// Router Solicitation, RFC 4861 §4.1: 4 reserved bytes, then options.
    pub mod rs {
        pub const OPTIONS: usize = 4;
    }

    /// Router Advertisement, RFC 4861 §4.2 (flags byte extended by RFC 4191 §2.2).
    pub mod ra {
        use super::Field;
        pub const CUR_HOP_LIMIT: usize = 0;
        pub const FLAGS: usize = 1;
        pub const ROUTER_LIFETIME: Field = 2..4;
        pub const REACHABLE_TIME: Field = 4..8;
        pub const RETRANS_TIMER: Field = 8..12;
        pub const OPTIONS: usize = 12;
    }

    /// Neighbor Solicitation (§4.3) and Advertisement (§4.4): flags (NA only) and 3 or 4
    /// reserved bytes, the target, then options.
    pub mod neighbor {
        use super::Field;
        pub const FLAGS: usize = 0;
        pub const TARGET: Field = 4..20;
        pub const OPTIONS: usize = 20;
    }
}

flag_set! {
    /// Router Advertisement flags (RFC 4861 §4.2); the Prf bits are `Preference`.
    pub struct RaFlags {
        /// M: addresses via DHCPv6.
        const MANAGED = 0x80;
        /// O: other configuration via DHCPv6.
        const OTHER = 0x40;
    }
}

flag_set! {
    /// Neighbor Advertisement flags (RFC 4861 §4.4).
    pub struct NaFlags {
        /// R: the sender is a router.
        const ROUTER = 0x80;
        /// S: an answer to a Neighbor Solicitation.
        const SOLICITED = 0x40;
        /// O: replace a cached link-layer address.
        const OVERRIDE = 0x20;
    }
}

/// Where the Prf bits sit in the RA flags byte (RFC 4191 §2.2).
const RA_PRF_SHIFT: u8 = 3;
const RA_PRF_MASK: u8 = 0x03;

/// Checks type, code, hop limit and minimum body length common to every NDP message, and
/// returns the options area after the fixed part.
///
/// A different type is `WrongProtocol` (the firewall rule queued the wrong thing); a
/// non-zero code, which RFC 4861 tells receivers to discard, is a malformed message:
/// `BadOption`. A hop limit other than 255 is `BadHopLimit`; a short body `Truncated`.
fn check_message<'a>(
    icmp: &Icmpv6<'a>,
    icmp_type: Icmpv6Type,
    fixed: usize,
) -> Result<&'a [u8], WireError> {
    if icmp.icmp_type != icmp_type {
        return Err(WireError::WrongProtocol);
    }
    if icmp.code != 0 {
        return Err(WireError::BadOption);
    }
    if icmp.hop_limit != HOP_LIMIT {
        return Err(WireError::BadHopLimit);
    }
    icmp.body.get(fixed..).ok_or(WireError::Truncated)
}

/// Walks every option of `area` (any malformed one is `BadOption`) and returns the
/// Ethernet address of the one link-layer option of type `kind`, if present. A second
/// one, or one of another size, is `BadOption`.
fn find_link_layer(area: &[u8], kind: OptionType) -> Result<Option<MacAddr>, WireError> {
    let mut found = None;
    for opt in NdpOptionIter::new(area) {
        let opt = opt?;
        if opt.kind == kind {
            if found.is_some() {
                return Err(WireError::BadOption);
            }
            found = Some(opt.link_layer_addr()?);
        }
    }
    Ok(found)
}

/// The solicited-node multicast prefix ff02::1:ff00:0/104 (RFC 4291 §2.7.1).
fn is_solicited_node(addr: &Ipv6Addr) -> bool {
    let o = addr.octets();
    o[..13] == [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff]
}

/// Sizes `buf` to exactly `len` bytes, zeroes it (reserved fields, padding) and writes the
/// ICMPv6 header with a zero checksum; returns the body after it.
fn start_message(
    buf: &mut [u8],
    len: usize,
    icmp_type: Icmpv6Type,
) -> Result<&mut [u8], WireError> {
    let msg = buf.get_mut(..len).ok_or(WireError::BufferTooSmall)?;
    msg.fill(0);
    let (hdr, body) = msg
        .split_at_mut_checked(ICMPV6_HDR_LEN)
        .ok_or(WireError::BufferTooSmall)?;
    write_u8(hdr, 0, icmp_type.into());
    Ok(body)
}

/// A checked Router Solicitation (RFC 4861 §4.1): the options area, walked whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RsPacket<'a> {
    options: &'a [u8],
    source_ll: Option<MacAddr>,
}

impl<'a> RsPacket<'a> {
    /// Validates an RS as RFC 4861 §6.1.1 asks: type 133, code 0 (else `BadOption`), hop
    /// limit 255 (`BadHopLimit`), at least the 4 reserved bytes (`Truncated`), every option
    /// well-formed, at most one Source Link-Layer Address option of 6 bytes, and none when
    /// the source is the unspecified address (`BadOption`).
    pub fn new_checked(icmp: &Icmpv6<'a>) -> Result<Self, WireError> {
        let options = check_message(icmp, Icmpv6Type::RouterSolicit, field::rs::OPTIONS)?;
        let source_ll = find_link_layer(options, OptionType::SourceLinkLayerAddr)?;
        if icmp.src.is_unspecified() && source_ll.is_some() {
            return Err(WireError::BadOption);
        }
        Ok(RsPacket { options, source_ll })
    }

    /// All options, in order (well-formed: `new_checked` walked them).
    pub fn options(&self) -> NdpOptionIter<'a> {
        NdpOptionIter::new(self.options)
    }

    pub fn source_ll(&self) -> Option<MacAddr> {
        self.source_ll
    }
}

/// A Router Solicitation (RFC 4861 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouterSolicit {
    pub source_ll: Option<MacAddr>,
}

impl RouterSolicit {
    /// Parses an RS; errors are those of `RsPacket::new_checked`.
    pub fn parse(icmp: &Icmpv6) -> Result<Self, WireError> {
        let packet = RsPacket::new_checked(icmp)?;
        Ok(RouterSolicit {
            source_ll: packet.source_ll(),
        })
    }

    /// The ICMPv6 message length `emit` writes: 8, or 16 with the SLLA option.
    pub fn buffer_len(&self) -> usize {
        ICMPV6_HDR_LEN + field::rs::OPTIONS + link_layer_len(self.source_ll)
    }

    /// Writes the message (checksum 0) at `buf[0..]`; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, WireError> {
        let len = self.buffer_len();
        let body = start_message(buf, len, Icmpv6Type::RouterSolicit)?;
        let mut options = body.get_mut(field::rs::OPTIONS..).unwrap_or_default();
        put_link_layer(
            &mut options,
            OptionType::SourceLinkLayerAddr,
            self.source_ll,
        )?;
        Ok(len)
    }
}

/// The fixed part shared by NS and NA: a flags byte (reserved in an NS), three reserved
/// bytes and the target.
type NeighborFixed = [u8; field::neighbor::OPTIONS];

fn neighbor_target(fixed: &NeighborFixed) -> Ipv6Addr {
    Ipv6Addr::from(read::<16>(fixed, field::neighbor::TARGET))
}

/// Splits the fixed part of an NS or NA off its options.
fn neighbor_parts<'a>(
    icmp: &Icmpv6<'a>,
    icmp_type: Icmpv6Type,
) -> Result<(&'a NeighborFixed, &'a [u8]), WireError> {
    check_message(icmp, icmp_type, field::neighbor::OPTIONS)?;
    icmp.body
        .split_first_chunk::<{ field::neighbor::OPTIONS }>()
        .ok_or(WireError::Truncated)
}

/// A checked Neighbor Solicitation (RFC 4861 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NsPacket<'a> {
    fixed: &'a NeighborFixed,
    options: &'a [u8],
    source_ll: Option<MacAddr>,
}

impl<'a> NsPacket<'a> {
    /// Validates an NS as RFC 4861 §7.1.1 asks: type 135, code 0 (else `BadOption`), hop
    /// limit 255 (`BadHopLimit`), body of at least 20 bytes (`Truncated`), a target that is
    /// not multicast, every option well-formed, at most one 6-byte Source Link-Layer
    /// Address option; from the unspecified address (duplicate address detection) the
    /// destination must be a solicited-node multicast address and there must be no SLLA
    /// option. Violations are `BadOption`. Other options (DAD's Nonce, RFC 7527) are
    /// ignored.
    pub fn new_checked(icmp: &Icmpv6<'a>) -> Result<Self, WireError> {
        let (fixed, options) = neighbor_parts(icmp, Icmpv6Type::NeighborSolicit)?;
        if neighbor_target(fixed).is_multicast() {
            return Err(WireError::BadOption);
        }
        let source_ll = find_link_layer(options, OptionType::SourceLinkLayerAddr)?;
        if icmp.src.is_unspecified() && (source_ll.is_some() || !is_solicited_node(&icmp.dst)) {
            return Err(WireError::BadOption);
        }
        Ok(NsPacket {
            fixed,
            options,
            source_ll,
        })
    }

    pub fn target(&self) -> Ipv6Addr {
        neighbor_target(self.fixed)
    }

    /// All options, in order (well-formed: `new_checked` walked them).
    pub fn options(&self) -> NdpOptionIter<'a> {
        NdpOptionIter::new(self.options)
    }

    pub fn source_ll(&self) -> Option<MacAddr> {
        self.source_ll
    }
}

/// A Neighbor Solicitation (RFC 4861 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeighborSolicit {
    pub target: Ipv6Addr,
    pub source_ll: Option<MacAddr>,
}

impl NeighborSolicit {
    /// Parses an NS; errors are those of `NsPacket::new_checked`.
    pub fn parse(icmp: &Icmpv6) -> Result<Self, WireError> {
        let packet = NsPacket::new_checked(icmp)?;
        Ok(NeighborSolicit {
            target: packet.target(),
            source_ll: packet.source_ll(),
        })
    }

    /// The ICMPv6 message length `emit` writes: 24, or 32 with the SLLA option.
    pub fn buffer_len(&self) -> usize {
        ICMPV6_HDR_LEN + field::neighbor::OPTIONS + link_layer_len(self.source_ll)
    }

    /// Writes the message (checksum 0) at `buf[0..]`; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, WireError> {
        let len = self.buffer_len();
        let body = start_message(buf, len, Icmpv6Type::NeighborSolicit)?;
        write(body, field::neighbor::TARGET, &self.target.octets());
        let mut options = body.get_mut(field::neighbor::OPTIONS..).unwrap_or_default();
        put_link_layer(
            &mut options,
            OptionType::SourceLinkLayerAddr,
            self.source_ll,
        )?;
        Ok(len)
    }
}

/// A checked Neighbor Advertisement (RFC 4861 §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NaPacket<'a> {
    fixed: &'a NeighborFixed,
    options: &'a [u8],
    target_ll: Option<MacAddr>,
}

impl<'a> NaPacket<'a> {
    /// Validates an NA as RFC 4861 §7.1.2 asks: type 136, code 0 (else `BadOption`), hop
    /// limit 255 (`BadHopLimit`), body of at least 20 bytes (`Truncated`), a target that is
    /// not multicast, S clear when sent to a multicast address, every option well-formed,
    /// at most one 6-byte Target Link-Layer Address option. Violations are `BadOption`.
    pub fn new_checked(icmp: &Icmpv6<'a>) -> Result<Self, WireError> {
        let (fixed, options) = neighbor_parts(icmp, Icmpv6Type::NeighborAdvert)?;
        let flags = NaFlags::from_bits_truncate(read_u8(fixed, field::neighbor::FLAGS));
        let solicited = flags.contains(NaFlags::SOLICITED);
        if neighbor_target(fixed).is_multicast() || (solicited && icmp.dst.is_multicast()) {
            return Err(WireError::BadOption);
        }
        let target_ll = find_link_layer(options, OptionType::TargetLinkLayerAddr)?;
        Ok(NaPacket {
            fixed,
            options,
            target_ll,
        })
    }

    pub fn flags(&self) -> NaFlags {
        NaFlags::from_bits_truncate(read_u8(self.fixed, field::neighbor::FLAGS))
    }

    pub fn target(&self) -> Ipv6Addr {
        neighbor_target(self.fixed)
    }

    /// All options, in order (well-formed: `new_checked` walked them).
    pub fn options(&self) -> NdpOptionIter<'a> {
        NdpOptionIter::new(self.options)
    }

    pub fn target_ll(&self) -> Option<MacAddr> {
        self.target_ll
    }
}

/// A Neighbor Advertisement (RFC 4861 §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeighborAdvert {
    /// R: the sender is a router.
    pub router: bool,
    /// S: an answer to a Neighbor Solicitation.
    pub solicited: bool,
    /// O: replace a cached link-layer address.
    pub override_flag: bool,
    pub target: Ipv6Addr,
    pub target_ll: Option<MacAddr>,
}

impl NeighborAdvert {
    /// Parses an NA; errors are those of `NaPacket::new_checked`.
    pub fn parse(icmp: &Icmpv6) -> Result<Self, WireError> {
        let packet = NaPacket::new_checked(icmp)?;
        let flags = packet.flags();
        Ok(NeighborAdvert {
            router: flags.contains(NaFlags::ROUTER),
            solicited: flags.contains(NaFlags::SOLICITED),
            override_flag: flags.contains(NaFlags::OVERRIDE),
            target: packet.target(),
            target_ll: packet.target_ll(),
        })
    }

    pub fn flags(&self) -> NaFlags {
        NaFlags::EMPTY
            .with(NaFlags::ROUTER, self.router)
            .with(NaFlags::SOLICITED, self.solicited)
            .with(NaFlags::OVERRIDE, self.override_flag)
    }

    /// The ICMPv6 message length `emit` writes: 24, or 32 with the TLLA option.
    pub fn buffer_len(&self) -> usize {
        ICMPV6_HDR_LEN + field::neighbor::OPTIONS + link_layer_len(self.target_ll)
    }

    /// Writes the message (code 0, checksum 0, then flags, target and the Target
    /// Link-Layer Address option when set) at `buf[0..]`; returns its length.
    /// `BufferTooSmall` (and `buf` untouched) if it does not fit.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, WireError> {
        let len = self.buffer_len();
        let body = start_message(buf, len, Icmpv6Type::NeighborAdvert)?;
        write_u8(body, field::neighbor::FLAGS, self.flags().bits());
        write(body, field::neighbor::TARGET, &self.target.octets());
        let mut options = body.get_mut(field::neighbor::OPTIONS..).unwrap_or_default();
        put_link_layer(
            &mut options,
            OptionType::TargetLinkLayerAddr,
            self.target_ll,
        )?;
        Ok(len)
    }
}

/// Default router preference (RFC 4191 §2.2), the Prf bits of an RA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preference {
    Low,
    Medium,
    High,
}

impl Preference {
    /// The two Prf bits: 01 High, 00 Medium, 11 Low.
    pub fn bits(self) -> u8 {
        match self {
            Preference::High => 0b01,
            Preference::Medium => 0b00,
            Preference::Low => 0b11,
        }
    }

    /// From the two Prf bits; the reserved value 10 reads as Medium (RFC 4191 §2.2).
    pub fn from_bits(bits: u8) -> Self {
        match bits & RA_PRF_MASK {
            0b01 => Preference::High,
            0b11 => Preference::Low,
            _ => Preference::Medium,
        }
    }
}

/// The fixed part of an RA body: hop limit, flags, router lifetime, reachable time and
/// retransmission timer.
type RaFixed = [u8; field::ra::OPTIONS];

/// A checked, read-only view of a received Router Advertisement. `new_checked` validates
/// everything once; afterwards the accessors cannot fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RaPacket<'a> {
    fixed: &'a RaFixed,
    options: &'a [u8],
}

impl<'a> RaPacket<'a> {
    /// Validates an RA (RFC 4861 §6.1.2): type 134, code 0 (else `BadOption`), hop limit
    /// 255 (`BadHopLimit`), a 12-byte body at least (`Truncated`), and every option
    /// well-formed, including the contents of SLLA, MTU, Prefix, RDNSS and DNSSL options
    /// (`BadOption`). The source is not required to be link-local here.
    pub fn new_checked(icmp: &Icmpv6<'a>) -> Result<Self, WireError> {
        check_message(icmp, Icmpv6Type::RouterAdvert, field::ra::OPTIONS)?;
        let (fixed, options) = icmp
            .body
            .split_first_chunk::<{ field::ra::OPTIONS }>()
            .ok_or(WireError::Truncated)?;
        let view = RaPacket { fixed, options };
        for opt in view.options() {
            let opt = opt?;
            match opt.kind {
                OptionType::SourceLinkLayerAddr => opt.link_layer_addr().map(drop)?,
                OptionType::Mtu => opt.mtu().map(drop)?,
                OptionType::PrefixInfo => opt.prefix_info().map(drop)?,
                OptionType::Rdnss => opt.rdnss().map(drop)?,
                OptionType::Dnssl => opt.dnssl().map(drop)?,
                // A malformed Route Information or PREF64 option is ignored, not the RA
                // (RFC 4191 §3.1, RFC 8781 §5): their readers skip it.
                _ => {}
            }
        }
        Ok(view)
    }

    pub fn cur_hop_limit(&self) -> u8 {
        read_u8(self.fixed, field::ra::CUR_HOP_LIMIT)
    }

    fn flags_byte(&self) -> u8 {
        read_u8(self.fixed, field::ra::FLAGS)
    }

    /// M and O.
    pub fn flags(&self) -> RaFlags {
        RaFlags::from_bits_truncate(self.flags_byte())
    }

    pub fn managed(&self) -> bool {
        self.flags().contains(RaFlags::MANAGED)
    }

    pub fn other(&self) -> bool {
        self.flags().contains(RaFlags::OTHER)
    }

    pub fn preference(&self) -> Preference {
        Preference::from_bits(self.flags_byte() >> RA_PRF_SHIFT)
    }

    pub fn router_lifetime(&self) -> u16 {
        read_u16(self.fixed, field::ra::ROUTER_LIFETIME)
    }

    pub fn reachable_time(&self) -> u32 {
        read_u32(self.fixed, field::ra::REACHABLE_TIME)
    }

    pub fn retrans_timer(&self) -> u32 {
        read_u32(self.fixed, field::ra::RETRANS_TIMER)
    }

    /// All options, in order (well-formed: `new_checked` walked them).
    pub fn options(&self) -> NdpOptionIter<'a> {
        NdpOptionIter::new(self.options)
    }

    /// The first option of type `kind`.
    pub fn option(&self, kind: OptionType) -> Option<NdpOption<'a>> {
        self.options().flatten().find(|o| o.kind == kind)
    }

    pub fn source_ll(&self) -> Option<MacAddr> {
        self.option(OptionType::SourceLinkLayerAddr)?
            .link_layer_addr()
            .ok()
    }

    pub fn mtu(&self) -> Option<u32> {
        self.option(OptionType::Mtu)?.mtu().ok()
    }

    /// The first Prefix Information option.
    pub fn prefix(&self) -> Option<PrefixInfo> {
        self.option(OptionType::PrefixInfo)?.prefix_info().ok()
    }

    /// The first RDNSS option's lifetime and addresses.
    pub fn rdnss(&self) -> Option<(u32, Ipv6AddrIter<'a>)> {
        self.option(OptionType::Rdnss)?.rdnss().ok()
    }

    /// The first DNSSL option's lifetime and names.
    pub fn dnssl(&self) -> Option<(u32, super::dns::NameIter<'a>)> {
        self.option(OptionType::Dnssl)?.dnssl().ok()
    }

    /// The well-formed Route Information options, in order.
    pub fn routes(&self) -> RouteIter<'a> {
        RouteList::Wire(self.options).iter()
    }

    /// The first well-formed PREF64 option.
    pub fn pref64(&self) -> Option<Pref64> {
        self.options()
            .flatten()
            .filter(|o| o.kind == OptionType::Pref64)
            .find_map(|o| o.pref64().ok())
    }
}

/// The Route Information options of an RA: the caller's networks to send, all with one
/// lifetime and preference, or a received options area, whose well-formed Route
/// Information options they are (borrowed either way: neither emitting nor parsing
/// allocates). Equal when the routes are.
#[derive(Debug, Clone, Copy)]
pub enum RouteList<'a> {
    Nets {
        nets: &'a [Ipv6Network],
        lifetime: u32,
        preference: Preference,
    },
    Wire(&'a [u8]),
}

impl<'a> RouteList<'a> {
    pub const NONE: RouteList<'static> = RouteList::Wire(&[]);

    pub fn iter(&self) -> RouteIter<'a> {
        match *self {
            RouteList::Nets {
                nets,
                lifetime,
                preference,
            } => RouteIter::Nets {
                nets: nets.iter(),
                lifetime,
                preference,
            },
            RouteList::Wire(area) => RouteIter::Wire(NdpOptionIter::new(area)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

impl PartialEq for RouteList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for RouteList<'_> {}

/// The routes of a `RouteList`, in order.
#[derive(Debug, Clone)]
pub enum RouteIter<'a> {
    Nets {
        nets: std::slice::Iter<'a, Ipv6Network>,
        lifetime: u32,
        preference: Preference,
    },
    Wire(NdpOptionIter<'a>),
}

impl Iterator for RouteIter<'_> {
    type Item = RouteInfo;

    fn next(&mut self) -> Option<RouteInfo> {
        match self {
            RouteIter::Nets {
                nets,
                lifetime,
                preference,
            } => nets.next().map(|n| RouteInfo {
                prefix: n.network(),
                prefix_len: n.prefix(),
                preference: *preference,
                lifetime: *lifetime,
            }),
            RouteIter::Wire(opts) => opts
                .by_ref()
                .map_while(Result::ok)
                .filter(|o| o.kind == OptionType::RouteInfo)
                .find_map(|o| o.route_info().ok()),
        }
    }
}

/// A Router Advertisement (RFC 4861 §4.2), to send or as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterAdvert<'a> {
    /// 0: unspecified by this router.
    pub cur_hop_limit: u8,
    /// M: addresses via DHCPv6.
    pub managed: bool,
    /// O: other configuration via DHCPv6.
    pub other: bool,
    pub preference: Preference,
    /// Seconds; 0: not a default router.
    pub router_lifetime: u16,
    /// Milliseconds; 0: unspecified.
    pub reachable_time: u32,
    /// Milliseconds; 0: unspecified.
    pub retrans_timer: u32,
    pub source_ll: Option<MacAddr>,
    pub mtu: Option<u32>,
    pub prefix: Option<PrefixInfo>,
    /// Lifetime (seconds) and servers; omitted when the list is empty.
    pub rdnss: Option<(u32, AddrList<'a>)>,
    /// Lifetime (seconds) and search domains; omitted when the list is empty.
    pub dnssl: Option<(u32, NameList<'a>)>,
    /// Route Information options (RFC 4191), one per route.
    pub routes: RouteList<'a>,
    /// The NAT64 prefix (RFC 8781).
    pub pref64: Option<Pref64>,
}

impl<'a> RouterAdvert<'a> {
    /// Parses an RA through `RaPacket::new_checked` (whose errors these are). Of repeated
    /// options the first counts; the lists borrow from `icmp`.
    pub fn parse(icmp: &Icmpv6<'a>) -> Result<Self, WireError> {
        let p = RaPacket::new_checked(icmp)?;
        Ok(RouterAdvert {
            cur_hop_limit: p.cur_hop_limit(),
            managed: p.managed(),
            other: p.other(),
            preference: p.preference(),
            router_lifetime: p.router_lifetime(),
            reachable_time: p.reachable_time(),
            retrans_timer: p.retrans_timer(),
            source_ll: p.source_ll(),
            mtu: p.mtu(),
            prefix: p.prefix(),
            rdnss: p
                .option(OptionType::Rdnss)
                .and_then(|o| o.rdnss_list().ok()),
            dnssl: p
                .option(OptionType::Dnssl)
                .and_then(|o| o.dnssl_list().ok()),
            routes: RouteList::Wire(p.options),
            pref64: p.pref64(),
        })
    }

    pub fn flags(&self) -> RaFlags {
        RaFlags::EMPTY
            .with(RaFlags::MANAGED, self.managed)
            .with(RaFlags::OTHER, self.other)
    }

    fn rdnss_addrs(&self) -> AddrList<'a> {
        self.rdnss.map(|(_, a)| a).unwrap_or(AddrList::Addrs(&[]))
    }

    fn dnssl_names(&self) -> NameList<'a> {
        self.dnssl.map(|(_, n)| n).unwrap_or(NameList::Text(&[]))
    }

    /// The ICMPv6 message length `emit` writes. Errors: `ValueTooLong` for more than 127
    /// RDNSS addresses or a DNSSL option over 2040 bytes; `BadOption`/`ValueTooLong` for a
    /// search domain `dns::encoded_len` refuses; `BadOption` for a route's prefix length
    /// over 128 or a PREF64 prefix length other than 96, 64, 56, 48, 40 and 32.
    pub fn buffer_len(&self) -> Result<usize, WireError> {
        let mut len = ICMPV6_HDR_LEN + field::ra::OPTIONS + link_layer_len(self.source_ll);
        if self.mtu.is_some() {
            len += mtu_len()?;
        }
        if self.prefix.is_some() {
            len += prefix_len()?;
        }
        // Each term is at most 2040 bytes, so these cannot overflow; checked regardless.
        let addrs = self.rdnss_addrs();
        let rdnss = match addrs.is_empty() {
            true => 0,
            false => option_len(rdnss_data_len(&addrs)?)?,
        };
        len = len.checked_add(rdnss).ok_or(WireError::ValueTooLong)?;
        let dnssl = match dnssl_data_len(&self.dnssl_names())? {
            0 => 0,
            data => option_len(data)?,
        };
        len = len.checked_add(dnssl).ok_or(WireError::ValueTooLong)?;
        for r in self.routes.iter() {
            len = len
                .checked_add(route_len(r.prefix_len)?)
                .ok_or(WireError::ValueTooLong)?;
        }
        if let Some(p) = &self.pref64 {
            pref64_plc(p.prefix_len)?;
            len += pref64_len()?;
        }
        Ok(len)
    }

    /// Writes the ICMPv6 message (type 134, code 0, checksum 0 — emit_ipv6_icmpv6 fills
    /// it — then the body and the options in the order SLLA, MTU, Prefix, RDNSS, DNSSL,
    /// Route Information (RFC 4191 §2.3, as short as the prefix length allows), PREF64) at
    /// `buf[0..]`; returns its length. RDNSS and DNSSL are omitted when their list is
    /// empty; DNSSL is padded with zeros to a multiple of 8 bytes (RFC 8106 §5.2).
    /// Errors: those of `buffer_len`, `BadOption` for a prefix length over 128,
    /// `BufferTooSmall`; `buf` is untouched on error.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, WireError> {
        if self.prefix.is_some_and(|p| p.prefix_len > 128) {
            return Err(WireError::BadOption);
        }
        let len = self.buffer_len()?;
        let body = start_message(buf, len, Icmpv6Type::RouterAdvert)?;
        self.write_fixed(body);
        let mut options = body.get_mut(field::ra::OPTIONS..).unwrap_or_default();
        put_link_layer(
            &mut options,
            OptionType::SourceLinkLayerAddr,
            self.source_ll,
        )?;
        if let Some(mtu) = self.mtu {
            put_mtu(&mut options, mtu)?;
        }
        if let Some(p) = &self.prefix {
            put_prefix(&mut options, p)?;
        }
        if let Some((lifetime, addrs)) = self.rdnss.filter(|(_, a)| !a.is_empty()) {
            put_rdnss(&mut options, lifetime, &addrs)?;
        }
        if let Some((lifetime, names)) = self.dnssl.filter(|(_, n)| !n.is_empty()) {
            put_dnssl(&mut options, lifetime, &names)?;
        }
        for r in self.routes.iter() {
            put_route(&mut options, &r)?;
        }
        if let Some(p) = &self.pref64 {
            put_pref64(&mut options, p)?;
        }
        Ok(len)
    }

    fn write_fixed(&self, body: &mut [u8]) {
        let flags = self.flags().bits() | self.preference.bits() << RA_PRF_SHIFT;
        write_u8(body, field::ra::CUR_HOP_LIMIT, self.cur_hop_limit);
        write_u8(body, field::ra::FLAGS, flags);
        write_u16(body, field::ra::ROUTER_LIFETIME, self.router_lifetime);
        write_u32(body, field::ra::REACHABLE_TIME, self.reachable_time);
        write_u32(body, field::ra::RETRANS_TIMER, self.retrans_timer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::frame::ipv6_fixtures::{NA_FRAME_BYTES, NS_BYTES, NS_DAD_BYTES, RS_BYTES};
    use crate::wire::frame::{
        self, emit_ipv6_icmpv6, parse_icmpv6, Ipv6Header, ETH_HDR_LEN, IPV6_PAYLOAD_OFFSET,
    };

    /// Built by scapy 2.5.0 and checked by hand against RFC 4861/8106, field by field:
    /// `Ether(src="02:00:5e:10:00:01", dst="33:33:00:00:00:01") / IPv6(src=
    /// "fe80::5eff:fe10:1", dst="ff02::1", hlim=255) / ICMPv6ND_RA(chlim=64, M=0, O=1,
    /// prf=1, routerlifetime=1800) / ICMPv6NDOptSrcLLAddr(lladdr="02:00:5e:10:00:01") /
    /// ICMPv6NDOptMTU(mtu=1450) / ICMPv6NDOptPrefixInfo(prefixlen=64, L=1, A=1, R=1,
    /// validlifetime=0xffffffff, preferredlifetime=0xffffffff, prefix="2001:db8:1::1") /
    /// ICMPv6NDOptRDNSS(lifetime=1800, dns=["2001:db8::53", "2001:db8::5353"]) /
    /// ICMPv6NDOptDNSSL(lifetime=1800, searchlist=["example.org.", "vm.example.org."])`.
    #[rustfmt::skip]
    static RA_FRAME_BYTES: [u8; 198] = [
        // Ethernet: all-nodes MAC, host MAC, IPv6.
        0x33, 0x33, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, 0x86, 0xdd,
        // IPv6: payload 144, ICMPv6, hop limit 255, fe80::5eff:fe10:1 -> ff02::1.
        0x60, 0x00, 0x00, 0x00, 0x00, 0x90, 0x3a, 0xff,
        0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5e, 0xff, 0xfe, 0x10, 0x00, 0x01,
        0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        // RA: type 134, code 0, checksum; hop limit 64; O=1, Prf=01 (High); lifetime 1800;
        // reachable 0; retrans 0.
        0x86, 0x00, 0xef, 0x69, 0x40, 0x48, 0x07, 0x08,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        // SLLA: type 1, 1 unit, 02:00:5e:10:00:01.
        0x01, 0x01, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01,
        // MTU: type 5, 1 unit, reserved, 1450.
        0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05, 0xaa,
        // Prefix: type 3, 4 units, /64, L A R; valid and preferred infinite; reserved;
        // 2001:db8:1::1.
        0x03, 0x04, 0x40, 0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        // RDNSS: type 25, 5 units, reserved, lifetime 1800, two addresses.
        0x19, 0x05, 0x00, 0x00, 0x00, 0x00, 0x07, 0x08,
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x53,
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x53, 0x53,
        // DNSSL: type 31, 5 units, reserved, lifetime 1800, example.org, vm.example.org,
        // 3 bytes of zero padding.
        0x1f, 0x05, 0x00, 0x00, 0x00, 0x00, 0x07, 0x08,
        0x07, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 0x03, b'o', b'r', b'g', 0x00,
        0x02, b'v', b'm', 0x07, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 0x03, b'o', b'r', b'g', 0x00,
        0x00, 0x00, 0x00,
    ];

    fn host_mac() -> MacAddr {
        "02:00:5e:10:00:01".parse().unwrap()
    }

    fn vm_mac() -> MacAddr {
        "52:54:00:12:34:56".parse().unwrap()
    }

    fn addr(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn vm_ll() -> Ipv6Addr {
        addr("fe80::1bba:bfd7:b741:fbbe")
    }

    fn host_ll() -> Ipv6Addr {
        addr("fe80::5eff:fe10:1")
    }

    /// An ICMPv6 message as parse_icmpv6 would hand it over, for hand-made bodies.
    fn icmp(icmp_type: u8, src: Ipv6Addr, dst: Ipv6Addr, body: &[u8]) -> Icmpv6<'_> {
        Icmpv6 {
            src,
            dst,
            hop_limit: 255,
            icmp_type: Icmpv6Type::from(icmp_type),
            code: 0,
            body,
        }
    }

    fn rs_body(options: &[u8]) -> Vec<u8> {
        let mut b = vec![0; 4];
        b.extend_from_slice(options);
        b
    }

    fn ns_body(target: Ipv6Addr, options: &[u8]) -> Vec<u8> {
        let mut b = vec![0; 4];
        b.extend_from_slice(&target.octets());
        b.extend_from_slice(options);
        b
    }

    const SLLA_VM: [u8; 8] = [1, 1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn scapy_ra<'a>(dns: &'a [Ipv6Addr], domains: &'a [String]) -> RouterAdvert<'a> {
        RouterAdvert {
            cur_hop_limit: 64,
            managed: false,
            other: true,
            preference: Preference::High,
            router_lifetime: 1800,
            reachable_time: 0,
            retrans_timer: 0,
            source_ll: Some(host_mac()),
            mtu: Some(1450),
            prefix: Some(PrefixInfo {
                prefix: addr("2001:db8:1::1"),
                prefix_len: 64,
                on_link: true,
                autonomous: true,
                router_address: true,
                valid_lifetime: u32::MAX,
                preferred_lifetime: u32::MAX,
            }),
            rdnss: Some((1800, dns.into())),
            dnssl: Some((1800, domains.into())),
            routes: RouteList::NONE,
            pref64: None,
        }
    }

    fn scapy_dns() -> [Ipv6Addr; 2] {
        [addr("2001:db8::53"), addr("2001:db8::5353")]
    }

    /// Emits `msg` (already at buf[54..]) in a frame from the host to `dst` and parses it
    /// back, checksum verified.
    fn framed(buf: &mut [u8], icmp_len: usize, src: Ipv6Addr, dst: Ipv6Addr) -> usize {
        let hdr = Ipv6Header {
            src_mac: host_mac(),
            dst_mac: frame::ipv6_multicast_mac(&dst),
            src_ip: src,
            dst_ip: dst,
            hop_limit: HOP_LIMIT,
        };
        emit_ipv6_icmpv6(buf, &hdr, icmp_len).unwrap()
    }

    fn options_of(area: &[u8]) -> Vec<Result<NdpOption<'_>, WireError>> {
        NdpOptionIter::new(area).collect()
    }

    #[test]
    fn deconstruct_rs() {
        let icmp = parse_icmpv6(&RS_BYTES).unwrap();
        let rs = RouterSolicit::parse(&icmp).unwrap();
        assert_eq!(rs.source_ll, Some(vm_mac()));
    }

    #[test]
    fn deconstruct_ns() {
        let ns = NeighborSolicit::parse(&parse_icmpv6(&NS_BYTES).unwrap()).unwrap();
        assert_eq!(
            ns,
            NeighborSolicit {
                target: addr("fe80::1"),
                source_ll: Some(vm_mac())
            }
        );
        // DAD: from ::, no SLLA, a Nonce option that is skipped.
        let icmp = parse_icmpv6(&NS_DAD_BYTES).unwrap();
        let dad = NeighborSolicit::parse(&icmp).unwrap();
        assert_eq!(dad.target, vm_ll());
        assert_eq!(dad.source_ll, None);
        let opts = options_of(&icmp.body[20..]);
        assert_eq!(
            opts,
            [Ok(NdpOption {
                kind: 14.into(),
                data: &[0x19, 0x92, 0x9e, 0x51, 0x1f, 0xfb]
            })]
        );
    }

    #[test]
    fn deconstruct_ra() {
        let icmp = parse_icmpv6(&RA_FRAME_BYTES[ETH_HDR_LEN..]).unwrap();
        let ra = RaPacket::new_checked(&icmp).unwrap();
        assert_eq!(ra.cur_hop_limit(), 64);
        assert!(!ra.managed());
        assert!(ra.other());
        assert_eq!(ra.preference(), Preference::High);
        assert_eq!(ra.router_lifetime(), 1800);
        assert_eq!((ra.reachable_time(), ra.retrans_timer()), (0, 0));
        assert_eq!(ra.source_ll(), Some(host_mac()));
        assert_eq!(ra.mtu(), Some(1450));
        assert_eq!(ra.prefix(), scapy_ra(&[], &[]).prefix);
        let (lifetime, dns) = ra.rdnss().unwrap();
        assert_eq!(lifetime, 1800);
        assert_eq!(dns.len(), 2);
        assert_eq!(dns.collect::<Vec<_>>(), scapy_dns());
        let (lifetime, domains) = ra.dnssl().unwrap();
        assert_eq!(lifetime, 1800);
        let domains: Vec<String> = domains.map(|n| n.unwrap().to_string()).collect();
        assert_eq!(domains, ["example.org", "vm.example.org"]);
        let kinds: Vec<u8> = ra.options().map(|o| o.unwrap().kind.into()).collect();
        assert_eq!(kinds, [1, 5, 3, 25, 31]);
    }

    /// The repr parsed from the scapy RA is the repr that emits it, lists included.
    #[test]
    fn parse_ra() {
        let icmp = parse_icmpv6(&RA_FRAME_BYTES[ETH_HDR_LEN..]).unwrap();
        let dns = scapy_dns();
        let domains = names(&["example.org.", "vm.example.org"]);
        let ra = RouterAdvert::parse(&icmp).unwrap();
        assert_eq!(ra, scapy_ra(&dns, &domains));
        let (_, names) = ra.dnssl.unwrap();
        let got: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        assert_eq!(got, ["example.org", "vm.example.org"]);
        // Emitting the parsed repr gives the same bytes back.
        let mut buf = [0xa5u8; 300];
        let len = ra.emit(&mut buf[IPV6_PAYLOAD_OFFSET..]).unwrap();
        let frame_len = framed(&mut buf, len, host_ll(), addr("ff02::1"));
        assert_eq!(&buf[..frame_len], &RA_FRAME_BYTES[..]);
    }

    #[test]
    fn deconstruct_na() {
        let icmp = parse_icmpv6(&NA_FRAME_BYTES[ETH_HDR_LEN..]).unwrap();
        assert_eq!(
            NeighborAdvert::parse(&icmp).unwrap(),
            NeighborAdvert {
                router: true,
                solicited: true,
                override_flag: false,
                target: addr("fe80::1"),
                target_ll: Some(host_mac()),
            }
        );
    }

    #[test]
    fn construct_ra() {
        let dns = scapy_dns();
        let domains = names(&["example.org.", "vm.example.org"]);
        let ra = scapy_ra(&dns, &domains);
        let mut buf = [0xa5u8; 300];
        let len = ra.emit(&mut buf[IPV6_PAYLOAD_OFFSET..]).unwrap();
        assert_eq!(Ok(len), ra.buffer_len());
        assert_eq!(len, 144);
        assert_eq!(buf[IPV6_PAYLOAD_OFFSET + len], 0xa5);
        let frame_len = framed(&mut buf, len, host_ll(), addr("ff02::1"));
        assert_eq!(&buf[..frame_len], &RA_FRAME_BYTES[..]);
        assert!(buf[frame_len..].iter().all(|&b| b == 0xa5));
    }

    #[test]
    fn construct_na() {
        let na = NeighborAdvert {
            router: true,
            solicited: true,
            override_flag: false,
            target: addr("fe80::1"),
            target_ll: Some(host_mac()),
        };
        let mut buf = [0xa5u8; 120];
        let len = na.emit(&mut buf[IPV6_PAYLOAD_OFFSET..]).unwrap();
        assert_eq!(len, na.buffer_len());
        assert_eq!(len, 32);
        let hdr = Ipv6Header {
            src_mac: host_mac(),
            dst_mac: vm_mac(),
            src_ip: host_ll(),
            dst_ip: vm_ll(),
            hop_limit: 255,
        };
        let frame_len = emit_ipv6_icmpv6(&mut buf, &hdr, len).unwrap();
        assert_eq!(&buf[..frame_len], &NA_FRAME_BYTES[..]);
        assert!(buf[frame_len..].iter().all(|&b| b == 0xa5));
    }

    /// Our RS and NS emitters reproduce the kernel's messages byte for byte.
    #[test]
    fn construct_rs_ns_like_kernel() {
        let mut buf = [0xa5u8; 120];
        let rs = RouterSolicit {
            source_ll: Some(vm_mac()),
        };
        let len = rs.emit(&mut buf[IPV6_PAYLOAD_OFFSET..]).unwrap();
        assert_eq!(len, rs.buffer_len());
        let hdr = Ipv6Header {
            src_mac: vm_mac(),
            dst_mac: frame::ipv6_multicast_mac(&addr("ff02::2")),
            src_ip: vm_ll(),
            dst_ip: addr("ff02::2"),
            hop_limit: 255,
        };
        let frame_len = emit_ipv6_icmpv6(&mut buf, &hdr, len).unwrap();
        assert_eq!(&buf[ETH_HDR_LEN..frame_len], &RS_BYTES[..]);

        let ns = NeighborSolicit {
            target: addr("fe80::1"),
            source_ll: Some(vm_mac()),
        };
        let len = ns.emit(&mut buf[IPV6_PAYLOAD_OFFSET..]).unwrap();
        assert_eq!(len, ns.buffer_len());
        let dst = addr("ff02::1:ff00:1");
        let hdr = Ipv6Header {
            dst_mac: frame::ipv6_multicast_mac(&dst),
            dst_ip: dst,
            ..hdr
        };
        let frame_len = emit_ipv6_icmpv6(&mut buf, &hdr, len).unwrap();
        assert_eq!(&buf[ETH_HDR_LEN..frame_len], &NS_BYTES[..]);
    }

    #[test]
    fn emit_ra_then_parse() {
        let dns = [addr("2001:db8::1")];
        let domains = names(&["a", "b.c"]);
        for preference in [Preference::Low, Preference::Medium, Preference::High] {
            for (managed, other) in [(false, false), (true, false), (false, true), (true, true)] {
                let ra = RouterAdvert {
                    managed,
                    other,
                    preference,
                    source_ll: None,
                    mtu: None,
                    prefix: None,
                    reachable_time: 30000,
                    retrans_timer: 1000,
                    ..scapy_ra(&dns, &domains)
                };
                let mut buf = [0xa5u8; 200];
                let len = ra.emit(&mut buf[IPV6_PAYLOAD_OFFSET..]).unwrap();
                let frame_len = framed(&mut buf, len, host_ll(), vm_ll());
                let icmp = parse_icmpv6(&buf[ETH_HDR_LEN..frame_len]).unwrap();
                let view = RaPacket::new_checked(&icmp).unwrap();
                assert_eq!((view.managed(), view.other()), (managed, other));
                assert_eq!(view.preference(), preference);
                assert_eq!(view.reachable_time(), 30000);
                assert_eq!(view.retrans_timer(), 1000);
                assert_eq!(
                    (view.source_ll(), view.mtu(), view.prefix()),
                    (None, None, None)
                );
                assert_eq!(view.rdnss().unwrap().1.collect::<Vec<_>>(), dns);
                let (_, got) = view.dnssl().unwrap();
                let got: Vec<String> = got.map(|n| n.unwrap().to_string()).collect();
                assert_eq!(got, domains);
            }
        }
    }

    #[test]
    fn emit_ra_minimal() {
        let ra = RouterAdvert {
            source_ll: None,
            mtu: None,
            prefix: None,
            rdnss: None,
            dnssl: None,
            preference: Preference::Medium,
            ..scapy_ra(&[], &[])
        };
        let mut buf = [0xa5u8; 20];
        assert_eq!(ra.emit(&mut buf), Ok(16));
        assert_eq!(
            &buf[..16],
            &[134, 0, 0, 0, 64, 0x40, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(&buf[16..], &[0xa5; 4]);
        // Empty lists are left out, not sent as empty options.
        let empty = RouterAdvert {
            rdnss: Some((1800, AddrList::Addrs(&[]))),
            dnssl: Some((1800, NameList::Text(&[]))),
            ..ra.clone()
        };
        assert_eq!(empty.buffer_len(), Ok(16));
        let mut buf2 = [0xa5u8; 20];
        assert_eq!(empty.emit(&mut buf2), Ok(16));
        assert_eq!(buf, buf2);
    }

    #[test]
    fn emit_ra_dnssl_padding() {
        // "a" is 3 bytes: 2 + 6 + 3 = 11, padded to 16.
        let domains = names(&["a"]);
        let ra = RouterAdvert {
            source_ll: None,
            mtu: None,
            prefix: None,
            rdnss: None,
            ..scapy_ra(&[], &domains)
        };
        let mut buf = [0xa5u8; 40];
        assert_eq!(ra.emit(&mut buf), Ok(32));
        assert_eq!(
            &buf[16..32],
            &[31, 2, 0, 0, 0, 0, 0x07, 0x08, 1, b'a', 0, 0, 0, 0, 0, 0]
        );
        // No padding when type, length, reserved, lifetime and names make whole units:
        // 8 + 8 ("abcdef" encodes to 8 bytes).
        let domains = names(&["abcdef"]);
        let ra = RouterAdvert {
            dnssl: Some((5, (&domains).into())),
            ..ra
        };
        assert_eq!(ra.emit(&mut buf), Ok(32));
        assert_eq!(buf[17], 2);
        assert_eq!(
            &buf[16..32],
            &[31, 2, 0, 0, 0, 0, 0, 5, 6, b'a', b'b', b'c', b'd', b'e', b'f', 0]
        );
    }

    /// Route Information options built by scapy 2.5.0 (`ICMPv6NDOptRouteInfo(len=2,
    /// plen=48, rtlifetime=1800, prefix="2001:db8:100::")`, then `len=1, plen=0,
    /// prefix="::"` and `len=3, plen=128, prefix="2001:db8:300::1"`, each prf=0, the
    /// medium preference), checked against RFC 4191 §2.3; then a PREF64 option, which
    /// scapy 2.5.0 does not know, written by hand from RFC 8781 §4's figure: scaled
    /// lifetime 75 (600 s) and PLC 0 (/96) in one 16-bit word, 0x0258, and the highest 96
    /// bits of 2001:db8:64::/96.
    #[rustfmt::skip]
    static RA_ROUTES_PREF64_OPTIONS: [u8; 64] = [
        // RIO: type 24, 2 units, /48, Prf 00, lifetime 1800, 8 bytes of prefix.
        0x18, 0x02, 0x30, 0x00, 0x00, 0x00, 0x07, 0x08,
        0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0x00, 0x00,
        // RIO: type 24, 1 unit, /0 (a default route), lifetime 1800, no prefix bytes.
        0x18, 0x01, 0x00, 0x00, 0x00, 0x00, 0x07, 0x08,
        // RIO: type 24, 3 units, /128, lifetime 1800, the whole address.
        0x18, 0x03, 0x80, 0x00, 0x00, 0x00, 0x07, 0x08,
        0x20, 0x01, 0x0d, 0xb8, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        // PREF64: type 38, 2 units, 75 << 3 | 0, 2001:db8:64::/96's 12 bytes.
        0x26, 0x02, 0x02, 0x58, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    fn bare_ra<'a>() -> RouterAdvert<'a> {
        RouterAdvert {
            source_ll: None,
            mtu: None,
            prefix: None,
            rdnss: None,
            dnssl: None,
            preference: Preference::Medium,
            ..scapy_ra(&[], &[])
        }
    }

    fn route_nets() -> Vec<Ipv6Network> {
        ["2001:db8:100::/48", "::/0", "2001:db8:300::1/128"]
            .iter()
            .map(|n| n.parse().unwrap())
            .collect()
    }

    fn doc_pref64() -> Pref64 {
        Pref64 {
            prefix: addr("2001:db8:64::"),
            prefix_len: 96,
            lifetime: 600,
        }
    }

    #[test]
    fn construct_ra_routes_and_pref64() {
        let nets = route_nets();
        let ra = RouterAdvert {
            routes: RouteList::Nets {
                nets: &nets,
                lifetime: 1800,
                preference: Preference::Medium,
            },
            pref64: Some(doc_pref64()),
            ..bare_ra()
        };
        let mut buf = [0xa5u8; 100];
        assert_eq!(ra.buffer_len(), Ok(16 + 64));
        assert_eq!(ra.emit(&mut buf), Ok(16 + 64));
        assert_eq!(&buf[16..80], &RA_ROUTES_PREF64_OPTIONS[..]);
        assert!(buf[80..].iter().all(|&b| b == 0xa5));
        // Parsed back: the same repr (routes compare by content), and the view's readers.
        let m = icmp(134, host_ll(), vm_ll(), &buf[4..80]);
        assert_eq!(RouterAdvert::parse(&m).unwrap(), ra);
        let view = RaPacket::new_checked(&m).unwrap();
        let got: Vec<_> = view.routes().collect();
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[2],
            RouteInfo {
                prefix: addr("2001:db8:300::1"),
                prefix_len: 128,
                preference: Preference::Medium,
                lifetime: 1800,
            }
        );
        assert_eq!(view.pref64(), Some(doc_pref64()));
        // Without routes and PREF64 nothing is added.
        assert_eq!(bare_ra().buffer_len(), Ok(16));
    }

    #[test]
    fn route_info_is_as_short_as_its_prefix_and_cleared_past_it() {
        let nets: Vec<Ipv6Network> = vec![Ipv6Network::new(addr("2001:db8:1:2:3::"), 64).unwrap()];
        let ra = RouterAdvert {
            routes: RouteList::Nets {
                nets: &nets,
                lifetime: 7,
                preference: Preference::High,
            },
            ..bare_ra()
        };
        let mut buf = [0xa5u8; 40];
        assert_eq!(ra.emit(&mut buf), Ok(32));
        assert_eq!(
            &buf[16..32],
            &[24, 2, 64, 0x08, 0, 0, 0, 7, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2]
        );
        // /65 needs three units; the bits past the length are not sent.
        let r = RouteInfo {
            prefix: addr("2001:db8:1:2:ffff::"),
            prefix_len: 65,
            preference: Preference::Low,
            lifetime: 1,
        };
        let mut area = [0xa5u8; 24];
        option::put_route(&mut &mut area[..], &r).unwrap();
        assert_eq!(&area[..4], &[24, 3, 65, 0x18]);
        assert_eq!(&area[16..18], &[0x80, 0]);
        let opt = NdpOptionIter::new(&area).next().unwrap().unwrap();
        assert_eq!(
            opt.route_info().unwrap().prefix,
            addr("2001:db8:1:2:8000::")
        );
    }

    #[test]
    fn malformed_route_info_and_pref64_are_ignored_not_the_ra() {
        let mut body = vec![64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0];
        // /65 in 2 units, /1 in 1 unit, 4 units, PREF64 with PLC 6, PREF64 of 3 units.
        body.extend_from_slice(&[24, 2, 65, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        body.extend_from_slice(&[24, 1, 1, 0, 0, 0, 0, 1]);
        body.extend_from_slice(&[24, 4, 0, 0, 0, 0, 0, 1]);
        body.extend_from_slice(&[0; 24]);
        body.extend_from_slice(&[38, 2, 0, 6]);
        body.extend_from_slice(&[0; 12]);
        body.extend_from_slice(&[38, 3, 0, 0]);
        body.extend_from_slice(&[0; 20]);
        // And one good route after them.
        body.extend_from_slice(&RA_ROUTES_PREF64_OPTIONS[16..24]);
        let m = icmp(134, host_ll(), vm_ll(), &body);
        let view = RaPacket::new_checked(&m).unwrap();
        let routes: Vec<_> = view.routes().collect();
        assert_eq!(routes.len(), 1);
        assert_eq!((routes[0].prefix_len, routes[0].lifetime), (0, 1800));
        assert_eq!(view.pref64(), None);
    }

    #[test]
    fn pref64_lengths_and_lifetimes() {
        for (code, len) in [96u8, 64, 56, 48, 40, 32].into_iter().enumerate() {
            let p = Pref64 {
                prefix: addr("2001:db8::"),
                prefix_len: len,
                lifetime: 65535,
            };
            let ra = RouterAdvert {
                pref64: Some(p),
                ..bare_ra()
            };
            let mut buf = [0xa5u8; 32];
            assert_eq!(ra.emit(&mut buf), Ok(32));
            // 65535 s is more than the option holds: 8191 units.
            let word = u16::from_be_bytes([buf[18], buf[19]]);
            assert_eq!((word >> 3, usize::from(word & 7)), (8191, code));
            let m = icmp(134, host_ll(), vm_ll(), &buf[4..32]);
            let got = RaPacket::new_checked(&m).unwrap().pref64().unwrap();
            assert_eq!(
                got,
                Pref64 {
                    lifetime: MAX_PREF64_LIFETIME,
                    ..p
                }
            );
        }
        // Lifetimes round up to 8 s.
        let ra = RouterAdvert {
            pref64: Some(Pref64 {
                lifetime: 601,
                ..doc_pref64()
            }),
            ..bare_ra()
        };
        let mut buf = [0xa5u8; 32];
        ra.emit(&mut buf).unwrap();
        assert_eq!(u16::from_be_bytes([buf[18], buf[19]]) >> 3, 76);
        // Other lengths are refused, and nothing is written.
        for bad in [0u8, 16, 60, 80, 128] {
            let ra = RouterAdvert {
                pref64: Some(Pref64 {
                    prefix_len: bad,
                    ..doc_pref64()
                }),
                ..bare_ra()
            };
            let mut buf = [0xa5u8; 40];
            assert_eq!(ra.emit(&mut buf), Err(WireError::BadOption), "/{bad}");
            assert!(buf.iter().all(|&b| b == 0xa5));
        }
    }

    #[test]
    fn emit_ra_errors() {
        let base = RouterAdvert {
            source_ll: None,
            mtu: None,
            prefix: None,
            rdnss: None,
            dnssl: None,
            ..scapy_ra(&[], &[])
        };
        let mut buf = vec![0xa5u8; 4096];
        // RDNSS: 127 addresses fill 255 units; 128 do not fit.
        let many = vec![addr("2001:db8::53"); 128];
        let ra = RouterAdvert {
            rdnss: Some((1, many[..127].into())),
            ..base.clone()
        };
        assert_eq!(ra.emit(&mut buf), Ok(16 + 2040));
        assert_eq!(buf[17], 255);
        let ra = RouterAdvert {
            rdnss: Some((1, (&many).into())),
            ..base.clone()
        };
        assert_eq!(ra.buffer_len(), Err(WireError::ValueTooLong));
        // DNSSL over 2040 bytes: 8 names of 255 bytes.
        let l63 = "a".repeat(63);
        let long = format!("{l63}.{l63}.{l63}.{}", "b".repeat(61));
        let domains = vec![long; 9];
        let ra = RouterAdvert {
            dnssl: Some((1, domains[..8].into())),
            ..base.clone()
        };
        // 6 + 8 * 255 = 2046 > 2038.
        assert_eq!(ra.emit(&mut buf), Err(WireError::ValueTooLong));
        let ra = RouterAdvert {
            dnssl: Some((1, domains[..7].into())),
            ..base.clone()
        };
        // 8 + 7 * 255 = 1793, padded to 1800.
        assert_eq!(ra.emit(&mut buf), Ok(16 + 1800));
        let bad = names(&["ok.org", "bad..org"]);
        let ra = RouterAdvert {
            dnssl: Some((1, (&bad).into())),
            ..base.clone()
        };
        assert_eq!(ra.emit(&mut buf), Err(WireError::BadOption));
        let ra = RouterAdvert {
            prefix: Some(PrefixInfo {
                prefix_len: 129,
                ..scapy_ra(&[], &[]).prefix.unwrap()
            }),
            ..base.clone()
        };
        assert_eq!(ra.emit(&mut buf), Err(WireError::BadOption));
        // Too small a buffer: nothing written.
        let ra = scapy_ra(&[], &[]);
        let mut small = [0xa5u8; 63];
        assert_eq!(ra.buffer_len(), Ok(64));
        assert_eq!(ra.emit(&mut small), Err(WireError::BufferTooSmall));
        assert!(small.iter().all(|&b| b == 0xa5));
    }

    #[test]
    fn emit_na_then_parse() {
        for flags in 0..8u8 {
            for target_ll in [None, Some(host_mac())] {
                let na = NeighborAdvert {
                    router: flags & 1 != 0,
                    solicited: flags & 2 != 0,
                    override_flag: flags & 4 != 0,
                    target: addr("2001:db8:1::7"),
                    target_ll,
                };
                let mut buf = [0xa5u8; 100];
                let len = na.emit(&mut buf[IPV6_PAYLOAD_OFFSET..]).unwrap();
                assert_eq!(len, if target_ll.is_some() { 32 } else { 24 });
                let frame_len = framed(&mut buf, len, host_ll(), vm_ll());
                let icmp = parse_icmpv6(&buf[ETH_HDR_LEN..frame_len]).unwrap();
                assert_eq!(NeighborAdvert::parse(&icmp), Ok(na));
                // Reserved bits are zero.
                assert_eq!(buf[IPV6_PAYLOAD_OFFSET + 4] & 0x1f, 0);
                assert_eq!(&buf[IPV6_PAYLOAD_OFFSET + 5..][..3], &[0, 0, 0]);
            }
        }
    }

    #[test]
    fn emit_too_small() {
        let na = NeighborAdvert {
            router: true,
            solicited: true,
            override_flag: false,
            target: addr("fe80::1"),
            target_ll: Some(host_mac()),
        };
        let mut buf = [0xa5u8; 31];
        assert_eq!(na.emit(&mut buf), Err(WireError::BufferTooSmall));
        let rs = RouterSolicit {
            source_ll: Some(vm_mac()),
        };
        assert_eq!(rs.emit(&mut buf[..15]), Err(WireError::BufferTooSmall));
        let ns = NeighborSolicit {
            target: addr("fe80::1"),
            source_ll: None,
        };
        assert_eq!(ns.emit(&mut buf[..23]), Err(WireError::BufferTooSmall));
        assert!(buf.iter().all(|&b| b == 0xa5));
        assert_eq!(ns.emit(&mut buf[..24]), Ok(24));
    }

    #[test]
    fn parse_rs_errors() {
        let vm = vm_ll();
        let all_routers = addr("ff02::2");
        let body = rs_body(&SLLA_VM);
        let ok = icmp(133, vm, all_routers, &body);
        assert!(RouterSolicit::parse(&ok).is_ok());
        let wrong_type = Icmpv6 {
            icmp_type: 135.into(),
            ..ok
        };
        assert_eq!(
            RouterSolicit::parse(&wrong_type),
            Err(WireError::WrongProtocol)
        );
        let code = Icmpv6 { code: 1, ..ok };
        assert_eq!(RouterSolicit::parse(&code), Err(WireError::BadOption));
        let routed = Icmpv6 {
            hop_limit: 64,
            ..ok
        };
        assert_eq!(RouterSolicit::parse(&routed), Err(WireError::BadHopLimit));
        let short = Icmpv6 {
            body: &body[..3],
            ..ok
        };
        assert_eq!(RouterSolicit::parse(&short), Err(WireError::Truncated));
        // From :: the SLLA must be absent.
        let unspecified = Icmpv6 {
            src: Ipv6Addr::UNSPECIFIED,
            ..ok
        };
        assert_eq!(
            RouterSolicit::parse(&unspecified),
            Err(WireError::BadOption)
        );
        let bare = rs_body(&[]);
        let unspecified = Icmpv6 {
            body: &bare,
            ..unspecified
        };
        assert_eq!(
            RouterSolicit::parse(&unspecified),
            Ok(RouterSolicit { source_ll: None })
        );
        // A 14-byte link-layer address, a duplicate SLLA, a malformed unknown option.
        let mut long_ll = vec![1, 2];
        long_ll.extend_from_slice(&[0xaa; 14]);
        for options in [
            long_ll,
            [SLLA_VM, SLLA_VM].concat(),
            [&SLLA_VM[..], &[9, 0]].concat(),
        ] {
            let body = rs_body(&options);
            let m = icmp(133, vm, all_routers, &body);
            assert_eq!(
                RouterSolicit::parse(&m),
                Err(WireError::BadOption),
                "{options:?}"
            );
        }
        // Unknown options are skipped.
        let body = rs_body(&[[9, 1, 0, 0, 0, 0, 0, 0], SLLA_VM].concat());
        let m = icmp(133, vm, all_routers, &body);
        assert_eq!(RouterSolicit::parse(&m).unwrap().source_ll, Some(vm_mac()));
    }

    #[test]
    fn parse_ns_errors() {
        let vm = vm_ll();
        let snm = addr("ff02::1:ff00:1");
        let body = ns_body(addr("fe80::1"), &SLLA_VM);
        let ok = icmp(135, vm, snm, &body);
        assert!(NeighborSolicit::parse(&ok).is_ok());
        assert_eq!(
            NeighborSolicit::parse(&Icmpv6 {
                icmp_type: 133.into(),
                ..ok
            }),
            Err(WireError::WrongProtocol)
        );
        assert_eq!(
            NeighborSolicit::parse(&Icmpv6 { code: 9, ..ok }),
            Err(WireError::BadOption)
        );
        assert_eq!(
            NeighborSolicit::parse(&Icmpv6 { hop_limit: 1, ..ok }),
            Err(WireError::BadHopLimit)
        );
        for len in 0..20 {
            let short = Icmpv6 {
                body: &body[..len],
                ..ok
            };
            assert_eq!(NeighborSolicit::parse(&short), Err(WireError::Truncated));
        }
        // Unicast NS (reachability confirmation) is fine.
        assert!(NeighborSolicit::parse(&Icmpv6 {
            dst: host_ll(),
            ..ok
        })
        .is_ok());
        let mcast_target = ns_body(addr("ff02::1"), &[]);
        let m = icmp(135, vm, snm, &mcast_target);
        assert_eq!(NeighborSolicit::parse(&m), Err(WireError::BadOption));
        // DAD: from ::, only to a solicited-node group, and without SLLA.
        let dad_body = ns_body(vm, &[]);
        let dad = icmp(
            135,
            Ipv6Addr::UNSPECIFIED,
            addr("ff02::1:ff41:fbbe"),
            &dad_body,
        );
        assert!(NeighborSolicit::parse(&dad).is_ok());
        let to_unicast = Icmpv6 {
            dst: host_ll(),
            ..dad
        };
        assert_eq!(
            NeighborSolicit::parse(&to_unicast),
            Err(WireError::BadOption)
        );
        let to_all_nodes = Icmpv6 {
            dst: addr("ff02::1"),
            ..dad
        };
        assert_eq!(
            NeighborSolicit::parse(&to_all_nodes),
            Err(WireError::BadOption)
        );
        let with_slla = Icmpv6 { body: &body, ..dad };
        assert_eq!(
            NeighborSolicit::parse(&with_slla),
            Err(WireError::BadOption)
        );
        let zero_len = ns_body(vm, &[14, 0, 1, 2, 3, 4, 5, 6]);
        let m = Icmpv6 {
            body: &zero_len,
            ..dad
        };
        assert_eq!(NeighborSolicit::parse(&m), Err(WireError::BadOption));
    }

    #[test]
    fn parse_na_errors() {
        let mut body = vec![0xc0, 0, 0, 0];
        body.extend_from_slice(&addr("fe80::1").octets());
        let ok = icmp(136, host_ll(), vm_ll(), &body);
        assert_eq!(NeighborAdvert::parse(&ok).unwrap().target_ll, None);
        assert_eq!(
            NeighborAdvert::parse(&Icmpv6 {
                hop_limit: 254,
                ..ok
            }),
            Err(WireError::BadHopLimit)
        );
        assert_eq!(
            NeighborAdvert::parse(&Icmpv6 {
                icmp_type: 134.into(),
                ..ok
            }),
            Err(WireError::WrongProtocol)
        );
        // Solicited to a multicast address.
        let to_all = Icmpv6 {
            dst: addr("ff02::1"),
            ..ok
        };
        assert_eq!(NeighborAdvert::parse(&to_all), Err(WireError::BadOption));
        let mut unsolicited = body.clone();
        unsolicited[0] = 0xa0;
        let m = Icmpv6 {
            body: &unsolicited,
            ..to_all
        };
        assert!(NeighborAdvert::parse(&m).unwrap().override_flag);
        let mut mcast = body.clone();
        mcast[4] = 0xff;
        let m = Icmpv6 { body: &mcast, ..ok };
        assert_eq!(NeighborAdvert::parse(&m), Err(WireError::BadOption));
        // The SLLA type is not a TLLA: it is skipped, not read.
        let mut with_slla = body.clone();
        with_slla.extend_from_slice(&SLLA_VM);
        let m = Icmpv6 {
            body: &with_slla,
            ..ok
        };
        assert_eq!(NeighborAdvert::parse(&m).unwrap().target_ll, None);
    }

    #[test]
    fn parse_ra_errors() {
        let icmp_ok = parse_icmpv6(&RA_FRAME_BYTES[ETH_HDR_LEN..]).unwrap();
        let body = icmp_ok.body.to_vec();
        let edited = |at: usize, v: u8| {
            let mut b = body.clone();
            b[at] = v;
            b
        };
        // Body offsets: SLLA at 12, MTU at 20, prefix at 28, RDNSS at 60, DNSSL at 100.
        for (at, v) in [
            (13, 2),
            (21, 2),
            (30, 129),
            (61, 4),
            (61, 0),
            (108, 0xc0),
            (138, 1),
        ] {
            let b = edited(at, v);
            let m = Icmpv6 {
                body: &b,
                ..icmp_ok
            };
            assert_eq!(
                RaPacket::new_checked(&m),
                Err(WireError::BadOption),
                "byte {at} = {v}"
            );
        }
        assert_eq!(
            RaPacket::new_checked(&Icmpv6 {
                hop_limit: 1,
                ..icmp_ok
            }),
            Err(WireError::BadHopLimit)
        );
        assert_eq!(
            RaPacket::new_checked(&Icmpv6 {
                body: &body[..11],
                ..icmp_ok
            }),
            Err(WireError::Truncated)
        );
        // Reserved preference 10 reads as Medium.
        let b = edited(1, 0x10);
        let m = Icmpv6 {
            body: &b,
            ..icmp_ok
        };
        assert_eq!(
            RaPacket::new_checked(&m).unwrap().preference(),
            Preference::Medium
        );
    }

    #[test]
    fn preference_bits() {
        for p in [Preference::Low, Preference::Medium, Preference::High] {
            assert_eq!(Preference::from_bits(p.bits()), p);
        }
        assert_eq!(Preference::High.bits(), 0b01);
        assert_eq!(Preference::Low.bits(), 0b11);
        assert_eq!(Preference::from_bits(0b10), Preference::Medium);
    }

    /// Runs the parser of `m`'s type.
    fn parse_any(m: &Icmpv6<'_>) -> Result<(), WireError> {
        match m.icmp_type {
            Icmpv6Type::RouterSolicit => RouterSolicit::parse(m).map(drop),
            Icmpv6Type::NeighborSolicit => NeighborSolicit::parse(m).map(drop),
            Icmpv6Type::NeighborAdvert => NeighborAdvert::parse(m).map(drop),
            _ => RaPacket::new_checked(m).map(drop),
        }
    }

    #[test]
    fn short_packet() {
        let ra = parse_icmpv6(&RA_FRAME_BYTES[ETH_HDR_LEN..]).unwrap();
        let na = parse_icmpv6(&NA_FRAME_BYTES[ETH_HDR_LEN..]).unwrap();
        let rs = parse_icmpv6(&RS_BYTES).unwrap();
        let ns = parse_icmpv6(&NS_BYTES).unwrap();
        let dad = parse_icmpv6(&NS_DAD_BYTES).unwrap();
        for (m, fixed) in [(ra, 12), (na, 20), (rs, 4), (ns, 20), (dad, 20)] {
            let mut boundaries = vec![fixed];
            for opt in NdpOptionIter::new(&m.body[fixed..]) {
                let end = boundaries.last().unwrap() + 2 + opt.unwrap().data.len();
                boundaries.push(end);
            }
            for len in 0..=m.body.len() {
                let cut = Icmpv6 {
                    body: &m.body[..len],
                    ..m
                };
                let expected = if len < fixed {
                    Err(WireError::Truncated)
                } else if boundaries.contains(&len) {
                    // A cut between whole options is a shorter, valid message.
                    Ok(())
                } else {
                    Err(WireError::BadOption)
                };
                assert_eq!(
                    parse_any(&cut),
                    expected,
                    "type {:?} len {len}",
                    m.icmp_type
                );
                if let Ok(v) = RaPacket::new_checked(&cut) {
                    let _ = (v.source_ll(), v.mtu(), v.prefix(), v.rdnss(), v.dnssl());
                }
            }
        }
    }

    use crate::wire::testing::{random_buffers, XorShift};

    /// Random bodies (often built from plausible option headers) through every parser:
    /// errors are fine, panics are not.
    #[test]
    fn robustness_random_buffers() {
        let mut accepted = 0;
        let make = |rng: &mut XorShift, _| {
            let fixed = (rng.next() % 24) as usize;
            let mut body: Vec<u8> = (0..fixed).map(|_| rng.next() as u8).collect();
            for _ in 0..(rng.next() % 5) {
                let kind = [1, 2, 3, 5, 25, 31, 14][(rng.next() % 7) as usize];
                let units = (rng.next() % 6) as u8;
                body.extend_from_slice(&[kind, units]);
                let n = (usize::from(units) * 8).saturating_sub(2);
                let n = if rng.next().is_multiple_of(8) {
                    n / 2
                } else {
                    n
                };
                body.extend((0..n).map(|_| {
                    if rng.next().is_multiple_of(3) {
                        rng.next() as u8
                    } else {
                        (rng.next() % 8) as u8
                    }
                }));
            }
            body
        };
        random_buffers(0xbb67_ae85_84ca_a73b, 30000, make, |rng, body| {
            for icmp_type in 133..=136 {
                let src = if rng.next().is_multiple_of(4) {
                    Ipv6Addr::UNSPECIFIED
                } else {
                    vm_ll()
                };
                let m = icmp(icmp_type, src, addr("ff02::1:ff00:1"), body);
                accepted += usize::from(RouterSolicit::parse(&m).is_ok());
                accepted += usize::from(NeighborSolicit::parse(&m).is_ok());
                accepted += usize::from(NeighborAdvert::parse(&m).is_ok());
                if let Ok(v) = RaPacket::new_checked(&m) {
                    accepted += 1;
                    let _ = (v.source_ll(), v.mtu(), v.prefix(), v.preference());
                    if let Some((_, names)) = v.dnssl() {
                        names.for_each(|n| drop(n.unwrap().to_string()));
                    }
                    let _ = v.rdnss().map(|(_, a)| a.count());
                }
            }
        });
        assert!(accepted > 3000, "only {accepted} messages accepted");
    }

    /// Random Router Advertisements: emit, frame, parse back, compare (a fuzz round trip).
    #[test]
    fn emit_ra_random_round_trip() {
        let mut rng = XorShift(0x3c6e_f372_fe94_f82b);
        let pool = names(&["example.org", "a.b", "vm.example.org.", "x"]);
        for _ in 0..2000 {
            let n_dns = (rng.next() % 4) as usize;
            let dns: Vec<Ipv6Addr> = (0..n_dns)
                .map(|_| Ipv6Addr::from(rng.next() as u128))
                .collect();
            let n_dom = (rng.next() % 4) as usize;
            let domains: Vec<String> = (0..n_dom)
                .map(|_| pool[(rng.next() % 4) as usize].clone())
                .collect();
            let r = rng.next();
            let prefix = PrefixInfo {
                prefix: Ipv6Addr::from(u128::from(rng.next()) << 64),
                prefix_len: (rng.next() % 129) as u8,
                on_link: r & 1 != 0,
                autonomous: r & 2 != 0,
                router_address: r & 4 != 0,
                valid_lifetime: rng.next() as u32,
                preferred_lifetime: rng.next() as u32,
            };
            let ra = RouterAdvert {
                cur_hop_limit: r as u8,
                managed: r & 8 != 0,
                other: r & 16 != 0,
                preference: [Preference::Low, Preference::Medium, Preference::High]
                    [(r % 3) as usize],
                router_lifetime: (r >> 8) as u16,
                reachable_time: (r >> 16) as u32,
                retrans_timer: (r >> 32) as u32,
                source_ll: (r & 32 != 0).then(host_mac),
                mtu: (r & 64 != 0).then_some((r >> 24) as u32),
                prefix: (r & 128 != 0).then_some(prefix),
                rdnss: Some(((r >> 20) as u32, (&dns).into())),
                dnssl: Some(((r >> 12) as u32, (&domains).into())),
                routes: RouteList::NONE,
                pref64: None,
            };
            let mut buf = [0xa5u8; 400];
            let len = ra.emit(&mut buf[IPV6_PAYLOAD_OFFSET..]).unwrap();
            assert_eq!(len % 8, 0);
            assert_eq!(Ok(len), ra.buffer_len());
            let frame_len = framed(&mut buf, len, host_ll(), addr("ff02::1"));
            let icmp = parse_icmpv6(&buf[ETH_HDR_LEN..frame_len]).unwrap();
            let v = RaPacket::new_checked(&icmp).unwrap();
            assert_eq!(v.cur_hop_limit(), ra.cur_hop_limit);
            assert_eq!((v.managed(), v.other()), (ra.managed, ra.other));
            assert_eq!(v.preference(), ra.preference);
            assert_eq!(v.router_lifetime(), ra.router_lifetime);
            assert_eq!(v.reachable_time(), ra.reachable_time);
            assert_eq!(v.retrans_timer(), ra.retrans_timer);
            assert_eq!(v.source_ll(), ra.source_ll);
            assert_eq!(v.mtu(), ra.mtu);
            assert_eq!(v.prefix(), ra.prefix);
            let rdnss = v.rdnss().map(|(l, a)| (l, a.collect::<Vec<_>>()));
            let expected = (!dns.is_empty()).then(|| (ra.rdnss.unwrap().0, dns.clone()));
            assert_eq!(rdnss, expected);
            let dnssl = v
                .dnssl()
                .map(|(l, n)| (l, n.map(|n| n.unwrap().to_string()).collect::<Vec<_>>()));
            let trimmed: Vec<String> = domains
                .iter()
                .map(|d| d.trim_end_matches('.').to_string())
                .collect();
            let expected = (!domains.is_empty()).then(|| (ra.dnssl.unwrap().0, trimmed));
            assert_eq!(dnssl, expected);
        }
    }
}
