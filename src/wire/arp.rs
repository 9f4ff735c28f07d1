//! ARP over Ethernet for IPv4 (RFC 826): the one packet shape the daemon sends, the
//! gratuitous ARP of [`ArpPacket::gratuitous`], with `parse` (for tests and tools) and `emit`.
//!
//! Only hardware type 1 (Ethernet, 6-byte addresses) and protocol type 0x0800 (IPv4, 4-byte
//! addresses) are parsed; anything else is `BadHardwareAddr`.

use std::net::Ipv4Addr;

use super::bytes::{read, read_u16, read_u8, write, write_u16, write_u8};
use super::frame::{emit_ethernet_header, ETHERTYPE_IPV4, ETH_HDR_LEN};
use super::{MacAddr, WireError};

/// The Ethernet type of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// An Ethernet/IPv4 ARP packet: 8 bytes of header, two MAC + IPv4 address pairs.
pub const ARP_LEN: usize = 28;
/// An ARP frame on the wire, without the padding to 60 bytes the NIC (or the veth peer's
/// kernel) adds.
pub const ARP_FRAME_LEN: usize = ETH_HDR_LEN + ARP_LEN;

/// ARP hardware type of Ethernet.
const HTYPE_ETHERNET: u16 = 1;

mod field {
    pub type Field = std::ops::Range<usize>;
    pub const HTYPE: Field = 0..2;
    pub const PTYPE: Field = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Field = 6..8;
    pub const SHA: Field = 8..14;
    pub const SPA: Field = 14..18;
    pub const THA: Field = 18..24;
    pub const TPA: Field = 24..28;
}

enum_with_unknown! {
    /// The ARP operation.
    pub enum ArpOp(u16) {
        Request = 1,
        Reply = 2,
    }
}

/// An Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpPacket {
    pub op: ArpOp,
    pub sender_mac: MacAddr,
    pub sender_ip: Ipv4Addr,
    pub target_mac: MacAddr,
    pub target_ip: Ipv4Addr,
}

impl ArpPacket {
    /// A gratuitous ARP announcing that `ip` is at `mac` (RFC 5227 §3, an ARP Announcement):
    /// a request with sender and target protocol address both `ip`, the target hardware
    /// address zero. A request rather than a reply because every host processes a broadcast
    /// request, and Linux updates an existing neighbour entry from either.
    pub fn gratuitous(mac: MacAddr, ip: Ipv4Addr) -> ArpPacket {
        ArpPacket {
            op: ArpOp::Request,
            sender_mac: mac,
            sender_ip: ip,
            target_mac: MacAddr([0; 6]),
            target_ip: ip,
        }
    }

    /// Whether this announces its sender (sender and target protocol address the same).
    pub fn is_gratuitous(&self) -> bool {
        self.sender_ip == self.target_ip
    }

    /// Parses the ARP packet at the start of `buf` (what follows the Ethernet header;
    /// trailing padding is ignored).
    pub fn parse(buf: &[u8]) -> Result<ArpPacket, WireError> {
        let arp = buf.get(..ARP_LEN).ok_or(WireError::Truncated)?;
        if read_u16(arp, field::HTYPE) != HTYPE_ETHERNET
            || read_u16(arp, field::PTYPE) != ETHERTYPE_IPV4
            || read_u8(arp, field::HLEN) != 6
            || read_u8(arp, field::PLEN) != 4
        {
            return Err(WireError::BadHardwareAddr);
        }
        Ok(ArpPacket {
            op: ArpOp::from(read_u16(arp, field::OPER)),
            sender_mac: MacAddr(read(arp, field::SHA)),
            sender_ip: Ipv4Addr::from(read::<4>(arp, field::SPA)),
            target_mac: MacAddr(read(arp, field::THA)),
            target_ip: Ipv4Addr::from(read::<4>(arp, field::TPA)),
        })
    }

    /// Writes the 28-byte packet at `buf[0..]`; returns its length. `BufferTooSmall` (and
    /// `buf` untouched) if it does not fit.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, WireError> {
        let arp = buf.get_mut(..ARP_LEN).ok_or(WireError::BufferTooSmall)?;
        write_u16(arp, field::HTYPE, HTYPE_ETHERNET);
        write_u16(arp, field::PTYPE, ETHERTYPE_IPV4);
        write_u8(arp, field::HLEN, 6);
        write_u8(arp, field::PLEN, 4);
        write_u16(arp, field::OPER, self.op.into());
        write(arp, field::SHA, &self.sender_mac.octets());
        write(arp, field::SPA, &self.sender_ip.octets());
        write(arp, field::THA, &self.target_mac.octets());
        write(arp, field::TPA, &self.target_ip.octets());
        Ok(ARP_LEN)
    }

    /// Writes the whole frame, Ethernet header (from the sender MAC to `dst`) and packet;
    /// returns its length, [`ARP_FRAME_LEN`]. Nothing is written on error.
    pub fn emit_frame(&self, dst: MacAddr, buf: &mut [u8]) -> Result<usize, WireError> {
        let frame = buf
            .get_mut(..ARP_FRAME_LEN)
            .ok_or(WireError::BufferTooSmall)?;
        let (eth, arp) = frame.split_at_mut(ETH_HDR_LEN);
        emit_ethernet_header(eth, self.sender_mac, dst, ETHERTYPE_ARP)?;
        self.emit(arp)?;
        Ok(ARP_FRAME_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST_MAC: MacAddr = MacAddr([0x02, 0x00, 0x5e, 0x00, 0x00, 0x01]);
    const GATEWAY: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

    /// Built with scapy 2.5 (`bytes(Ether(src='02:00:5e:00:00:01', dst='ff:ff:ff:ff:ff:ff')
    /// / ARP(op=1, hwsrc='02:00:5e:00:00:01', psrc='192.0.2.1', hwdst='00:00:00:00:00:00',
    /// pdst='192.0.2.1'))`): a gratuitous ARP request for 192.0.2.1, broadcast.
    static GARP_BYTES: [u8; 42] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x5e, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00,
        0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x5e, 0x00, 0x00, 0x01, 0xc0, 0x00,
        0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01,
    ];

    #[test]
    fn gratuitous_frame_matches_scapy() {
        let mut buf = [0xa5u8; 64];
        let len = ArpPacket::gratuitous(HOST_MAC, GATEWAY)
            .emit_frame(MacAddr::BROADCAST, &mut buf)
            .expect("fits");
        assert_eq!(len, ARP_FRAME_LEN);
        assert_eq!(buf[..len], GARP_BYTES);
        assert!(
            buf[len..].iter().all(|&b| b == 0xa5),
            "nothing past the frame"
        );
    }

    #[test]
    fn parse_reads_back_what_emit_wrote() {
        let arp = ArpPacket::parse(&GARP_BYTES[ETH_HDR_LEN..]).expect("valid");
        assert_eq!(arp, ArpPacket::gratuitous(HOST_MAC, GATEWAY));
        assert!(arp.is_gratuitous());
        let reply = ArpPacket {
            op: ArpOp::Reply,
            target_ip: Ipv4Addr::new(192, 0, 2, 100),
            target_mac: MacAddr([0xaa, 0x6b, 0x39, 0x22, 0x33, 0x44]),
            ..arp
        };
        let mut buf = [0xa5u8; ARP_LEN + 18];
        assert_eq!(reply.emit(&mut buf), Ok(ARP_LEN));
        // Padding after the packet (as on a 60-byte frame) is ignored.
        assert_eq!(ArpPacket::parse(&buf), Ok(reply));
        assert!(!reply.is_gratuitous());
    }

    #[test]
    fn parse_rejects_short_and_foreign_packets() {
        let arp = &GARP_BYTES[ETH_HDR_LEN..];
        assert_eq!(
            ArpPacket::parse(&arp[..ARP_LEN - 1]),
            Err(WireError::Truncated)
        );
        for (at, value) in [(1, 6u8), (3, 0xdd), (4, 8), (5, 16)] {
            let mut bad = arp.to_vec();
            bad[at] = value;
            assert_eq!(
                ArpPacket::parse(&bad),
                Err(WireError::BadHardwareAddr),
                "byte {at} = {value:#x}"
            );
        }
        let mut op = arp.to_vec();
        op[7] = 9;
        assert_eq!(ArpPacket::parse(&op).map(|a| a.op), Ok(ArpOp::Unknown(9)));
    }

    #[test]
    fn emit_into_a_short_buffer_writes_nothing() {
        let garp = ArpPacket::gratuitous(HOST_MAC, GATEWAY);
        let mut buf = [0xa5u8; ARP_FRAME_LEN - 1];
        assert_eq!(
            garp.emit_frame(MacAddr::BROADCAST, &mut buf),
            Err(WireError::BufferTooSmall)
        );
        assert_eq!(
            garp.emit(&mut buf[..ARP_LEN - 1]),
            Err(WireError::BufferTooSmall)
        );
        assert!(buf.iter().all(|&b| b == 0xa5));
    }
}
