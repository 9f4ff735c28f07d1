//! End-to-end operations: the real daemon as an operator runs it. Privilege drop to `nobody`
//! (uid, groups and the capability sets of every thread read from /proc), SIGHUP (binding
//! rescan, live config reload, changes that need a restart, an invalid file), SIGUSR1 (the
//! binding table and the counters), SIGTERM (exit 0, pid file removed, queues released),
//! daemon mode without `-f` (readiness, pid file, second instance, start-up errors relayed,
//! the log file) and `--check-config`. Needs root, iproute2, iptables and isc-dhcp-client
//! (tests/run-all.sh installs them); without them a test says why and returns, except under
//! CI=true where that is a failure. The LSB init script has its own test
//! (tests/initscript.sh).
//!
//! What a VM got is read from the real dhclient's script variables, as in tests/e2e_dhcp4.rs.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// CAP_NET_ADMIN (12) | CAP_NET_RAW (13): all the daemon keeps after dropping root.
const NET_CAPS: u64 = (1 << 12) | (1 << 13);

/// nobody's uid on Debian.
const NOBODY_UID: u32 = 65534;

/// How long SIGTERM may take: "within a second or so".
const STOP_LIMIT: Duration = Duration::from_secs(2);

/// A sandbox with one VM (tap0 / eth0) and its binding, the daemon started with `conf` and
/// ready, the binding reported active; `None` when the test is skipped
/// ([`Sandbox::start_test`]).
fn one_vm(test: &str, conf: &Conf) -> Option<(Sandbox, Vm)> {
    let mut sb = Sandbox::start_test(test, Needs::base())?;
    let vm = sb.add_vm("tap0");
    sb.write_binding(&vm.tap, &Binding::for_vm(&vm));
    sb.start_daemon(conf);
    sb.wait_log(0, "binding active tap=tap0", BINDING_TIMEOUT);
    Some((sb, vm))
}

/// The harness's config, run as `nobody`, with the pid file in `<dir>/run/` (a directory the
/// daemon creates and hands to `nobody`, as /var/run/nfdhcpd is handed to it on a host).
fn nobody_conf(sb: &Sandbox) -> Conf {
    Conf {
        user: "nobody".into(),
        pidfile: Some(nobody_pidfile(sb)),
        ..Conf::default()
    }
}

fn nobody_pidfile(sb: &Sandbox) -> PathBuf {
    sb.dir.join("run").join("nfdhcpd.pid")
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

/// A fresh dhclient run that must bind 192.0.2.100; it is stopped once it has. What its
/// script got.
fn lease(sb: &mut Sandbox, vm: &Vm) -> ScriptCall {
    let run = sb.dhclient(vm, &DhcpOpts::default());
    let lease = sb.expect_lease(run);
    check(sb, &lease, "new_ip_address", Some(VM_IP));
    sb.stop_dhclient(run);
    lease
}

/// `/proc/.../status` as `key -> value` (value trimmed).
fn proc_status(path: &Path) -> BTreeMap<String, String> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

/// nobody's uid and gid from /etc/passwd.
fn nobody_ids() -> Option<(u32, u32)> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    let line = passwd.lines().find(|l| l.starts_with("nobody:"))?;
    let f: Vec<&str> = line.split(':').collect();
    Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?))
}

/// What is wrong with one thread's status for a daemon that dropped to `uid`/`gid` with
/// exactly CAP_NET_ADMIN and CAP_NET_RAW (empty when nothing).
fn privilege_problems(st: &BTreeMap<String, String>, uid: u32, gid: u32) -> Vec<String> {
    let mut bad = Vec::new();
    let get = |k: &str| st.get(k).map(String::as_str).unwrap_or("<missing>");
    for (key, want) in [("Uid", uid), ("Gid", gid)] {
        let ids: Vec<&str> = get(key).split_whitespace().collect();
        // real, effective, saved, filesystem
        if ids.len() != 4 || ids.iter().any(|i| *i != want.to_string()) {
            bad.push(format!("{key}: {:?}, expected {want} four times", get(key)));
        }
    }
    if !get("Groups").is_empty() {
        bad.push(format!(
            "Groups: {:?}, expected none (setgroups([]))",
            get("Groups")
        ));
    }
    for (key, want) in [
        ("CapEff", NET_CAPS),
        ("CapPrm", NET_CAPS),
        ("CapInh", 0),
        ("CapAmb", 0),
        ("CapBnd", NET_CAPS),
    ] {
        match u64::from_str_radix(get(key), 16) {
            Ok(v) if v == want => {}
            _ => bad.push(format!("{key}: {:?}, expected {want:#x}", get(key))),
        }
    }
    bad
}

/// `(queue number, port id)` of every queue bound in the host namespace.
fn bound_queues(sb: &Sandbox) -> Vec<(u16, String)> {
    sb.host_must("cat /proc/net/netfilter/nfnetlink_queue")
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            Some((w.first()?.parse().ok()?, w.get(1)?.to_string()))
        })
        .collect()
}

/// The daemon log lines at or after `from`.
fn log_since(sb: &Sandbox, from: usize) -> Vec<String> {
    sb.daemon_log()
        .lines()
        .skip(from)
        .map(str::to_string)
        .collect()
}

/// Sends SIGHUP and waits for the `reload done` line of that reload; the cursor before it.
fn sighup(sb: &mut Sandbox) -> usize {
    let mark = sb.log_mark();
    sb.signal_daemon("HUP");
    sb.wait_log(mark, "INFO reload done", BINDING_TIMEOUT);
    mark
}

/// SIGUSR1; the dump's lines (from `bindings active=` to `counters`).
fn dump(sb: &mut Sandbox) -> Vec<String> {
    let mark = sb.log_mark();
    sb.signal_daemon("USR1");
    let end = sb.wait_log(mark, "INFO counters", BINDING_TIMEOUT);
    let lines = log_since(sb, mark);
    let lines = &lines[..end - mark];
    let start = lines
        .iter()
        .rposition(|l| log_has(l, "INFO bindings"))
        .unwrap_or_else(|| sb.fail("the SIGUSR1 dump has no `bindings active=` line"));
    lines[start..].to_vec()
}

// ---------------------------------------------------------------------------------------------
// 1. Privilege drop.

/// Started as root with `user = nobody`: every thread of the daemon runs as nobody, without
/// supplementary groups, with exactly CAP_NET_ADMIN and CAP_NET_RAW permitted and effective
/// (and nothing inheritable, ambient, or in the bounding set beyond them), and it still
/// answers DHCP: the verdicts (NET_ADMIN) and the AF_PACKET replies (NET_RAW) work.
#[test]
fn runs_as_nobody_with_only_net_admin_and_net_raw() {
    let Some(mut sb) = Sandbox::start_test(
        "runs_as_nobody_with_only_net_admin_and_net_raw",
        Needs::base(),
    ) else {
        return;
    };
    let Some((uid, gid)) = nobody_ids() else {
        panic!("runs_as_nobody: no user nobody in /etc/passwd");
    };
    assert_eq!(uid, NOBODY_UID, "nobody's uid");
    let vm = sb.add_vm("tap0");
    sb.write_binding(&vm.tap, &Binding::for_vm(&vm));
    let conf = nobody_conf(&sb);
    let config = sb.write_config(&conf);
    // nobody reads the binding files (start-up, inotify, SIGHUP) and the config (SIGHUP).
    for (path, need) in [
        (Path::new("/tmp"), 0o005),
        (sb.dir.as_path(), 0o005),
        (sb.state_dir.as_path(), 0o005),
        (sb.binding_path("tap0").as_path(), 0o004),
        (config.as_path(), 0o004),
    ] {
        let mode = fs::metadata(path).expect("stat").permissions().mode();
        if mode & need != need {
            sb.fail(&format!(
                "{} is {:o}: nobody could not read it, the test would prove nothing",
                path.display(),
                mode & 0o7777
            ));
        }
    }
    sb.start_daemon(&conf);
    sb.wait_log(
        0,
        &format!("INFO running as user=nobody uid={uid} gid={gid} capabilities=CAP_NET_ADMIN,CAP_NET_RAW"),
        BINDING_TIMEOUT,
    );
    sb.wait_log(0, "binding active tap=tap0", BINDING_TIMEOUT);

    let pid = sb.daemon_pid();
    let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    assert_eq!(comm.trim(), "nfdhcpd", "pid {pid} is not the daemon");
    // The threads to check are the ones that serve: every worker, the sender, the watchers.
    // A thread names itself once it runs (std's spawn), so wait until all of them have.
    let wanted = [
        "nfdhcpd", "queue-42", "sender", "inotify", "links", "ra-timer",
    ];
    let task_names = || -> Vec<String> {
        let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
            return Vec::new();
        };
        tasks
            .flatten()
            .map(|t| fs::read_to_string(t.path().join("comm")).unwrap_or_default())
            .map(|n| n.trim().to_string())
            .collect()
    };
    sb.wait_until(
        &format!("the daemon's threads {wanted:?}"),
        BINDING_TIMEOUT,
        || {
            let names = task_names();
            wanted
                .iter()
                .all(|w| names.iter().any(|n| n == w))
                .then_some(())
        },
    );
    let main = proc_status(Path::new(&format!("/proc/{pid}/status")));
    let mut problems: Vec<String> = privilege_problems(&main, uid, gid)
        .into_iter()
        .map(|p| format!("/proc/{pid}/status: {p}"))
        .collect();
    let tasks = fs::read_dir(format!("/proc/{pid}/task")).expect("task dir");
    let mut checked = 0;
    for task in tasks.flatten() {
        let st = proc_status(&task.path().join("status"));
        let name = st.get("Name").cloned().unwrap_or_default();
        for p in privilege_problems(&st, uid, gid) {
            problems.push(format!("thread {name} ({}): {p}", task.path().display()));
        }
        checked += 1;
    }
    if !problems.is_empty() || checked < wanted.len() {
        sb.fail(&format!(
            "privileges not dropped as they should be ({checked} threads checked):\n  {}",
            problems.join("\n  ")
        ));
    }

    // The pid file, in the directory the daemon made for nobody.
    let pidfile = nobody_pidfile(&sb);
    let text = fs::read_to_string(&pidfile).unwrap_or_default();
    assert_eq!(text.trim(), pid.to_string(), "pid file {pidfile:?}");
    let dir_owner = fs::metadata(pidfile.parent().expect("dir"))
        .expect("stat")
        .uid();
    assert_eq!(dir_owner, uid, "the pid file's directory belongs to nobody");

    let got = lease(&mut sb, &vm);
    check(&sb, &got, "new_dhcp_server_identifier", Some(SERVER_IP));
    check(&sb, &got, "new_routers", Some(GATEWAY));
    assert_eq!(sb.counter("verdict_errors"), 0, "{}", sb.daemon_log());
    assert_eq!(sb.counter("send_errors"), 0, "{}", sb.daemon_log());
}

// ---------------------------------------------------------------------------------------------
// 2. SIGHUP rescans binding files inotify never reported.

/// A binding file hard-linked into the state directory makes only IN_CREATE, which the daemon
/// does not follow (a file created empty is not complete yet): it is not picked up. SIGHUP
/// rescans the directory: the binding becomes active and the VM gets its lease.
#[test]
fn sighup_picks_up_a_binding_inotify_did_not_report() {
    let Some(mut sb) = Sandbox::start_test(
        "sighup_picks_up_a_binding_inotify_did_not_report",
        Needs::base(),
    ) else {
        return;
    };
    let vm = sb.add_vm("tap0");
    sb.start_daemon(&Conf::default());

    let staged = sb.dir.join("staged-tap0");
    fs::write(&staged, Binding::for_vm(&vm).render()).expect("write staged binding");
    let mark = sb.log_mark();
    let target = sb.binding_path("tap0");
    fs::hard_link(&staged, &target)
        .unwrap_or_else(|e| sb.fail(&format!("ln {staged:?} {target:?}: {e}")));
    // A sentinel written in place after the link (CLOSE_WRITE, for a tap that does not
    // exist): inotify events come in order, so once the daemon logged it, it has seen
    // everything the link produced.
    let sentinel = Binding {
        indev: "tap7".into(),
        ..Binding::for_vm(&vm)
    };
    sb.write_binding("tap7", &sentinel);
    sb.wait_log(mark, "binding inactive tap=tap7", BINDING_TIMEOUT);
    sb.assert_no_log(mark, "binding active tap=tap0");
    let table = dump(&mut sb);
    if !log_has(&table[0], "INFO bindings active=0") || table.len() != 2 {
        sb.fail(&format!(
            "the hard-linked binding must not be active before SIGHUP; the dump:\n{}",
            table.join("\n")
        ));
    }

    let mark = sighup(&mut sb);
    sb.wait_log(mark, "binding active tap=tap0", BINDING_TIMEOUT);
    let got = lease(&mut sb, &vm);
    check(&sb, &got, "new_host_name", Some(HOSTNAME));
}

// ---------------------------------------------------------------------------------------------
// 3. SIGHUP reloads the configuration.

/// nameservers and lease_lifetime apply at once (the next lease carries them); a new
/// dhcp_queue is reported as needing a restart and the daemon keeps serving on queue 42; an
/// invalid file is reported key by key and the running configuration (the reloaded one) stays.
#[test]
fn sighup_reloads_the_config_live() {
    let conf = Conf::default();
    let Some((mut sb, vm)) = one_vm("sighup_reloads_the_config_live", &conf) else {
        return;
    };
    let before = lease(&mut sb, &vm);
    check(
        &sb,
        &before,
        "new_domain_name_servers",
        Some("192.0.2.2 192.0.2.3"),
    );
    check(&sb, &before, "new_dhcp_lease_time", Some("604800"));

    // Live settings.
    let live = Conf {
        nameservers: "192.0.2.53".into(),
        lease_lifetime: 7200,
        ..conf.clone()
    };
    let config = sb.write_config(&live);
    let mark = sighup(&mut sb);
    sb.wait_log(
        mark,
        "INFO reload: applied dhcp.nameservers=[192.0.2.53]",
        BINDING_TIMEOUT,
    );
    sb.wait_log(
        mark,
        "INFO reload: applied dhcp.lease_lifetime=7200",
        BINDING_TIMEOUT,
    );
    sb.assert_no_log(mark, "restart nfdhcpd to apply it");
    sb.assert_no_log(mark, "ERROR");
    let after = lease(&mut sb, &vm);
    check(&sb, &after, "new_domain_name_servers", Some("192.0.2.53"));
    check(&sb, &after, "new_dhcp_lease_time", Some("7200"));
    check(&sb, &after, "new_dhcp_rebinding_time", Some("6300"));
    check(&sb, &after, "new_dhcp_renewal_time", Some("3600"));

    // A queue number needs a restart: said so, and queue 42 stays the one served.
    let good = fs::read_to_string(&config).expect("read config");
    let moved = good.replace("dhcp_queue = 42\n", "dhcp_queue = 52\n");
    assert_ne!(moved, good, "no `dhcp_queue = 42` line in:\n{good}");
    fs::write(&config, &moved).expect("write config");
    let mark = sighup(&mut sb);
    sb.wait_log(
        mark,
        "WARN reload: dhcp.dhcp_queue changed; restart nfdhcpd to apply it",
        BINDING_TIMEOUT,
    );
    sb.assert_no_log(mark, "reload: applied");
    let queues = bound_queues(&sb);
    if !queues.iter().any(|q| q.0 == DHCP_QUEUE) || queues.iter().any(|q| q.0 == 52) {
        sb.fail(&format!(
            "after the reload queue 42 must stay bound and 52 not be: {queues:?}"
        ));
    }
    let still = lease(&mut sb, &vm);
    check(&sb, &still, "new_domain_name_servers", Some("192.0.2.53"));

    // An invalid file: each problem named, the running configuration kept.
    let broken = good
        .replace("lease_lifetime = 7200\n", "lease_lifetime = a-week\n")
        .replace("nameservers = 192.0.2.53\n", "nameservers = 192.0.2.999\n");
    assert!(
        broken.contains("a-week") && broken.contains("192.0.2.999"),
        "{broken}"
    );
    fs::write(&config, &broken).expect("write config");
    let mark = sighup(&mut sb);
    sb.wait_log(
        mark,
        "ERROR reload: keeping the running configuration",
        BINDING_TIMEOUT,
    );
    let lines = log_since(&sb, mark);
    let path = config.display().to_string();
    for (key, value) in [("lease_lifetime", "a-week"), ("nameservers", "192.0.2.999")] {
        let named = lines.iter().any(|l| {
            l.starts_with("ERROR reload: ")
                && l.contains(&path)
                && l.contains("[dhcp]")
                && l.contains(&format!(" {key} "))
                && l.contains(value)
        });
        if !named {
            sb.fail(&format!(
                "no ERROR line naming {path}, [dhcp], {key} and {value:?}; the reload logged:\n{}",
                lines.join("\n")
            ));
        }
    }
    sb.assert_no_log(mark, "reload: applied");
    let kept = lease(&mut sb, &vm);
    check(&sb, &kept, "new_domain_name_servers", Some("192.0.2.53"));
    check(&sb, &kept, "new_dhcp_lease_time", Some("7200"));
}

// ---------------------------------------------------------------------------------------------
// 4. SIGUSR1.

/// The dump lists every active binding (tap, ifindex, MAC, IP, hostname; a binding whose tap
/// does not exist is not active) and one line with every counter, which counted the lease.
#[test]
fn sigusr1_lists_bindings_and_counters() {
    let Some((mut sb, vm)) = one_vm("sigusr1_lists_bindings_and_counters", &Conf::default()) else {
        return;
    };
    let absent = Binding {
        indev: "tap5".into(),
        ip: "192.0.2.105".into(),
        ..Binding::for_vm(&vm)
    };
    let mark = sb.log_mark();
    sb.write_binding("tap5", &absent);
    sb.wait_log(mark, "binding inactive tap=tap5", BINDING_TIMEOUT);
    lease(&mut sb, &vm);

    let table = dump(&mut sb);
    let text = table.join("\n");
    let ifindex = sb
        .host_must("cat /sys/class/net/tap0/ifindex")
        .trim()
        .to_string();
    if table.len() != 3
        || !log_has(&table[0], "INFO bindings active=1")
        || !log_has(
            &table[1],
            &format!(
                "INFO binding tap=tap0 ifindex={ifindex} mac={} ip={VM_IP} hostname=\"{HOSTNAME}\"",
                vm.mac
            ),
        )
        || !log_has(&table[2], "INFO counters")
    {
        sb.fail(&format!(
            "the dump should be `bindings active=1`, tap0's line (ifindex {ifindex}, {}, \
             {VM_IP}), the counters; it is:\n{text}",
            vm.mac
        ));
    }
    let counters: BTreeMap<&str, u64> = table[2]
        .split_whitespace()
        .filter_map(|w| w.split_once('='))
        .filter_map(|(k, v)| Some((k, v.parse().ok()?)))
        .collect();
    let at_least = [
        ("dhcp4_packets", 2),
        ("dropped_bound", 2),
        ("dhcp4_discover", 1),
        ("dhcp4_request", 1),
        ("dhcp4_offer", 1),
        ("dhcp4_ack", 1),
        ("sent", 2),
    ];
    let exactly = [
        ("accepted_unbound", 0),
        ("drop_spoofed", 0),
        ("drop_rate_limited", 0),
        ("send_errors", 0),
        ("verdict_errors", 0),
        ("queue_recv_errors", 0),
        ("reply_queue_full", 0),
    ];
    for (name, min) in at_least {
        match counters.get(name) {
            Some(v) if *v >= min => {}
            other => sb.fail(&format!(
                "counter {name}: {other:?}, expected >= {min}:\n{text}"
            )),
        }
    }
    for (name, want) in exactly {
        if counters.get(name) != Some(&want) {
            sb.fail(&format!("counter {name}: expected {want}:\n{text}"));
        }
    }
    // Issue 12: the original's recipe, `kill -USR1 $(cat PIDFILE) && tail
    // <logdir>/nfdhcpd.log`, shows the table, whatever the log itself goes to.
    let file = fs::read_to_string(sb.dir.join("nfdhcpd.log")).unwrap_or_default();
    let tail: Vec<&str> = file.lines().rev().take(10).collect();
    let has = |needle: &str| tail.iter().any(|l| log_has(l, needle));
    if !has("INFO bindings active=1") || !has("INFO binding tap=tap0") || !has("INFO counters") {
        sb.fail(&format!(
            "the last lines of <logdir>/nfdhcpd.log should hold the dump:\n{file}"
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// 5. SIGTERM.

/// SIGTERM (as nobody, the pid file in the directory the daemon made): exit status 0 within
/// a second or so, the pid file removed, and no NFQUEUE left bound in the namespace.
#[test]
fn sigterm_exits_0_removes_pid_file_and_releases_queues() {
    let Some(mut sb) = Sandbox::start_test(
        "sigterm_exits_0_removes_pid_file_and_releases_queues",
        Needs::base(),
    ) else {
        return;
    };
    let vm = sb.add_vm("tap0");
    sb.write_binding(&vm.tap, &Binding::for_vm(&vm));
    let conf = nobody_conf(&sb);
    sb.start_daemon(&conf);
    sb.wait_log(0, "binding active tap=tap0", BINDING_TIMEOUT);
    lease(&mut sb, &vm);
    let pidfile = nobody_pidfile(&sb);
    let pid = sb.daemon_pid();
    assert_eq!(
        fs::read_to_string(&pidfile).unwrap_or_default().trim(),
        pid.to_string(),
        "pid file {pidfile:?}"
    );
    let queues = bound_queues(&sb);
    if queues.iter().map(|q| q.0).collect::<Vec<_>>() != [DHCP_QUEUE] {
        sb.fail(&format!(
            "before SIGTERM exactly queue 42 should be bound: {queues:?}"
        ));
    }

    let mark = sb.log_mark();
    let sent = Instant::now();
    sb.signal_daemon("TERM");
    let status = sb.wait_daemon_exit(Duration::from_secs(10));
    let took = sent.elapsed();
    let Some(status) = status else {
        sb.fail("the daemon did not exit within 10 s of SIGTERM");
    };
    if status.code() != Some(0) {
        sb.fail(&format!("SIGTERM: the daemon exited {status}, expected 0"));
    }
    if took > STOP_LIMIT {
        sb.fail(&format!(
            "SIGTERM: the daemon took {took:?} to exit (limit {STOP_LIMIT:?})"
        ));
    }
    sb.wait_log(mark, "INFO signal 15: exiting", BINDING_TIMEOUT);
    sb.assert_no_log(mark, "cannot remove pid file");
    if pidfile.exists() {
        sb.fail(&format!("pid file {} left behind", pidfile.display()));
    }
    let left = sb.host_must("cat /proc/net/netfilter/nfnetlink_queue");
    if !left.trim().is_empty() {
        sb.fail(&format!("queues still bound after the exit:\n{left}"));
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Daemon mode.

/// A daemon that detached from the process we started: known by the pid in its pid file, and
/// killed by that pid in `Drop` if still running (also when the test fails). As a last resort
/// it also ends any `nfdhcpd` left in the sandbox's own host namespace (only our test starts
/// processes there).
struct Detached {
    pidfile: PathBuf,
    host: String,
    pid: Option<u32>,
}

impl Detached {
    fn new(sb: &Sandbox, pidfile: PathBuf) -> Detached {
        Detached {
            pidfile,
            host: sb.host.clone(),
            pid: None,
        }
    }

    /// Reads the pid file (after a start); the pid, remembered for `Drop`.
    fn adopt(&mut self) -> Option<u32> {
        let pid = fs::read_to_string(&self.pidfile)
            .ok()
            .and_then(|t| t.trim().parse().ok());
        if pid.is_some() {
            self.pid = pid;
        }
        pid
    }
}

/// `pid` is a live (not zombie) nfdhcpd.
fn is_running_nfdhcpd(pid: u32) -> bool {
    let st = proc_status(Path::new(&format!("/proc/{pid}/status")));
    st.get("Name").map(String::as_str) == Some("nfdhcpd")
        && !st.get("State").is_some_and(|s| s.starts_with('Z'))
}

fn kill(sig: &str, pid: u32) {
    let _ = run_args(&["sh", "-c", &format!("kill -{sig} {pid}")]);
}

/// The nfdhcpd processes in network namespace `ns`.
fn nfdhcpd_in(ns: &str) -> Vec<u32> {
    run(&format!("ip netns pids {ns}"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .filter(|&p| is_running_nfdhcpd(p))
        .collect()
}

/// Waits until `pid` is no running nfdhcpd any more.
fn wait_gone(pid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while is_running_nfdhcpd(pid) {
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
    true
}

impl Drop for Detached {
    fn drop(&mut self) {
        let mut pids: Vec<u32> = self.pid.into_iter().chain(self.adopt()).collect();
        pids.extend(nfdhcpd_in(&self.host));
        pids.sort_unstable();
        pids.dedup();
        for pid in pids.into_iter().filter(|&p| is_running_nfdhcpd(p)) {
            kill("KILL", pid);
            if !wait_gone(pid, Duration::from_secs(5)) {
                eprintln!("warning: the detached nfdhcpd {pid} survived SIGKILL");
            }
        }
    }
}

/// Runs `nfdhcpd ARGS` (no `-f`) in the host namespace and waits for the starting process to
/// return, at most [`READY_TIMEOUT`]: its pid and output. The output is read to its end, so
/// a daemon that kept our stdout or stderr open would show up here as a time-out.
fn start_detached(sb: &Sandbox, args: &[&str]) -> (u32, Output) {
    let mut cmd: Command = sb.nfdhcpd_command(args);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| sb.fail(&format!("cannot start nfdhcpd {args:?}: {e}")));
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(READY_TIMEOUT) {
        Ok(Ok(out)) => (pid, out),
        Ok(Err(e)) => sb.fail(&format!("nfdhcpd {args:?}: {e}")),
        Err(_) => sb.fail(&format!(
            "`nfdhcpd {args:?}` did not return within {READY_TIMEOUT:?} (or kept its \
             stdout/stderr open in the daemon)"
        )),
    }
}

fn describe(out: &Output) -> String {
    format!(
        "status {}, stdout {:?}, stderr {:?}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Without `-f`: the command returns 0 only once the daemon serves (a dhclient started at
/// once gets its lease), the pid file holds the daemon's pid (not the starter's), a second
/// start is refused, a start-up error reaches the starter's stderr with exit 1, and the log
/// goes to syslog or, without /dev/log, to `<logdir>/nfdhcpd.log`.
#[test]
fn daemon_mode_returns_once_serving() {
    let Some(mut sb) = Sandbox::start_test("daemon_mode_returns_once_serving", Needs::base())
    else {
        return;
    };
    let vm = sb.add_vm("tap0");
    sb.write_binding(&vm.tap, &Binding::for_vm(&vm));
    let config = sb.write_config(&Conf::default());
    let config_arg = config.display().to_string();
    let pidfile = sb.dir.join("nfdhcpd.pid");
    let logfile = sb.dir.join("nfdhcpd.log");
    // Declared after the sandbox: dropped (the daemon killed) before the namespace goes.
    let mut daemon = Detached::new(&sb, pidfile.clone());
    let log_text = || fs::read_to_string(&logfile).unwrap_or_default();

    let (starter, out) = start_detached(&sb, &["-c", &config_arg]);
    let pid = daemon.adopt();
    if !out.status.success() {
        sb.fail(&format!(
            "the start failed: {}\nlog file:\n{}",
            describe(&out),
            log_text()
        ));
    }
    // Serving at once: the queue is bound, and a dhclient run straight away gets a lease.
    let queues = bound_queues(&sb);
    if !queues.iter().any(|q| q.0 == DHCP_QUEUE) {
        sb.fail(&format!(
            "the start returned 0 but queue 42 is not bound: {queues:?}\nlog file:\n{}",
            log_text()
        ));
    }
    let run = sb.dhclient(&vm, &DhcpOpts::default());
    let got = sb.expect_lease(run);
    check(&sb, &got, "new_ip_address", Some(VM_IP));
    sb.stop_dhclient(run);

    let Some(pid) = pid else {
        sb.fail(&format!("no pid in {}", pidfile.display()));
    };
    if pid == starter || !is_running_nfdhcpd(pid) {
        sb.fail(&format!(
            "pid file: {pid}: not a running daemon apart from the starter ({starter})"
        ));
    }
    let ppid = proc_status(Path::new(&format!("/proc/{pid}/status")))
        .get("PPid")
        .cloned()
        .unwrap_or_default();
    assert_ne!(ppid, starter.to_string(), "the daemon did not detach");
    if nfdhcpd_in(&sb.host) != [pid] {
        sb.fail(&format!(
            "expected exactly the daemon {pid} in the namespace: {:?}",
            nfdhcpd_in(&sb.host)
        ));
    }

    // A second start is refused, and the first daemon goes on.
    let (_, again) = start_detached(&sb, &["-c", &config_arg]);
    let err = String::from_utf8_lossy(&again.stderr).into_owned();
    if again.status.success()
        || !err.contains("another nfdhcpd is running")
        || !err.contains(&pid.to_string())
    {
        sb.fail(&format!(
            "a second start must fail with `another nfdhcpd is running (pid {pid}, ...)`: {}",
            describe(&again)
        ));
    }
    assert!(is_running_nfdhcpd(pid), "the first daemon died");
    assert_eq!(
        fs::read_to_string(&pidfile).unwrap_or_default().trim(),
        pid.to_string(),
        "the pid file changed"
    );

    // The log: syslog, or the log file without /dev/log.
    if Path::new("/dev/log").exists() {
        eprintln!("daemon_mode: /dev/log exists here: the log went to syslog, not checked");
    } else {
        let text = log_text();
        let has = |needle: &str| text.lines().any(|l| log_has(l, needle));
        if !has("INFO ready") || !has("syslog unavailable") {
            sb.fail(&format!(
                "no /dev/log: {} should hold the syslog warning and the `ready` line:\n{text}",
                logfile.display()
            ));
        }
    }

    // Stopped by the pid in its pid file.
    kill("TERM", pid);
    if !wait_gone(pid, Duration::from_secs(5)) {
        sb.fail(&format!("the daemon {pid} ignored SIGTERM for 5 s"));
    }
    if pidfile.exists() {
        sb.fail(&format!(
            "pid file left behind after SIGTERM; log file:\n{}",
            log_text()
        ));
    }
    let exit_logged = log_text()
        .lines()
        .any(|l| log_has(l, "INFO signal 15: exiting"));
    if !exit_logged && !Path::new("/dev/log").exists() {
        sb.fail(&format!("no exit line in the log file:\n{}", log_text()));
    }

    // A start-up error is relayed by the starting process: exit 1, the reason on stderr.
    let missing = sb.dir.join("no-such-state-dir");
    let broken = sb.dir.join("missing-state.conf");
    fs::write(&broken, Conf::default().render(&sb.dir, &missing)).expect("write config");
    let (_, failed) = start_detached(&sb, &["-c", &broken.display().to_string()]);
    let err = String::from_utf8_lossy(&failed.stderr).into_owned();
    let reason = format!(
        "state directory {}: No such file or directory",
        missing.display()
    );
    if failed.status.code() != Some(1) || !err.contains(&reason) {
        sb.fail(&format!(
            "a missing state dir: expected exit 1 and `{reason}` on stderr: {}",
            describe(&failed)
        ));
    }
    if pidfile.exists() {
        sb.fail("a failed start left a pid file");
    }
    // The failed daemon sends its reason, then exits: the starter may return a moment
    // before that exit is complete.
    sb.wait_until(
        "the failed daemon's exit (no nfdhcpd left in the namespace)",
        Duration::from_secs(5),
        || nfdhcpd_in(&sb.host).is_empty().then_some(()),
    );
    drop(daemon);
}

/// `user = nobody` with a state directory only root may read (0700): the daemon refuses to
/// start (exit 1), naming the directory and the user, and leaves no pid file; `-t` says the
/// same. With the directory readable, one binding file only root may read (0600) is refused
/// at start-up already ("Permission denied"), as it would be at its first change, and the
/// other one is served.
#[test]
fn root_only_datapath_refused_for_nobody_at_start_and_by_check() {
    let Some(mut sb) = Sandbox::start_test(
        "root_only_datapath_refused_for_nobody_at_start_and_by_check",
        Needs::base(),
    ) else {
        return;
    };
    let vm = sb.add_vm("tap0");
    sb.write_binding(&vm.tap, &Binding::for_vm(&vm));
    let conf = nobody_conf(&sb);
    let config = sb.write_config(&conf);
    let state = sb.state_dir.clone();
    let shown = state.display().to_string();
    let set_mode = |path: &Path, mode: u32| {
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .unwrap_or_else(|e| sb.fail(&format!("chmod {mode:o} {}: {e}", path.display())));
    };
    set_mode(&state, 0o700);
    let refused = format!("state directory {shown}: not readable by user nobody");

    let cfg = config.display().to_string();
    let mut daemon = Proc::spawn("nfdhcpd", sb.nfdhcpd_command(&["-f", "-c", &cfg]));
    let Some(status) = daemon.wait_exit(READY_TIMEOUT) else {
        sb.fail("the daemon started with a state directory nobody cannot read");
    };
    let said = daemon
        .log
        .wait_for(0, |l| l.contains(&refused), Duration::from_secs(5));
    if status.code() != Some(1) || said.is_none() {
        sb.fail(&format!(
            "expected exit 1 and `cannot start: {refused} ...`: {status}\n{}",
            daemon.log.text()
        ));
    }
    if nobody_pidfile(&sb).exists() {
        sb.fail("the refused start left its pid file behind");
    }
    let (status, out) = check_config(&sb, "-t", &config);
    if status.code() != Some(1) || !out.contains(&refused) {
        sb.fail(&format!(
            "-t: expected exit 1 and `{refused}`: {status}\n{out}"
        ));
    }

    // Readable directory, one root-only file: refused from the first read on.
    set_mode(&state, 0o755);
    let tap1 = sb.binding_path("tap1");
    fs::write(&tap1, "MAC=02:00:5e:10:00:09\nIP=192.0.2.109\n").expect("write tap1");
    set_mode(&tap1, 0o600);
    let (status, out) = check_config(&sb, "-t", &config);
    let denied = format!("{}: cannot read: Permission denied", tap1.display());
    if status.code() != Some(1) || !out.contains(&denied) {
        sb.fail(&format!(
            "-t: expected exit 1 and `{denied}`: {status}\n{out}"
        ));
    }
    sb.start_daemon(&conf);
    sb.wait_log(
        0,
        &format!(
            "WARN binding refused file={} cannot read: Permission denied",
            tap1.display()
        ),
        BINDING_TIMEOUT,
    );
    sb.wait_log(0, "binding active tap=tap0", BINDING_TIMEOUT);
    let got = lease(&mut sb, &vm);
    check(&sb, &got, "new_ip_address", Some(VM_IP));
}

// ---------------------------------------------------------------------------------------------
// 7. --check-config.

fn check_config(sb: &Sandbox, flag: &str, config: &Path) -> (ExitStatus, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nfdhcpd"))
        .args([flag, "-c"])
        .arg(config)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| sb.fail(&format!("cannot run nfdhcpd {flag}: {e}")));
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status, text)
}

/// `-t`/`--check-config`: a good config with good binding files exits 0 saying so; two bad
/// values are both named (file, section, key, value) with exit 1; one bad binding file is
/// named with its line and key, exit 1.
#[test]
fn check_config_reports_every_problem() {
    let Some(sb) = Sandbox::start_test("check_config_reports_every_problem", Needs::base()) else {
        return;
    };
    for k in 0..2u8 {
        let vm = Vm {
            netns: String::new(),
            tap: format!("tap{k}"),
            mac: format!("02:00:5e:10:00:{:02x}", k + 1),
        };
        let b = Binding {
            ip: format!("192.0.2.{}", 100 + k),
            ..Binding::for_vm(&vm)
        };
        sb.write_binding(&vm.tap, &b);
    }
    let config = sb.write_config(&Conf::default());
    let path = config.display().to_string();
    let state = sb.state_dir.display().to_string();

    for flag in ["-t", "--check-config"] {
        let (status, out) = check_config(&sb, flag, &config);
        if status.code() != Some(0)
            || !out.contains(&format!("{path}: configuration OK"))
            || !out.contains(&format!("{state}: 2 binding files OK, 0 with problems"))
        {
            sb.fail(&format!("{flag} on a good setup: {status}\n{out}"));
        }
    }

    // Two bad values in the config.
    let good = fs::read_to_string(&config).expect("read config");
    let bad = good
        .replace("lease_lifetime = 604800\n", "lease_lifetime = a-week\n")
        .replace("server_ip = 192.0.2.1\n", "server_ip = 192.0.2.256\n");
    assert!(
        bad.contains("a-week") && bad.contains("192.0.2.256"),
        "{bad}"
    );
    let bad_config = sb.dir.join("bad.conf");
    fs::write(&bad_config, &bad).expect("write config");
    let bad_path = bad_config.display().to_string();
    let (status, out) = check_config(&sb, "-t", &bad_config);
    // `FILE: [SECTION] KEY = "VALUE": reason`, the reason not empty.
    let names = |key: &str, value: &str| {
        let head = format!("{bad_path}: [dhcp] {key} = \"{value}\": ");
        out.lines()
            .any(|l| l.starts_with(&head) && l.len() > head.len())
    };
    if status.code() != Some(1)
        || !names("lease_lifetime", "a-week")
        || !names("server_ip", "192.0.2.256")
        || out.contains("configuration OK")
    {
        sb.fail(&format!(
            "two bad values: expected exit 1 and `{bad_path}: [dhcp] KEY = \"VALUE\": reason` \
             for lease_lifetime and server_ip: {status}\n{out}"
        ));
    }

    // A good config, one bad binding file (IP on line 2).
    let tap1 = sb.binding_path("tap1");
    fs::write(
        &tap1,
        "MAC=02:00:5e:10:00:02\nIP=192.0.2.300\nSUBNET=192.0.2.0/24\n",
    )
    .expect("write binding");
    let (status, out) = check_config(&sb, "-t", &config);
    let line = format!("{}: line 2: IP: \"192.0.2.300\"", tap1.display());
    if status.code() != Some(1)
        || !out.contains(&format!("{path}: configuration OK"))
        || !out.lines().any(|l| l.starts_with(&line))
        || !out.contains(&format!("{state}: 1 binding files OK, 1 with problems"))
    {
        sb.fail(&format!(
            "one bad binding file: expected exit 1 and `{line} ...`: {status}\n{out}"
        ));
    }
}

/// Issue 12: like python-daemon, which the original used, a daemon whose parent is PID 1 (a
/// kept local systemd unit with `Type=simple` and no `-f`) does not detach: it stays its
/// parent's child and serves. Here `sh` is PID 1 of a new PID namespace and runs nfdhcpd
/// without `-f`: a detaching daemon would return to `sh`, which would then exit, and the
/// kernel would end the namespace, daemon and all.
#[test]
fn started_by_pid_1_without_f_stays_in_the_foreground() {
    let test = "started_by_pid_1_without_f_stays_in_the_foreground";
    let Some(mut sb) = Sandbox::start_test(test, Needs::base().and(&["unshare"])) else {
        return;
    };
    let vm = sb.add_vm("tap0");
    sb.write_binding(&vm.tap, &Binding::for_vm(&vm));
    let config = sb.write_config(&Conf::default());
    let script = format!(
        "{} -c {}; echo nfdhcpd-returned $?",
        env!("CARGO_BIN_EXE_nfdhcpd"),
        config.display()
    );
    let mut cmd = Command::new(tool("ip"));
    cmd.args([
        "netns",
        "exec",
        &sb.host,
        "unshare",
        "--pid",
        "--fork",
        "--kill-child",
    ]);
    cmd.args(["sh", "-c", &script]);
    let mut init = Proc::spawn("nfdhcpd under a PID 1", cmd);
    sb.wait_until("queue 42 bound", READY_TIMEOUT, || {
        bound_queues(&sb)
            .iter()
            .any(|q| q.0 == DHCP_QUEUE)
            .then_some(())
    });
    let run = sb.dhclient(&vm, &DhcpOpts::default());
    let got = sb.expect_lease(run);
    check(&sb, &got, "new_ip_address", Some(VM_IP));
    sb.stop_dhclient(run);
    let out = init.log.text();
    if init.exited().is_some() || out.contains("nfdhcpd-returned") {
        sb.fail(&format!(
            "the daemon detached from its PID 1 parent:\n{out}"
        ));
    }
    // Ending unshare (which ignores TERM while it waits) ends its namespace, and the
    // daemon with it.
    init.signal("KILL");
    if init.wait_exit(Duration::from_secs(10)).is_none() {
        sb.fail("unshare did not end");
    }
    sb.wait_until("queue 42 released", Duration::from_secs(10), || {
        (!bound_queues(&sb).iter().any(|q| q.0 == DHCP_QUEUE)).then_some(())
    });
}

/// Issue 12: the original read its command line with argparse, so `DAEMON_OPTS` such as
/// `-df -c/etc/nfdhcpd/nfdhcpd.conf` or `--conf FILE --fore` started it; they start this
/// daemon too, and an option argparse refused exits 2 with argparse's message.
#[test]
fn daemon_opts_the_original_accepted_start_it() {
    let test = "daemon_opts_the_original_accepted_start_it";
    let Some(mut sb) = Sandbox::start_test(test, Needs::base()) else {
        return;
    };
    let vm = sb.add_vm("tap0");
    sb.write_binding(&vm.tap, &Binding::for_vm(&vm));
    let config = sb.write_config(&Conf::default()).display().to_string();
    let attached = format!("-c{config}");
    for args in [
        vec!["-df", attached.as_str()],
        vec!["--conf", &config, "--fore", "--deb"],
    ] {
        let mut p = Proc::spawn("nfdhcpd", sb.nfdhcpd_command(&args));
        if !p.wait_ready(READY_TIMEOUT) {
            sb.fail(&format!("{args:?} did not start:\n{}", p.log.text()));
        }
        let run = sb.dhclient(&vm, &DhcpOpts::default());
        let got = sb.expect_lease(run);
        check(&sb, &got, "new_ip_address", Some(VM_IP));
        sb.stop_dhclient(run);
        if !p.log.text().contains("DEBUG ") {
            sb.fail(&format!("{args:?}: -d/--deb did not turn on debug logs"));
        }
        p.signal("TERM");
        if !p
            .wait_exit(Duration::from_secs(10))
            .is_some_and(|s| s.success())
        {
            sb.fail(&format!("{args:?}: no clean stop:\n{}", p.log.text()));
        }
    }
    let out = sb
        .nfdhcpd_command(&["-x"])
        .output()
        .unwrap_or_else(|e| sb.fail(&format!("run nfdhcpd -x: {e}")));
    let err = String::from_utf8_lossy(&out.stderr);
    if out.status.code() != Some(2) || !err.contains("unrecognized arguments: -x") {
        sb.fail(&format!(
            "`nfdhcpd -x` must exit 2 as argparse did: {out:?}"
        ));
    }
}
