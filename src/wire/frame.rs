//! Ethernet II, IPv4 and UDP envelopes around the DHCP payload, and the Internet checksum.
//!
//! Parsing starts at the IPv4 header (NFQUEUE hands us the packet without its link-layer
//! header); emitting writes a whole Ethernet frame, because replies go out on an AF_PACKET
//! socket straight onto the VM's tap. The one's-complement helpers are shared with the
//! IPv6/ICMPv6 envelopes, which will live in this file too.

use std::net::Ipv4Addr;
use std::ops::Range;

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

/// The bytes of `f` in `bytes` as an array. Zeros when `f` is outside `bytes` or not `N`
/// long, which cannot happen for the fixed fields of a header whose length was checked
/// first; this way field reads need no `unwrap` and cannot panic.
fn read<const N: usize>(bytes: &[u8], f: Range<usize>) -> [u8; N] {
    bytes
        .get(f)
        .and_then(|s| <[u8; N]>::try_from(s).ok())
        .unwrap_or([0; N])
}

fn read_u16(bytes: &[u8], f: Range<usize>) -> u16 {
    u16::from_be_bytes(read(bytes, f))
}

fn read_u8(bytes: &[u8], at: usize) -> u8 {
    bytes.get(at).copied().unwrap_or(0)
}

/// Writes `value` at `f`; does nothing if it does not fit. Emitters slice their output to
/// the exact header length first, so every fixed field fits.
fn write(bytes: &mut [u8], f: Range<usize>, value: &[u8]) {
    if let Some(dst) = bytes.get_mut(f) {
        if dst.len() == value.len() {
            dst.copy_from_slice(value);
        }
    }
}

fn write_u8(bytes: &mut [u8], at: usize, value: u8) {
    if let Some(b) = bytes.get_mut(at) {
        *b = value;
    }
}

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
    let udp_hdr = body.get(..UDP_HDR_LEN).ok_or(WireError::Truncated)?;
    let udp_len = usize::from(read_u16(udp_hdr, field::udp::LENGTH));
    if udp_len < UDP_HDR_LEN {
        return Err(WireError::BadLength);
    }
    let payload = body.get(UDP_HDR_LEN..udp_len).ok_or(WireError::BadLength)?;
    Ok(Ipv4Udp {
        src: Ipv4Addr::from(read::<4>(hdr, field::ipv4::SRC)),
        dst: Ipv4Addr::from(read::<4>(hdr, field::ipv4::DST)),
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
    write(eth, field::eth::ETHERTYPE, &ethertype.to_be_bytes());
    Ok(())
}

/// Fills a 20-byte IPv4 header without options and computes its checksum.
fn emit_ipv4_header(ip: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, total: u16) {
    // Version 4, IHL 5 words.
    write_u8(ip, field::ipv4::VER_IHL, 0x45);
    write_u8(ip, field::ipv4::TOS, 0);
    write(ip, field::ipv4::LENGTH, &total.to_be_bytes());
    // Never fragmented, so the identification is not needed (RFC 6864 §4.1).
    write(ip, field::ipv4::IDENT, &[0, 0]);
    write(ip, field::ipv4::FLG_OFF, &[0, 0]);
    write_u8(ip, field::ipv4::TTL, DEFAULT_TTL);
    write_u8(ip, field::ipv4::PROTOCOL, protocol);
    write(ip, field::ipv4::CHECKSUM, &[0, 0]);
    write(ip, field::ipv4::SRC, &src.octets());
    write(ip, field::ipv4::DST, &dst.octets());
    let checksum = checksum_fold(ones_complement_sum(0, ip));
    write(ip, field::ipv4::CHECKSUM, &checksum.to_be_bytes());
}

/// Fills the UDP header at the start of `udp` (header + payload, exactly `len` bytes) and
/// its checksum over the IPv4 pseudo-header, header and payload.
fn emit_udp_header(udp: &mut [u8], hdr: &Ipv4UdpHeader, len: u16) {
    write(udp, field::udp::SRC_PORT, &hdr.src_port.to_be_bytes());
    write(udp, field::udp::DST_PORT, &hdr.dst_port.to_be_bytes());
    write(udp, field::udp::LENGTH, &len.to_be_bytes());
    write(udp, field::udp::CHECKSUM, &[0, 0]);
    let pseudo = ipv4_pseudo_header_sum(hdr.src_ip, hdr.dst_ip, IP_PROTO_UDP, len);
    let checksum = match checksum_fold(ones_complement_sum(pseudo, udp)) {
        // RFC 768: a zero checksum field means "no checksum"; a computed 0 goes out as
        // its one's-complement twin 0xffff.
        0 => 0xffff,
        c => c,
    };
    write(udp, field::udp::CHECKSUM, &checksum.to_be_bytes());
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

    /// Marsaglia's xorshift64: deterministic noise without a rand dependency.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// Random buffers, and the fixture with random bytes flipped and random cuts, through
    /// parse_ipv4_udp and on into Request::parse: errors are fine, panics are not.
    #[test]
    fn robustness_random_buffers() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let mut accepted = 0;
        for round in 0..6000 {
            let mut p = if round % 2 == 0 {
                let len = (rng.next() % 400) as usize;
                (0..len).map(|_| rng.next() as u8).collect()
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
            p.truncate(if round % 3 == 0 { cut } else { p.len() });
            if let Ok(udp) = parse_ipv4_udp(&p) {
                accepted += usize::from(Request::parse(udp.payload).is_ok());
            }
        }
        // The mutated fixtures must reach the DHCP parser often enough to mean something.
        assert!(accepted > 500, "only {accepted} reached a parsed request");
    }
}
