//! The shipped firewall rules, end to end (conf/nfdhcpd-iptables.sh's NFQUEUE rules with
//! --queue-bypass and conf/nfdhcpd-limits.nft's per-tap limits and counters, or with
//! NFDHCPD_FIREWALL=nft conf/nfdhcpd.nft's queue rules, limits and counters, as the harness
//! installs them in every sandbox): a flooding VM does not delay another VM's lease, what the kernel
//! passes on unanswered is counted and shown in the SIGUSR1 dump, and with the daemon down
//! packets continue as if nfdhcpd did not exist.
//!
//! The flooders are tests/tools/vmpkt.py's `flood` mode without pacing (`--pps 0`: as fast
//! as Python writes raw frames); the victim runs the real dhclient.

mod common;

use common::*;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The flood tests load the machine and time a client: one at a time.
static HEAVY: Mutex<()> = Mutex::new(());

fn heavy() -> MutexGuard<'static, ()> {
    HEAVY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Lease runs per measurement.
const RUNS: usize = 5;
/// Issue 11: the victim's lease, from dhclient's start, during a flood.
const LEASE_BOUND: Duration = Duration::from_secs(1);
/// How long each flooder runs: longer than the victim's runs take (checked).
const FLOOD_SECONDS: &str = "20";

#[derive(Clone, Copy, PartialEq, Debug)]
enum Attach {
    Routed,
    Bridged,
}

impl Attach {
    /// The nft family whose counters see this attachment's taps.
    fn family(self) -> &'static str {
        match self {
            Attach::Routed => "inet",
            Attach::Bridged => "bridge",
        }
    }
}

/// Plugs the VM's tap in (routed: as is; bridged: into br0) and returns its binding.
fn attach(sb: &mut Sandbox, how: Attach, vm: &Vm, binding: Binding) -> Binding {
    match how {
        Attach::Routed => binding,
        Attach::Bridged => {
            sb.enslave(&vm.tap, "br0");
            Binding {
                indev: "br0".into(),
                ..binding
            }
        }
    }
}

/// Time from dhclient's start to its script's lease call (polled every 5 ms).
fn lease_time(sb: &mut Sandbox, vm: &Vm, ip: &str) -> Duration {
    let started = Instant::now();
    let run = sb.dhclient(vm, &DhcpOpts::default());
    loop {
        let calls = sb.script_calls(run);
        if let Some(c) = calls.iter().find(|c| LEASE_REASONS.contains(&c.reason())) {
            let took = started.elapsed();
            if c.get("new_ip_address") != Some(ip) {
                sb.fail(&format!("the victim's lease is not {ip}:\n{}", c.dump()));
            }
            sb.stop_dhclient(run);
            return took;
        }
        if started.elapsed() > LEASE_TIMEOUT {
            sb.fail(&format!("the victim got no lease within {LEASE_TIMEOUT:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn lease_times(sb: &mut Sandbox, vm: &Vm, ip: &str) -> Vec<Duration> {
    (0..RUNS).map(|_| lease_time(sb, vm, ip)).collect()
}

fn ms(times: &[Duration]) -> String {
    let v: Vec<String> = times
        .iter()
        .map(|t| format!("{:.0}", t.as_secs_f64() * 1000.0))
        .collect();
    format!("[{}] ms", v.join(", "))
}

/// `kinds.len()` VMs flood one kind each (bound, their stacks silenced) at the generator's
/// maximum rate; the victim's dhclient lease must complete within [`LEASE_BOUND`] on every
/// one of [`RUNS`] runs, with and without the flood. Prints both, and the flood's rate.
fn flood_victim(test: &str, how: Attach, kinds: &[&str]) {
    let _heavy = heavy();
    let Some(mut sb) = Sandbox::start_test(test, Needs::base().scapy()) else {
        return;
    };
    sb.add_ipv6_rules();
    if how == Attach::Bridged {
        sb.add_bridge("br0");
    }
    let mut flooders = Vec::new();
    for k in 0..kinds.len() {
        let vm = sb.add_quiet_vm(&format!("tap{k}"));
        sb.silence_stack(&vm);
        let b = Binding {
            ip: format!("192.0.2.{}", 110 + k),
            ..Binding::for_vm6(&vm)
        };
        let b = attach(&mut sb, how, &vm, b);
        sb.write_binding(&vm.tap, &b);
        flooders.push(vm);
    }
    let victim = sb.add_vm("tap50");
    let b = attach(&mut sb, how, &victim, Binding::for_vm(&victim));
    sb.write_binding(&victim.tap, &b);
    sb.start_daemon(&Conf {
        ipv6: Some(Conf6::default()),
        ..Conf::default()
    });
    for vm in flooders.iter().chain([&victim]) {
        sb.wait_log(
            0,
            &format!("binding active tap={}", vm.tap),
            BINDING_TIMEOUT,
        );
    }

    let quiet = lease_times(&mut sb, &victim, VM_IP);
    let mut outs = Vec::new();
    for (vm, kind) in flooders.iter().zip(kinds) {
        let args = [
            "--pps",
            "0",
            "flood",
            "--kind",
            kind,
            "--seconds",
            FLOOD_SECONDS,
            "--max-count",
            "1000000000",
            "--linger",
            "0",
        ];
        outs.push(sb.spawn_vmpkt(vm, &args));
    }
    for out in &outs {
        if out
            .wait_for(0, |l| l == "[stdout] STARTED", Duration::from_secs(30))
            .is_none()
        {
            sb.fail(&format!("a flooder did not start:\n{}", out.text()));
        }
    }
    // The kernel is cutting every kind of flood before the queues.
    let family = how.family();
    sb.wait_until(
        "the per-tap kernel limit dropping every flood",
        Duration::from_secs(10),
        || {
            let c = sb.nft_counters();
            kinds
                .iter()
                .all(|k| {
                    c.get(&format!("{family}:limited_{k}"))
                        .copied()
                        .unwrap_or(0)
                        > 0
                })
                .then_some(())
        },
    );
    let flooded = lease_times(&mut sb, &victim, VM_IP);
    if outs.iter().any(|o| o.text().contains("DONE")) {
        sb.fail(&format!(
            "a flood ended before the victim's runs did (during: {}): the test proves nothing",
            ms(&flooded)
        ));
    }
    let mut rates = Vec::new();
    let mut total = 0.0;
    for out in &outs {
        let done = sb.wait_vmpkt(out, Duration::from_secs(60));
        let secs: f64 = done
            .get("seconds")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        let rate = done_u64(&done, "sent") as f64 / secs.max(0.001);
        total += rate;
        rates.push(format!("{rate:.0}/s"));
    }
    let nft = sb.nft_counters();
    let c = sb.counters();
    eprintln!(
        "{test}: victim's dhclient lease without the flood {}, during the flood {} \
         ({} flooder(s) {kinds:?} at {rates:?}, {total:.0}/s in all); kernel: {nft:?}; \
         daemon read dhcp4={} rs={} ns={} dhcp6={} drop_rate_limited={}",
        ms(&quiet),
        ms(&flooded),
        kinds.len(),
        ctr(&c, "dhcp4_packets"),
        ctr(&c, "rs_packets"),
        ctr(&c, "ns_packets"),
        ctr(&c, "dhcp6_packets"),
        ctr(&c, "drop_rate_limited"),
    );
    for (what, times) in [("without", &quiet), ("during", &flooded)] {
        if let Some(t) = times.iter().find(|t| **t >= LEASE_BOUND) {
            sb.fail(&format!(
                "a lease {what} the flood took {t:?} (bound {LEASE_BOUND:?}): without {}, during {}",
                ms(&quiet),
                ms(&flooded)
            ));
        }
    }
}

#[test]
fn one_vm_flooding_discover_at_max_rate_victim_lease_under_1s_routed() {
    flood_victim(
        "one_vm_flooding_discover_at_max_rate_victim_lease_under_1s_routed",
        Attach::Routed,
        &["dhcp4"],
    );
}

#[test]
fn one_vm_flooding_discover_at_max_rate_victim_lease_under_1s_bridged() {
    flood_victim(
        "one_vm_flooding_discover_at_max_rate_victim_lease_under_1s_bridged",
        Attach::Bridged,
        &["dhcp4"],
    );
}

#[test]
fn five_vms_flooding_rs_ns_dhcp6_discover_victim_lease_under_1s_routed() {
    flood_victim(
        "five_vms_flooding_rs_ns_dhcp6_discover_victim_lease_under_1s_routed",
        Attach::Routed,
        &["rs", "ns", "dhcp6", "dhcp4", "dhcp4"],
    );
}

#[test]
fn five_vms_flooding_rs_ns_dhcp6_discover_victim_lease_under_1s_bridged() {
    flood_victim(
        "five_vms_flooding_rs_ns_dhcp6_discover_victim_lease_under_1s_bridged",
        Attach::Bridged,
        &["rs", "ns", "dhcp6", "dhcp4", "dhcp4"],
    );
}

/// With the daemon stopped (SIGSTOP) and no kernel limit, a burst larger than the queue
/// (5000) fills it: the kernel passes the rest on without a verdict (fail-open). The nft
/// file counts exactly those, they reach INPUT, and the daemon's dump shows the count.
#[test]
fn queue_full_fail_open_passes_are_counted_and_dumped() {
    let test = "queue_full_fail_open_passes_are_counted_and_dumped";
    const BURST: u64 = 7000;
    let _heavy = heavy();
    let Some(mut sb) = Sandbox::start_test(test, Needs::base().scapy()) else {
        return;
    };
    let vm = sb.add_quiet_vm("tap0");
    sb.silence_stack(&vm);
    sb.write_binding("tap0", &Binding::for_vm(&vm));
    sb.start_daemon(&Conf::unlimited());
    sb.wait_log(0, "binding active tap=tap0", BINDING_TIMEOUT);
    sb.signal_daemon("STOP");
    let count = BURST.to_string();
    let done = sb.run_vmpkt(
        &vm,
        &[
            "flood",
            "--kind",
            "dhcp4",
            "--seconds",
            "60",
            "--max-count",
            &count,
            "--linger",
            "0",
        ],
        Duration::from_secs(90),
    );
    expect_eq(
        &sb,
        "sent",
        done_u64(&done, "sent"),
        BURST,
        &format!("{done:?}"),
    );
    let (held, passed) = sb.wait_until(
        "every DISCOVER either held for the daemon or passed on",
        Duration::from_secs(20),
        || {
            let passed = sb.nft_counters().get("inet:unanswered_dhcp4").copied()?;
            let held = dhcp_queue_waiting(&sb);
            (held + passed == BURST).then_some((held, passed))
        },
    );
    sb.signal_daemon("CONT");
    let deadline = Instant::now() + Duration::from_secs(30);
    while ctr(&sb.counters(), "dhcp4_packets") != held {
        if Instant::now() >= deadline {
            sb.fail(&format!(
                "the daemon did not read the {held} DISCOVERs the queue held"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let dumped = sb.dumped_nft_counters();
    let ctx = format!("held {held}, passed {passed}; dump {dumped:?}");
    eprintln!("{test}: {ctx}");
    if passed == 0 {
        sb.fail(&format!("nothing failed open: {ctx}"));
    }
    expect_eq(
        &sb,
        "the dump's inet unanswered_dhcp4",
        dumped
            .get("inet:unanswered_dhcp4")
            .copied()
            .unwrap_or(u64::MAX),
        passed,
        &ctx,
    );
    expect_eq(
        &sb,
        "fail-open passes that reached INPUT",
        sb.input_count("tap0"),
        passed,
        &ctx,
    );
}

/// What the kernel holds for the stopped daemon of the sandbox's DHCP queue.
fn dhcp_queue_waiting(sb: &Sandbox) -> u64 {
    let text = sb.host_must("cat /proc/net/netfilter/nfnetlink_queue");
    nfdhcpd::stats::kernel_queues(&text)
        .into_iter()
        .find(|q| q.queue == DHCP_QUEUE)
        .map_or(0, |q| q.waiting)
}

/// Issue 16: the queue thread reads what waits in bursts (up to 32 per `recvmmsg`) and
/// sends a burst's verdicts in one message, the DROPs as one batch verdict for every id up
/// to the newest. Two VMs, one bound and one not, send DISCOVERs at once to the stopped
/// daemon; continued, it reads the held mix in bursts. Every unbound packet must be passed
/// on with our mark (reaching INPUT, not counted as unanswered), every bound one dropped,
/// nothing left in the queue, no verdict refused by the kernel.
#[test]
fn held_burst_of_bound_and_unbound_packets_gets_each_its_verdict() {
    let test = "held_burst_of_bound_and_unbound_packets_gets_each_its_verdict";
    const EACH: u64 = 1000;
    let _heavy = heavy();
    let Some(mut sb) = Sandbox::start_test(test, Needs::base().scapy()) else {
        return;
    };
    let bound = sb.add_quiet_vm("tap0");
    sb.silence_stack(&bound);
    let unbound = sb.add_quiet_vm("tap1");
    sb.silence_stack(&unbound);
    sb.write_binding("tap0", &Binding::for_vm(&bound));
    sb.start_daemon(&Conf::unlimited());
    sb.wait_log(0, "binding active tap=tap0", BINDING_TIMEOUT);
    sb.signal_daemon("STOP");
    let count = EACH.to_string();
    let args = [
        "flood",
        "--kind",
        "dhcp4",
        "--seconds",
        "60",
        "--max-count",
        &count,
        "--linger",
        "0",
    ];
    let outs = [
        sb.spawn_vmpkt(&bound, &args),
        sb.spawn_vmpkt(&unbound, &args),
    ];
    for out in &outs {
        let done = sb.wait_vmpkt(out, Duration::from_secs(90));
        expect_eq(
            &sb,
            "sent",
            done_u64(&done, "sent"),
            EACH,
            &format!("{done:?}"),
        );
    }
    sb.wait_until(
        "both VMs' DISCOVERs held for the stopped daemon",
        Duration::from_secs(20),
        || (dhcp_queue_waiting(&sb) == 2 * EACH).then_some(()),
    );
    sb.signal_daemon("CONT");
    let deadline = Instant::now() + Duration::from_secs(30);
    while ctr(&sb.counters(), "dhcp4_packets") != 2 * EACH || dhcp_queue_waiting(&sb) != 0 {
        if Instant::now() >= deadline {
            sb.fail("the daemon did not read and verdict every held DISCOVER");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let c = sb.counters();
    let nft = sb.nft_counters();
    let ctx = format!("counters {c:?}; nft {nft:?}");
    eprintln!("{test}: {ctx}");
    for (name, want) in [
        ("accepted_unbound", EACH),
        ("dropped_bound", EACH),
        ("verdict_errors", 0),
        ("queue_recv_errors", 0),
    ] {
        expect_eq(&sb, name, ctr(&c, name), want, &ctx);
    }
    expect_eq(
        &sb,
        "tap1 DISCOVERs reaching INPUT",
        sb.input_count("tap1"),
        EACH,
        &ctx,
    );
    expect_eq(
        &sb,
        "tap0 DISCOVERs reaching INPUT",
        sb.input_count("tap0"),
        0,
        &ctx,
    );
    let unanswered = nft
        .get("inet:unanswered_dhcp4")
        .copied()
        .unwrap_or(u64::MAX);
    expect_eq(
        &sb,
        "DISCOVERs passed on without our mark",
        unanswered,
        0,
        &ctx,
    );
}

/// Issue 11 item 2. With the daemon stopped, --queue-bypass lets every packet continue as if
/// nfdhcpd did not exist: an unbound tap gets its lease from another DHCP server on the host
/// (dnsmasq), an NS for a host address is answered by the kernel, a bound tap's DHCP goes
/// unanswered (no other server for it) and is counted as passed on unanswered. With the
/// daemon back, the bound tap is served again.
#[test]
fn daemon_down_packets_pass_as_if_absent_and_bound_taps_served_once_back() {
    let test = "daemon_down_packets_pass_as_if_absent_and_bound_taps_served_once_back";
    let Some(mut sb) = Sandbox::start_test(test, Needs::tools(&["dnsmasq", "ndisc6"])) else {
        return;
    };
    const OTHER_IP: &str = "198.51.100.50";
    const HOST6: &str = "2001:db8:ffff::1";
    sb.add_ipv6_rules();
    let bound = sb.add_vm("tap0");
    let unbound = sb.add_vm("tap1");
    sb.host_must("ip addr add 198.51.100.1/24 dev tap1");
    sb.host_must(&format!("ip -6 addr add {HOST6}/64 dev tap1 nodad"));
    sb.write_binding("tap0", &Binding::for_vm6(&bound));
    let conf = Conf {
        ipv6: Some(Conf6::default()),
        ..Conf::default()
    };
    sb.start_daemon(&conf);
    sb.wait_log(0, "binding active tap=tap0", BINDING_TIMEOUT);
    sb.start_dnsmasq("tap1", OTHER_IP, &[]);
    let lease = sb.dhclient(&bound, &DhcpOpts::default());
    let got = sb.expect_lease(lease);
    assert_eq!(got.get("new_ip_address"), Some(VM_IP), "{}", got.dump());
    sb.stop_dhclient(lease);
    let status = sb.stop_daemon();
    assert_eq!(status.code(), Some(0), "SIGTERM: {status}");
    let before = sb.nft_counters();

    // Daemon down: the unbound tap's DHCP reaches dnsmasq.
    let run = sb.dhclient(&unbound, &DhcpOpts::default());
    let got = sb.expect_lease(run);
    assert_eq!(got.get("new_ip_address"), Some(OTHER_IP), "{}", got.dump());
    assert_eq!(
        got.get("new_dhcp_server_identifier"),
        Some("198.51.100.1"),
        "{}",
        got.dump()
    );
    sb.stop_dhclient(run);
    // An NS for a host address: the kernel answers, with tap1's MAC.
    sb.wait_link_local(&unbound, Duration::from_secs(10));
    let out = sb.vm_must(&unbound, &format!("ndisc6 -1 -r 3 {HOST6} eth0"));
    let mac = sb.host_mac("tap1");
    if !out.to_ascii_lowercase().contains(&mac) {
        sb.fail(&format!(
            "no NA with {mac} for {HOST6} from the kernel:\n{out}"
        ));
    }
    // The bound tap: nothing else serves it, so its DHCP goes unanswered.
    let run = sb.dhclient(&bound, &DhcpOpts::short());
    sb.expect_no_lease(run, DhcpOpts::short().timeout_s);
    let after = sb.nft_counters();
    let delta = |k: &str| after.get(k).copied().unwrap_or(0) - before.get(k).copied().unwrap_or(0);
    let ctx = format!("nft counters before {before:?}, after {after:?}");
    eprintln!("{test}: daemon down: {ctx}");
    // The unbound VM's DISCOVER and REQUEST, the bound VM's DISCOVERs; the NS.
    if delta("inet:unanswered_dhcp4") < 4 || delta("inet:unanswered_ns") < 1 {
        sb.fail(&format!(
            "the packets passed on unanswered were not counted: {ctx}"
        ));
    }

    // Daemon back: the bound tap is served again.
    sb.start_daemon(&conf);
    sb.wait_log(0, "binding active tap=tap0", BINDING_TIMEOUT);
    let run = sb.dhclient(&bound, &DhcpOpts::default());
    let got = sb.expect_lease(run);
    assert_eq!(got.get("new_ip_address"), Some(VM_IP), "{}", got.dump());
    assert_eq!(
        got.get("new_dhcp_server_identifier"),
        Some(SERVER_IP),
        "{}",
        got.dump()
    );
    sb.stop_dhclient(run);
    sb.wait_link_local(&bound, Duration::from_secs(10));
    let out = sb.vm_must(&bound, &format!("ndisc6 -1 -r 3 {GATEWAY6} eth0"));
    if !out.contains("Target link-layer address") {
        sb.fail(&format!("no NA for {GATEWAY6} from the daemon:\n{out}"));
    }
    assert!(sb.counter("na_sent") >= 1);
    // Nothing passes unanswered while the daemon runs, and its dump shows what nft counts.
    let dumped = sb.dumped_nft_counters();
    let now = sb.nft_counters();
    for kind in ["dhcp4", "rs", "ns", "dhcp6"] {
        let k = format!("inet:unanswered_{kind}");
        expect_eq(
            &sb,
            &format!("{k} in the dump"),
            dumped.get(&k).copied().unwrap_or(u64::MAX),
            now.get(&k).copied().unwrap_or(0),
            &format!("dump {dumped:?}, nft {now:?}"),
        );
    }
    expect_eq(
        &sb,
        "unanswered DHCP while the daemon runs",
        now.get("inet:unanswered_dhcp4").copied().unwrap_or(0),
        after.get("inet:unanswered_dhcp4").copied().unwrap_or(0),
        &format!("after the outage {after:?}, now {now:?}"),
    );
}
