//! Shared pieces of the benchmark programs: the requests a VM sends (DHCPDISCOVER, RS, NS)
//! as whole Ethernet frames, the parsing of the replies, checksums, AF_PACKET sockets and
//! clocks. No dependency on the daemon here: the load generator must not share the code it
//! measures.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};

pub const ETH_HDR: usize = 14;
pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_IPV6: u16 = 0x86dd;

// ---------------------------------------------------------------------------------------
// Checksums.

/// One's complement sum of `data` (big-endian 16-bit words, an odd last byte padded).
pub fn csum_add(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum = sum.wrapping_add(u32::from(u16::from_be_bytes([c[0], c[1]])));
    }
    if let [last] = chunks.remainder() {
        sum = sum.wrapping_add(u32::from(*last) << 8);
    }
    sum
}

pub fn csum_fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Replaces `frame[off..off + new.len()]` (an even offset inside the checksummed data, an
/// even length) and updates the 16-bit checksum at `csum_off` incrementally (RFC 1624 eqn. 3).
pub fn patch_with_checksum(frame: &mut [u8], off: usize, new: &[u8], csum_off: usize) {
    let old_csum = u16::from_be_bytes([frame[csum_off], frame[csum_off + 1]]);
    let mut sum = u32::from(!old_csum);
    for (o, n) in frame[off..off + new.len()]
        .chunks_exact(2)
        .zip(new.chunks_exact(2))
    {
        sum += u32::from(!u16::from_be_bytes([o[0], o[1]]));
        sum += u32::from(u16::from_be_bytes([n[0], n[1]]));
    }
    frame[off..off + new.len()].copy_from_slice(new);
    let mut c = csum_fold(sum);
    if c == 0 {
        c = 0xffff; // UDP: 0 means "no checksum"; ICMPv6 accepts either form
    }
    frame[csum_off..csum_off + 2].copy_from_slice(&c.to_be_bytes());
}

fn ipv6_pseudo_sum(src: &[u8], dst: &[u8], next: u8, len: u32) -> u32 {
    let mut s = csum_add(0, src);
    s = csum_add(s, dst);
    s = csum_add(s, &len.to_be_bytes());
    csum_add(s, &[0, 0, 0, next])
}

// ---------------------------------------------------------------------------------------
// Addresses.

pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let v: Vec<u8> = s
        .split(':')
        .map(|b| u8::from_str_radix(b, 16))
        .collect::<Result<_, _>>()
        .ok()?;
    v.try_into().ok()
}

/// fe80::/64 + the modified EUI-64 of `mac`.
pub fn link_local(mac: [u8; 6]) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o[0] = 0xfe;
    o[1] = 0x80;
    o[8..].copy_from_slice(&[
        mac[0] ^ 2,
        mac[1],
        mac[2],
        0xff,
        0xfe,
        mac[3],
        mac[4],
        mac[5],
    ]);
    Ipv6Addr::from(o)
}

/// The bytes 8..12 of every address the generator numbers (RS sources, NS targets): the
/// sequence number is in bytes 12..16. Never an EUI-64 (those have ff:fe at 11..13).
pub const SEQ_TAG: [u8; 4] = [0x00, 0x0b, 0x00, 0x0e];

/// `prefix`'s first 64 bits, then SEQ_TAG and `seq`.
pub fn numbered(prefix: Ipv6Addr, seq: u32) -> Ipv6Addr {
    let mut o = prefix.octets();
    o[8..12].copy_from_slice(&SEQ_TAG);
    o[12..16].copy_from_slice(&seq.to_be_bytes());
    Ipv6Addr::from(o)
}

/// The sequence number of an address made by [`numbered`].
pub fn seq_of(addr: &[u8]) -> Option<u32> {
    (addr.len() == 16 && addr[8..12] == SEQ_TAG)
        .then(|| u32::from_be_bytes([addr[12], addr[13], addr[14], addr[15]]))
}

pub const FE80: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0);

// ---------------------------------------------------------------------------------------
// Requests: whole Ethernet frames, with the offsets the generator rewrites per packet.

/// A DHCPDISCOVER as ISC dhclient sends it (broadcast, from 0.0.0.0:68, chaddr = MAC,
/// options 53, 55, 57, 61, end), UDP checksum filled in.
pub struct Discover {
    pub frame: Vec<u8>,
}

pub const DHCP_XID_OFF: usize = ETH_HDR + 20 + 8 + 4;
pub const DHCP_UDP_CSUM_OFF: usize = ETH_HDR + 20 + 6;

impl Discover {
    pub fn new(mac: [u8; 6]) -> Discover {
        let mut bootp = vec![0u8; 236];
        bootp[0] = 1; // BOOTREQUEST
        bootp[1] = 1; // ethernet
        bootp[2] = 6;
        bootp[28..34].copy_from_slice(&mac);
        bootp.extend_from_slice(&[99, 130, 83, 99]);
        bootp.extend_from_slice(&[53, 1, 1]);
        bootp.extend_from_slice(&[55, 13, 1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42]);
        bootp.extend_from_slice(&[57, 2, 0x05, 0xdc]);
        bootp.extend_from_slice(&[61, 7, 1]);
        bootp.extend_from_slice(&mac);
        bootp.push(255);
        while bootp.len() < 300 {
            bootp.push(0); // dhclient pads to the BOOTP minimum
        }
        let udp_len = 8 + bootp.len();
        let ip_len = 20 + udp_len;
        let mut f = Vec::with_capacity(ETH_HDR + ip_len);
        f.extend_from_slice(&[0xff; 6]);
        f.extend_from_slice(&mac);
        f.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
        let mut ip = [0u8; 20];
        ip[0] = 0x45;
        ip[1] = 0x10;
        ip[2..4].copy_from_slice(&(ip_len as u16).to_be_bytes());
        ip[8] = 128; // dhclient's TTL
        ip[9] = 17;
        ip[16..20].copy_from_slice(&[255, 255, 255, 255]);
        let c = csum_fold(csum_add(0, &ip));
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        f.extend_from_slice(&ip);
        f.extend_from_slice(&68u16.to_be_bytes());
        f.extend_from_slice(&67u16.to_be_bytes());
        f.extend_from_slice(&(udp_len as u16).to_be_bytes());
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(&bootp);
        let mut d = Discover { frame: f };
        d.fill_udp_checksum();
        d
    }

    fn fill_udp_checksum(&mut self) {
        let udp = &self.frame[ETH_HDR + 20..];
        let mut s = csum_add(0, &[0, 0, 0, 0, 255, 255, 255, 255, 0, 17]);
        s = csum_add(s, &(udp.len() as u16).to_be_bytes());
        s = csum_add(s, udp);
        let mut c = csum_fold(s);
        if c == 0 {
            c = 0xffff;
        }
        self.frame[DHCP_UDP_CSUM_OFF..DHCP_UDP_CSUM_OFF + 2].copy_from_slice(&c.to_be_bytes());
    }

    pub fn set_xid(&mut self, xid: u32) {
        patch_with_checksum(
            &mut self.frame,
            DHCP_XID_OFF,
            &xid.to_be_bytes(),
            DHCP_UDP_CSUM_OFF,
        );
    }
}

/// An ICMPv6 neighbour discovery request (RS or NS) with a source link-layer option.
pub struct NdRequest {
    pub frame: Vec<u8>,
}

pub const IP6_SRC_OFF: usize = ETH_HDR + 8;
pub const IP6_DST_OFF: usize = ETH_HDR + 24;
pub const ICMP6_OFF: usize = ETH_HDR + 40;
pub const ICMP6_CSUM_OFF: usize = ICMP6_OFF + 2;
pub const ND_TARGET_OFF: usize = ICMP6_OFF + 8;

impl NdRequest {
    fn build(mac: [u8; 6], dst_mac: [u8; 6], src: Ipv6Addr, dst: Ipv6Addr, icmp: &[u8]) -> Self {
        let mut f = Vec::with_capacity(ETH_HDR + 40 + icmp.len());
        f.extend_from_slice(&dst_mac);
        f.extend_from_slice(&mac);
        f.extend_from_slice(&ETHERTYPE_IPV6.to_be_bytes());
        f.extend_from_slice(&[0x60, 0, 0, 0]);
        f.extend_from_slice(&(icmp.len() as u16).to_be_bytes());
        f.push(58);
        f.push(255);
        f.extend_from_slice(&src.octets());
        f.extend_from_slice(&dst.octets());
        f.extend_from_slice(icmp);
        let s = ipv6_pseudo_sum(&src.octets(), &dst.octets(), 58, icmp.len() as u32);
        let c = csum_fold(csum_add(s, icmp));
        f[ICMP6_CSUM_OFF..ICMP6_CSUM_OFF + 2].copy_from_slice(&c.to_be_bytes());
        NdRequest { frame: f }
    }

    /// A Router Solicitation from `src` to ff02::2.
    pub fn rs(mac: [u8; 6], src: Ipv6Addr) -> Self {
        let mut icmp = vec![133, 0, 0, 0, 0, 0, 0, 0, 1, 1];
        icmp.extend_from_slice(&mac);
        let dst = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
        Self::build(mac, [0x33, 0x33, 0, 0, 0, 2], src, dst, &icmp)
    }

    /// A Neighbor Solicitation from `src` for `target`, to its solicited-node group.
    pub fn ns(mac: [u8; 6], src: Ipv6Addr, target: Ipv6Addr) -> Self {
        let mut icmp = vec![135, 0, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(&target.octets());
        icmp.extend_from_slice(&[1, 1]);
        icmp.extend_from_slice(&mac);
        let t = target.octets();
        let dst = Ipv6Addr::from([
            0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, t[13], t[14], t[15],
        ]);
        Self::build(
            mac,
            [0x33, 0x33, 0xff, t[13], t[14], t[15]],
            src,
            dst,
            &icmp,
        )
    }

    /// RS: a new source address (its last 4 bytes).
    pub fn set_src_seq(&mut self, seq: u32) {
        patch_with_checksum(
            &mut self.frame,
            IP6_SRC_OFF + 12,
            &seq.to_be_bytes(),
            ICMP6_CSUM_OFF,
        );
    }

    /// NS: a new target (its last 4 bytes), and the solicited-node group that goes with it.
    pub fn set_target_seq(&mut self, seq: u32) {
        let b = seq.to_be_bytes();
        patch_with_checksum(&mut self.frame, ND_TARGET_OFF + 12, &b, ICMP6_CSUM_OFF);
        // Group ff02::1:ffXX:XXXX: bytes 13..16 of the destination (an odd start: patch the
        // aligned words 12..16, keeping byte 12 = 0xff).
        patch_with_checksum(
            &mut self.frame,
            IP6_DST_OFF + 12,
            &[0xff, b[1], b[2], b[3]],
            ICMP6_CSUM_OFF,
        );
        self.frame[3..6].copy_from_slice(&b[1..4]);
    }
}

// ---------------------------------------------------------------------------------------
// Replies.

/// What the generator learns from a received frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// A DHCPOFFER (or any BOOTREPLY) with this xid and yiaddr, and its DHCP message type.
    Dhcp {
        xid: u32,
        yiaddr: Ipv4Addr,
        msg_type: u8,
    },
    /// A Router Advertisement to this destination address.
    Ra { dst: [u8; 16] },
    /// A Neighbor Advertisement for this target.
    Na { target: [u8; 16] },
}

pub fn parse_reply(f: &[u8]) -> Option<Reply> {
    let ethertype = u16::from_be_bytes([*f.get(12)?, *f.get(13)?]);
    let ip = f.get(ETH_HDR..)?;
    match ethertype {
        ETHERTYPE_IPV4 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            if *ip.get(9)? != 17 {
                return None;
            }
            let udp = ip.get(ihl..)?;
            if u16::from_be_bytes([*udp.get(2)?, *udp.get(3)?]) != 68 {
                return None;
            }
            let b = udp.get(8..)?;
            if *b.first()? != 2 || b.len() < 240 {
                return None;
            }
            let xid = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
            let yiaddr = Ipv4Addr::new(b[16], b[17], b[18], b[19]);
            let mut msg_type = 0;
            let mut opts = &b[240..];
            while let [code, rest @ ..] = opts {
                match code {
                    0 => opts = rest,
                    255 => break,
                    _ => {
                        let len = usize::from(*rest.first()?);
                        let val = rest.get(1..1 + len)?;
                        if *code == 53 && len == 1 {
                            msg_type = val[0];
                        }
                        opts = &rest[1 + len..];
                    }
                }
            }
            Some(Reply::Dhcp {
                xid,
                yiaddr,
                msg_type,
            })
        }
        ETHERTYPE_IPV6 => {
            if *ip.get(6)? != 58 {
                return None;
            }
            let icmp = ip.get(40..)?;
            match *icmp.first()? {
                134 => Some(Reply::Ra {
                    dst: ip.get(24..40)?.try_into().ok()?,
                }),
                136 => Some(Reply::Na {
                    target: icmp.get(8..24)?.try_into().ok()?,
                }),
                _ => None,
            }
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Sockets and clocks.

pub fn last_err(what: &str) -> io::Error {
    let e = io::Error::last_os_error();
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

pub fn ifindex(name: &str) -> io::Result<u32> {
    let c = std::ffi::CString::new(name).map_err(|_| io::ErrorKind::InvalidInput)?;
    // SAFETY: c is a valid NUL-terminated string.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if i == 0 {
        return Err(last_err(&format!("no interface {name}")));
    }
    Ok(i)
}

fn setsockopt_int(fd: i32, level: i32, opt: i32, val: i32) -> io::Result<()> {
    // SAFETY: a plain int option.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            opt,
            (&val as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(last_err("setsockopt"));
    }
    Ok(())
}

/// A send-only AF_PACKET socket (protocol 0).
pub fn tx_socket() -> io::Result<i32> {
    // SAFETY: plain socket(2).
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(last_err("socket(AF_PACKET)"));
    }
    setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, 4 << 20)?;
    Ok(fd)
}

/// `sendto(frame)` on interface `ifindex`; the frame's own destination MAC in sockaddr_ll.
pub fn send_frame(fd: i32, ifindex: u32, frame: &[u8]) -> io::Result<()> {
    // SAFETY: sockaddr_ll is plain old data.
    let mut a: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    a.sll_family = libc::AF_PACKET as u16;
    a.sll_protocol = u16::from_be_bytes([frame[12], frame[13]]).to_be();
    a.sll_ifindex = ifindex as i32;
    a.sll_halen = 6;
    a.sll_addr[..6].copy_from_slice(&frame[..6]);
    // SAFETY: pointers and lengths of live buffers.
    let n = unsafe {
        libc::sendto(
            fd,
            frame.as_ptr().cast(),
            frame.len(),
            libc::MSG_DONTWAIT,
            (&a as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if n < 0 {
        return Err(last_err("sendto"));
    }
    Ok(())
}

/// Frames queued for one `sendmmsg` call on one interface.
pub struct TxBatch {
    bufs: Vec<[u8; 2048]>,
    lens: Vec<usize>,
    addr: libc::sockaddr_ll,
    iov: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
}

impl TxBatch {
    pub fn new(cap: usize, ifindex: u32) -> TxBatch {
        // SAFETY: plain old data.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_ifindex = ifindex as i32;
        addr.sll_halen = 6;
        TxBatch {
            bufs: vec![[0u8; 2048]; cap],
            lens: Vec::with_capacity(cap),
            addr,
            iov: Vec::with_capacity(cap),
            hdrs: Vec::with_capacity(cap),
        }
    }

    pub fn capacity(&self) -> usize {
        self.bufs.len()
    }

    pub fn len(&self) -> usize {
        self.lens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lens.is_empty()
    }

    /// Copies a frame in (all frames of a batch share the first one's destination MAC and
    /// EtherType in sockaddr_ll, as the generator's frames do).
    pub fn push(&mut self, frame: &[u8]) {
        let i = self.lens.len();
        if i == 0 {
            self.addr.sll_protocol = u16::from_be_bytes([frame[12], frame[13]]).to_be();
            self.addr.sll_addr[..6].copy_from_slice(&frame[..6]);
        }
        self.bufs[i][..frame.len()].copy_from_slice(frame);
        self.lens.push(frame.len());
    }

    /// Sends the batch; returns how many frames went out. Empties the batch.
    pub fn flush(&mut self, fd: i32) -> io::Result<usize> {
        let n = self.lens.len();
        self.iov.clear();
        self.hdrs.clear();
        for i in 0..n {
            self.iov.push(libc::iovec {
                iov_base: self.bufs[i].as_mut_ptr().cast(),
                iov_len: self.lens[i],
            });
        }
        for i in 0..n {
            // SAFETY: plain old data.
            let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
            h.msg_hdr.msg_name = (&mut self.addr as *mut libc::sockaddr_ll).cast();
            h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as u32;
            h.msg_hdr.msg_iov = &mut self.iov[i];
            h.msg_hdr.msg_iovlen = 1;
            self.hdrs.push(h);
        }
        self.lens.clear();
        // SAFETY: every header points at live buffers of the given sizes.
        let r = unsafe { libc::sendmmsg(fd, self.hdrs.as_mut_ptr(), n as u32, libc::MSG_DONTWAIT) };
        if r < 0 {
            return Err(last_err("sendmmsg"));
        }
        Ok(r as usize)
    }
}

/// A receiving AF_PACKET socket for every protocol, on `ifindex` (0: every interface), with
/// kernel receive timestamps (SO_TIMESTAMPNS, CLOCK_REALTIME) and a large buffer.
/// `outgoing`: also (only, in practice: the caller filters) the frames this host sends.
pub fn rx_socket(ifindex: u32, outgoing: bool, rcvbuf: i32) -> io::Result<i32> {
    let proto = (libc::ETH_P_ALL as u16).to_be();
    // SAFETY: plain socket(2).
    let fd = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            i32::from(proto),
        )
    };
    if fd < 0 {
        return Err(last_err("socket(AF_PACKET, ETH_P_ALL)"));
    }
    setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, rcvbuf)?;
    setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1)?;
    if !outgoing {
        // PACKET_IGNORE_OUTGOING (Linux 4.20): our own requests are not looped back to us.
        setsockopt_int(fd, libc::SOL_PACKET, 23, 1)?;
    }
    if ifindex != 0 {
        // SAFETY: sockaddr_ll is plain old data.
        let mut a: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        a.sll_family = libc::AF_PACKET as u16;
        a.sll_protocol = proto;
        a.sll_ifindex = ifindex as i32;
        // SAFETY: a valid sockaddr_ll.
        let rc = unsafe {
            libc::bind(
                fd,
                (&a as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(last_err("bind(AF_PACKET)"));
        }
    }
    Ok(fd)
}

pub fn set_rcvtimeo(fd: i32, micros: i64) -> io::Result<()> {
    let tv = libc::timeval {
        tv_sec: micros / 1_000_000,
        tv_usec: (micros % 1_000_000) as libc::suseconds_t,
    };
    // SAFETY: a valid timeval.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(last_err("SO_RCVTIMEO"));
    }
    Ok(())
}

/// One received frame: its bytes, kernel timestamp (ns, CLOCK_REALTIME), interface and
/// packet type (PACKET_HOST, PACKET_OUTGOING, ...).
pub struct Rx {
    pub len: usize,
    pub ts_ns: u64,
    pub ifindex: u32,
    pub pkttype: u8,
}

/// Batch receiver (recvmmsg) with per-message timestamps.
pub struct RxBatch {
    bufs: Vec<[u8; 2048]>,
    ctrl: Vec<[u64; 16]>,
    addrs: Vec<libc::sockaddr_ll>,
    iov: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
}

// SAFETY: the raw pointers inside point into the struct's own heap buffers.
unsafe impl Send for RxBatch {}

impl RxBatch {
    pub fn new(n: usize) -> RxBatch {
        let mut b = RxBatch {
            bufs: vec![[0u8; 2048]; n],
            ctrl: vec![[0u64; 16]; n],
            // SAFETY: plain old data.
            addrs: vec![unsafe { std::mem::zeroed() }; n],
            iov: Vec::with_capacity(n),
            hdrs: Vec::with_capacity(n),
        };
        for i in 0..n {
            b.iov.push(libc::iovec {
                iov_base: b.bufs[i].as_mut_ptr().cast(),
                iov_len: 2048,
            });
        }
        for i in 0..n {
            // SAFETY: plain old data.
            let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
            h.msg_hdr.msg_name = (&mut b.addrs[i] as *mut libc::sockaddr_ll).cast();
            h.msg_hdr.msg_iov = &mut b.iov[i];
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_control = b.ctrl[i].as_mut_ptr().cast();
            b.hdrs.push(h);
        }
        b
    }

    /// Waits for at least one frame (or the socket's timeout); returns how many arrived.
    pub fn recv(&mut self, fd: i32, flags: i32) -> io::Result<usize> {
        for (i, h) in self.hdrs.iter_mut().enumerate() {
            h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as u32;
            h.msg_hdr.msg_controllen = std::mem::size_of_val(&self.ctrl[i]);
            h.msg_len = 0;
        }
        // SAFETY: every header points at live buffers of the advertised sizes.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                self.hdrs.as_mut_ptr(),
                self.hdrs.len() as u32,
                libc::MSG_WAITFORONE | flags,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::EAGAIN) | Some(libc::EINTR) => Ok(0),
                _ => Err(e),
            };
        }
        Ok(n as usize)
    }

    pub fn get(&self, i: usize) -> (Rx, &[u8]) {
        let h = &self.hdrs[i];
        let len = (h.msg_len as usize).min(2048);
        let mut ts_ns = 0;
        // SAFETY: walking the control messages the kernel wrote into our buffer.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&h.msg_hdr);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SO_TIMESTAMPNS {
                    let ts = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::timespec);
                    ts_ns = ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64;
                }
                c = libc::CMSG_NXTHDR(&h.msg_hdr, c);
            }
        }
        let a = &self.addrs[i];
        (
            Rx {
                len,
                ts_ns,
                ifindex: a.sll_ifindex as u32,
                pkttype: a.sll_pkttype,
            },
            &self.bufs[i][..len],
        )
    }
}

/// CLOCK_REALTIME in ns: the clock of SO_TIMESTAMPNS.
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// CLOCK_MONOTONIC in ns, for pacing.
pub fn mono_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Sleeps until CLOCK_MONOTONIC reaches `t` ns.
pub fn sleep_until_mono(t: u64) {
    let ts = libc::timespec {
        tv_sec: (t / 1_000_000_000) as libc::time_t,
        tv_nsec: (t % 1_000_000_000) as libc::c_long,
    };
    // SAFETY: a valid timespec; EINTR just ends the sleep early.
    unsafe {
        libc::clock_nanosleep(
            libc::CLOCK_MONOTONIC,
            libc::TIMER_ABSTIME,
            &ts,
            std::ptr::null_mut(),
        )
    };
}

/// Precise sleeps: the default 50 µs timer slack would blur pacing and latency.
pub fn tight_timer_slack() {
    // SAFETY: prctl with an integer argument.
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1u64, 0, 0, 0) };
}

/// Percentile (0..=100) of sorted values, nearest rank.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn udp_ok(f: &[u8]) -> bool {
        let udp = &f[ETH_HDR + 20..];
        let mut s = csum_add(0, &f[ETH_HDR + 12..ETH_HDR + 20]);
        s = csum_add(s, &[0, 17]);
        s = csum_add(s, &(udp.len() as u16).to_be_bytes());
        csum_fold(csum_add(s, udp)) == 0
    }

    fn icmp6_ok(f: &[u8]) -> bool {
        let icmp = &f[ICMP6_OFF..];
        let s = ipv6_pseudo_sum(
            &f[IP6_SRC_OFF..IP6_SRC_OFF + 16],
            &f[IP6_DST_OFF..IP6_DST_OFF + 16],
            58,
            icmp.len() as u32,
        );
        csum_fold(csum_add(s, icmp)) == 0
    }

    #[test]
    fn patched_checksums_stay_valid() {
        let mac = [2, 0, 0x5e, 0x10, 0, 1];
        let mut d = Discover::new(mac);
        assert!(udp_ok(&d.frame));
        for xid in [1, 0xdead_beef, 0xffff_ffff, 0, 77] {
            d.set_xid(xid);
            assert!(udp_ok(&d.frame), "xid {xid:x}");
        }
        let mut rs = NdRequest::rs(mac, numbered(FE80, 0));
        assert!(icmp6_ok(&rs.frame));
        for s in [1, 0xabcdef12, u32::MAX] {
            rs.set_src_seq(s);
            assert!(icmp6_ok(&rs.frame));
            assert_eq!(seq_of(&rs.frame[IP6_SRC_OFF..IP6_SRC_OFF + 16]), Some(s));
        }
        let p: Ipv6Addr = "2001:db8:aaaa:bbbb::".parse().unwrap();
        let mut ns = NdRequest::ns(mac, link_local(mac), numbered(p, 0));
        for s in [1, 0x00abcdef, 0x12345678] {
            ns.set_target_seq(s);
            assert!(icmp6_ok(&ns.frame));
            let fresh = NdRequest::ns(mac, link_local(mac), numbered(p, s));
            assert_eq!(ns.frame, fresh.frame);
        }
    }
}
