//! The stateful DHCPv6 parser (issue 14): arbitrary bytes through `Request::parse` and,
//! for each IA kind, through `Ia::parse`.
//!
//! What must hold:
//! - `Ia::parse` accepts exactly what a hand-written model of RFC 8415 §21.4-21.6,
//!   §21.13, §21.21-21.22 accepts (`seen_ia`), and then yields the same IAID, T1, T2 and
//!   IAADDRs/IAPREFIXes (prefix length at most 128) as the model, nothing skipped;
//! - an accepted message's `ias()` yields every IA option of the message, in order, as
//!   the model reads it; `has_ia` and `rapid_commit` agree with the options;
//! - an accepted IA re-emitted with `ReplyWriter::option_ia` from its parsed leases (with
//!   and without a status) parses back equal, with our parser and with dhcproto.
//!
//! Seeds: corpus/dhcp6_stateful/seed-* (Solicit, Request, Renew, Rebind, Release with
//! IA_NA, IA_TA, IA_PD; the ia.rs fixtures; see seeds.py).

#![no_main]

use dhcproto::Decodable;
use libfuzzer_sys::fuzz_target;
use nfdhcpd::wire::dhcp6::{
    self, Ia, IaAddress, IaHeader, IaKind, IaPrefix, Lease, MessageType, ReplyWriter, Request,
    StatusCode,
};
use nfdhcpd_fuzz::{dhcproto_ias, seen_ia, seen_ias, sorted_ias, view_ia, walk_dhcp6, SeenIa};

const KINDS: [IaKind; 3] = [IaKind::Na, IaKind::Ta, IaKind::Pd];

fuzz_target!(|data: &[u8]| {
    walk_dhcp6(data);
    if let Ok(req) = Request::parse(data) {
        let model = seen_ias(data);
        let views: Vec<SeenIa> = req.ias().map(|ia| view_ia(&ia)).collect();
        let no_status: Vec<SeenIa> = model
            .into_iter()
            .map(|ia| SeenIa { status: None, ..ia })
            .collect();
        assert_eq!(views, no_status, "ias() skipped or changed an IA");
        assert_eq!(req.has_ia, !views.is_empty());
        let p = dhcp6::Packet::new_checked(data).expect("accepted");
        let rapid = p
            .options()
            .filter_map(Result::ok)
            .any(|o| o.code == dhcp6::option::RAPID_COMMIT);
        assert_eq!(req.rapid_commit, rapid);
        for ia in req.ias() {
            check_ia(&ia);
        }
    }
    // Each kind on the whole input, and on the input after a first byte, so that an IA
    // option's data from a seed message lines up sometimes.
    for kind in KINDS {
        for d in [data, data.get(1..).unwrap_or(&[])] {
            let parsed = Ia::parse(kind, d);
            let model = seen_ia(kind, d);
            assert_eq!(parsed.is_ok(), model.is_some(), "{kind:?}: parse vs model");
            if let (Ok(ia), Some(m)) = (parsed, model) {
                assert_eq!(view_ia(&ia), SeenIa { status: None, ..m });
                check_ia(&ia);
            }
        }
    }
});

/// An accepted IA's invariants, then re-emitted and parsed back.
fn check_ia(ia: &Ia<'_>) {
    let addrs: Vec<IaAddress> = ia.addresses().collect();
    let prefixes: Vec<IaPrefix> = ia.prefixes().collect();
    match ia.kind {
        IaKind::Pd => assert!(addrs.is_empty()),
        IaKind::Na | IaKind::Ta => assert!(prefixes.is_empty()),
    }
    if ia.kind == IaKind::Ta {
        assert_eq!((ia.t1, ia.t2), (0, 0));
    }
    for p in &prefixes {
        assert!(p.len <= 128);
    }
    let leases: Vec<Lease> = addrs
        .iter()
        .map(|a| Lease::Address(*a))
        .chain(prefixes.iter().map(|p| Lease::Prefix(*p)))
        .collect();
    let header = IaHeader {
        kind: ia.kind,
        iaid: ia.iaid,
        t1: ia.t1,
        t2: ia.t2,
    };
    let want = view_ia(ia);
    let status = (StatusCode::from((ia.iaid % 8) as u16), "fuzz");
    for status in [None, Some(status)] {
        let mut buf = vec![0u8; 4 + 4 + 65_535];
        let mut w = ReplyWriter::new(&mut buf, MessageType::Reply, ia.iaid & 0xff_ffff)
            .expect("room for the header");
        match w.option_ia(header, &leases, status) {
            Ok(()) => {}
            // Re-emitting drops unknown sub-options but a status adds 10 bytes: only an IA
            // of nearly 64 KiB can fail to fit, and then not without the status.
            Err(nfdhcpd::wire::WireError::ValueTooLong) if status.is_some() => continue,
            Err(e) => panic!("re-emitting {ia:?}: {e:?}"),
        }
        let len = w.finish();
        let back = Request::parse(&buf[..len]).expect("our IA parses back");
        let got: Vec<SeenIa> = back.ias().map(|ia| view_ia(&ia)).collect();
        assert_eq!(got, [want.clone()], "re-emitted IA");
        let mut seen = seen_ias(&buf[..len]);
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].status, status.map(|(c, _)| u16::from(c)));
        seen[0].status = None;
        assert_eq!(seen, [want.clone()]);
        // dhcproto: same IA (it sorts leases; it reads the status inside).
        if len <= 1500 {
            let m = dhcproto::v6::Message::from_bytes(&buf[..len]).expect("dhcproto decodes it");
            let mut w2 = want.clone();
            w2.status = status.map(|(c, _)| u16::from(c));
            assert_eq!(
                dhcproto_ias(&m),
                sorted_ias(&[w2]),
                "dhcproto reads the same IA"
            );
        }
    }
}
