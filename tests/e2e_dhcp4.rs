//! End-to-end DHCPv4: the real daemon in a host network namespace, the real ISC dhclient in VM
//! namespaces, the kernel's NFQUEUE path in between (DESIGN §1, §3, §4). Needs root, iproute2,
//! iptables, isc-dhcp-client and dnsmasq-base, and for two route tests udhcpc and dhcpcd-base
//! (tests/run-all.sh installs them); without them a test says why and returns, except under
//! CI=true where that is a failure.
//!
//! What a VM got is read from dhclient's own script variables (`new_*`), so every assertion is
//! about what a real client understood, not about our own decoding of the reply.

mod common;

use common::*;
use std::time::{Duration, Instant};

/// A sandbox with `vms` VMs (tap0, tap1, ...), a binding file for each (from `bind`), and
/// the daemon started and ready, with every binding reported active; `None` when the test
/// is skipped ([`Sandbox::start_test`]).
fn routed(
    test: &str,
    vms: usize,
    conf: &Conf,
    bind: impl Fn(&Vm) -> Binding,
) -> Option<(Sandbox, Vec<Vm>)> {
    routed_with(test, Needs::base(), vms, conf, bind)
}

/// [`routed`] for a test that needs more tools than dhclient.
fn routed_with(
    test: &str,
    needs: Needs,
    vms: usize,
    conf: &Conf,
    bind: impl Fn(&Vm) -> Binding,
) -> Option<(Sandbox, Vec<Vm>)> {
    let mut sb = Sandbox::start_test(test, needs)?;
    let vms: Vec<Vm> = (0..vms).map(|k| sb.add_vm(&format!("tap{k}"))).collect();
    for vm in &vms {
        sb.write_binding(&vm.tap, &bind(vm));
    }
    sb.start_daemon(conf);
    for vm in &vms {
        sb.wait_log(
            0,
            &format!("binding active tap={}", vm.tap),
            BINDING_TIMEOUT,
        );
    }
    Some((sb, vms))
}

/// A routed /32 VM (198.51.100.7/32) whose gateway, 192.0.2.1, is off its subnet, with a
/// ROUTES entry through it.
fn routed_32(vm: &Vm) -> Binding {
    Binding {
        ip: "198.51.100.7".into(),
        subnet: "198.51.100.7/32".into(),
        gateway: GATEWAY.into(),
        extra: vec!["ROUTES=203.0.113.0/25 via 192.0.2.1".into()],
        ..Binding::for_vm(vm)
    }
}

fn check(sb: &Sandbox, lease: &ScriptCall, key: &str, want: Option<&str>) {
    if lease.get(key) != want {
        sb.fail(&format!(
            "{key}: dhclient got {:?}, expected {want:?}; all it got:\n{}",
            lease.get(key),
            lease.dump()
        ));
    }
}

/// A dhclient run with the default options (a fresh lease file, 20 s timeout).
fn sb_run(sb: &mut Sandbox, vm: &Vm) -> DhId {
    sb.dhclient(vm, &DhcpOpts::default())
}

fn addresses(sb: &Sandbox, vm: &Vm) -> String {
    sb.vm_must(vm, "ip -4 -o addr show dev eth0")
}

// ---------------------------------------------------------------------------------------------
// Harness self-tests: they need no daemon.

/// dhclient with nobody answering (the queue has no listener and the host drops the
/// DISCOVERs) gives up cleanly, and the teardown leaves no namespace, directory or process.
#[test]
fn harness_dhclient_times_out_and_teardown_leaves_nothing() {
    let Some(mut sb) = Sandbox::start_test(
        "harness_dhclient_times_out_and_teardown_leaves_nothing",
        Needs::base(),
    ) else {
        return;
    };
    let vm = sb.add_vm("tap0");
    // The shipped rules have --queue-bypass: with no listener the DISCOVERs continue past
    // the queue as if it were not there (e2e_faults: daemon_down_*). This host drops them
    // in mangle INPUT, before the harness's counting rule (filter INPUT): nothing answers.
    sb.host_must("iptables -w -t mangle -A INPUT -i tap0 -p udp --dport 67 -j DROP");
    let started = Instant::now();
    let run = sb.dhclient(
        &vm,
        &DhcpOpts {
            timeout_s: 3,
            ..DhcpOpts::default()
        },
    );
    sb.expect_no_lease(run, 3);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "dhclient took {:?}",
        started.elapsed()
    );
    let out = sb.dhclient_output(run);
    assert!(
        out.contains("DHCPDISCOVER on eth0"),
        "dhclient sent no DISCOVER:\n{out}"
    );
    let calls: Vec<String> = sb
        .script_calls(run)
        .iter()
        .map(|c| c.reason().to_string())
        .collect();
    assert_eq!(
        calls.first().map(String::as_str),
        Some("PREINIT"),
        "script calls {calls:?}"
    );
    assert_eq!(
        sb.input_count(&vm.tap),
        0,
        "no listener on the queue and the host drops what passes it"
    );

    let names = [sb.host.clone(), vm.netns.clone()];
    let dir = sb.dir.clone();
    drop(sb);
    let left = netns_list();
    for n in &names {
        assert!(!left.contains(n), "namespace {n} left behind: {left:?}");
    }
    assert!(!dir.exists(), "{} left behind", dir.display());
}

/// Namespaces and temp dirs named after a dead pid (an earlier run that was killed) are
/// removed; those of live pids are left alone.
#[test]
fn harness_cleans_leftovers_of_dead_runs() {
    let Some(live) = Sandbox::start_test("harness_cleans_leftovers_of_dead_runs", Needs::base())
    else {
        return;
    };
    // pid_max is at most 2^22: this pid cannot be alive.
    let dead = 4_194_304 + std::process::id();
    let ns = format!("{NETNS_PREFIX}{dead}-0-h");
    let dir = std::path::PathBuf::from(format!("/tmp/{TMP_PREFIX}{dead}-0"));
    must(&format!("ip netns add {ns}"));
    std::fs::create_dir_all(dir.join("state")).unwrap();
    // A dhclient that run left behind in its namespace.
    must(&format!("ip -n {ns} link add d0 type veth peer name d1"));
    must(&format!("ip -n {ns} link set d0 up"));
    let mut cmd = std::process::Command::new(tool("ip"));
    cmd.args([
        "netns",
        "exec",
        &ns,
        &tool("dhclient"),
        "-d",
        "-cf",
        "/dev/null",
    ]);
    cmd.args(["-sf", "/bin/true", "-pf", "/dev/null"]);
    cmd.arg("-lf").arg(dir.join("leases")).arg("d0");
    let mut orphan = Proc::spawn("leftover dhclient", cmd);
    let comm = format!("/proc/{}/comm", orphan.pid());
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::fs::read_to_string(&comm).unwrap_or_default().trim() != "dhclient" {
        assert!(
            Instant::now() < deadline,
            "dhclient did not start: {}",
            orphan.log.text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    clean_leftovers();
    assert!(
        orphan.wait_exit(Duration::from_secs(5)).is_some(),
        "the leftover dhclient still runs"
    );
    let left = netns_list();
    assert!(!left.contains(&ns), "leftover {ns} not removed: {left:?}");
    assert!(!dir.exists(), "leftover {} not removed", dir.display());
    assert!(
        left.contains(&live.host),
        "a live run's namespace was removed"
    );
    assert!(live.dir.exists(), "a live run's dir was removed");
}

/// The dhclient side of the harness against a known-good server: dnsmasq on an interface the
/// NFQUEUE rules do not match (`veth9`, not `tap+`). Checks what the tests below rely on: the
/// script's records, the address and MTU applied to eth0, INIT-REBOOT with a reused lease file,
/// and the NAK -> DISCOVER sequence as dhclient logs it.
#[test]
fn harness_dhclient_against_dnsmasq() {
    let Some(mut sb) = Sandbox::start_test(
        "harness_dhclient_against_dnsmasq",
        Needs::tools(&["dnsmasq"]),
    ) else {
        return;
    };
    let vm = sb.add_vm("veth9");
    sb.host_must("ip addr add 198.51.100.1/24 dev veth9");
    sb.start_dnsmasq("veth9", "198.51.100.50", &["--dhcp-option=option:mtu,1400"]);

    let first = sb.dhclient(&vm, &DhcpOpts::default());
    let lease = sb.expect_lease(first);
    check(&sb, &lease, "reason", Some("BOUND"));
    check(&sb, &lease, "new_ip_address", Some("198.51.100.50"));
    check(
        &sb,
        &lease,
        "new_dhcp_server_identifier",
        Some("198.51.100.1"),
    );
    check(&sb, &lease, "new_interface_mtu", Some("1400"));
    check(&sb, &lease, "applied", Some("0"));
    let addrs = addresses(&sb, &vm);
    assert!(addrs.contains("198.51.100.50/24"), "{addrs}");
    let link = sb.vm_must(&vm, "ip -o link show dev eth0");
    assert!(link.contains(" mtu 1400 "), "{link}");
    wait_lease_written(&sb, first, "198.51.100.50");
    sb.stop_dhclient(first);

    let reuse = DhcpOpts {
        lease_file: LeaseFile::ReuseFrom(first),
        ..DhcpOpts::default()
    };
    let second = sb.dhclient(&vm, &reuse);
    let lease = sb.expect_lease(second);
    check(&sb, &lease, "reason", Some("REBOOT"));
    check(&sb, &lease, "new_ip_address", Some("198.51.100.50"));
    assert_request_without_discover(&sb, second, "198.51.100.50");
    sb.stop_dhclient(second);

    let wrong = lease_file_asking_for("198.51.100.200");
    let third = sb.dhclient(
        &vm,
        &DhcpOpts {
            lease_file: LeaseFile::Contents(wrong),
            ..DhcpOpts::default()
        },
    );
    let lease = sb.expect_lease(third);
    check(&sb, &lease, "reason", Some("BOUND"));
    check(&sb, &lease, "new_ip_address", Some("198.51.100.50"));
    assert_nak_then_discover(&sb, third, "198.51.100.200", "198.51.100.1");
    assert!(
        sb.input_count("veth9") > 0,
        "dnsmasq's packets pass filter/INPUT"
    );
}

/// dhclient writes its lease file around the BOUND call of its script: wait for it.
fn wait_lease_written(sb: &Sandbox, run: DhId, ip: &str) {
    let want = format!("fixed-address {ip};");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !sb.lease_file_text(run).contains(&want) {
        if Instant::now() >= deadline {
            sb.fail(&format!(
                "dhclient wrote no lease for {ip} in its lease file"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// INIT-REBOOT: the run asked for `ip` straight away, without DISCOVER.
fn assert_request_without_discover(sb: &Sandbox, run: DhId, ip: &str) {
    let out = sb.dhclient_output(run);
    if !out.contains(&format!("DHCPREQUEST for {ip}")) || out.contains("DHCPDISCOVER") {
        sb.fail(&format!(
            "dhclient {run:?} should REQUEST {ip} straight away (INIT-REBOOT), without DISCOVER"
        ));
    }
}

/// dhclient asked for `wrong`, got a NAK from `server`, then started over with DISCOVER.
fn assert_nak_then_discover(sb: &Sandbox, run: DhId, wrong: &str, server: &str) {
    let out = sb.dhclient_output(run);
    let asked = out.find(&format!("DHCPREQUEST for {wrong}"));
    let nak = out.find(&format!("DHCPNAK from {server}"));
    let discover = out.find("DHCPDISCOVER");
    match (asked, nak, discover) {
        (Some(a), Some(n), Some(d)) if a < n && n < d => {}
        _ => sb.fail(&format!(
            "dhclient {run:?}: expected REQUEST for {wrong}, a NAK from {server}, then DISCOVER"
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Routed lease with every option.

#[test]
fn routed_lease_carries_every_option() {
    let Some((mut sb, vms)) = routed(
        "routed_lease_carries_every_option",
        1,
        &Conf::default(),
        Binding::for_vm,
    ) else {
        return;
    };
    let vm = &vms[0];
    let run = sb.dhclient(vm, &DhcpOpts::default());
    let lease = sb.expect_lease(run);
    check(&sb, &lease, "reason", Some("BOUND"));
    check(&sb, &lease, "new_ip_address", Some(VM_IP));
    check(&sb, &lease, "new_subnet_mask", Some("255.255.255.0"));
    check(&sb, &lease, "new_broadcast_address", Some("192.0.2.255"));
    check(&sb, &lease, "new_routers", Some(GATEWAY));
    check(
        &sb,
        &lease,
        "new_domain_name_servers",
        Some("192.0.2.2 192.0.2.3"),
    );
    check(&sb, &lease, "new_host_name", Some(HOSTNAME));
    check(&sb, &lease, "new_domain_name", Some(DOMAIN));
    check(&sb, &lease, "new_dhcp_lease_time", Some("604800"));
    check(&sb, &lease, "new_dhcp_renewal_time", Some("3600"));
    check(&sb, &lease, "new_dhcp_rebinding_time", Some("529200"));
    check(&sb, &lease, "new_dhcp_server_identifier", Some(SERVER_IP));
    check(&sb, &lease, "new_interface_mtu", None);
    check(&sb, &lease, "applied", Some("0"));
    let addrs = addresses(&sb, vm);
    if !addrs.contains("192.0.2.100/24") {
        sb.fail(&format!(
            "eth0 of the VM does not hold 192.0.2.100/24:\n{addrs}"
        ));
    }
    let out = sb.dhclient_output(run);
    if !out.contains("DHCPOFFER of 192.0.2.100 from 192.0.2.1")
        || !out.contains("DHCPACK of 192.0.2.100 from 192.0.2.1")
    {
        sb.fail("dhclient did not log the OFFER and the ACK from 192.0.2.1");
    }
    // A bound tap's DHCP packets are answered and dropped, never passed on.
    assert_eq!(sb.input_count(&vm.tap), 0, "{}", sb.diagnostics());
    sb.stop_dhclient(run);
    let status = sb.stop_daemon();
    if status.code() != Some(0) {
        sb.fail(&format!("SIGTERM: the daemon exited {status}, expected 0"));
    }
}

// ---------------------------------------------------------------------------------------------
// 2. The same address again: INIT-REBOOT with the lease file, and a unicast RENEW.

#[test]
fn reboot_with_lease_file_gets_ack_for_same_address() {
    let Some((mut sb, vms)) = routed(
        "reboot_with_lease_file_gets_ack_for_same_address",
        1,
        &Conf::default(),
        Binding::for_vm,
    ) else {
        return;
    };
    let vm = &vms[0];
    let first = sb.dhclient(vm, &DhcpOpts::default());
    let lease = sb.expect_lease(first);
    check(&sb, &lease, "new_ip_address", Some(VM_IP));
    wait_lease_written(&sb, first, VM_IP);
    sb.stop_dhclient(first);

    let second = sb.dhclient(
        vm,
        &DhcpOpts {
            lease_file: LeaseFile::ReuseFrom(first),
            ..DhcpOpts::default()
        },
    );
    let lease = sb.expect_lease(second);
    check(&sb, &lease, "reason", Some("REBOOT"));
    check(&sb, &lease, "new_ip_address", Some(VM_IP));
    check(&sb, &lease, "new_dhcp_server_identifier", Some(SERVER_IP));
    check(&sb, &lease, "new_dhcp_lease_time", Some("604800"));
    assert_request_without_discover(&sb, second, VM_IP);
}

/// T1 = 2 s: dhclient renews by unicast to the server identifier (the host's tap holds
/// 192.0.2.1, so the VM can ARP for it); the daemon must ACK the same address.
#[test]
fn renew_by_unicast_gets_ack() {
    let conf = Conf {
        lease_renewal: 2,
        ..Conf::default()
    };
    let Some((mut sb, vms)) = routed("renew_by_unicast_gets_ack", 1, &conf, Binding::for_vm) else {
        return;
    };
    let vm = &vms[0];
    sb.host_must(&format!("ip addr add 192.0.2.1/24 dev {}", vm.tap));
    let run = sb.dhclient(vm, &DhcpOpts::default());
    let (bound, i) = sb.wait_script(run, &["BOUND"], 0, LEASE_TIMEOUT);
    check(&sb, &bound, "new_dhcp_renewal_time", Some("2"));
    let (renew, _) = sb.wait_script(run, &["RENEW"], i + 1, Duration::from_secs(30));
    check(&sb, &renew, "new_ip_address", Some(VM_IP));
    check(&sb, &renew, "new_dhcp_server_identifier", Some(SERVER_IP));
    check(&sb, &renew, "new_routers", Some(GATEWAY));
}

// ---------------------------------------------------------------------------------------------
// 3. NAK for a wrong address.

/// The lease file makes dhclient start in INIT-REBOOT asking for 192.0.2.200: the daemon NAKs
/// it (dhclient logs `DHCPNAK from 192.0.2.1`, the client's own view of the reply), dhclient
/// restarts with DISCOVER and binds 192.0.2.100.
#[test]
fn wrong_requested_address_gets_nak_then_lease() {
    let Some((mut sb, vms)) = routed(
        "wrong_requested_address_gets_nak_then_lease",
        1,
        &Conf::default(),
        Binding::for_vm,
    ) else {
        return;
    };
    let vm = &vms[0];
    let opts = DhcpOpts {
        lease_file: LeaseFile::Contents(lease_file_asking_for("192.0.2.200")),
        ..DhcpOpts::default()
    };
    let run = sb.dhclient(vm, &opts);
    let lease = sb.expect_lease(run);
    check(&sb, &lease, "reason", Some("BOUND"));
    check(&sb, &lease, "new_ip_address", Some(VM_IP));
    assert_nak_then_discover(&sb, run, "192.0.2.200", SERVER_IP);
}

// ---------------------------------------------------------------------------------------------
// 4. PRIVATE, 5. MTU.

#[test]
fn private_binding_has_no_router() {
    let bind = |vm: &Vm| Binding {
        private: true,
        ..Binding::for_vm(vm)
    };
    let Some((mut sb, vms)) = routed("private_binding_has_no_router", 1, &Conf::default(), bind)
    else {
        return;
    };
    let run = sb_run(&mut sb, &vms[0]);
    let lease = sb.expect_lease(run);
    check(&sb, &lease, "new_ip_address", Some(VM_IP));
    check(&sb, &lease, "new_routers", None);
    check(&sb, &lease, "new_subnet_mask", Some("255.255.255.0"));
    check(
        &sb,
        &lease,
        "new_domain_name_servers",
        Some("192.0.2.2 192.0.2.3"),
    );
}

// ---------------------------------------------------------------------------------------------
// Issue 13: routes (121), search list (119), per-VM overrides, the client identifier (61).

/// dhclient's script installed `want` in the VM's routing table (`ip -4 route`).
fn expect_routes(sb: &Sandbox, vm: &Vm, want: &[&str]) {
    let table = sb.vm_must(vm, "ip -4 route show dev eth0");
    for route in want {
        if !table.lines().any(|l| l.trim() == *route) {
            sb.fail(&format!(
                "the VM has no route {route:?}; its table:\n{table}"
            ));
        }
    }
}

/// A routed /32 VM whose gateway is off its subnet gets option 121 with the on-link host
/// route to the gateway and the default route through it, plus ROUTES: installed by the
/// client, traffic off the link goes via the gateway.
#[test]
fn routed_32_vm_gets_classless_routes_and_a_working_default_route() {
    let Some((mut sb, vms)) = routed(
        "routed_32_vm_gets_classless_routes_and_a_working_default_route",
        1,
        &Conf::default(),
        routed_32,
    ) else {
        return;
    };
    let vm = &vms[0];
    let opts = DhcpOpts {
        extra_conf: DHCLIENT_ASK_ROUTES.into(),
        ..DhcpOpts::default()
    };
    let run = sb.dhclient(vm, &opts);
    let lease = sb.expect_lease(run);
    check(&sb, &lease, "new_ip_address", Some("198.51.100.7"));
    check(&sb, &lease, "new_subnet_mask", Some("255.255.255.255"));
    check(&sb, &lease, "applied", Some("0"));
    check(&sb, &lease, "routes_applied", Some("0"));
    expect_routes(
        &sb,
        vm,
        &[
            "192.0.2.1 scope link",
            "default via 192.0.2.1",
            "203.0.113.0/25 via 192.0.2.1",
        ],
    );
    let got = sb.vm_must(vm, "ip -4 route get 203.0.113.9");
    if !got.contains("via 192.0.2.1 dev eth0") {
        sb.fail(&format!("203.0.113.9 is not routed via the gateway: {got}"));
    }
}

/// NAMESERVERS, DOMAIN and DOMAIN_SEARCH of the binding win over the config and reach the
/// client's script; the client identifier it sends comes back (RFC 6842).
#[test]
fn per_vm_dns_options_and_client_identifier_reach_dhclient() {
    let bind = |vm: &Vm| Binding {
        extra: vec![
            "NAMESERVERS=198.51.100.53, 203.0.113.53".into(),
            "DOMAIN=vm.example.net".into(),
            "DOMAIN_SEARCH=eng.example.net, example.net".into(),
        ],
        ..Binding::for_vm(vm)
    };
    let Some((mut sb, vms)) = routed(
        "per_vm_dns_options_and_client_identifier_reach_dhclient",
        1,
        &Conf::default(),
        bind,
    ) else {
        return;
    };
    let opts = DhcpOpts {
        extra_conf: format!(
            "{DHCLIENT_ASK_ROUTES}send dhcp-client-identifier \"vm-7\";\n\
             also request dhcp-client-identifier;\n"
        ),
        ..DhcpOpts::default()
    };
    let run = sb.dhclient(&vms[0], &opts);
    let lease = sb.expect_lease(run);
    check(&sb, &lease, "new_ip_address", Some(VM_IP));
    check(
        &sb,
        &lease,
        "new_domain_name_servers",
        Some("198.51.100.53 203.0.113.53"),
    );
    check(&sb, &lease, "new_domain_name", Some("vm.example.net"));
    check(
        &sb,
        &lease,
        "new_domain_search",
        Some("eng.example.net. example.net."),
    );
    check(&sb, &lease, "new_dhcp_client_identifier", Some("vm-7"));
    // On-subnet gateway, no ROUTES: no option 121, the default route from option 3.
    check(&sb, &lease, "new_rfc3442_classless_static_routes", None);
    expect_routes(&sb, &vms[0], &["default via 192.0.2.1"]);
}

/// A bad ROUTES entry: the binding is served without ROUTES, and one warning names the file,
/// the line and the entry.
#[test]
fn bad_routes_entry_is_left_out_with_a_warning() {
    let bind = |vm: &Vm| Binding {
        extra: vec!["ROUTES=198.51.100.0/24 via 192.0.2.1, 203.0.113.1/24 via 192.0.2.1".into()],
        ..Binding::for_vm(vm)
    };
    let Some((mut sb, vms)) = routed(
        "bad_routes_entry_is_left_out_with_a_warning",
        1,
        &Conf::default(),
        bind,
    ) else {
        return;
    };
    sb.wait_log(0, "binding served with a warning", BINDING_TIMEOUT);
    let log = sb.daemon_log();
    let line = log
        .lines()
        .find(|l| l.contains("binding served with a warning"))
        .unwrap_or_default()
        .to_string();
    if !(line.contains("file=")
        && line.contains("/state/tap0 line 7: ROUTES")
        && line.contains("203.0.113.1/24 via 192.0.2.1")
        && line.contains("has host bits set"))
    {
        sb.fail(&format!(
            "the warning does not name file, line and entry: {line}"
        ));
    }
    let opts = DhcpOpts {
        extra_conf: DHCLIENT_ASK_ROUTES.into(),
        ..DhcpOpts::default()
    };
    let run = sb.dhclient(&vms[0], &opts);
    let lease = sb.expect_lease(run);
    check(&sb, &lease, "new_ip_address", Some(VM_IP));
    check(&sb, &lease, "new_rfc3442_classless_static_routes", None);
    check(&sb, &lease, "new_routers", Some(GATEWAY));
}

/// busybox udhcpc's script: the address, then the routes of option 121 (`$staticroutes`,
/// pairs of `net/len router`) else the router, as its sample script does; what it got is
/// appended to `udhcpc.log` beside it.
const UDHCPC_SCRIPT: &str = r#"#!/bin/sh
log="$(dirname "$0")/udhcpc.log"
case "$1" in
  bound|renew)
    ip -4 addr replace "$ip/$mask" dev "$interface"
    if [ -n "$staticroutes" ]; then
      set -- $staticroutes
      while [ $# -ge 2 ]; do
        if [ "$2" = 0.0.0.0 ]; then
          ip -4 route replace "$1" dev "$interface"
        else
          ip -4 route replace "$1" via "$2" dev "$interface"
        fi
        shift 2
      done
    elif [ -n "$router" ]; then
      ip -4 route replace default via "${router%% *}" dev "$interface"
    fi
    env | grep -E '^(ip|mask|router|staticroutes|dns|domain|search)=' | LC_ALL=C sort >> "$log"
    echo END >> "$log" ;;
esac
exit 0
"#;

/// busybox udhcpc on a routed /32 VM asks for option 121 and installs what it gets: the
/// on-link route to the off-subnet gateway, the default route through it, ROUTES.
#[test]
fn udhcpc_installs_classless_routes_on_a_routed_32() {
    let test = "udhcpc_installs_classless_routes_on_a_routed_32";
    let needs = Needs::tools(&["udhcpc"]);
    let Some((sb, vms)) = routed_with(test, needs, 1, &Conf::default(), routed_32) else {
        return;
    };
    let vm = vms[0].clone();
    let script = sb.dir.join("udhcpc.sh");
    std::fs::write(&script, UDHCPC_SCRIPT).expect("script");
    std::process::Command::new("chmod")
        .arg("755")
        .arg(&script)
        .status()
        .expect("chmod");
    sb.vm_must(
        &vm,
        &format!(
            "udhcpc -i eth0 -f -q -n -t 5 -T 1 -A 1 -O staticroutes -s {}",
            script.display()
        ),
    );
    let log = std::fs::read_to_string(sb.dir.join("udhcpc.log")).unwrap_or_default();
    for want in [
        "ip=198.51.100.7",
        "mask=32",
        "staticroutes=192.0.2.1/32 0.0.0.0 0.0.0.0/0 192.0.2.1 203.0.113.0/25 192.0.2.1",
    ] {
        if !log.lines().any(|l| l == want) {
            sb.fail(&format!(
                "udhcpc did not get {want:?}; its script saw:\n{log}"
            ));
        }
    }
    expect_routes(
        &sb,
        &vm,
        &[
            "192.0.2.1 scope link",
            "default via 192.0.2.1",
            "203.0.113.0/25 via 192.0.2.1",
        ],
    );
}

/// dhcpcd's configuration: IPv4 only, no ARP probe of the address (it would only wait),
/// no hooks, and the routes it installs kept when it exits.
const DHCPCD_CONF: &str = "ipv4only\nnoarp\nnoipv4ll\npersistent\nnohook resolv.conf\n\
    option classless_static_routes, domain_name_servers, domain_search\n";

/// dhcpcd installs the option 121 routes itself (no script involved): on a routed /32 the
/// gateway off the subnet ends up as the default route.
#[test]
fn dhcpcd_installs_classless_routes_on_a_routed_32() {
    let test = "dhcpcd_installs_classless_routes_on_a_routed_32";
    let needs = Needs::tools(&["dhcpcd"]);
    let Some((sb, vms)) = routed_with(test, needs, 1, &Conf::default(), routed_32) else {
        return;
    };
    let vm = vms[0].clone();
    let conf = sb.dir.join("dhcpcd.conf");
    std::fs::write(&conf, DHCPCD_CONF).expect("dhcpcd.conf");
    sb.vm_must(
        &vm,
        &format!(
            "dhcpcd -f {} -c /bin/true -4 -1 -B -t 15 eth0",
            conf.display()
        ),
    );
    let addrs = addresses(&sb, &vm);
    if !addrs.contains("198.51.100.7/32") {
        sb.fail(&format!(
            "dhcpcd did not configure 198.51.100.7/32:\n{addrs}"
        ));
    }
    let table = sb.vm_must(&vm, "ip -4 route show dev eth0");
    for want in [
        "default via 192.0.2.1",
        "203.0.113.0/25 via 192.0.2.1",
        "192.0.2.1 ",
    ] {
        if !table.lines().any(|l| l.starts_with(want)) {
            sb.fail(&format!(
                "dhcpcd installed no {want:?}; the table:\n{table}"
            ));
        }
    }
    let got = sb.vm_must(&vm, "ip -4 route get 203.0.113.9");
    if !got.contains("via 192.0.2.1 dev eth0") {
        sb.fail(&format!("203.0.113.9 is not routed via the gateway: {got}"));
    }
}

#[test]
fn mtu_binding_sets_interface_mtu() {
    let bind = |vm: &Vm| Binding {
        mtu: Some(1400),
        ..Binding::for_vm(vm)
    };
    let Some((mut sb, vms)) = routed("mtu_binding_sets_interface_mtu", 1, &Conf::default(), bind)
    else {
        return;
    };
    let vm = &vms[0];
    let run = sb_run(&mut sb, vm);
    let lease = sb.expect_lease(run);
    check(&sb, &lease, "new_ip_address", Some(VM_IP));
    check(&sb, &lease, "new_interface_mtu", Some("1400"));
    check(&sb, &lease, "new_routers", Some(GATEWAY));
    let link = sb.vm_must(vm, "ip -o link show dev eth0");
    if !link.contains(" mtu 1400 ") {
        sb.fail(&format!(
            "the script applied the MTU, but eth0 says:\n{link}"
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Unbound interface untouched.

/// tap1 has no binding file: its DHCP packets must continue through the stack (ACCEPT). Proof
/// twice over: the filter/INPUT counter for udp 67 on tap1 rises, and dnsmasq listening on
/// tap1 answers the VM with its own address and server identifier. tap0, bound, is answered
/// by the daemon in the same namespace at the same time.
#[test]
fn unbound_tap_packets_continue_untouched() {
    let Some(mut sb) = Sandbox::start_test(
        "unbound_tap_packets_continue_untouched",
        Needs::tools(&["dnsmasq"]),
    ) else {
        return;
    };
    let bound = sb.add_vm("tap0");
    let unbound = sb.add_vm("tap1");
    sb.write_binding(&bound.tap, &Binding::for_vm(&bound));
    sb.host_must("ip addr add 198.51.100.1/24 dev tap1");
    sb.start_daemon(&Conf::default());
    sb.wait_log(0, "binding active tap=tap0", BINDING_TIMEOUT);
    sb.start_dnsmasq("tap1", "198.51.100.50", &[]);

    let run1 = sb.dhclient(&unbound, &DhcpOpts::default());
    let run0 = sb.dhclient(&bound, &DhcpOpts::default());
    let lease1 = sb.expect_lease(run1);
    check(&sb, &lease1, "new_ip_address", Some("198.51.100.50"));
    check(
        &sb,
        &lease1,
        "new_dhcp_server_identifier",
        Some("198.51.100.1"),
    );
    let lease0 = sb.expect_lease(run0);
    check(&sb, &lease0, "new_ip_address", Some(VM_IP));
    check(&sb, &lease0, "new_dhcp_server_identifier", Some(SERVER_IP));
    if sb.input_count("tap1") == 0 {
        sb.fail("no DHCP packet of the unbound tap1 reached filter/INPUT");
    }
    if sb.input_count("tap0") != 0 {
        sb.fail("DHCP packets of the bound tap0 reached filter/INPUT: they must be dropped");
    }
}

// ---------------------------------------------------------------------------------------------
// 7. Spoofed MAC.

#[test]
fn spoofed_mac_gets_no_lease_unless_macspoof() {
    let other = |vm: &Vm| Binding {
        mac: "02:00:5e:10:99:99".into(),
        ..Binding::for_vm(vm)
    };
    let Some((mut sb, vms)) = routed(
        "spoofed_mac_gets_no_lease_unless_macspoof",
        1,
        &Conf::default(),
        other,
    ) else {
        return;
    };
    let vm = &vms[0];
    let run = sb.dhclient(vm, &DhcpOpts::short());
    sb.expect_no_lease(run, 5);
    let out = sb.dhclient_output(run);
    if out.contains("DHCPOFFER of") {
        sb.fail("dhclient saw an OFFER for a spoofed MAC");
    }
    // Bound tap: the snooping packets are dropped, not passed on.
    if sb.input_count(&vm.tap) != 0 {
        sb.fail("spoofed DHCP packets of a bound tap reached filter/INPUT");
    }

    let mark = sb.log_mark();
    sb.write_binding(
        &vm.tap,
        &Binding {
            macspoof: true,
            ..other(vm)
        },
    );
    sb.wait_log(mark, "binding active tap=tap0", BINDING_TIMEOUT);
    let run = sb_run(&mut sb, vm);
    let lease = sb.expect_lease(run);
    check(&sb, &lease, "new_ip_address", Some(VM_IP));
}

/// MAC addresses compare case-insensitively (DESIGN §3): an upper-case MAC in the file works.
#[test]
fn binding_mac_is_case_insensitive() {
    let upper = |vm: &Vm| Binding {
        mac: vm.mac.to_uppercase(),
        ..Binding::for_vm(vm)
    };
    let Some((mut sb, vms)) = routed(
        "binding_mac_is_case_insensitive",
        1,
        &Conf::default(),
        upper,
    ) else {
        return;
    };
    let run = sb_run(&mut sb, &vms[0]);
    let lease = sb.expect_lease(run);
    check(&sb, &lease, "new_ip_address", Some(VM_IP));
}

// ---------------------------------------------------------------------------------------------
// 8. Binding lifecycle while the daemon runs.

/// Waits for tap0's binding to be (re)published after `mark`, then checks a fresh lease
/// carries `ip`: the daemon serves the new version of the file.
fn expect_active_with_ip(sb: &mut Sandbox, vm: &Vm, mark: usize, ip: &str) {
    sb.wait_log(mark, "binding active tap=tap0", BINDING_TIMEOUT);
    let run = sb_run(sb, vm);
    let lease = sb.expect_lease(run);
    check(sb, &lease, "new_ip_address", Some(ip));
}

#[test]
fn binding_lifecycle_while_running() {
    let Some(mut sb) = Sandbox::start_test("binding_lifecycle_while_running", Needs::base()) else {
        return;
    };
    let vm = sb.add_vm("tap0");
    sb.start_daemon(&Conf::default());

    // Added after start-up (written in place: CLOSE_WRITE).
    let mark = sb.log_mark();
    sb.write_binding("tap0", &Binding::for_vm(&vm));
    expect_active_with_ip(&mut sb, &vm, mark, "192.0.2.100");

    // Changed: a new IP.
    let mark = sb.log_mark();
    sb.write_binding(
        "tap0",
        &Binding {
            ip: "192.0.2.101".into(),
            ..Binding::for_vm(&vm)
        },
    );
    expect_active_with_ip(&mut sb, &vm, mark, "192.0.2.101");

    // Renamed into place: `.tmp-tap0` then mv (MOVED_TO); the temp name must be ignored.
    let mark = sb.log_mark();
    sb.write_binding_renamed(
        "tap0",
        &Binding {
            ip: "192.0.2.102".into(),
            ..Binding::for_vm(&vm)
        },
    );
    expect_active_with_ip(&mut sb, &vm, mark, "192.0.2.102");
    sb.assert_no_log(0, "binding active tap=.tmp-tap0");

    // Deleted: no reply any more, and the packets continue (ACCEPT).
    let mark = sb.log_mark();
    sb.remove_binding("tap0");
    sb.wait_log(mark, "binding removed tap=tap0", BINDING_TIMEOUT);
    let before = sb.input_count("tap0");
    let run = sb.dhclient(&vm, &DhcpOpts::short());
    sb.expect_no_lease(run, 5);
    if sb.input_count("tap0") <= before {
        sb.fail("after its binding was removed, tap0's DHCP packets did not reach filter/INPUT (not ACCEPTed)");
    }
}

// ---------------------------------------------------------------------------------------------
// 9. File written before its tap exists; tap re-created.

#[test]
fn binding_before_tap_exists_and_tap_recreated() {
    let Some(mut sb) =
        Sandbox::start_test("binding_before_tap_exists_and_tap_recreated", Needs::base())
    else {
        return;
    };
    let vm = sb.add_vm_unlinked("tap0");
    sb.start_daemon(&Conf::default());
    let mark = sb.log_mark();
    sb.write_binding("tap0", &Binding::for_vm(&vm));
    sb.wait_log(mark, "binding inactive tap=tap0", BINDING_TIMEOUT);

    // The tap appears: active within a second, and it works.
    let mark = sb.log_mark();
    let created = Instant::now();
    sb.link(&vm);
    sb.wait_log(mark, "binding active tap=tap0", Duration::from_secs(1));
    eprintln!(
        "binding active {:?} after the tap was created",
        created.elapsed()
    );
    let first = sb_run(&mut sb, &vm);
    let lease = sb.expect_lease(first);
    check(&sb, &lease, "new_ip_address", Some(VM_IP));
    sb.stop_dhclient(first);

    // Deleted and re-created under the same name (a new ifindex); the file is untouched.
    let mark = sb.log_mark();
    sb.unlink(&vm);
    sb.link(&vm);
    sb.wait_log(mark, "binding active tap=tap0", Duration::from_secs(2));
    let second = sb_run(&mut sb, &vm);
    let lease = sb.expect_lease(second);
    check(&sb, &lease, "new_ip_address", Some(VM_IP));
}

// ---------------------------------------------------------------------------------------------
// 10. Bridged.

/// A VM behind br0 (tap0 its port, INDEV=br0) with `edit` applied to its binding, the
/// daemon started with `conf` and the binding active.
fn bridged(test: &str, conf: &Conf, edit: impl Fn(Binding) -> Binding) -> Option<(Sandbox, Vm)> {
    let mut sb = Sandbox::start_test(test, Needs::base())?;
    let vm = sb.add_vm("tap0");
    sb.add_bridge("br0");
    sb.enslave("tap0", "br0");
    let binding = Binding {
        indev: "br0".into(),
        ..Binding::for_vm(&vm)
    };
    sb.write_binding("tap0", &edit(binding));
    sb.start_daemon(conf);
    sb.wait_log(0, "binding active tap=tap0", BINDING_TIMEOUT);
    Some((sb, vm))
}

/// tap0 is a port of br0; the physdev rule queues the packet with indev = br0 and physindev
/// = tap0; the binding file is named after the tap, INDEV=br0; the reply goes out on tap0.
#[test]
fn bridged_lease() {
    let Some((mut sb, vm)) = bridged("bridged_lease", &Conf::default(), |b| b) else {
        return;
    };
    let run = sb_run(&mut sb, &vm);
    let lease = sb.expect_lease(run);
    check(&sb, &lease, "new_ip_address", Some(VM_IP));
    check(&sb, &lease, "new_routers", Some(GATEWAY));
    check(&sb, &lease, "new_dhcp_server_identifier", Some(SERVER_IP));
    check(
        &sb,
        &lease,
        "new_domain_name_servers",
        Some("192.0.2.2 192.0.2.3"),
    );
}

/// Bridged: ROUTES and the config's `domain_search` reach a VM behind a bridge, and dhclient
/// installs the routes (the default route with them, since 121 replaces option 3).
#[test]
fn bridged_routes_and_search_list() {
    let conf = Conf {
        dhcp_extra: vec!["domain_search = eng.example.com, example.com".into()],
        ..Conf::default()
    };
    let routes = |b| Binding {
        extra: vec!["ROUTES=198.51.100.0/24 via 192.0.2.254".into()],
        ..b
    };
    let Some((mut sb, vm)) = bridged("bridged_routes_and_search_list", &conf, routes) else {
        return;
    };
    let opts = DhcpOpts {
        extra_conf: DHCLIENT_ASK_ROUTES.into(),
        ..DhcpOpts::default()
    };
    let run = sb.dhclient(&vm, &opts);
    let lease = sb.expect_lease(run);
    check(&sb, &lease, "new_ip_address", Some(VM_IP));
    check(
        &sb,
        &lease,
        "new_domain_search",
        Some("eng.example.com. example.com."),
    );
    check(&sb, &lease, "routes_applied", Some("0"));
    expect_routes(
        &sb,
        &vm,
        &["default via 192.0.2.1", "198.51.100.0/24 via 192.0.2.254"],
    );
}

// ---------------------------------------------------------------------------------------------
// A binding file the daemon cannot use.

/// A file with a bad IP is reported (`binding refused file=<path>`), the daemon keeps running
/// and treats the tap as unbound (its packets continue); fixing the file makes it work.
#[test]
fn bad_binding_file_is_refused_and_tap_stays_unbound() {
    let Some(mut sb) = Sandbox::start_test(
        "bad_binding_file_is_refused_and_tap_stays_unbound",
        Needs::base(),
    ) else {
        return;
    };
    let vm = sb.add_vm("tap0");
    sb.start_daemon(&Conf::default());
    let mark = sb.log_mark();
    sb.write_binding(
        "tap0",
        &Binding {
            ip: "192.0.2.300".into(),
            ..Binding::for_vm(&vm)
        },
    );
    let path = sb.binding_path("tap0");
    sb.wait_log(
        mark,
        &format!("binding refused file={}", path.display()),
        BINDING_TIMEOUT,
    );
    let run = sb.dhclient(&vm, &DhcpOpts::short());
    sb.expect_no_lease(run, 5);
    if sb.input_count("tap0") == 0 {
        sb.fail(
            "the tap of a refused binding must be unbound: its packets did not reach filter/INPUT",
        );
    }

    let mark = sb.log_mark();
    sb.write_binding("tap0", &Binding::for_vm(&vm));
    sb.wait_log(mark, "binding active tap=tap0", BINDING_TIMEOUT);
    let run = sb.dhclient(&vm, &DhcpOpts::default());
    let lease = sb.expect_lease(run);
    check(&sb, &lease, "new_ip_address", Some(VM_IP));
}

/// A binding whose INDEV does not exist is bound but inactive (issue 10: no handler ever
/// sees an entry without a host MAC): its DISCOVERs are dropped, not passed on to another
/// server, and counted as `drop_no_host_mac`; once INDEV appears the same file is served.
#[test]
fn binding_without_indev_is_dropped_until_indev_appears() {
    let test = "binding_without_indev_is_dropped_until_indev_appears";
    let Some(mut sb) = Sandbox::start_test(test, Needs::base()) else {
        return;
    };
    let vm = sb.add_vm("tap0");
    let binding = Binding {
        indev: "nfdbr7".into(),
        ..Binding::for_vm(&vm)
    };
    sb.write_binding("tap0", &binding);
    sb.start_daemon(&Conf::default());
    sb.wait_log(
        0,
        "binding tap=tap0 indev=nfdbr7 reason=\"INDEV has no MAC or does not exist;",
        BINDING_TIMEOUT,
    );
    let run = sb.dhclient(
        &vm,
        &DhcpOpts {
            timeout_s: 3,
            ..DhcpOpts::default()
        },
    );
    sb.expect_no_lease(run, 3);
    let c = sb.counters();
    let get = |k: &str| c.get(k).copied().unwrap_or(0);
    if get("drop_no_host_mac") == 0 || get("accepted_unbound") != 0 || get("dhcp4_offer") != 0 {
        sb.fail(&format!(
            "an inactive binding's DISCOVERs must be dropped as no_host_mac: {c:?}"
        ));
    }
    let mark = sb.log_mark();
    sb.add_bridge("nfdbr7");
    sb.wait_log(mark, "binding active tap=tap0", BINDING_TIMEOUT);
    let run = sb.dhclient(&vm, &DhcpOpts::default());
    let lease = sb.expect_lease(run);
    assert_eq!(lease.get("new_ip_address"), Some(VM_IP), "{}", lease.dump());
}

/// Issue 12: what the original served is served. A binding as gnt-networking writes it (in
/// place, after `rm -f`) for an instance made with `--no-name-check`, with a stray line that
/// is not KEY=VALUE (holding a forged log line) and an IP outside SUBNET: the VM gets its
/// lease; option 12 is left out, option 15 is the HOSTNAME's domain; each point is one
/// warning naming its line, and the stray text never reaches the log.
#[test]
fn bindings_the_original_served_are_served() {
    let test = "bindings_the_original_served_are_served";
    let Some(mut sb) = Sandbox::start_test(test, Needs::base()) else {
        return;
    };
    let vm = sb.add_vm("tap0");
    let text = format!(
        "INDEV=tap0\nIP={VM_IP}\nMAC={}\nHOSTNAME=my_vm5.example.org\nTAGS=\"\"\n\
         WARN forged line\nGATEWAY={GATEWAY}\nSUBNET=198.51.100.0/24\n",
        vm.mac
    );
    let path = sb.binding_path("tap0");
    let _ = std::fs::remove_file(&path);
    std::fs::write(&path, text).expect("write the binding in place");
    let conf = Conf {
        domain: None,
        ..Conf::default()
    };
    sb.start_daemon(&conf);
    sb.wait_log(0, "binding active tap=tap0", BINDING_TIMEOUT);
    let run = sb_run(&mut sb, &vm);
    let lease = sb.expect_lease(run);
    check(&sb, &lease, "new_ip_address", Some(VM_IP));
    check(&sb, &lease, "new_host_name", None);
    check(&sb, &lease, "new_domain_name", Some("example.org"));
    let log = sb.daemon_log();
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("binding served with a warning"))
        .collect();
    let want = [
        "line 4: HOSTNAME: \"my_vm5.example.org\" is not a valid host name",
        "line 6: the line is not a KEY=VALUE line; ignored",
        "line 2: IP: 192.0.2.100 is outside SUBNET 198.51.100.0/24 (line 8)",
    ];
    if warnings.len() != want.len() || !want.iter().all(|w| warnings.iter().any(|l| l.contains(w)))
    {
        sb.fail(&format!(
            "expected one warning each for {want:?}, got {warnings:?}"
        ));
    }
    if log.contains("forged") {
        sb.fail("the stray line's text reached the log");
    }
}

/// `[dhcp] ntp_servers` reaches dhclient as option 42; an IPV6ONLY binding's option 108
/// (RFC 8925) goes only to a client that asks for it: a dhclient that does not gets its
/// address (and no `new_v6_only_preferred`), one that does (ISC dhclient 4.4 implements
/// RFC 8925) is offered 0.0.0.0 with 108, calls its script with reason V6ONLY, and takes
/// no IPv4 address.
#[test]
fn ntp_servers_reach_dhclient_and_108_only_when_asked() {
    let conf = Conf {
        dhcp_extra: vec!["ntp_servers = 192.0.2.123, 198.51.100.123".into()],
        ..Conf::default()
    };
    let bind = |vm: &Vm| Binding {
        extra: vec!["IPV6ONLY=yes".into()],
        ..Binding::for_vm(vm)
    };
    let Some((mut sb, vms)) = routed(
        "ntp_servers_reach_dhclient_and_108_only_when_asked",
        2,
        &conf,
        bind,
    ) else {
        return;
    };
    const DECLARE_108: &str = "option v6-only-preferred code 108 = unsigned integer 32;\n";
    let opts = DhcpOpts {
        extra_conf: format!("{DECLARE_108}also request ntp-servers;\n"),
        ..DhcpOpts::default()
    };
    let run = sb.dhclient(&vms[0], &opts);
    let lease = sb.expect_lease(run);
    check(&sb, &lease, "new_ip_address", Some(VM_IP));
    check(
        &sb,
        &lease,
        "new_ntp_servers",
        Some("192.0.2.123 198.51.100.123"),
    );
    check(&sb, &lease, "new_v6_only_preferred", None);
    if sb.script_calls(run).iter().any(|c| c.reason() == "V6ONLY") {
        sb.fail("a dhclient that did not ask for option 108 went IPv6-only");
    }
    // The second VM asks for 108 as well.
    let opts = DhcpOpts {
        extra_conf: format!("{DECLARE_108}also request ntp-servers, v6-only-preferred;\n"),
        ..DhcpOpts::default()
    };
    let run = sb.dhclient(&vms[1], &opts);
    sb.wait_script(run, &["V6ONLY"], 0, LEASE_TIMEOUT);
    if let Some(c) = sb
        .script_calls(run)
        .iter()
        .find(|c| LEASE_REASONS.contains(&c.reason()))
    {
        sb.fail(&format!("an IPv6-only client got a lease:\n{}", c.dump()));
    }
    let addrs = sb.vm_must(&vms[1], "ip -4 addr show dev eth0");
    if addrs.contains("inet ") {
        sb.fail(&format!(
            "an IPv6-only client has an IPv4 address:\n{addrs}"
        ));
    }
}
