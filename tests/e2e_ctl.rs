//! End-to-end `nfdhcpd ctl` (issue 15): the real daemon with its control socket in the
//! sandbox, real dhclients in the VMs, and the real `nfdhcpd ctl` binary asking.
//!
//! - `ctl show` names the spoofed MAC of a VM whose binding has another MAC, the
//!   rate-limited drops of a flooding VM, and the reply a good VM got.
//! - `ctl trace` sees a dhclient exchange live, decoded.
//! - `ctl reload` applies a config change and says so; `ctl status` reports it.
//! - Clients that connect and send nothing, or send 10 MB, do not delay a VM's lease.
//! - The metrics file (and `ctl metrics`) parse with the Prometheus client library's parser.

mod common;

use common::*;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// A lease in normal time: dhclient's first DISCOVER goes out at once.
const NORMAL_TIME: Duration = Duration::from_secs(1);

/// The good VM's address and the spoofed and flooding VMs' bindings.
const SPOOFED_BINDING_MAC: &str = "02:00:5e:10:00:99";

fn lease_time(sb: &mut Sandbox, vm: &Vm, ip: &str) -> Duration {
    let started = Instant::now();
    let run = sb.dhclient(vm, &DhcpOpts::default());
    let lease = sb.expect_lease(run);
    let took = started.elapsed();
    if lease.get("new_ip_address") != Some(ip) {
        sb.fail(&format!("expected {ip}:\n{}", lease.dump()));
    }
    sb.stop_dhclient(run);
    took
}

#[test]
fn ctl_show_names_spoofed_mac_rate_limited_drops_and_replies() {
    let test = "ctl_show_names_spoofed_mac_rate_limited_drops_and_replies";
    let Some(mut sb) = Sandbox::start_test(test, Needs::base().scapy()) else {
        return;
    };
    // The daemon's own limiter must see the flood (the kernel's would cut it first).
    sb.without_kernel_limit();
    let good = sb.add_vm("tap0");
    let spoofed = sb.add_vm("tap1");
    let flooder = sb.add_quiet_vm("tap2");
    sb.silence_stack(&flooder);
    sb.write_binding("tap0", &Binding::for_vm(&good));
    sb.write_binding(
        "tap1",
        &Binding {
            mac: SPOOFED_BINDING_MAC.into(),
            ip: "192.0.2.101".into(),
            ..Binding::for_vm(&spoofed)
        },
    );
    sb.write_binding(
        "tap2",
        &Binding {
            ip: "192.0.2.102".into(),
            ..Binding::for_vm(&flooder)
        },
    );
    sb.start_daemon(&Conf::default());
    for tap in ["tap0", "tap1", "tap2"] {
        sb.wait_log(0, &format!("binding active tap={tap}"), BINDING_TIMEOUT);
    }
    lease_time(&mut sb, &good, VM_IP);
    let run = sb.dhclient(&spoofed, &DhcpOpts::short());
    sb.expect_no_lease(run, 5);
    let out = sb.spawn_vmpkt(
        &flooder,
        &[
            "--pps",
            "500",
            "flood",
            "--kind",
            "dhcp4",
            "--seconds",
            "2",
            "--max-count",
            "1000",
        ],
    );
    sb.wait_vmpkt(&out, Duration::from_secs(30));

    let show = sb.ctl_must(&["show", "tap0"]);
    println!("ctl show tap0:\n{show}");
    for want in [
        "tap0: active",
        "DISCOVER",
        "replied OFFER",
        "REQUEST",
        "replied ACK",
    ] {
        if !show.contains(want) {
            sb.fail(&format!("ctl show tap0 lacks {want:?}:\n{show}"));
        }
    }
    let show = sb.ctl_must(&["show", "tap1"]);
    println!("ctl show tap1:\n{show}");
    let spoof_line = format!(
        "dropped: spoofed (frame or claimed MAC {}, the binding's MAC is {SPOOFED_BINDING_MAC})",
        spoofed.mac
    );
    if !show.contains(&spoof_line) {
        sb.fail(&format!(
            "ctl show tap1 does not name the spoofed MAC:\n{show}"
        ));
    }
    let show = sb.ctl_must(&["show", "tap2"]);
    println!("ctl show tap2 (tail):\n{}", tail(&show, 5));
    if !show.contains("dropped: rate limited") {
        sb.fail(&format!(
            "ctl show tap2 shows no rate-limited drop:\n{show}"
        ));
    }
    // JSON: the same facts, for scripts.
    let json = sb.ctl_must(&["--json", "show", "tap1"]);
    for want in [
        "\"state\":\"active\"",
        "\"decision\":\"dropped: spoofed",
        &format!("\"from\":\"{}\"", spoofed.mac),
    ] {
        if !json.contains(want) {
            sb.fail(&format!("ctl --json show tap1 lacks {want}:\n{json}"));
        }
    }
    // An unbound tap, and one whose file is refused.
    let show = sb.ctl_must(&["show", "tap9"]);
    if !show.contains("no binding file") {
        sb.fail(&format!("ctl show tap9: {show}"));
    }
    std::fs::write(sb.state_dir.join("tap8"), "MAC=zz\n").expect("write tap8");
    sb.wait_log(0, "binding refused", BINDING_TIMEOUT);
    let all = sb.ctl_must(&["bindings"]);
    println!("ctl bindings:\n{all}");
    for want in ["tap0 active", "tap1 active", "tap8 refused: line 1: MAC:"] {
        if !all.contains(want) {
            sb.fail(&format!("ctl bindings lacks {want:?}:\n{all}"));
        }
    }
    let status = sb.ctl_must(&["status"]);
    println!("ctl status:\n{status}");
    if !status.contains("bindings: 3 active, 0 inactive, 1 refused") {
        sb.fail(&format!("ctl status:\n{status}"));
    }
    let counters = sb.ctl_must(&["counters"]);
    if !counters
        .lines()
        .any(|l| l.starts_with("drop_spoofed ") && l != "drop_spoofed 0")
    {
        sb.fail(&format!("ctl counters:\n{counters}"));
    }
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[test]
fn ctl_trace_sees_a_dhclient_exchange_live() {
    let Some(mut sb) =
        Sandbox::start_test("ctl_trace_sees_a_dhclient_exchange_live", Needs::base())
    else {
        return;
    };
    let vm = sb.add_vm("tap0");
    let other = sb.add_vm("tap1");
    sb.write_binding("tap0", &Binding::for_vm(&vm));
    sb.write_binding(
        "tap1",
        &Binding {
            ip: "192.0.2.101".into(),
            ..Binding::for_vm(&other)
        },
    );
    sb.start_daemon(&Conf::default());
    sb.wait_log(0, "binding active tap=tap1", BINDING_TIMEOUT);
    let status = sb.ctl_must(&["status"]);
    if !status.contains("tracing: off") {
        sb.fail(&format!("tracing before anyone traces:\n{status}"));
    }
    let trace = sb.spawn_ctl(&["trace", "tap0"]);
    if trace
        .wait_for(0, |l| l.contains("# tracing tap0"), Duration::from_secs(10))
        .is_none()
    {
        sb.fail(&format!("ctl trace did not start:\n{}", trace.text()));
    }
    if !sb.ctl_must(&["status"]).contains("tracing: on") {
        sb.fail("ctl status does not say tracing is on");
    }
    // tap1's exchange is filtered out; tap0's is seen as it happens.
    lease_time(&mut sb, &other, "192.0.2.101");
    lease_time(&mut sb, &vm, VM_IP);
    let want_ack = format!("replied ACK (ACK) yiaddr={VM_IP}");
    let seen = trace.wait_for(0, |l| l.contains(&want_ack), Duration::from_secs(10));
    println!("trace:\n{}", trace.text());
    if seen.is_none() {
        sb.fail(&format!(
            "ctl trace did not show the ACK ({want_ack}):\n{}",
            trace.text()
        ));
    }
    let text = trace.text();
    let offer = text.lines().any(|l| {
        l.contains(" tap0 dhcp4 DISCOVER xid=0x")
            && l.contains(&format!("chaddr={}", vm.mac))
            && l.contains("replied OFFER")
    });
    if !offer {
        sb.fail(&format!(
            "no decoded DISCOVER -> OFFER line for tap0:\n{text}"
        ));
    }
    if text.contains(" tap1 ") {
        sb.fail(&format!("trace tap0 showed tap1's packets:\n{text}"));
    }
}

#[test]
fn ctl_reload_applies_a_config_change() {
    let Some(mut sb) = Sandbox::start_test("ctl_reload_applies_a_config_change", Needs::base())
    else {
        return;
    };
    let vm = sb.add_vm("tap0");
    sb.write_binding("tap0", &Binding::for_vm(&vm));
    let conf = Conf::default();
    sb.start_daemon(&conf);
    sb.wait_log(0, "binding active tap=tap0", BINDING_TIMEOUT);
    if !sb
        .ctl_must(&["status"])
        .contains("last reload: none since start")
    {
        sb.fail("a reload before any was asked");
    }
    sb.write_config(&Conf {
        nameservers: "192.0.2.53".into(),
        ..conf
    });
    let out = sb.ctl_must(&["reload"]);
    println!("ctl reload:\n{out}");
    if !out.contains("applied dhcp.nameservers=[192.0.2.53]") || !out.contains("reload done") {
        sb.fail(&format!("ctl reload:\n{out}"));
    }
    let run = sb.dhclient(&vm, &DhcpOpts::default());
    let lease = sb.expect_lease(run);
    if lease.get("new_domain_name_servers") != Some("192.0.2.53") {
        sb.fail(&format!(
            "the reloaded nameservers did not reach the VM:\n{}",
            lease.dump()
        ));
    }
    let status = sb.ctl_must(&["status"]);
    if !status.contains(" applied\n  applied dhcp.nameservers=[192.0.2.53]") {
        sb.fail(&format!("ctl status after the reload:\n{status}"));
    }
    // An invalid file: kept, and said so, exit 1 (the answer carries no `error:`, the
    // failure is the reload's).
    std::fs::write(sb.config_path(), "[dhcp]\ndhcp_queue = x\n").expect("write config");
    let out = sb.ctl_must(&["reload"]);
    if !out.contains("reload failed: the running configuration is kept")
        || !out.contains("dhcp_queue")
    {
        sb.fail(&format!("ctl reload of a bad file:\n{out}"));
    }
    // The socket: 0600; a wrong request is refused with the commands listed.
    let mode = std::fs::metadata(sb.control_socket())
        .expect("socket")
        .permissions()
        .mode();
    if mode & 0o777 != 0o600 {
        sb.fail(&format!("control socket mode {:o}", mode & 0o777));
    }
    let (code, _, err) = sb.ctl(&["frobnicate"]);
    if code != Some(2) || !err.contains("commands: status") {
        sb.fail(&format!("ctl frobnicate: exit {code:?}: {err}"));
    }
}

/// Eight clients that connect and send nothing (the server's limit), and one that sends
/// 10 MB: the VM's lease comes in normal time while they hang on, and `ctl` works again
/// once they are gone.
#[test]
fn slow_and_hostile_ctl_clients_do_not_delay_a_lease() {
    let test = "slow_and_hostile_ctl_clients_do_not_delay_a_lease";
    let Some(mut sb) = Sandbox::start_test(test, Needs::base()) else {
        return;
    };
    let vm = sb.add_vm("tap0");
    sb.write_binding("tap0", &Binding::for_vm(&vm));
    sb.start_daemon(&Conf::default());
    sb.wait_log(0, "binding active tap=tap0", BINDING_TIMEOUT);
    let baseline = lease_time(&mut sb, &vm, VM_IP);
    let path = sb.control_socket();
    let silent: Vec<UnixStream> = (0..8)
        .map(|_| UnixStream::connect(&path).unwrap_or_else(|e| sb.fail(&format!("connect: {e}"))))
        .collect();
    let flood_path = path.clone();
    let flooder = std::thread::spawn(move || {
        let mut s = UnixStream::connect(&flood_path).expect("connect");
        let _ = s.set_write_timeout(Some(Duration::from_secs(5)));
        let chunk = vec![b'x'; 64 * 1024];
        let mut sent = 0usize;
        while sent < 10 * 1024 * 1024 {
            match s.write(&chunk) {
                Ok(n) => sent += n,
                Err(_) => break,
            }
        }
        sent
    });
    let during = lease_time(&mut sb, &vm, VM_IP);
    let sent = flooder.join().expect("flooder");
    println!("{test}: lease in {baseline:?} without, {during:?} with 8 silent clients and a 10 MB one (it got {sent} bytes in before being cut)");
    if during > NORMAL_TIME {
        sb.fail(&format!(
            "the lease took {during:?} with hostile ctl clients (without: {baseline:?})"
        ));
    }
    if sent >= 10 * 1024 * 1024 {
        sb.fail("the daemon read 10 MB of request");
    }
    // The silent ones are cut at the read timeout; ctl answers again.
    std::thread::sleep(Duration::from_secs(3));
    drop(silent);
    let status = sb.ctl_must(&["status"]);
    if !status.contains("bindings: 1 active") {
        sb.fail(&format!("ctl status after the hostile clients:\n{status}"));
    }
    sb.assert_log_clean();
}

/// `[general] metrics_file`: written at start and every 15 s, atomically; it and `ctl
/// metrics` parse with prometheus_client's text parser, and carry the real counts.
#[test]
fn metrics_file_parses_with_prometheus_client() {
    let test = "metrics_file_parses_with_prometheus_client";
    let Some(mut sb) = Sandbox::start_test(
        test,
        Needs::base().python_module("prometheus_client", "python3-prometheus-client"),
    ) else {
        return;
    };
    let vm = sb.add_vm("tap0");
    sb.write_binding("tap0", &Binding::for_vm(&vm));
    let metrics = sb.dir.join("nfdhcpd.prom");
    sb.start_daemon(&Conf {
        general_extra: vec![format!("metrics_file = {}", metrics.display())],
        ..Conf::default()
    });
    sb.wait_log(0, "binding active tap=tap0", BINDING_TIMEOUT);
    lease_time(&mut sb, &vm, VM_IP);
    let parse = |text: &str| -> String {
        let script = "import sys\nfrom prometheus_client.parser import text_string_to_metric_families as p\n\
                      for f in p(sys.stdin.read()):\n    for s in f.samples:\n        \
                      print(s.name, ','.join(f'{k}={v}' for k, v in sorted(s.labels.items())), int(s.value))\n";
        let mut child = std::process::Command::new(PYTHON3)
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("python3");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("python3");
        if !out.status.success() {
            panic!(
                "prometheus_client refused the text:\n{}\n{text}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let live = parse(&sb.ctl_must(&["metrics"]));
    println!("ctl metrics, parsed:\n{live}");
    for want in [
        "nfdhcpd_replies_total kind=dhcp4_offer 1",
        "nfdhcpd_replies_total kind=dhcp4_ack 1",
        "nfdhcpd_bindings state=active 1",
        "nfdhcpd_verdicts_total verdict=drop_bound 2",
    ] {
        if !live.lines().any(|l| l == want) {
            sb.fail(&format!("ctl metrics lacks {want:?}:\n{live}"));
        }
    }
    // The file: there from the start, rewritten every 15 s with the new counts.
    let file = sb.wait_until(
        "the metrics file with the lease's ACK",
        Duration::from_secs(20),
        || {
            let text = std::fs::read_to_string(&metrics).ok()?;
            let parsed = parse(&text);
            parsed
                .lines()
                .any(|l| l == "nfdhcpd_replies_total kind=dhcp4_ack 1")
                .then_some(parsed)
        },
    );
    if file.lines().any(|l| l.contains("tap0")) {
        sb.fail("per-tap labels in the metrics");
    }
    let others: Vec<_> = std::fs::read_dir(&sb.dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("nfdhcpd.prom") && n != "nfdhcpd.prom")
        .collect();
    if !others.is_empty() {
        sb.fail(&format!("temporary metrics files left: {others:?}"));
    }
}
