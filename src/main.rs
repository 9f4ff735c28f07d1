//! nfdhcpd: command line -> config -> logging -> queues and socket -> threads -> signals.

use arc_swap::ArcSwap;
use nfdhcpd::binding::links::{LinkMonitor, Links};
use nfdhcpd::binding::table::Registry;
use nfdhcpd::binding::watch::{self, DirWatch};
use nfdhcpd::config::{self, Config};
use nfdhcpd::ra::RaTimer;
use nfdhcpd::sender::{self, PacketSocket};
use nfdhcpd::stats::Stats;
use nfdhcpd::worker::{self, QueueKind, Worker};
use parking_lot::Mutex;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
use signal_hook::iterator::Signals;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::thread;

const USAGE: &str = "\
Usage: nfdhcpd [-c FILE] [-d] [-f] [-v] [-h]

Answers the DHCP, DHCPv6, Router and Neighbor Solicitations of VMs on this host from
per-interface binding files, via NFQUEUE.

  -c, --config FILE  configuration file (default /etc/nfdhcpd/nfdhcpd.conf)
  -d, --debug        log per-packet detail
  -f, --foreground   stay in the foreground and log to stderr
  -v, --version      print the version and exit
  -h, --help         print this help and exit
";

/// The validated command line.
struct Args {
    config: PathBuf,
    debug: bool,
}

/// What the command line asks for.
enum Cli {
    Run(Args),
    Exit(ExitCode),
}

fn parse_args() -> Cli {
    let mut args = Args {
        config: PathBuf::from(config::DEFAULT_CONFIG_PATH),
        debug: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-c" | "--config" => match it.next() {
                Some(path) => args.config = PathBuf::from(path),
                None => return usage_error("option -c needs a file name"),
            },
            s if s.starts_with("--config=") => {
                args.config = PathBuf::from(&s["--config=".len()..]);
            }
            "-d" | "--debug" => args.debug = true,
            // Daemon mode is not implemented yet: every run is a foreground run.
            "-f" | "--foreground" => {}
            "-v" | "--version" => {
                println!("nfdhcpd {}", env!("CARGO_PKG_VERSION"));
                return Cli::Exit(ExitCode::SUCCESS);
            }
            "-h" | "--help" => {
                print!("{USAGE}");
                return Cli::Exit(ExitCode::SUCCESS);
            }
            other => return usage_error(&format!("unknown option {other:?}")),
        }
    }
    Cli::Run(args)
}

fn usage_error(msg: &str) -> Cli {
    eprintln!("nfdhcpd: {msg}\n{USAGE}");
    Cli::Exit(ExitCode::from(1))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Cli::Run(a) => a,
        Cli::Exit(code) => return code,
    };
    let loaded = match config::load(&args.config) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("nfdhcpd: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
    nfdhcpd::logging::init_stderr(args.debug);
    for w in &loaded.warnings {
        log::warn!("config {w}");
    }
    match start(loaded.config) {
        Ok(never) => match never {},
        Err(e) => {
            log::error!("cannot start: {e}");
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
    #[error("signal handlers: {0}")]
    Signals(std::io::Error),
    #[error("cannot spawn thread {name}: {source}")]
    Spawn {
        name: String,
        source: std::io::Error,
    },
}

enum Never {}

/// Opens everything (queues first, while we are still single-threaded), starts the threads,
/// then serves signals forever.
fn start(config: Config) -> Result<Never, StartError> {
    let datapath = config.general.datapath.clone();
    check_state_dir(&datapath)?;
    let queues = open_queues(&config)?;
    let socket = PacketSocket::open().map_err(StartError::PacketSocket)?;
    let mut monitor = LinkMonitor::open().map_err(StartError::Links)?;
    let mut links = Links::default();
    links.replace(monitor.dump().map_err(StartError::Links)?);

    let stats = Arc::new(Stats::default());
    let registry = Arc::new(Mutex::new(Registry::new(datapath.clone(), links)));
    let dirwatch = DirWatch::open(&datapath).map_err(|source| StartError::StateDir {
        path: datapath.clone(),
        source,
    })?;
    {
        let mut reg = registry.lock();
        reg.rescan().map_err(|source| StartError::StateDir {
            path: datapath.clone(),
            source,
        })?;
        log::info!(
            "bindings loaded files={} active={}",
            reg.file_count(),
            reg.shared().load().len()
        );
    }
    let snapshot = registry.lock().shared();
    let (kick_tx, kick_rx) = crossbeam_channel::bounded(1024);
    registry.lock().set_kick(kick_tx);
    let config = Arc::new(ArcSwap::from_pointee(config));
    let (send, sender_loop) = sender::channel(Arc::clone(&stats));
    let mut signals =
        Signals::new([SIGTERM, SIGINT, SIGHUP, SIGUSR1]).map_err(StartError::Signals)?;

    spawn("sender", move || sender_loop.run(socket))?;
    let reg = Arc::clone(&registry);
    spawn("inotify", move || dirwatch.run(reg))?;
    let reg = Arc::clone(&registry);
    spawn("links", move || watch::run_link_monitor(monitor, reg))?;
    for (num, kind, queue) in queues {
        let w = Worker {
            queue,
            num,
            kind,
            snapshot: Arc::clone(&snapshot),
            config: Arc::clone(&config),
            send: send.clone(),
            stats: Arc::clone(&stats),
        };
        spawn(&format!("queue-{num}"), move || w.run())?;
    }
    let ra = RaTimer {
        snapshot: Arc::clone(&snapshot),
        config: Arc::clone(&config),
        send: send.clone(),
        stats: Arc::clone(&stats),
        kick: kick_rx,
    };
    spawn("ra-timer", move || ra.run())?;
    drop(send);
    log::info!("ready");

    loop {
        for sig in signals.forever() {
            match sig {
                SIGHUP => {
                    log::info!("SIGHUP: rescanning bindings");
                    if let Err(e) = registry.lock().rescan() {
                        log::error!("rescan failed error=\"{e}\"");
                    }
                }
                SIGUSR1 => dump(&snapshot, &stats),
                _ => {
                    log::info!("signal {sig}: exiting");
                    // Queues are released by the kernel when the process exits; workers are
                    // blocked in recv() and cannot be interrupted (DESIGN.md §4).
                    std::process::exit(0);
                }
            }
        }
    }
}

fn check_state_dir(path: &std::path::Path) -> Result<(), StartError> {
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

fn open_queues(config: &Config) -> Result<Vec<(u16, QueueKind, nfq::Queue)>, StartError> {
    let mut wanted = Vec::new();
    if let Some(dhcp) = &config.dhcp {
        wanted.push((dhcp.queue, QueueKind::Dhcp4));
    }
    if let Some(v6) = &config.ipv6 {
        wanted.push((v6.rs_queue, QueueKind::RouterSolicit));
        wanted.push((v6.ns_queue, QueueKind::NeighborSolicit));
        if let Some(q) = v6.dhcpv6_queue {
            wanted.push((q, QueueKind::Dhcp6));
        }
    }
    let mut out = Vec::new();
    for (num, kind) in wanted {
        let queue = worker::open_queue(num).map_err(|source| StartError::Queue {
            num,
            kind: kind.as_str(),
            source,
        })?;
        log::info!("queue bound queue={num} kind={}", kind.as_str());
        out.push((num, kind, queue));
    }
    Ok(out)
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<(), StartError> {
    thread::Builder::new()
        .name(name.to_owned())
        .spawn(f)
        .map(drop)
        .map_err(|source| StartError::Spawn {
            name: name.to_owned(),
            source,
        })
}

/// SIGUSR1: the binding table and the counters, at info.
fn dump(snapshot: &nfdhcpd::binding::table::SharedSnapshot, stats: &Stats) {
    let snap = snapshot.load();
    log::info!("bindings active={}", snap.len());
    for e in snap.sorted() {
        let b = &e.binding;
        log::info!(
            "binding tap={} ifindex={} mac={} ip={} hostname={:?} subnet6={} eui64={}",
            b.tap,
            e.ifindex,
            b.mac,
            b.ip.map(|x| x.to_string()).unwrap_or_else(|| "-".into()),
            b.hostname.as_deref().unwrap_or("-"),
            b.subnet6
                .map(|x| x.to_string())
                .unwrap_or_else(|| "-".into()),
            b.eui64.map(|x| x.to_string()).unwrap_or_else(|| "-".into()),
        );
    }
    log::info!("counters {}", stats.summary());
}
