//! The whole sans-IO reply path on arbitrary bytes taken as the IP packet NFQUEUE hands
//! over: `reply::handle` for the DHCPv4, RS, NS and DHCPv6 queues, for two fixed bindings and configurations (the usual one, and one
//! with MACSPOOF, PRIVATE, an MTU, no gateways, `server_on_link`, SLAAC only). The frame
//! source is the binding's MAC, as for a VM that does not spoof its Ethernet header.
//!
//! Every reply built is parsed back with our own parsers and must be what the handler said
//! it built (a round trip through the policy).
//!
//! The NDP handlers get the input with its ICMPv6 checksum recomputed (see ndp.rs); the
//! DHCP ones do not verify UDP checksums anyway.
//!
//! Seeds: corpus/pure_path/seed-* (the captures of dhcp4, dhcp6 and ndp, and NSs for the
//! router's link-local and a SUBNET6 address, which the captures' NS is not).

#![no_main]

use libfuzzer_sys::fuzz_target;
use nfdhcpd::binding::snapshot::Entry;
use nfdhcpd::config::Config;
use nfdhcpd::reply::{QueueKind, ReplyKind};
use nfdhcpd::wire::{dhcp4, frame, ndp};
use nfdhcpd_fuzz::{
    binding_full, binding_odd, check_dhcp4_reply, check_dhcp6_reply, check_na_reply,
    check_ra_reply, config, config_odd, entry, fix_icmpv6_checksum, handle, reply_frame, FRAME_CAP,
    HOST_MAC,
};
use std::sync::OnceLock;

struct Setup {
    entry: Entry,
    config: Config,
}

fn setups() -> &'static [Setup; 2] {
    static SETUPS: OnceLock<[Setup; 2]> = OnceLock::new();
    SETUPS.get_or_init(|| {
        [
            Setup {
                entry: entry(binding_full()),
                config: config(),
            },
            Setup {
                entry: entry(binding_odd()),
                config: config_odd(),
            },
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let mut fixed = data.to_vec();
    fix_icmpv6_checksum(&mut fixed);
    let mut out = vec![0xa5u8; FRAME_CAP];
    for s in setups() {
        let src = Some(s.entry.binding.mac);

        let outcome = handle(QueueKind::Dhcp4, data, src, &s.entry, &s.config, &mut out);
        if let Some((reply, kind)) = reply_frame(outcome, &out) {
            let udp = frame::parse_ipv4_udp(data).expect("answered, so it parsed");
            let req = dhcp4::Request::parse(udp.payload).expect("answered, so it parsed");
            check_dhcp4_reply(reply, kind, &req, HOST_MAC);
        }

        let outcome = handle(
            QueueKind::RouterSolicit,
            &fixed,
            src,
            &s.entry,
            &s.config,
            &mut out,
        );
        if let Some((reply, kind)) = reply_frame(outcome, &out) {
            assert_eq!(kind, ReplyKind::Ra);
            check_ra_reply(reply, HOST_MAC);
        }

        let outcome = handle(
            QueueKind::NeighborSolicit,
            &fixed,
            src,
            &s.entry,
            &s.config,
            &mut out,
        );
        if let Some((reply, kind)) = reply_frame(outcome, &out) {
            assert_eq!(kind, ReplyKind::Na);
            let icmp = frame::parse_icmpv6(&fixed).expect("answered, so it parsed");
            let ns = ndp::NeighborSolicit::parse(&icmp).expect("answered, so it parsed");
            check_na_reply(reply, ns.target, HOST_MAC);
        }

        let outcome = handle(QueueKind::Dhcp6, data, src, &s.entry, &s.config, &mut out);
        if let Some((reply, kind)) = reply_frame(outcome, &out) {
            // Since issue 14 a Solicit, Request, ... is answered too (slaac+dhcpv6 serves
            // the stateful messages): the whole stateful oracle, as in stateful_path.
            check_dhcp6_reply(reply, kind, data, &s.entry, &s.config);
        }
    }
});
