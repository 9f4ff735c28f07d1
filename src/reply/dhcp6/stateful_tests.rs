//! Stateful DHCPv6 from bytes: requests built with dhcproto, replies decoded with it (an
//! implementation independent of ours).

use super::*;
use crate::binding::file::Binding;
use crate::binding::snapshot::{Previous6, Slot};
use crate::reply::QueueKind;
use crate::testing::{
    self as testutil, addr, entry, udp6_packet, udp6_packet_to, HOST_MAC, VM_MAC,
};
use crate::wire::frame::ETH_HDR_LEN;
use dhcproto::v6::{self, DhcpOption as Opt, OptionCode, Status};
use dhcproto::{Decodable, Encodable};
use ipnetwork::Ipv6Network;
use std::net::Ipv6Addr;

const CLIENT_DUID: [u8; 10] = [0, 3, 0, 1, 0xaa, 0x6b, 0x39, 0x22, 0x33, 0x44];
/// The binding's default IA_NA address: its EUI64 key.
const EUI64: &str = "2001:db8:aaaa:bbbb:a86b:39ff:fe22:3344";

fn server_id() -> Opt {
    Opt::ServerId(dhcp6::duid_ll(HOST_MAC).to_vec())
}

fn iana(id: u32, addrs: &[&str]) -> Opt {
    let mut opts = v6::DhcpOptions::new();
    for a in addrs {
        opts.insert(Opt::IAAddr(v6::IAAddr {
            addr: addr(a),
            preferred_life: 100,
            valid_life: 200,
            opts: v6::DhcpOptions::new(),
        }));
    }
    Opt::IANA(v6::IANA {
        id,
        t1: 0,
        t2: 0,
        opts,
    })
}

fn iapd(id: u32, prefixes: &[&str]) -> Opt {
    let mut opts = v6::DhcpOptions::new();
    for p in prefixes {
        let net: Ipv6Network = p.parse().unwrap();
        opts.insert(Opt::IAPrefix(v6::IAPrefix {
            preferred_lifetime: 100,
            valid_lifetime: 200,
            prefix_len: net.prefix(),
            prefix_ip: net.network(),
            opts: v6::DhcpOptions::new(),
        }));
    }
    Opt::IAPD(v6::IAPD {
        id,
        t1: 0,
        t2: 0,
        opts,
    })
}

/// A message from the VM's link-local address to ff02::1:2 with its client id and `opts`.
fn msg(kind: v6::MessageType, opts: Vec<Opt>) -> Vec<u8> {
    udp6_packet(546, 547, &payload(kind, opts))
}

fn payload(kind: v6::MessageType, opts: Vec<Opt>) -> Vec<u8> {
    let mut m = v6::Message::new_with_id(kind, [0xab, 0xcd, 0xef]);
    m.opts_mut().insert(Opt::ClientId(CLIENT_DUID.to_vec()));
    for o in opts {
        m.opts_mut().insert(o);
    }
    m.to_vec().expect("encode")
}

fn cfg() -> Config {
    testutil::config()
        .mode(crate::config::Ipv6Mode::Dhcpv6)
        .ipv6(|v| {
            v.lease_lifetime = 1000;
            v.lease_renewal = 300;
        })
        .build()
}

fn binding(extra: &str) -> Binding {
    crate::binding::file::parse(
        "tap10",
        &format!(
            "INDEV=tap10\nMAC=aa:6b:39:22:33:44\nSUBNET6=2001:db8:aaaa:bbbb::/64\n\
             EUI64={EUI64}\n{extra}"
        ),
    )
    .expect("valid binding")
}

fn outcome(pkt: &[u8], e: &Entry) -> (Option<RequestKind>, Result<v6::Message, NoReply>) {
    let mut out = [0u8; 1514];
    let h = testutil::handle(QueueKind::Dhcp6, pkt, Some(VM_MAC), e, &cfg(), &mut out);
    let reply = match h.outcome {
        Outcome::Reply { len, kind } => {
            let udp = frame::parse_ipv6_udp(&out[ETH_HDR_LEN..len]).unwrap();
            let m = v6::Message::from_bytes(udp.payload).expect("dhcproto decodes it");
            let want = if m.msg_type() == v6::MessageType::Advertise {
                ReplyKind::Dhcp6Advertise
            } else {
                ReplyKind::Dhcp6Reply
            };
            assert_eq!(kind, want);
            assert_eq!(m.xid(), [0xab, 0xcd, 0xef]);
            assert_eq!(m.opts().get(OptionCode::ServerId), Some(&server_id()));
            assert_eq!(
                m.opts().get(OptionCode::ClientId),
                Some(&Opt::ClientId(CLIENT_DUID.to_vec()))
            );
            Ok(m)
        }
        Outcome::NoReply(why) => Err(why),
    };
    (h.request, reply)
}

fn reply(pkt: &[u8], e: &Entry) -> v6::Message {
    outcome(pkt, e).1.expect("a reply")
}

fn no_reply(pkt: &[u8], e: &Entry) -> NoReply {
    outcome(pkt, e).1.expect_err("no reply")
}

/// An address with its preferred and valid lifetimes.
type Held = (Ipv6Addr, u32, u32);

/// IAID, T1, T2, the addresses of the `nth` IA_NA, and its status.
fn na_of(m: &v6::Message, nth: usize) -> (u32, u32, u32, Vec<Held>, Option<Status>) {
    let all = m.opts().get_all(OptionCode::IANA).unwrap_or(&[]);
    let Some(Opt::IANA(ia)) = all.get(nth) else {
        panic!("no IA_NA {nth} in {m:?}");
    };
    let addrs = ia
        .opts
        .get_all(OptionCode::IAAddr)
        .unwrap_or(&[])
        .iter()
        .map(|o| match o {
            Opt::IAAddr(a) => (a.addr, a.preferred_life, a.valid_life),
            other => panic!("{other:?}"),
        })
        .collect();
    (ia.id, ia.t1, ia.t2, addrs, status_of(&ia.opts))
}

fn pd_of(m: &v6::Message) -> (u32, Vec<(String, u32)>, Option<Status>) {
    let Some(Opt::IAPD(ia)) = m.opts().get(OptionCode::IAPD) else {
        panic!("no IA_PD in {m:?}");
    };
    let prefixes = ia
        .opts
        .get_all(OptionCode::IAPrefix)
        .unwrap_or(&[])
        .iter()
        .map(|o| match o {
            Opt::IAPrefix(p) => (
                format!("{}/{}", p.prefix_ip, p.prefix_len),
                p.valid_lifetime,
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    (ia.t1, prefixes, status_of(&ia.opts))
}

fn status_of(opts: &v6::DhcpOptions) -> Option<Status> {
    match opts.get(OptionCode::StatusCode) {
        Some(Opt::StatusCode(s)) => Some(s.status),
        _ => None,
    }
}

fn leased(a: &str) -> Held {
    (addr(a), 1000, 1000)
}

fn gone(a: &str) -> Held {
    (addr(a), 0, 0)
}

#[test]
fn solicit_gets_advertise_with_the_eui64_default() {
    let e = entry(binding(""));
    let (request, m) = outcome(&msg(v6::MessageType::Solicit, vec![iana(7, &[])]), &e);
    let m = m.unwrap();
    assert_eq!(request, Some(RequestKind::Dhcp6(MessageType::Solicit)));
    assert_eq!(m.msg_type(), v6::MessageType::Advertise);
    assert_eq!(
        m.opts().get(OptionCode::Preference),
        Some(&Opt::Preference(255))
    );
    assert_eq!(m.opts().get(OptionCode::RapidCommit), None);
    // T1 = lease_renewal, T2 = 4/5 of lease_lifetime, both lifetimes = lease_lifetime.
    assert_eq!(na_of(&m, 0), (7, 300, 800, vec![leased(EUI64)], None));
    assert!(m.opts().get(OptionCode::DomainNameServers).is_some());
    assert_eq!(m.opts().get(OptionCode::InformationRefreshTime), None);
}

#[test]
fn rapid_commit_solicit_gets_reply() {
    let e = entry(binding("IP6=2001:db8:aaaa:bbbb::5, 2001:db8:aaaa:bbbb::6"));
    let m = reply(
        &msg(
            v6::MessageType::Solicit,
            vec![Opt::RapidCommit, iana(1, &[])],
        ),
        &e,
    );
    assert_eq!(m.msg_type(), v6::MessageType::Reply);
    assert_eq!(
        m.opts().get(OptionCode::RapidCommit),
        Some(&Opt::RapidCommit)
    );
    assert_eq!(m.opts().get(OptionCode::Preference), None);
    let want = vec![
        leased("2001:db8:aaaa:bbbb::5"),
        leased("2001:db8:aaaa:bbbb::6"),
    ];
    assert_eq!(na_of(&m, 0).3, want);
}

#[test]
fn request_and_renew_need_our_server_id() {
    let e = entry(binding(""));
    for kind in [v6::MessageType::Request, v6::MessageType::Renew] {
        assert_eq!(
            no_reply(&msg(kind, vec![iana(1, &[EUI64])]), &e),
            NoReply::Invalid
        );
        let other = Opt::ServerId(vec![0, 3, 0, 1, 2, 2, 2, 2, 2, 2]);
        assert_eq!(
            no_reply(&msg(kind, vec![other, iana(1, &[EUI64])]), &e),
            NoReply::OtherServer
        );
        let m = reply(&msg(kind, vec![server_id(), iana(1, &[EUI64])]), &e);
        assert_eq!(m.msg_type(), v6::MessageType::Reply);
        assert_eq!(na_of(&m, 0).3, vec![leased(EUI64)]);
    }
    // Solicit, Rebind and Confirm must not name a server; none may lack a client id.
    for kind in [
        v6::MessageType::Solicit,
        v6::MessageType::Rebind,
        v6::MessageType::Confirm,
    ] {
        assert_eq!(
            no_reply(&msg(kind, vec![server_id(), iana(1, &[EUI64])]), &e),
            NoReply::Invalid
        );
    }
    let mut m = v6::Message::new_with_id(v6::MessageType::Solicit, [1, 2, 3]);
    m.opts_mut().insert(iana(1, &[]));
    let anonymous = udp6_packet(546, 547, &m.to_vec().unwrap());
    assert_eq!(no_reply(&anonymous, &e), NoReply::Invalid);
}

#[test]
fn renew_after_ip6_changed_gets_old_at_zero_and_new() {
    let old = entry(binding("IP6=2001:db8:aaaa:bbbb::5"));
    let new = Slot::Active(entry(binding("IP6=2001:db8:aaaa:bbbb::9")))
        .following(Some(&Slot::Active(old.clone())));
    let Slot::Active(new) = new else {
        unreachable!()
    };
    assert_eq!(new.previous6.addrs, [addr("2001:db8:aaaa:bbbb::5")]);
    for (kind, sid) in [
        (v6::MessageType::Renew, Some(server_id())),
        (v6::MessageType::Rebind, None),
    ] {
        let renew =
            |addrs: &[&str]| msg(kind, sid.iter().cloned().chain([iana(3, addrs)]).collect());
        let m = reply(&renew(&["2001:db8:aaaa:bbbb::5"]), &new);
        assert_eq!(
            na_of(&m, 0),
            (
                3,
                300,
                800,
                vec![
                    leased("2001:db8:aaaa:bbbb::9"),
                    gone("2001:db8:aaaa:bbbb::5")
                ],
                None
            )
        );
        // Unchanged: renewed.
        let m = reply(&renew(&["2001:db8:aaaa:bbbb::5"]), &old);
        assert_eq!(na_of(&m, 0).3, vec![leased("2001:db8:aaaa:bbbb::5")]);
        // An address this VM never had: NoBinding, no address, T1 = T2 = 0.
        let m = reply(&renew(&["2001:db8:aaaa:bbbb::77"]), &new);
        assert_eq!(na_of(&m, 0), (3, 0, 0, vec![], Some(Status::NoBinding)));
        // The current one among strangers: renewed, the strangers at 0.
        let m = reply(
            &renew(&["2001:db8:aaaa:bbbb::77", "2001:db8:aaaa:bbbb::9"]),
            &new,
        );
        assert_eq!(
            na_of(&m, 0).3,
            vec![
                leased("2001:db8:aaaa:bbbb::9"),
                gone("2001:db8:aaaa:bbbb::77")
            ]
        );
        // An empty IA asks afresh.
        assert_eq!(
            na_of(&reply(&renew(&[]), &new), 0).3,
            vec![leased("2001:db8:aaaa:bbbb::9")]
        );
    }
}

#[test]
fn previous_leases_are_remembered_across_changes() {
    let v1 = Slot::Active(entry(binding(
        "IP6=2001:db8:aaaa:bbbb::1\nDELEGATED6=2001:db8:100::/56",
    )));
    let v2 = Slot::Active(entry(binding("IP6=2001:db8:aaaa:bbbb::2"))).following(Some(&v1));
    let v3 = Slot::Active(entry(binding("IP6=2001:db8:aaaa:bbbb::1"))).following(Some(&v2));
    let prev = |s: &Slot| s.active().unwrap().previous6.clone();
    let net = |s: &str| s.parse::<Ipv6Network>().unwrap();
    assert_eq!(
        prev(&v2),
        Previous6 {
            addrs: vec![addr("2001:db8:aaaa:bbbb::1")],
            prefixes: vec![net("2001:db8:100::/56")],
        }
    );
    // Back to ::1: it is current again, ::2 is the previous one; the prefix still known.
    assert_eq!(
        prev(&v3),
        Previous6 {
            addrs: vec![addr("2001:db8:aaaa:bbbb::2")],
            prefixes: vec![net("2001:db8:100::/56")],
        }
    );
    // Bounded.
    let mut slot = v3;
    for i in 0..20 {
        let next = Slot::Active(entry(binding(&format!(
            "IP6=2001:db8:aaaa:bbbb::{:x}",
            100 + i
        ))));
        slot = next.following(Some(&slot));
    }
    assert_eq!(prev(&slot).addrs.len(), Previous6::MAX);
    assert_eq!(prev(&slot).addrs[0], addr("2001:db8:aaaa:bbbb::76"));
}

#[test]
fn prefix_delegation() {
    let e = entry(binding("DELEGATED6=2001:db8:100::/56, 2001:db8:200::/64"));
    let m = reply(
        &msg(
            v6::MessageType::Solicit,
            vec![Opt::RapidCommit, iapd(9, &[])],
        ),
        &e,
    );
    let want = vec![
        ("2001:db8:100::/56".to_string(), 1000),
        ("2001:db8:200::/64".to_string(), 1000),
    ];
    assert_eq!(pd_of(&m), (300, want, None));
    assert_eq!(
        m.opts().get(OptionCode::IANA),
        None,
        "no IA_NA asked, none given"
    );
    // A Renew of an unknown prefix among ours: ours renewed, the other at 0.
    let renew = msg(
        v6::MessageType::Renew,
        vec![
            server_id(),
            iapd(9, &["2001:db8:100::/56", "2001:db8:300::/56"]),
        ],
    );
    let (_, prefixes, status) = pd_of(&reply(&renew, &e));
    assert_eq!(status, None);
    assert_eq!(
        prefixes.iter().map(|p| p.1).collect::<Vec<_>>(),
        [1000, 1000, 0]
    );
    // No DELEGATED6: NoPrefixAvail in the IA, the address still given in a Reply.
    let none = entry(binding(""));
    let both = msg(
        v6::MessageType::Request,
        vec![server_id(), iana(1, &[]), iapd(2, &[])],
    );
    let m = reply(&both, &none);
    assert_eq!(pd_of(&m), (0, vec![], Some(Status::NoPrefixAvail)));
    assert_eq!(na_of(&m, 0).3, vec![leased(EUI64)]);
}

#[test]
fn nothing_to_assign() {
    // A bad IP6 serves no address (the EUI-64 default is not handed out instead).
    let b = binding("IP6=fe80::1\nDELEGATED6=zz");
    assert!(b.ip6.is_empty() && b.delegated6.is_empty());
    let e = entry(b);
    let solicit = msg(v6::MessageType::Solicit, vec![iana(1, &[]), iapd(2, &[])]);
    let m = reply(&solicit, &e);
    assert_eq!(m.msg_type(), v6::MessageType::Advertise);
    assert_eq!(status_of(m.opts()), Some(Status::NoAddrsAvail));
    assert_eq!(m.opts().get(OptionCode::IANA), None);
    let request = msg(v6::MessageType::Request, vec![server_id(), iana(1, &[])]);
    assert_eq!(
        na_of(&reply(&request, &e), 0),
        (1, 0, 0, vec![], Some(Status::NoAddrsAvail))
    );
}

#[test]
fn temporary_and_extra_ias_are_refused_per_ia() {
    let e = entry(binding(""));
    let ta = Opt::IATA(v6::IATA {
        id: 5,
        opts: v6::DhcpOptions::new(),
    });
    let m = reply(
        &msg(
            v6::MessageType::Solicit,
            vec![Opt::RapidCommit, iana(1, &[]), iana(2, &[]), ta],
        ),
        &e,
    );
    // The first IA_NA of the message gets the address (dhcproto orders equal codes its own
    // way, so which IAID is first is not ours to say), the other NoAddrsAvail.
    let (first, second) = (na_of(&m, 0), na_of(&m, 1));
    assert_eq!((first.3, first.4), (vec![leased(EUI64)], None));
    assert_eq!(
        (second.1, second.2, second.3, second.4),
        (0, 0, vec![], Some(Status::NoAddrsAvail))
    );
    assert_ne!(first.0, second.0);
    let Some(Opt::IATA(ta)) = m.opts().get(OptionCode::IATA) else {
        panic!("no IA_TA in {m:?}");
    };
    assert_eq!(
        (ta.id, status_of(&ta.opts)),
        (5, Some(Status::NoAddrsAvail))
    );
}

#[test]
fn confirm_release_decline() {
    let e = entry(binding("IP6=2001:db8:9::9"));
    let confirm = |addrs: &[&str]| msg(v6::MessageType::Confirm, vec![iana(1, addrs)]);
    for (addrs, want) in [
        (&[EUI64][..], Status::Success),
        (&["2001:db8:9::9"][..], Status::Success),
        (&[EUI64, "2001:db8:7::1"][..], Status::NotOnLink),
    ] {
        let m = reply(&confirm(addrs), &e);
        assert_eq!(
            (m.msg_type(), status_of(m.opts())),
            (v6::MessageType::Reply, Some(want)),
            "{addrs:?}"
        );
        assert_eq!(m.opts().get(OptionCode::IANA), None);
    }
    assert_eq!(no_reply(&confirm(&[]), &e), NoReply::Invalid);
    for kind in [v6::MessageType::Release, v6::MessageType::Decline] {
        let m = reply(
            &msg(kind, vec![server_id(), iana(1, &["2001:db8:9::9"])]),
            &e,
        );
        assert_eq!(status_of(m.opts()), Some(Status::Success), "{kind:?}");
        assert_eq!(m.opts().get(OptionCode::IANA), None);
    }
    let decline = msg(
        v6::MessageType::Decline,
        vec![server_id(), iana(1, &["2001:db8:9::9"])],
    );
    assert_eq!(declined(&decline), [addr("2001:db8:9::9")]);
    assert_eq!(declined(&[1, 2, 3]), Vec::<Ipv6Addr>::new());
}

#[test]
fn unicast_is_refused_as_rfc_8415_says() {
    let e = entry(binding(""));
    let to_us = |kind, opts| udp6_packet_to(HOST_MAC.link_local(), 546, 547, &payload(kind, opts));
    for kind in [
        v6::MessageType::Solicit,
        v6::MessageType::Rebind,
        v6::MessageType::Confirm,
    ] {
        assert_eq!(
            no_reply(&to_us(kind, vec![iana(1, &[EUI64])]), &e),
            NoReply::Unicast,
            "{kind:?}"
        );
    }
    for kind in [
        v6::MessageType::Request,
        v6::MessageType::Renew,
        v6::MessageType::Release,
        v6::MessageType::Decline,
    ] {
        let m = reply(&to_us(kind, vec![server_id(), iana(1, &[EUI64])]), &e);
        assert_eq!(status_of(m.opts()), Some(Status::UseMulticast), "{kind:?}");
        assert_eq!(m.opts().get(OptionCode::IANA), None);
    }
    // Information-Request to a unicast address is still answered, as before.
    let info = to_us(v6::MessageType::InformationRequest, vec![]);
    assert_eq!(reply(&info, &e).msg_type(), v6::MessageType::Reply);
}

#[test]
fn server_and_relay_messages_are_counted_by_type_and_dropped() {
    let e = entry(binding(""));
    for kind in [
        v6::MessageType::Advertise,
        v6::MessageType::Reply,
        v6::MessageType::Reconfigure,
    ] {
        let (request, r) = outcome(&msg(kind, vec![]), &e);
        assert_eq!(r.unwrap_err(), NoReply::UnexpectedType);
        assert_eq!(
            request,
            Some(RequestKind::Dhcp6(MessageType::from(u8::from(kind))))
        );
    }
    // A Relay-Forward: its header differs; parsed no further, counted as one.
    let mut relay = vec![12u8, 0];
    relay.extend_from_slice(&[0; 32]);
    let (request, r) = outcome(&udp6_packet(547, 547, &relay), &e);
    assert_eq!(
        (request, r.unwrap_err()),
        (
            Some(RequestKind::Dhcp6(MessageType::RelayForw)),
            NoReply::UnexpectedType
        )
    );
}

#[test]
fn slaac_modes_serve_leases_too() {
    // The queue is bound in slaac+dhcpv6 as well: a client that asks gets its leases there
    // (prefix delegation needs no M flag).
    let e = entry(binding("DELEGATED6=2001:db8:100::/56"));
    let cfg = testutil::config().build();
    let pkt = msg(
        v6::MessageType::Solicit,
        vec![Opt::RapidCommit, iapd(1, &[])],
    );
    let mut out = [0u8; 1514];
    let h = testutil::handle(QueueKind::Dhcp6, &pkt, Some(VM_MAC), &e, &cfg, &mut out);
    assert!(
        matches!(
            h.outcome,
            Outcome::Reply {
                kind: ReplyKind::Dhcp6Reply,
                ..
            }
        ),
        "{h:?}"
    );
}
