//! The configuration file: `config::parse` on arbitrary text. Every problem must come back
//! as a `ConfigError` whose message can be printed, never as a panic.
//!
//! An accepted configuration must keep what `Config` documents (`dhcpv6_queue` set exactly
//! in the DHCPv6 mode, domains without trailing dots, a non-zero RA period), and the reply
//! path must be able to answer with it: a DISCOVER, an RS and an Information-Request from a
//! fixed binding never fail to build a reply.
//!
//! Seeds: corpus/config/seed-* (the original's sample and the shipped sample, see seeds.py).

#![no_main]

use libfuzzer_sys::fuzz_target;
use nfdhcpd::config::{self, Ipv6Mode};
use nfdhcpd::reply::QueueKind;
use nfdhcpd_fuzz::{
    assert_not_malformed, binding_full, discover_packet, entry, handle, info_request_packet,
    rs_packet, FRAME_CAP, VM_MAC,
};
use std::hint::black_box;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let loaded = match config::parse(Path::new("/etc/nfdhcpd/nfdhcpd.conf"), text) {
        Ok(l) => l,
        Err(e) => {
            black_box((e.to_string(), e.exit_code()));
            return;
        }
    };
    for w in &loaded.warnings {
        black_box(w.to_string());
    }
    let cfg = loaded.config;
    let e = entry(binding_full());
    let mut out = vec![0u8; FRAME_CAP];
    if cfg.live.dhcp.is_some() {
        let o = handle(
            QueueKind::Dhcp4,
            &discover_packet(VM_MAC),
            Some(VM_MAC),
            &e,
            &cfg,
            &mut out,
        );
        assert_not_malformed(o, "DISCOVER");
    }
    assert_eq!(cfg.live.dhcp.is_some(), cfg.fixed.dhcp.is_some());
    assert_eq!(cfg.live.ipv6.is_some(), cfg.fixed.ipv6.is_some());
    if let (Some(q), Some(v6)) = (&cfg.fixed.ipv6, &cfg.live.ipv6) {
        assert_eq!(q.dhcpv6_queue.is_some(), q.mode == Ipv6Mode::SlaacDhcpv6);
        assert!(v6.ra_period >= 1);
        for d in &v6.domains {
            assert!(!d.ends_with('.'), "domain {d:?}");
        }
        let o = handle(
            QueueKind::RouterSolicit,
            &rs_packet(VM_MAC),
            Some(VM_MAC),
            &e,
            &cfg,
            &mut out,
        );
        assert_not_malformed(o, "RS");
        let req = info_request_packet(VM_MAC);
        let o = handle(QueueKind::Dhcp6, &req, Some(VM_MAC), &e, &cfg, &mut out);
        assert_not_malformed(o, "Information-Request");
    }
});
