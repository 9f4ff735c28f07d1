//! nfdhcpd: command line -> config -> (detach) -> logging -> queues and sockets -> pid
//! file -> privilege drop -> state directory watched and read (as the run user) -> threads
//! -> signals.

use arc_swap::ArcSwap;
use nfdhcpd::binding::datapath;
use nfdhcpd::binding::links::{LinkEvent, LinkMonitor, Links};
use nfdhcpd::binding::read::{self, Scan};
use nfdhcpd::binding::snapshot::{SharedSnapshot, Slot};
use nfdhcpd::binding::table::Registry;
use nfdhcpd::binding::watch::{self, DirWatch};
use nfdhcpd::cli::{self, Action, Args, CliError};
use nfdhcpd::config::{self, Config};
use nfdhcpd::control::{self, Control, ReloadReport};
use nfdhcpd::daemon::{self, PidFile, PidFileError, Readiness};
use nfdhcpd::events::Trace;
use nfdhcpd::logging::{self, Target};
use nfdhcpd::nfqueue::{self, QueueSocket};
use nfdhcpd::privdrop::{self, Account, PrivError};
use nfdhcpd::ra::RaTimer;
use nfdhcpd::sender::{self, PacketSocket};
use nfdhcpd::stats::Stats;
use nfdhcpd::worker::{QueueKind, Worker};
use parking_lot::Mutex;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
use signal_hook::iterator::Signals;
use std::io;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::thread;

const USAGE: &str = "\
Usage: nfdhcpd [-c FILE] [-d] [-f] [-t] [-v] [-h]
       nfdhcpd [-c FILE] --print-rules iptables|ferm|nft|nft-limits [--bridged]

Answers the DHCP, DHCPv6, Router and Neighbor Solicitations of VMs on this host from
per-interface binding files, via NFQUEUE.

  -c, --config FILE   configuration file (default /etc/nfdhcpd/nfdhcpd.conf)
  -d, --debug         log per-packet detail
  -f, --foreground    stay in the foreground and log to stderr
  -t, --check-config  check the configuration and every binding file, then exit
  --print-rules FORMAT
                      print the firewall rules for the configuration's queues, IPv6
                      mode and rate limit, then exit: iptables (commands), ferm, nft
                      (the complete nftables rule set), nft-limits (the per-tap limits
                      and counters to load alongside iptables/ferm rules)
  --bridged           with --print-rules: also queue bridged taps' IPv6 (the opt-in)
  -v, --version       print the version and exit
  -h, --help          print this help and exit

Signals: TERM/INT stop, HUP reloads the configuration and rescans the binding files,
USR1 logs the binding table and the counters.

       nfdhcpd ctl [-c FILE] [--socket PATH] [--json] COMMAND [TAP]

Asks the running daemon over its control socket ([general] control_socket):
  status            version, uptime, queues, mode, bindings, last reload
  bindings [TAP]    every binding as the daemon sees it (inactive/refused: why)
  show TAP          a binding and the fate of its last packets
  counters          every counter
  metrics           the counters in the Prometheus text format
  reload            reload as SIGHUP does, and say what changed
  trace [TAP]       every decision, decoded, live, until interrupted
";

/// What the command line asks for.
enum Cli {
    Run(Args),
    Exit(ExitCode),
}

fn parse_args() -> Cli {
    match cli::parse(std::env::args().skip(1)) {
        Ok(Action::Run(args)) => Cli::Run(args),
        Ok(Action::Version) => {
            println!("nfdhcpd {}", env!("CARGO_PKG_VERSION"));
            Cli::Exit(ExitCode::SUCCESS)
        }
        Ok(Action::PrintRules(p)) => Cli::Exit(ExitCode::from(nfdhcpd::rules::print(
            &p.config, p.format, p.bridged,
        ))),
        Ok(Action::Help) => {
            print!("{USAGE}");
            Cli::Exit(ExitCode::SUCCESS)
        }
        Ok(Action::Ctl(args)) => {
            // The daemon's logger is never set up here: a ctl answer goes to stdout only.
            Cli::Exit(ExitCode::from(nfdhcpd::ctl::run(&args)))
        }
        Err(e) => {
            eprintln!("nfdhcpd: error: {e}\n{USAGE}");
            Cli::Exit(ExitCode::from(CliError::EXIT_CODE))
        }
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Cli::Run(a) => a,
        Cli::Exit(code) => return code,
    };
    if args.check {
        return ExitCode::from(u8::from(!nfdhcpd::check::run(&args.config)));
    }
    let loaded = match config::load(&args.config) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("nfdhcpd: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
    // Refused before detaching, so the message reaches the terminal.
    if let Err(e) = daemon::check_not_running(&loaded.config.fixed.general.pidfile) {
        eprintln!("nfdhcpd: {e}");
        return ExitCode::from(1);
    }
    // Like python-daemon, which the original used: started by init (a kept local systemd
    // unit with Type=simple and no -f), stay in the foreground, logging as a daemon would.
    let by_init = !args.foreground && daemon::started_by_init();
    let mut readiness = if args.foreground || by_init {
        None
    } else {
        match daemon::detach() {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("nfdhcpd: cannot detach: {e}");
                return ExitCode::from(1);
            }
        }
    };
    let target = if args.foreground {
        Target::Stderr
    } else {
        Target::Syslog {
            fallback: loaded.config.fixed.general.logdir.join("nfdhcpd.log"),
        }
    };
    if let Some(note) = logging::init(target, args.debug) {
        log::warn!("{note}");
        if let Some(r) = readiness.as_mut() {
            r.note(&note);
        }
    }
    // A bug must reach the log, not a detached daemon's /dev/null. Workers catch panics
    // per packet and go on; any other thread's panic is logged the same way.
    std::panic::set_hook(Box::new(|info| log::error!("internal error: {info}")));
    if by_init {
        log::info!("started by init (parent pid 1): not detaching");
    }
    for w in &loaded.warnings {
        log::warn!("config {w}");
    }
    match start(&args.config, loaded.config, &mut readiness) {
        Ok(never) => match never {},
        Err(e) => {
            log::error!("cannot start: {e}");
            if let Some(r) = readiness {
                r.failed(1, &format!("cannot start: {e}"));
            }
            ExitCode::from(1)
        }
    }
}

/// Start-up failures, each with what failed and why.
#[derive(Debug, thiserror::Error)]
enum StartError {
    #[error("state directory {path}: {source}")]
    StateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "state directory {path}: not readable by user {user}, who reads the binding files \
         (it needs read and search permission on it): {source}"
    )]
    StateDirAccess {
        path: PathBuf,
        user: String,
        source: std::io::Error,
    },
    #[error("NFQUEUE {num} ({kind}): {source}")]
    Queue {
        num: u16,
        kind: &'static str,
        source: std::io::Error,
    },
    #[error("AF_PACKET socket: {0}")]
    PacketSocket(std::io::Error),
    #[error("rtnetlink link monitor: {0}")]
    Links(std::io::Error),
    #[error(transparent)]
    PidFile(#[from] PidFileError),
    #[error("dropping privileges: {0}")]
    Privileges(#[from] PrivError),
    #[error("signal handlers: {0}")]
    Signals(std::io::Error),
    #[error("cannot spawn thread {name}: {source}")]
    Spawn {
        name: String,
        source: std::io::Error,
    },
}

enum Never {}

/// Everything the signal loop needs.
struct Running {
    config_path: PathBuf,
    config: Arc<ArcSwap<Config>>,
    registry: Arc<Mutex<Registry>>,
    snapshot: SharedSnapshot,
    stats: Arc<Stats>,
    trace: Arc<Trace>,
    pidfile: PidFile,
    /// The control server, once started: where a SIGHUP's reload is reported too.
    control: Mutex<Option<Arc<Control>>>,
}

/// Opens everything (queues first, while we are still single-threaded and root), writes
/// the pid file, drops privileges, reads the state directory with the rights it will have
/// from now on, starts the threads, then serves signals forever.
fn start(
    config_path: &Path,
    config: Config,
    readiness: &mut Option<Readiness>,
) -> Result<Never, StartError> {
    let account = match privdrop::running_as_root() {
        true => Some(privdrop::lookup(&config.fixed.general.user)?),
        false => None,
    };
    let datapath = config.fixed.general.datapath.clone();
    check_state_dir(&datapath)?;
    let queues = open_queues(&config)?;
    let socket = PacketSocket::open().map_err(StartError::PacketSocket)?;
    let mut monitor = LinkMonitor::open().map_err(StartError::Links)?;
    let pidfile = PidFile::write(
        &config.fixed.general.pidfile,
        account.as_ref().map(|a| (a.uid, a.gid)),
    )?;
    let control_socket = open_control_socket(&config, account.as_ref());
    let loaded = drop_privileges(account.as_ref())
        .and_then(|()| load_state(&datapath, &mut monitor, account.as_ref()));
    let (dirwatch, registry) = match loaded {
        Ok(l) => l,
        Err(e) => {
            pidfile.remove();
            return Err(e);
        }
    };
    let signals = Signals::new([SIGTERM, SIGINT, SIGHUP, SIGUSR1]).map_err(StartError::Signals)?;
    let snapshot = registry.lock().shared();
    let run = Running {
        config_path: config_path.to_owned(),
        snapshot,
        config: Arc::new(ArcSwap::from_pointee(config)),
        registry,
        stats: Arc::new(Stats::default()),
        trace: Arc::new(Trace::new()),
        pidfile,
        control: Mutex::new(None),
    };
    spawn_threads(&run, queues, socket, monitor, dirwatch)?;
    spawn_control(&run, control_socket)?;
    let reg = run.registry.lock();
    log::info!(
        "ready version={} bindings={} active={}",
        env!("CARGO_PKG_VERSION"),
        reg.file_count(),
        reg.shared().load().iter().count()
    );
    drop(reg);
    if let Some(r) = readiness.take() {
        r.ready();
    }
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    serve_signals(run, signals)
}

fn drop_privileges(account: Option<&Account>) -> Result<(), StartError> {
    match account {
        Some(a) => {
            privdrop::drop_to(a)?;
            log::info!(
                "running as user={} uid={} gid={} capabilities=CAP_NET_ADMIN,CAP_NET_RAW",
                a.name,
                a.uid,
                a.gid
            );
        }
        None => log::info!("not started as root: keeping the user and capabilities we were given"),
    }
    Ok(())
}

/// After the privilege drop: the state directory is watched and read with the rights the
/// daemon has from now on, so a binding readable at start-up stays readable when it
/// changes, and a directory the run user cannot read is refused here, not at the first
/// change (issue 11). Only the queues and sockets needed root.
fn load_state(
    datapath: &Path,
    monitor: &mut LinkMonitor,
    account: Option<&Account>,
) -> Result<(DirWatch, Arc<Mutex<Registry>>), StartError> {
    let state_dir_err = |source| StartError::StateDir {
        path: datapath.to_owned(),
        source,
    };
    let at = datapath::resolve(datapath).map_err(state_dir_err)?;
    datapath::check_readable(&at.path).map_err(|source| StartError::StateDirAccess {
        path: datapath.to_owned(),
        user: account.map_or_else(privdrop::current_user, |a| a.name.clone()),
        source,
    })?;
    // Watched before it is read: no change falls between the two.
    let dirwatch = DirWatch::open(datapath, &at).map_err(state_dir_err)?;
    let (dump, scan) = dump_links_and_scan(monitor, &at.path);
    let mut links = Links::default();
    links.replace(dump.map_err(StartError::Links)?);
    let mut registry = Registry::new(datapath.to_owned(), links);
    registry.load_initial(at, scan.map_err(state_dir_err)?);
    Ok((dirwatch, Arc::new(Mutex::new(registry))))
}

/// The kernel's link dump and the reading of every binding file, side by side: with
/// 100,000 of each they are most of start-up, and neither needs the other. Both run as the
/// run user (threads inherit the dropped credentials).
fn dump_links_and_scan(
    monitor: &mut LinkMonitor,
    datapath: &Path,
) -> (io::Result<Vec<LinkEvent>>, io::Result<Scan>) {
    std::thread::scope(|s| {
        let dumper = std::thread::Builder::new()
            .name("links-dump".into())
            .spawn_scoped(s, || monitor.dump());
        let scan = read::scan(datapath);
        let dump = match dumper {
            Ok(h) => h
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the link dump panicked"))),
            Err(e) => Err(e),
        };
        (dump, scan)
    })
}

fn spawn_threads(
    run: &Running,
    queues: Vec<(u16, QueueKind, QueueSocket)>,
    socket: PacketSocket,
    monitor: LinkMonitor,
    dirwatch: DirWatch,
) -> Result<(), StartError> {
    let (send, sender_loop) = sender::channel(Arc::clone(&run.stats));
    let (changes_tx, changes_rx) = crossbeam_channel::bounded(1024);
    run.registry.lock().notify_changes(changes_tx.clone());
    spawn("sender", move || sender_loop.run(socket))?;
    let reg = Arc::clone(&run.registry);
    spawn("inotify", move || dirwatch.run(reg))?;
    let reg = Arc::clone(&run.registry);
    spawn("links", move || watch::run_link_monitor(monitor, reg))?;
    for (num, kind, queue) in queues {
        let w = Worker {
            queue,
            num,
            kind,
            snapshot: Arc::clone(&run.snapshot),
            config: Arc::clone(&run.config),
            send: send.clone(),
            stats: Arc::clone(&run.stats),
            changes: changes_tx.clone(),
            trace: Arc::clone(&run.trace),
        };
        spawn(&format!("queue-{num}"), move || w.run())?;
    }
    let ra = RaTimer {
        snapshot: Arc::clone(&run.snapshot),
        config: Arc::clone(&run.config),
        send,
        stats: Arc::clone(&run.stats),
        changes: changes_rx,
    };
    spawn("ra-timer", move || ra.run())
}

fn serve_signals(run: Running, mut signals: Signals) -> ! {
    loop {
        for sig in signals.forever() {
            match sig {
                SIGHUP => {
                    let report = reload(&run.reloader());
                    if let Some(control) = &*run.control.lock() {
                        *control.last_reload.lock() = Some(report);
                    }
                }
                SIGUSR1 => {
                    let logdir = &run.config.load().fixed.general.logdir;
                    dump(&run.snapshot, &run.stats, &logdir.join("nfdhcpd.log"));
                }
                _ => {
                    log::info!("signal {sig}: exiting");
                    run.pidfile.remove();
                    // Queues are released by the kernel when the process exits; workers are
                    // blocked in recv() and cannot be interrupted (DESIGN.md §4).
                    std::process::exit(0);
                }
            }
        }
    }
}

/// SIGHUP and `ctl reload`: re-read the config (an invalid file keeps the running one),
/// then rescan every binding file. Logs what it did and returns the same lines.
fn reload(run: &Reloader) -> ReloadReport {
    // One at a time: a SIGHUP and a `ctl reload` must not interleave their merges.
    static RELOADING: parking_lot::Mutex<()> = parking_lot::Mutex::new(());
    let _one = RELOADING.lock();
    // systemd >= 253 wants the reload's start time along with RELOADING=1.
    let mut reloading = vec![sd_notify::NotifyState::Reloading];
    reloading.extend(sd_notify::NotifyState::monotonic_usec_now().ok());
    let _ = sd_notify::notify(&reloading);
    let mut lines = Vec::new();
    let ok = match config::load(&run.config_path) {
        Err(e) => {
            for line in e.to_string().lines() {
                log::error!("reload: {line}");
                lines.push(line.to_string());
            }
            log::error!("reload: keeping the running configuration");
            false
        }
        Ok(loaded) => {
            for w in &loaded.warnings {
                log::warn!("config {w}");
                lines.push(format!("warning: {w}"));
            }
            let (merged, changes) = nfdhcpd::reload::merge(&run.config.load(), loaded.config);
            run.config.store(Arc::new(merged));
            for key in &changes.applied {
                log::info!("reload: applied {key}");
                lines.push(format!("applied {key}"));
            }
            for key in &changes.need_restart {
                log::warn!("reload: {key} changed; restart nfdhcpd to apply it");
                lines.push(format!("{key} changed; restart nfdhcpd to apply it"));
            }
            true
        }
    };
    if let Err(e) = run.registry.lock().rescan() {
        log::error!("reload: rescan failed error=\"{e}\"");
        lines.push(format!("rescan failed: {e}"));
    }
    log::info!("reload done");
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    ReloadReport {
        at_ms: now_ms(),
        ok,
        lines,
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What a reload needs, shareable with the control thread.
#[derive(Clone)]
struct Reloader {
    config_path: PathBuf,
    config: Arc<ArcSwap<Config>>,
    registry: Arc<Mutex<Registry>>,
}

impl Running {
    fn reloader(&self) -> Reloader {
        Reloader {
            config_path: self.config_path.clone(),
            config: Arc::clone(&self.config),
            registry: Arc::clone(&self.registry),
        }
    }
}

/// Binds `[general] control_socket` while still root, owned by the run user. A socket that
/// cannot be bound is logged and done without: answering VMs matters more.
fn open_control_socket(
    config: &Config,
    account: Option<&Account>,
) -> Option<(PathBuf, UnixListener)> {
    let path = config.fixed.general.control_socket.clone()?;
    match control::bind(&path, account.map(|a| (a.uid, a.gid))) {
        Ok(l) => {
            log::info!("control socket listening path={}", path.display());
            Some((path, l))
        }
        Err(e) => {
            log::error!(
                "control socket not opened path={} error=\"{e}\"; nfdhcpd ctl will not reach this daemon",
                path.display()
            );
            None
        }
    }
}

/// The control server, and the metrics file writer when `metrics_file` is set.
fn spawn_control(run: &Running, socket: Option<(PathBuf, UnixListener)>) -> Result<(), StartError> {
    let reloader = run.reloader();
    let control = Arc::new(Control::new(
        run.config_path.clone(),
        Arc::clone(&run.config),
        Arc::clone(&run.registry),
        Arc::clone(&run.stats),
        Arc::clone(&run.trace),
        Box::new(move || reload(&reloader)),
    ));
    *run.control.lock() = Some(Arc::clone(&control));
    if let Some((_, listener)) = socket {
        let c = Arc::clone(&control);
        spawn("control", move || c.serve(listener))?;
    }
    if let Some(path) = run.config.load().fixed.general.metrics_file.clone() {
        let c = Arc::clone(&control);
        spawn("metrics", move || write_metrics_forever(&c, &path))?;
    }
    Ok(())
}

/// How often the metrics file is rewritten (node_exporter reads it at its own pace).
const METRICS_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

fn write_metrics_forever(control: &Control, path: &Path) {
    let mut failing = false;
    loop {
        let text = nfdhcpd::metrics::render(&control.stats, &control.gauges());
        match nfdhcpd::metrics::write_file(path, &text) {
            Ok(()) if failing => {
                log::info!("metrics file written again path={}", path.display());
                failing = false;
            }
            Ok(()) => {}
            Err(e) if !failing => {
                log::error!(
                    "metrics file not written path={} error=\"{e}\"",
                    path.display()
                );
                failing = true;
            }
            Err(_) => {}
        }
        std::thread::sleep(METRICS_EVERY);
    }
}

fn check_state_dir(path: &Path) -> Result<(), StartError> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(StartError::StateDir {
            path: path.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a directory"),
        }),
        Err(source) => Err(StartError::StateDir {
            path: path.to_owned(),
            source,
        }),
    }
}

fn open_queues(config: &Config) -> Result<Vec<(u16, QueueKind, QueueSocket)>, StartError> {
    let mut wanted = Vec::new();
    if let Some(dhcp) = &config.fixed.dhcp {
        wanted.push((dhcp.dhcp_queue, QueueKind::Dhcp4));
    }
    if let Some(v6) = &config.fixed.ipv6 {
        wanted.push((v6.rs_queue, QueueKind::RouterSolicit));
        wanted.push((v6.ns_queue, QueueKind::NeighborSolicit));
        if let Some(q) = v6.dhcpv6_queue {
            wanted.push((q, QueueKind::Dhcp6));
        }
    }
    let mut out = Vec::new();
    for (num, kind) in wanted {
        let queue = nfqueue::open(num).map_err(|source| StartError::Queue {
            num,
            kind: kind.as_str(),
            source,
        })?;
        log::info!("queue bound queue={num} kind={}", kind.as_str());
        out.push((num, kind, queue));
    }
    Ok(out)
}

/// Starts a named thread. Should one die of a bug, the daemon exits non-zero (so the
/// service manager restarts it) rather than run on without, say, its sender.
fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<(), StartError> {
    let thread_name = name.to_owned();
    thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err() {
                log::error!("thread {thread_name} died; exiting");
                std::process::exit(70);
            }
        })
        .map(drop)
        .map_err(|source| StartError::Spawn {
            name: name.to_owned(),
            source,
        })
}

/// SIGUSR1: the binding table and the counters, at info, and appended to the original's
/// log file (`<logdir>/nfdhcpd.log`), where its documented recipe looks for them.
fn dump(snapshot: &SharedSnapshot, stats: &Stats, log_file: &Path) {
    let mut lines = Vec::new();
    binding_lines(snapshot, &mut lines);
    lines.push(format!("counters {}", stats.summary()));
    // Drops the kernel counts for us: queue full, or our socket buffer full.
    let table = std::fs::read_to_string("/proc/net/netfilter/nfnetlink_queue").unwrap_or_default();
    for q in nfdhcpd::stats::kernel_queues(&table) {
        lines.push(format!(
            "kernel queue={} waiting={} queue_dropped={} user_dropped={}",
            q.queue, q.waiting, q.queue_dropped, q.user_dropped
        ));
    }
    nft_counters(&mut lines);
    for line in &lines {
        log::info!("{line}");
    }
    if let Err(e) = logging::append_to_log_file(log_file, &lines) {
        log::warn!(
            "cannot append the dump to {} error=\"{e}\"",
            log_file.display()
        );
    }
}

fn binding_lines(snapshot: &SharedSnapshot, lines: &mut Vec<String>) {
    let snap = snapshot.load();
    lines.push(format!("bindings active={}", snap.iter().count()));
    let dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    for slot in snap.sorted() {
        let b = slot.binding();
        let inactive = match &*slot {
            Slot::Active(_) => String::new(),
            Slot::Inactive { why, .. } => format!(" inactive=\"{}\"", why.as_str()),
        };
        let list = |v: Vec<String>| {
            if v.is_empty() {
                "-".into()
            } else {
                v.join(",")
            }
        };
        lines.push(format!(
            "binding tap={} ifindex={} mac={} ip={} hostname={:?} subnet6={} eui64={} ip6={} \
             delegated6={}{inactive}",
            b.tap,
            slot.ifindex(),
            b.mac,
            dash(b.ip.map(|x| x.to_string())),
            b.hostname.as_deref().unwrap_or("-"),
            dash(b.subnet6.map(|x| x.to_string())),
            dash(b.eui64.map(|x| x.to_string())),
            list(b.ip6.iter().map(ToString::to_string).collect()),
            list(b.delegated6.iter().map(ToString::to_string).collect()),
        ));
    }
}

/// conf/nfdhcpd.nft's counters, one line per family: what the kernel's per-tap limit dropped
/// and what the queues passed on without our verdict (full queue failing open, or bypass).
fn nft_counters(lines: &mut Vec<String>) {
    let table = nfdhcpd::nftcount::TABLE;
    let counters = match nfdhcpd::nftcount::read() {
        Ok(c) => c,
        Err(e) => {
            lines.push(format!("kernel nft table={table} unreadable error=\"{e}\""));
            return;
        }
    };
    if counters.is_empty() {
        lines.push(format!(
            "kernel nft table={table} not loaded: no per-tap kernel limit, unanswered passes not counted"
        ));
        return;
    }
    for family in ["inet", "bridge"] {
        let mut line = String::new();
        for c in counters.iter().filter(|c| c.family == family) {
            line.push_str(&format!(" {}={}", c.name, c.packets));
        }
        if !line.is_empty() {
            lines.push(format!("kernel nft table={table} family={family}{line}"));
        }
    }
}
