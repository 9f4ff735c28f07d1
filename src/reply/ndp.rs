//! IPv6 neighbor discovery policy: RS -> RA (RFC 4861 §6.2.6), periodic RAs, and NS -> NA
//! as a proxy for the router's link-local address and the binding's SUBNET6 (§7.2.4, §7.2.8).
//!
//! Fixes over the original (REFERENCE.md §2.3-2.4): the RS spoof check uses the frame's
//! source MAC and the source link-layer option, never the IPv6 source, so RSs from `::` and
//! stable-privacy addresses are answered; RAs carry a source link-layer option, DNSSL, finite
//! prefix lifetimes, medium preference and a router lifetime within RFC 4861's 9000 s;
//! PRIVATE gives router lifetime 0; DAD probes and NSs for the VM's own address are never
//! answered.

use super::{Ctx, Handler, NoReply, Outcome, Packet, ReplyKind, RequestKind};
use crate::binding::snapshot::Entry;
use crate::config::{Config, Ipv6, Ipv6Mode};
use crate::wire::frame::{self, Icmpv6, Ipv6Header, IPV6_PAYLOAD_OFFSET};
use crate::wire::ndp::{
    self, NeighborAdvert, NeighborSolicit, Pref64, Preference, PrefixInfo, RouteList, RouterAdvert,
    RouterSolicit,
};
use crate::wire::{MacAddr, WireError};
use std::net::Ipv6Addr;

/// RFC 4861 §6.2.1 default AdvValidLifetime (30 days) and AdvPreferredLifetime (7 days).
const PREFIX_VALID_LIFETIME: u32 = 2_592_000;
const PREFIX_PREFERRED_LIFETIME: u32 = 604_800;
/// RFC 4861 §6.2.1: AdvDefaultLifetime at most 9000 s; default 3 x MaxRtrAdvInterval.
const MAX_ROUTER_LIFETIME: u32 = 9000;
/// Never below the RFC's default (1800 s), so a short ra_period does not make a router that
/// expires at the first lost RA.
const MIN_ROUTER_LIFETIME: u32 = 1800;
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// What an RA is built from besides the entry: the mode (for the flags) and the live
/// `[ipv6]` settings.
#[derive(Debug, Clone, Copy)]
pub struct RaSettings<'c> {
    pub mode: Ipv6Mode,
    pub v6: &'c Ipv6,
}

impl<'c> RaSettings<'c> {
    /// `None` when IPv6 is off.
    pub fn of(config: &'c Config) -> Option<Self> {
        Some(RaSettings {
            mode: config.ipv6_mode()?,
            v6: config.live.ipv6.as_ref()?,
        })
    }
}

/// A Router Solicitation from a bound tap, answered with an RA to the soliciting VM.
pub(super) struct Rs;

impl Handler for Rs {
    type Request<'p> = (Icmpv6<'p>, RouterSolicit);
    type Settings<'c> = RaSettings<'c>;

    fn settings(config: &Config) -> Option<RaSettings<'_>> {
        RaSettings::of(config)
    }

    /// The parsers check type, code 0 and hop limit 255 (RFC 4861 §6.1.1).
    fn parse(ip: &[u8]) -> Result<(Icmpv6<'_>, RouterSolicit), WireError> {
        let icmp = frame::parse_icmpv6(ip)?;
        let rs = RouterSolicit::parse(&icmp)?;
        Ok((icmp, rs))
    }

    fn kind(_: &(Icmpv6<'_>, RouterSolicit)) -> RequestKind {
        RequestKind::RouterSolicit
    }

    fn claimed_mac((_, rs): &(Icmpv6<'_>, RouterSolicit)) -> Option<MacAddr> {
        rs.source_ll
    }

    fn answer(
        (icmp, _): &(Icmpv6<'_>, RouterSolicit),
        pkt: &Packet,
        cfg: RaSettings<'_>,
        ctx: Ctx,
    ) -> Outcome {
        // Unicast to the VM when it has an address; RFC 4861 §6.2.6 allows it, and it
        // reaches only this tap anyway. From `::` it must go to all-nodes.
        let (dst_ip, dst_mac) = if icmp.src.is_unspecified() {
            (ALL_NODES, frame::ipv6_multicast_mac(&ALL_NODES))
        } else {
            (icmp.src, pkt.frame_src.unwrap_or(ctx.entry.binding.mac))
        };
        match build_ra(ctx.entry, cfg, dst_ip, dst_mac, ctx.out) {
            Ok(len) => Outcome::Reply {
                len,
                kind: ReplyKind::Ra,
            },
            Err(why) => Outcome::NoReply(why),
        }
    }
}

/// An unsolicited RA to all nodes on the tap (periodic, or when a binding becomes active).
pub fn periodic_ra(entry: &Entry, cfg: RaSettings<'_>, out: &mut [u8]) -> Result<usize, NoReply> {
    build_ra(
        entry,
        cfg,
        ALL_NODES,
        frame::ipv6_multicast_mac(&ALL_NODES),
        out,
    )
}

fn build_ra(
    entry: &Entry,
    RaSettings { mode, v6: cfg }: RaSettings<'_>,
    dst_ip: Ipv6Addr,
    dst_mac: MacAddr,
    out: &mut [u8],
) -> Result<usize, NoReply> {
    let b = &entry.binding;
    let subnet6 = b.subnet6.ok_or(NoReply::NoIpv6)?;
    let host_mac = entry.host_mac;
    let lifetime = dns_lifetime(cfg);
    let domains = super::domains(&cfg.domains, entry);
    let ra = RouterAdvert {
        cur_hop_limit: 0,
        // Stateful (RFC 4861 §4.2): addresses and other configuration from DHCPv6.
        managed: mode == Ipv6Mode::Dhcpv6,
        other: mode.serves_dhcpv6(),
        preference: Preference::Medium,
        router_lifetime: if b.private { 0 } else { router_lifetime(cfg) },
        reachable_time: 0,
        retrans_timer: 0,
        source_ll: Some(host_mac),
        mtu: b.mtu.map(u32::from),
        prefix: Some(PrefixInfo {
            // As the original (RFC 6275 §7.2): the router's address in the prefix field,
            // flagged with R, when GATEWAY6 is set.
            prefix: b.gateway6.unwrap_or(subnet6.network()),
            prefix_len: subnet6.prefix(),
            on_link: true,
            // In mode dhcpv6 the VM's address comes from IA_NA only (RFC 4862 §5.5.3 a).
            autonomous: mode != Ipv6Mode::Dhcpv6,
            router_address: b.gateway6.is_some(),
            valid_lifetime: PREFIX_VALID_LIFETIME,
            preferred_lifetime: PREFIX_PREFERRED_LIFETIME,
        }),
        rdnss: Some((
            lifetime,
            super::nameservers6(&cfg.nameservers, entry).into(),
        )),
        dnssl: Some((lifetime, domains.into())),
        // For a PRIVATE VM too (router lifetime 0): the routes are what it may reach.
        routes: RouteList::Nets {
            nets: &b.routes6,
            lifetime: u32::from(router_lifetime(cfg)),
            preference: Preference::Medium,
        },
        pref64: cfg.pref64.map(|net| Pref64 {
            prefix: net.network(),
            prefix_len: net.prefix(),
            lifetime: pref64_lifetime(cfg),
        }),
    };
    let icmp_out = out
        .get_mut(IPV6_PAYLOAD_OFFSET..)
        .ok_or(NoReply::Malformed(WireError::BufferTooSmall))?;
    let icmp_len = ra.emit(icmp_out).map_err(NoReply::Malformed)?;
    let hdr = Ipv6Header {
        src_mac: host_mac,
        dst_mac,
        src_ip: host_mac.link_local(),
        dst_ip,
        hop_limit: ndp::HOP_LIMIT,
    };
    frame::emit_ipv6_icmpv6(out, &hdr, icmp_len).map_err(NoReply::Malformed)
}

/// 3 x ra_period, kept within [1800, 9000] s.
fn router_lifetime(cfg: &Ipv6) -> u16 {
    let l = cfg.ra_period.saturating_mul(3);
    l.clamp(MIN_ROUTER_LIFETIME, MAX_ROUTER_LIFETIME) as u16
}

/// PREF64 lifetime: 3 x ra_period (RFC 8781 §4.1: at least 3 x MaxRtrAdvInterval), at
/// most what the option holds (65528 s).
fn pref64_lifetime(cfg: &Ipv6) -> u16 {
    let l = cfg.ra_period.saturating_mul(3);
    l.min(u32::from(ndp::MAX_PREF64_LIFETIME)) as u16
}

/// RDNSS/DNSSL lifetime: 3 x ra_period, as the original.
fn dns_lifetime(cfg: &Ipv6) -> u32 {
    cfg.ra_period.saturating_mul(3)
}

/// A Neighbor Solicitation from a bound tap, for the router's link-local address or an
/// address of SUBNET6 (proxy NDP): answered with INDEV's MAC as the target's link-layer
/// address.
pub(super) struct Ns;

impl Handler for Ns {
    type Request<'p> = (Icmpv6<'p>, NeighborSolicit);
    type Settings<'c> = ();

    fn settings(config: &Config) -> Option<()> {
        config.live.ipv6.as_ref().map(|_| ())
    }

    /// The parser checks type, code 0, hop limit 255 and the target (RFC 4861 §7.1.1).
    fn parse(ip: &[u8]) -> Result<(Icmpv6<'_>, NeighborSolicit), WireError> {
        let icmp = frame::parse_icmpv6(ip)?;
        let ns = NeighborSolicit::parse(&icmp)?;
        Ok((icmp, ns))
    }

    fn kind(_: &(Icmpv6<'_>, NeighborSolicit)) -> RequestKind {
        RequestKind::NeighborSolicit
    }

    fn claimed_mac((_, ns): &(Icmpv6<'_>, NeighborSolicit)) -> Option<MacAddr> {
        ns.source_ll
    }

    fn answer(
        (icmp, ns): &(Icmpv6<'_>, NeighborSolicit),
        pkt: &Packet,
        _: (),
        ctx: Ctx,
    ) -> Outcome {
        match na_target(ctx.entry, icmp, ns) {
            Ok(is_router) => build_na(ctx.entry, icmp, ns, is_router, pkt.frame_src, ctx.out),
            Err(why) => Outcome::NoReply(why),
        }
    }
}

/// Whether to answer, and whether the target is the router's own link-local address.
fn na_target(entry: &Entry, icmp: &Icmpv6<'_>, ns: &NeighborSolicit) -> Result<bool, NoReply> {
    let b = &entry.binding;
    let host_mac = entry.host_mac;
    // A DAD probe (RFC 4862 §5.4.2): answering it would make the VM give up its address.
    if icmp.src.is_unspecified() {
        let link_local = ns.target.is_unicast_link_local();
        return Err(NoReply::Dad { link_local });
    }
    let own = ns.target == icmp.src
        || Some(ns.target) == b.eui64
        || Some(ns.target) == b.subnet6.map(|n| b.mac.slaac_address(n.network()))
        || b.ip6.contains(&ns.target);
    if own {
        return Err(NoReply::OwnAddress);
    }
    if ns.target == host_mac.link_local() {
        return Ok(true);
    }
    match b.subnet6 {
        Some(net) if net.contains(ns.target) => Ok(false),
        Some(_) => Err(NoReply::NotOurTarget),
        None => Err(NoReply::NoIpv6),
    }
}

fn build_na(
    entry: &Entry,
    icmp: &Icmpv6<'_>,
    ns: &NeighborSolicit,
    is_router: bool,
    frame_src: Option<MacAddr>,
    out: &mut [u8],
) -> Outcome {
    let host_mac = entry.host_mac;
    let na = NeighborAdvert {
        router: true,
        solicited: true,
        // RFC 4861 §7.2.8: a proxy answers with O clear, so the real owner of an address
        // always wins; for the router's own address we are the owner.
        override_flag: is_router,
        target: ns.target,
        target_ll: Some(host_mac),
    };
    let hdr = Ipv6Header {
        src_mac: host_mac,
        dst_mac: ns.source_ll.or(frame_src).unwrap_or(entry.binding.mac),
        // The target itself, as a router answering for its own address does (RFC 4861
        // §7.2.4 allows any address of the interface); resolvers such as ndisc6 match a
        // global target's NA by its scope, so a link-local source would be ignored.
        src_ip: ns.target,
        dst_ip: icmp.src,
        hop_limit: ndp::HOP_LIMIT,
    };
    let result = out
        .get_mut(IPV6_PAYLOAD_OFFSET..)
        .ok_or(WireError::BufferTooSmall)
        .and_then(|icmp_out| na.emit(icmp_out))
        .and_then(|len| frame::emit_ipv6_icmpv6(out, &hdr, len));
    match result {
        Ok(len) => Outcome::Reply {
            len,
            kind: ReplyKind::Na,
        },
        Err(e) => Outcome::NoReply(NoReply::Malformed(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::QueueKind;
    use crate::testing::{self as testutil, addr, entry, icmpv6_packet, vm_ll, HOST_MAC, VM_MAC};
    use crate::wire::frame::ETH_HDR_LEN;
    use crate::wire::ndp::RaPacket;

    fn rs_from(src: Ipv6Addr, sll: Option<MacAddr>) -> Vec<u8> {
        icmpv6_packet(src, addr("ff02::2"), |b| {
            RouterSolicit { source_ll: sll }.emit(b).expect("rs")
        })
    }

    fn ns_from(src: Ipv6Addr, target: Ipv6Addr, sll: Option<MacAddr>) -> Vec<u8> {
        let mut dst = addr("ff02::1:ff00:0").octets();
        dst[13..].copy_from_slice(&target.octets()[13..]);
        icmpv6_packet(src, Ipv6Addr::from(dst), |b| {
            NeighborSolicit {
                target,
                source_ll: sll,
            }
            .emit(b)
            .expect("ns")
        })
    }

    /// Runs a handler and returns the reply frame.
    fn reply(outcome: Outcome, out: &[u8]) -> Result<Vec<u8>, NoReply> {
        match outcome {
            Outcome::Reply { len, .. } => Ok(out[..len].to_vec()),
            Outcome::NoReply(why) => Err(why),
        }
    }

    fn v6cfg() -> Config {
        testutil::config().build()
    }

    fn handle_rs(
        pkt: &[u8],
        frame_src: Option<MacAddr>,
        e: &Entry,
        cfg: &Config,
        out: &mut [u8],
    ) -> Outcome {
        let kind = QueueKind::RouterSolicit;
        testutil::handle(kind, pkt, frame_src, e, cfg, out).outcome
    }

    fn handle_ns(pkt: &[u8], frame_src: Option<MacAddr>, e: &Entry, out: &mut [u8]) -> Outcome {
        let kind = QueueKind::NeighborSolicit;
        testutil::handle(kind, pkt, frame_src, e, &v6cfg(), out).outcome
    }

    fn rs(pkt: &[u8], frame_src: MacAddr, e: &Entry, cfg: &Config) -> Result<Vec<u8>, NoReply> {
        let mut out = [0xa5u8; 1514];
        let o = handle_rs(pkt, Some(frame_src), e, cfg, &mut out);
        reply(o, &out)
    }

    fn ns(pkt: &[u8], e: &Entry) -> Result<Vec<u8>, NoReply> {
        let mut out = [0xa5u8; 1514];
        let o = handle_ns(pkt, Some(VM_MAC), e, &mut out);
        reply(o, &out)
    }

    #[test]
    fn rs_gets_unicast_ra_with_everything() {
        let mut b = testutil::binding();
        b.mtu = Some(1400);
        let frame = rs(&rs_from(vm_ll(), Some(VM_MAC)), VM_MAC, &entry(b), &v6cfg()).unwrap();
        assert_eq!(&frame[0..6], &VM_MAC.0);
        assert_eq!(&frame[6..12], &HOST_MAC.0);
        let icmp = frame::parse_icmpv6(&frame[ETH_HDR_LEN..]).unwrap();
        assert_eq!(
            (icmp.src, icmp.dst, icmp.hop_limit),
            (HOST_MAC.link_local(), vm_ll(), 255)
        );
        let ra = RaPacket::new_checked(&icmp).unwrap();
        assert!(ra.other() && !ra.managed());
        assert_eq!(ra.preference(), Preference::Medium);
        assert_eq!(
            ra.router_lifetime(),
            1800,
            "3 x 300 s raised to the RFC default"
        );
        assert_eq!(ra.source_ll(), Some(HOST_MAC));
        assert_eq!(ra.mtu(), Some(1400));
        let p = ra.prefix().unwrap();
        assert_eq!(p.prefix, addr("2001:db8:aaaa:bbbb::1"));
        assert_eq!(p.prefix_len, 64);
        assert!(p.on_link && p.autonomous && p.router_address);
        assert_eq!(
            (p.valid_lifetime, p.preferred_lifetime),
            (2_592_000, 604_800)
        );
        let (life, servers) = ra.rdnss().unwrap();
        assert_eq!(life, 900);
        assert_eq!(servers.collect::<Vec<_>>(), testutil::ipv6().nameservers);
        let (life, names) = ra.dnssl().unwrap();
        assert_eq!(life, 900);
        let names: Vec<String> = names.map(|n| n.unwrap().to_string()).collect();
        assert_eq!(names, ["example.com"]);
    }

    #[test]
    fn binding_nameservers6_replace_the_configured_rdnss() {
        let per_vm = [addr("2001:db8:53::1"), addr("2001:db8:53::2")];
        let mut b = testutil::binding();
        b.nameservers6 = per_vm.to_vec();
        let e = entry(b);
        let rdnss = |cfg: &Config| {
            let frame = rs(&rs_from(vm_ll(), Some(VM_MAC)), VM_MAC, &e, cfg).unwrap();
            let icmp = frame::parse_icmpv6(&frame[ETH_HDR_LEN..]).unwrap();
            let ra = RaPacket::new_checked(&icmp).unwrap();
            ra.rdnss().map(|(_, a)| a.collect::<Vec<_>>())
        };
        assert_eq!(rdnss(&v6cfg()), Some(per_vm.to_vec()));
        // Also with no [ipv6] nameservers at all.
        let none = testutil::config().ipv6(|v| v.nameservers.clear()).build();
        assert_eq!(rdnss(&none), Some(per_vm.to_vec()));
        // Without the key, the configured ones; with neither, no RDNSS.
        let plain = entry(testutil::binding());
        let frame = rs(&rs_from(vm_ll(), Some(VM_MAC)), VM_MAC, &plain, &none).unwrap();
        let icmp = frame::parse_icmpv6(&frame[ETH_HDR_LEN..]).unwrap();
        assert!(RaPacket::new_checked(&icmp).unwrap().rdnss().is_none());
    }

    #[test]
    fn rs_from_unspecified_goes_to_all_nodes() {
        let frame = rs(
            &rs_from(Ipv6Addr::UNSPECIFIED, None),
            VM_MAC,
            &entry(testutil::binding()),
            &v6cfg(),
        )
        .unwrap();
        assert_eq!(&frame[0..6], &[0x33, 0x33, 0, 0, 0, 1]);
        let icmp = frame::parse_icmpv6(&frame[ETH_HDR_LEN..]).unwrap();
        assert_eq!(icmp.dst, ALL_NODES);
    }

    #[test]
    fn rs_from_stable_privacy_address_is_answered() {
        let src = addr("fe80::1234:5678:9abc:def0");
        assert!(rs(
            &rs_from(src, Some(VM_MAC)),
            VM_MAC,
            &entry(testutil::binding()),
            &v6cfg()
        )
        .is_ok());
    }

    #[test]
    fn rs_spoof_checks_frame_and_option() {
        let other = MacAddr([2, 9, 9, 9, 9, 9]);
        let e = entry(testutil::binding());
        assert_eq!(
            rs(&rs_from(vm_ll(), None), other, &e, &v6cfg()),
            Err(NoReply::Spoofed)
        );
        assert_eq!(
            rs(&rs_from(vm_ll(), Some(other)), VM_MAC, &e, &v6cfg()),
            Err(NoReply::Spoofed)
        );
        let mut b = testutil::binding();
        b.macspoof = true;
        assert!(rs(&rs_from(vm_ll(), Some(other)), other, &entry(b), &v6cfg()).is_ok());
    }

    #[test]
    fn private_slaac_mode_and_missing_prefix() {
        let mut b = testutil::binding();
        b.private = true;
        b.gateway6 = None;
        let cfg = testutil::config()
            .mode(Ipv6Mode::Slaac)
            .ipv6(|v| v.domains.clear())
            .build();
        let frame = rs(&rs_from(vm_ll(), None), VM_MAC, &entry(b.clone()), &cfg).unwrap();
        let icmp = frame::parse_icmpv6(&frame[ETH_HDR_LEN..]).unwrap();
        let ra = RaPacket::new_checked(&icmp).unwrap();
        assert_eq!(ra.router_lifetime(), 0);
        assert!(!ra.other());
        let p = ra.prefix().unwrap();
        assert_eq!(p.prefix, addr("2001:db8:aaaa:bbbb::"));
        assert!(!p.router_address);
        assert!(
            ra.dnssl().is_none(),
            "no domains configured, hostname has no domain"
        );
        b.subnet6 = None;
        assert_eq!(
            rs(&rs_from(vm_ll(), None), VM_MAC, &entry(b), &cfg),
            Err(NoReply::NoIpv6)
        );
    }

    /// M and O in each mode; the prefix without A only in the stateful one.
    #[test]
    fn mode_flags() {
        let e = entry(testutil::binding());
        for (mode, managed, other, autonomous) in [
            (Ipv6Mode::Slaac, false, false, true),
            (Ipv6Mode::SlaacDhcpv6, false, true, true),
            (Ipv6Mode::Dhcpv6, true, true, false),
        ] {
            let cfg = testutil::config().mode(mode).build();
            let frame = rs(&rs_from(vm_ll(), None), VM_MAC, &e, &cfg).unwrap();
            let icmp = frame::parse_icmpv6(&frame[ETH_HDR_LEN..]).unwrap();
            let ra = RaPacket::new_checked(&icmp).unwrap();
            let p = ra.prefix().unwrap();
            assert_eq!(
                (ra.managed(), ra.other(), p.on_link, p.autonomous),
                (managed, other, true, autonomous),
                "{mode:?}"
            );
        }
    }

    #[test]
    fn ra_carries_routes6_even_when_private_and_pref64_when_configured() {
        let mut b = testutil::binding();
        b.routes6 = vec![
            "2001:db8:100::/48".parse().unwrap(),
            "2001:db8:200::/56".parse().unwrap(),
        ];
        let ra_of = |b: &crate::binding::file::Binding, cfg: &Config| {
            let frame = rs(&rs_from(vm_ll(), None), VM_MAC, &entry(b.clone()), cfg).unwrap();
            let icmp = frame::parse_icmpv6(&frame[ETH_HDR_LEN..]).unwrap();
            let ra = RaPacket::new_checked(&icmp).unwrap();
            let routes: Vec<_> = ra.routes().collect();
            (ra.router_lifetime(), routes, ra.pref64())
        };
        let cfg = testutil::config().ipv6(|v| v.ra_period = 1000).build();
        let (lifetime, routes, pref64) = ra_of(&b, &cfg);
        assert_eq!((lifetime, pref64), (3000, None));
        let want: Vec<_> = routes
            .iter()
            .map(|r| (r.prefix, r.prefix_len, r.preference, r.lifetime))
            .collect();
        assert_eq!(
            want,
            [
                (addr("2001:db8:100::"), 48, Preference::Medium, 3000),
                (addr("2001:db8:200::"), 56, Preference::Medium, 3000),
            ]
        );
        // PRIVATE: no default router, but the routes keep the non-PRIVATE router lifetime.
        b.private = true;
        let (lifetime, private_routes, _) = ra_of(&b, &cfg);
        assert_eq!((lifetime, private_routes), (0, routes));
        // PREF64 when configured, with 3 x ra_period, within 65528 s.
        let cfg = testutil::config()
            .ipv6(|v| v.pref64 = Some("2001:db8:64::/96".parse().unwrap()))
            .build();
        let p = ra_of(&b, &cfg).2.unwrap();
        assert_eq!(
            (p.prefix, p.prefix_len, p.lifetime),
            (addr("2001:db8:64::"), 96, 904)
        );
        let cfg = testutil::config()
            .ipv6(|v| {
                v.ra_period = 30000;
                v.pref64 = Some("2001:db8:64::/64".parse().unwrap());
            })
            .build();
        let p = ra_of(&b, &cfg).2.unwrap();
        assert_eq!((p.prefix_len, p.lifetime), (64, ndp::MAX_PREF64_LIFETIME));
        // No ROUTES6, no Route Information.
        b.routes6.clear();
        assert_eq!(ra_of(&b, &cfg).1, vec![]);
    }

    #[test]
    fn periodic_ra_is_multicast() {
        let mut out = [0u8; 1514];
        let cfg = v6cfg();
        let settings = RaSettings::of(&cfg).unwrap();
        let len = periodic_ra(&entry(testutil::binding()), settings, &mut out).unwrap();
        assert_eq!(&out[0..6], &[0x33, 0x33, 0, 0, 0, 1]);
        let icmp = frame::parse_icmpv6(&out[ETH_HDR_LEN..len]).unwrap();
        assert_eq!(icmp.dst, ALL_NODES);
    }

    #[test]
    fn ns_for_router_link_local_and_subnet() {
        let e = entry(testutil::binding());
        for (target, owner) in [
            (HOST_MAC.link_local(), true),
            (addr("2001:db8:aaaa:bbbb::1"), false),
            (addr("2001:db8:aaaa:bbbb::77"), false),
        ] {
            let frame = ns(&ns_from(vm_ll(), target, Some(VM_MAC)), &e).unwrap();
            assert_eq!(&frame[0..6], &VM_MAC.0);
            let icmp = frame::parse_icmpv6(&frame[ETH_HDR_LEN..]).unwrap();
            assert_eq!((icmp.src, icmp.dst), (target, vm_ll()));
            let na = NeighborAdvert::parse(&icmp).unwrap();
            assert_eq!(na.target, target);
            assert!(na.router && na.solicited);
            assert_eq!(na.override_flag, owner);
            assert_eq!(na.target_ll, Some(HOST_MAC));
        }
    }

    #[test]
    fn ns_never_breaks_dad_or_claims_foreign_addresses() {
        let e = entry(testutil::binding());
        let own = addr("2001:db8:aaaa:bbbb:a86b:39ff:fe22:3344");
        assert_eq!(
            ns(&ns_from(Ipv6Addr::UNSPECIFIED, own, None), &e),
            Err(NoReply::Dad { link_local: false })
        );
        assert_eq!(
            ns(&ns_from(Ipv6Addr::UNSPECIFIED, vm_ll(), None), &e),
            Err(NoReply::Dad { link_local: true })
        );
        assert_eq!(
            ns(&ns_from(vm_ll(), own, Some(VM_MAC)), &e),
            Err(NoReply::OwnAddress)
        );
        assert_eq!(
            ns(&ns_from(own, own, Some(VM_MAC)), &e),
            Err(NoReply::OwnAddress)
        );
        let outside = addr("2001:db8:ffff::1");
        assert_eq!(
            ns(&ns_from(vm_ll(), outside, Some(VM_MAC)), &e),
            Err(NoReply::NotOurTarget)
        );
        let spoof = ns_from(vm_ll(), outside, Some(MacAddr([2, 1, 1, 1, 1, 1])));
        assert_eq!(ns(&spoof, &e), Err(NoReply::Spoofed));
    }

    #[test]
    fn every_truncation_is_malformed() {
        let e = entry(testutil::binding());
        for pkt in [
            rs_from(vm_ll(), Some(VM_MAC)),
            ns_from(vm_ll(), HOST_MAC.link_local(), Some(VM_MAC)),
        ] {
            for len in 0..pkt.len() {
                let mut out = [0u8; 1514];
                let o = handle_rs(&pkt[..len], Some(VM_MAC), &e, &v6cfg(), &mut out);
                assert!(
                    matches!(o, Outcome::NoReply(NoReply::Malformed(_))),
                    "rs len {len}"
                );
                let o = handle_ns(&pkt[..len], Some(VM_MAC), &e, &mut out);
                assert!(
                    matches!(o, Outcome::NoReply(NoReply::Malformed(_))),
                    "ns len {len}"
                );
            }
        }
    }

    /// Found by the pure_path fuzz target (tests/fuzz), input as found, only its checksum
    /// made to verify: an NS from the multicast source ff80::1bba:bfd7:b741:fbbe, to
    /// ff02::1:ff00:99, for 2001:db8:1::99, with an MTU option (type 5) that NS ignores.
    /// Nothing refuses a multicast source (RFC 4291 §2.7 forbids one), so the target, in
    /// SUBNET6, was answered with a solicited NA (S=1) to that multicast address: an NA
    /// that RFC 4861 §7.1.2 says to discard, and that our own NeighborAdvert::parse
    /// refuses with BadOption.
    static NS_MULTICAST_SOURCE_BYTES: [u8; 72] = [
        0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x1b, 0xba, 0xbf, 0xd7, 0xb7, 0x41, 0xfb, 0xbe, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x99, 0x87, 0x00, 0x31, 0xe3, 0x00,
        0x00, 0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x99, 0x05, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
    ];

    #[test]
    fn ns_from_multicast_source_gets_no_invalid_na() {
        let mut b = testutil::binding();
        b.subnet6 = Some("2001:db8:1::/64".parse().unwrap());
        assert_eq!(
            ns(&NS_MULTICAST_SOURCE_BYTES, &entry(b)),
            Err(NoReply::Malformed(WireError::BadAddress))
        );
    }
}
