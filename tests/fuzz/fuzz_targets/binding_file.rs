//! Binding files: `binding::file::parse` on arbitrary UTF-8 text, with an arbitrary file
//! (tap) name through `is_binding_name` and `is_interface_name`.
//!
//! Input layout: the first line is the file name, the rest the file's text. Each text is
//! also parsed under a fixed good name, so mutations of the name do not hide the text.
//!
//! An accepted binding must keep what `Binding` documents (IP inside SUBNET, a host name
//! `config::dns_name` accepts without a trailing dot, MTU 68..=65535, interface names), and
//! the reply path must be able to answer from it: a DISCOVER, an RS and an
//! Information-Request from its MAC never fail to build a reply (a missing IP or SUBNET6
//! is a refusal, not a failure).
//!
//! Seeds: corpus/binding_file/seed-* (the original's README binding, see seeds.py).

#![no_main]

use libfuzzer_sys::fuzz_target;
use nfdhcpd::binding::file::{self, Binding};
use nfdhcpd::config;
use nfdhcpd::reply::{self, QueueKind};
use nfdhcpd_fuzz::{
    assert_not_malformed, config, discover_packet, entry, handle, info_request_packet, rs_packet,
    FRAME_CAP,
};
use std::hint::black_box;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (name, body) = text.split_once('\n').unwrap_or((text, ""));
    if file::is_binding_name(name) {
        assert!(file::is_interface_name(name));
    }
    black_box(file::unknown_keys(body));
    check(name, body);
    check("tap0", body);
});

fn check(name: &str, body: &str) {
    match file::parse(name, body) {
        Ok(b) => {
            assert!(file::is_interface_name(name));
            assert_eq!(b.tap, name);
            check_binding(&b);
            answer_from(b);
        }
        Err(e) => {
            black_box(e.to_string());
        }
    }
}

fn check_binding(b: &Binding) {
    assert!(file::is_interface_name(&b.indev));
    if let (Some(ip), Some(net)) = (b.ip, b.subnet) {
        // Served as the original did (issue 12), but never without a warning for IP.
        let warned = b.warnings.iter().any(|w| w.key.as_deref() == Some("IP"));
        assert!(
            net.contains(ip) || warned,
            "{ip} outside {net} without a warning"
        );
    }
    if let Some(h) = &b.hostname {
        assert!(!h.ends_with('.'));
        assert_eq!(config::dns_name(h), Ok(h.as_str()));
    }
    if let Some(mtu) = b.mtu {
        assert!(mtu >= 68);
    }
    if let Some(i) = &b.instance {
        assert!(!i.chars().any(char::is_control));
    }
}

fn answer_from(b: Binding) {
    let mac = b.mac;
    let e = entry(b);
    let mut out = vec![0u8; FRAME_CAP];
    let cfg = config();
    let o = handle(
        QueueKind::Dhcp4,
        &discover_packet(mac),
        Some(mac),
        &e,
        &cfg,
        &mut out,
    );
    assert_not_malformed(o, "DISCOVER");
    let o = handle(
        QueueKind::RouterSolicit,
        &rs_packet(mac),
        Some(mac),
        &e,
        &cfg,
        &mut out,
    );
    assert_not_malformed(o, "RS");
    let req = info_request_packet(mac);
    let o = handle(QueueKind::Dhcp6, &req, Some(mac), &e, &cfg, &mut out);
    assert_not_malformed(o, "Information-Request");
    let settings = reply::ndp::RaSettings::of(&cfg).expect("ipv6 on");
    let o = reply::ndp::periodic_ra(&e, settings, &mut out).map(drop);
    if let Err(reply::NoReply::Malformed(err)) = o {
        panic!("periodic RA failed to build from a validated binding: {err:?}");
    }
}
