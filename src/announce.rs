//! Announcing a binding on its tap when it appears or moves: a gratuitous ARP for GATEWAY
//! and an unsolicited Neighbor Advertisement for the router link-local (and GATEWAY6), both
//! with INDEV's MAC, so a VM that migrated onto this host, or whose gateway MAC changed
//! (INDEV re-created), updates its neighbour cache at once instead of after its entry goes
//! stale and is probed again. The original's hook scripts did this with arping and ndsend.
//!
//! The RA timer sends them on [`Change::Changed`](crate::binding::snapshot::Change), next
//! to the immediate RA: the registry sends one only when an entry becomes active or differs
//! from the one published before (new binding file, tap created or re-created with a new
//! ifindex, INDEV's MAC changed, link up), never for an unchanged entry on a rescan, so the
//! announcements cannot storm.
//!
//! One of each, not RFC 4861 §7.2.6's up to MAX_NEIGHBOR_ADVERTISEMENT (3): the veth or tap
//! to the VM does not lose frames the way a shared medium may, and a VM that misses it still
//! resolves the router the usual way (its NS is answered).
//!
//! PRIVATE bindings get neither the GARP nor the NA for GATEWAY6: DHCP and the RA announce
//! no router for them, and on a private network GATEWAY may well be another machine on that
//! network (an appliance, another VM); announcing it with INDEV's MAC would steal its
//! traffic. The router link-local is ours whatever the binding says (the RAs come from it),
//! so its NA is sent for every binding with SUBNET6.

use crate::binding::snapshot::Entry;
use crate::config::Config;
use crate::wire::arp::ArpPacket;
use crate::wire::frame::{self, Ipv6Header, IPV6_PAYLOAD_OFFSET};
use crate::wire::ndp::{self, NeighborAdvert};
use crate::wire::{MacAddr, WireError};
use std::net::{Ipv4Addr, Ipv6Addr};

/// All-nodes (RFC 4291 §2.7.1): where an unsolicited NA goes (RFC 4861 §7.2.6).
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// One frame announcing an address of the host side of a tap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announcement {
    /// A gratuitous ARP request for this IPv4 address (GATEWAY).
    Garp(Ipv4Addr),
    /// An unsolicited NA for this IPv6 target (the router link-local, GATEWAY6).
    Na(Ipv6Addr),
}

/// What to announce for `entry`, in sending order: the GARP when the binding is served over
/// IPv4 (DHCP on, IP and GATEWAY set, not PRIVATE), the NAs when over IPv6 (IPv6 on, SUBNET6
/// set). Nothing for a tap that is down: it cannot deliver, and its link coming up is a
/// change of its own.
pub fn announcements(entry: &Entry, config: &Config) -> Vec<Announcement> {
    let b = &entry.binding;
    let mut out = Vec::with_capacity(3);
    if !entry.running {
        return out;
    }
    if config.live.dhcp.is_some() && b.ip.is_some() && !b.private {
        if let Some(gw) = b.gateway {
            out.push(Announcement::Garp(gw));
        }
    }
    if config.ipv6_mode().is_some() && b.subnet6.is_some() {
        let router = entry.host_mac.link_local();
        out.push(Announcement::Na(router));
        if let Some(gw6) = b.gateway6.filter(|g| !b.private && *g != router) {
            out.push(Announcement::Na(gw6));
        }
    }
    out
}

impl Announcement {
    /// Writes the frame, from INDEV's MAC, into `out`; returns its length.
    pub fn emit(self, host_mac: MacAddr, out: &mut [u8]) -> Result<usize, WireError> {
        match self {
            Announcement::Garp(ip) => {
                ArpPacket::gratuitous(host_mac, ip).emit_frame(MacAddr::BROADCAST, out)
            }
            Announcement::Na(target) => {
                let na = NeighborAdvert {
                    router: true,
                    solicited: false,
                    // We own both addresses: replace whatever the VM has cached.
                    override_flag: true,
                    target,
                    target_ll: Some(host_mac),
                };
                let hdr = Ipv6Header {
                    src_mac: host_mac,
                    dst_mac: frame::ipv6_multicast_mac(&ALL_NODES),
                    src_ip: host_mac.link_local(),
                    dst_ip: ALL_NODES,
                    hop_limit: ndp::HOP_LIMIT,
                };
                let len = na.emit(
                    out.get_mut(IPV6_PAYLOAD_OFFSET..)
                        .ok_or(WireError::BufferTooSmall)?,
                )?;
                frame::emit_ipv6_icmpv6(out, &hdr, len)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self as testutil, addr, entry, HOST_MAC};
    use crate::wire::frame::{parse_icmpv6, ETHERTYPE_IPV6, ETH_HDR_LEN};

    /// Built with scapy 2.5: `Ether(src='02:00:5e:00:00:01', dst='33:33:00:00:00:01') /
    /// IPv6(src='fe80::5eff:fe00:1', dst='ff02::1', hlim=255) / ICMPv6ND_NA(R=1, S=0, O=1,
    /// tgt=TARGET) / ICMPv6NDOptDstLLAddr(lladdr='02:00:5e:00:00:01')`, TARGET the router
    /// link-local of HOST_MAC (fe80::5eff:fe00:1).
    static NA_ROUTER_BYTES: [u8; 86] = [
        0x33, 0x33, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x5e, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x00, 0x01, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x88, 0x00, 0xbf, 0x99, 0xa0, 0x00,
        0x00, 0x00, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5e, 0xff, 0xfe,
        0x00, 0x00, 0x01, 0x02, 0x01, 0x02, 0x00, 0x5e, 0x00, 0x00, 0x01,
    ];

    /// The same with tgt='2001:db8:aaaa:bbbb::1' (GATEWAY6 of the test binding).
    static NA_GATEWAY6_BYTES: [u8; 86] = [
        0x33, 0x33, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x5e, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x00, 0x01, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x88, 0x00, 0x86, 0xfb, 0xa0, 0x00,
        0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0xaa, 0xaa, 0xbb, 0xbb, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x01, 0x02, 0x01, 0x02, 0x00, 0x5e, 0x00, 0x00, 0x01,
    ];

    const GATEWAY: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

    fn router() -> Ipv6Addr {
        addr("fe80::5eff:fe00:1")
    }

    #[test]
    fn a_dual_stack_binding_announces_gateway_router_and_gateway6() {
        let e = entry(testutil::binding());
        assert_eq!(HOST_MAC.link_local(), router());
        assert_eq!(
            announcements(&e, &testutil::config().build()),
            [
                Announcement::Garp(GATEWAY),
                Announcement::Na(router()),
                Announcement::Na(addr("2001:db8:aaaa:bbbb::1")),
            ]
        );
    }

    #[test]
    fn each_family_only_when_served() {
        let e = entry(testutil::binding());
        let v6_only = testutil::config().no_dhcp().build();
        assert_eq!(
            announcements(&e, &v6_only),
            [
                Announcement::Na(router()),
                Announcement::Na(addr("2001:db8:aaaa:bbbb::1"))
            ]
        );
        let v4_only = testutil::config().no_ipv6().build();
        assert_eq!(announcements(&e, &v4_only), [Announcement::Garp(GATEWAY)]);

        let config = testutil::config().build();
        let mut b = testutil::binding();
        b.subnet6 = None;
        b.ip = None;
        assert_eq!(announcements(&entry(b), &config), []);
        let mut b = testutil::binding();
        b.gateway = None;
        b.gateway6 = None;
        assert_eq!(
            announcements(&entry(b), &config),
            [Announcement::Na(router())]
        );
        let mut down = entry(testutil::binding());
        down.running = false;
        assert_eq!(announcements(&down, &config), []);
    }

    #[test]
    fn private_announces_only_the_router_link_local() {
        let mut b = testutil::binding();
        b.private = true;
        assert_eq!(
            announcements(&entry(b), &testutil::config().build()),
            [Announcement::Na(router())]
        );
    }

    #[test]
    fn gateway6_equal_to_the_router_link_local_is_announced_once() {
        let mut b = testutil::binding();
        b.gateway6 = Some(router());
        assert_eq!(
            announcements(&entry(b), &testutil::config().no_dhcp().build()),
            [Announcement::Na(router())]
        );
    }

    #[test]
    fn unsolicited_nas_match_scapy() {
        for (target, want) in [
            (router(), &NA_ROUTER_BYTES),
            (addr("2001:db8:aaaa:bbbb::1"), &NA_GATEWAY6_BYTES),
        ] {
            let mut buf = [0xa5u8; 128];
            let len = Announcement::Na(target)
                .emit(HOST_MAC, &mut buf)
                .expect("fits");
            assert_eq!(buf[..len], want[..], "NA for {target}");
            assert!(buf[len..].iter().all(|&b| b == 0xa5));
            // And our own parser agrees: S clear, O and R set, the TLLA option.
            assert_eq!(u16::from_be_bytes([buf[12], buf[13]]), ETHERTYPE_IPV6);
            let icmp = parse_icmpv6(&buf[ETH_HDR_LEN..len]).expect("valid ICMPv6");
            let na = NeighborAdvert::parse(&icmp).expect("valid NA");
            assert!(!na.solicited && na.override_flag && na.router);
            assert_eq!((na.target, na.target_ll), (target, Some(HOST_MAC)));
        }
    }

    #[test]
    fn garp_is_a_broadcast_request_for_gateway_from_indev() {
        let mut buf = [0xa5u8; 64];
        let len = Announcement::Garp(GATEWAY)
            .emit(HOST_MAC, &mut buf)
            .expect("fits");
        assert_eq!(&buf[..6], &[0xff; 6]);
        let arp = ArpPacket::parse(&buf[ETH_HDR_LEN..len]).expect("valid ARP");
        assert_eq!(arp, ArpPacket::gratuitous(HOST_MAC, GATEWAY));
    }

    #[test]
    fn a_short_buffer_is_an_error() {
        let mut buf = [0u8; 60];
        assert_eq!(
            Announcement::Na(router()).emit(HOST_MAC, &mut buf),
            Err(WireError::BufferTooSmall)
        );
        assert_eq!(
            Announcement::Garp(GATEWAY).emit(HOST_MAC, &mut buf[..30]),
            Err(WireError::BufferTooSmall)
        );
    }
}
