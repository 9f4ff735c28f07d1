//! The cheapest program of nfdhcpd's design: the ceiling the daemon is measured against.
//!
//!   bare-loop --kind dhcp|rs|ns --queue N --config CONF --binding FILE
//!
//! One thread: `recv` from the NFQUEUE, DROP verdict, `sendto` a canned reply on an AF_PACKET
//! socket to the packet's indev. The canned reply is built once at start-up by nfdhcpd's
//! own policy code (`reply::dhcp4::handle`, `reply::ndp::handle_rs`/`handle_ns`) from the
//! same config and binding file, so it is byte for byte what the daemon answers; per packet
//! only the fields that identify the request are copied in (DHCP xid; RA destination; NA
//! target and source) with an incremental checksum update. No binding lookup, no parsing,
//! no checks: not a server, a measuring stick. The queue is set up as the daemon sets up
//! its own (copy range, queue length, fail-open, SO_RCVBUFFORCE on the netlink socket).

use nfdhcpd::binding::file;
use nfdhcpd::binding::links::{Link, LinkEvent, Links};
use nfdhcpd::binding::snapshot::Entry;
use nfdhcpd::binding::table::Registry;
use nfdhcpd::reply::{self, Ctx, Outcome, Packet, QueueKind};
use nfdhcpd::wire::MacAddr;
use nfdhcpd_bench::*;
use nfq::{Queue, Verdict};

fn die(e: impl std::fmt::Display) -> ! {
    eprintln!("bare-loop: {e}");
    std::process::exit(1)
}

fn arg(args: &[String], k: &str) -> String {
    args.windows(2)
        .find(|w| w[0] == k)
        .map(|w| w[1].clone())
        .unwrap_or_else(|| die(format!("{k} is required")))
}

fn sys(path: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| die(format!("{path}: {e}")))
        .trim()
        .to_string()
}

/// As src/nfqueue.rs: open, force the netlink socket's buffer to 8 MiB, bind, configure.
fn open_queue(num: u16) -> Queue {
    let before = nfdhcpd::nfqueue::socket_fds();
    let mut q = Queue::open().unwrap_or_else(|e| die(format!("Queue::open: {e}")));
    let new: Vec<i32> = nfdhcpd::nfqueue::socket_fds()
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect();
    if let [fd] = new[..] {
        let v: libc::c_int = 8 * 1024 * 1024;
        // SAFETY: an int option on our own socket.
        unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVBUFFORCE,
                (&v as *const libc::c_int).cast(),
                4,
            )
        };
    } else {
        eprintln!("bare-loop: cannot identify the NFQUEUE socket");
    }
    q.bind(num)
        .unwrap_or_else(|e| die(format!("bind queue {num}: {e}")));
    q.set_copy_range(num, 4096)
        .unwrap_or_else(|e| die(format!("copy range: {e}")));
    q.set_queue_max_len(num, 5000)
        .unwrap_or_else(|e| die(format!("queue len: {e}")));
    q.set_fail_open(num, true)
        .unwrap_or_else(|e| die(format!("fail open: {e}")));
    q
}

fn reply_frame(outcome: Outcome, out: &[u8]) -> Vec<u8> {
    match outcome {
        Outcome::Reply { len, .. } => out[..len].to_vec(),
        Outcome::NoReply(why) => die(format!("the daemon's code gives no reply: {why:?}")),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let kind = arg(&args, "--kind");
    let num: u16 = arg(&args, "--queue")
        .parse()
        .unwrap_or_else(|_| die("--queue"));
    let conf_path = arg(&args, "--config");
    let text = std::fs::read_to_string(&conf_path).unwrap_or_else(|e| die(e));
    let config = nfdhcpd::config::parse(conf_path.as_ref(), &text)
        .unwrap_or_else(|e| die(e))
        .config;
    let bpath = std::path::PathBuf::from(arg(&args, "--binding"));
    let tap = bpath
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_else(|| die("--binding"))
        .to_string();
    let btext = std::fs::read_to_string(&bpath).unwrap_or_else(|e| die(e));
    let binding = file::parse(&tap, &btext).unwrap_or_else(|e| die(e));
    // The entry as the daemon's registry resolves it (binding file + links), so this stays
    // right whatever fields `Entry` grows.
    let link = |name: &str| -> Link {
        Link {
            ifindex: sys(&format!("/sys/class/net/{name}/ifindex"))
                .parse()
                .unwrap_or_else(|_| die("ifindex")),
            name: name.to_string(),
            mac: parse_mac(&sys(&format!("/sys/class/net/{name}/address"))).map(MacAddr),
            running: true,
        }
    };
    let mut links = Links::default();
    links.apply(LinkEvent::Up(link(&tap)));
    links.apply(LinkEvent::Up(link(&binding.indev)));
    let ifindex = link(&tap).ifindex;
    let vm_mac = binding.mac.octets();
    let dir = bpath.parent().unwrap_or_else(|| die("--binding"));
    let mut registry = Registry::new(dir.to_path_buf(), links);
    registry.rescan().unwrap_or_else(|e| die(e));
    let snapshot = registry.shared().load_full();
    let entry: Entry = snapshot
        .active(ifindex)
        .unwrap_or_else(|| die(format!("{tap}: binding not active")))
        .clone();
    let mut out = [0u8; 1514];
    // The daemon's own handler, prologue included, for the canned reply.
    let mut answer = |kind: QueueKind, ip: &[u8]| -> Vec<u8> {
        let pkt = Packet {
            ip,
            frame_src: Some(MacAddr(vm_mac)),
        };
        let ctx = Ctx {
            entry: &entry,
            config: &config,
            out: &mut out,
        };
        let outcome = reply::handle(kind, &pkt, ctx).outcome;
        reply_frame(outcome, &out)
    };

    // The canned reply, and where the per-request bytes go.
    let (mut canned, patch): (Vec<u8>, fn(&mut [u8], &[u8])) = match kind.as_str() {
        "dhcp" => {
            let req = Discover::new(vm_mac);
            if config.live.dhcp.is_none() {
                die("DHCP disabled");
            }
            let o = answer(QueueKind::Dhcp4, &req.frame[ETH_HDR..]);
            (o, |f, ip| {
                // xid: 4 bytes after the IPv4 header (its IHL) and the 8-byte UDP header.
                let ihl = usize::from(ip[0] & 0x0f) * 4;
                let x = &ip[ihl + 12..ihl + 16];
                if f[DHCP_XID_OFF..DHCP_XID_OFF + 4] != *x {
                    patch_with_checksum(f, DHCP_XID_OFF, x, DHCP_UDP_CSUM_OFF);
                }
            })
        }
        "rs" => {
            let req = NdRequest::rs(vm_mac, numbered(FE80, 0));
            if config.live.ipv6.is_none() {
                die("IPv6 disabled");
            }
            let o = answer(QueueKind::RouterSolicit, &req.frame[ETH_HDR..]);
            (o, |f, ip| {
                // The RA goes to the RS's source address (IPv6 source: bytes 8..24).
                patch_with_checksum(f, IP6_DST_OFF, &ip[8..24], ICMP6_CSUM_OFF);
            })
        }
        "ns" => {
            let p = snapshot
                .active(ifindex)
                .unwrap_or_else(|| die("not active"))
                .binding
                .subnet6
                .unwrap_or_else(|| die("no SUBNET6"))
                .network();
            let req = NdRequest::ns(vm_mac, link_local(vm_mac), numbered(p, 0));
            let o = answer(QueueKind::NeighborSolicit, &req.frame[ETH_HDR..]);
            (o, |f, ip| {
                // The NA's target and source are the NS's target (ICMPv6 body bytes 8..24).
                let t = &ip[40 + 8..40 + 24];
                patch_with_checksum(f, ND_TARGET_OFF, t, ICMP6_CSUM_OFF);
                patch_with_checksum(f, IP6_SRC_OFF, t, ICMP6_CSUM_OFF);
            })
        }
        k => die(format!("--kind {k}: dhcp, rs or ns")),
    };
    let min_len = match kind.as_str() {
        "dhcp" => 20 + 8 + 16,
        "rs" => 40,
        _ => 40 + 24,
    };

    let mut queue = open_queue(num);
    let tx = tx_socket().unwrap_or_else(|e| die(e));
    eprintln!(
        "bare-loop ready kind={kind} queue={num} reply_len={}",
        canned.len()
    );
    let (mut sent, mut errors) = (0u64, 0u64);
    loop {
        let mut msg = match queue.recv() {
            Ok(m) => m,
            Err(_) => continue,
        };
        let indev = msg.get_indev();
        let ok = msg.get_payload().len() >= min_len;
        if ok {
            patch(&mut canned, msg.get_payload());
        }
        msg.set_verdict(Verdict::Drop);
        let _ = queue.verdict(msg);
        if ok {
            match send_frame(tx, indev, &canned) {
                Ok(()) => sent += 1,
                Err(_) => errors += 1,
            }
        }
        // Keeps the counters alive for a debugger; never printed on the hot path.
        std::hint::black_box((sent, errors));
    }
}
