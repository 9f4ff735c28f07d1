//! Stateful DHCPv6 (issue 14) through the whole sans-IO reply path: `reply::handle` for the
//! DHCPv6 queue, in `mode = dhcpv6` (and slaac+dhcpv6, which serves the same), on bindings
//! with 1-3 IA_NA addresses (IP6, or the EUI-64 default) and 0-2 delegated prefixes
//! (DELEGATED6), some with old leases remembered (`Entry::previous6`, through
//! `Slot::following` after one or two changes of the file).
//!
//! A separate target rather than more of pure_path: pure_path feeds raw IP packets to four
//! handlers, where a mutated byte almost never yields a Renew with our server id and one of
//! the binding's addresses. Here the input mostly drives a structured message (type, client
//! and server ids, Rapid Commit, IA_NA/IA_TA/IA_PD with leases taken from the binding's
//! current ones, its previous ones or anywhere, multicast or unicast destination), and
//! sometimes is the DHCPv6 payload itself.
//!
//! The oracle, on every reply, is `check_dhcp6_exchange` (lib.rs): the reply parses with our
//! parser and dhcproto, Advertise only to a Solicit without Rapid Commit, our server id and
//! the client's echoed, an IA for each IA asked, every lease with a lifetime one of the
//! binding's current ones at `lease_lifetime` with T1 <= T2, every lease at lifetime 0 named
//! by the request, nothing for a message RFC 8415 §16 says to discard. And a structured
//! message that may be answered is answered (but a Confirm naming no address, or a reply
//! too large for a frame).
//!
//! Seeds: corpus/stateful_path/seed-* (Solicit, Request, Renew, Rebind with IA_NA and IA_PD
//! for the first setup's binding; see seeds.py).

#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use nfdhcpd::binding::file;
use nfdhcpd::binding::snapshot::{Entry, Slot};
use nfdhcpd::config::{Config, Ipv6Mode};
use nfdhcpd::reply::{NoReply, Outcome, QueueKind};
use nfdhcpd::testing;
use nfdhcpd::wire::dhcp6::{
    self, option, IaAddress, IaHeader, IaKind, IaPrefix, Lease, MessageType, ReplyWriter, Request,
    StatusCode,
};
use nfdhcpd::wire::frame::{self, Ipv6Header};
use nfdhcpd::wire::{MacAddr, WireError};
use nfdhcpd_fuzz::{
    check_dhcp6_exchange, dhcp6_answerable, entry, handle, reply_frame, FRAME_CAP, HOST_MAC, VM_MAC,
};
use std::net::Ipv6Addr;
use std::sync::OnceLock;

const BASE: &str = "MAC=52:54:00:12:34:56\nIP=192.0.2.50\nSUBNET=192.0.2.0/24\n\
    GATEWAY=192.0.2.1\nHOSTNAME=vm1.example.org\nSUBNET6=2001:db8:1::/64\n\
    GATEWAY6=2001:db8:1::1\n";
/// IP6 as 1-3 addresses; the first is the EUI-64 default (no IP6 key).
const IP6: [(&str, usize); 4] = [
    ("", 1),
    ("IP6=2001:db8:1::10\n", 1),
    ("IP6=2001:db8:1::10, 2001:db8:1::11\n", 2),
    ("IP6=2001:db8:1::10, 2001:db8:1::11, 2001:db8:77::1\n", 3),
];
const DELEGATED6: [(&str, usize); 3] = [
    ("", 0),
    ("DELEGATED6=2001:db8:100::/56\n", 1),
    ("DELEGATED6=2001:db8:100::/56, 2001:db8:200::/48\n", 2),
];
/// Earlier versions of the file: the one just before, and the one before that.
const BEFORE: &str = "IP6=2001:db8:1::20, 2001:db8:1::10\n\
    DELEGATED6=2001:db8:300::/56, 2001:db8:100::/56\n";
const BEFORE_THAT: &str = "IP6=2001:db8:1::30\nDELEGATED6=2001:db8:400::/48\n";

fn slot(keys: &str) -> Slot {
    let b = file::parse("tap0", &format!("{BASE}{keys}")).expect("valid binding");
    Slot::Active(entry(b))
}

fn entries() -> &'static [Entry] {
    static ENTRIES: OnceLock<Vec<Entry>> = OnceLock::new();
    ENTRIES.get_or_init(|| {
        let mut out = Vec::new();
        for history in 0..3 {
            for (ip6, n_ip6) in IP6 {
                for (pd, n_pd) in DELEGATED6 {
                    let now = slot(&format!("{ip6}{pd}"));
                    let old = match history {
                        0 => None,
                        1 => Some(slot(BEFORE)),
                        _ => Some(slot(BEFORE).following(Some(&slot(BEFORE_THAT)))),
                    };
                    let Slot::Active(e) = now.following(old.as_ref()) else {
                        unreachable!("active")
                    };
                    assert_eq!(
                        (e.binding.ip6.len(), e.binding.delegated6.len()),
                        (n_ip6, n_pd)
                    );
                    // Only the third address, off SUBNET6 on purpose (served as written).
                    let w = &e.binding.warnings;
                    assert!(
                        w.iter().all(|w| w.reason.contains("outside SUBNET6")),
                        "{w:?}"
                    );
                    assert_eq!(history == 0, e.previous6 == Default::default());
                    out.push(e);
                }
            }
        }
        out
    })
}

fn configs() -> &'static [Config] {
    static CONFIGS: OnceLock<Vec<Config>> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        let stateful = || testing::config().mode(Ipv6Mode::Dhcpv6);
        vec![
            stateful().build(),
            stateful()
                .ipv6(|v| {
                    (v.lease_lifetime, v.lease_renewal) = (120, 30);
                    v.ntp_servers = vec!["2001:db8::123".parse().unwrap()];
                })
                .build(),
            // T1 above 4/5 of the lifetime: T2 is raised to T1.
            stateful()
                .ipv6(|v| {
                    (v.lease_lifetime, v.lease_renewal) = (100, 99);
                    v.nameservers.clear();
                    v.domains.clear();
                })
                .build(),
            testing::config().mode(Ipv6Mode::SlaacDhcpv6).build(),
        ]
    })
}

const OTHER_MAC: MacAddr = MacAddr([0x02, 0x00, 0x5e, 0x99, 0x00, 0x02]);

fn pick<'a, T: Copy>(u: &mut Unstructured<'a>, items: &[T]) -> Result<T> {
    Ok(*u.choose(items)?)
}

/// 16 bytes for an address: the binding's, an old one, a fixed odd one, or anything.
fn address(u: &mut Unstructured<'_>, e: &Entry) -> Result<Ipv6Addr> {
    let fixed: [Ipv6Addr; 5] = [
        "2001:db8:1::99".parse().unwrap(),
        "2001:db8:9::1".parse().unwrap(),
        "fe80::5054:ff:fe12:3456".parse().unwrap(),
        Ipv6Addr::UNSPECIFIED,
        "ff02::1:2".parse().unwrap(),
    ];
    Ok(match u.int_in_range(0..=4)? {
        0 | 1 => pick(u, &e.binding.ip6)?,
        2 if !e.previous6.addrs.is_empty() => pick(u, &e.previous6.addrs)?,
        3 => pick(u, &fixed)?,
        _ => Ipv6Addr::from(u.arbitrary::<[u8; 16]>()?),
    })
}

fn prefix(u: &mut Unstructured<'_>, e: &Entry) -> Result<(Ipv6Addr, u8)> {
    let b = &e.binding;
    Ok(match u.int_in_range(0..=4)? {
        0 | 1 if !b.delegated6.is_empty() => {
            let n = pick(u, &b.delegated6)?;
            (n.network(), n.prefix())
        }
        2 if !e.previous6.prefixes.is_empty() => {
            let n = pick(u, &e.previous6.prefixes)?;
            (n.network(), n.prefix())
        }
        // One of ours with host bits set, or one length off.
        3 if !b.delegated6.is_empty() => {
            let n = pick(u, &b.delegated6)?;
            if u.arbitrary()? {
                (n.ip() | Ipv6Addr::from(1u128), n.prefix())
            } else {
                (n.network(), n.prefix().saturating_add(1))
            }
        }
        _ => {
            let len = if u.ratio(1, 16)? {
                u.arbitrary()?
            } else {
                u.int_in_range(0..=128)?
            };
            (Ipv6Addr::from(u.arbitrary::<[u8; 16]>()?), len)
        }
    })
}

fn lifetime(u: &mut Unstructured<'_>) -> Result<u32> {
    Ok(match u.int_in_range(0..=3)? {
        0 => 0,
        1 => 3600,
        2 => u32::MAX,
        _ => u.arbitrary()?,
    })
}

/// A DUID: DUID-LL of `mac`, or arbitrary bytes (sometimes outside 3..=130).
fn duid(u: &mut Unstructured<'_>, mac: MacAddr) -> Result<Vec<u8>> {
    if u.ratio(3, 4)? {
        return Ok(dhcp6::duid_ll(mac).to_vec());
    }
    let len = if u.ratio(1, 8)? {
        u.int_in_range(0..=140)?
    } else {
        u.int_in_range(3..=20)?
    };
    u.bytes(len).map(<[u8]>::to_vec)
}

/// A client message built from `u` into `buf`; its length.
fn message(u: &mut Unstructured<'_>, e: &Entry, buf: &mut [u8]) -> Result<usize> {
    use MessageType as T;
    let types = [
        T::Solicit,
        T::Request,
        T::Renew,
        T::Rebind,
        T::Confirm,
        T::Release,
        T::Decline,
        T::InformationRequest,
    ];
    let msg_type = if u.ratio(1, 32)? {
        MessageType::from(u.arbitrary::<u8>()?)
    } else {
        pick(u, &types)?
    };
    let xid = u.arbitrary::<u32>()? & dhcp6::MAX_TRANSACTION_ID;
    let mut w = ReplyWriter::new(buf, msg_type, xid).expect("room");
    // Errors below only mean the buffer is full: what was written is the message.
    if u.ratio(15, 16)? {
        let _ = w.option(option::CLIENTID, &duid(u, VM_MAC)?);
    }
    match u.int_in_range(0..=3)? {
        0 => {}
        1 => {
            let _ = w.option(option::SERVERID, &dhcp6::duid_ll(HOST_MAC));
        }
        2 => {
            let _ = w.option(option::SERVERID, &duid(u, OTHER_MAC)?);
        }
        // What a message of this type should carry (§16), most of the time.
        _ => {
            if matches!(msg_type, T::Request | T::Renew | T::Release | T::Decline) {
                let _ = w.option(option::SERVERID, &dhcp6::duid_ll(HOST_MAC));
            }
        }
    }
    if u.arbitrary()? {
        let _ = w.option(option::ELAPSED_TIME, &[0, 0]);
    }
    if u.ratio(1, 3)? {
        let codes = [23u16, 24, 56, 32, u.arbitrary()?];
        let n = u.int_in_range(0..=4)?;
        let mut oro = Vec::new();
        for _ in 0..n {
            oro.extend_from_slice(&pick(u, &codes)?.to_be_bytes());
        }
        let _ = w.option(option::ORO, &oro);
    }
    if u.ratio(1, 3)? {
        let data: &[u8] = if u.ratio(1, 16)? { &[0] } else { &[] };
        let _ = w.option(option::RAPID_COMMIT, data);
    }
    let n_ias = if u.ratio(1, 16)? {
        u.int_in_range(0..=12)?
    } else {
        u.int_in_range(0..=3)?
    };
    for _ in 0..n_ias {
        let kind = pick(
            u,
            &[IaKind::Na, IaKind::Na, IaKind::Pd, IaKind::Pd, IaKind::Ta],
        )?;
        let iaid = if u.arbitrary()? {
            u.int_in_range(0..=2)?
        } else {
            u.arbitrary()?
        };
        let (t1, t2) = if u.arbitrary()? {
            (0, 0)
        } else {
            (u.arbitrary()?, u.arbitrary()?)
        };
        let mut leases = Vec::new();
        for _ in 0..u.int_in_range(0..=3)? {
            let (preferred, valid) = (lifetime(u)?, lifetime(u)?);
            leases.push(match kind {
                IaKind::Pd => {
                    let (prefix, len) = prefix(u, e)?;
                    Lease::Prefix(IaPrefix {
                        prefix,
                        len,
                        preferred,
                        valid,
                    })
                }
                IaKind::Na | IaKind::Ta => Lease::Address(IaAddress {
                    addr: address(u, e)?,
                    preferred,
                    valid,
                }),
            });
        }
        let status = if u.ratio(1, 8)? {
            Some((StatusCode::from(u.int_in_range(0..=7)?), "client"))
        } else {
            None
        };
        let header = IaHeader { kind, iaid, t1, t2 };
        let _ = w.option_ia(header, &leases, status);
    }
    if u.ratio(1, 8)? {
        let code = u.arbitrary()?;
        let len = u.int_in_range(0..=24)?;
        let _ = w.option(code, u.bytes(len)?);
    }
    Ok(w.finish())
}

/// Where the message goes: All_DHCP_Relay_Agents_and_Servers mostly, else
/// All_DHCP_Servers, our link-local address, a global one, or anything.
fn destination(u: &mut Unstructured<'_>) -> Result<Ipv6Addr> {
    Ok(match u.int_in_range(0..=9)? {
        0..=5 => "ff02::1:2".parse().unwrap(),
        6 => "ff05::1:3".parse().unwrap(),
        7 => HOST_MAC.link_local(),
        8 => "2001:db8:1::1".parse().unwrap(),
        _ => Ipv6Addr::from(u.arbitrary::<[u8; 16]>()?),
    })
}

/// The IPv6/UDP packet NFQUEUE would hand over, from the IP header.
fn packet(u: &mut Unstructured<'_>, dst: Ipv6Addr, payload: &[u8]) -> Result<Vec<u8>> {
    let src = match u.int_in_range(0..=15)? {
        // (0, what an empty input gives, is the usual link-local source.)
        1 => "2001:db8:1::10".parse().unwrap(),
        2 => Ipv6Addr::UNSPECIFIED,
        _ => VM_MAC.link_local(),
    };
    let src_port = if u.ratio(15, 16)? {
        dhcp6::CLIENT_PORT
    } else {
        u.arbitrary()?
    };
    let mut buf = vec![0u8; frame::IPV6_UDP_PAYLOAD_OFFSET + payload.len()];
    buf[frame::IPV6_UDP_PAYLOAD_OFFSET..].copy_from_slice(payload);
    let hdr = Ipv6Header {
        src_mac: VM_MAC,
        dst_mac: frame::ipv6_multicast_mac(&dst),
        src_ip: src,
        dst_ip: dst,
        hop_limit: 1,
    };
    let total = frame::emit_ipv6_udp(&mut buf, &hdr, src_port, dhcp6::SERVER_PORT, payload.len())
        .expect("emit");
    Ok(buf[frame::ETH_HDR_LEN..total].to_vec())
}

/// A first byte that is a multiple of 8 makes the input raw: [`raw`]'s layout.
fn run(data: &[u8]) -> Result<()> {
    let (e, cfg, ip, raw) = match data.split_first() {
        Some((mode, rest)) if mode % 8 == 0 => {
            let (e, cfg, ip) = raw_input(rest);
            (e, cfg, ip, true)
        }
        _ => {
            let mut u = Unstructured::new(data.get(1..).unwrap_or(&[]));
            let e = u.choose(entries())?;
            let cfg = u.choose(configs())?;
            let dst = destination(&mut u)?;
            let mut buf = vec![0u8; 1400];
            let len = message(&mut u, e, &mut buf)?;
            buf.truncate(len);
            let ip = packet(&mut u, dst, &buf)?;
            (e, cfg, ip, false)
        }
    };
    let dst = frame::parse_ipv6_udp(&ip).expect("our packet").dst;
    let mut out = vec![0xa5u8; FRAME_CAP];
    let outcome = handle(QueueKind::Dhcp6, &ip, Some(e.binding.mac), e, cfg, &mut out);
    if let Some((reply, kind)) = reply_frame(outcome, &out) {
        check_dhcp6_exchange(reply, kind, &ip, e, cfg);
        return Ok(());
    }
    // A structured message a server may answer is answered.
    let udp = frame::parse_ipv6_udp(&ip).expect("our packet");
    let Ok(req) = Request::parse(udp.payload) else {
        return Ok(());
    };
    if raw || udp.src.is_unspecified() || dhcp6_answerable(&req, dst, e).is_err() {
        return Ok(());
    }
    let names_an_address = req
        .ias()
        .filter(|ia| ia.kind != IaKind::Pd)
        .any(|ia| ia.addresses().next().is_some());
    match outcome {
        Outcome::NoReply(NoReply::Invalid)
            if req.msg_type == MessageType::Confirm && !names_an_address => {}
        Outcome::NoReply(NoReply::Malformed(WireError::BufferTooSmall)) => {}
        other => panic!("no reply to an answerable {:?}: {other:?}", req.msg_type),
    }
    Ok(())
}

/// The raw layout (what seeds.py writes): the entry's index (mod 36: history * 12 + IP6
/// variant * 3 + DELEGATED6 variant), the config's (mod 4), 0 for ff02::1:2 or else our
/// link-local address as destination, then the DHCPv6 message, sent from the VM's
/// link-local address and port 546.
fn raw_input(rest: &[u8]) -> (&'static Entry, &'static Config, Vec<u8>) {
    let byte = |i: usize| usize::from(rest.get(i).copied().unwrap_or(0));
    let e = &entries()[byte(0) % entries().len()];
    let cfg = &configs()[byte(1) % configs().len()];
    let dst = if byte(2) == 0 {
        "ff02::1:2".parse().unwrap()
    } else {
        HOST_MAC.link_local()
    };
    let payload = rest.get(3..).unwrap_or(&[]);
    let payload = &payload[..payload.len().min(60_000)];
    let mut u = Unstructured::new(&[]);
    let ip = packet(&mut u, dst, payload).expect("an empty Unstructured gives defaults");
    (e, cfg, ip)
}

fuzz_target!(|data: &[u8]| {
    let _ = run(data);
});
