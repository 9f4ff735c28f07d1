//! The named counters of conf/nfdhcpd.nft and conf/nfdhcpd-limits.nft (`table inet nfdhcpd`,
//! `table bridge nfdhcpd`, both written by src/rules.rs),
//! read over NETLINK_NETFILTER for the SIGUSR1 dump: what the kernel's per-tap limit
//! dropped (`limited_*`) and what the queues passed on without our verdict (`unanswered_*`:
//! queue full and failing open, or no daemon bound and `--queue-bypass`).
//!
//! One dump request (NFT_MSG_GETOBJ, NLM_F_DUMP, filtered on the table name and the counter
//! type), one reply message (NFT_MSG_NEWOBJ) per counter, then NLMSG_DONE. Needs only
//! CAP_NET_ADMIN, which the daemon keeps; no nft binary is run.

use std::io;

/// The table both families' counters live in.
pub const TABLE: &str = "nfdhcpd";

const NETLINK_NETFILTER: libc::c_int = 12;
const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFT_MSG_NEWOBJ: u16 = 18;
const NFT_MSG_GETOBJ: u16 = 19;
const NFTA_OBJ_TABLE: u16 = 1;
const NFTA_OBJ_NAME: u16 = 2;
const NFTA_OBJ_TYPE: u16 = 3;
const NFTA_OBJ_DATA: u16 = 4;
const NFT_OBJECT_COUNTER: u32 = 1;
const NFTA_COUNTER_PACKETS: u16 = 2;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
/// Attribute type bits that are flags (NLA_F_NESTED, NLA_F_NET_BYTEORDER).
const NLA_TYPE_MASK: u16 = 0x3fff;
const NFPROTO_INET: u8 = 1;
const NFPROTO_BRIDGE: u8 = 7;

/// One named counter of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    /// `inet` (routed taps), `bridge` (bridge ports), or the family number.
    pub family: String,
    pub name: String,
    pub packets: u64,
}

fn push_attr(out: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    let len = 4 + payload.len();
    out.extend_from_slice(&(len as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(payload);
    out.resize(out.len() + (4 - len % 4) % 4, 0);
}

/// The dump request for every counter object of [`TABLE`], in every family.
pub fn request(seq: u32) -> Vec<u8> {
    let mut body = vec![0u8; 4]; // nfgenmsg: family unspec, version 0, res_id 0
    let mut table = TABLE.as_bytes().to_vec();
    table.push(0);
    push_attr(&mut body, NFTA_OBJ_TABLE, &table);
    push_attr(&mut body, NFTA_OBJ_TYPE, &NFT_OBJECT_COUNTER.to_be_bytes());
    let mut msg = Vec::with_capacity(16 + body.len());
    msg.extend_from_slice(&((16 + body.len()) as u32).to_ne_bytes());
    msg.extend_from_slice(&((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETOBJ).to_ne_bytes());
    msg.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    msg.extend_from_slice(&seq.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    msg.extend_from_slice(&body);
    msg
}

/// `(type, payload)` of each attribute in `buf`; stops at the first malformed one.
fn attrs(buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut rest = buf;
    std::iter::from_fn(move || {
        let len = usize::from(u16::from_ne_bytes(rest.get(..2)?.try_into().ok()?));
        let kind = u16::from_ne_bytes(rest.get(2..4)?.try_into().ok()?) & NLA_TYPE_MASK;
        let payload = rest.get(4..len)?;
        rest = rest.get((len + 3) & !3..).unwrap_or(&[]);
        Some((kind, payload))
    })
}

fn family_name(family: u8) -> String {
    match family {
        NFPROTO_INET => "inet".into(),
        NFPROTO_BRIDGE => "bridge".into(),
        n => n.to_string(),
    }
}

/// One NFT_MSG_NEWOBJ payload (after the netlink header): nfgenmsg and attributes.
fn parse_obj(payload: &[u8]) -> Option<Counter> {
    let family = *payload.first()?;
    let (mut name, mut packets, mut table) = (None, None, None);
    for (kind, value) in attrs(payload.get(4..)?) {
        let text = || std::str::from_utf8(value.split(|b| *b == 0).next()?).ok();
        match kind {
            NFTA_OBJ_TABLE => table = text(),
            NFTA_OBJ_NAME => name = text(),
            NFTA_OBJ_DATA => {
                packets = attrs(value)
                    .find(|(k, _)| *k == NFTA_COUNTER_PACKETS)
                    .and_then(|(_, v)| Some(u64::from_be_bytes(v.try_into().ok()?)));
            }
            _ => {}
        }
    }
    (table? == TABLE).then_some(())?;
    Some(Counter {
        family: family_name(family),
        name: name?.to_string(),
        packets: packets?,
    })
}

/// Parses one datagram of the reply into `out`: `Ok(true)` once NLMSG_DONE was seen,
/// `Err` for an NLMSG_ERROR (e.g. ENOENT: no such table).
pub fn parse(buf: &[u8], seq: u32, out: &mut Vec<Counter>) -> io::Result<bool> {
    let mut rest = buf;
    while rest.len() >= 16 {
        let len = u32::from_ne_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        let kind = u16::from_ne_bytes(rest[4..6].try_into().expect("2 bytes"));
        let msg_seq = u32::from_ne_bytes(rest[8..12].try_into().expect("4 bytes"));
        let Some(payload) = rest.get(16..len) else {
            break;
        };
        if msg_seq == seq {
            match kind {
                NLMSG_DONE => return Ok(true),
                NLMSG_ERROR => {
                    let errno = payload
                        .get(..4)
                        .map_or(0, |e| i32::from_ne_bytes(e.try_into().expect("4 bytes")));
                    if errno != 0 {
                        return Err(io::Error::from_raw_os_error(-errno));
                    }
                    return Ok(true);
                }
                k if k == (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWOBJ => {
                    out.extend(parse_obj(payload));
                }
                _ => {}
            }
        }
        rest = rest.get((len + 3) & !3..).unwrap_or(&[]);
    }
    Ok(false)
}

/// Reads every counter of [`TABLE`] from the kernel (this network namespace). An empty
/// list: the table is not loaded.
pub fn read() -> io::Result<Vec<Counter>> {
    // SAFETY: plain socket(2); the fd is closed by the OwnedFd below.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            NETLINK_NETFILTER,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a new socket we own.
    let sock = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let fd = std::os::fd::AsRawFd::as_raw_fd(&sock);
    let timeout = libc::timeval {
        tv_sec: 1,
        tv_usec: 0,
    };
    // SAFETY: fd is open; the option value outlives the call.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&timeout as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        );
    }
    let seq = 1;
    let req = request(seq);
    // SAFETY: zeroed sockaddr_nl is valid (the kernel as peer); req outlives the call.
    let sent = unsafe {
        let mut addr: libc::sockaddr_nl = std::mem::zeroed();
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        libc::sendto(
            fd,
            req.as_ptr().cast(),
            req.len(),
            0,
            (&addr as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // SAFETY: buf is writable for its length.
        let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        match parse(&buf[..n as usize], seq, &mut out) {
            Ok(true) => return Ok(out),
            Ok(false) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request as the kernel accepted it (sent from a script in a network namespace with
    /// conf/nfdhcpd.nft loaded; x86-64, little-endian header fields).
    static REQUEST_BYTES: [u8; 40] = [
        0x28, 0x00, 0x00, 0x00, 0x13, 0x0a, 0x01, 0x03, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x01, 0x00, b'n', b'f', b'd', b'h', b'c', b'p',
        b'd', 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01,
    ];

    /// The kernel's reply for `counter unanswered_dhcp4` of `table inet nfdhcpd` (captured
    /// as above), its packets field changed from 0 to 5 and its bytes to 1500, followed by
    /// the NLMSG_DONE that ended the dump.
    static REPLY_BYTES: [u8; 132] = [
        0x70, 0x00, 0x00, 0x00, 0x12, 0x0a, 0x02, 0x08, 0x01, 0x00, 0x00, 0x00, 0x61, 0x5e, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x03, 0x0c, 0x00, 0x01, 0x00, b'n', b'f', b'd', b'h', b'c', b'p',
        b'd', 0x00, 0x15, 0x00, 0x02, 0x00, b'u', b'n', b'a', b'n', b's', b'w', b'e', b'r', b'e',
        b'd', b'_', b'd', b'h', b'c', b'p', b'4', 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x03, 0x00,
        0x00, 0x00, 0x00, 0x01, 0x0c, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x07, 0x08, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x02, 0x1c, 0x00, 0x04, 0x00, 0x0c, 0x00,
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0xdc, 0x0c, 0x00, 0x02, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, // NLMSG_DONE
        0x14, 0x00, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x61, 0x5e, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    #[test]
    #[cfg(target_endian = "little")]
    fn getobj_request_is_the_one_the_kernel_answered() {
        assert_eq!(request(1), REQUEST_BYTES);
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn newobj_reply_gives_family_name_and_packets() {
        let mut out = Vec::new();
        assert!(parse(&REPLY_BYTES, 1, &mut out).expect("parsed"));
        assert_eq!(
            out,
            vec![Counter {
                family: "inet".into(),
                name: "unanswered_dhcp4".into(),
                packets: 5,
            }]
        );
        // Another request's messages are not ours.
        let mut other = Vec::new();
        assert!(!parse(&REPLY_BYTES, 2, &mut other).expect("parsed"));
        assert!(other.is_empty());
        // Cut short: what is whole is taken, nothing panics.
        for cut in 0..REPLY_BYTES.len() {
            let _ = parse(&REPLY_BYTES[..cut], 1, &mut Vec::new());
        }
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn error_reply_is_reported() {
        // NLMSG_ERROR, errno -ENOENT (no such table), then the echoed request header.
        let mut msg = vec![0x24, 0, 0, 0, 0x02, 0, 0, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0];
        msg.extend_from_slice(&(-libc::ENOENT).to_ne_bytes());
        msg.extend_from_slice(&REQUEST_BYTES[..16]);
        let err = parse(&msg, 1, &mut Vec::new()).expect_err("an error");
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
    }
}
