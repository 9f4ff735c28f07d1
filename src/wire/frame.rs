//! Ethernet II, IPv4 and UDP envelopes around the DHCP payload, and the Internet checksum.
//!
//! Parsing starts at the IPv4 header (NFQUEUE hands us the packet without its link-layer
//! header); emitting writes a whole Ethernet frame, because replies go out on an AF_PACKET
//! socket straight onto the VM's tap. The one's-complement helpers are shared by the IPv4
//! and the IPv6 envelopes (RFC 8200; ICMPv6 RFC 4443; UDP over IPv6 RFC 8200 §8.1).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::bytes::{read, read_u16, read_u8, write, write_u16, write_u8};
use super::{MacAddr, WireError};

/// Ethernet II header: destination, source, EtherType (no 802.1Q tag on a tap).
pub const ETH_HDR_LEN: usize = 14;
/// IPv4 header without options (RFC 791 §3.1); what we emit, and the minimum we accept.
pub const IPV4_HDR_LEN: usize = 20;
/// UDP header (RFC 768).
pub const UDP_HDR_LEN: usize = 8;
/// Offset of the UDP payload in a frame built by emit_ipv4_udp (14+20+8 = 42).
pub const IPV4_UDP_PAYLOAD_OFFSET: usize = ETH_HDR_LEN + IPV4_HDR_LEN + UDP_HDR_LEN;
/// EtherType of IPv4 (IEEE 802 numbers, RFC 894).
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of IPv6 (RFC 2464 §3).
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// IANA protocol number of UDP, in the IPv4 protocol field and the pseudo-header.
pub const IP_PROTO_UDP: u8 = 17;
/// TTL of emitted packets: the reply never leaves the link, any sane value works.
const DEFAULT_TTL: u8 = 64;
/// Fixed IPv6 header (RFC 8200 §3).
pub const IPV6_HDR_LEN: usize = 40;
/// IANA protocol number of ICMPv6, in the IPv6 next-header field and the pseudo-header.
pub const IP_PROTO_ICMPV6: u8 = 58;
/// Type, code and checksum at the start of every ICMPv6 message (RFC 4443 §2.1).
pub const ICMPV6_HDR_LEN: usize = 4;
/// Offset of an ICMPv6 message in a frame built by emit_ipv6_icmpv6 (14+40 = 54).
pub const IPV6_PAYLOAD_OFFSET: usize = ETH_HDR_LEN + IPV6_HDR_LEN;
/// Offset of the UDP payload in a frame built by emit_ipv6_udp (14+40+8 = 62).
pub const IPV6_UDP_PAYLOAD_OFFSET: usize = IPV6_PAYLOAD_OFFSET + UDP_HDR_LEN;

/// Byte offsets of the fixed header fields, each relative to the start of its own header.
mod field {
    pub type Field = std::ops::Range<usize>;

    /// Ethernet II.
    pub mod eth {
        use super::Field;
        pub const DST: Field = 0..6;
        pub const SRC: Field = 6..12;
        pub const ETHERTYPE: Field = 12..14;
    }

    /// IPv4, RFC 791 §3.1.
    pub mod ipv4 {
        use super::Field;
        pub const VER_IHL: usize = 0;
        pub const TOS: usize = 1;
        pub const LENGTH: Field = 2..4;
        pub const IDENT: Field = 4..6;
        pub const FLG_OFF: Field = 6..8;
        pub const TTL: usize = 8;
        pub const PROTOCOL: usize = 9;
        pub const CHECKSUM: Field = 10..12;
        pub const SRC: Field = 12..16;
        pub const DST: Field = 16..20;
    }

    /// IPv6, RFC 8200 §3.
    pub mod ipv6 {
        use super::Field;
        /// Version (4 bits), traffic class (8), flow label (20).
        pub const VER_TC_FLOW: Field = 0..4;
        pub const PAYLOAD_LEN: Field = 4..6;
        pub const NEXT_HEADER: usize = 6;
        pub const HOP_LIMIT: usize = 7;
        pub const SRC: Field = 8..24;
        pub const DST: Field = 24..40;
    }

    /// ICMPv6 message header, RFC 4443 §2.1.
    pub mod icmpv6 {
        use super::Field;
        pub const TYPE: usize = 0;
        pub const CODE: usize = 1;
        pub const CHECKSUM: Field = 2..4;
    }

    /// UDP, RFC 768.
    pub mod udp {
        use super::Field;
        pub const SRC_PORT: Field = 0..2;
        pub const DST_PORT: Field = 2..4;
        pub const LENGTH: Field = 4..6;
        pub const CHECKSUM: Field = 6..8;
    }
}

/// "More fragments" flag in the IPv4 flags/fragment-offset word (RFC 791 §3.1).
const IPV4_FLAG_MF: u16 = 0x2000;
/// Fragment offset bits of the same word.
const IPV4_FRAG_OFFSET_MASK: u16 = 0x1fff;

/// Adds `data` as big-endian 16-bit words to the running one's-complement sum `initial`
/// (RFC 1071 §4.1). An odd trailing byte is padded with a zero, so only the last slice of
/// a chained sum may have an odd length. The result is folded to 16 bits (end-around
/// carry), so it can be chained any number of times without overflowing.
pub fn ones_complement_sum(initial: u32, data: &[u8]) -> u32 {
    // u64 cannot overflow: that would take more than 2^48 bytes of data.
    let (words, rest) = data.as_chunks::<2>();
    let mut sum = u64::from(initial);
    for word in words {
        sum += u64::from(u16::from_be_bytes(*word));
    }
    if let [last] = rest {
        sum += u64::from(*last) << 8;
    }
    u32::from(fold(sum))
}

/// End-around carry until the sum fits in 16 bits (RFC 1071 §1, "folding").
fn fold(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    // The loop leaves at most 0xffff, so the cast keeps every bit.
    sum as u16
}

/// Folds a running sum to 16 bits and complements it: the value of a checksum field.
/// Over data that already contains a correct checksum this yields 0.
pub fn checksum_fold(sum: u32) -> u16 {
    !fold(u64::from(sum))
}

/// Sum of the IPv4 pseudo-header that UDP and TCP checksums cover (RFC 768, RFC 793 §3.1):
/// source, destination, zero + protocol, and the transport length.
pub fn ipv4_pseudo_header_sum(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, len: u16) -> u32 {
    let mut sum = ones_complement_sum(0, &src.octets());
    sum = ones_complement_sum(sum, &dst.octets());
    sum = ones_complement_sum(sum, &[0, protocol]);
    ones_complement_sum(sum, &len.to_be_bytes())
}

/// A UDP datagram inside an IPv4 packet, as far as the DHCP server cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Udp<'a> {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub src_port: u16,
    pub dst_port: u16,
    /// Exactly the UDP length's worth of payload.
    pub payload: &'a [u8],
}

/// Parse an IPv4 packet (starting at the IP header, as NFQUEUE gives it) carrying UDP.
///
/// Checks version 4, IHL >= 5 and within the packet, total length <= buffer (trailing
/// bytes beyond total length, such as Ethernet padding, are ignored), not a fragment,
/// protocol 17, UDP length >= 8 and within the IP packet.
///
/// The IPv4 header checksum and the UDP checksum are *not* verified: the kernel already
/// checked the IP header before queueing, and DHCP clients send from raw sockets on
/// interfaces with checksum offload, so a request can legitimately reach us with a UDP
/// checksum the NIC was meant to fill in.
pub fn parse_ipv4_udp(ip_packet: &[u8]) -> Result<Ipv4Udp<'_>, WireError> {
    let (hdr, body) = split_ipv4(ip_packet)?;
    if read_u8(hdr, field::ipv4::PROTOCOL) != IP_PROTO_UDP {
        return Err(WireError::WrongProtocol);
    }
    let udp = split_udp(body)?;
    Ok(Ipv4Udp {
        src: Ipv4Addr::from(read::<4>(hdr, field::ipv4::SRC)),
        dst: Ipv4Addr::from(read::<4>(hdr, field::ipv4::DST)),
        src_port: udp.src_port,
        dst_port: udp.dst_port,
        payload: udp.payload,
    })
}

/// The fields of a UDP header (RFC 768) and the payload it delimits.
struct UdpDatagram<'a> {
    src_port: u16,
    dst_port: u16,
    payload: &'a [u8],
}

/// Splits the UDP datagram at the start of an IP payload: `Truncated` below the 8-byte
/// header, `BadLength` for a UDP length below 8 or past `ip_payload`. A UDP length shorter
/// than `ip_payload` cuts the payload there.
fn split_udp(ip_payload: &[u8]) -> Result<UdpDatagram<'_>, WireError> {
    let udp_hdr = ip_payload.get(..UDP_HDR_LEN).ok_or(WireError::Truncated)?;
    let udp_len = usize::from(read_u16(udp_hdr, field::udp::LENGTH));
    if udp_len < UDP_HDR_LEN {
        return Err(WireError::BadLength);
    }
    let payload = ip_payload
        .get(UDP_HDR_LEN..udp_len)
        .ok_or(WireError::BadLength)?;
    Ok(UdpDatagram {
        src_port: read_u16(udp_hdr, field::udp::SRC_PORT),
        dst_port: read_u16(udp_hdr, field::udp::DST_PORT),
        payload,
    })
}

/// Checks an IPv4 header (RFC 791 §3.1) and splits the packet into the header (options
/// included) and the payload, cut at the total length.
fn split_ipv4(ip_packet: &[u8]) -> Result<(&[u8], &[u8]), WireError> {
    let fixed = ip_packet.get(..IPV4_HDR_LEN).ok_or(WireError::Truncated)?;
    let ver_ihl = read_u8(fixed, field::ipv4::VER_IHL);
    if ver_ihl >> 4 != 4 {
        return Err(WireError::BadVersion);
    }
    // IHL counts 32-bit words.
    let header_len = usize::from(ver_ihl & 0x0f) * 4;
    let total_len = usize::from(read_u16(fixed, field::ipv4::LENGTH));
    if header_len < IPV4_HDR_LEN || header_len > total_len {
        return Err(WireError::BadHeaderLen);
    }
    let packet = ip_packet.get(..total_len).ok_or(WireError::Truncated)?;
    let flags_offset = read_u16(fixed, field::ipv4::FLG_OFF);
    // A first fragment would parse, but its UDP length points past what we hold; a later
    // one has no UDP header at all. DHCP messages are never fragmented in practice.
    if flags_offset & (IPV4_FLAG_MF | IPV4_FRAG_OFFSET_MASK) != 0 {
        return Err(WireError::Fragmented);
    }
    packet
        .split_at_checked(header_len)
        .ok_or(WireError::BadHeaderLen)
}

/// Addresses and ports of an Ethernet + IPv4 + UDP frame to emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4UdpHeader {
    pub src_mac: MacAddr,
    pub dst_mac: MacAddr,
    pub src_ip: Ipv4Addr,
    pub dst_ip: Ipv4Addr,
    pub src_port: u16,
    pub dst_port: u16,
}

/// Writes the Ethernet, IPv4 and UDP headers in front of a UDP payload that the caller has
/// already written at `buf[IPV4_UDP_PAYLOAD_OFFSET..][..payload_len]`, so the payload is
/// never copied. Returns the frame length (42 + `payload_len`).
///
/// IPv4: version 4, IHL 5, TOS 0, id 0, DF clear, TTL 64, protocol 17, header checksum.
/// UDP: checksum over the pseudo-header (RFC 768), 0 sent as 0xffff.
///
/// Errors: `ValueTooLong` if the IPv4 total length would exceed 65535, `BufferTooSmall`
/// if `buf` cannot hold the frame.
pub fn emit_ipv4_udp(
    buf: &mut [u8],
    hdr: &Ipv4UdpHeader,
    payload_len: usize,
) -> Result<usize, WireError> {
    let udp_len = payload_len
        .checked_add(UDP_HDR_LEN)
        .ok_or(WireError::ValueTooLong)?;
    let ip_len = udp_len
        .checked_add(IPV4_HDR_LEN)
        .ok_or(WireError::ValueTooLong)?;
    let ip_len16 = u16::try_from(ip_len).map_err(|_| WireError::ValueTooLong)?;
    // Smaller than ip_len, so it fits as well.
    let udp_len16 = u16::try_from(udp_len).map_err(|_| WireError::ValueTooLong)?;
    let frame_len = ip_len
        .checked_add(ETH_HDR_LEN)
        .ok_or(WireError::ValueTooLong)?;
    let frame = buf.get_mut(..frame_len).ok_or(WireError::BufferTooSmall)?;
    // `frame` is exactly frame_len >= 42 bytes long, so neither split can fail.
    let (eth, ip_packet) = frame
        .split_at_mut_checked(ETH_HDR_LEN)
        .ok_or(WireError::BufferTooSmall)?;
    emit_ethernet_header(eth, hdr.src_mac, hdr.dst_mac, ETHERTYPE_IPV4)?;
    let (ip_hdr, udp) = ip_packet
        .split_at_mut_checked(IPV4_HDR_LEN)
        .ok_or(WireError::BufferTooSmall)?;
    emit_ipv4_header(ip_hdr, hdr.src_ip, hdr.dst_ip, IP_PROTO_UDP, ip_len16);
    emit_udp_header(udp, hdr, udp_len16);
    Ok(frame_len)
}

/// Writes an Ethernet II header into the first 14 bytes of `buf`.
pub fn emit_ethernet_header(
    buf: &mut [u8],
    src: MacAddr,
    dst: MacAddr,
    ethertype: u16,
) -> Result<(), WireError> {
    let eth = buf
        .get_mut(..ETH_HDR_LEN)
        .ok_or(WireError::BufferTooSmall)?;
    write(eth, field::eth::DST, &dst.octets());
    write(eth, field::eth::SRC, &src.octets());
    write_u16(eth, field::eth::ETHERTYPE, ethertype);
    Ok(())
}

/// Fills a 20-byte IPv4 header without options and computes its checksum.
fn emit_ipv4_header(ip: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, total: u16) {
    // Version 4, IHL 5 words.
    write_u8(ip, field::ipv4::VER_IHL, 0x45);
    write_u8(ip, field::ipv4::TOS, 0);
    write_u16(ip, field::ipv4::LENGTH, total);
    // Never fragmented, so the identification is not needed (RFC 6864 §4.1).
    write(ip, field::ipv4::IDENT, &[0, 0]);
    write(ip, field::ipv4::FLG_OFF, &[0, 0]);
    write_u8(ip, field::ipv4::TTL, DEFAULT_TTL);
    write_u8(ip, field::ipv4::PROTOCOL, protocol);
    write(ip, field::ipv4::CHECKSUM, &[0, 0]);
    write(ip, field::ipv4::SRC, &src.octets());
    write(ip, field::ipv4::DST, &dst.octets());
    let checksum = checksum_fold(ones_complement_sum(0, ip));
    write_u16(ip, field::ipv4::CHECKSUM, checksum);
}

/// Fills the UDP header at the start of `udp` (header + payload, exactly `len` bytes) and
/// its checksum over the IPv4 pseudo-header, header and payload.
fn emit_udp_header(udp: &mut [u8], hdr: &Ipv4UdpHeader, len: u16) {
    let pseudo = ipv4_pseudo_header_sum(hdr.src_ip, hdr.dst_ip, IP_PROTO_UDP, len);
    fill_udp_header(udp, hdr.src_port, hdr.dst_port, len, pseudo);
}

/// Fills the UDP header at the start of `udp` (header + payload, exactly `len` bytes) and
/// its checksum, given the sum of the pseudo-header of the IP version in use.
fn fill_udp_header(udp: &mut [u8], src_port: u16, dst_port: u16, len: u16, pseudo: u32) {
    write_u16(udp, field::udp::SRC_PORT, src_port);
    write_u16(udp, field::udp::DST_PORT, dst_port);
    write_u16(udp, field::udp::LENGTH, len);
    write(udp, field::udp::CHECKSUM, &[0, 0]);
    let checksum = match checksum_fold(ones_complement_sum(pseudo, udp)) {
        // RFC 768: a zero checksum field means "no checksum"; a computed 0 goes out as
        // its one's-complement twin 0xffff (RFC 8200 §8.1 says the same for IPv6, where
        // the checksum is mandatory).
        0 => 0xffff,
        c => c,
    };
    write_u16(udp, field::udp::CHECKSUM, checksum);
}

/// Sum of the IPv6 pseudo-header that ICMPv6 and UDP checksums cover (RFC 8200 §8.1):
/// source, destination, the 32-bit upper-layer packet length, three zero bytes and the
/// next header.
pub fn ipv6_pseudo_header_sum(src: &Ipv6Addr, dst: &Ipv6Addr, next_header: u8, len: u32) -> u32 {
    let mut sum = ones_complement_sum(0, &src.octets());
    sum = ones_complement_sum(sum, &dst.octets());
    sum = ones_complement_sum(sum, &len.to_be_bytes());
    ones_complement_sum(sum, &[0, 0, 0, next_header])
}

/// The Ethernet address an IPv6 multicast packet to `dst` goes to: 33:33 and the low 32
/// bits of the address (RFC 2464 §7). Meaningless for a unicast `dst`; the caller knows
/// which it has.
pub fn ipv6_multicast_mac(dst: &Ipv6Addr) -> MacAddr {
    let o = dst.octets();
    MacAddr([0x33, 0x33, o[12], o[13], o[14], o[15]])
}

/// An IPv6 packet's fixed header fields and its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Packet<'a> {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub next_header: u8,
    pub hop_limit: u8,
    /// Exactly the payload length's worth of bytes after the fixed header.
    pub payload: &'a [u8],
}

/// Parse an IPv6 packet (starting at the IP header, as NFQUEUE gives it).
///
/// Checks version 6 and payload length <= buffer (trailing bytes, such as Ethernet
/// padding, are ignored). A payload length of 0 gives an empty payload: jumbograms (RFC
/// 2675) never reach a tap. Extension headers are not walked: RS, NS and DHCPv6 never
/// carry them in practice, so a packet whose next header is not the one asked for is
/// `WrongProtocol` at the callers below (MLD reports, which start with a hop-by-hop
/// header, come out that way).
pub fn parse_ipv6(ip_packet: &[u8]) -> Result<Ipv6Packet<'_>, WireError> {
    let (hdr, rest) = ip_packet
        .split_at_checked(IPV6_HDR_LEN)
        .ok_or(WireError::Truncated)?;
    if read_u8(hdr, field::ipv6::VER_TC_FLOW.start) >> 4 != 6 {
        return Err(WireError::BadVersion);
    }
    let payload_len = usize::from(read_u16(hdr, field::ipv6::PAYLOAD_LEN));
    let payload = rest.get(..payload_len).ok_or(WireError::Truncated)?;
    let src = Ipv6Addr::from(read::<16>(hdr, field::ipv6::SRC));
    // RFC 4291 §2.7: never a source. Answering one would send a unicast-only reply
    // (a solicited NA, a DHCPv6 Reply) to a group (the pure_path fuzz target found it).
    if src.is_multicast() {
        return Err(WireError::BadAddress);
    }
    Ok(Ipv6Packet {
        src,
        dst: Ipv6Addr::from(read::<16>(hdr, field::ipv6::DST)),
        next_header: read_u8(hdr, field::ipv6::NEXT_HEADER),
        hop_limit: read_u8(hdr, field::ipv6::HOP_LIMIT),
        payload,
    })
}

enum_with_unknown! {
    /// ICMPv6 message types this crate handles: those of NDP (RFC 4861 §4).
    pub enum Icmpv6Type(u8) {
        RouterSolicit = 133,
        RouterAdvert = 134,
        NeighborSolicit = 135,
        NeighborAdvert = 136,
    }
}

/// An ICMPv6 message with a verified checksum, and the IPv6 fields NDP validation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmpv6<'a> {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    /// NDP messages must arrive with 255 (RFC 4861 §6.1, §7.1): proof they were not routed.
    pub hop_limit: u8,
    pub icmp_type: Icmpv6Type,
    pub code: u8,
    /// The message after the 4-byte type/code/checksum header.
    pub body: &'a [u8],
}

/// Parse an IPv6 packet carrying ICMPv6 (next header 58, no extension headers).
///
/// Errors: those of `parse_ipv6`; `WrongProtocol` for another next header; `Truncated`
/// below the 4-byte ICMPv6 header; `BadChecksum` unless the checksum over the
/// pseudo-header and the message verifies (RFC 4443 §2.3). Unlike UDP's, it is always
/// complete: Linux computes ICMPv6 checksums in software (every RS and NS in our
/// captures verifies, while dhclient's UDP checksum was left to offload).
pub fn parse_icmpv6(ip_packet: &[u8]) -> Result<Icmpv6<'_>, WireError> {
    let ip = parse_ipv6(ip_packet)?;
    if ip.next_header != IP_PROTO_ICMPV6 {
        return Err(WireError::WrongProtocol);
    }
    let (hdr, body) = ip
        .payload
        .split_at_checked(ICMPV6_HDR_LEN)
        .ok_or(WireError::Truncated)?;
    // The payload length came off a u16 field, so it fits in u32.
    let len = u32::try_from(ip.payload.len()).map_err(|_| WireError::BadLength)?;
    let pseudo = ipv6_pseudo_header_sum(&ip.src, &ip.dst, IP_PROTO_ICMPV6, len);
    if checksum_fold(ones_complement_sum(pseudo, ip.payload)) != 0 {
        return Err(WireError::BadChecksum);
    }
    Ok(Icmpv6 {
        src: ip.src,
        dst: ip.dst,
        hop_limit: ip.hop_limit,
        icmp_type: Icmpv6Type::from(read_u8(hdr, field::icmpv6::TYPE)),
        code: read_u8(hdr, field::icmpv6::CODE),
        body,
    })
}

/// A UDP datagram inside an IPv6 packet, as far as the DHCPv6 server cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Udp<'a> {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub src_port: u16,
    pub dst_port: u16,
    /// Exactly the UDP length's worth of payload.
    pub payload: &'a [u8],
}

/// Parse an IPv6 packet carrying UDP (next header 17, no extension headers).
///
/// Errors: those of `parse_ipv6`; `WrongProtocol` for another next header; `Truncated`
/// below the 8-byte UDP header; `BadLength` for a UDP length below 8 or past the IPv6
/// payload (a shorter one cuts the payload there, as for IPv4).
///
/// The UDP checksum is *not* verified: clients send with the checksum left to offload
/// (dhclient's Information-Request, captured on a veth, carries only the pseudo-header
/// sum), and the frame crossed one virtual link from the VM, where nothing corrupts it.
pub fn parse_ipv6_udp(ip_packet: &[u8]) -> Result<Ipv6Udp<'_>, WireError> {
    let ip = parse_ipv6(ip_packet)?;
    if ip.next_header != IP_PROTO_UDP {
        return Err(WireError::WrongProtocol);
    }
    let udp = split_udp(ip.payload)?;
    Ok(Ipv6Udp {
        src: ip.src,
        dst: ip.dst,
        src_port: udp.src_port,
        dst_port: udp.dst_port,
        payload: udp.payload,
    })
}

/// Addresses and hop limit of an Ethernet + IPv6 frame to emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Header {
    pub src_mac: MacAddr,
    pub dst_mac: MacAddr,
    pub src_ip: Ipv6Addr,
    pub dst_ip: Ipv6Addr,
    /// 255 for NDP (RFC 4861 §6.1.2, §7.1.2).
    pub hop_limit: u8,
}

/// Writes the Ethernet (0x86dd) and IPv6 headers (traffic class 0, flow label 0, next
/// header 58) in front of an ICMPv6 message that the caller has already written at
/// `buf[IPV6_PAYLOAD_OFFSET..][..icmp_len]` with any checksum value, and fills in the
/// ICMPv6 checksum (RFC 4443 §2.3). Returns the frame length (54 + `icmp_len`).
///
/// Errors: `BadLength` if `icmp_len` is below the 4-byte ICMPv6 header, `ValueTooLong`
/// past the 65535-byte IPv6 payload length, `BufferTooSmall` if `buf` cannot hold the
/// frame. Nothing is written on error.
pub fn emit_ipv6_icmpv6(
    buf: &mut [u8],
    hdr: &Ipv6Header,
    icmp_len: usize,
) -> Result<usize, WireError> {
    if icmp_len < ICMPV6_HDR_LEN {
        return Err(WireError::BadLength);
    }
    let (frame_len, len16) = ipv6_frame_len(icmp_len)?;
    let frame = buf.get_mut(..frame_len).ok_or(WireError::BufferTooSmall)?;
    let icmp = emit_ipv6_headers(frame, hdr, IP_PROTO_ICMPV6, len16)?;
    write(icmp, field::icmpv6::CHECKSUM, &[0, 0]);
    let pseudo = ipv6_pseudo_header_sum(&hdr.src_ip, &hdr.dst_ip, IP_PROTO_ICMPV6, len16.into());
    // No "no checksum" value in ICMPv6: a computed 0 goes out as 0.
    let checksum = checksum_fold(ones_complement_sum(pseudo, icmp));
    write_u16(icmp, field::icmpv6::CHECKSUM, checksum);
    Ok(frame_len)
}

/// Writes the Ethernet, IPv6 (next header 17) and UDP headers in front of a UDP payload
/// that the caller has already written at `buf[IPV6_UDP_PAYLOAD_OFFSET..][..payload_len]`,
/// with the UDP checksum (mandatory over IPv6; 0 sent as 0xffff, RFC 8200 §8.1). Returns
/// the frame length (62 + `payload_len`).
///
/// Errors: `ValueTooLong` if the UDP length would exceed 65535, `BufferTooSmall` if `buf`
/// cannot hold the frame. Nothing is written on error.
pub fn emit_ipv6_udp(
    buf: &mut [u8],
    hdr: &Ipv6Header,
    src_port: u16,
    dst_port: u16,
    payload_len: usize,
) -> Result<usize, WireError> {
    let udp_len = payload_len
        .checked_add(UDP_HDR_LEN)
        .ok_or(WireError::ValueTooLong)?;
    let (frame_len, len16) = ipv6_frame_len(udp_len)?;
    let frame = buf.get_mut(..frame_len).ok_or(WireError::BufferTooSmall)?;
    let udp = emit_ipv6_headers(frame, hdr, IP_PROTO_UDP, len16)?;
    let pseudo = ipv6_pseudo_header_sum(&hdr.src_ip, &hdr.dst_ip, IP_PROTO_UDP, len16.into());
    fill_udp_header(udp, src_port, dst_port, len16, pseudo);
    Ok(frame_len)
}

/// The frame length for an IPv6 payload of `payload_len` bytes, and that payload length
/// as the 16-bit header field (`ValueTooLong` if it does not fit).
fn ipv6_frame_len(payload_len: usize) -> Result<(usize, u16), WireError> {
    let len16 = u16::try_from(payload_len).map_err(|_| WireError::ValueTooLong)?;
    let frame_len = payload_len
        .checked_add(IPV6_PAYLOAD_OFFSET)
        .ok_or(WireError::ValueTooLong)?;
    Ok((frame_len, len16))
}

/// Writes the Ethernet and IPv6 headers at the start of `frame` (exactly the whole frame)
/// and returns the IPv6 payload area after them.
fn emit_ipv6_headers<'f>(
    frame: &'f mut [u8],
    hdr: &Ipv6Header,
    next_header: u8,
    payload_len: u16,
) -> Result<&'f mut [u8], WireError> {
    let (eth, ip_packet) = frame
        .split_at_mut_checked(ETH_HDR_LEN)
        .ok_or(WireError::BufferTooSmall)?;
    emit_ethernet_header(eth, hdr.src_mac, hdr.dst_mac, ETHERTYPE_IPV6)?;
    let (ip, payload) = ip_packet
        .split_at_mut_checked(IPV6_HDR_LEN)
        .ok_or(WireError::BufferTooSmall)?;
    // Version 6, traffic class 0, flow label 0 (RFC 6437 allows an unlabelled flow).
    write(ip, field::ipv6::VER_TC_FLOW, &[0x60, 0, 0, 0]);
    write_u16(ip, field::ipv6::PAYLOAD_LEN, payload_len);
    write_u8(ip, field::ipv6::NEXT_HEADER, next_header);
    write_u8(ip, field::ipv6::HOP_LIMIT, hdr.hop_limit);
    write(ip, field::ipv6::SRC, &hdr.src_ip.octets());
    write(ip, field::ipv6::DST, &hdr.dst_ip.octets());
    Ok(payload)
}

/// IPv6 packets shared by the frame, ndp and dhcp6 tests: real captures from the Linux
/// kernel and dhclient, and frames built by scapy as an independent encoder.
#[cfg(test)]
pub(crate) mod ipv6_fixtures {
    /// Router Solicitation sent by the Linux 6.18 kernel itself when a veth came up in a
    /// scratch network namespace, captured with tcpdump on its peer; the 14-byte Ethernet
    /// header is cut off, as NFQUEUE hands packets from the IP header on. The source is a
    /// stable-privacy link-local (addr_gen_mode=3), not EUI-64: fe80::1bba:bfd7:b741:fbbe,
    /// to ff02::2, hop limit 255, one SLLA option 52:54:00:12:34:56.
    pub(crate) static RS_BYTES: [u8; 56] = [
        0x60, 0x00, 0x00, 0x00, 0x00, 0x10, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x1b, 0xba, 0xbf, 0xd7, 0xb7, 0x41, 0xfb, 0xbe, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x85, 0x00, 0x66, 0xdf, 0x00,
        0x00, 0x00, 0x00, 0x01, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
    ];

    /// Duplicate Address Detection NS from the same kernel, same capture: source ::, to the
    /// solicited-node group ff02::1:ff41:fbbe, target fe80::1bba:bfd7:b741:fbbe, no SLLA but a
    /// Nonce option (type 14, RFC 7527).
    pub(crate) static NS_DAD_BYTES: [u8; 72] = [
        0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x41, 0xfb, 0xbe, 0x87, 0x00, 0x0b, 0xad, 0x00,
        0x00, 0x00, 0x00, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1b, 0xba, 0xbf, 0xd7,
        0xb7, 0x41, 0xfb, 0xbe, 0x0e, 0x01, 0x19, 0x92, 0x9e, 0x51, 0x1f, 0xfb,
    ];

    /// Address-resolution NS from the same kernel, same capture, sent when a UDP socket wrote
    /// to fe80::1%vmeth: source fe80::1bba:bfd7:b741:fbbe, to ff02::1:ff00:1, target fe80::1,
    /// SLLA 52:54:00:12:34:56.
    pub(crate) static NS_BYTES: [u8; 72] = [
        0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x1b, 0xba, 0xbf, 0xd7, 0xb7, 0x41, 0xfb, 0xbe, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x01, 0x87, 0x00, 0x67, 0x4c, 0x00,
        0x00, 0x00, 0x00, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
    ];

    /// MLDv2 report from the same kernel, same capture: next header 0 (hop-by-hop, router
    /// alert) in front of the ICMPv6 message, which the parsers do not walk.
    pub(crate) static MLD_REPORT_BYTES: [u8; 76] = [
        0x60, 0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x01, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x1b, 0xba, 0xbf, 0xd7, 0xb7, 0x41, 0xfb, 0xbe, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16, 0x3a, 0x00, 0x05, 0x02, 0x00,
        0x00, 0x01, 0x00, 0x8f, 0x00, 0xe6, 0x76, 0x00, 0x00, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00,
        0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x41, 0xfb,
        0xbe,
    ];

    /// DHCPv6 Information-Request from ISC dhclient 4.4.3-P1 (`dhclient -6 -S`) in the same
    /// namespace, same capture: fe80::1bba:bfd7:b741:fbbe.546 to ff02::1:2.547, hop limit 1,
    /// flow label 0xd3154, xid 0x7b23c6, client id DUID-LL 52:54:00:12:34:56, ORO 23 24 39 31,
    /// elapsed time 0. Its UDP checksum is the pseudo-header sum only (0x8c56; left to
    /// checksum offload on the veth), which is why parse_ipv6_udp does not verify it.
    pub(crate) static INFO_REQUEST_BYTES: [u8; 84] = [
        0x60, 0x0d, 0x31, 0x54, 0x00, 0x2c, 0x11, 0x01, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x1b, 0xba, 0xbf, 0xd7, 0xb7, 0x41, 0xfb, 0xbe, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x02, 0x22, 0x02, 0x23, 0x00,
        0x2c, 0x8c, 0x56, 0x0b, 0x7b, 0x23, 0xc6, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x03, 0x00, 0x01,
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x00, 0x06, 0x00, 0x08, 0x00, 0x17, 0x00, 0x18, 0x00,
        0x27, 0x00, 0x1f, 0x00, 0x08, 0x00, 0x02, 0x00, 0x00,
    ];

    /// Built by scapy 2.5.0: `Ether(src="02:00:5e:10:00:01", dst="52:54:00:12:34:56") /
    /// IPv6(src="fe80::5eff:fe10:1", dst="fe80::1bba:bfd7:b741:fbbe", hlim=255) /
    /// ICMPv6ND_NA(R=1, S=1, O=0, tgt="fe80::1") / ICMPv6NDOptDstLLAddr(lladdr=
    /// "02:00:5e:10:00:01")`: the answer to NS_BYTES, as an independent encoder writes it.
    pub(crate) static NA_FRAME_BYTES: [u8; 86] = [
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x5e, 0xff, 0xfe, 0x10, 0x00, 0x01, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x1b, 0xba, 0xbf, 0xd7, 0xb7, 0x41, 0xfb, 0xbe, 0x88, 0x00, 0x6e, 0x6a, 0xc0, 0x00,
        0x00, 0x00, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x01, 0x02, 0x01, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01,
    ];

    /// Built by scapy 2.5.0: `Ether(src="02:00:5e:10:00:01", dst="52:54:00:12:34:56") /
    /// IPv6(src="fe80::5eff:fe10:1", dst="fe80::1bba:bfd7:b741:fbbe", hlim=64) /
    /// UDP(sport=547, dport=546) / b"nfdhcpd!?"`.
    pub(crate) static UDP_FRAME_BYTES: [u8; 71] = [
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x11, 0x11, 0x40, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x5e, 0xff, 0xfe, 0x10, 0x00, 0x01, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x1b, 0xba, 0xbf, 0xd7, 0xb7, 0x41, 0xfb, 0xbe, 0x02, 0x23, 0x02, 0x22, 0x00, 0x11,
        0x39, 0x81, 0x6e, 0x66, 0x64, 0x68, 0x63, 0x70, 0x64, 0x21, 0x3f,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::dhcp4::Request;

    /// A DHCPDISCOVER from ISC dhclient 4.4.3-P1 (Debian), captured with tcpdump on a veth
    /// pair in a scratch network namespace; the 14-byte Ethernet header is cut off, since
    /// NFQUEUE hands us the packet from the IP header on. Note TOS 0x10 and TTL 128: that is
    /// what dhclient's raw socket writes.
    static DISCOVER_IP_BYTES: [u8; 328] = [
        0x45, 0x10, 0x01, 0x48, 0x00, 0x00, 0x00, 0x00, 0x80, 0x11, 0x39, 0x96, 0x00, 0x00, 0x00,
        0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x44, 0x00, 0x43, 0x01, 0x34, 0x40, 0xac, 0x01, 0x01,
        0x06, 0x00, 0x44, 0xca, 0xa7, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x52, 0x54, 0x00, 0x12,
        0x34, 0x56, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x63, 0x82, 0x53, 0x63, 0x35, 0x01,
        0x01, 0x0c, 0x02, 0x76, 0x6d, 0x37, 0x0d, 0x01, 0x1c, 0x02, 0x03, 0x0f, 0x06, 0x77, 0x0c,
        0x2c, 0x2f, 0x1a, 0x79, 0x2a, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    /// Built by scapy 2.5.0 (`Ether/IP(id=0, ttl=64, flags=0)/UDP(67, 68)/b"nfdhcpd!?"`),
    /// an independent encoder of the same header fields emit_ipv4_udp writes. The odd
    /// payload length exercises the zero padding of the last checksum word.
    static SCAPY_FRAME_BYTES: [u8; 51] = [
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, 0x08, 0x00, 0x45,
        0x00, 0x00, 0x25, 0x00, 0x00, 0x00, 0x00, 0x40, 0x11, 0xf6, 0x94, 0xc0, 0x00, 0x02, 0x01,
        0xc0, 0x00, 0x02, 0x32, 0x00, 0x43, 0x00, 0x44, 0x00, 0x11, 0xa1, 0xb0, 0x6e, 0x66, 0x64,
        0x68, 0x63, 0x70, 0x64, 0x21, 0x3f,
    ];

    fn scapy_header() -> Ipv4UdpHeader {
        Ipv4UdpHeader {
            src_mac: "02:00:5e:10:00:01".parse().unwrap(),
            dst_mac: "52:54:00:12:34:56".parse().unwrap(),
            src_ip: Ipv4Addr::new(192, 0, 2, 1),
            dst_ip: Ipv4Addr::new(192, 0, 2, 50),
            src_port: 67,
            dst_port: 68,
        }
    }

    /// The fixture with the IPv4 header replaced by `edit` (header checksum not fixed up:
    /// the parser does not verify it).
    fn edited(edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut p = DISCOVER_IP_BYTES.to_vec();
        edit(&mut p);
        p
    }

    fn set_u16(p: &mut [u8], at: usize, v: u16) {
        p[at..at + 2].copy_from_slice(&v.to_be_bytes());
    }

    #[test]
    fn deconstruct() {
        let udp = parse_ipv4_udp(&DISCOVER_IP_BYTES).unwrap();
        assert_eq!(udp.src, Ipv4Addr::UNSPECIFIED);
        assert_eq!(udp.dst, Ipv4Addr::BROADCAST);
        assert_eq!(udp.src_port, 68);
        assert_eq!(udp.dst_port, 67);
        assert_eq!(udp.payload.len(), 300);
        // BOOTREQUEST, Ethernet, hlen 6, 0 hops.
        assert_eq!(&udp.payload[..4], &[1, 1, 6, 0]);
        assert_eq!(udp.payload, &DISCOVER_IP_BYTES[28..]);
    }

    #[test]
    fn fixture_checksums_verify() {
        let ip_hdr = &DISCOVER_IP_BYTES[..IPV4_HDR_LEN];
        assert_eq!(checksum_fold(ones_complement_sum(0, ip_hdr)), 0);
        let udp = &DISCOVER_IP_BYTES[IPV4_HDR_LEN..];
        let pseudo = ipv4_pseudo_header_sum(
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::BROADCAST,
            IP_PROTO_UDP,
            udp.len() as u16,
        );
        assert_eq!(checksum_fold(ones_complement_sum(pseudo, udp)), 0);
    }

    #[test]
    fn checksum_matches_pnet() {
        let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
        for len in 0..200 {
            let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            // pnet skips the word at `skipword`; point it past the data.
            let theirs = pnet_packet::util::checksum(&data, len + 1);
            let ours = checksum_fold(ones_complement_sum(0, &data));
            // pnet returns 0 for empty data instead of the complement of 0.
            if len > 0 {
                assert_eq!(ours, theirs, "len {len}");
            }
        }
    }

    #[test]
    fn ones_complement_sum_chains() {
        let data: Vec<u8> = (0..=255).collect();
        let whole = ones_complement_sum(0, &data);
        let chained = ones_complement_sum(ones_complement_sum(0, &data[..100]), &data[100..]);
        assert_eq!(whole, chained);
        assert!(ones_complement_sum(0xffff_ffff, &[0xff; 64]) <= 0xffff);
    }

    #[test]
    fn parse_trailing_padding() {
        let p = edited(|p| p.extend_from_slice(&[0xa5; 18]));
        let udp = parse_ipv4_udp(&p).unwrap();
        assert_eq!(udp, parse_ipv4_udp(&DISCOVER_IP_BYTES).unwrap());
    }

    #[test]
    fn parse_fragment() {
        let more_fragments = edited(|p| set_u16(p, 6, 0x2000));
        assert_eq!(parse_ipv4_udp(&more_fragments), Err(WireError::Fragmented));
        let later_fragment = edited(|p| set_u16(p, 6, 0x0001));
        assert_eq!(parse_ipv4_udp(&later_fragment), Err(WireError::Fragmented));
        let dont_fragment = edited(|p| set_u16(p, 6, 0x4000));
        assert!(parse_ipv4_udp(&dont_fragment).is_ok());
    }

    #[test]
    fn parse_bad_version() {
        let v6 = edited(|p| p[0] = 0x65);
        assert_eq!(parse_ipv4_udp(&v6), Err(WireError::BadVersion));
    }

    #[test]
    fn parse_bad_ihl() {
        let short_ihl = edited(|p| p[0] = 0x44);
        assert_eq!(parse_ipv4_udp(&short_ihl), Err(WireError::BadHeaderLen));
        // IHL 15 (60 bytes) in a packet whose total length is 40.
        let long_ihl = edited(|p| {
            p[0] = 0x4f;
            set_u16(p, 2, 40);
        });
        assert_eq!(parse_ipv4_udp(&long_ihl), Err(WireError::BadHeaderLen));
    }

    #[test]
    fn parse_ip_options() {
        // Four NOP option bytes after the fixed header, IHL 6, total length 332.
        let p = edited(|p| {
            p[0] = 0x46;
            set_u16(p, 2, 332);
            p.splice(20..20, [1, 1, 1, 1]);
        });
        let udp = parse_ipv4_udp(&p).unwrap();
        assert_eq!(udp, parse_ipv4_udp(&DISCOVER_IP_BYTES).unwrap());
    }

    #[test]
    fn parse_wrong_protocol() {
        let tcp = edited(|p| p[9] = 6);
        assert_eq!(parse_ipv4_udp(&tcp), Err(WireError::WrongProtocol));
    }

    #[test]
    fn parse_short_udp_length() {
        for len in 0..8 {
            let p = edited(|p| set_u16(p, 24, len));
            assert_eq!(parse_ipv4_udp(&p), Err(WireError::BadLength), "len {len}");
        }
        // Exactly a header: an empty payload.
        let p = edited(|p| set_u16(p, 24, 8));
        assert_eq!(parse_ipv4_udp(&p).unwrap().payload, &[] as &[u8]);
    }

    #[test]
    fn parse_udp_length_past_end() {
        let p = edited(|p| set_u16(p, 24, 309));
        assert_eq!(parse_ipv4_udp(&p), Err(WireError::BadLength));
        // Bytes beyond the IP total length do not count as UDP payload.
        let p = edited(|p| {
            set_u16(p, 24, 309);
            p.push(0);
        });
        assert_eq!(parse_ipv4_udp(&p), Err(WireError::BadLength));
    }

    #[test]
    fn parse_shorter_udp_length() {
        // A UDP length below what the IP packet holds cuts the payload there.
        let p = edited(|p| set_u16(p, 24, 8 + 240));
        assert_eq!(
            parse_ipv4_udp(&p).unwrap().payload,
            &DISCOVER_IP_BYTES[28..268]
        );
    }

    #[test]
    fn parse_total_length_past_buffer() {
        let p = edited(|p| set_u16(p, 2, 329));
        assert_eq!(parse_ipv4_udp(&p), Err(WireError::Truncated));
    }

    #[test]
    fn parse_ip_only_no_udp_header() {
        let p = edited(|p| {
            set_u16(p, 2, 24);
            p.truncate(24);
        });
        assert_eq!(parse_ipv4_udp(&p), Err(WireError::Truncated));
    }

    #[test]
    fn short_packet() {
        for len in 0..DISCOVER_IP_BYTES.len() {
            assert!(
                parse_ipv4_udp(&DISCOVER_IP_BYTES[..len]).is_err(),
                "len {len}"
            );
        }
        assert_eq!(parse_ipv4_udp(&[]), Err(WireError::Truncated));
        assert_eq!(
            parse_ipv4_udp(&DISCOVER_IP_BYTES[..19]),
            Err(WireError::Truncated)
        );
        assert_eq!(
            parse_ipv4_udp(&DISCOVER_IP_BYTES[..20]),
            Err(WireError::Truncated)
        );
    }

    #[test]
    fn construct() {
        let payload = b"nfdhcpd!?";
        let mut buf = [0xa5u8; 64];
        buf[IPV4_UDP_PAYLOAD_OFFSET..][..payload.len()].copy_from_slice(payload);
        let len = emit_ipv4_udp(&mut buf, &scapy_header(), payload.len()).unwrap();
        assert_eq!(len, SCAPY_FRAME_BYTES.len());
        assert_eq!(&buf[..len], &SCAPY_FRAME_BYTES[..]);
        // Nothing past the frame was touched.
        assert!(buf[len..].iter().all(|&b| b == 0xa5));
    }

    #[test]
    fn emit_then_parse() {
        let mut buf = [0xa5u8; 1500];
        buf[IPV4_UDP_PAYLOAD_OFFSET..][..300].copy_from_slice(&DISCOVER_IP_BYTES[28..]);
        let hdr = scapy_header();
        let len = emit_ipv4_udp(&mut buf, &hdr, 300).unwrap();
        assert_eq!(len, 342);
        let udp = parse_ipv4_udp(&buf[ETH_HDR_LEN..len]).unwrap();
        assert_eq!((udp.src, udp.dst), (hdr.src_ip, hdr.dst_ip));
        assert_eq!((udp.src_port, udp.dst_port), (67, 68));
        assert_eq!(udp.payload, &DISCOVER_IP_BYTES[28..]);
    }

    #[test]
    fn emit_checksums_verify_with_pnet() {
        use pnet_packet::ipv4::{self, Ipv4Packet};
        use pnet_packet::udp::{self, UdpPacket};
        let mut rng = XorShift(7);
        for payload_len in [0, 1, 2, 3, 299, 300, 301, 1400] {
            let mut buf = vec![0xa5u8; IPV4_UDP_PAYLOAD_OFFSET + payload_len];
            for b in &mut buf[IPV4_UDP_PAYLOAD_OFFSET..] {
                *b = rng.next() as u8;
            }
            let hdr = scapy_header();
            let len = emit_ipv4_udp(&mut buf, &hdr, payload_len).unwrap();
            let ip = Ipv4Packet::new(&buf[ETH_HDR_LEN..len]).unwrap();
            assert_eq!(ip.get_checksum(), ipv4::checksum(&ip));
            let udp = UdpPacket::new(&buf[ETH_HDR_LEN + IPV4_HDR_LEN..len]).unwrap();
            let expected = match udp::ipv4_checksum(&udp, &hdr.src_ip, &hdr.dst_ip) {
                0 => 0xffff,
                c => c,
            };
            assert_eq!(udp.get_checksum(), expected, "payload_len {payload_len}");
            assert_eq!(udp.get_length() as usize, UDP_HDR_LEN + payload_len);
            assert_eq!(ip.get_total_length() as usize, len - ETH_HDR_LEN);
        }
    }

    #[test]
    fn emit_udp_zero_checksum_sent_as_ffff() {
        let hdr = scapy_header();
        let mut buf = [0u8; IPV4_UDP_PAYLOAD_OFFSET + 2];
        emit_ipv4_udp(&mut buf, &hdr, 2).unwrap();
        // A payload word equal to the checksum of the zero payload makes the sum 0xffff,
        // so the computed checksum becomes 0.
        let c = u16::from_be_bytes([buf[40], buf[41]]);
        buf[IPV4_UDP_PAYLOAD_OFFSET..].copy_from_slice(&c.to_be_bytes());
        emit_ipv4_udp(&mut buf, &hdr, 2).unwrap();
        assert_eq!(&buf[40..42], &[0xff, 0xff]);
        let udp = &buf[ETH_HDR_LEN + IPV4_HDR_LEN..];
        let pseudo = ipv4_pseudo_header_sum(hdr.src_ip, hdr.dst_ip, IP_PROTO_UDP, 10);
        assert_eq!(checksum_fold(ones_complement_sum(pseudo, udp)), 0);
    }

    #[test]
    fn emit_buffer_too_small() {
        let mut buf = [0xa5u8; 50];
        assert_eq!(
            emit_ipv4_udp(&mut buf, &scapy_header(), 9),
            Err(WireError::BufferTooSmall)
        );
        assert!(buf.iter().all(|&b| b == 0xa5));
        assert_eq!(emit_ipv4_udp(&mut buf, &scapy_header(), 8), Ok(50));
    }

    #[test]
    fn emit_value_too_long() {
        let mut buf = vec![0u8; ETH_HDR_LEN + 65536];
        let max = 65535 - IPV4_HDR_LEN - UDP_HDR_LEN;
        assert_eq!(
            emit_ipv4_udp(&mut buf, &scapy_header(), max + 1),
            Err(WireError::ValueTooLong)
        );
        assert_eq!(
            emit_ipv4_udp(&mut buf, &scapy_header(), usize::MAX),
            Err(WireError::ValueTooLong)
        );
        assert_eq!(
            emit_ipv4_udp(&mut buf, &scapy_header(), max),
            Ok(ETH_HDR_LEN + 65535)
        );
    }

    #[test]
    fn emit_ethernet_header_fields() {
        let mut buf = [0xa5u8; 15];
        let src: MacAddr = "02:00:5e:10:00:01".parse().unwrap();
        emit_ethernet_header(&mut buf, src, MacAddr::BROADCAST, ETHERTYPE_IPV6).unwrap();
        assert_eq!(&buf[..6], &[0xff; 6]);
        assert_eq!(&buf[6..12], &src.octets());
        assert_eq!(&buf[12..], &[0x86, 0xdd, 0xa5]);
        assert_eq!(
            emit_ethernet_header(&mut buf[..13], src, src, ETHERTYPE_IPV4),
            Err(WireError::BufferTooSmall)
        );
    }

    use crate::wire::testing::{random_buffers, XorShift};

    /// Random buffers, and the fixture with random bytes flipped and random cuts, through
    /// parse_ipv4_udp and on into Request::parse: errors are fine, panics are not.
    #[test]
    fn robustness_random_buffers() {
        let mut accepted = 0;
        let make = |rng: &mut XorShift, round: usize| {
            let mut p = if round.is_multiple_of(2) {
                rng.noise(400)
            } else {
                DISCOVER_IP_BYTES.to_vec()
            };
            for _ in 0..(rng.next() % 4) {
                if !p.is_empty() {
                    let at = (rng.next() as usize) % p.len();
                    p[at] = rng.next() as u8;
                }
            }
            let cut = (rng.next() as usize) % (p.len() + 1);
            p.truncate(if round.is_multiple_of(3) {
                cut
            } else {
                p.len()
            });
            p
        };
        random_buffers(0x9e37_79b9_7f4a_7c15, 6000, make, |_, p| {
            if let Ok(udp) = parse_ipv4_udp(p) {
                accepted += usize::from(Request::parse(udp.payload).is_ok());
            }
        });
        // The mutated fixtures must reach the DHCP parser often enough to mean something.
        assert!(accepted > 500, "only {accepted} reached a parsed request");
    }

    // ---- IPv6 ----

    use super::ipv6_fixtures::{
        INFO_REQUEST_BYTES, MLD_REPORT_BYTES, NA_FRAME_BYTES, NS_BYTES, NS_DAD_BYTES, RS_BYTES,
        UDP_FRAME_BYTES,
    };

    /// The stable-privacy link-local of the captured VM.
    fn vm_ll() -> Ipv6Addr {
        "fe80::1bba:bfd7:b741:fbbe".parse().unwrap()
    }

    /// The EUI-64 link-local of the host side, 02:00:5e:10:00:01.
    fn host_ll() -> Ipv6Addr {
        "fe80::5eff:fe10:1".parse().unwrap()
    }

    /// What the scapy frames were built with (hop limit per frame).
    fn scapy_v6_header(hop_limit: u8) -> Ipv6Header {
        Ipv6Header {
            src_mac: "02:00:5e:10:00:01".parse().unwrap(),
            dst_mac: "52:54:00:12:34:56".parse().unwrap(),
            src_ip: host_ll(),
            dst_ip: vm_ll(),
            hop_limit,
        }
    }

    fn edited_v6(fixture: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut p = fixture.to_vec();
        edit(&mut p);
        p
    }

    #[test]
    fn parse_ipv6_fields() {
        let ip = parse_ipv6(&NS_BYTES).unwrap();
        assert_eq!(ip.src, vm_ll());
        assert_eq!(ip.dst, "ff02::1:ff00:1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(ip.next_header, IP_PROTO_ICMPV6);
        assert_eq!(ip.hop_limit, 255);
        assert_eq!(ip.payload, &NS_BYTES[IPV6_HDR_LEN..]);
        // Traffic class and flow label are not looked at.
        let ip = parse_ipv6(&INFO_REQUEST_BYTES).unwrap();
        assert_eq!((ip.next_header, ip.hop_limit), (IP_PROTO_UDP, 1));
        assert_eq!(ip.payload.len(), 44);
    }

    #[test]
    fn parse_ipv6_trailing_padding() {
        let p = edited_v6(&RS_BYTES, |p| p.extend_from_slice(&[0xa5; 10]));
        assert_eq!(parse_ipv6(&p), parse_ipv6(&RS_BYTES));
        assert_eq!(parse_icmpv6(&p).unwrap().body, &RS_BYTES[44..]);
    }

    #[test]
    fn parse_ipv6_bad_version() {
        for first in [0x40, 0x00, 0x70, 0xf0] {
            let p = edited_v6(&RS_BYTES, |p| p[0] = first);
            assert_eq!(parse_ipv6(&p), Err(WireError::BadVersion));
            assert_eq!(parse_icmpv6(&p), Err(WireError::BadVersion));
            assert_eq!(parse_ipv6_udp(&p), Err(WireError::BadVersion));
        }
    }

    #[test]
    fn parse_ipv6_payload_length_past_buffer() {
        let p = edited_v6(&RS_BYTES, |p| set_u16(p, 4, 17));
        assert_eq!(parse_ipv6(&p), Err(WireError::Truncated));
        let p = edited_v6(&RS_BYTES, |p| set_u16(p, 4, 0xffff));
        assert_eq!(parse_icmpv6(&p), Err(WireError::Truncated));
    }

    #[test]
    fn parse_icmpv6_rs() {
        let icmp = parse_icmpv6(&RS_BYTES).unwrap();
        assert_eq!(
            icmp,
            Icmpv6 {
                src: vm_ll(),
                dst: "ff02::2".parse().unwrap(),
                hop_limit: 255,
                icmp_type: Icmpv6Type::RouterSolicit,
                code: 0,
                body: &[0, 0, 0, 0, 1, 1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56],
            }
        );
    }

    #[test]
    fn parse_icmpv6_captures_verify() {
        for (fixture, icmp_type) in [(&RS_BYTES[..], 133), (&NS_BYTES, 135), (&NS_DAD_BYTES, 135)] {
            let icmp = parse_icmpv6(fixture).unwrap();
            assert_eq!(u8::from(icmp.icmp_type), icmp_type);
            assert_eq!(icmp.body, &fixture[IPV6_PAYLOAD_OFFSET - ETH_HDR_LEN + 4..]);
        }
        let dad = parse_icmpv6(&NS_DAD_BYTES).unwrap();
        assert!(dad.src.is_unspecified());
    }

    #[test]
    fn parse_icmpv6_bad_checksum() {
        // A flipped bit in the checksum, the body, the source address (pseudo-header) and
        // the payload length (a shorter message).
        for at in [42, 43, 44, 55, 9, 39] {
            let p = edited_v6(&RS_BYTES, |p| p[at] ^= 0x01);
            assert_eq!(parse_icmpv6(&p), Err(WireError::BadChecksum), "byte {at}");
        }
        let p = edited_v6(&RS_BYTES, |p| set_u16(p, 4, 8));
        assert_eq!(parse_icmpv6(&p), Err(WireError::BadChecksum));
        // A zero checksum is no exemption.
        let p = edited_v6(&RS_BYTES, |p| set_u16(p, 42, 0));
        assert_eq!(parse_icmpv6(&p), Err(WireError::BadChecksum));
        // The hop limit is not covered.
        let p = edited_v6(&RS_BYTES, |p| p[7] = 64);
        assert_eq!(parse_icmpv6(&p).unwrap().hop_limit, 64);
    }

    #[test]
    fn parse_icmpv6_wrong_protocol() {
        // MLD starts with a hop-by-hop header, which is not walked.
        assert_eq!(
            parse_icmpv6(&MLD_REPORT_BYTES),
            Err(WireError::WrongProtocol)
        );
        assert_eq!(
            parse_icmpv6(&INFO_REQUEST_BYTES),
            Err(WireError::WrongProtocol)
        );
        assert_eq!(parse_ipv6_udp(&RS_BYTES), Err(WireError::WrongProtocol));
        assert_eq!(
            parse_ipv6_udp(&MLD_REPORT_BYTES),
            Err(WireError::WrongProtocol)
        );
    }

    #[test]
    fn parse_icmpv6_short_message() {
        for len in 0..4u16 {
            let p = edited_v6(&RS_BYTES, |p| {
                set_u16(p, 4, len);
                p.truncate(40 + usize::from(len));
            });
            assert_eq!(parse_icmpv6(&p), Err(WireError::Truncated), "len {len}");
        }
    }

    #[test]
    fn parse_ipv6_udp_info_request() {
        let udp = parse_ipv6_udp(&INFO_REQUEST_BYTES).unwrap();
        assert_eq!(udp.src, vm_ll());
        assert_eq!(udp.dst, "ff02::1:2".parse::<Ipv6Addr>().unwrap());
        assert_eq!((udp.src_port, udp.dst_port), (546, 547));
        assert_eq!(udp.payload, &INFO_REQUEST_BYTES[48..]);
        // Information-Request, xid 0x7b23c6.
        assert_eq!(&udp.payload[..4], &[11, 0x7b, 0x23, 0xc6]);
    }

    #[test]
    fn parse_ipv6_udp_lengths() {
        for len in 0..8 {
            let p = edited_v6(&INFO_REQUEST_BYTES, |p| set_u16(p, 44, len));
            assert_eq!(parse_ipv6_udp(&p), Err(WireError::BadLength), "len {len}");
        }
        let p = edited_v6(&INFO_REQUEST_BYTES, |p| set_u16(p, 44, 45));
        assert_eq!(parse_ipv6_udp(&p), Err(WireError::BadLength));
        // Bytes past the IPv6 payload length do not count.
        let p = edited_v6(&INFO_REQUEST_BYTES, |p| {
            set_u16(p, 44, 45);
            p.push(0);
        });
        assert_eq!(parse_ipv6_udp(&p), Err(WireError::BadLength));
        let p = edited_v6(&INFO_REQUEST_BYTES, |p| set_u16(p, 44, 8 + 4));
        assert_eq!(
            parse_ipv6_udp(&p).unwrap().payload,
            &INFO_REQUEST_BYTES[48..52]
        );
        let p = edited_v6(&INFO_REQUEST_BYTES, |p| set_u16(p, 44, 8));
        assert_eq!(parse_ipv6_udp(&p).unwrap().payload, &[] as &[u8]);
    }

    #[test]
    fn parse_ipv6_udp_no_udp_header() {
        let p = edited_v6(&INFO_REQUEST_BYTES, |p| {
            set_u16(p, 4, 7);
            p.truncate(47);
        });
        assert_eq!(parse_ipv6_udp(&p), Err(WireError::Truncated));
    }

    #[test]
    fn short_packet_ipv6() {
        for fixture in [&RS_BYTES[..], &NS_BYTES, &NS_DAD_BYTES, &INFO_REQUEST_BYTES] {
            for len in 0..fixture.len() {
                let cut = &fixture[..len];
                // Below 40 bytes the header is cut; above, the payload length points past
                // the end. Either way nothing of the packet is trusted.
                assert_eq!(parse_ipv6(cut), Err(WireError::Truncated), "len {len}");
                assert_eq!(parse_icmpv6(cut), Err(WireError::Truncated));
                assert_eq!(parse_ipv6_udp(cut), Err(WireError::Truncated));
            }
        }
    }

    #[test]
    fn ipv6_multicast_mac_values() {
        let mac = |s: &str| ipv6_multicast_mac(&s.parse().unwrap()).to_string();
        assert_eq!(mac("ff02::1"), "33:33:00:00:00:01");
        assert_eq!(mac("ff02::2"), "33:33:00:00:00:02");
        assert_eq!(mac("ff02::1:2"), "33:33:00:01:00:02");
        // The Ethernet destination the kernel used for the DAD NS.
        assert_eq!(mac("ff02::1:ff41:fbbe"), "33:33:ff:41:fb:be");
    }

    #[test]
    fn ipv6_pseudo_header_sum_covers_fixture() {
        let udp = &INFO_REQUEST_BYTES[IPV6_HDR_LEN..];
        let ip = parse_ipv6(&INFO_REQUEST_BYTES).unwrap();
        let pseudo = ipv6_pseudo_header_sum(&ip.src, &ip.dst, IP_PROTO_UDP, 44);
        // dhclient left only the folded pseudo-header sum in the checksum field, for the
        // NIC to finish: that is exactly our pseudo-header sum.
        assert_eq!(pseudo, u32::from(read_u16(udp, 6..8)));
        // The checksum of the ICMPv6 fixtures verifies with it.
        let ip = parse_ipv6(&NS_BYTES).unwrap();
        let pseudo = ipv6_pseudo_header_sum(&ip.src, &ip.dst, IP_PROTO_ICMPV6, 32);
        assert_eq!(checksum_fold(ones_complement_sum(pseudo, ip.payload)), 0);
    }

    #[test]
    fn emit_ipv6_icmpv6_construct() {
        let icmp = &NA_FRAME_BYTES[IPV6_PAYLOAD_OFFSET..];
        let mut buf = [0xa5u8; 120];
        buf[IPV6_PAYLOAD_OFFSET..][..icmp.len()].copy_from_slice(icmp);
        // Whatever the checksum field held is replaced.
        buf[IPV6_PAYLOAD_OFFSET + 2] = 0xa5;
        let len = emit_ipv6_icmpv6(&mut buf, &scapy_v6_header(255), icmp.len()).unwrap();
        assert_eq!(len, NA_FRAME_BYTES.len());
        assert_eq!(&buf[..len], &NA_FRAME_BYTES[..]);
        assert!(buf[len..].iter().all(|&b| b == 0xa5));
    }

    #[test]
    fn emit_ipv6_udp_construct() {
        let payload = b"nfdhcpd!?";
        let mut buf = [0xa5u8; 100];
        buf[IPV6_UDP_PAYLOAD_OFFSET..][..payload.len()].copy_from_slice(payload);
        let len = emit_ipv6_udp(&mut buf, &scapy_v6_header(64), 547, 546, payload.len()).unwrap();
        assert_eq!(len, UDP_FRAME_BYTES.len());
        assert_eq!(&buf[..len], &UDP_FRAME_BYTES[..]);
        assert!(buf[len..].iter().all(|&b| b == 0xa5));
    }

    #[test]
    fn emit_ipv6_then_parse() {
        let hdr = scapy_v6_header(255);
        let mut buf = [0xa5u8; 200];
        let body = &RS_BYTES[IPV6_HDR_LEN..];
        buf[IPV6_PAYLOAD_OFFSET..][..body.len()].copy_from_slice(body);
        let len = emit_ipv6_icmpv6(&mut buf, &hdr, body.len()).unwrap();
        let icmp = parse_icmpv6(&buf[ETH_HDR_LEN..len]).unwrap();
        assert_eq!(
            (icmp.src, icmp.dst, icmp.hop_limit),
            (hdr.src_ip, hdr.dst_ip, 255)
        );
        assert_eq!((u8::from(icmp.icmp_type), icmp.code), (133, 0));
        assert_eq!(icmp.body, &RS_BYTES[44..]);

        let payload = &INFO_REQUEST_BYTES[48..];
        buf[IPV6_UDP_PAYLOAD_OFFSET..][..payload.len()].copy_from_slice(payload);
        let len = emit_ipv6_udp(&mut buf, &hdr, 547, 546, payload.len()).unwrap();
        assert_eq!(len, IPV6_UDP_PAYLOAD_OFFSET + payload.len());
        let udp = parse_ipv6_udp(&buf[ETH_HDR_LEN..len]).unwrap();
        assert_eq!((udp.src, udp.dst), (hdr.src_ip, hdr.dst_ip));
        assert_eq!((udp.src_port, udp.dst_port), (547, 546));
        assert_eq!(udp.payload, payload);
    }

    #[test]
    fn emit_ipv6_checksums_verify_with_pnet() {
        use pnet_packet::icmpv6::{self, Icmpv6Packet};
        use pnet_packet::ipv6::Ipv6Packet as PnetIpv6;
        use pnet_packet::udp::{self, UdpPacket};
        let mut rng = XorShift(11);
        let hdr = scapy_v6_header(255);
        for payload_len in [4, 5, 6, 7, 31, 32, 33, 1400] {
            let mut buf = vec![0xa5u8; IPV6_UDP_PAYLOAD_OFFSET + payload_len];
            for b in &mut buf[IPV6_PAYLOAD_OFFSET..] {
                *b = rng.next() as u8;
            }
            let len = emit_ipv6_icmpv6(&mut buf, &hdr, payload_len).unwrap();
            let ip = PnetIpv6::new(&buf[ETH_HDR_LEN..len]).unwrap();
            assert_eq!(ip.get_version(), 6);
            assert_eq!(usize::from(ip.get_payload_length()), payload_len);
            assert_eq!(ip.get_next_header().0, IP_PROTO_ICMPV6);
            assert_eq!(
                (ip.get_source(), ip.get_destination()),
                (hdr.src_ip, hdr.dst_ip)
            );
            let icmp = Icmpv6Packet::new(&buf[IPV6_PAYLOAD_OFFSET..len]).unwrap();
            assert_eq!(
                icmp.get_checksum(),
                icmpv6::checksum(&icmp, &hdr.src_ip, &hdr.dst_ip),
                "icmp len {payload_len}"
            );
            assert!(parse_icmpv6(&buf[ETH_HDR_LEN..len]).is_ok());

            let len = emit_ipv6_udp(&mut buf, &hdr, 547, 546, payload_len).unwrap();
            let udp = UdpPacket::new(&buf[IPV6_PAYLOAD_OFFSET..len]).unwrap();
            let expected = match udp::ipv6_checksum(&udp, &hdr.src_ip, &hdr.dst_ip) {
                0 => 0xffff,
                c => c,
            };
            assert_eq!(udp.get_checksum(), expected, "udp payload {payload_len}");
            assert_eq!(usize::from(udp.get_length()), UDP_HDR_LEN + payload_len);
        }
    }

    #[test]
    fn emit_ipv6_udp_zero_checksum_sent_as_ffff() {
        let hdr = scapy_v6_header(64);
        let mut buf = [0u8; IPV6_UDP_PAYLOAD_OFFSET + 2];
        emit_ipv6_udp(&mut buf, &hdr, 547, 546, 2).unwrap();
        let c = u16::from_be_bytes([buf[60], buf[61]]);
        buf[IPV6_UDP_PAYLOAD_OFFSET..].copy_from_slice(&c.to_be_bytes());
        emit_ipv6_udp(&mut buf, &hdr, 547, 546, 2).unwrap();
        assert_eq!(&buf[60..62], &[0xff, 0xff]);
        let pseudo = ipv6_pseudo_header_sum(&hdr.src_ip, &hdr.dst_ip, IP_PROTO_UDP, 10);
        assert_eq!(checksum_fold(ones_complement_sum(pseudo, &buf[54..])), 0);
    }

    #[test]
    fn emit_ipv6_errors() {
        let hdr = scapy_v6_header(255);
        let mut buf = [0xa5u8; 80];
        assert_eq!(
            emit_ipv6_icmpv6(&mut buf, &hdr, 27),
            Err(WireError::BufferTooSmall)
        );
        assert_eq!(
            emit_ipv6_udp(&mut buf, &hdr, 1, 2, 19),
            Err(WireError::BufferTooSmall)
        );
        for short in 0..4 {
            assert_eq!(
                emit_ipv6_icmpv6(&mut buf, &hdr, short),
                Err(WireError::BadLength)
            );
        }
        assert!(buf.iter().all(|&b| b == 0xa5));
        assert_eq!(emit_ipv6_icmpv6(&mut buf, &hdr, 26), Ok(80));
        assert_eq!(emit_ipv6_udp(&mut buf, &hdr, 1, 2, 18), Ok(80));

        let mut big = vec![0u8; IPV6_PAYLOAD_OFFSET + 65536];
        assert_eq!(
            emit_ipv6_icmpv6(&mut big, &hdr, 65536),
            Err(WireError::ValueTooLong)
        );
        assert_eq!(
            emit_ipv6_icmpv6(&mut big, &hdr, usize::MAX),
            Err(WireError::ValueTooLong)
        );
        assert_eq!(
            emit_ipv6_udp(&mut big, &hdr, 1, 2, 65535 - 7),
            Err(WireError::ValueTooLong)
        );
        assert_eq!(
            emit_ipv6_udp(&mut big, &hdr, 1, 2, usize::MAX),
            Err(WireError::ValueTooLong)
        );
        assert_eq!(
            emit_ipv6_icmpv6(&mut big, &hdr, 65535),
            Ok(IPV6_PAYLOAD_OFFSET + 65535)
        );
        assert_eq!(
            emit_ipv6_udp(&mut big, &hdr, 1, 2, 65535 - 8),
            Ok(IPV6_PAYLOAD_OFFSET + 65535)
        );
    }

    /// Random buffers, and the IPv6 fixtures with random bytes changed and random cuts,
    /// through the three IPv6 parsers and on into the NDP and DHCPv6 parsers: errors are
    /// fine, panics are not.
    #[test]
    fn robustness_random_buffers_ipv6() {
        use crate::wire::{dhcp6, ndp};
        let fixtures = [&RS_BYTES[..], &NS_BYTES, &NS_DAD_BYTES, &INFO_REQUEST_BYTES];
        let (mut icmp_ok, mut udp_ok) = (0, 0);
        let make = |rng: &mut XorShift, round: usize| {
            let mut p = if round.is_multiple_of(4) {
                let mut p = rng.noise(200);
                if let Some(b) = p.first_mut() {
                    *b = 0x60;
                }
                p
            } else {
                fixtures[(rng.next() % 4) as usize].to_vec()
            };
            for _ in 0..(rng.next() % 3) {
                if !p.is_empty() {
                    let at = (rng.next() as usize) % p.len();
                    p[at] = rng.next() as u8;
                }
            }
            if round.is_multiple_of(3) {
                let cut = (rng.next() as usize) % (p.len() + 1);
                p.truncate(cut);
            }
            p
        };
        random_buffers(0x6a09_e667_f3bc_c908, 20000, make, |_, p| {
            let _ = parse_ipv6(p);
            if let Ok(icmp) = parse_icmpv6(p) {
                icmp_ok += 1;
                let _ = ndp::RouterSolicit::parse(&icmp);
                let _ = ndp::NeighborSolicit::parse(&icmp);
                let _ = ndp::NeighborAdvert::parse(&icmp);
                let _ = ndp::RaPacket::new_checked(&icmp);
            }
            if let Ok(udp) = parse_ipv6_udp(p) {
                udp_ok += usize::from(dhcp6::Request::parse(udp.payload).is_ok());
            }
        });
        assert!(icmp_ok > 2000, "only {icmp_ok} ICMPv6 messages parsed");
        assert!(udp_ok > 500, "only {udp_ok} DHCPv6 requests parsed");
    }
}
