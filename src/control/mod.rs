//! The control socket (`[general] control_socket`, a Unix stream socket, mode 0600, owned by
//! the daemon's user) that `nfdhcpd ctl` talks to.
//!
//! One request per connection: a line `COMMAND [ARG] [--json]` of at most
//! [`MAX_REQUEST`] bytes, read within [`IO_TIMEOUT`]; the answer is written back (within
//! the same timeout per write) and the connection closed, except for `trace`, which streams
//! until the client goes. At most [`MAX_CLIENTS`] connections are served at once, each on
//! its own thread; nothing here is on the packet path: queue threads only read the events
//! and the trace hub, never this socket, so a slow or hostile client can only lose its own
//! answer.

pub mod describe;
mod render;

use crate::binding::table::Registry;
use crate::config::Config;
use crate::events::Trace;
use crate::stats::Stats;
use arc_swap::ArcSwap;
use parking_lot::Mutex;
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The longest request line.
pub const MAX_REQUEST: usize = 512;
/// How long a client may take to send its request, and each write of the answer may block.
pub const IO_TIMEOUT: Duration = Duration::from_secs(2);
/// Connections served at once; more are told `error: busy` and closed.
pub const MAX_CLIENTS: usize = 8;

/// The outcome of a reload, for `ctl reload` and `ctl status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadReport {
    pub at_ms: u64,
    /// The file was valid (and its live part applied).
    pub ok: bool,
    /// What the log said: applied keys, keys needing a restart, problems.
    pub lines: Vec<String>,
}

/// What the control server reads. Built once by the daemon.
pub struct Control {
    pub started: SystemTime,
    pub config_path: PathBuf,
    pub config: Arc<ArcSwap<Config>>,
    pub registry: Arc<Mutex<Registry>>,
    pub stats: Arc<Stats>,
    pub trace: Arc<Trace>,
    /// Runs a reload as SIGHUP does, and says what it did.
    pub reload: Box<dyn Fn() -> ReloadReport + Send + Sync>,
    pub last_reload: Mutex<Option<ReloadReport>>,
    clients: AtomicUsize,
    tracers: Mutex<Vec<Tracer>>,
}

/// A `ctl trace` client.
struct Tracer {
    id: usize,
    stream: UnixStream,
    tap: Option<String>,
    json: bool,
}

/// A parsed request line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub command: Command,
    pub json: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Status,
    Bindings(Option<String>),
    Show(String),
    Counters,
    Metrics,
    Reload,
    Trace(Option<String>),
}

/// The commands, for usage messages.
pub const COMMANDS: &str =
    "status, bindings [TAP], show TAP, counters, metrics, reload, trace [TAP]";

impl Request {
    pub fn parse(line: &str) -> Result<Request, String> {
        let mut json = false;
        let mut words = Vec::new();
        for w in line.split_ascii_whitespace() {
            match w {
                "--json" => json = true,
                w => words.push(w),
            }
        }
        let tap = |w: Option<&&str>| -> Result<Option<String>, String> {
            match w {
                None => Ok(None),
                Some(t) if crate::binding::file::is_interface_name(t) => Ok(Some(t.to_string())),
                Some(t) => Err(format!("{t:?} is not an interface name")),
            }
        };
        let command = match (words.first().copied(), words.len()) {
            (Some("status"), 1) => Command::Status,
            (Some("bindings"), 1 | 2) => Command::Bindings(tap(words.get(1))?),
            (Some("show"), 2) => Command::Show(tap(words.get(1))?.unwrap_or_default()),
            (Some("counters"), 1) => Command::Counters,
            (Some("metrics"), 1) => Command::Metrics,
            (Some("reload"), 1) => Command::Reload,
            (Some("trace"), 1 | 2) => Command::Trace(tap(words.get(1))?),
            _ => return Err(format!("unknown request {line:?}; commands: {COMMANDS}")),
        };
        Ok(Request { command, json })
    }

    /// The request line a client sends.
    pub fn line(&self) -> String {
        let mut s = match &self.command {
            Command::Status => "status".to_string(),
            Command::Bindings(None) => "bindings".into(),
            Command::Bindings(Some(t)) => format!("bindings {t}"),
            Command::Show(t) => format!("show {t}"),
            Command::Counters => "counters".into(),
            Command::Metrics => "metrics".into(),
            Command::Reload => "reload".into(),
            Command::Trace(None) => "trace".into(),
            Command::Trace(Some(t)) => format!("trace {t}"),
        };
        if self.json {
            s.push_str(" --json");
        }
        s.push('\n');
        s
    }
}

impl Control {
    pub fn new(
        config_path: PathBuf,
        config: Arc<ArcSwap<Config>>,
        registry: Arc<Mutex<Registry>>,
        stats: Arc<Stats>,
        trace: Arc<Trace>,
        reload: Box<dyn Fn() -> ReloadReport + Send + Sync>,
    ) -> Control {
        Control {
            started: SystemTime::now(),
            config_path,
            config,
            registry,
            stats,
            trace,
            reload,
            last_reload: Mutex::new(None),
            clients: AtomicUsize::new(0),
            tracers: Mutex::new(Vec::new()),
        }
    }

    /// Accepts connections forever.
    pub fn serve(self: Arc<Self>, listener: UnixListener) {
        let me = Arc::clone(&self);
        let _ = std::thread::Builder::new()
            .name("control-trace".into())
            .spawn(move || me.dispatch_traces());
        for stream in listener.incoming() {
            let Ok(stream) = stream else {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            };
            self.admit(stream);
        }
    }

    /// Serves one connection on a thread of its own, if there is room.
    fn admit(self: &Arc<Self>, mut stream: UnixStream) {
        let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
        let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
        if self.clients.fetch_add(1, Ordering::AcqRel) >= MAX_CLIENTS {
            self.clients.fetch_sub(1, Ordering::AcqRel);
            let _ = stream.write_all(b"error: busy, try again\n");
            return;
        }
        let me = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("control-client".into())
            .spawn(move || {
                me.serve_client(stream);
                me.clients.fetch_sub(1, Ordering::AcqRel);
            });
        if spawned.is_err() {
            self.clients.fetch_sub(1, Ordering::AcqRel);
        }
    }

    fn serve_client(&self, mut stream: UnixStream) {
        let request = match read_request(&mut stream).and_then(|l| {
            Request::parse(&l).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
        }) {
            Ok(r) => r,
            Err(e) => {
                let _ = writeln!(stream, "error: {e}");
                return;
            }
        };
        match request.command {
            Command::Trace(tap) => self.trace_to(stream, tap, request.json),
            command => {
                let text = self.answer(&command, request.json);
                let _ = stream.write_all(text.as_bytes());
            }
        }
    }

    /// The answer to every request but `trace`.
    pub fn answer(&self, command: &Command, json: bool) -> String {
        match command {
            Command::Status => render::status(self, json),
            Command::Bindings(tap) => {
                render::bindings(&self.registry.lock().describe(tap.as_deref()), json)
            }
            Command::Show(tap) => {
                render::show(&self.registry.lock().describe(Some(tap)), tap, json)
            }
            Command::Counters => render::counters(&self.stats, json),
            Command::Metrics => crate::metrics::render(&self.stats, &self.gauges()),
            Command::Reload => {
                let report = (self.reload)();
                *self.last_reload.lock() = Some(report.clone());
                render::reload(&report, json)
            }
            Command::Trace(_) => String::new(),
        }
    }

    /// The binding counts and start time, for the metrics.
    pub fn gauges(&self) -> crate::metrics::Gauges {
        let (active, inactive, refused) = self.registry.lock().counts();
        let start_time = self
            .started
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        crate::metrics::Gauges {
            active,
            inactive,
            refused,
            start_time,
        }
    }

    /// Registers a tracer, then waits for its client to go (reading nothing it would care
    /// about): the tracer is dropped then, and tracing stops with the last one.
    fn trace_to(&self, mut stream: UnixStream, tap: Option<String>, json: bool) {
        let Ok(writer) = stream.try_clone() else {
            return;
        };
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        let what = tap.as_deref().unwrap_or("every bound interface");
        if writeln!(stream, "# tracing {what}; interrupt to stop").is_err() {
            return;
        }
        self.tracers.lock().push(Tracer {
            id,
            stream: writer,
            tap,
            json,
        });
        self.trace.listen();
        let _ = stream.set_read_timeout(None);
        let mut sink = [0u8; 64];
        while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
        self.drop_tracer(id);
    }

    fn drop_tracer(&self, id: usize) {
        let mut tracers = self.tracers.lock();
        if let Some(i) = tracers.iter().position(|t| t.id == id) {
            let t = tracers.swap_remove(i);
            let _ = t.stream.shutdown(std::net::Shutdown::Both);
            self.trace.unlisten();
        }
    }

    /// Decodes traced packets and writes each to the tracers that want it; a tracer whose
    /// client does not keep up (a write blocks past the timeout) is dropped.
    fn dispatch_traces(&self) {
        for traced in self.trace.receiver() {
            let mut dead = Vec::new();
            {
                let mut tracers = self.tracers.lock();
                for t in tracers.iter_mut() {
                    if t.tap.as_ref().is_some_and(|tap| *tap != traced.tap) {
                        continue;
                    }
                    let line = render::traced(&traced, t.json);
                    if t.stream.write_all(line.as_bytes()).is_err() {
                        dead.push(t.id);
                    }
                }
            }
            for id in dead {
                self.drop_tracer(id);
            }
        }
    }
}

/// Reads one request line: at most `MAX_REQUEST` bytes, within the read timeout.
fn read_request(stream: &mut UnixStream) -> io::Result<String> {
    let mut buf = Vec::with_capacity(64);
    let mut chunk = [0u8; 128];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        if buf.contains(&b'\n') {
            break;
        }
        if buf.len() > MAX_REQUEST {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("request longer than {MAX_REQUEST} bytes"),
            ));
        }
    }
    let line = buf.split(|b| *b == b'\n').next().unwrap_or_default();
    if line.len() > MAX_REQUEST {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("request longer than {MAX_REQUEST} bytes"),
        ));
    }
    String::from_utf8(line.to_vec())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "request is not UTF-8"))
}

/// Binds the control socket at `path`: a stale socket file is replaced (the pid file
/// already keeps a second daemon out), anything else there is refused; mode 0600, owned
/// by `owner` (the user the daemon drops to) when given.
pub fn bind(path: &Path, owner: Option<(u32, u32)>) -> io::Result<UnixListener> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => std::fs::remove_file(path)?,
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "exists and is not a socket",
            ))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::lchown(path, Some(uid), Some(gid))?;
    }
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_and_print_back() {
        for (line, command, json) in [
            ("status", Command::Status, false),
            ("status --json", Command::Status, true),
            ("bindings", Command::Bindings(None), false),
            (
                "  bindings tap0 --json\r",
                Command::Bindings(Some("tap0".into())),
                true,
            ),
            ("show tap0", Command::Show("tap0".into()), false),
            ("counters", Command::Counters, false),
            ("metrics", Command::Metrics, false),
            ("reload", Command::Reload, false),
            ("trace", Command::Trace(None), false),
            ("trace tap7", Command::Trace(Some("tap7".into())), false),
        ] {
            let r = Request::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!((r.command.clone(), r.json), (command, json), "{line}");
            assert_eq!(Request::parse(&r.line()), Ok(r));
        }
        for bad in [
            "",
            "show",
            "status x",
            "bindings a b",
            "show ../etc",
            "trace \u{1b}[2J",
            "rm -rf",
        ] {
            assert!(Request::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bind_replaces_a_stale_socket_only() {
        let dir = std::env::temp_dir().join(format!("nfdhcpd-ctl-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("sub/control");
        let l = bind(&path, None).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        drop(l);
        // The stale file of the dropped listener is replaced.
        let l = bind(&path, None).unwrap();
        drop(l);
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, "not a socket").unwrap();
        assert!(bind(&path, None).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
