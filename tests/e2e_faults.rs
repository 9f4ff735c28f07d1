//! Faults around the daemon, end to end: a tap deleted under a live binding, the state
//! directory deleted (or moved away) and re-created, a symlinked state directory switched
//! (and one above it, at SIGHUP), a FIFO or symlink created in it, 20,000 binding files at
//! once (a summary line), inotify's queue overflowing, a binding
//! file replaced 1000 times a second while requests flow, no syslog socket, a second daemon
//! on the same queues, a burst of 2000 requests while the daemon is stalled; and, at unit
//! level, a full channel to the sender. After each, the daemon is still running, its counters
//! account for what happened, and it serves leases.
//!
//! One test lowers the global sysctl fs.inotify.max_queued_events for a moment (the limit
//! applies to inotify instances created meanwhile): the value is restored by a guard, also
//! when the test fails, and the other tests of this file do not start a daemon meanwhile.
//!
//! Needs root, iproute2, iptables, isc-dhcp-client and python3-scapy (tests/run-all.sh
//! installs them); without them a test says why and returns, except under CI=true where
//! that is a failure. The channel test needs nothing.

mod common;

use common::*;
use nfdhcpd::sender::{self, Frame, CHANNEL_DEPTH};
use nfdhcpd::stats::{kernel_queues, Stats};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Held for writing while fs.inotify.max_queued_events is lowered; every daemon start of
/// this file holds it for reading, so no other daemon gets the small queue.
static INOTIFY_LIMIT: RwLock<()> = RwLock::new(());

/// How long the daemon may take to catch up with its counters once the senders stopped.
const SETTLE: Duration = Duration::from_secs(20);

/// [`Sandbox::start_daemon`], never while the inotify limit is lowered.
fn start(sb: &mut Sandbox, conf: &Conf) {
    let _guard = INOTIFY_LIMIT.read().unwrap_or_else(|e| e.into_inner());
    sb.start_daemon(conf);
}

/// A sandbox with quiet VMs `tap0..tapN`, a binding for each (tapK gets 192.0.2.(100+K)),
/// the daemon started with `conf` and every binding active; `None` when the test is skipped
/// ([`Sandbox::start_test`] with `needs`).
fn setup(test: &str, vms: usize, conf: &Conf, needs: Needs) -> Option<(Sandbox, Vec<Vm>)> {
    let mut sb = Sandbox::start_test(test, needs)?;
    let vms: Vec<Vm> = (0..vms)
        .map(|k| sb.add_quiet_vm(&format!("tap{k}")))
        .collect();
    for (k, vm) in vms.iter().enumerate() {
        sb.write_binding(&vm.tap, &binding(vm, k));
    }
    start(&mut sb, conf);
    for vm in &vms {
        sb.wait_log(
            0,
            &format!("binding active tap={}", vm.tap),
            BINDING_TIMEOUT,
        );
    }
    Some((sb, vms))
}

fn binding(vm: &Vm, k: usize) -> Binding {
    Binding {
        ip: format!("192.0.2.{}", 100 + k),
        ..Binding::for_vm(vm)
    }
}

/// A dhclient lease for `ip`, within the usual time.
fn expect_lease(sb: &mut Sandbox, vm: &Vm, ip: &str) -> ScriptCall {
    let run = sb.dhclient(vm, &DhcpOpts::default());
    let lease = sb.expect_lease(run);
    sb.stop_dhclient(run);
    if lease.get("new_ip_address") != Some(ip) {
        sb.fail(&format!("the lease is not for {ip}:\n{}", lease.dump()));
    }
    lease
}

// ---------------------------------------------------------------------------------------------
// A tap deleted while its binding exists.

/// tap0 floods DISCOVERs flat out (no rate limit) so the daemon has a backlog of requests
/// from it, and the tap is deleted in the middle: replies already built for the vanished
/// ifindex fail with ENXIO (ENETDOWN while the kernel takes the device down). Each is
/// counted (`send_errors`), logged (rate-limited: one line per 10 s with the number
/// suppressed), not fatal; every reply built is accounted for
/// (sent + send_errors); the binding goes inactive and, when the tap is created again (a new
/// ifindex, the file untouched), active, and the VM gets its lease. tap1 is served meanwhile.
#[test]
fn tap_deleted_while_bound_send_errors_counted_and_binding_recovers() {
    let test = "tap_deleted_while_bound_send_errors_counted_and_binding_recovers";
    let conf = Conf::unlimited();
    let Some((mut sb, vms)) = setup(test, 2, &conf, Needs::base().scapy()) else {
        return;
    };
    let (vm, other) = (&vms[0], &vms[1]);
    expect_lease(&mut sb, vm, "192.0.2.100");
    let mut attempts = Vec::new();
    for attempt in 1..=5 {
        let mark = sb.log_mark();
        let out = sb.spawn_vmpkt(
            vm,
            &[
                "flood",
                "--kind",
                "dhcp4",
                "--seconds",
                "10",
                "--max-count",
                "100000",
            ],
        );
        if out
            .wait_for(0, |l| l == "[stdout] STARTED", Duration::from_secs(30))
            .is_none()
        {
            sb.fail(&format!("the flooder did not start:\n{}", out.text()));
        }
        // Replies are flowing: delete the tap (and the VM's eth0 with it) under them.
        sb.wait_log(mark, "reply tap=tap0", Duration::from_secs(10));
        sb.unlink(vm);
        sb.wait_log(mark, "binding inactive tap=tap0", BINDING_TIMEOUT);
        let done = sb.wait_vmpkt(&out, Duration::from_secs(30));
        let (k, _) = sb.settle_counters(SETTLE);
        let errors = ctr(&k, "send_errors");
        attempts.push(format!(
            "attempt {attempt}: flooder {done:?}; send_errors={errors} sent={} queue_recv_errors={} verdict_errors={}",
            ctr(&k, "sent"),
            ctr(&k, "queue_recv_errors"),
            ctr(&k, "verdict_errors"),
        ));
        // Back: same name, same MAC, a new ifindex; the file was not touched.
        let mark = sb.log_mark();
        sb.link(vm);
        sb.wait_log(mark, "binding active tap=tap0", BINDING_TIMEOUT);
        if errors > 0 {
            break;
        }
    }
    eprintln!("{}", attempts.join("\n"));
    let k = sb.counters();
    let ctx = format!("{}\ncounters: {k:?}", attempts.join("\n"));
    if ctr(&k, "send_errors") == 0 {
        sb.fail(&format!(
            "no send to the deleted tap failed in {} attempts: the race could not be forced\n{ctx}",
            attempts.len()
        ));
    }
    let failed = log_lines(&sb, 0, "WARN send failed");
    // ENXIO once the ifindex is gone; ENETDOWN while the kernel is taking it down. The line
    // is rate-limited: it shows the first error and how many it held back.
    let gone = |l: &String| {
        l.contains("No such device or address (os error 6)")
            || l.contains("Network is down (os error 100)")
    };
    if failed.is_empty() || !failed.iter().all(gone) {
        sb.fail(&format!(
            "expected `send failed ... No such device or address` (ENXIO) or `Network is \
             down` lines, got {failed:?}\n{ctx}"
        ));
    }
    eprintln!("send failure lines: {failed:?}");
    expect_eq(
        &sb,
        "dhcp4_packets (one verdict each)",
        ctr(&k, "accepted_unbound") + ctr(&k, "dropped_bound"),
        ctr(&k, "dhcp4_packets"),
        &ctx,
    );
    expect_eq(
        &sb,
        "replies + drop_* (one outcome per bound packet)",
        outcome_sum(&k),
        ctr(&k, "dropped_bound"),
        &ctx,
    );
    expect_eq(
        &sb,
        "drop_internal_error",
        ctr(&k, "drop_internal_error"),
        0,
        &ctx,
    );
    // Recovered: both VMs are served.
    expect_lease(&mut sb, vm, "192.0.2.100");
    expect_lease(&mut sb, other, "192.0.2.101");
    sb.assert_log_clean();
}

// ---------------------------------------------------------------------------------------------
// The state directory deleted, moved away, re-created.

/// `rm -r` of the state directory: every binding is removed (the tap's DHCP is ACCEPTed);
/// the daemon polls once a second for the directory, and when it is back (empty) a binding
/// written into it works. Deleted again and re-created with the binding already in it: the
/// rescan picks it up.
#[test]
fn state_dir_deleted_and_recreated() {
    let test = "state_dir_deleted_and_recreated";
    let Some((mut sb, vms)) = setup(test, 1, &Conf::default(), Needs::base().scapy()) else {
        return;
    };
    let vm = &vms[0];
    expect_lease(&mut sb, vm, "192.0.2.100");
    let state = sb.state_dir.clone();
    let shown = state.display().to_string();

    // Deleted, re-created empty, then the binding written into it (inotify).
    let mark = sb.log_mark();
    fs::remove_dir_all(&state).expect("rm -r state");
    sb.wait_log(mark, "binding removed tap=tap0", BINDING_TIMEOUT);
    sb.wait_log(
        mark,
        &format!("state directory {shown} vanished;"),
        BINDING_TIMEOUT,
    );
    expect_accepted(&mut sb, vm, 2);
    let mark = sb.log_mark();
    fs::create_dir(&state).expect("mkdir state");
    let created = Instant::now();
    sb.wait_log(
        mark,
        &format!("state directory {shown} is back"),
        Duration::from_secs(3),
    );
    let back = created.elapsed();
    sb.write_binding("tap0", &binding(vm, 0));
    sb.wait_log(mark, "binding active tap=tap0", BINDING_TIMEOUT);
    expect_lease(&mut sb, vm, "192.0.2.100");

    // Deleted, re-created with the (changed) binding already in it (the rescan).
    let mark = sb.log_mark();
    fs::remove_dir_all(&state).expect("rm -r state");
    sb.wait_log(
        mark,
        &format!("state directory {shown} vanished;"),
        BINDING_TIMEOUT,
    );
    fs::create_dir(&state).expect("mkdir state");
    sb.write_binding("tap0", &binding(vm, 1));
    sb.wait_log(
        mark,
        &format!("state directory {shown} is back"),
        Duration::from_secs(3),
    );
    sb.wait_log(mark, "binding active tap=tap0", BINDING_TIMEOUT);
    expect_lease(&mut sb, vm, "192.0.2.101");
    eprintln!("the re-created state directory was noticed after {back:?}");
    sb.assert_log_clean();
}

/// `mv` of the state directory (MOVE_SELF): the bindings go; a new directory created with
/// the binding in it is picked up. The moved-away directory lives on elsewhere and is none
/// of the daemon's business: deleting its copy of tap0 must not remove the live tap0
/// binding, and a file written there must not be read as a binding.
#[test]
fn state_dir_moved_away_and_recreated_old_dir_is_ignored() {
    let test = "state_dir_moved_away_and_recreated_old_dir_is_ignored";
    let Some((mut sb, vms)) = setup(test, 1, &Conf::default(), Needs::base()) else {
        return;
    };
    let vm = &vms[0];
    let state = sb.state_dir.clone();
    let shown = state.display().to_string();
    let old = sb.dir.join("state.old");
    let mark = sb.log_mark();
    fs::rename(&state, &old).expect("mv state state.old");
    sb.wait_log(
        mark,
        &format!("state directory {shown} vanished;"),
        BINDING_TIMEOUT,
    );
    sb.wait_log(mark, "binding removed tap=tap0", BINDING_TIMEOUT);
    fs::create_dir(&state).expect("mkdir state");
    sb.write_binding("tap0", &binding(vm, 1));
    sb.wait_log(
        mark,
        &format!("state directory {shown} is back"),
        Duration::from_secs(3),
    );
    sb.wait_log(mark, "binding active tap=tap0", BINDING_TIMEOUT);
    expect_lease(&mut sb, vm, "192.0.2.101");

    let mark = sb.log_mark();
    fs::remove_file(old.join("tap0")).expect("rm state.old/tap0");
    fs::write(old.join("tap0"), binding(vm, 5).render()).expect("write state.old/tap0");
    barrier(&mut sb, mark);
    sb.assert_no_log(mark, "binding removed tap=tap0");
    sb.assert_no_log(mark, "binding active tap=tap0");
    expect_lease(&mut sb, vm, "192.0.2.101");
    sb.assert_log_clean();
}

// ---------------------------------------------------------------------------------------------
// The datapath followed: a symlink switched, a directory above it switched.

/// `ln -sfn NEW tmp && mv -T tmp LINK`, as the command line does it.
fn switch_symlink(sb: &Sandbox, link: &Path, new: &Path) {
    let tmp = sb.dir.join("link.tmp");
    for line in [
        format!("ln -sfn {} {}", new.display(), tmp.display()),
        format!("mv -T {} {}", tmp.display(), link.display()),
    ] {
        run(&line).unwrap_or_else(|e| sb.fail(&e));
    }
}

/// Two directories `a` and `b` under the sandbox, tap0's binding in each (192.0.2.100 in
/// `a`, 192.0.2.101 in `b`); the state directory the daemon is given is `datapath`, a path
/// the test then points at `a`.
fn two_dirs(sb: &Sandbox, vm: &Vm, under: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let (a, b) = (
        sb.dir.join(format!("{under}a")),
        sb.dir.join(format!("{under}b")),
    );
    for (dir, k) in [(&a, 0), (&b, 1)] {
        fs::create_dir_all(dir).expect("mkdir");
        fs::write(dir.join(&vm.tap), binding(vm, k).render()).expect("write binding");
    }
    (a, b)
}

/// The datapath is a symlink to `a`; switched to `b` with `ln -sfn` + `mv -T`: the daemon
/// follows at once (no SIGHUP), serves `b`'s binding to a real dhclient, and watches `b`
/// (a file written there is read). Deleting `a` afterwards is none of its business: no
/// "vanished", no binding removed. SIGHUP after the switch rescans `b` and keeps tap0.
#[test]
fn symlinked_datapath_switched_is_followed_without_a_gap() {
    let test = "symlinked_datapath_switched_is_followed_without_a_gap";
    let Some(mut sb) = Sandbox::start_test(test, Needs::base()) else {
        return;
    };
    let vm = sb.add_quiet_vm("tap0");
    let (a, b) = two_dirs(&sb, &vm, "");
    let link = sb.dir.join("link");
    std::os::unix::fs::symlink(&a, &link).expect("ln -s a link");
    sb.state_dir = link.clone();
    start(&mut sb, &Conf::default());
    sb.wait_log(0, "binding active tap=tap0 ", BINDING_TIMEOUT);
    expect_lease(&mut sb, &vm, "192.0.2.100");

    let mark = sb.log_mark();
    switch_symlink(&sb, &link, &b);
    sb.wait_log(
        mark,
        &format!("state directory followed datapath={}", link.display()),
        BINDING_TIMEOUT,
    );
    sb.wait_log(mark, "binding active tap=tap0 ", BINDING_TIMEOUT);
    expect_lease(&mut sb, &vm, "192.0.2.101");

    // The old directory deleted: nothing happens to the bindings.
    fs::remove_dir_all(&a).expect("rm -r a");
    // Written into b through the link: read, so b is watched.
    barrier(&mut sb, mark);
    let mark_hup = sb.log_mark();
    sb.signal_daemon("HUP");
    sb.wait_log(mark_hup, "INFO reload done", BINDING_TIMEOUT);
    for bad in [
        "vanished;",
        "all bindings removed",
        "binding removed tap=tap0",
        "cannot scan",
    ] {
        sb.assert_no_log(mark, bad);
    }
    expect_lease(&mut sb, &vm, "192.0.2.101");
    sb.assert_log_clean();
}

/// The datapath is `top/state` with `top` a symlink: a switch of `top` is a rename where no
/// watch sees it. SIGHUP resolves the datapath again, serves the new directory (diffed: no
/// binding removed) and moves the watch there: a file written into the new directory is
/// read, one written into the old directory is not.
#[test]
fn datapath_switched_above_its_parent_is_followed_at_sighup() {
    let test = "datapath_switched_above_its_parent_is_followed_at_sighup";
    let Some(mut sb) = Sandbox::start_test(test, Needs::base()) else {
        return;
    };
    let vm = sb.add_quiet_vm("tap0");
    let (t1, t2) = (sb.dir.join("t1"), sb.dir.join("t2"));
    let (a, b) = two_dirs(&sb, &vm, "");
    fs::create_dir(&t1).expect("mkdir t1");
    fs::create_dir(&t2).expect("mkdir t2");
    fs::rename(&a, t1.join("state")).expect("mv a t1/state");
    fs::rename(&b, t2.join("state")).expect("mv b t2/state");
    let top = sb.dir.join("top");
    std::os::unix::fs::symlink(&t1, &top).expect("ln -s t1 top");
    sb.state_dir = top.join("state");
    start(&mut sb, &Conf::default());
    sb.wait_log(0, "binding active tap=tap0 ", BINDING_TIMEOUT);
    expect_lease(&mut sb, &vm, "192.0.2.100");

    let mark = sb.log_mark();
    switch_symlink(&sb, &top, &t2);
    sb.signal_daemon("HUP");
    sb.wait_log(mark, "INFO reload done", BINDING_TIMEOUT);
    sb.wait_log(mark, "state directory followed", BINDING_TIMEOUT);
    sb.wait_log(mark, "binding active tap=tap0 ", BINDING_TIMEOUT);
    expect_lease(&mut sb, &vm, "192.0.2.101");
    // The old directory: not watched any more.
    let old = t1.join("state").join("tap0");
    fs::write(&old, binding(&vm, 5).render()).expect("write t1/state/tap0");
    fs::remove_dir_all(&t1).expect("rm -r t1");
    barrier(&mut sb, mark);
    for bad in ["vanished;", "binding removed tap=tap0", "ip=192.0.2.105"] {
        sb.assert_no_log(mark, bad);
    }
    expect_lease(&mut sb, &vm, "192.0.2.101");
    sb.assert_log_clean();
}

// ---------------------------------------------------------------------------------------------
// What is not a binding file, created at run time; many files at once.

/// A FIFO, a symlink and a directory created under binding names while the daemon runs are
/// reported at once (not at the next SIGHUP), by kind; the daemon never opens the FIFO for
/// a blocking read: a SIGHUP rescan completes, and the VM is still served.
#[test]
fn fifo_and_symlink_created_at_run_time_are_reported_at_once() {
    let test = "fifo_and_symlink_created_at_run_time_are_reported_at_once";
    let Some((mut sb, vms)) = setup(test, 1, &Conf::default(), Needs::base()) else {
        return;
    };
    let vm = &vms[0];
    let state = sb.state_dir.clone();
    let mark = sb.log_mark();
    let fifo = state.join("tapf");
    run(&format!("mkfifo {}", fifo.display())).unwrap_or_else(|e| sb.fail(&e));
    std::os::unix::fs::symlink(state.join("tap0"), state.join("tapl")).expect("ln -s");
    fs::create_dir(state.join("tapd")).expect("mkdir tapd");
    for (name, kind) in [("tapf", "FIFO"), ("tapl", "symlink"), ("tapd", "directory")] {
        let at = sb.wait_log(
            mark,
            &format!("WARN binding refused file={}", state.join(name).display()),
            BINDING_TIMEOUT,
        );
        let line = sb
            .daemon_log()
            .lines()
            .nth(at - 1)
            .unwrap_or_default()
            .to_string();
        if !line.contains(&format!("kind={kind}")) || !line.contains("not a regular file") {
            sb.fail(&format!(
                "{name}: expected `not a regular file kind={kind}`: {line}"
            ));
        }
    }
    let mark = sb.log_mark();
    sb.signal_daemon("HUP");
    sb.wait_log(mark, "INFO reload done", BINDING_TIMEOUT);
    sb.wait_log(mark, "WARN binding refused", BINDING_TIMEOUT);
    expect_lease(&mut sb, vm, "192.0.2.100");
    sb.assert_log_clean();
}

/// 20,000 binding files written at once (for taps that do not exist): the log gets a few
/// per-binding lines and a summary that accounts for the rest, not 20,000 lines; the
/// daemon goes on serving.
#[test]
fn twenty_thousand_binding_files_at_once_log_a_summary() {
    const FILES: usize = 20_000;
    let test = "twenty_thousand_binding_files_at_once_log_a_summary";
    let Some((mut sb, vms)) = setup(test, 1, &Conf::default(), Needs::base()) else {
        return;
    };
    let mark = sb.log_mark();
    let started = Instant::now();
    for i in 0..FILES {
        let text = format!(
            "MAC=02:00:5e:{:02x}:{:02x}:{:02x}\nIP=192.0.2.{}\n",
            i >> 16,
            (i >> 8) & 255,
            i & 255,
            i % 200 + 10
        );
        fs::write(sb.binding_path(&format!("tapx{i}")), text).expect("write binding");
    }
    eprintln!("{FILES} files written in {:?}", started.elapsed());
    // Every tap accounted for: on a line of its own, or in a summary's count.
    let accounted = |sb: &Sandbox| {
        let (mut own, mut summed) = (0usize, 0usize);
        for l in sb.daemon_log().lines().skip(mark) {
            if l.starts_with("INFO binding inactive tap=tapx") {
                own += 1;
            } else if log_has(l, "bindings changed in a burst") {
                summed += field(l, "inactive");
            }
        }
        own + summed
    };
    sb.wait_until(
        &format!("all {FILES} new bindings logged or counted"),
        Duration::from_secs(120),
        || (accounted(&sb) >= FILES).then_some(()),
    );
    let lines: Vec<String> = sb
        .daemon_log()
        .lines()
        .skip(mark)
        .filter(|l| !l.starts_with("DEBUG"))
        .map(str::to_string)
        .collect();
    eprintln!(
        "{} lines at info and above:\n{}",
        lines.len(),
        lines.join("\n")
    );
    if lines.len() > 100 {
        sb.fail(&format!(
            "{} log lines at info and above for {FILES} new files",
            lines.len()
        ));
    }
    if !lines
        .iter()
        .any(|l| log_has(l, "bindings changed in a burst"))
    {
        sb.fail("no summary line");
    }
    expect_lease(&mut sb, &vms[0], "192.0.2.100");
}

/// `key=N` of a log line, 0 if absent.
fn field(line: &str, key: &str) -> usize {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.trim_end_matches([',', ';']).parse().ok())
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// inotify overflow.

/// Sets a sysctl (a /proc/sys path) for the guard's life; the old value comes back in Drop,
/// also when the test panics.
struct Sysctl {
    path: &'static str,
    old: String,
}

impl Sysctl {
    fn set(path: &'static str, value: &str) -> Sysctl {
        let old = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
        fs::write(path, value).unwrap_or_else(|e| panic!("write {path}: {e}"));
        Sysctl {
            path,
            old: old.trim().to_string(),
        }
    }
}

impl Drop for Sysctl {
    fn drop(&mut self) {
        if let Err(e) = fs::write(self.path, &self.old) {
            eprintln!(
                "ERROR: could not restore {} to {}: {e}",
                self.path, self.old
            );
        }
    }
}

const MAX_QUEUED_EVENTS: &str = "/proc/sys/fs/inotify/max_queued_events";

/// The daemon's inotify instance gets a queue of 16 events (fs.inotify.max_queued_events is
/// read when an instance is created: lowered only while the daemon starts, restored at
/// once). With the daemon stopped (SIGSTOP), a burst of binding changes far over 16 events
/// (40 files for bridge interfaces written, half of them deleted again, the others and tap0
/// rewritten with new addresses, tap1's file deleted) overflows it; after SIGCONT the daemon
/// logs the overflow, rescans, and its table is exactly what the directory holds, the
/// deletions lost with the overflowed events included. Changes after that are followed as
/// usual, and both the rewritten and the removed binding behave accordingly on the wire.
#[test]
fn inotify_overflow_rescans_to_the_directory_contents() {
    let test = "inotify_overflow_rescans_to_the_directory_contents";
    let Some(mut sb) = Sandbox::start_test(test, Needs::base().scapy()) else {
        return;
    };
    let vm = sb.add_quiet_vm("tap0");
    let gone = sb.add_quiet_vm("tap1");
    sb.write_binding("tap0", &binding(&vm, 0));
    sb.write_binding("tap1", &binding(&gone, 1));
    const N: usize = 40;
    for i in 0..N {
        sb.host_must(&format!("ip link add dum{i} type bridge"));
    }
    {
        let _no_other_starts = INOTIFY_LIMIT.write().unwrap_or_else(|e| e.into_inner());
        let _limit = Sysctl::set(MAX_QUEUED_EVENTS, "16");
        sb.start_daemon(&Conf::default());
    }
    let now = fs::read_to_string(MAX_QUEUED_EVENTS).unwrap_or_default();
    eprintln!("{MAX_QUEUED_EVENTS} restored to {}", now.trim());
    sb.wait_log(0, "binding active tap=tap0", BINDING_TIMEOUT);
    sb.wait_log(0, "binding active tap=tap1", BINDING_TIMEOUT);

    let write = |sb: &Sandbox, i: usize, last: u8| {
        let text = format!("MAC=02:00:5e:20:00:{i:02x}\nIP=192.0.2.{last}\nSUBNET={SUBNET}\n");
        fs::write(sb.binding_path(&format!("dum{i}")), text).expect("write dum");
    };
    let mark = sb.log_mark();
    sb.signal_daemon("STOP");
    for i in 0..N {
        write(&sb, i, 10);
    }
    for i in (1..N).step_by(2) {
        fs::remove_file(sb.binding_path(&format!("dum{i}"))).expect("rm dum");
    }
    for i in (0..N).step_by(2) {
        write(&sb, i, 20);
    }
    sb.write_binding("tap0", &binding(&vm, 7));
    sb.remove_binding("tap1");
    sb.signal_daemon("CONT");
    sb.wait_log(mark, "inotify queue overflowed;", BINDING_TIMEOUT);
    let mut want: BTreeMap<String, String> = (0..N)
        .step_by(2)
        .map(|i| (format!("dum{i}"), "192.0.2.20".to_string()))
        .collect();
    want.insert("tap0".into(), "192.0.2.107".into());
    expect_table(&mut sb, &want, "after the overflow");

    // Followed as usual afterwards (no overflow for a few events).
    let mark = sb.log_mark();
    write(&sb, 0, 30);
    fs::remove_file(sb.binding_path("dum2")).expect("rm dum2");
    barrier(&mut sb, mark);
    want.insert("dum0".into(), "192.0.2.30".into());
    want.remove("dum2");
    expect_table(&mut sb, &want, "after later changes");
    expect_lease(&mut sb, &vm, "192.0.2.107");
    expect_accepted(&mut sb, &gone, 2);
}

/// Waits until the daemon's table (its SIGUSR1 dump: tap -> IP) is `want`.
fn expect_table(sb: &mut Sandbox, want: &BTreeMap<String, String>, when: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = dump_bindings(sb);
        if &got == want {
            return;
        }
        if Instant::now() >= deadline {
            sb.fail(&format!(
                "{when}: the daemon's bindings are\n{got:?}\nbut the directory holds\n{want:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// tap -> IP of every binding in the SIGUSR1 dump.
fn dump_bindings(sb: &mut Sandbox) -> BTreeMap<String, String> {
    let mark = sb.log_mark();
    sb.counters();
    sb.daemon_log()
        .lines()
        .skip(mark)
        .filter(|l| l.starts_with("INFO binding tap="))
        .filter_map(|l| {
            let field = |k: &str| {
                l.split_whitespace()
                    .find_map(|w| w.strip_prefix(k))
                    .map(str::to_string)
            };
            Some((field("tap=")?, field("ip=")?))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// A binding file replaced 1000 times a second.

/// A writer replaces tap0's binding file 1000 times a second (temp file + rename), between
/// two complete versions: A (192.0.2.100, alpha) and B (192.0.2.101, beta). Meanwhile the VM
/// sends 3000 DISCOVERs (no rate limit) and runs dhclient twice. Every DISCOVER is answered
/// once, and every OFFER and every lease carries one version's (address, host name) pair,
/// never a mix; both versions are seen.
#[test]
fn binding_replaced_1000_times_a_second_every_reply_is_one_version() {
    let test = "binding_replaced_1000_times_a_second_every_reply_is_one_version";
    let conf = Conf::unlimited();
    let Some(mut sb) = Sandbox::start_test(test, Needs::base().scapy()) else {
        return;
    };
    let vm = sb.add_quiet_vm("tap0");
    let version = |ip: &str, host: &str| {
        Binding {
            ip: ip.into(),
            hostname: host.into(),
            ..Binding::for_vm(&vm)
        }
        .render()
    };
    let versions = [
        ("192.0.2.100", "alpha", version("192.0.2.100", "alpha")),
        ("192.0.2.101", "beta", version("192.0.2.101", "beta")),
    ];
    fs::write(sb.binding_path("tap0"), &versions[0].2).expect("write A");
    start(&mut sb, &conf);
    sb.wait_log(0, "binding active tap=tap0", BINDING_TIMEOUT);

    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicU64::new(0));
    let writer = {
        let (stop, writes) = (Arc::clone(&stop), Arc::clone(&writes));
        let texts = [versions[0].2.clone(), versions[1].2.clone()];
        let dir = sb.state_dir.clone();
        std::thread::spawn(move || replace_loop(&dir, &texts, &stop, &writes))
    };
    let started = Instant::now();
    let out = sb.spawn_vmpkt(&vm, &["--pps", "1000", "discover", "--count", "3000"]);
    let mut leases = Vec::new();
    for _ in 0..2 {
        let run = sb.dhclient(&vm, &DhcpOpts::default());
        let lease = sb.expect_lease(run);
        sb.stop_dhclient(run);
        leases.push((
            lease.get("new_ip_address").unwrap_or("-").to_string(),
            lease.get("new_host_name").unwrap_or("-").to_string(),
        ));
    }
    let done = sb.wait_vmpkt(&out, Duration::from_secs(60));
    stop.store(true, Ordering::Relaxed);
    let (writer_result, elapsed) = (writer.join(), started.elapsed());
    if let Err(e) = writer_result {
        std::panic::resume_unwind(e);
    }
    let n = writes.load(Ordering::Relaxed);
    let rate = n as f64 / elapsed.as_secs_f64();
    let ok = |ip: &str, host: &str| versions.iter().any(|v| v.0 == ip && v.1 == host);
    let ctx = format!(
        "{n} replacements in {elapsed:?} ({rate:.0}/s); tool: {done:?}; leases: {leases:?}"
    );
    eprintln!("{ctx}");
    let (sent, offers) = (done_u64(&done, "sent"), done_u64(&done, "offers"));
    expect_eq(&sb, "DISCOVERs sent", sent, 3000, &ctx);
    expect_eq(
        &sb,
        "OFFERs received (one per DISCOVER)",
        offers,
        sent,
        &ctx,
    );
    let mut seen = 0;
    for (key, count) in done
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("pairs.")?, v)))
    {
        let (ip, host) = key.split_once('|').unwrap_or((key, ""));
        if !ok(ip, host) {
            sb.fail(&format!(
                "{count} OFFERs carried ({ip}, {host}): no version has that\n{ctx}"
            ));
        }
        seen += 1;
    }
    if seen != 2 {
        sb.fail(&format!("the OFFERs did not show both versions: {ctx}"));
    }
    for (ip, host) in &leases {
        if !ok(ip, host) {
            sb.fail(&format!(
                "a lease carried ({ip}, {host}): no version has that\n{ctx}"
            ));
        }
    }
    if done.keys().any(|k| k.starts_with("other.")) {
        sb.fail(&format!("replies other than one OFFER per DISCOVER: {ctx}"));
    }
    if rate < 500.0 {
        sb.fail(&format!(
            "the writer managed only {rate:.0} replacements a second: {ctx}"
        ));
    }
    let (k, _) = sb.settle_counters(SETTLE);
    expect_eq(
        &sb,
        "replies + drop_*",
        outcome_sum(&k),
        ctr(&k, "dropped_bound"),
        &format!("{k:?}"),
    );
    expect_eq(
        &sb,
        "drop_internal_error",
        ctr(&k, "drop_internal_error"),
        0,
        &format!("{k:?}"),
    );
    sb.assert_no_log(0, "binding refused");
    sb.assert_no_log(0, "binding removed tap=tap0");
}

/// Replaces `<dir>/tap0` with the texts in turn (write `.tmp-tap0`, rename), one every
/// millisecond, until `stop`.
fn replace_loop(dir: &Path, texts: &[String; 2], stop: &AtomicBool, writes: &AtomicU64) {
    let tmp = dir.join(".tmp-tap0");
    let dst = dir.join("tap0");
    let mut next = Instant::now();
    let mut i = 0usize;
    while !stop.load(Ordering::Relaxed) {
        fs::write(&tmp, &texts[i % 2]).expect("write temp");
        fs::rename(&tmp, &dst).expect("rename");
        writes.fetch_add(1, Ordering::Relaxed);
        i += 1;
        next += Duration::from_millis(1);
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// No /dev/log.

/// Kills (SIGTERM, then SIGKILL) a daemon the test started in daemon mode, by the pid its
/// pid file names, once checked to be an nfdhcpd; in Drop, so also when the test fails.
struct Detached {
    pid: Option<u32>,
}

impl Detached {
    fn is_ours(pid: u32) -> bool {
        fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "nfdhcpd")
    }

    fn gone(pid: u32) -> bool {
        // Reaped (by init), or a zombie waiting for it.
        match fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => stat
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('Z')),
        }
    }

    /// SIGTERM; true when it exited within `timeout`.
    fn stop(&mut self, timeout: Duration) -> bool {
        let Some(pid) = self.pid.take() else {
            return true;
        };
        if !Self::is_ours(pid) {
            return true;
        }
        let _ = run_args(&["kill", "-TERM", &pid.to_string()]);
        let deadline = Instant::now() + timeout;
        while !Self::gone(pid) {
            if Instant::now() >= deadline {
                if Self::is_ours(pid) {
                    let _ = run_args(&["kill", "-KILL", &pid.to_string()]);
                }
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }
}

impl Drop for Detached {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(5));
    }
}

/// Daemon mode (no `-f`) logs to syslog; without /dev/log (as on this machine) it must fall
/// back to `<logdir>/nfdhcpd.log` (README), say so there and on the starting process's
/// stderr (the operator's terminal), and log everything else there: start-up, the
/// per-packet detail of `-d`, the SIGTERM.
#[test]
fn daemon_mode_without_dev_log_logs_to_logdir() {
    let test = "daemon_mode_without_dev_log_logs_to_logdir";
    let Some(mut sb) = Sandbox::start_test(test, Needs::base()) else {
        return;
    };
    if Path::new("/dev/log").exists() {
        skipped(
            test,
            "/dev/log exists on this machine: the fallback to <logdir>/nfdhcpd.log cannot be \
             observed without breaking the host's syslog",
        );
        return;
    }
    let vm = sb.add_quiet_vm("tap0");
    sb.write_binding("tap0", &Binding::for_vm(&vm));
    let conf_path = sb.write_config(&Conf::default());
    let conf_arg = conf_path.display().to_string();
    let mut parent = {
        let _g = INOTIFY_LIMIT.read().unwrap_or_else(|e| e.into_inner());
        let mut p = Proc::spawn(
            "nfdhcpd (daemon mode)",
            sb.nfdhcpd_command(&["-d", "-c", &conf_arg]),
        );
        let status = p.wait_exit(READY_TIMEOUT);
        if status.map(|s| s.code()) != Some(Some(0)) {
            sb.fail(&format!(
                "daemon mode start: {status:?}, output:\n{}",
                p.log.text()
            ));
        }
        p
    };
    let pidfile = sb.dir.join("nfdhcpd.pid");
    let pid: u32 = fs::read_to_string(&pidfile)
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or_else(|| sb.fail("no pid in the pid file"));
    let mut daemon = Detached {
        pid: Detached::is_ours(pid).then_some(pid),
    };
    if daemon.pid.is_none() {
        sb.fail(&format!("pid {pid} of the pid file is not an nfdhcpd"));
    }
    let logfile = sb.dir.join("nfdhcpd.log");
    let read_log = || fs::read_to_string(&logfile).unwrap_or_default();
    let log = read_log();
    let note = format!("logging to {}", logfile.display());
    let told = |l: &str| l.starts_with("nfdhcpd: syslog unavailable") && l.contains(&note);
    if parent.log.wait_for(0, told, READY_TIMEOUT).is_none() {
        sb.fail(&format!(
            "the starting process did not print the fallback note on stderr:\n{}",
            parent.log.text()
        ));
    }
    if !log
        .lines()
        .any(|l| l.contains("WARN syslog unavailable") && l.contains(&note))
        || !log.lines().any(|l| l.contains("INFO ready"))
    {
        sb.fail(&format!(
            "{} lacks the fallback note or `ready`:\n{log}",
            logfile.display()
        ));
    }
    expect_lease(&mut sb, &vm, VM_IP);
    let log = read_log();
    if !log.lines().any(|l| l.contains("DEBUG reply tap=tap0")) {
        sb.fail(&format!(
            "the per-packet lines are not in {}:\n{log}",
            logfile.display()
        ));
    }
    if !daemon.stop(Duration::from_secs(10)) {
        sb.fail("the daemon did not exit within 10 s of SIGTERM");
    }
    let log = read_log();
    if !log.lines().any(|l| l.contains("INFO signal 15: exiting")) || pidfile.exists() {
        sb.fail(&format!(
            "no clean stop in the log, or the pid file is left:\n{log}"
        ));
    }
    // Every line is `<timestamp> LEVEL message`, without control characters.
    for line in log.lines() {
        let rest = line.split_once(' ').map_or("", |(_, r)| r);
        if !is_daemon_log_line(rest) || line.chars().any(|c| c.is_control()) {
            sb.fail(&format!("broken line in {}: {line:?}", logfile.display()));
        }
    }
    let _ = parent.exited();
}

// ---------------------------------------------------------------------------------------------
// A second daemon on the same queues.

/// A second nfdhcpd in the same network namespace fails with a clear message and a non-zero
/// exit: with the same pid file, the pid file check names the running one; with another pid
/// file, binding queue 42 fails and the error names the queue and "another nfdhcpd"; in
/// daemon mode the starting process relays that. The first daemon is unharmed and still
/// serves a lease; no second daemon lingers.
#[test]
fn second_daemon_on_the_same_queues_fails_clearly_first_unharmed() {
    let test = "second_daemon_on_the_same_queues_fails_clearly_first_unharmed";
    let conf = Conf::default();
    let Some((mut sb, vms)) = setup(test, 1, &conf, Needs::base()) else {
        return;
    };
    let vm = &vms[0];
    let first = sb.daemon_pid();
    let mark = sb.log_mark();
    let same = sb.config_path().display().to_string();
    let second_conf = Conf {
        pidfile: Some(sb.dir.join("second.pid")),
        ..conf.clone()
    };
    let other = sb.dir.join("second.conf");
    fs::write(&other, second_conf.render(&sb.dir, &sb.state_dir)).expect("write second.conf");
    let other = other.display().to_string();

    let run_second = |sb: &Sandbox, args: &[&str]| {
        let _g = INOTIFY_LIMIT.read().unwrap_or_else(|e| e.into_inner());
        let mut p = Proc::spawn("second nfdhcpd", sb.nfdhcpd_command(args));
        let status = p.wait_exit(Duration::from_secs(20));
        // The output readers may lag behind the exit by a moment.
        let deadline = Instant::now() + Duration::from_secs(2);
        while p.log.text().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        (status, p.log.text())
    };
    let cases: [(&str, Vec<&str>, Vec<String>); 3] = [
        (
            "same pid file, foreground",
            vec!["-f", "-c", &same],
            vec![format!("another nfdhcpd is running (pid {first}")],
        ),
        (
            "own pid file, foreground",
            vec!["-f", "-c", &other],
            vec![
                "NFQUEUE 42".into(),
                "queue 42".into(),
                "another nfdhcpd".into(),
            ],
        ),
        (
            "own pid file, daemon mode",
            vec!["-c", &other],
            vec!["NFQUEUE 42".into(), "another nfdhcpd".into()],
        ),
    ];
    for (what, args, want) in &cases {
        let (status, out) = run_second(&sb, args);
        match status.and_then(|s| s.code()) {
            Some(code) if code != 0 => {}
            _ => sb.fail(&format!(
                "{what}: the second daemon exited {status:?}:\n{out}"
            )),
        }
        if !want.iter().all(|w| out.contains(w.as_str())) {
            sb.fail(&format!("{what}: the error should hold {want:?}:\n{out}"));
        }
        eprintln!("{what}: exit {status:?}: {}", out.trim());
    }
    // No second daemon lingers in the namespace; the second pid file was never left behind.
    let pids = sb.host_must(&format!("ip netns pids {}", sb.host));
    let daemons: Vec<&str> = pids
        .split_whitespace()
        .filter(|p| {
            fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "nfdhcpd")
        })
        .collect();
    if daemons != [first.to_string().as_str()] {
        sb.fail(&format!(
            "nfdhcpd processes in the namespace: {daemons:?}, expected only {first}"
        ));
    }
    if sb.dir.join("second.pid").exists() {
        sb.fail("the failed second daemon left its pid file");
    }
    // The first one: no complaint in its log, still serving.
    for level in ["ERROR", "WARN"] {
        if let Some(l) = sb
            .daemon_log()
            .lines()
            .skip(mark)
            .find(|l| l.starts_with(level))
        {
            sb.fail(&format!("the first daemon logged: {l}"));
        }
    }
    expect_lease(&mut sb, vm, VM_IP);
    let k = sb.counters();
    if ctr(&k, "dhcp4_offer") == 0 || ctr(&k, "verdict_errors") != 0 {
        sb.fail(&format!("the first daemon's counters: {k:?}"));
    }
}

/// Issue 11: an nfdhcpd killed with SIGKILL and not reaped yet (a zombie, whose queues and
/// sockets are already closed) still has its pid in the pid file. A daemon started at once
/// with the same pid file treats it as stale and serves; it used to exit 1 with "another
/// nfdhcpd is running".
#[test]
fn restart_while_the_killed_daemon_is_an_unreaped_zombie() {
    let test = "restart_while_the_killed_daemon_is_an_unreaped_zombie";
    let Some((mut sb, vms)) = setup(test, 1, &Conf::default(), Needs::base()) else {
        return;
    };
    let vm = &vms[0];
    let old = sb.daemon_pid();
    // Not through `Proc::signal`: that reaps the process, and this test needs it unreaped.
    run_args(&["kill", "-KILL", &old.to_string()]).unwrap_or_else(|e| sb.fail(&e));
    sb.wait_until(
        "the killed daemon is a zombie",
        Duration::from_secs(10),
        || {
            let stat = fs::read_to_string(format!("/proc/{old}/stat")).ok()?;
            stat.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
                .then_some(())
        },
    );
    let config = sb.config_path().display().to_string();
    let mut new = Proc::spawn(
        "restarted nfdhcpd",
        sb.nfdhcpd_command(&["-f", "-d", "-c", &config]),
    );
    if !new.wait_ready(READY_TIMEOUT) {
        sb.fail(&format!(
            "the restarted daemon did not get ready:\n{}",
            new.log.text()
        ));
    }
    let run = sb.dhclient(vm, &DhcpOpts::default());
    let lease = sb.expect_lease(run);
    assert_eq!(
        lease.get("new_ip_address"),
        Some("192.0.2.100"),
        "{}",
        lease.dump()
    );
    new.signal("TERM");
    assert!(
        new.wait_exit(Duration::from_secs(10))
            .is_some_and(|s| s.success()),
        "the restarted daemon stops cleanly:\n{}",
        new.log.text()
    );
}

// ---------------------------------------------------------------------------------------------
// A burst while the daemon is not reading.

/// A burst of 2000 DISCOVERs arrives while the daemon is stopped (SIGSTOP): the kernel holds
/// every one of them for the queue (the enlarged netlink receive buffer and queue length of
/// DESIGN.md §4; the kernel's default buffer kept 166 of 2000), and once the daemon runs
/// again each gets its verdict and an OFFER: nothing dropped by the kernel, by the reply
/// channel or by the sender. The rate limit is off: this is about the buffers.
#[test]
fn burst_of_2000_requests_while_stalled_is_answered_in_full() {
    let test = "burst_of_2000_requests_while_stalled_is_answered_in_full";
    const BURST: u64 = 2000;
    let conf = Conf::unlimited();
    let Some((mut sb, vms)) = setup(test, 1, &conf, Needs::base().scapy()) else {
        return;
    };
    let vm = &vms[0];
    let queued_before = sb
        .nfqueue_rule_counts()
        .get(&DHCP_QUEUE)
        .copied()
        .unwrap_or(0);
    sb.signal_daemon("STOP");
    let count = BURST.to_string();
    let out = sb.spawn_vmpkt(vm, &["discover", "--count", &count, "--wait", "30"]);
    let queue = |sb: &Sandbox| {
        let text = sb.host_must("cat /proc/net/netfilter/nfnetlink_queue");
        kernel_queues(&text)
            .into_iter()
            .find(|q| q.queue == DHCP_QUEUE)
    };
    let held = sb.wait_until(
        &format!("{BURST} DISCOVERs queued while the daemon is stopped"),
        Duration::from_secs(30),
        || {
            let queued = sb.nfqueue_rule_counts().get(&DHCP_QUEUE).copied()?;
            (queued >= queued_before + BURST).then(|| queue(&sb))?
        },
    );
    sb.signal_daemon("CONT");
    let done = sb.wait_vmpkt(&out, Duration::from_secs(60));
    let (k, _) = sb.settle_counters(SETTLE);
    let after = queue(&sb);
    let ctx = format!(
        "kernel queue while stopped: {held:?}, after: {after:?}; tool: {done:?}; counters: {k:?}"
    );
    eprintln!("{ctx}");
    expect_eq(
        &sb,
        "requests waiting in the kernel",
        held.waiting,
        BURST,
        &ctx,
    );
    let lost = after.map(|q| q.queue_dropped + q.user_dropped);
    expect_eq(
        &sb,
        "dropped by the kernel",
        lost.unwrap_or(u64::MAX),
        0,
        &ctx,
    );
    expect_eq(
        &sb,
        "DISCOVERs read",
        ctr(&k, "dhcp4_discover"),
        BURST,
        &ctx,
    );
    expect_eq(&sb, "OFFERs built", ctr(&k, "dhcp4_offer"), BURST, &ctx);
    // Less the binding's own announcements (its GARP when it became active).
    let announced = ctr(&k, "garp_sent") + ctr(&k, "na_unsolicited") + ctr(&k, "ra_periodic");
    expect_eq(
        &sb,
        "OFFERs written",
        ctr(&k, "sent") - announced,
        BURST,
        &ctx,
    );
    expect_eq(&sb, "verdicts", ctr(&k, "dropped_bound"), BURST, &ctx);
    expect_eq(
        &sb,
        "OFFERs the VM got",
        done_u64(&done, "offers"),
        BURST,
        &ctx,
    );
}

// ---------------------------------------------------------------------------------------------
// The channel to the sender, full. From outside it cannot be forced (the sender drains 4096
// replies far faster than the kernel delivers requests), so at unit level, on the library.

/// With nobody draining the channel, the first CHANNEL_DEPTH replies are queued and every
/// further one is dropped and counted in `reply_queue_full`, without blocking the worker;
/// with the sender gone (channel disconnected), the same.
#[test]
fn full_reply_channel_drops_and_counts_without_blocking() {
    let stats = Arc::new(Stats::default());
    let (handle, sender_loop) = sender::channel(Arc::clone(&stats));
    let extra = 100;
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = {
        let handle = handle.clone();
        std::thread::spawn(move || {
            for _ in 0..CHANNEL_DEPTH + extra {
                let buf = handle.buffer();
                handle.send(Frame {
                    ifindex: 1,
                    len: 60,
                    buf,
                });
            }
            let _ = tx.send(());
        })
    };
    if rx.recv_timeout(Duration::from_secs(10)).is_err() {
        panic!("a worker blocked on the full channel (it must drop and count instead)");
    }
    worker.join().expect("worker");
    let full = |s: &Stats| s.reply_queue_full.load(Ordering::Relaxed);
    assert_eq!(full(&stats), extra as u64, "replies dropped and counted");
    assert_eq!(stats.sent.load(Ordering::Relaxed), 0);
    drop(sender_loop);
    handle.send(Frame {
        ifindex: 1,
        len: 60,
        buf: handle.buffer(),
    });
    assert_eq!(
        full(&stats),
        extra as u64 + 1,
        "a send after the sender is gone is counted"
    );
}

/// Issue 10: `[general] rate_limit` and `rate_burst` apply on SIGHUP (they used to be logged
/// as "restart to apply" and dropped, though the README said they were live), and a changed
/// `user` is logged as needing a restart. The same burst of 200 DISCOVERs is answered in full
/// before the reload and capped by the new bucket (5 at once, then 1/s) after it.
#[test]
fn reloaded_rate_limit_applies_to_the_running_daemon() {
    let test = "reloaded_rate_limit_applies_to_the_running_daemon";
    const BURST: u64 = 200;
    let conf = Conf::unlimited();
    let Some((mut sb, vms)) = setup(test, 1, &conf, Needs::base().scapy()) else {
        return;
    };
    let vm = &vms[0];
    let count = BURST.to_string();
    let args = ["discover", "--count", &count, "--wait", "3"];
    let before = sb.run_vmpkt(vm, &args, Duration::from_secs(60));
    let ctx = format!("before the reload: {before:?}");
    expect_eq(
        &sb,
        "DISCOVERs sent",
        done_u64(&before, "sent"),
        BURST,
        &ctx,
    );
    expect_eq(
        &sb,
        "OFFERs (no limit)",
        done_u64(&before, "offers"),
        BURST,
        &ctx,
    );

    let limited = Conf {
        general_extra: vec!["rate_limit = 1".into(), "rate_burst = 5".into()],
        user: "daemon".into(),
        ..conf
    };
    sb.write_config(&limited);
    let mark = sb.log_mark();
    sb.signal_daemon("HUP");
    sb.wait_log(mark, "INFO reload done", BINDING_TIMEOUT);
    sb.wait_log(
        mark,
        "INFO reload: applied general.rate_limit=1",
        BINDING_TIMEOUT,
    );
    sb.wait_log(
        mark,
        "INFO reload: applied general.rate_burst=5",
        BINDING_TIMEOUT,
    );
    sb.wait_log(
        mark,
        "WARN reload: general.user changed; restart nfdhcpd to apply it",
        BINDING_TIMEOUT,
    );

    let dropped_before = sb.counter("drop_rate_limited");
    let started = Instant::now();
    let after = sb.run_vmpkt(vm, &args, Duration::from_secs(60));
    let secs = started.elapsed().as_secs();
    let dropped = sb.counter("drop_rate_limited") - dropped_before;
    let offers = done_u64(&after, "offers");
    let ctx = format!("after the reload: {after:?}; {dropped} rate-limited in {secs} s");
    expect_eq(&sb, "DISCOVERs sent", done_u64(&after, "sent"), BURST, &ctx);
    // The burst of 5, plus at most one token per second the run took.
    if offers > 5 + secs + 1 {
        sb.fail(&format!(
            "{offers} OFFERs: the reloaded limit did not apply\n{ctx}"
        ));
    }
    expect_eq(&sb, "OFFERs + rate-limited", offers + dropped, BURST, &ctx);
}
