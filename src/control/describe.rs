//! One-line decodings of requests, replies and decisions, for `nfdhcpd ctl show` and `ctl
//! trace` (what the original's scapy dumps were used for). Best effort: whatever does not
//! parse is said so, never a panic.

use crate::events::{Decision, Event};
use crate::reply::{NoReply, QueueKind, ReplyKind, RequestKind};
use crate::wire::dhcp4::{self, MessageType as Dhcp4Type};
use crate::wire::dhcp6::Request as Dhcp6Request;
use crate::wire::frame::{self, ETH_HDR_LEN};
use crate::wire::ndp::NeighborSolicit;
use crate::wire::MacAddr;
use std::fmt::Write as _;

/// The request kind as a word: `DISCOVER`, `RS`, `SOLICIT`, `-` when it did not parse.
pub fn request_kind(kind: Option<RequestKind>) -> String {
    match kind {
        None => "-".into(),
        Some(RequestKind::Dhcp4(t)) => format!("{t:?}").to_uppercase(),
        Some(RequestKind::RouterSolicit) => "RS".into(),
        Some(RequestKind::NeighborSolicit) => "NS".into(),
        Some(RequestKind::Dhcp6(t)) => format!("{t:?}").to_uppercase(),
    }
}

pub fn reply_kind(kind: ReplyKind) -> &'static str {
    match kind {
        ReplyKind::Offer => "OFFER",
        ReplyKind::Ack => "ACK",
        ReplyKind::Nak => "NAK",
        ReplyKind::Ra => "RA",
        ReplyKind::Na => "NA",
        ReplyKind::Dhcp6Advertise => "ADVERTISE",
        ReplyKind::Dhcp6Reply => "REPLY",
    }
}

/// What was decided, with what an operator needs to see why: `replied OFFER`, `dropped:
/// spoofed (frame from 02:..., the binding's MAC is aa:...)`.
pub fn decision(event: &Event, binding_mac: MacAddr) -> String {
    match event.decision {
        Decision::Replied(kind) => format!("replied {}", reply_kind(kind)),
        Decision::RateLimited => "dropped: rate limited (over rate_limit/rate_burst)".into(),
        Decision::NoReply(NoReply::Spoofed) => {
            let from = event.frame_src.map_or("?".into(), |m| m.to_string());
            format!("dropped: spoofed (frame or claimed MAC {from}, the binding's MAC is {binding_mac})")
        }
        Decision::NoReply(why) => format!("dropped: {}", why.as_str()),
    }
}

/// Milliseconds since the epoch as UTC `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn timestamp(at_ms: u64) -> String {
    let secs = at_ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        at_ms % 1000
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's
/// algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The request's details: `xid=0x.. chaddr=.. requested=..`, `target=..`, `IA_NA 1 [addr]`.
pub fn request(queue: QueueKind, ip: &[u8]) -> String {
    let text = match queue {
        QueueKind::Dhcp4 => dhcp4_request(ip),
        QueueKind::RouterSolicit => frame::parse_icmpv6(ip)
            .ok()
            .map(|i| format!("from {}", i.src)),
        QueueKind::NeighborSolicit => frame::parse_icmpv6(ip).ok().and_then(|i| {
            let ns = NeighborSolicit::parse(&i).ok()?;
            Some(format!("from {} target={}", i.src, ns.target))
        }),
        QueueKind::Dhcp6 => frame::parse_ipv6_udp(ip).ok().and_then(|u| {
            let r = Dhcp6Request::parse(u.payload).ok()?;
            Some(format!(
                "from {} to {} xid=0x{:06x}{}",
                u.src,
                u.dst,
                r.transaction_id,
                ias(u.payload)
            ))
        }),
    };
    text.unwrap_or_else(|| format!("({} bytes, does not parse)", ip.len()))
}

fn dhcp4_request(ip: &[u8]) -> Option<String> {
    let udp = frame::parse_ipv4_udp(ip).ok()?;
    let r = dhcp4::Request::parse(udp.payload).ok()?;
    let mut s = format!("xid=0x{:08x} chaddr={}", r.xid, r.chaddr);
    if let Some(ip) = r.requested_ip {
        let _ = write!(s, " requested={ip}");
    }
    if !r.ciaddr.is_unspecified() {
        let _ = write!(s, " ciaddr={}", r.ciaddr);
    }
    Some(s)
}

/// The reply's details (from the frame, Ethernet header first): the address offered, the
/// IAs given.
pub fn reply(queue: QueueKind, frame_bytes: &[u8]) -> String {
    let ip = frame_bytes.get(ETH_HDR_LEN..).unwrap_or_default();
    let text = match queue {
        QueueKind::Dhcp4 => frame::parse_ipv4_udp(ip).ok().and_then(|u| {
            let p = dhcp4::Packet::new_checked(u.payload).ok()?;
            let t = p
                .options()
                .filter_map(Result::ok)
                .find(|o| o.code == dhcp4::option::MESSAGE_TYPE)
                .and_then(|o| o.data.first().copied())
                .map(Dhcp4Type::from);
            let t = t.map_or("?".into(), |t| format!("{t:?}").to_uppercase());
            Some(format!("({t}) yiaddr={} to {}", p.yiaddr(), u.dst))
        }),
        QueueKind::RouterSolicit => frame::parse_icmpv6(ip)
            .ok()
            .map(|i| format!("to {}", i.dst)),
        QueueKind::NeighborSolicit => frame::parse_icmpv6(ip)
            .ok()
            .map(|i| format!("to {}", i.dst)),
        QueueKind::Dhcp6 => frame::parse_ipv6_udp(ip)
            .ok()
            .map(|u| format!("to {}{}", u.dst, ias(u.payload))),
    };
    text.unwrap_or_default()
}

/// The IAs of a DHCPv6 message: ` IA_NA 1 [2001:db8::5/30s] IA_PD 2 [2001:db8:100::/56/30s]`.
fn ias(payload: &[u8]) -> String {
    let Ok(r) = Dhcp6Request::parse(payload) else {
        return String::new();
    };
    let mut s = String::new();
    for ia in r.ias() {
        let _ = write!(s, " {:?} {}", ia.kind, ia.iaid);
        let leases: Vec<String> = ia
            .addresses()
            .map(|a| format!("{}/{}s", a.addr, a.valid))
            .chain(
                ia.prefixes()
                    .map(|p| format!("{}/{}/{}s", p.prefix, p.len, p.valid)),
            )
            .collect();
        let _ = write!(s, " [{}]", leases.join(" "));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;
    use crate::wire::dhcp6;

    #[test]
    fn timestamps() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(timestamp(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(timestamp(1_796_176_800_000), "2026-12-02T02:00:00.000Z");
    }

    #[test]
    fn decisions() {
        let mac: MacAddr = "aa:6b:39:22:33:44".parse().unwrap();
        let spoof: MacAddr = "02:00:5e:10:00:99".parse().unwrap();
        let ev = |d| Event {
            at_ms: 0,
            queue: QueueKind::Dhcp4,
            request: None,
            decision: d,
            frame_src: Some(spoof),
        };
        assert_eq!(
            decision(&ev(Decision::NoReply(NoReply::Spoofed)), mac),
            "dropped: spoofed (frame or claimed MAC 02:00:5e:10:00:99, the binding's MAC is aa:6b:39:22:33:44)"
        );
        assert_eq!(
            decision(&ev(Decision::Replied(ReplyKind::Offer)), mac),
            "replied OFFER"
        );
        assert!(decision(&ev(Decision::RateLimited), mac).contains("rate limited"));
        assert_eq!(
            request_kind(Some(RequestKind::Dhcp4(Dhcp4Type::Discover))),
            "DISCOVER"
        );
        assert_eq!(
            request_kind(Some(RequestKind::Dhcp6(
                dhcp6::MessageType::InformationRequest
            ))),
            "INFORMATIONREQUEST"
        );
    }

    #[test]
    fn garbage_never_panics() {
        for q in [
            QueueKind::Dhcp4,
            QueueKind::RouterSolicit,
            QueueKind::NeighborSolicit,
            QueueKind::Dhcp6,
        ] {
            for len in 0..80 {
                let junk = vec![0x45u8; len];
                let _ = request(q, &junk);
                let _ = reply(q, &junk);
            }
        }
        let pkt = testing::udp6_packet(546, 547, &[11, 1, 2, 3]);
        assert!(
            request(QueueKind::Dhcp6, &pkt).contains("xid=0x010203"),
            "{}",
            request(QueueKind::Dhcp6, &pkt)
        );
    }
}
