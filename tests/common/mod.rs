//! Real-kernel harness of the end-to-end tests.
//!
//! Every end-to-end test starts with [`Sandbox::start_test`]: it checks the test's [`Needs`]
//! and either returns the sandbox or records the test as skipped (never as passed: see
//! [`skipped`] and tests/run-all.sh's summary) and the test returns.
//!
//! A [`Sandbox`] is one test's private world: a temp dir (`/tmp/nfdhcpd-test-<pid>-<n>`), a
//! "host" network namespace holding the iptables rules of DESIGN §1 and the `tapN` ends of veth
//! pairs, one "vm" namespace per VM holding the peer (`eth0`), the real daemon running in the
//! host namespace and real, unmodified ISC dhclient runs in the VM namespaces. dhclient's
//! `-sf` script is ours: it records what dhclient passes (one block per call) and applies the
//! address, MTU and routes (option 121, else the router) to `eth0`, and never touches the
//! machine's resolv.conf. dhclient asks for option 121 and 119 only with
//! `DhcpOpts::extra_conf` = [`DHCLIENT_ASK_ROUTES`].
//!
//! Every wait polls for a readiness signal (a daemon log line, a block the script wrote, a
//! process exit) under a deadline, and fails with the daemon's stderr and everything else
//! worth seeing. Everything is torn down in `Drop`, also when the test panics; leftovers of an
//! earlier run that died without unwinding (SIGKILL, a CI time-out) are removed on set-up:
//! names carry the pid of the run that made them, and only names of dead pids are touched.
//! Processes are only ever ended by the pid we spawned them with.
//!
//! IPv6 (tests/e2e_ipv6.rs): [`Sandbox::add_ipv6_rules`] adds the ip6tables rules of DESIGN §1
//! (RS, NS, DHCPv6; routed and bridged), [`Conf::ipv6`] the `[ipv6]` section, and
//! [`Binding::for_vm6`] a binding with SUBNET6, GATEWAY6 and EUI64. The VMs' clients are real:
//! the kernel's SLAAC, rdisc6/ndisc6, `dhclient -6 -S`, rdnssd and tcpdump
//! ([`Sandbox::spawn_in`] runs such helpers in a namespace and ends them in `Drop`).
//! Stateful DHCPv6: [`Sandbox::dhclient6_stateful`] (`dhclient -6`, IA_NA and/or IA_PD; the
//! script applies the address as Debian's does; what it sends on a restart and when it
//! renews: [`Dhcp6Opts`]) and [`Sandbox::dhcpcd6`] (`dhcpcd -6`, which follows the RA's M
//! flag and installs the address itself; each run in a private mount namespace).
#![allow(dead_code)] // each test crate uses its own part of the harness

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::net::Ipv6Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Once, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Names of our network namespaces: `nfdt-<pid>-<n>-h`, `nfdt-<pid>-<n>-v<k>`.
pub const NETNS_PREFIX: &str = "nfdt-";
/// Names of our temp dirs in /tmp: `nfdhcpd-test-<pid>-<n>`.
pub const TMP_PREFIX: &str = "nfdhcpd-test-";

pub const SERVER_IP: &str = "192.0.2.1";
pub const GATEWAY: &str = "192.0.2.1";
pub const VM_IP: &str = "192.0.2.100";
pub const SUBNET: &str = "192.0.2.0/24";
pub const NAMESERVERS: &str = "192.0.2.2, 192.0.2.3";
pub const DOMAIN: &str = "example.com";
pub const HOSTNAME: &str = "testing-vm";
pub const DHCP_QUEUE: u16 = 42;
pub const RS_QUEUE: u16 = 43;
pub const NS_QUEUE: u16 = 44;
pub const DHCP6_QUEUE: u16 = 45;

/// The VMs' IPv6 subnet (documentation range only) and its gateway.
pub const SUBNET6: &str = "2001:db8:aaaa:bbbb::/64";
pub const PREFIX6: &str = "2001:db8:aaaa:bbbb::";
pub const GATEWAY6: &str = "2001:db8:aaaa:bbbb::1";
pub const NAMESERVERS6: [&str; 2] = ["2001:db8:100::1", "2001:db8:200::2"];

/// How long the daemon may take to bind its queues and load its bindings.
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a binding change may take to show in the daemon's log.
pub const BINDING_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a dhclient run that should get a lease may take (dhclient retries every 1-3 s).
pub const LEASE_TIMEOUT: Duration = Duration::from_secs(30);

/// dhclient's reasons that mean "I now hold this lease".
pub const LEASE_REASONS: &[&str] = &["BOUND", "RENEW", "REBIND", "REBOOT"];
/// `dhclient -6`'s reasons (stateful) that mean "I now hold this lease": one call per IA
/// (with `-P -N`, one with `new_ip6_address` and one with `new_ip6_prefix`). There is no
/// REBOOT6 in dhclient 4.4: a restart whose IA_NA lease was confirmed is BOUND6.
pub const LEASE6_REASONS: &[&str] = &["BOUND6", "RENEW6", "REBIND6"];
/// How long a stateful `dhclient -6` run that should get a lease may take: up to 1 s of
/// Solicit delay, a Solicit/Advertise and a Request/Reply exchange, retried from 1 s.
pub const LEASE6_TIMEOUT: Duration = Duration::from_secs(30);
/// dhcpcd's reasons (DHCPv6) that mean "I now hold this lease" (REBOOT6: a confirmed one).
pub const DHCPCD6_LEASE_REASONS: &[&str] = &["BOUND6", "REBOOT6", "RENEW6", "REBIND6"];
/// What a [`Sandbox::dhcpcd6`] test needs on top of [`Needs::base`]:
/// `Needs::tools(DHCPCD_TOOLS)`.
pub const DHCPCD_TOOLS: &[&str] = &["dhcpcd", "unshare", "mount"];

/// The shipped firewall rules, read from the repository: the harness installs these
/// (src/rules.rs checks that they are `nfdhcpd --print-rules` of conf/nfdhcpd.conf, whose
/// queue numbers are the tests' too).
pub const SHIPPED_IPTABLES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/conf/nfdhcpd-iptables.sh"
));
/// The complete native nft rule set (queues, limits, counters): [`Firewall::Nft`].
pub const SHIPPED_NFT: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/conf/nfdhcpd.nft"));
/// The nft limits and counters loaded alongside the iptables rules: [`Firewall::Iptables`].
pub const SHIPPED_NFT_LIMITS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/conf/nfdhcpd-limits.nft"
));
/// The per-tap limit conf/nfdhcpd*.nft ship: the daemon's default rate_limit/rate_burst.
pub const DEFAULT_KERNEL_LIMIT: (u32, u32) = (20, 50);

/// Which shipped rule set queues the packets in every sandbox's host namespace:
/// `NFDHCPD_FIREWALL=iptables` (the default: conf/nfdhcpd-iptables.sh's rules and
/// conf/nfdhcpd-limits.nft alongside) or `NFDHCPD_FIREWALL=nft` (conf/nfdhcpd.nft alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firewall {
    Iptables,
    Nft,
}

/// The rule set of this run (see [`Firewall`]); any other value of the variable panics.
pub fn firewall() -> Firewall {
    static FW: OnceLock<Firewall> = OnceLock::new();
    *FW.get_or_init(|| match std::env::var("NFDHCPD_FIREWALL").as_deref() {
        Err(_) | Ok("") | Ok("iptables") => Firewall::Iptables,
        Ok("nft") => Firewall::Nft,
        Ok(other) => panic!("NFDHCPD_FIREWALL={other}: not iptables or nft"),
    })
}

/// The shipped nft files with the bridged IPv6 opt-in on: the rules commented out as
/// `#iifname ...` uncommented (as `BRIDGED_IPV6=yes` for the iptables rules).
pub fn nft_opt_ins_on(text: &str) -> String {
    text.lines()
        .map(|l| match l.trim_start().strip_prefix("#iifname") {
            Some(rest) => format!("{}iifname{rest}\n", &l[..l.len() - l.trim_start().len()]),
            None => format!("{l}\n"),
        })
        .collect()
}

/// The mark a queue rule sets instead of queueing when this kernel has no nft queue
/// expression (see [`Sandbox::nft_queue_emulated`]): the queue number in bits 16-23.
pub fn emulated_queue_mark(queue: u16) -> u32 {
    assert!(
        queue < 256,
        "queue {queue}: the emulation's mark holds 8 bits"
    );
    u32::from(queue) << 16
}

/// Whether this kernel has nft's queue expression (CONFIG_NFT_QUEUE), probed once in the
/// namespace `ns` with a rule in a chain of a scratch table.
fn kernel_has_nft_queue(ns: &str, dir: &Path) -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| {
        let path = dir.join("probe-queue.nft");
        let probe = "table inet nfdt_probe {\n chain c {\n  queue flags bypass to 65000\n }\n}\n";
        fs::write(&path, probe).unwrap_or_else(|e| panic!("write {path:?}: {e}"));
        let ok = in_ns(ns, &format!("nft -f {}", path.display())).is_ok();
        if ok {
            let _ = in_ns(ns, "nft delete table inet nfdt_probe");
        } else {
            eprintln!(
                "e2e: NFDHCPD_FIREWALL=nft on a kernel without nft's queue expression \
                 (CONFIG_NFT_QUEUE): each queue rule of conf/nfdhcpd.nft sets a mark instead \
                 (the queue number in bits 16-23), and an iptables NFQUEUE rule on that mark \
                 queues the packet, with --queue-bypass"
            );
        }
        ok
    })
}

/// The rule lines of conf/nfdhcpd-iptables.sh run by `cmd` (`iptables` or `ip6tables`),
/// as written there, with `-w` added (tests run side by side: wait for the xtables lock).
/// Every such line, whatever `if` it is in: the opt-ins are on (`BRIDGED_IPV6=yes`, the
/// bridged IPv6 rules, which the bridged IPv6 tests need).
pub fn shipped_rules(cmd: &str) -> Vec<String> {
    let rules: Vec<String> = SHIPPED_IPTABLES
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix(cmd)?.strip_prefix(' '))
        .map(|rest| format!("{cmd} -w {}", rest.trim()))
        .collect();
    assert!(
        !rules.is_empty(),
        "no {cmd} rules in conf/nfdhcpd-iptables.sh"
    );
    rules
}

/// A shipped nft file (`text`) with the per-tap limit `(rate, burst)` instead of the
/// shipped default, or without the limit rules (`None`).
pub fn shipped_nft(text: &str, limit: Option<(u32, u32)>) -> String {
    let (rate, burst) = DEFAULT_KERNEL_LIMIT;
    let shipped = format!("limit rate over {rate}/second burst {burst} packets");
    assert!(text.contains(&shipped), "shipped nft file: no `{shipped}`");
    match limit {
        Some((r, b)) => text.replace(
            &shipped,
            &format!("limit rate over {r}/second burst {b} packets"),
        ),
        None => text
            .lines()
            .filter(|l| !l.contains(&shipped))
            .map(|l| format!("{l}\n"))
            .collect(),
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);
static CLEAN_ONCE: Once = Once::new();

// ---------------------------------------------------------------------------------------------
// Prerequisites: skipping is not passing.

/// What an end-to-end test needs on top of root, `ip netns`, iptables, nft and dhclient,
/// which every one needs: more tools, and scapy for [`PYTHON3`] (the packet tool [`VMPKT`]).
#[derive(Clone, Debug, Default)]
pub struct Needs {
    tools: Vec<&'static str>,
    /// Python modules [`PYTHON3`] must import, with their Debian packages.
    modules: Vec<(&'static str, &'static str)>,
}

impl Needs {
    /// Root, `ip netns`, iptables, nft and dhclient only.
    pub fn base() -> Needs {
        Needs::default()
    }

    /// [`Needs::base`] plus these tools (found in PATH, /usr/sbin or /sbin).
    pub fn tools(tools: &[&'static str]) -> Needs {
        Needs::base().and(tools)
    }

    /// These tools too.
    pub fn and(mut self, tools: &[&'static str]) -> Needs {
        self.tools.extend_from_slice(tools);
        self
    }

    /// scapy for [`PYTHON3`] too (Debian package python3-scapy).
    pub fn scapy(self) -> Needs {
        self.python_module("scapy.layers.dhcp6", "python3-scapy")
    }

    /// A Python module for [`PYTHON3`] too, from Debian `package`.
    pub fn python_module(mut self, module: &'static str, package: &'static str) -> Needs {
        self.modules.push((module, package));
        self
    }

    /// Why the test cannot run here; `None` when it can.
    fn missing(&self) -> Option<String> {
        missing_prerequisite(&self.tools).or_else(|| {
            self.modules
                .iter()
                .find_map(|(m, p)| missing_python_module(m, p))
        })
    }
}

/// Records that `test` was skipped and why: a `SKIPPED` line on stderr (cargo shows it only
/// for failing tests) and, when tests/run-all.sh set `NFDHCPD_SKIP_DIR`, a file
/// `<crate>::<test>` there holding the reason, so its summary counts the test as skipped,
/// not passed. Not a failure, even under `CI=true`: for conditions of the machine that no
/// install can change (a missing prerequisite goes through [`Sandbox::start_test`]).
pub fn skipped(test: &str, why: &str) {
    eprintln!("SKIPPED (not passed) {test}: {why}");
    if let Some(dir) = std::env::var_os("NFDHCPD_SKIP_DIR") {
        // The second pass of tests/run-all.sh (NFDHCPD_FIREWALL=nft) counts its own skips.
        let pass = match firewall() {
            Firewall::Iptables => "",
            Firewall::Nft => "[nft]",
        };
        let file = Path::new(&dir).join(format!("{}::{test}{pass}", env!("CARGO_CRATE_NAME")));
        if let Err(e) = fs::write(&file, format!("{why}\n")) {
            eprintln!("warning: cannot record the skip in {}: {e}", file.display());
        }
    }
}

fn missing_prerequisite(extra_tools: &[&str]) -> Option<String> {
    if !is_root() {
        return Some("not running as root (network namespaces and iptables need it)".into());
    }
    for t in ["ip", "iptables", "nft", "dhclient"]
        .iter()
        .chain(extra_tools)
    {
        if find_tool(t).is_none() {
            return Some(format!(
                "`{t}` not found (Debian package {})",
                package_of(t)
            ));
        }
    }
    match Command::new(tool("ip")).args(["netns", "list"]).output() {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            return Some(format!("`ip netns list` failed: {}", err.trim()));
        }
        Err(e) => return Some(format!("cannot run `ip netns list`: {e}")),
    }
    None
}

fn package_of(tool: &str) -> &'static str {
    match tool {
        "ip" => "iproute2",
        "iptables" => "iptables",
        "nft" => "nftables",
        "dhclient" => "isc-dhcp-client",
        "dnsmasq" => "dnsmasq-base",
        "tcpdump" => "tcpdump",
        "ip6tables" => "iptables",
        "rdisc6" | "ndisc6" => "ndisc6",
        "rdnssd" => "rdnssd",
        "unshare" => "util-linux",
        "udhcpc" => "udhcpc",
        "dhcpcd" => "dhcpcd-base",
        "mount" => "mount",
        _ => "?",
    }
}

fn is_root() -> bool {
    // The effective uid is the second field of `Uid:` in /proc/self/status.
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|rest| rest.split_whitespace().nth(1).map(|e| e == "0"))
        .unwrap_or(false)
}

fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .filter(|d| !d.is_empty())
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file());
    found
}

/// The absolute path of a tool (PATH may lack /usr/sbin); the bare name if not found.
pub fn tool(name: &str) -> String {
    find_tool(name).map_or_else(|| name.to_string(), |p| p.display().to_string())
}

// ---------------------------------------------------------------------------------------------
// Running commands.

/// Runs a command line, split on whitespace (no argument of ours holds a space; the first
/// word is looked up with [`tool`]). Its stdout, or a message with the command, its status and
/// its output.
pub fn run(line: &str) -> Result<String, String> {
    run_args(&line.split_whitespace().collect::<Vec<_>>())
}

/// [`run`] with the arguments given one by one.
pub fn run_args(args: &[&str]) -> Result<String, String> {
    let line = args.join(" ");
    let out = Command::new(tool(args[0]))
        .args(&args[1..])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `{line}`: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        return Ok(stdout);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    Err(format!(
        "`{line}` failed ({}): {} {}",
        out.status,
        stderr.trim(),
        stdout.trim()
    ))
}

/// [`run`], panicking on failure.
pub fn must(line: &str) -> String {
    run(line).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs a command line inside a network namespace.
pub fn in_ns(ns: &str, line: &str) -> Result<String, String> {
    let (first, rest) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
    run(&format!("ip netns exec {ns} {} {rest}", tool(first)))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------------------------------------
// Leftovers of earlier runs.

/// Removes the namespaces and temp dirs whose owner pid is dead. Processes still running in
/// such a namespace (a daemon, dhclient or dnsmasq of that dead run) are killed by pid first.
pub fn clean_leftovers() {
    let me = std::process::id();
    let dead = |pid: u32| pid != me && !Path::new(&format!("/proc/{pid}")).exists();
    for name in netns_list() {
        if owner_pid(&name, NETNS_PREFIX).is_some_and(dead) {
            kill_leftover_processes(&name);
            if let Err(e) = run(&format!("ip netns del {name}")) {
                eprintln!("warning: leftover namespace {name}: {e}");
            }
        }
    }
    let Ok(entries) = fs::read_dir("/tmp") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if owner_pid(&name, TMP_PREFIX).is_some_and(dead) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// `<prefix><pid>-...` -> pid.
pub fn owner_pid(name: &str, prefix: &str) -> Option<u32> {
    name.strip_prefix(prefix)?.split('-').next()?.parse().ok()
}

pub fn netns_list() -> Vec<String> {
    run("ip netns list")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

fn kill_leftover_processes(ns: &str) {
    kill_in_netns(
        ns,
        &[
            "nfdhcpd", "dhclient", "dhcpcd", "dnsmasq", "rdnssd", "tcpdump", "rdisc6", "ndisc6",
        ],
    );
}

/// SIGKILL, by pid, to the processes in namespace `ns` (one of ours) named one of `comms`.
fn kill_in_netns(ns: &str, comms: &[&str]) {
    let pids = run(&format!("ip netns pids {ns}")).unwrap_or_default();
    for pid in pids
        .split_whitespace()
        .filter_map(|p| p.parse::<u32>().ok())
    {
        let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comms.contains(&comm.trim()) {
            let _ = run_args(&["sh", "-c", &format!("kill -KILL {pid}")]);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Processes and their output.

/// Lines a process wrote, collected by reader threads, with a condvar to wait on.
#[derive(Default)]
pub struct LogBuf {
    lines: Mutex<Vec<String>>,
    changed: Condvar,
}

impl LogBuf {
    pub fn lines(&self) -> Vec<String> {
        lock(&self.lines).clone()
    }
    pub fn len(&self) -> usize {
        lock(&self.lines).len()
    }
    pub fn text(&self) -> String {
        self.lines().join("\n")
    }
    fn push(&self, line: String) {
        lock(&self.lines).push(line);
        self.changed.notify_all();
    }
    /// Index of the first line at or after `from` matching `pred`.
    fn find(&self, from: usize, pred: &dyn Fn(&str) -> bool) -> Option<usize> {
        let lines = lock(&self.lines);
        (from..lines.len()).find(|&i| pred(&lines[i]))
    }
    /// Waits up to `timeout` for a line at or after `from` matching `pred`; its index.
    pub fn wait_for(
        &self,
        from: usize,
        pred: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Option<usize> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(i) = self.find(from, &pred) {
                return Some(i);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            self.wait_change(self.len(), (deadline - now).min(Duration::from_millis(50)));
        }
    }
    /// Sleeps until a new line arrives or `max` passes.
    fn wait_change(&self, seen: usize, max: Duration) {
        let lines = lock(&self.lines);
        if lines.len() == seen {
            let _ = self.changed.wait_timeout(lines, max);
        }
    }
}

fn collect(
    stream: impl Read + Send + 'static,
    buf: Arc<LogBuf>,
    tag: &'static str,
) -> JoinHandle<()> {
    thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            match line {
                Ok(l) => buf.push(format!("{tag}{l}")),
                Err(_) => break,
            }
        }
    })
}

/// A child process we spawned, ended by its pid in `Drop` if still running.
pub struct Proc {
    pub what: String,
    child: Child,
    pub log: Arc<LogBuf>,
    readers: Vec<JoinHandle<()>>,
    status: Option<ExitStatus>,
}

impl Proc {
    /// Spawns `cmd` with stdin closed and stdout/stderr collected (stdout lines tagged).
    pub fn spawn(what: &str, mut cmd: Command) -> Proc {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what} ({cmd:?}): {e}"));
        let log = Arc::new(LogBuf::default());
        let readers = vec![
            collect(
                child.stdout.take().expect("piped stdout"),
                log.clone(),
                "[stdout] ",
            ),
            collect(child.stderr.take().expect("piped stderr"), log.clone(), ""),
        ];
        Proc {
            what: what.to_string(),
            child,
            log,
            readers,
            status: None,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if the process has ended (it is reaped then).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Sends a signal, by the pid we spawned, only while the child is not reaped (so the pid
    /// cannot have been reused).
    pub fn signal(&mut self, sig: &str) {
        if self.exited().is_none() {
            let _ = run_args(&["sh", "-c", &format!("kill -{sig} {}", self.pid())]);
        }
    }

    /// Waits for an nfdhcpd of our own (not the sandbox's daemon) to log `INFO ready`;
    /// `false` when it exited or `timeout` passed first.
    pub fn wait_ready(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while !self.log.text().lines().any(|l| log_has(l, "INFO ready")) {
            if self.exited().is_some() || Instant::now() > deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(20));
        }
        true
    }

    /// Waits for the exit until `deadline`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.exited() {
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then SIGKILL after `grace`. Returns the status the process exited with, and
    /// whether it had to be killed.
    pub fn stop(&mut self, grace: Duration) -> (Option<ExitStatus>, bool) {
        self.signal("TERM");
        if let Some(s) = self.wait_exit(grace) {
            return (Some(s), false);
        }
        let _ = self.child.kill();
        (self.child.wait().ok(), true)
    }

    /// Waits until the output readers saw end of file (after the process ended).
    fn join_readers(&mut self) {
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Namespaces.

/// A network namespace we created; deleted in `Drop` (its veth pairs and bridges go with it).
pub struct Netns {
    pub name: String,
}

impl Netns {
    fn create(name: String) -> Netns {
        if netns_list().contains(&name) {
            // Same name as a leftover of an earlier run (the pid was reused).
            kill_leftover_processes(&name);
            let _ = run(&format!("ip netns del {name}"));
        }
        must(&format!("ip netns add {name}"));
        let ns = Netns { name };
        must(&format!("ip -n {} link set lo up", ns.name));
        ns
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Err(e) = run(&format!("ip netns del {}", self.name)) {
            eprintln!("warning: teardown: {e}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What the tests write: daemon config, binding files, dhclient options.

/// The daemon's configuration (the contract's sample, with the paths of the sandbox).
#[derive(Clone, Debug)]
pub struct Conf {
    pub lease_lifetime: u32,
    pub lease_renewal: u32,
    pub server_ip: String,
    pub server_on_link: bool,
    pub nameservers: String,
    pub domain: Option<String>,
    /// `[dhcp] enable_dhcp`; when false, the other DHCPv4 keys are left out.
    pub enable_dhcp: bool,
    /// The `[ipv6]` section; `None` renders `enable_ipv6 = no`.
    pub ipv6: Option<Conf6>,
    /// `[general] user`: `root` (the daemon keeps every privilege) unless a test asks for
    /// the privilege drop (`nobody`).
    pub user: String,
    /// `[general] pidfile`; `None`: `<dir>/nfdhcpd.pid`.
    pub pidfile: Option<PathBuf>,
    /// More `[general]` lines, verbatim (`rate_limit = 0`, ...).
    pub general_extra: Vec<String>,
    /// More `[dhcp]` lines, verbatim (`domain_search = ...`), when DHCPv4 is on.
    pub dhcp_extra: Vec<String>,
}

/// The `[ipv6]` section: queues 43 and 44 always, 45 when `dhcpv6` (mode slaac+dhcpv6, the
/// RA's O flag; without it the daemon picks slaac).
#[derive(Clone, Debug)]
pub struct Conf6 {
    pub ra_period: u32,
    pub dhcpv6: bool,
    pub nameservers: String,
    pub domains: Option<String>,
    /// `ntp_servers`; `None` leaves the key out.
    pub ntp_servers: Option<String>,
    /// `pref64`; `None` leaves the key out.
    pub pref64: Option<String>,
    /// More `key = value` lines for `[ipv6]` (`mode = dhcpv6`, lease times, ...).
    pub extra: Vec<String>,
}

impl Default for Conf6 {
    fn default() -> Conf6 {
        Conf6 {
            ra_period: 300,
            dhcpv6: true,
            nameservers: NAMESERVERS6.join(", "),
            domains: Some(DOMAIN.into()),
            ntp_servers: None,
            pref64: None,
            extra: Vec::new(),
        }
    }
}

impl Default for Conf {
    fn default() -> Conf {
        Conf {
            lease_lifetime: 604800,
            lease_renewal: 3600,
            server_ip: SERVER_IP.into(),
            server_on_link: false,
            nameservers: NAMESERVERS.into(),
            domain: Some(DOMAIN.into()),
            enable_dhcp: true,
            ipv6: None,
            user: "root".into(),
            pidfile: None,
            general_extra: Vec::new(),
            dhcp_extra: Vec::new(),
        }
    }
}

impl Conf {
    pub fn render(&self, dir: &Path, state: &Path) -> String {
        let mut s = String::new();
        let d = dir.display();
        let _ = writeln!(s, "[general]");
        match &self.pidfile {
            Some(p) => {
                let _ = writeln!(s, "pidfile = {}", p.display());
            }
            None => {
                let _ = writeln!(s, "pidfile = {d}/nfdhcpd.pid");
            }
        }
        let _ = writeln!(s, "datapath = {}", state.display());
        let _ = writeln!(s, "logdir = {d}");
        let _ = writeln!(s, "user = {}", self.user);
        // Each daemon its own control socket (tests run in parallel).
        if !self
            .general_extra
            .iter()
            .any(|l| l.starts_with("control_socket"))
        {
            let _ = writeln!(s, "control_socket = {d}/control");
        }
        for line in &self.general_extra {
            let _ = writeln!(s, "{line}");
        }
        let _ = writeln!(s, "[dhcp]");
        if !self.enable_dhcp {
            let _ = writeln!(s, "enable_dhcp = no");
            self.render_ipv6(&mut s);
            return s;
        }
        let _ = writeln!(s, "enable_dhcp = yes");
        let _ = writeln!(s, "lease_lifetime = {}", self.lease_lifetime);
        let _ = writeln!(s, "lease_renewal = {}", self.lease_renewal);
        let _ = writeln!(s, "server_ip = {}", self.server_ip);
        let _ = writeln!(
            s,
            "server_on_link = {}",
            if self.server_on_link { "yes" } else { "no" }
        );
        let _ = writeln!(s, "dhcp_queue = {DHCP_QUEUE}");
        let _ = writeln!(s, "nameservers = {}", self.nameservers);
        if let Some(domain) = &self.domain {
            let _ = writeln!(s, "domain = {domain}");
        }
        for line in &self.dhcp_extra {
            let _ = writeln!(s, "{line}");
        }
        self.render_ipv6(&mut s);
        s
    }

    /// The defaults without the per-interface rate limit (`rate_limit = 0`): for tests about
    /// what happens past it.
    pub fn unlimited() -> Conf {
        Conf {
            general_extra: vec!["rate_limit = 0".into()],
            ..Conf::default()
        }
    }

    /// The per-interface limit this config gives the daemon, `(rate_limit, rate_burst)`
    /// (the defaults unless `general_extra` sets them), `None` for `rate_limit = 0`.
    pub fn rate_limit(&self) -> Option<(u32, u32)> {
        let (mut rate, mut burst) = DEFAULT_KERNEL_LIMIT;
        for line in &self.general_extra {
            if let Some((k, v)) = line.split_once('=') {
                match (k.trim(), v.trim().parse()) {
                    ("rate_limit", Ok(n)) => rate = n,
                    ("rate_burst", Ok(n)) => burst = n,
                    _ => {}
                }
            }
        }
        (rate != 0).then_some((rate, burst))
    }

    /// IPv6 only: DHCPv4 disabled, this `[ipv6]` section.
    pub fn ipv6_only(c6: Conf6) -> Conf {
        Conf {
            enable_dhcp: false,
            ipv6: Some(c6),
            ..Conf::default()
        }
    }

    fn render_ipv6(&self, s: &mut String) {
        let _ = writeln!(s, "[ipv6]");
        let Some(c6) = &self.ipv6 else {
            let _ = writeln!(s, "enable_ipv6 = no");
            return;
        };
        let _ = writeln!(s, "enable_ipv6 = yes");
        let _ = writeln!(s, "ra_period = {}", c6.ra_period);
        let _ = writeln!(s, "rs_queue = {RS_QUEUE}");
        let _ = writeln!(s, "ns_queue = {NS_QUEUE}");
        if c6.dhcpv6 {
            let _ = writeln!(s, "dhcpv6_queue = {DHCP6_QUEUE}");
        }
        let _ = writeln!(s, "nameservers = {}", c6.nameservers);
        if let Some(domains) = &c6.domains {
            let _ = writeln!(s, "domains = {domains}");
        }
        if let Some(ntp) = &c6.ntp_servers {
            let _ = writeln!(s, "ntp_servers = {ntp}");
        }
        if let Some(pref64) = &c6.pref64 {
            let _ = writeln!(s, "pref64 = {pref64}");
        }
        for line in &c6.extra {
            let _ = writeln!(s, "{line}");
        }
    }
}

/// A binding file's contents (DESIGN §3).
#[derive(Clone, Debug)]
pub struct Binding {
    pub indev: String,
    pub ip: String,
    pub mac: String,
    pub hostname: String,
    pub subnet: String,
    pub gateway: String,
    pub mtu: Option<u16>,
    pub private: bool,
    pub macspoof: bool,
    pub subnet6: Option<String>,
    pub gateway6: Option<String>,
    pub eui64: Option<String>,
    /// NAMESERVERS6, as written.
    pub nameservers6: Option<String>,
    /// More `KEY=VALUE` lines, written after the others (ROUTES, NAMESERVERS, ...).
    pub extra: Vec<String>,
}

impl Binding {
    /// The usual binding of a VM: its tap, 192.0.2.100, its real MAC.
    pub fn for_vm(vm: &Vm) -> Binding {
        Binding {
            indev: vm.tap.clone(),
            ip: VM_IP.into(),
            mac: vm.mac.clone(),
            hostname: HOSTNAME.into(),
            subnet: SUBNET.into(),
            gateway: GATEWAY.into(),
            mtu: None,
            private: false,
            macspoof: false,
            subnet6: None,
            gateway6: None,
            eui64: None,
            nameservers6: None,
            extra: Vec::new(),
        }
    }

    /// [`Binding::for_vm`] plus SUBNET6, GATEWAY6 and EUI64 (the VM's SLAAC address).
    pub fn for_vm6(vm: &Vm) -> Binding {
        Binding {
            subnet6: Some(SUBNET6.into()),
            gateway6: Some(GATEWAY6.into()),
            eui64: Some(slaac_address(&vm.mac).to_string()),
            ..Binding::for_vm(vm)
        }
    }

    pub fn render(&self) -> String {
        let mut s = format!(
            "INDEV={}\nIP={}\nMAC={}\nHOSTNAME={}\nSUBNET={}\nGATEWAY={}\n",
            self.indev, self.ip, self.mac, self.hostname, self.subnet, self.gateway
        );
        if let Some(mtu) = self.mtu {
            let _ = writeln!(s, "MTU={mtu}");
        }
        if self.private {
            s.push_str("PRIVATE=1\n");
        }
        if self.macspoof {
            s.push_str("MACSPOOF=1\n");
        }
        for (key, value) in [
            ("SUBNET6", &self.subnet6),
            ("GATEWAY6", &self.gateway6),
            ("EUI64", &self.eui64),
            ("NAMESERVERS6", &self.nameservers6),
        ] {
            if let Some(v) = value {
                let _ = writeln!(s, "{key}={v}");
            }
        }
        for line in &self.extra {
            let _ = writeln!(s, "{line}");
        }
        s
    }
}

// ---------------------------------------------------------------------------------------------
// IPv6 addresses.

/// `aa:bb:cc:dd:ee:ff` -> bytes (panics on anything else: our own constants only).
pub fn mac_bytes(mac: &str) -> [u8; 6] {
    let v: Vec<u8> = mac
        .split(':')
        .map(|b| u8::from_str_radix(b, 16).unwrap_or_else(|e| panic!("MAC {mac:?}: {e}")))
        .collect();
    v.try_into()
        .unwrap_or_else(|_| panic!("MAC {mac:?}: not 6 bytes"))
}

/// The first 64 bits of `prefix` followed by the modified EUI-64 of `mac` (RFC 4291 App. A).
pub fn eui64_address(prefix: Ipv6Addr, mac: &str) -> Ipv6Addr {
    let m = mac_bytes(mac);
    let mut o = prefix.octets();
    o[8..].copy_from_slice(&[m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]);
    Ipv6Addr::from(o)
}

/// fe80::/64 + modified EUI-64: the router address the daemon speaks from, for INDEV's MAC.
pub fn link_local(mac: &str) -> Ipv6Addr {
    eui64_address(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), mac)
}

/// The SLAAC address of a VM with `mac` in [`SUBNET6`].
pub fn slaac_address(mac: &str) -> Ipv6Addr {
    eui64_address(PREFIX6.parse().expect("PREFIX6"), mac)
}

/// True when `addr` is inside [`SUBNET6`] (a /64).
pub fn in_subnet6(addr: Ipv6Addr) -> bool {
    let p: Ipv6Addr = PREFIX6.parse().expect("PREFIX6");
    addr.segments()[..4] == p.segments()[..4]
}

/// One `ip -6 -o addr show` entry.
#[derive(Clone, Debug)]
pub struct Addr6 {
    pub addr: Ipv6Addr,
    pub prefix_len: u8,
    /// The words after the address: `scope global dynamic mngtmpaddr tentative ...`.
    pub flags: Vec<String>,
    /// Seconds of valid lifetime left; `None`: `forever`.
    pub valid_lft: Option<u32>,
    /// Seconds of preferred lifetime left; `None`: `forever`.
    pub preferred_lft: Option<u32>,
}

impl Addr6 {
    pub fn has(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }
    /// Usable: neither tentative (DAD running) nor dadfailed.
    pub fn ready(&self) -> bool {
        !self.has("tentative") && !self.has("dadfailed")
    }
}

/// Parses `ip -6 -o addr show` output.
pub fn parse_addrs6(out: &str) -> Vec<Addr6> {
    let mut v = Vec::new();
    for line in out.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(i) = words.iter().position(|w| *w == "inet6") else {
            continue;
        };
        let Some((a, len)) = words.get(i + 1).and_then(|w| w.split_once('/')) else {
            continue;
        };
        let (Ok(addr), Ok(prefix_len)) = (a.parse(), len.parse()) else {
            continue;
        };
        let flags = words[i + 2..]
            .iter()
            .take_while(|w| **w != "\\")
            .map(|w| w.to_string())
            .collect();
        // `valid_lft 116sec preferred_lft 116sec` (or `forever`), after the `\`.
        let lifetime = |key: &str| {
            let at = words.iter().position(|w| *w == key)?;
            words.get(at + 1)?.strip_suffix("sec")?.parse().ok()
        };
        v.push(Addr6 {
            addr,
            prefix_len,
            flags,
            valid_lft: lifetime("valid_lft"),
            preferred_lft: lifetime("preferred_lft"),
        });
    }
    v
}

/// A dhclient lease file asking for `ip` at INIT-REBOOT (valid until 2037).
pub fn lease_file_asking_for(ip: &str) -> String {
    format!(
        "lease {{\n  interface \"eth0\";\n  fixed-address {ip};\n  option subnet-mask 255.255.255.0;\n  \
         option dhcp-server-identifier {SERVER_IP};\n  renew 4 2037/12/31 00:00:00;\n  \
         rebind 4 2037/12/31 00:00:00;\n  expire 4 2037/12/31 00:00:00;\n}}\n"
    )
}

/// Where a dhclient run's lease file comes from.
#[derive(Clone, Debug)]
pub enum LeaseFile {
    /// An empty one: the run starts with DISCOVER.
    Fresh,
    /// These contents (e.g. [`lease_file_asking_for`]): the run starts with INIT-REBOOT.
    Contents(String),
    /// The lease file of an earlier run (which must have ended).
    ReuseFrom(DhId),
}

#[derive(Clone, Debug)]
pub struct DhcpOpts {
    /// dhclient.conf `timeout`: seconds before giving up (with `-1`: exit 2).
    pub timeout_s: u32,
    /// dhclient.conf `reboot`: seconds in INIT-REBOOT before falling back to DISCOVER.
    pub reboot_s: u32,
    pub lease_file: LeaseFile,
    /// More dhclient.conf statements, after the others (e.g. [`DHCLIENT_ASK_ROUTES`], `send
    /// dhcp-client-identifier ...;`).
    pub extra_conf: String,
}

/// dhclient.conf lines that ask for option 121 (not built into ISC dhclient; Debian's
/// sample declares it the same way) and option 119.
pub const DHCLIENT_ASK_ROUTES: &str =
    "option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;\n\
     also request rfc3442-classless-static-routes, domain-search;\n";

impl Default for DhcpOpts {
    fn default() -> DhcpOpts {
        DhcpOpts {
            timeout_s: 20,
            reboot_s: 10,
            lease_file: LeaseFile::Fresh,
            extra_conf: String::new(),
        }
    }
}

impl DhcpOpts {
    /// For runs that must get nothing: give up after 5 seconds.
    pub fn short() -> DhcpOpts {
        DhcpOpts {
            timeout_s: 5,
            ..DhcpOpts::default()
        }
    }
}

/// What a stateful `dhclient -6` asks for: its `-N`/`-P` flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ia6 {
    /// An address (IA_NA; `-N`, the default: no flag passed).
    Na,
    /// A delegated prefix only (IA_PD; `-P`).
    Pd,
    /// Both, in one exchange (`-P -N`): the script is called once per IA.
    NaPd,
}

/// A stateful `dhclient -6` run ([`Sandbox::dhclient6_stateful`]).
///
/// What ISC dhclient 4.4.3 does, seen against dnsmasq 2.90 and Kea 2.2 (Debian 12):
/// - Fresh lease file: it makes a new DUID-LLT (type 1, from eth0's MAC and the current
///   time: another DUID every fresh run), stores it as `default-duid` in the lease file, and
///   Solicits (one IA_NA and/or IA_PD, IAID = the last 4 bytes of the MAC, no address hint,
///   T1 3600/T2 5400 asked, no Rapid Commit), Requests the best Advertise (the Request holds
///   the advertised address/prefix with lifetimes 7200/7500 asked), and calls the script
///   with BOUND6 about 1.2-2 s after PREINIT6.
/// - Restart with the lease file of an earlier run ([`LeaseFile::ReuseFrom`]), same DUID:
///   - IA_NA only, lease still valid: a Confirm (the addresses, no IA lifetimes); on a
///     Reply with status Success and no IA (dnsmasq: "all addresses still on link"),
///     BOUND6 (not RENEW6, no REBOOT6) about 1 s after PREINIT6, with the
///     *stored* lease (`new_life_starts`, `new_max_life` of the old Reply: the lifetimes are
///     not refreshed by a Confirm) and no `old_*` variables; T1 is counted from the stored
///     lease's start, so the first Renew comes at `starts + renew`, maybe at once.
///   - With an IA_PD (`-P`, `-P -N`): a Rebind (its log says "Confirming active lease
///     (INIT-REBOOT)" all the same) with the stored address and/or prefix and their
///     lifetimes; the Reply gives REBIND6, one call per IA, with `old_*` = the stored lease.
///   - Lease expired ("Previous lease is devoid of active addresses"): a plain Solicit, no
///     hint; only the DUID is kept.
/// - Renewal: a Renew (to the server of `new_dhcp6_server_id`) at T1 after the Reply, then
///   RENEW6 with `old_*` = the previous lease; T1 is taken as given, even a few seconds
///   (Kea with renew-timer 4: a RENEW6 every 4 s). For a quick renewal in a test, give the
///   daemon `[ipv6] lease_renewal = 2..5` (T1): the first RENEW6 then comes that many
///   seconds after BOUND6 (`wait_script(id, &["RENEW6"], bound_index + 1, ..)`). Past T2 it
///   Rebinds (REBIND6); at the preferred lifetime DEPREF6 (`cur_ip6_address`), at the valid
///   one EXPIRE6 (`old_ip6_address`), then it Solicits again.
/// - SIGTERM or SIGKILL: it exits without calling the script; the address stays on eth0
///   until its valid lifetime ends (the kernel removes it then).
/// - `-1` and no Reply within `timeout_s`: exit 2 ("Max retransmission duration exceeded"),
///   the script having seen only PREINIT6 ([`Sandbox::expect_no_lease`]).
///
/// The variables of a BOUND6/RENEW6/REBIND6 call: `new_ip6_address` and `new_ip6_prefixlen`
/// (always 128) for an IA_NA, `new_ip6_prefix` (`2001:db8:f000::/56`) for an IA_PD,
/// `new_max_life`, `new_preferred_life` (the IAADDR/IAPREFIX lifetimes), `new_renew`,
/// `new_rebind` (T1, T2), `new_starts`, `new_life_starts`, `new_iaid` (`5e:10:01:01`),
/// `new_dhcp6_server_id`, `new_dhcp6_client_id` (colon hex without leading zeros:
/// `0:1:0:1:32:a2:26:cc:2:0:5e:10:1:1`), `new_dhcp6_name_servers`,
/// `new_dhcp6_domain_search`, `new_dhcp6_status_code` when the server sent one; `old_*`
/// the same for the previous lease (RENEW6, REBIND6).
#[derive(Clone, Debug)]
pub struct Dhcp6Opts {
    pub ia: Ia6,
    /// dhclient.conf `timeout`: seconds before giving up (with `-1`: exit 2).
    pub timeout_s: u32,
    /// [`LeaseFile::Fresh`] (Solicit, a new DUID) or [`LeaseFile::ReuseFrom`] an earlier
    /// run (Confirm or Rebind, the same DUID); [`LeaseFile::Contents`] for a hand-written
    /// `default-duid`/`lease6` file.
    pub lease_file: LeaseFile,
    /// More dhclient.conf statements, after the others (`send dhcp6.rapid-commit;`, an
    /// `also request dhcp6.NAME;` ...).
    pub extra_conf: String,
}

impl Default for Dhcp6Opts {
    fn default() -> Dhcp6Opts {
        Dhcp6Opts {
            ia: Ia6::Na,
            timeout_s: 20,
            lease_file: LeaseFile::Fresh,
            extra_conf: String::new(),
        }
    }
}

impl Dhcp6Opts {
    /// Asking for `ia`, the other options default.
    pub fn ia(ia: Ia6) -> Dhcp6Opts {
        Dhcp6Opts {
            ia,
            ..Dhcp6Opts::default()
        }
    }

    /// The `-N`/`-P` flags.
    fn flags(&self) -> &'static [&'static str] {
        match self.ia {
            Ia6::Na => &[],
            Ia6::Pd => &["-P"],
            Ia6::NaPd => &["-P", "-N"],
        }
    }
}

/// The `-sf` script: records every call as a block (`reason=..`, the `new_*`/`old_*`/`cur_*`
/// variables, `applied=<status of the ip commands>`, `END`) after applying the address and
/// MTU, so a block in the log means eth0 is already configured. Routes are applied as
/// Debian's dhclient-script does (the RFC 3442 routes when there are any, else a default
/// route through the first router), their status recorded apart as `routes_applied`. TIMEOUT exits 1 so dhclient
/// never falls back to an old lease of the lease file.
///
/// DHCPv6 as Debian's dhclient-script (isc-dhcp-client 4.4.3) does, with the address as a
/// /128 (Debian gives `ip` the bare address) and `applied` recording the `ip` commands:
/// - PREINIT6: eth0 up, `ip -6 addr flush dev eth0 scope global permanent` (dynamic
///   addresses, SLAAC's and DHCPv6's, stay).
/// - BOUND6, RENEW6, REBIND6: `ip -6 addr replace $new_ip6_address/128 dev eth0 scope global
///   valid_lft $new_max_life preferred_lft $new_preferred_life`; also, unlike Debian (a
///   TODO there), `ip -6 addr del $old_ip6_address/128` first when the old address differs.
///   A call for an IA_PD (`new_ip6_prefix`, no `new_ip6_address`) applies nothing, as Debian.
/// - DEPREF6: `ip -6 addr change $cur_ip6_address/128 ... preferred_lft 0`.
/// - EXPIRE6, RELEASE6, STOP6: `ip -6 addr del $old_ip6_address/128` (nothing without one).
/// - `-S`: its Reply comes as RENEW6 (or INFORM6), without `new_ip6_address`: nothing
///   applied, and no PREINIT6 call.
///
/// dhclient 4.4 has no REBOOT6: a restart whose lease was confirmed is BOUND6.
const DHCLIENT_SCRIPT: &str = r#"#!/bin/sh
# dhclient -sf script of the nfdhcpd end-to-end tests (tests/common/mod.rs).
log="$(dirname "$0")/script.log"
applied=0
routes_applied=0
# As Debian's rfc3442-classless-routes hook: width, significant octets, router; 0.0.0.0
# means on the link.
apply_routes() {
  if [ -n "$new_rfc3442_classless_static_routes" ]; then
    set -- $(echo "$new_rfc3442_classless_static_routes" | tr ',' ' ')
    while [ $# -ge 5 ]; do
      w=$1
      if [ "$w" -gt 24 ]; then net="$2.$3.$4.$5"; shift 5
      elif [ "$w" -gt 16 ]; then net="$2.$3.$4.0"; shift 4
      elif [ "$w" -gt 8 ]; then net="$2.$3.0.0"; shift 3
      elif [ "$w" -gt 0 ]; then net="$2.0.0.0"; shift 2
      else net=0.0.0.0; shift 1
      fi
      gw="$1.$2.$3.$4"; shift 4
      if [ "$gw" = 0.0.0.0 ]; then
        ip -4 route replace "$net/$w" dev "$interface" || routes_applied=$?
      else
        ip -4 route replace "$net/$w" via "$gw" dev "$interface" || routes_applied=$?
      fi
    done
  elif [ -n "$new_routers" ]; then
    set -- $new_routers
    ip -4 route replace default via "$1" dev "$interface" || routes_applied=$?
  fi
}
case "$reason" in
  PREINIT) ip link set dev "$interface" up || applied=$? ;;
  BOUND|REBOOT)
    ip -4 addr flush dev "$interface" || applied=$?
    ip -4 addr add "$new_ip_address/$new_subnet_mask" dev "$interface" || applied=$? ;;
  RENEW|REBIND)
    ip -4 addr replace "$new_ip_address/$new_subnet_mask" dev "$interface" || applied=$? ;;
  PREINIT6)
    ip link set dev "$interface" up || applied=$?
    ip -6 addr flush dev "$interface" scope global permanent || applied=$? ;;
  BOUND6|RENEW6|REBIND6)
    if [ -n "$new_ip6_address" ]; then
      if [ -n "$old_ip6_address" ] && [ "$old_ip6_address" != "$new_ip6_address" ]; then
        ip -6 addr del "$old_ip6_address/128" dev "$interface" || applied=$?
      fi
      ip -6 addr replace "$new_ip6_address/128" dev "$interface" scope global \
        valid_lft "$new_max_life" preferred_lft "$new_preferred_life" || applied=$?
    fi ;;
  DEPREF6)
    if [ -n "$cur_ip6_address" ]; then
      ip -6 addr change "$cur_ip6_address/128" dev "$interface" scope global \
        preferred_lft 0 || applied=$?
    fi ;;
  EXPIRE6|RELEASE6|STOP6)
    if [ -n "$old_ip6_address" ]; then
      ip -6 addr del "$old_ip6_address/128" dev "$interface" || applied=$?
    fi ;;
esac
case "$reason" in
  BOUND|REBOOT|RENEW|REBIND)
    if [ -n "$new_interface_mtu" ]; then
      ip link set dev "$interface" mtu "$new_interface_mtu" || applied=$?
    fi
    apply_routes ;;
esac
{
  echo "reason=$reason"
  echo "routes_applied=$routes_applied"
  env | grep -E '^(new_|old_|cur_|interface=)' | LC_ALL=C sort
  echo "applied=$applied"
  echo "END"
} >> "$log"
[ "$reason" = TIMEOUT ] && exit 1
exit 0
"#;

fn dhclient_conf(o: &DhcpOpts) -> String {
    format!(
        "# dhclient.conf of the nfdhcpd end-to-end tests\n\
         timeout {};\ninitial-interval 1;\nreboot {};\n\
         request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers,\n  \
         host-name, interface-mtu, dhcp-lease-time, dhcp-renewal-time, dhcp-rebinding-time,\n  \
         dhcp-server-identifier;\n{}",
        o.timeout_s, o.reboot_s, o.extra_conf
    )
}

/// What dhclient passed to its script in one call.
#[derive(Clone, Debug, Default)]
pub struct ScriptCall {
    pub vars: BTreeMap<String, String>,
}

impl ScriptCall {
    pub fn reason(&self) -> &str {
        self.get("reason").unwrap_or("")
    }
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(String::as_str)
    }
    pub fn dump(&self) -> String {
        self.vars
            .iter()
            .map(|(k, v)| format!("  {k}={v}\n"))
            .collect()
    }
}

/// Parses the script log; only complete blocks (ended by `END`) count.
pub fn parse_script_log(text: &str) -> Vec<ScriptCall> {
    let mut calls = Vec::new();
    let mut cur = ScriptCall::default();
    for line in text.lines() {
        if line == "END" {
            calls.push(std::mem::take(&mut cur));
        } else if let Some((k, v)) = line.split_once('=') {
            cur.vars.insert(k.to_string(), v.to_string());
        }
    }
    calls
}

/// True when `line` holds the words of `needle` contiguously, whole words only
/// (`binding active tap=tap0` does not match `... tap=tap01`).
pub fn log_has(line: &str, needle: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    let want: Vec<&str> = needle.split_whitespace().collect();
    !want.is_empty() && words.windows(want.len()).any(|w| w == want.as_slice())
}

/// dhcpcd's `-c` script ([`Sandbox::dhcpcd6`]): records every call as a block (`reason=..`,
/// `protocol=..`, the `new_*`/`old_*` variables, `END`) in `script.log` beside it, in the
/// format of [`parse_script_log`]. It applies nothing: dhcpcd configures eth0 itself.
pub const DHCPCD_SCRIPT: &str = r#"#!/bin/sh
# dhcpcd -c script of the nfdhcpd end-to-end tests (tests/common/mod.rs): records only.
log="$(dirname "$0")/script.log"
{
  echo "reason=$reason"
  env | grep -E '^(new_|old_|interface=|protocol=)' | LC_ALL=C sort
  echo "END"
} >> "$log"
exit 0
"#;

/// dhcpcd.conf of [`Sandbox::dhcpcd6`]: IPv6 only; the RA decides (no `ia_na`: an `ia_*`
/// line makes dhcpcd Solicit at once, without waiting for the RA's M flag); a DUID-LLT;
/// asks for the name servers and the domain search list.
pub const DHCPCD6_CONF: &str = "# dhcpcd.conf of the nfdhcpd end-to-end tests (DHCPv6)\n\
    ipv6only\nduid\noption dhcp6_name_servers, dhcp6_domain_search\n";

/// The `sh -c` of [`Sandbox::dhcpcd6`], run in a private mount namespace: `$1` is the run's
/// directory, `$2` the path of `mount`, the rest the command to exec. See there.
const DHCPCD_ISOLATE: &str = r#"d=$1; mount=$2; shift 2
"$mount" --bind "$d/run" /run || exit 97
if [ -d /var/lib/dhcpcd ]; then
  "$mount" --bind "$d/var-lib/dhcpcd" /var/lib/dhcpcd || exit 97
else
  "$mount" --bind "$d/var-lib" /var/lib || exit 97
fi
exec "$@"
"#;

/// A [`Sandbox::dhcpcd6`] run's options.
#[derive(Clone, Debug, Default)]
pub struct Dhcpcd6Opts {
    /// Start with the DUID and the lease file of this earlier dhcpcd run (which must have
    /// ended): the same client, which Confirms its lease (REBOOT6) if still valid.
    pub state_from: Option<DhId>,
    /// More dhcpcd.conf lines, after [`DHCPCD6_CONF`] (`ia_na` to Solicit without waiting
    /// for the RA, `option rapid_commit`, ...).
    pub extra_conf: String,
}

// ---------------------------------------------------------------------------------------------
// The sandbox.

/// A VM: its namespace, its tap in the host namespace, the MAC of its eth0.
#[derive(Clone, Debug)]
pub struct Vm {
    pub netns: String,
    pub tap: String,
    pub mac: String,
}

/// Handle of a DHCP client run in a [`Sandbox`]: a dhclient ([`Sandbox::dhclient`],
/// [`Sandbox::dhclient6`], [`Sandbox::dhclient6_stateful`]) or a dhcpcd
/// ([`Sandbox::dhcpcd6`]). Either records its script's calls in its own `script.log`:
/// [`Sandbox::script_calls`], [`Sandbox::wait_script`] work for both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DhId(usize);

struct DhclientRun {
    vm: Vm,
    dir: PathBuf,
    proc: Proc,
}

impl DhclientRun {
    fn is_dhcpcd(&self) -> bool {
        self.proc.what == "dhcpcd"
    }

    /// Ends the run by its pid: dhclient with SIGKILL (it calls no script on a signal
    /// anyway); dhcpcd with SIGTERM (it removes its addresses and routes, calls STOP6 and
    /// STOPPED, and its privilege-separation helpers end with it), SIGKILL after 5 s, and
    /// then its helpers too, the dhcpcd processes left in the VM's namespace (they outlive
    /// a killed parent, ignoring SIGTERM). The exit status, `None` when it had to be killed.
    fn end(&mut self) -> Option<ExitStatus> {
        if let Some(s) = self.proc.exited() {
            return Some(s);
        }
        if self.is_dhcpcd() {
            self.proc.signal("TERM");
            if let Some(s) = self.proc.wait_exit(Duration::from_secs(5)) {
                return Some(s);
            }
        }
        let _ = self.proc.child.kill();
        let _ = self.proc.child.wait();
        if self.is_dhcpcd() {
            kill_in_netns(&self.vm.netns, &["dhcpcd"]);
        }
        None
    }
}

pub struct Sandbox {
    pub test: String,
    pub id: String,
    pub dir: PathBuf,
    pub state_dir: PathBuf,
    pub host: String,
    namespaces: Vec<Netns>,
    vms: Vec<Vm>,
    daemon: Option<Proc>,
    helpers: Vec<Proc>,
    dhclients: Vec<DhclientRun>,
    /// The per-tap kernel limit of conf/nfdhcpd.nft loaded now: `(rate, burst)`, `None`
    /// when its limit rules are left out.
    kernel_limit: Option<(u32, u32)>,
    /// Set by [`Sandbox::without_kernel_limit`]: the daemon's config no longer decides it.
    kernel_limit_off: bool,
    /// [`Sandbox::add_ipv6_rules`] was called (with [`Firewall::Nft`]: conf/nfdhcpd.nft's
    /// IPv6 queue rules are loaded).
    ipv6_rules: bool,
    /// Rules a test added to conf/nfdhcpd.nft's queue chain (`family`, rule), added again
    /// whenever the file is loaded again.
    extra_queue_rules: Vec<(String, String)>,
    /// The nft table of [`Sandbox::add_tap_count_rules`] exists ([`Firewall::Nft`]).
    count_table: bool,
}

impl Sandbox {
    /// The one way an end-to-end test starts: `None` when `needs` are not met here (the
    /// test is recorded as skipped, see [`skipped`], and returns; under `CI=true` a missing
    /// prerequisite is a failure instead), else the test's sandbox:
    ///
    /// ```ignore
    /// let Some(mut sb) = Sandbox::start_test("my_test", Needs::tools(&["rdisc6"]).scapy()) else {
    ///     return;
    /// };
    /// ```
    pub fn start_test(test: &str, needs: Needs) -> Option<Sandbox> {
        match needs.missing() {
            None => Some(Sandbox::new(test)),
            Some(why) => {
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!("{test}: prerequisite missing (fatal under CI=true): {why}");
                }
                skipped(
                    test,
                    &format!("{why}; tests/run-all.sh installs everything"),
                );
                None
            }
        }
    }

    /// A temp dir with an empty state dir, and a host namespace with the shipped rules
    /// (their IPv4 part; [`Sandbox::add_ipv6_rules`] adds the IPv6 queue rules). With
    /// [`Firewall::Iptables`]: the iptables (IPv4) lines of conf/nfdhcpd-iptables.sh (routed
    /// and bridged) and conf/nfdhcpd-limits.nft (the per-tap limits and the unanswered
    /// counters); with [`Firewall::Nft`]: conf/nfdhcpd.nft, queues, limits and counters.
    /// Both with the bridged IPv6 opt-in on.
    fn new(test: &str) -> Sandbox {
        CLEAN_ONCE.call_once(clean_leftovers);
        let pid = std::process::id();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let id = format!("{NETNS_PREFIX}{pid}-{n}");
        let dir = PathBuf::from(format!("/tmp/{TMP_PREFIX}{pid}-{n}"));
        let _ = fs::remove_dir_all(&dir); // a leftover of a dead run with our pid
        let state_dir = dir.join("state");
        fs::create_dir_all(&state_dir).unwrap_or_else(|e| panic!("mkdir {state_dir:?}: {e}"));
        let mut sb = Sandbox {
            test: test.to_string(),
            host: format!("{id}-h"),
            id,
            dir,
            state_dir,
            namespaces: Vec::new(),
            vms: Vec::new(),
            daemon: None,
            helpers: Vec::new(),
            dhclients: Vec::new(),
            kernel_limit: None,
            kernel_limit_off: false,
            ipv6_rules: false,
            extra_queue_rules: Vec::new(),
            count_table: false,
        };
        sb.namespaces.push(Netns::create(sb.host.clone()));
        match firewall() {
            Firewall::Iptables => {
                for rule in shipped_rules("iptables") {
                    sb.host_must(&rule);
                }
            }
            Firewall::Nft => sb.add_emulated_queue_rules(&[DHCP_QUEUE]),
        }
        sb.load_nft(Some(DEFAULT_KERNEL_LIMIT));
        sb
    }

    /// With [`Firewall::Nft`] on a kernel without nft's queue expression, the queue rules of
    /// conf/nfdhcpd.nft set [`emulated_queue_mark`] instead (at priority -151, before
    /// iptables' mangle table), and these iptables NFQUEUE rules, one per queue, queue the
    /// marked packets (routed; bridged through br_netfilter, which [`Sandbox::add_bridge`]
    /// turns on). What the file selects, limits and counts is the file's own doing; only
    /// the queueing itself is iptables'. With the kernel's nft queue, nothing is emulated.
    pub fn nft_queue_emulated(&self) -> bool {
        firewall() == Firewall::Nft && !kernel_has_nft_queue(&self.host, &self.dir)
    }

    fn add_emulated_queue_rules(&self, queues: &[u16]) {
        if !self.nft_queue_emulated() {
            return;
        }
        for &q in queues {
            let cmd = if q == DHCP_QUEUE {
                "iptables"
            } else {
                "ip6tables"
            };
            self.host_must(&format!(
                "{cmd} -w -t mangle -A PREROUTING -m mark --mark 0x{:08x}/0x00ff0000 \
                 -j NFQUEUE --queue-num {q} --queue-bypass",
                emulated_queue_mark(q)
            ));
        }
    }

    /// A queue rule of conf/nfdhcpd.nft's text as this sandbox loads it: emulated (see
    /// [`Sandbox::nft_queue_emulated`]) or as it is.
    fn nft_queue_statement(&self, rule: &str) -> String {
        if !self.nft_queue_emulated() {
            return rule.to_string();
        }
        let Some((head, queue)) = rule
            .rsplit_once("queue flags bypass to ")
            .or_else(|| rule.rsplit_once("queue to "))
        else {
            return rule.to_string();
        };
        let q: u16 = queue
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("queue rule without a queue number: {rule}"));
        format!(
            "{head}meta mark set meta mark | 0x{:08x}",
            emulated_queue_mark(q)
        )
    }

    /// The nft file this sandbox loads: conf/nfdhcpd-limits.nft ([`Firewall::Iptables`]) or
    /// conf/nfdhcpd.nft ([`Firewall::Nft`], without its IPv6 queue rules until
    /// [`Sandbox::add_ipv6_rules`]), the opt-in on, with the limit `limit`.
    fn nft_text(&self, limit: Option<(u32, u32)>) -> String {
        let shipped = match firewall() {
            Firewall::Iptables => SHIPPED_NFT_LIMITS,
            Firewall::Nft => SHIPPED_NFT,
        };
        let text = shipped_nft(&nft_opt_ins_on(shipped), limit);
        if firewall() == Firewall::Iptables {
            return text;
        }
        let emulated = self.nft_queue_emulated();
        text.lines()
            .filter(|l| {
                let v6 = l.contains("icmpv6") || l.contains("dport 547");
                self.ipv6_rules || !(v6 && l.contains("queue flags bypass to "))
            })
            .map(|l| match l.trim() {
                "type filter hook prerouting priority -150; policy accept;" if emulated => {
                    l.replace("priority -150", "priority -151")
                }
                _ if l.contains("queue flags bypass to ") => self.nft_queue_statement(l),
                _ => l.to_string(),
            })
            .map(|l| l + "\n")
            .collect()
    }

    /// Loads the shipped nft file in the host namespace (again: it replaces its tables,
    /// counters reset; see [`Sandbox::nft_text`]), with the per-tap limit `(rate, burst)`
    /// substituted for its default, or without its limit rules (`None`, what
    /// `rate_limit = 0` asks for).
    pub fn load_nft(&mut self, limit: Option<(u32, u32)>) {
        let path = self.dir.join("nfdhcpd.nft");
        fs::write(&path, self.nft_text(limit))
            .unwrap_or_else(|e| self.fail(&format!("write {path:?}: {e}")));
        self.host_must(&format!("nft -f {}", path.display()));
        self.kernel_limit = limit;
        for (family, rule) in &self.extra_queue_rules {
            self.host_must(&format!("nft add rule {family} nfdhcpd to_nfdhcpd {rule}"));
        }
    }

    /// A DHCP queue rule (to [`DHCP_QUEUE`], without bypass) for packets coming in on
    /// `iface`, next to the shipped ones: iptables' mangle PREROUTING, or conf/nfdhcpd.nft's
    /// inet queue chain.
    pub fn add_dhcp_queue_rule(&mut self, iface: &str) {
        match firewall() {
            Firewall::Iptables => {
                self.host_must(&format!(
                    "iptables -w -t mangle -A PREROUTING -i {iface} -p udp --dport 67 -j NFQUEUE --queue-num {DHCP_QUEUE}"
                ));
            }
            Firewall::Nft => {
                let rule = self.nft_queue_statement(&format!(
                    "iifname \"{iface}\" meta nfproto ipv4 udp dport 67 counter queue to {DHCP_QUEUE}"
                ));
                self.host_must(&format!("nft add rule inet nfdhcpd to_nfdhcpd {rule}"));
                self.extra_queue_rules.push(("inet".into(), rule));
            }
        }
    }

    /// Leaves out the kernel's per-tap limit for the rest of the test, whatever the daemon's
    /// config says: for tests of the daemon's own limiter (the second line) alone.
    pub fn without_kernel_limit(&mut self) {
        self.kernel_limit_off = true;
        self.load_nft(None);
    }

    /// Keeps the kernel limit in step with the daemon's `rate_limit`/`rate_burst`, as the
    /// README tells operators to.
    fn follow_rate_limit(&mut self, conf: &Conf) {
        let want = if self.kernel_limit_off {
            None
        } else {
            conf.rate_limit()
        };
        if want != self.kernel_limit {
            self.load_nft(want);
        }
    }

    /// The named counters of conf/nfdhcpd.nft: `<family>:<name>` -> packets (e.g.
    /// `inet:unanswered_dhcp4`, `bridge:limited_rs`).
    pub fn nft_counters(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for family in ["inet", "bridge"] {
            let text = self.host_must(&format!("nft list counters table {family} nfdhcpd"));
            let mut name = None;
            for line in text.lines() {
                let w: Vec<&str> = line.split_whitespace().collect();
                if w.first() == Some(&"counter") {
                    name = w.get(1).map(|n| n.to_string());
                } else if let (Some(n), Some(&"packets"), Some(v)) = (&name, w.first(), w.get(1)) {
                    out.insert(format!("{family}:{n}"), v.parse().unwrap_or(0));
                }
            }
        }
        out
    }

    // --- topology ---

    /// A VM namespace and a veth pair: `tap` in the host namespace, `eth0` in the VM's.
    pub fn add_vm(&mut self, tap: &str) -> Vm {
        let vm = self.add_vm_unlinked(tap);
        self.link(&vm);
        vm
    }

    /// A VM namespace whose link to the host does not exist yet (see [`Sandbox::link`]).
    pub fn add_vm_unlinked(&mut self, tap: &str) -> Vm {
        let k = self.vms.len();
        let netns = format!("{}-v{k}", self.id);
        self.namespaces.push(Netns::create(netns.clone()));
        let vm = Vm {
            netns,
            tap: tap.to_string(),
            mac: format!("02:00:5e:10:00:{:02x}", k + 1),
        };
        self.vms.push(vm.clone());
        vm
    }

    /// Creates the veth pair of a VM (again, after [`Sandbox::unlink`]): same names, same
    /// MAC, a new ifindex. Also a filter/INPUT counter rule for udp 67 on the tap: its packet
    /// count rises only for DHCP packets that NFQUEUE let continue (ACCEPT).
    pub fn link(&mut self, vm: &Vm) {
        self.link_opts(vm, true);
    }

    /// [`Sandbox::link`] leaving the VM's `eth0` down (the tap is up, without carrier until
    /// `eth0` comes up): a VM that has not booted yet.
    pub fn link_down(&mut self, vm: &Vm) {
        self.link_opts(vm, false);
    }

    fn link_opts(&mut self, vm: &Vm, eth0_up: bool) {
        let tap = vm.tap.as_str();
        self.host_must(&format!(
            "ip link add {tap} type veth peer name eth0 netns {}",
            vm.netns
        ));
        must(&format!(
            "ip -n {} link set eth0 address {}",
            vm.netns, vm.mac
        ));
        self.host_must(&format!("ip link set {tap} up"));
        if eth0_up {
            must(&format!("ip -n {} link set eth0 up", vm.netns));
        }
        if self.input_rule(tap).is_none() {
            self.host_must(&format!("iptables -w -A INPUT -i {tap} -p udp --dport 67"));
        }
    }

    /// Deletes the VM's veth pair (both ends).
    pub fn unlink(&mut self, vm: &Vm) {
        self.host_must(&format!("ip link del {}", vm.tap));
    }

    /// A bridge in the host namespace, up, with bridge-nf-call-iptables=1 and
    /// bridge-nf-call-ip6tables=1 in that namespace (the sysctls are per network namespace on
    /// this kernel: checked when this was written).
    pub fn add_bridge(&mut self, br: &str) {
        self.host_must(&format!("ip link add {br} type bridge"));
        self.host_must(&format!("ip link set {br} up"));
        for family in ["iptables", "ip6tables"] {
            let sysctl = format!("/proc/sys/net/bridge/bridge-nf-call-{family}");
            let set = format!("echo 1 > {sysctl}");
            run_args(&["ip", "netns", "exec", &self.host, "sh", "-c", &set])
                .unwrap_or_else(|e| self.fail(&e));
            let v = self.host_must(&format!("cat {sysctl}"));
            assert_eq!(v.trim(), "1", "bridge-nf-call-{family} in {}", self.host);
        }
    }

    /// The shipped IPv6 queue rules in the host namespace: RS -> queue 43, NS -> 44, DHCPv6
    /// (udp 547) -> 45, each for routed taps and bridge ports (the bridged IPv6 opt-in), with
    /// the queue bypass: conf/nfdhcpd-iptables.sh's ip6tables lines (`-i tap+`, and `-m
    /// physdev --physdev-in tap+` as with `BRIDGED_IPV6=yes`), or with [`Firewall::Nft`]
    /// conf/nfdhcpd.nft loaded again with its IPv6 queue rules (its counters restart).
    pub fn add_ipv6_rules(&mut self) {
        match firewall() {
            Firewall::Iptables => {
                for rule in shipped_rules("ip6tables") {
                    self.host_must(&rule);
                }
            }
            Firewall::Nft => {
                if !self.ipv6_rules {
                    self.add_emulated_queue_rules(&[RS_QUEUE, NS_QUEUE, DHCP6_QUEUE]);
                    self.ipv6_rules = true;
                    self.load_nft(self.kernel_limit);
                }
            }
        }
    }

    /// The MAC of an interface of the host namespace, lower case.
    pub fn host_mac(&self, iface: &str) -> String {
        let out = self.host_must(&format!("ip -o link show dev {iface}"));
        let words: Vec<&str> = out.split_whitespace().collect();
        words
            .iter()
            .position(|w| *w == "link/ether")
            .and_then(|i| words.get(i + 1))
            .map(|m| m.to_ascii_lowercase())
            .unwrap_or_else(|| self.fail(&format!("no MAC for {iface} in: {out}")))
    }

    /// The VM's IPv6 addresses on eth0 (`scope`: `link` or `global`).
    pub fn vm_addrs6(&self, vm: &Vm, scope: &str) -> Vec<Addr6> {
        parse_addrs6(&self.vm_must(vm, &format!("ip -6 -o addr show dev eth0 scope {scope}")))
    }

    /// The VM's IPv6 default routes (`ip -6 route show default` lines).
    pub fn vm_default_routes6(&self, vm: &Vm) -> Vec<String> {
        self.vm_must(vm, "ip -6 route show default")
            .lines()
            .map(str::to_string)
            .filter(|l| !l.trim().is_empty())
            .collect()
    }

    /// Waits until `addr` is on the VM's eth0 and usable (past DAD, see [`Addr6::ready`]);
    /// that entry (its prefix length, flags and lifetimes).
    pub fn wait_addr6_ready(&self, vm: &Vm, addr: Ipv6Addr, timeout: Duration) -> Addr6 {
        self.wait_until(&format!("{addr} on eth0 past DAD"), timeout, || {
            self.vm_addrs6(vm, "global")
                .into_iter()
                .find(|a| a.addr == addr && a.ready())
        })
    }

    /// Waits until eth0's link-local address finished DAD (raw sockets and dhclient -6 can
    /// use it as a source then).
    pub fn wait_link_local(&self, vm: &Vm, timeout: Duration) -> Ipv6Addr {
        self.wait_until("eth0's link-local address past DAD", timeout, || {
            self.vm_addrs6(vm, "link")
                .into_iter()
                .find(Addr6::ready)
                .map(|a| a.addr)
        })
    }

    /// Polls `probe` every 20 ms until it returns `Some`, or fails after `timeout` saying
    /// what was awaited.
    pub fn wait_until<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut probe: impl FnMut() -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = probe() {
                return v;
            }
            if Instant::now() >= deadline {
                self.fail(&format!("timed out after {timeout:?} waiting for: {what}"));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn enslave(&mut self, port: &str, br: &str) {
        self.host_must(&format!("ip link set {port} master {br}"));
    }

    pub fn host_run(&self, line: &str) -> Result<String, String> {
        in_ns(&self.host, line)
    }

    pub fn host_must(&self, line: &str) -> String {
        self.host_run(line).unwrap_or_else(|e| self.fail(&e))
    }

    pub fn vm_must(&self, vm: &Vm, line: &str) -> String {
        in_ns(&vm.netns, line).unwrap_or_else(|e| self.fail(&e))
    }

    fn input_rule(&self, tap: &str) -> Option<u64> {
        let out = self.host_run("iptables -w -L INPUT -v -n -x").ok()?;
        out.lines().find_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.contains(&tap) && w.contains(&"dpt:67"))
                .then(|| w[0].parse().ok())
                .flatten()
        })
    }

    /// Packets of udp port 67 from `tap` that reached filter/INPUT: they were ACCEPTed by the
    /// NFQUEUE verdict (a DROP verdict, or no listener on the queue, stops them earlier).
    pub fn input_count(&self, tap: &str) -> u64 {
        self.input_rule(tap)
            .unwrap_or_else(|| self.fail(&format!("no INPUT counter rule for {tap}")))
    }

    // --- binding files ---

    pub fn binding_path(&self, tap: &str) -> PathBuf {
        self.state_dir.join(tap)
    }

    /// Writes the binding file in place (open, write, close: CLOSE_WRITE), as Ganeti does.
    pub fn write_binding(&self, tap: &str, b: &Binding) {
        let p = self.binding_path(tap);
        fs::write(&p, b.render()).unwrap_or_else(|e| self.fail(&format!("write {p:?}: {e}")));
    }

    /// Writes `.tmp-<tap>` and renames it to the tap's name (MOVED_TO).
    pub fn write_binding_renamed(&self, tap: &str, b: &Binding) {
        let tmp = self.state_dir.join(format!(".tmp-{tap}"));
        fs::write(&tmp, b.render()).unwrap_or_else(|e| self.fail(&format!("write {tmp:?}: {e}")));
        let p = self.binding_path(tap);
        fs::rename(&tmp, &p).unwrap_or_else(|e| self.fail(&format!("rename {tmp:?} {p:?}: {e}")));
    }

    pub fn remove_binding(&self, tap: &str) {
        let p = self.binding_path(tap);
        fs::remove_file(&p).unwrap_or_else(|e| self.fail(&format!("rm {p:?}: {e}")));
    }

    // --- the daemon ---

    /// Writes the config and starts `nfdhcpd -f -d -c CONF` in the host namespace; returns
    /// once it logged `INFO ready`. Again after [`Sandbox::stop_daemon`]: a new daemon (the
    /// old one's log is gone then).
    pub fn start_daemon(&mut self, conf: &Conf) {
        if let Some(old) = self.daemon.as_mut() {
            assert!(old.exited().is_some(), "daemon already running");
            self.daemon = None;
        }
        self.follow_rate_limit(conf);
        let path = self.dir.join("nfdhcpd.conf");
        fs::write(&path, conf.render(&self.dir, &self.state_dir)).expect("write config");
        let mut cmd = Command::new(tool("ip"));
        cmd.args([
            "netns",
            "exec",
            &self.host,
            env!("CARGO_BIN_EXE_nfdhcpd"),
            "-f",
            "-d",
            "-c",
        ]);
        cmd.arg(&path);
        cmd.env("RUST_BACKTRACE", "1");
        self.daemon = Some(Proc::spawn("nfdhcpd", cmd));
        self.wait_log(0, "INFO ready", READY_TIMEOUT);
    }

    /// Number of daemon log lines so far: a cursor for [`Sandbox::wait_log`].
    pub fn log_mark(&self) -> usize {
        self.daemon.as_ref().map_or(0, |d| d.log.len())
    }

    pub fn daemon_log(&self) -> String {
        self.daemon
            .as_ref()
            .map_or_else(String::new, |d| d.log.text())
    }

    /// Waits for a daemon log line at or after line `from` holding the words of `needle`
    /// (see [`log_has`]); returns the cursor after it. Fails at once if the daemon exits.
    pub fn wait_log(&mut self, from: usize, needle: &str, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            let d = self.daemon.as_mut().expect("daemon not started");
            if let Some(i) = d.log.find(from, &|l| log_has(l, needle)) {
                return i + 1;
            }
            if let Some(status) = d.exited() {
                d.join_readers();
                if let Some(i) = d.log.find(from, &|l| log_has(l, needle)) {
                    return i + 1;
                }
                self.fail(&format!(
                    "the daemon exited ({status}) before logging `{needle}`"
                ));
            }
            let now = Instant::now();
            if now >= deadline {
                self.fail(&format!(
                    "no `{needle}` in the daemon's log within {timeout:?}"
                ));
            }
            let seen = d.log.len();
            d.log
                .wait_change(seen, (deadline - now).min(Duration::from_millis(100)));
        }
    }

    /// Asserts that no daemon log line since `from` holds `needle`.
    pub fn assert_no_log(&self, from: usize, needle: &str) {
        if let Some(d) = &self.daemon {
            if let Some(i) = d.log.find(from, &|l| log_has(l, needle)) {
                let line = d.log.lines()[i].clone();
                self.fail(&format!("unexpected daemon log line: {line}"));
            }
        }
    }

    /// SIGTERM; the daemon must exit within 10 s. Returns its exit status.
    pub fn stop_daemon(&mut self) -> ExitStatus {
        let mut d = self.daemon.take().expect("daemon not started");
        let (status, killed) = d.stop(Duration::from_secs(10));
        d.join_readers();
        let log = d.log.text();
        self.daemon = Some(d); // keep its log for the diagnostics
        if killed {
            self.fail(&format!(
                "the daemon did not exit within 10 s of SIGTERM; log:\n{log}"
            ));
        }
        status.expect("daemon status")
    }

    // --- operations: config reloads, signals, daemon mode (tests/e2e_ops.rs) ---

    /// The config file [`Sandbox::start_daemon`] and [`Sandbox::write_config`] write.
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("nfdhcpd.conf")
    }

    /// Writes `conf`, rendered for this sandbox, to [`Sandbox::config_path`] (e.g. before a
    /// SIGHUP, or for a daemon started otherwise); returns that path.
    pub fn write_config(&self, conf: &Conf) -> PathBuf {
        let path = self.config_path();
        fs::write(&path, conf.render(&self.dir, &self.state_dir))
            .unwrap_or_else(|e| self.fail(&format!("write {path:?}: {e}")));
        path
    }

    /// The pid of the daemon [`Sandbox::start_daemon`] started (`ip netns exec` execs it, so
    /// it is the pid we spawned).
    pub fn daemon_pid(&self) -> u32 {
        self.daemon.as_ref().expect("daemon not started").pid()
    }

    /// Sends `sig` (`HUP`, `USR1`, `TERM`, ...) to that daemon, by the pid we spawned it with.
    pub fn signal_daemon(&mut self, sig: &str) {
        self.daemon
            .as_mut()
            .expect("daemon not started")
            .signal(sig);
    }

    /// Waits up to `timeout` for that daemon to exit; its status (its whole log collected
    /// then), or `None` while it still runs.
    pub fn wait_daemon_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let d = self.daemon.as_mut().expect("daemon not started");
        let status = d.wait_exit(timeout)?;
        d.join_readers();
        Some(status)
    }

    /// `nfdhcpd ARGS` in the host namespace, not started: for daemon mode (no `-f`), whose
    /// processes the test runs and ends itself.
    pub fn nfdhcpd_command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(tool("ip"));
        cmd.args(["netns", "exec", &self.host, env!("CARGO_BIN_EXE_nfdhcpd")]);
        cmd.args(args);
        cmd.env("RUST_BACKTRACE", "1");
        cmd
    }

    // --- dnsmasq, a DHCP server peer for unbound taps ---

    /// Starts dnsmasq in the host namespace, serving only `iface` (which must have an IPv4
    /// address in `range_ip`'s /24) the single address `range_ip`; authoritative, so it NAKs
    /// requests for other addresses. `extra`: more dnsmasq options.
    pub fn start_dnsmasq(&mut self, iface: &str, range_ip: &str, extra: &[&str]) {
        let mut cmd = Command::new(tool("ip"));
        cmd.args(["netns", "exec", &self.host, &tool("dnsmasq")]);
        cmd.args([
            "--keep-in-foreground",
            "--no-daemon",
            "--conf-file=/dev/null",
            "--no-resolv",
        ]);
        cmd.args([
            "--no-hosts",
            "--port=0",
            "--bind-interfaces",
            "--log-facility=-",
            "--log-dhcp",
        ]);
        cmd.args(["--user=root", "--dhcp-authoritative"]);
        cmd.arg(format!("--interface={iface}"));
        cmd.arg(format!(
            "--dhcp-range={range_ip},{range_ip},255.255.255.0,1h"
        ));
        cmd.arg(format!(
            "--dhcp-leasefile={}",
            self.dir.join("dnsmasq.leases").display()
        ));
        cmd.arg(format!(
            "--pid-file={}",
            self.dir.join("dnsmasq.pid").display()
        ));
        cmd.args(extra);
        let mut p = Proc::spawn("dnsmasq", cmd);
        let deadline = Instant::now() + Duration::from_secs(10);
        while p.log.find(0, &|l| l.contains("DHCP, IP range")).is_none() {
            if p.exited().is_some() || Instant::now() >= deadline {
                let log = p.log.text();
                self.helpers.push(p);
                self.fail(&format!("dnsmasq did not start serving {iface}:\n{log}"));
            }
            p.log.wait_change(p.log.len(), Duration::from_millis(100));
        }
        self.helpers.push(p);
    }

    // --- other helper processes (rdnssd, tcpdump) ---

    /// Runs `args` (the first word looked up with [`tool`]) in network namespace `ns`, its
    /// output collected; it is ended (SIGTERM, then SIGKILL) in `Drop`. Returns its log.
    pub fn spawn_in(&mut self, ns: &str, what: &str, args: &[&str]) -> Arc<LogBuf> {
        let mut cmd = Command::new(tool("ip"));
        cmd.args(["netns", "exec", ns, &tool(args[0])]);
        cmd.args(&args[1..]);
        let p = Proc::spawn(what, cmd);
        let log = p.log.clone();
        self.helpers.push(p);
        log
    }

    // --- nfdhcpd ctl (tests/e2e_ctl.rs) ---

    /// The daemon's control socket (see [`Conf::render`]).
    pub fn control_socket(&self) -> PathBuf {
        self.dir.join("control")
    }

    /// Runs `nfdhcpd ctl --socket <ours> ARGS...` to its end: exit code, stdout, stderr.
    pub fn ctl(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_nfdhcpd"))
            .arg("ctl")
            .arg("--socket")
            .arg(self.control_socket())
            .args(args)
            .output()
            .unwrap_or_else(|e| self.fail(&format!("run nfdhcpd ctl: {e}")));
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// [`Sandbox::ctl`] that must succeed: its stdout.
    pub fn ctl_must(&self, args: &[&str]) -> String {
        let (code, out, err) = self.ctl(args);
        if code != Some(0) {
            self.fail(&format!(
                "nfdhcpd ctl {args:?} exited {code:?}:\n{out}{err}"
            ));
        }
        out
    }

    /// Starts `nfdhcpd ctl --socket <ours> ARGS...` (a `trace`) in the background; ended in
    /// `Drop` by its pid.
    pub fn spawn_ctl(&mut self, args: &[&str]) -> Arc<LogBuf> {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_nfdhcpd"));
        cmd.arg("ctl")
            .arg("--socket")
            .arg(self.control_socket())
            .args(args);
        let p = Proc::spawn("nfdhcpd-ctl", cmd);
        let log = p.log.clone();
        self.helpers.push(p);
        log
    }

    // --- counters ---

    /// SIGUSR1 to the daemon; the `counters k=v ...` line it logs, parsed.
    pub fn counters(&mut self) -> BTreeMap<String, u64> {
        let mark = self.log_mark();
        self.daemon
            .as_mut()
            .expect("daemon not started")
            .signal("USR1");
        let at = self.wait_log(mark, "INFO counters", BINDING_TIMEOUT);
        let line = self.daemon.as_ref().expect("daemon").log.lines()[at - 1].clone();
        line.split_whitespace()
            .filter_map(|w| w.split_once('='))
            .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
            .collect()
    }

    /// SIGUSR1 to the daemon; the `kernel nft table=nfdhcpd family=F ...` lines it logs
    /// (conf/nfdhcpd.nft's counters as the daemon read them), as `F:name` -> packets.
    pub fn dumped_nft_counters(&mut self) -> BTreeMap<String, u64> {
        let mark = self.log_mark();
        self.signal_daemon("USR1");
        // The nft lines follow the `kernel queue=` lines; the bridge line is the last one.
        let at = self.wait_log(mark, "family=bridge", BINDING_TIMEOUT);
        let lines = self.daemon.as_ref().expect("daemon").log.lines();
        let mut out = BTreeMap::new();
        for line in &lines[mark..at] {
            let w: Vec<&str> = line.split_whitespace().collect();
            if !line.contains("kernel nft table=nfdhcpd family=") {
                continue;
            }
            let family = w
                .iter()
                .find_map(|x| x.strip_prefix("family="))
                .unwrap_or("?");
            for (k, v) in w.iter().filter_map(|x| x.split_once('=')) {
                if let Ok(n) = v.parse::<u64>() {
                    out.insert(format!("{family}:{k}"), n);
                }
            }
        }
        out
    }

    /// One counter from [`Sandbox::counters`] (fails if the daemon has no such counter).
    pub fn counter(&mut self, name: &str) -> u64 {
        let c = self.counters();
        c.get(name)
            .copied()
            .unwrap_or_else(|| self.fail(&format!("no counter {name} in {c:?}")))
    }

    // --- dhclient ---

    /// Starts the real dhclient in the VM's namespace: foreground, one try (`-1`: exit 2 when
    /// `timeout` passes), our script, pid and lease files in a directory of its own.
    pub fn dhclient(&mut self, vm: &Vm, o: &DhcpOpts) -> DhId {
        let (id, dir) = self.dhclient_dir(&o.lease_file);
        self.spawn_dhclient(vm, id, dir, &dhclient_conf(o), &[])
    }

    /// The next run's handle and its directory, holding its lease file.
    fn dhclient_dir(&self, lease_file: &LeaseFile) -> (DhId, PathBuf) {
        let id = DhId(self.dhclients.len());
        let dir = self.dir.join(format!("dhclient-{}", id.0));
        fs::create_dir_all(&dir).expect("mkdir dhclient dir");
        let leases = dir.join("dhclient.leases");
        match lease_file {
            LeaseFile::Fresh => fs::write(&leases, "").expect("lease file"),
            LeaseFile::Contents(text) => fs::write(&leases, text).expect("lease file"),
            LeaseFile::ReuseFrom(earlier) => {
                let from = self.dhclients[earlier.0].dir.join("dhclient.leases");
                fs::copy(&from, &leases).expect("copy lease file");
            }
        }
        (id, dir)
    }

    /// Stateful DHCPv6: `dhclient -6 -d -1 -v` (with `-P`/`-P -N` for [`Ia6::Pd`]/[`Ia6::NaPd`],
    /// never `-S`) with our script, which puts the address on eth0 as Debian's
    /// dhclient-script does (see [`DHCLIENT_SCRIPT`]: a /128 with the lease's lifetimes) and
    /// records every call; its own pid, lease and conf files. It asks for the name servers
    /// and the domain search list. eth0's link-local must be past DAD (dhclient binds to it):
    /// see [`Sandbox::wait_link_local`]. Wait with [`Sandbox::expect_lease6`] or
    /// [`Sandbox::wait_script_having`] (`new_ip6_prefix` for the IA_PD's call); the address
    /// is tentative (DAD) for about a second after the BOUND6 call:
    /// [`Sandbox::wait_addr6_ready`]. What dhclient sends and when: [`Dhcp6Opts`].
    pub fn dhclient6_stateful(&mut self, vm: &Vm, o: &Dhcp6Opts) -> DhId {
        let (id, dir) = self.dhclient_dir(&o.lease_file);
        let conf = format!(
            "# dhclient.conf of the nfdhcpd end-to-end tests (stateful DHCPv6)\n\
             timeout {};\ninitial-interval 1;\n\
             request dhcp6.name-servers, dhcp6.domain-search;\n{}",
            o.timeout_s, o.extra_conf
        );
        let mut mode = vec!["-6"];
        mode.extend_from_slice(o.flags());
        self.spawn_dhclient(vm, id, dir, &conf, &mode)
    }

    /// Stateless DHCPv6 (`dhclient -6 -S`, an Information-Request) with the same script, its
    /// own files, giving up after `timeout_s`. eth0's link-local must be past DAD (dhclient
    /// binds to it): see [`Sandbox::wait_link_local`].
    pub fn dhclient6(&mut self, vm: &Vm, timeout_s: u32) -> DhId {
        self.dhclient6_with(vm, timeout_s, "", "")
    }

    /// [`Sandbox::dhclient6`] with more dhclient.conf: `declare` before the request (an
    /// `option NAME code N = TYPE;` for an option dhclient has no name for), `request` more
    /// options (`, dhcp6.NAME` items appended to its request statement, which is its ORO).
    pub fn dhclient6_with(
        &mut self,
        vm: &Vm,
        timeout_s: u32,
        declare: &str,
        request: &str,
    ) -> DhId {
        let id = DhId(self.dhclients.len());
        let dir = self.dir.join(format!("dhclient-{}", id.0));
        fs::create_dir_all(&dir).expect("mkdir dhclient dir");
        fs::write(dir.join("dhclient.leases"), "").expect("lease file");
        let conf = format!(
            "# dhclient.conf of the nfdhcpd end-to-end tests (DHCPv6)\n\
             timeout {timeout_s};\ninitial-interval 1;\n{declare}\n\
             request dhcp6.name-servers, dhcp6.domain-search{request};\n"
        );
        self.spawn_dhclient(vm, id, dir, &conf, &["-6", "-S"])
    }

    fn spawn_dhclient(
        &mut self,
        vm: &Vm,
        id: DhId,
        dir: PathBuf,
        conf: &str,
        mode: &[&str],
    ) -> DhId {
        let leases = dir.join("dhclient.leases");
        fs::write(dir.join("dhclient.conf"), conf).expect("dhclient.conf");
        let script = dir.join("script.sh");
        fs::write(&script, DHCLIENT_SCRIPT).expect("script");
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod script");
        let mut cmd = Command::new(tool("ip"));
        cmd.args(["netns", "exec", &vm.netns, &tool("dhclient")]);
        cmd.args(mode);
        cmd.args(["-d", "-1", "-v"]);
        cmd.arg("-sf").arg(&script);
        cmd.arg("-pf").arg(dir.join("dhclient.pid"));
        cmd.arg("-lf").arg(&leases);
        cmd.arg("-cf").arg(dir.join("dhclient.conf"));
        cmd.arg("eth0");
        let proc = Proc::spawn("dhclient", cmd);
        self.dhclients.push(DhclientRun {
            vm: vm.clone(),
            dir,
            proc,
        });
        id
    }

    /// Every call of the script so far.
    pub fn script_calls(&self, id: DhId) -> Vec<ScriptCall> {
        let text =
            fs::read_to_string(self.dhclients[id.0].dir.join("script.log")).unwrap_or_default();
        parse_script_log(&text)
    }

    /// dhclient's own output (stderr and stdout).
    pub fn dhclient_output(&self, id: DhId) -> String {
        self.dhclients[id.0].proc.log.text()
    }

    pub fn lease_file_text(&self, id: DhId) -> String {
        fs::read_to_string(self.dhclients[id.0].dir.join("dhclient.leases")).unwrap_or_default()
    }

    /// Waits for the first script call with one of `reasons` after the first `skip` calls.
    /// Returns that call and its position. Fails if dhclient exits first.
    pub fn wait_script(
        &mut self,
        id: DhId,
        reasons: &[&str],
        skip: usize,
        timeout: Duration,
    ) -> (ScriptCall, usize) {
        self.wait_script_where(id, reasons, "", skip, timeout, &|_| true)
    }

    /// [`Sandbox::wait_script`] for a call that also has variable `var` (e.g.
    /// `new_ip6_prefix`: with `-P -N`, dhclient calls the script once per IA, the IA_NA's
    /// call first).
    pub fn wait_script_having(
        &mut self,
        id: DhId,
        reasons: &[&str],
        var: &str,
        skip: usize,
        timeout: Duration,
    ) -> (ScriptCall, usize) {
        let what = format!(" with {var}");
        self.wait_script_where(id, reasons, &what, skip, timeout, &|c| c.get(var).is_some())
    }

    fn wait_script_where(
        &mut self,
        id: DhId,
        reasons: &[&str],
        what: &str,
        skip: usize,
        timeout: Duration,
        pred: &dyn Fn(&ScriptCall) -> bool,
    ) -> (ScriptCall, usize) {
        let deadline = Instant::now() + timeout;
        loop {
            let calls = self.script_calls(id);
            if let Some((i, c)) = calls
                .iter()
                .enumerate()
                .skip(skip)
                .find(|(_, c)| reasons.contains(&c.reason()) && pred(c))
            {
                return (c.clone(), i);
            }
            let who = self.dhclients[id.0].proc.what.clone();
            if let Some(status) = self.dhclients[id.0].proc.exited() {
                self.fail(&format!(
                    "{who} {id:?} exited ({status}) without a {reasons:?} call{what} of its script"
                ));
            }
            if Instant::now() >= deadline {
                self.fail(&format!(
                    "{who} {id:?} got no {reasons:?}{what} within {timeout:?}"
                ));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for a lease (BOUND, RENEW, REBIND or REBOOT).
    pub fn expect_lease(&mut self, id: DhId) -> ScriptCall {
        self.wait_script(id, LEASE_REASONS, 0, LEASE_TIMEOUT).0
    }

    /// Waits for a DHCPv6 lease of a [`Sandbox::dhclient6_stateful`] run: its first BOUND6,
    /// RENEW6 or REBIND6 call (for [`Ia6::NaPd`], the IA_NA's: see
    /// [`Sandbox::wait_script_having`] for the IA_PD's).
    pub fn expect_lease6(&mut self, id: DhId) -> ScriptCall {
        self.wait_script(id, LEASE6_REASONS, 0, LEASE6_TIMEOUT).0
    }

    /// Waits for dhclient to give up (its `timeout` passed: `-1` makes it exit 2, also `-6`)
    /// and checks its script never saw a lease (DHCPv4 or DHCPv6).
    pub fn expect_no_lease(&mut self, id: DhId, timeout_s: u32) {
        let status = self.dhclients[id.0]
            .proc
            .wait_exit(Duration::from_secs(u64::from(timeout_s) + 15));
        if let Some(lease) = self
            .script_calls(id)
            .iter()
            .find(|c| LEASE_REASONS.contains(&c.reason()) || LEASE6_REASONS.contains(&c.reason()))
        {
            self.fail(&format!(
                "dhclient {id:?} got a lease it must not get:\n{}",
                lease.dump()
            ));
        }
        match status {
            Some(s) if s.code() == Some(2) => {}
            Some(s) => self.fail(&format!(
                "dhclient {id:?} exited {s}, expected 2 (no lease)"
            )),
            None => self.fail(&format!(
                "dhclient {id:?} did not give up within {timeout_s} s + 15 s"
            )),
        }
    }

    /// Ends a dhclient run (by its pid, SIGKILL) and waits for it; a dhcpcd run as
    /// [`Sandbox::stop_dhcpcd`] does.
    pub fn stop_dhclient(&mut self, id: DhId) {
        self.dhclients[id.0].end();
    }

    // --- dhcpcd ---

    /// dhcpcd for DHCPv6 only, in the VM's namespace: `dhcpcd -6 -B -d -f CONF -c SCRIPT
    /// eth0` (foreground, debug log collected as its output), [`DHCPCD6_CONF`] plus
    /// `o.extra_conf`, our recording script [`DHCPCD_SCRIPT`] instead of dhcpcd-run-hooks
    /// (so no hook runs: nothing of the machine's is touched). dhcpcd itself puts the
    /// address on eth0 (a /128, `noprefixroute`, the lease's lifetimes), after its DAD,
    /// before the BOUND6 call: check `sb.vm_addrs6(vm, "global")` then. Wait for it with
    /// `wait_script(id, DHCPCD6_LEASE_REASONS, 0, LEASE6_TIMEOUT)`. Needs
    /// [`DHCPCD_TOOLS`]; end it with [`Sandbox::stop_dhcpcd`] (also done in `Drop`).
    ///
    /// Isolation: dhcpcd 9.4 keeps its pid file and control sockets in /run/dhcpcd
    /// (`eth0-6.pid`, `eth0-6.sock`, `eth0-6.unpriv.sock`: not per network namespace, though
    /// it logs the namespace's name) and its DUID and leases in /var/lib/dhcpcd (`duid`,
    /// `eth0.lease6`). Two instances in two namespaces collide there: the second one finds
    /// the first's socket, hands it its command line ("sending commands to dhcpcd
    /// process") and exits 0, and all would share one DUID and one lease file. So each run
    /// gets a private mount namespace (`unshare -m --propagation private`, inside `ip netns
    /// exec`) where the run's `run/` is bind-mounted on /run and its `var-lib/dhcpcd/` on
    /// /var/lib/dhcpcd (on /var/lib if that does not exist): its pid file is
    /// `<dir>/run/dhcpcd/eth0-6.pid`, its DUID `<dir>/var-lib/dhcpcd/duid`; /run/netns and
    /// the syslog socket are hidden from it, which only costs its log the namespace's name.
    /// `ip netns exec`, `unshare` and the `sh` exec in turn: the pid we spawn is dhcpcd's.
    ///
    /// What dhcpcd 9.4.1 does (seen against dnsmasq 2.90's RA with M=1, O=1, A=0): calls
    /// PREINIT, CARRIER, solicits a router (after 0.5 s), ROUTERADVERT, then, the M flag
    /// being set, Solicits (IA_NA, IAID = the last 4 bytes of the MAC, a DUID-LLT made on
    /// the first run), Requests, installs the address, waits for its DAD and calls BOUND6
    /// about 3-4 s after start. With the state of an earlier run
    /// ([`Dhcpcd6Opts::state_from`]) and a valid lease it Confirms instead and calls
    /// REBOOT6. Its variables: `new_dhcp6_ia_na1_ia_addr1` (the address),
    /// `new_dhcp6_ia_na1_ia_addr1_pltime`/`_vltime`, `new_dhcp6_ia_na1_iaid` (`5e100102`),
    /// `new_dhcp6_ia_na1_t1`/`_t2`, `new_dhcp6_server_id`/`new_dhcp6_client_id` (plain hex),
    /// `new_dhcp6_name_servers`, `new_dhcp6_status_code` (`0`) and `_message`; `protocol`
    /// is `dhcp6` (`ra` for ROUTERADVERT, `link` for PREINIT/CARRIER). On SIGTERM it deletes
    /// the address and its routes and calls STOP6, ROUTERADVERT, STOPPED.
    pub fn dhcpcd6(&mut self, vm: &Vm, o: &Dhcpcd6Opts) -> DhId {
        let id = DhId(self.dhclients.len());
        let dir = self.dir.join(format!("dhcpcd-{}", id.0));
        let state = dir.join("var-lib").join("dhcpcd");
        fs::create_dir_all(dir.join("run").join("dhcpcd")).expect("mkdir dhcpcd run dir");
        fs::create_dir_all(&state).expect("mkdir dhcpcd state dir");
        if let Some(earlier) = o.state_from {
            let from = self.dhclients[earlier.0].dir.join("var-lib").join("dhcpcd");
            for name in ["duid", "eth0.lease6"] {
                if from.join(name).exists() {
                    fs::copy(from.join(name), state.join(name)).expect("copy dhcpcd state");
                }
            }
        }
        let conf = dir.join("dhcpcd.conf");
        fs::write(&conf, format!("{DHCPCD6_CONF}{}", o.extra_conf)).expect("dhcpcd.conf");
        let script = dir.join("script.sh");
        fs::write(&script, DHCPCD_SCRIPT).expect("dhcpcd script");
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod script");
        let mut cmd = Command::new(tool("ip"));
        cmd.args(["netns", "exec", &vm.netns, &tool("unshare")]);
        cmd.args([
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            DHCPCD_ISOLATE,
            "sh",
        ]);
        cmd.arg(&dir);
        cmd.args([tool("mount"), tool("dhcpcd")]);
        cmd.args(["-6", "-B", "-d", "-f"]);
        cmd.arg(&conf).arg("-c").arg(&script).arg("eth0");
        let proc = Proc::spawn("dhcpcd", cmd);
        self.dhclients.push(DhclientRun {
            vm: vm.clone(),
            dir,
            proc,
        });
        id
    }

    /// Ends a dhcpcd run by its pid: SIGTERM, and it deletes its addresses and routes (see
    /// `DhclientRun::end` for what happens when it does not exit within 5 s). Its exit
    /// status; `None` when it had to be killed.
    pub fn stop_dhcpcd(&mut self, id: DhId) -> Option<ExitStatus> {
        self.dhclients[id.0].end()
    }

    /// The pid file of a dhcpcd run (in its private /run).
    pub fn dhcpcd_pidfile(&self, id: DhId) -> PathBuf {
        self.dhclients[id.0].dir.join("run/dhcpcd/eth0-6.pid")
    }

    /// The DUID file and the lease file of a dhcpcd run (its private /var/lib/dhcpcd).
    pub fn dhcpcd_state_dir(&self, id: DhId) -> PathBuf {
        self.dhclients[id.0].dir.join("var-lib/dhcpcd")
    }

    // --- diagnostics and teardown ---

    /// Everything worth seeing when a test fails.
    pub fn diagnostics(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "==== sandbox {} (test {}), dir {}",
            self.id,
            self.test,
            self.dir.display()
        );
        match &self.daemon {
            Some(d) => {
                let _ = writeln!(s, "==== daemon stderr (pid {}):\n{}", d.pid(), d.log.text());
            }
            None => s.push_str("==== daemon not started\n"),
        }
        for (i, r) in self.dhclients.iter().enumerate() {
            let _ = writeln!(
                s,
                "==== {} {i} in {} (pid {}):\n{}",
                r.proc.what,
                r.vm.netns,
                r.proc.pid(),
                r.proc.log.text()
            );
            let script = fs::read_to_string(r.dir.join("script.log")).unwrap_or_default();
            let _ = writeln!(s, "---- its script log:\n{script}");
        }
        for h in &self.helpers {
            let _ = writeln!(s, "==== {} (pid {}):\n{}", h.what, h.pid(), h.log.text());
        }
        if let Ok(entries) = fs::read_dir(&self.state_dir) {
            for e in entries.flatten() {
                // Only regular files: opening a FIFO a test made there would block forever.
                if !e.file_type().is_ok_and(|t| t.is_file()) {
                    let _ = writeln!(s, "==== {} (not a regular file)", e.path().display());
                    continue;
                }
                let text = fs::read_to_string(e.path()).unwrap_or_default();
                let _ = writeln!(s, "==== binding file {}:\n{text}", e.path().display());
            }
        }
        let probes = [
            "iptables -w -t mangle -L PREROUTING -v -n -x",
            "iptables -w -L INPUT -v -n -x",
            "ip6tables -w -t mangle -L PREROUTING -v -n -x",
            "cat /proc/net/netfilter/nfnetlink_queue",
            "nft list ruleset",
            "ip -br link",
        ];
        for p in probes {
            let out = self.host_run(p).unwrap_or_else(|e| e);
            let _ = writeln!(s, "==== host ns: {p}\n{out}");
        }
        for vm in &self.vms {
            for p in ["ip -br link", "ip -6 addr", "ip -6 route", "ip -6 neigh"] {
                let out = in_ns(&vm.netns, p).unwrap_or_else(|e| e);
                let _ = writeln!(s, "==== {}: {p}\n{out}", vm.netns);
            }
        }
        s
    }

    /// Panics with `msg` and the diagnostics.
    pub fn fail(&self, msg: &str) -> ! {
        panic!("{}: {msg}\n{}", self.test, self.diagnostics())
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for r in &mut self.dhclients {
            r.end();
        }
        self.dhclients.clear();
        for h in &mut self.helpers {
            h.stop(Duration::from_secs(3));
        }
        self.helpers.clear();
        if let Some(mut d) = self.daemon.take() {
            if d.exited().is_none() {
                let (_, killed) = d.stop(Duration::from_secs(5));
                if killed {
                    eprintln!("{}: the daemon ignored SIGTERM for 5 s: killed", self.test);
                }
            }
        }
        while let Some(ns) = self.namespaces.pop() {
            drop(ns);
        }
        if let Err(e) = fs::remove_dir_all(&self.dir) {
            eprintln!("warning: teardown: rm -r {}: {e}", self.dir.display());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile VMs and faults (tests/e2e_hostile.rs, tests/e2e_faults.rs).

/// The VMs' packet tool: raw frames on `eth0`, the valid ones built with scapy, the hostile
/// ones byte by byte (see its doc string). Its summary is one `DONE key=value ...` line.
pub const VMPKT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tools/vmpkt.py");
/// Debian's python3, which has python3-scapy (not whatever `python3` is first in PATH).
pub const PYTHON3: &str = "/usr/bin/python3";

/// Why [`PYTHON3`] cannot be used by the packet tool; `None` when it can.
fn missing_python_module(module: &str, package: &str) -> Option<String> {
    let ok = Command::new(PYTHON3)
        .args(["-c", &format!("import {module}")])
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    (!ok).then(|| format!("{PYTHON3} cannot import {module} (Debian package {package})"))
}

/// The `key=value` words of a `DONE ...` line of the packet tool.
pub fn parse_done(line: &str) -> BTreeMap<String, String> {
    line.split_whitespace()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A number from [`parse_done`]'s map; 0 when absent.
pub fn done_u64(done: &BTreeMap<String, String>, key: &str) -> u64 {
    done.get(key).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// `after - before` for every counter (the daemon's counters only grow).
pub fn counter_delta(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.saturating_sub(before.get(k).copied().unwrap_or(0)),
            )
        })
        .collect()
}

/// A whole line as the daemon logs in the foreground: `LEVEL message`.
pub fn is_daemon_log_line(line: &str) -> bool {
    ["ERROR ", "WARN ", "INFO ", "DEBUG ", "TRACE "]
        .iter()
        .any(|l| line.starts_with(l))
}

impl Sandbox {
    /// [`Sandbox::add_vm`] for a VM whose kernel sends no IPv6 packet of its own (no Router
    /// Solicitation, no DAD probe, and no router probe: it ignores RAs, which raw-socket
    /// clients such as rdisc6 still see), so the packets that reach the queues are exactly
    /// the ones a test sends.
    pub fn add_quiet_vm(&mut self, tap: &str) -> Vm {
        let vm = self.add_vm_unlinked(tap);
        for (key, value) in [
            ("router_solicitations", "0"),
            ("dad_transmits", "0"),
            ("accept_dad", "0"),
            ("accept_ra", "0"),
        ] {
            let set = format!("echo {value} > /proc/sys/net/ipv6/conf/default/{key}");
            run_args(&["ip", "netns", "exec", &vm.netns, "sh", "-c", &set])
                .unwrap_or_else(|e| self.fail(&e));
        }
        self.link(&vm);
        vm
    }

    /// Silences the VM's own IP stack: everything it would send (neighbor solicitations,
    /// ICMP errors for the replies nobody listens to, ...) is dropped in its OUTPUT chain.
    /// The packet tool writes with AF_PACKET, which bypasses that chain, so the tool's
    /// packets are then the only ones the tap's counters see.
    pub fn silence_stack(&self, vm: &Vm) {
        for tool in ["iptables", "ip6tables"] {
            run_args(&[
                "ip", "netns", "exec", &vm.netns, tool, "-w", "-A", "OUTPUT", "-j", "DROP",
            ])
            .unwrap_or_else(|e| self.fail(&e));
        }
    }

    /// Starts the packet tool in the VM's namespace with `args` (after `--mac <the VM's>`);
    /// it is ended in `Drop` if still running. Returns its output.
    pub fn spawn_vmpkt(&mut self, vm: &Vm, args: &[&str]) -> Arc<LogBuf> {
        let mut all = vec![PYTHON3, VMPKT, "--mac", vm.mac.as_str()];
        all.extend_from_slice(args);
        let ns = vm.netns.clone();
        self.spawn_in(&ns, "vmpkt", &all)
    }

    /// Waits for the packet tool's `DONE` line; its values.
    pub fn wait_vmpkt(&self, out: &LogBuf, timeout: Duration) -> BTreeMap<String, String> {
        match out.wait_for(0, |l| l.starts_with("[stdout] DONE"), timeout) {
            Some(i) => parse_done(&out.lines()[i]),
            None => self.fail(&format!(
                "the packet tool printed no DONE within {timeout:?}:\n{}",
                out.text()
            )),
        }
    }

    /// Runs the packet tool to its end (see [`Sandbox::spawn_vmpkt`]).
    pub fn run_vmpkt(
        &mut self,
        vm: &Vm,
        args: &[&str],
        timeout: Duration,
    ) -> BTreeMap<String, String> {
        let out = self.spawn_vmpkt(vm, args);
        self.wait_vmpkt(&out, timeout)
    }

    /// Packets the NFQUEUE rules of the host namespace (iptables and ip6tables, mangle
    /// PREROUTING; with [`Firewall::Nft`], the queue chains of conf/nfdhcpd.nft) handed to
    /// each queue so far, summed per queue number.
    pub fn nfqueue_rule_counts(&self) -> BTreeMap<u16, u64> {
        if firewall() == Firewall::Nft {
            return self.nft_queue_rule_counts();
        }
        let mut counts = BTreeMap::new();
        for cmd in ["iptables", "ip6tables"] {
            let out = self.host_must(&format!("{cmd} -w -t mangle -L PREROUTING -v -n -x"));
            for line in out.lines() {
                let w: Vec<&str> = line.split_whitespace().collect();
                let queue = w
                    .windows(2)
                    .find(|p| p[0] == "num")
                    .and_then(|p| p[1].parse::<u16>().ok());
                if let (Some(q), Some(Ok(pkts)), true) = (
                    queue,
                    w.first().map(|p| p.parse::<u64>()),
                    w.contains(&"NFQUEUE"),
                ) {
                    *counts.entry(q).or_insert(0) += pkts;
                }
            }
        }
        counts
    }

    /// [`Sandbox::nfqueue_rule_counts`] of conf/nfdhcpd.nft: each queue rule's counter
    /// (`... counter packets N bytes M queue flags bypass to Q`, or the emulation's
    /// `meta mark set meta mark | <mark>`), summed per queue.
    fn nft_queue_rule_counts(&self) -> BTreeMap<u16, u64> {
        let mut counts = BTreeMap::new();
        for family in ["inet", "bridge"] {
            let out = self.host_must(&format!("nft list chain {family} nfdhcpd to_nfdhcpd"));
            for line in out.lines() {
                let w: Vec<&str> = line.split_whitespace().collect();
                let after = |word: &str| w.windows(2).find(|p| p[0] == word).map(|p| p[1]);
                let queue = match after("queue") {
                    Some(_) => after("to")
                        .or(after("num"))
                        .and_then(|q| q.parse::<u16>().ok()),
                    None => after("|")
                        .and_then(|m| u32::from_str_radix(m.trim_start_matches("0x"), 16).ok())
                        .map(|m| ((m >> 16) & 0xff) as u16),
                };
                if let (Some(q), Some(Ok(pkts))) = (queue, after("packets").map(str::parse::<u64>))
                {
                    *counts.entry(q).or_insert(0) += pkts;
                }
            }
        }
        counts
    }

    /// Asserts that the daemon's log holds only whole `LEVEL message` lines without control
    /// characters: a raw newline from a file or a packet would start a line without a level,
    /// an ESC could rewrite an operator's terminal.
    pub fn assert_log_clean(&self) {
        for line in self.daemon_log().lines() {
            if !is_daemon_log_line(line) || line.chars().any(|c| c.is_control()) {
                self.fail(&format!(
                    "the daemon's log holds a raw control character or a broken line: {line:?}"
                ));
            }
        }
    }
}

/// The four queues: number, the counter of packets the daemon read from it, the per-tap
/// counting rule's tool and match (the same match as the NFQUEUE rule of DESIGN §1).
pub const QUEUE_KINDS: [(u16, &str, &str, &str); 4] = [
    (DHCP_QUEUE, "dhcp4", "iptables", "-p udp --dport 67"),
    (
        RS_QUEUE,
        "rs",
        "ip6tables",
        "-p icmpv6 --icmpv6-type router-solicitation",
    ),
    (
        NS_QUEUE,
        "ns",
        "ip6tables",
        "-p icmpv6 --icmpv6-type neighbour-solicitation",
    ),
    (DHCP6_QUEUE, "dhcp6", "ip6tables", "-p udp --dport 547"),
];

/// The nft match of each queue kind of [`QUEUE_KINDS`] (conf/nfdhcpd.nft's inet table).
pub fn nft_kind_match(kind: &str) -> &'static str {
    match kind {
        "dhcp4" => "meta nfproto ipv4 udp dport 67",
        "rs" => "icmpv6 type nd-router-solicit",
        "ns" => "icmpv6 type nd-neighbor-solicit",
        "dhcp6" => "meta nfproto ipv6 udp dport 547",
        other => panic!("no queue kind {other}"),
    }
}

/// The reply counters (one per reply a worker built).
pub const REPLY_COUNTERS: [&str; 7] = [
    "dhcp4_offer",
    "dhcp4_ack",
    "dhcp4_nak",
    "ra_solicited",
    "na_sent",
    "dhcp6_advertise",
    "dhcp6_reply",
];

/// A counter of the map, 0 when the daemon has no such counter.
pub fn ctr(c: &BTreeMap<String, u64>, name: &str) -> u64 {
    c.get(name).copied().unwrap_or(0)
}

/// Every outcome counter of a packet from a bound interface: the replies and every `drop_*`
/// counter (rate limited, malformed, spoofed, ...).
pub fn outcome_sum(c: &BTreeMap<String, u64>) -> u64 {
    let replies: u64 = REPLY_COUNTERS.iter().map(|k| ctr(c, k)).sum();
    let drops: u64 = c
        .iter()
        .filter(|(k, _)| k.starts_with("drop_"))
        .map(|(_, v)| *v)
        .sum();
    replies + drops
}

impl Sandbox {
    /// Counting rules (no target) at the top of mangle PREROUTING for `tap`, one per queue
    /// kind, with the NFQUEUE rules' matches: [`Sandbox::tap_counts`] reads them. With
    /// [`Firewall::Nft`], nft rules with the matches of conf/nfdhcpd.nft in a table of their
    /// own, `inet nfdt_count`, hooked at -155: after the per-tap limits (-160), before the
    /// queues (-150), where the iptables counting rules are too.
    pub fn add_tap_count_rules(&mut self, tap: &str) {
        if firewall() == Firewall::Nft {
            if !self.count_table {
                let path = self.dir.join("count.nft");
                let table = "table inet nfdt_count {\n    chain count {\n        \
                             type filter hook prerouting priority -155; policy accept;\n    \
                             }\n}\n";
                fs::write(&path, table).unwrap_or_else(|e| self.fail(&format!("{path:?}: {e}")));
                self.host_must(&format!("nft -f {}", path.display()));
                self.count_table = true;
            }
            for (_, kind, _, _) in QUEUE_KINDS {
                self.host_must(&format!(
                    "nft add rule inet nfdt_count count iifname \"{tap}\" {} counter comment \"cnt:{tap}:{kind}\"",
                    nft_kind_match(kind)
                ));
            }
            return;
        }
        for (_, kind, cmd, m) in QUEUE_KINDS {
            self.host_must(&format!(
                "{cmd} -w -t mangle -I PREROUTING 1 -i {tap} {m} -m comment --comment cnt:{tap}:{kind}"
            ));
        }
    }

    /// Packets each counting rule of [`Sandbox::add_tap_count_rules`] saw: `tap:kind` ->
    /// packets.
    pub fn tap_counts(&self) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        if firewall() == Firewall::Nft {
            let out = self.host_must("nft list chain inet nfdt_count count");
            for line in out.lines() {
                let w: Vec<&str> = line.split_whitespace().collect();
                let after = |word: &str| w.windows(2).find(|p| p[0] == word).map(|p| p[1]);
                let key = after("comment").and_then(|c| c.trim_matches('"').strip_prefix("cnt:"));
                let pkts = after("packets").and_then(|p| p.parse::<u64>().ok());
                if let (Some(k), Some(n)) = (key, pkts) {
                    counts.insert(k.to_string(), n);
                }
            }
            return counts;
        }
        for cmd in ["iptables", "ip6tables"] {
            let out = self.host_must(&format!("{cmd} -w -t mangle -S PREROUTING -v"));
            for line in out.lines() {
                let w: Vec<&str> = line.split_whitespace().collect();
                let key = w
                    .windows(2)
                    .find(|p| p[0] == "--comment")
                    .and_then(|p| p[1].trim_matches('"').strip_prefix("cnt:"));
                let pkts = w
                    .windows(2)
                    .find(|p| p[0] == "-c")
                    .and_then(|p| p[1].parse::<u64>().ok());
                if let (Some(k), Some(n)) = (key, pkts) {
                    counts.insert(k.to_string(), n);
                }
            }
        }
        counts
    }

    /// Waits until the daemon has read every packet the NFQUEUE rules queued (per queue, its
    /// `*_packets` counter equals the rules' count, and the rules stopped counting) and its
    /// sender has handled every reply built (`sent + send_errors + reply_queue_full` equals
    /// the replies plus periodic RAs and announcements). Returns the counters and the rules'
    /// counts then. A daemon that lost packets (the kernel failed open past it) never
    /// settles: the test fails with both sides.
    pub fn settle_counters(
        &mut self,
        timeout: Duration,
    ) -> (BTreeMap<String, u64>, BTreeMap<u16, u64>) {
        let deadline = Instant::now() + timeout;
        loop {
            let rules = self.nfqueue_rule_counts();
            let c = self.counters();
            let again = self.nfqueue_rule_counts();
            let read_all = QUEUE_KINDS.iter().all(|(q, kind, _, _)| {
                ctr(&c, &format!("{kind}_packets")) == rules.get(q).copied().unwrap_or(0)
            });
            let built: u64 = REPLY_COUNTERS.iter().map(|k| ctr(&c, k)).sum::<u64>()
                + ["ra_periodic", "garp_sent", "na_unsolicited"]
                    .iter()
                    .map(|k| ctr(&c, k))
                    .sum::<u64>();
            let handled = ctr(&c, "sent") + ctr(&c, "send_errors") + ctr(&c, "reply_queue_full");
            if rules == again && read_all && built == handled {
                return (c, rules);
            }
            if Instant::now() >= deadline {
                self.fail(&format!(
                    "the daemon's counters never matched the kernel's within {timeout:?}: \
                     NFQUEUE rules queued {rules:?}; replies built {built} (incl. periodic RAs and announcements) \
                     but sent+send_errors+reply_queue_full = {handled}; counters {c:?}"
                ));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Shared by the hostile-input and fault tests.

/// Fails the test unless `got == want`, with the context.
pub fn expect_eq(sb: &Sandbox, what: &str, got: u64, want: u64, context: &str) {
    if got != want {
        sb.fail(&format!("{what}: {got}, expected {want}\n{context}"));
    }
}

/// Sends `n` DISCOVERs from the VM and waits until all went past the daemon (filter/INPUT
/// counts them): the tap is unbound, its DHCP is ACCEPTed untouched.
pub fn expect_accepted(sb: &mut Sandbox, vm: &Vm, n: u64) {
    let before = sb.input_count(&vm.tap);
    let count = n.to_string();
    let done = sb.run_vmpkt(
        vm,
        &["dhcp4", "--type", "discover", "--count", &count],
        Duration::from_secs(30),
    );
    expect_eq(
        sb,
        "DISCOVERs sent",
        done_u64(&done, "sent"),
        n,
        &format!("{done:?}"),
    );
    let tap = vm.tap.clone();
    sb.wait_until(
        &format!("{n} DHCP packets of {tap} past the daemon (ACCEPT: unbound)"),
        Duration::from_secs(10),
        || (sb.input_count(&tap) >= before + n).then_some(()),
    );
}

/// Daemon log lines from `from` on holding the words of `needle`.
pub fn log_lines(sb: &Sandbox, from: usize, needle: &str) -> Vec<String> {
    sb.daemon_log()
        .lines()
        .skip(from)
        .filter(|l| log_has(l, needle))
        .map(str::to_string)
        .collect()
}

/// Writes a binding for `tap9`, which has no interface, and waits for the daemon to say so:
/// everything written before it has been handled (inotify events come in order). Returns
/// the log cursor after that line.
pub fn barrier(sb: &mut Sandbox, from: usize) -> usize {
    let p = sb.binding_path("tap9");
    fs::write(&p, "MAC=02:00:5e:10:09:09\nIP=192.0.2.99\n").expect("write tap9");
    sb.wait_log(from, "binding inactive tap=tap9", BINDING_TIMEOUT)
}
