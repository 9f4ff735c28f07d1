//! Load generator of the nfdhcpd benchmarks, run inside a VM's network namespace (or the
//! host's, for `rawatch`). Bounded: every mode stops by itself.
//!
//!   loadgen dhcp|rs|ns --iface eth0 --mac MAC --rate R --duration S [--grace-ms G]
//!       Sends DHCPDISCOVERs (unique xid), Router Solicitations (unique source fe80::b:e:SEQ)
//!       or Neighbor Solicitations (unique target PREFIX::b:e:SEQ) at R per second for S
//!       seconds, matches the replies (OFFER by xid, RA by destination, NA by target) and
//!       prints one line: `sent= received= loss_pct= p50_us= p99_us= ...`. Latency: from just
//!       before sendto to the kernel's receive timestamp of the reply.
//!   loadgen reload --iface eth0 --mac MAC --binding PATH --template PATH --ips A,B,..
//!       --iters N [--probe-rate R]
//!       Renames a new version of a binding file (the template with @IP@ replaced) into
//!       place and measures the time until a DISCOVER on the tap is answered with the new
//!       IP. Prints `iters= ok= p50_us= p99_us= max_us=`.
//!   loadgen rawatch --duration S
//!       Host namespace: timestamps every Router Advertisement the host sends, on any
//!       interface, and prints one line per round (frames, interfaces, first-to-last time).

use nfdhcpd_bench::*;
use std::collections::HashMap;
use std::net::Ipv6Addr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

struct Args(HashMap<String, String>);

impl Args {
    fn parse() -> (String, Args) {
        let mut it = std::env::args().skip(1);
        let mode = it.next().unwrap_or_else(|| usage("no mode"));
        let mut m = HashMap::new();
        while let Some(k) = it.next() {
            let Some(k) = k.strip_prefix("--") else {
                usage(&format!("unexpected {k}"))
            };
            let v = it
                .next()
                .unwrap_or_else(|| usage(&format!("--{k} needs a value")));
            m.insert(k.to_string(), v);
        }
        (mode, Args(m))
    }
    fn get(&self, k: &str) -> String {
        self.0
            .get(k)
            .cloned()
            .unwrap_or_else(|| usage(&format!("--{k} is required")))
    }
    fn num(&self, k: &str, default: f64) -> f64 {
        self.0.get(k).map_or(default, |v| {
            v.parse()
                .unwrap_or_else(|_| usage(&format!("--{k}: not a number")))
        })
    }
}

fn usage(msg: &str) -> ! {
    eprintln!("loadgen: {msg}\n(see the comment at the top of tests/bench/src/bin/loadgen.rs)");
    std::process::exit(2)
}

fn die(e: impl std::fmt::Display) -> ! {
    eprintln!("loadgen: {e}");
    std::process::exit(1)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dhcp,
    Rs,
    Ns,
}

fn main() {
    tight_timer_slack();
    let (mode, args) = Args::parse();
    match mode.as_str() {
        "dhcp" => load(Kind::Dhcp, &args),
        "rs" => load(Kind::Rs, &args),
        "ns" => load(Kind::Ns, &args),
        "reload" => reload(&args),
        "rawatch" => rawatch(&args),
        m => usage(&format!("unknown mode {m}")),
    }
}

/// The request frame, rewritten per sequence number.
enum Request {
    Dhcp(Discover, u32),
    Nd(NdRequest, Kind),
}

impl Request {
    fn set(&mut self, seq: u32) -> &[u8] {
        match self {
            Request::Dhcp(d, base) => {
                d.set_xid(base.wrapping_add(seq));
                &d.frame
            }
            Request::Nd(r, Kind::Rs) => {
                r.set_src_seq(seq);
                &r.frame
            }
            Request::Nd(r, _) => {
                r.set_target_seq(seq);
                &r.frame
            }
        }
    }
}

/// The sequence number a reply answers, if it is one of ours.
fn reply_seq(kind: Kind, xid_base: u32, f: &[u8]) -> Option<u32> {
    match (kind, parse_reply(f)?) {
        (Kind::Dhcp, Reply::Dhcp { xid, msg_type, .. }) if msg_type == 2 => {
            Some(xid.wrapping_sub(xid_base))
        }
        (Kind::Rs, Reply::Ra { dst }) => seq_of(&dst),
        (Kind::Ns, Reply::Na { target }) => seq_of(&target),
        _ => None,
    }
}

fn load(kind: Kind, args: &Args) {
    let iface = args.get("iface");
    let mac = parse_mac(&args.get("mac")).unwrap_or_else(|| usage("--mac: not a MAC"));
    let rate = args.num("rate", 1000.0);
    let duration = args.num("duration", 2.0);
    let grace_ms = args.num("grace-ms", 300.0);
    let prefix: Ipv6Addr = args
        .0
        .get("prefix6")
        .map_or("2001:db8:aaaa:bbbb::", String::as_str)
        .parse()
        .unwrap_or_else(|_| usage("--prefix6"));
    let total = (rate * duration).round().max(1.0) as usize;
    if total > 50_000_000 {
        usage("rate x duration above 50 M requests");
    }
    let ifx = ifindex(&iface).unwrap_or_else(|e| die(e));
    let tx = tx_socket().unwrap_or_else(|e| die(e));
    let rx = rx_socket(ifx, false, 64 << 20).unwrap_or_else(|e| die(e));
    set_rcvtimeo(rx, 20_000).unwrap_or_else(|e| die(e));
    let xid_base = (now_ns() as u32) ^ 0x5a5a_0000;
    let mut req = match kind {
        Kind::Dhcp => Request::Dhcp(Discover::new(mac), xid_base),
        Kind::Rs => Request::Nd(NdRequest::rs(mac, numbered(FE80, 0)), kind),
        Kind::Ns => Request::Nd(
            NdRequest::ns(mac, link_local(mac), numbered(prefix, 0)),
            kind,
        ),
    };

    let sent_at: Arc<Vec<AtomicU64>> = Arc::new((0..total).map(|_| AtomicU64::new(0)).collect());
    let stop = Arc::new(AtomicBool::new(false));
    let receiver = {
        let sent_at = Arc::clone(&sent_at);
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut lat = Vec::with_capacity(sent_at.len());
            let mut seen = vec![false; sent_at.len()];
            let (mut dup, mut stray) = (0u64, 0u64);
            let mut batch = RxBatch::new(64);
            let mut last_rx = 0u64;
            loop {
                let n = batch.recv(rx, 0).unwrap_or_else(|e| die(e));
                if n == 0 && stop.load(Ordering::Acquire) {
                    break;
                }
                for i in 0..n {
                    let (meta, bytes) = batch.get(i);
                    let Some(seq) = reply_seq(kind, xid_base, bytes) else {
                        continue;
                    };
                    let s = seq as usize;
                    let t0 = sent_at.get(s).map_or(0, |a| a.load(Ordering::Acquire));
                    if t0 == 0 {
                        stray += 1;
                    } else if seen[s] {
                        dup += 1;
                    } else {
                        seen[s] = true;
                        lat.push(meta.ts_ns.saturating_sub(t0));
                        last_rx = last_rx.max(meta.ts_ns);
                    }
                }
            }
            (lat, dup, stray, last_rx)
        })
    };

    // Pacing: every request has a due time; wake up, send all that are due (one sendmmsg
    // per up to 64), sleep to the next one (never busy-wait: the server shares these cores).
    // All frames of a batch get the batch's send time: a later frame of the batch leaves a
    // little later, so its latency is over-, never under-stated.
    let interval = 1e9 / rate;
    let start = mono_ns() + 1_000_000;
    let mut errors = 0u64;
    let mut first_err = None;
    let mut i = 0usize;
    let mut batch = TxBatch::new(64, ifx);
    let t_first = now_ns();
    // A generator that cannot keep the pace (a saturation step asks more than it can send)
    // still stops at the end of the duration: the step lasts what it says.
    let end = start + (duration * 1e9) as u64;
    let mut sent_total = total;
    while i < total {
        let now = mono_ns();
        if now > end {
            sent_total = i;
            break;
        }
        let due = start + (i as f64 * interval) as u64;
        if now + 2_000 < due {
            sleep_until_mono(due);
            continue;
        }
        let due_by_now = (((now.saturating_sub(start)) as f64 / interval) as usize + 1).min(total);
        let k = due_by_now.saturating_sub(i).clamp(1, batch.capacity());
        for j in 0..k {
            batch.push(req.set((i + j) as u32));
        }
        let t = now_ns();
        for j in 0..k {
            sent_at[i + j].store(t, Ordering::Release);
        }
        let sent = match batch.flush(tx) {
            Ok(n) => n,
            Err(e) => {
                first_err.get_or_insert(e.to_string());
                0
            }
        };
        for j in sent..k {
            errors += 1;
            sent_at[i + j].store(0, Ordering::Release);
        }
        i += k;
    }
    let t_last = now_ns();
    std::thread::sleep(Duration::from_micros((grace_ms * 1000.0) as u64));
    stop.store(true, Ordering::Release);
    let (mut lat, dup, stray, _last_rx) = receiver.join().unwrap_or_else(|_| die("rx thread"));
    lat.sort_unstable();
    let sent = sent_total as u64 - errors;
    let received = lat.len() as u64;
    let loss = if sent == 0 {
        100.0
    } else {
        100.0 * (sent - received.min(sent)) as f64 / sent as f64
    };
    let span = (t_last - t_first) as f64 / 1e9;
    let us = |p: f64| percentile(&lat, p) as f64 / 1000.0;
    let mean = if lat.is_empty() {
        0.0
    } else {
        lat.iter().sum::<u64>() as f64 / lat.len() as f64 / 1000.0
    };
    println!(
        "mode={} rate={rate} duration={duration} sent={sent} received={received} loss_pct={loss:.3} \
         send_rate={:.0} p50_us={:.1} p90_us={:.1} p99_us={:.1} p999_us={:.1} max_us={:.1} mean_us={mean:.1} \
         dup={dup} stray={stray} send_errors={errors}{}",
        match kind {
            Kind::Dhcp => "dhcp",
            Kind::Rs => "rs",
            Kind::Ns => "ns",
        },
        sent as f64 / span.max(1e-9),
        us(50.0),
        us(90.0),
        us(99.0),
        us(99.9),
        us(100.0),
        first_err.map_or(String::new(), |e| format!(" first_error=\"{e}\"")),
    );
}

fn reload(args: &Args) {
    let iface = args.get("iface");
    let mac = parse_mac(&args.get("mac")).unwrap_or_else(|| usage("--mac: not a MAC"));
    let binding = std::path::PathBuf::from(args.get("binding"));
    let template = std::fs::read_to_string(args.get("template")).unwrap_or_else(|e| die(e));
    let ips: Vec<std::net::Ipv4Addr> = args
        .get("ips")
        .split(',')
        .map(|s| s.parse().unwrap_or_else(|_| usage("--ips")))
        .collect();
    let iters = args.num("iters", 100.0) as usize;
    let probe_rate = args.num("probe-rate", 10_000.0);
    let timeout_ns = (args.num("timeout-ms", 2000.0) * 1e6) as u64;
    let ifx = ifindex(&iface).unwrap_or_else(|e| die(e));
    let tx = tx_socket().unwrap_or_else(|e| die(e));
    let rx = rx_socket(ifx, false, 16 << 20).unwrap_or_else(|e| die(e));
    set_rcvtimeo(rx, 50).unwrap_or_else(|e| die(e));
    let dir = binding.parent().unwrap_or_else(|| usage("--binding"));
    let tmp = dir.join(".bench-reload.tmp");
    let mut disc = Discover::new(mac);
    let mut xid = now_ns() as u32;
    let interval = (1e9 / probe_rate) as u64;
    let mut batch = RxBatch::new(64);
    let mut lat = Vec::new();
    let mut failures = 0;
    for it in 0..iters {
        let ip = ips[(it + 1) % ips.len()];
        std::fs::write(&tmp, template.replace("@IP@", &ip.to_string())).unwrap_or_else(|e| die(e));
        let t0 = now_ns();
        std::fs::rename(&tmp, &binding).unwrap_or_else(|e| die(e));
        let mut next = mono_ns();
        let mut done = None;
        while done.is_none() && now_ns() - t0 < timeout_ns {
            if mono_ns() >= next {
                xid = xid.wrapping_add(1);
                disc.set_xid(xid);
                let _ = send_frame(tx, ifx, &disc.frame);
                next += interval;
            }
            let n = batch.recv(rx, 0).unwrap_or_else(|e| die(e));
            for i in 0..n {
                let (meta, bytes) = batch.get(i);
                if let Some(Reply::Dhcp { yiaddr, .. }) = parse_reply(bytes) {
                    if yiaddr == ip && meta.ts_ns >= t0 && done.is_none() {
                        done = Some(meta.ts_ns - t0);
                    }
                }
            }
        }
        match done {
            Some(d) => lat.push(d),
            None => failures += 1,
        }
        // Let the daemon settle (and the replies to late probes drain) between changes.
        std::thread::sleep(Duration::from_millis(30));
        while batch.recv(rx, libc::MSG_DONTWAIT).unwrap_or(0) > 0 {}
    }
    lat.sort_unstable();
    let us = |p: f64| percentile(&lat, p) as f64 / 1000.0;
    println!(
        "iters={iters} ok={} failed={failures} probe_rate={probe_rate} p50_us={:.1} p90_us={:.1} p99_us={:.1} max_us={:.1}",
        lat.len(),
        us(50.0),
        us(90.0),
        us(99.0),
        us(100.0)
    );
}

fn rawatch(args: &Args) {
    let duration_ns = (args.num("duration", 5.0) * 1e9) as u64;
    let gap_ns = (args.num("gap-ms", 300.0) * 1e6) as u64;
    let rx = rx_socket(0, true, 256 << 20).unwrap_or_else(|e| die(e));
    set_rcvtimeo(rx, 50_000).unwrap_or_else(|e| die(e));
    println!("rawatch ready");
    let end = now_ns() + duration_ns;
    let mut batch = RxBatch::new(64);
    let mut frames: Vec<(u64, u32)> = Vec::new();
    while now_ns() < end {
        let n = batch.recv(rx, 0).unwrap_or_else(|e| die(e));
        for i in 0..n {
            let (meta, bytes) = batch.get(i);
            if meta.pkttype == libc::PACKET_OUTGOING
                && matches!(parse_reply(bytes), Some(Reply::Ra { .. }))
            {
                frames.push((meta.ts_ns, meta.ifindex));
            }
        }
    }
    frames.sort_unstable();
    let mut rounds: Vec<Vec<(u64, u32)>> = Vec::new();
    for f in frames {
        match rounds.last_mut() {
            Some(r) if f.0 - r.last().map_or(0, |x| x.0) < gap_ns => r.push(f),
            _ => rounds.push(vec![f]),
        }
    }
    for (k, r) in rounds.iter().enumerate() {
        let mut ifs: Vec<u32> = r.iter().map(|x| x.1).collect();
        ifs.sort_unstable();
        ifs.dedup();
        let first = r.first().map_or(0, |x| x.0);
        let last = r.last().map_or(0, |x| x.0);
        println!(
            "round={k} start_ns={first} frames={} interfaces={} duration_ms={:.3}",
            r.len(),
            ifs.len(),
            (last - first) as f64 / 1e6
        );
    }
}
