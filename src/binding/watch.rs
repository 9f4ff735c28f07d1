//! The two threads that keep the registry current: inotify on the state directory, and the
//! rtnetlink link monitor.
//!
//! Each blocks on its own fd and takes the registry lock only to apply what it read, so a
//! slow reload never stalls a worker (workers only read the published snapshot).
//!
//! The datapath is followed, not the first directory it named: besides the directory it
//! resolves to, the watcher watches the datapath's parent, where `mv -T tmp datapath` (a
//! symlink switched, or a directory renamed over it) is an entry of the datapath's name.
//! On that, on the directory's own DELETE_SELF/MOVE_SELF/IGNORED, on an overflow, when a
//! rescan (SIGHUP) found it elsewhere, and every `PERIODIC` when a symlink above the parent
//! could switch unseen, it resolves the datapath again; if that is another directory it
//! moves the watch there and the registry diffs the table against it (no binding present in
//! both is dropped meanwhile). Only a datapath that leads nowhere removes every binding.

use super::datapath::{self, DirId, Resolved};
use super::links::{Batch, LinkMonitor};
use super::table::Registry;
use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask};
use parking_lot::Mutex;
use std::ffi::OsString;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The events that change which bindings exist (DESIGN.md §3). A temp-file-then-rename
/// writer shows CLOSE_WRITE(temp) MOVED_FROM(temp) MOVED_TO(name); temp names are ignored.
/// CREATE reports what brings no CLOSE_WRITE (a symlink, a FIFO, a hard link). The parent
/// gets the same mask: should both be one inode, inotify gives one watch with one mask.
fn watch_mask() -> WatchMask {
    WatchMask::CLOSE_WRITE
        | WatchMask::MOVED_TO
        | WatchMask::MOVED_FROM
        | WatchMask::DELETE
        | WatchMask::CREATE
        | WatchMask::DELETE_SELF
        | WatchMask::MOVE_SELF
        | WatchMask::ONLYDIR
}

/// How often the datapath is resolved again while it is gone (inotify cannot watch a path
/// that does not exist, nor the target of a dangling symlink).
const GONE_POLL: Duration = Duration::from_secs(1);
/// How often it is resolved again when a switch could go unseen: a symlink above its
/// parent, or a parent we cannot watch.
const PERIODIC: Duration = Duration::from_secs(30);

/// One watched directory.
struct Watched {
    wd: WatchDescriptor,
    id: DirId,
}

/// An inotify instance watching the state directory and its parent.
pub struct DirWatch {
    inotify: Inotify,
    datapath: PathBuf,
    /// The datapath's last component, as its parent's events name it.
    name: Option<OsString>,
    /// The directory the bindings are in; `None` while the datapath leads nowhere. Events
    /// of any other directory (one moved away, still watched until we remove it) are
    /// ignored.
    dir: Option<Watched>,
    /// The datapath's parent; `None` if it cannot be watched.
    parent: Option<Watched>,
    /// The registry pokes its end when a rescan found the datapath elsewhere.
    moves: UnixStream,
    moves_tx: Option<UnixStream>,
    /// When the datapath is next resolved without an event, if ever.
    next_check: Option<Instant>,
}

impl DirWatch {
    /// Starts watching `at`, what `datapath` resolves to; call before the initial scan so
    /// no change falls between the two.
    pub fn open(datapath: &Path, at: &Resolved) -> io::Result<DirWatch> {
        let inotify = Inotify::init()?;
        let wd = inotify.watches().add(&at.path, watch_mask())?;
        let (moves, moves_tx) = UnixStream::pair()?;
        moves.set_nonblocking(true)?;
        moves_tx.set_nonblocking(true)?;
        let mut w = DirWatch {
            inotify,
            datapath: datapath.to_owned(),
            name: datapath.file_name().map(|n| n.to_owned()),
            dir: Some(Watched { wd, id: at.id }),
            parent: None,
            moves,
            moves_tx: Some(moves_tx),
            next_check: None,
        };
        w.watch_parent();
        Ok(w)
    }

    /// Applies events to the registry forever.
    pub fn run(mut self, registry: Arc<Mutex<Registry>>) {
        if let Some(tx) = self.moves_tx.take() {
            registry.lock().notify_moves(tx);
        }
        // A switch between `open` and now is noticed here.
        self.follow(&registry);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let burst_due = registry.lock().flush_burst();
            if let Err(e) = self.wait(burst_due) {
                log::error!("inotify wait failed error=\"{e}\"; retrying in 1s");
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
            let mut follow = self.drain_moves() || self.check_due();
            match self.inotify.read_events(&mut buf) {
                Ok(events) => {
                    let mut reg = registry.lock();
                    for ev in events {
                        follow |= self.apply(&mut reg, ev);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    log::error!("inotify read failed error=\"{e}\"; retrying in 1s");
                    std::thread::sleep(Duration::from_secs(1));
                    continue;
                }
            }
            if follow {
                self.follow(&registry);
            }
        }
    }

    /// Blocks until an event, a poke from the registry, or the next timer.
    fn wait(&self, burst_due: Option<Instant>) -> io::Result<()> {
        let now = Instant::now();
        let until = [burst_due, self.next_check].into_iter().flatten().min();
        let timeout = match until {
            None => -1,
            Some(t) => {
                let ms = t.saturating_duration_since(now).as_millis() + 1;
                libc::c_int::try_from(ms).unwrap_or(libc::c_int::MAX)
            }
        };
        let mut fds = [
            libc::pollfd {
                fd: self.inotify.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: self.moves.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: poll(2) on two valid descriptors we own, for the array's length.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
        match rc {
            n if n >= 0 => Ok(()),
            _ => match io::Error::last_os_error() {
                e if e.kind() == io::ErrorKind::Interrupted => Ok(()),
                e => Err(e),
            },
        }
    }

    /// Whether the registry said the datapath moved (it may have said so several times).
    fn drain_moves(&mut self) -> bool {
        let mut buf = [0u8; 64];
        let mut any = false;
        while let Ok(n @ 1..) = self.moves.read(&mut buf) {
            any |= n > 0;
        }
        any
    }

    fn check_due(&self) -> bool {
        self.next_check.is_some_and(|t| Instant::now() >= t)
    }

    /// Applies one event; true if the datapath must be resolved again.
    fn apply(&self, reg: &mut Registry, ev: inotify::Event<&std::ffi::OsStr>) -> bool {
        let gone = EventMask::DELETE_SELF | EventMask::MOVE_SELF | EventMask::IGNORED;
        if ev.mask.contains(EventMask::Q_OVERFLOW) {
            log::warn!("inotify queue overflowed; rescanning the state directory");
            rescan(reg);
            return true;
        }
        let is = |w: &Option<Watched>| w.as_ref().is_some_and(|w| w.wd == ev.wd);
        let mut follow = false;
        if is(&self.parent) {
            // The parent itself gone, or an entry of the datapath's name changed.
            follow =
                ev.mask.intersects(gone) || (ev.name.is_some() && ev.name == self.name.as_deref());
        }
        if !is(&self.dir) {
            return follow;
        }
        if ev.mask.intersects(gone) {
            return true;
        }
        let Some(name) = ev.name.and_then(|n| n.to_str()) else {
            return follow;
        };
        if ev
            .mask
            .intersects(EventMask::CLOSE_WRITE | EventMask::MOVED_TO)
        {
            reg.file_changed(name);
        } else if ev
            .mask
            .intersects(EventMask::DELETE | EventMask::MOVED_FROM)
        {
            reg.file_removed(name);
        } else if ev.mask.contains(EventMask::CREATE) {
            reg.file_created(name);
        }
        follow
    }

    /// Resolves the datapath again; watches and rescans the directory it names if that is
    /// another one, or removes every binding if it names none.
    fn follow(&mut self, registry: &Arc<Mutex<Registry>>) {
        self.watch_parent();
        let now = match datapath::resolve(&self.datapath) {
            Ok(now) => now,
            Err(e) => return self.lost(registry, &e),
        };
        if self.dir.as_ref().is_some_and(|d| d.id == now.id) {
            self.plan_check();
            return;
        }
        let wd = match self.inotify.watches().add(&now.path, watch_mask()) {
            Ok(wd) => wd,
            Err(e) => return self.lost(registry, &e),
        };
        let back = self.dir.is_none();
        if let Some(old) = self.dir.replace(Watched { wd, id: now.id }) {
            self.unwatch(old.wd);
        }
        if back {
            log::info!("state directory {} is back", self.datapath.display());
        }
        // The registry resolves the datapath itself and diffs its table against the scan.
        rescan(&mut registry.lock());
        self.plan_check();
    }

    /// The datapath leads nowhere (or nowhere we may watch): every binding is gone with it.
    /// Said once; the datapath is then resolved every `GONE_POLL` until it is back.
    fn lost(&mut self, registry: &Arc<Mutex<Registry>>, e: &io::Error) {
        self.next_check = Some(Instant::now() + GONE_POLL);
        let Some(old) = self.dir.take() else {
            return;
        };
        // A moved directory is still watched under its new name: stop that (after a delete
        // the kernel already dropped the watch, and this fails harmlessly).
        self.unwatch(old.wd);
        match e.kind() {
            io::ErrorKind::NotFound => log::error!(
                "state directory {} vanished; all bindings removed until it is back",
                self.datapath.display()
            ),
            _ => log::error!(
                "state directory {} cannot be watched error=\"{e}\"; all bindings removed until it can",
                self.datapath.display()
            ),
        }
        registry.lock().clear();
    }

    /// (Re)watches the datapath's parent if it is not watched, or is another directory now.
    fn watch_parent(&mut self) {
        let Some(parent) = self.datapath.parent().filter(|p| !p.as_os_str().is_empty()) else {
            return;
        };
        let Ok(meta) = std::fs::metadata(parent) else {
            if let Some(old) = self.parent.take() {
                self.unwatch(old.wd);
            }
            return;
        };
        let id = DirId::of(&meta);
        if self.parent.as_ref().is_some_and(|p| p.id == id) {
            return;
        }
        let new = self
            .inotify
            .watches()
            .add(parent, watch_mask())
            .map(|wd| Watched { wd, id });
        match (std::mem::replace(&mut self.parent, new.ok()), &self.parent) {
            (Some(old), _) => self.unwatch(old.wd),
            (None, None) => log::warn!(
                "cannot watch {}: a switch of the state directory there is noticed within {}s, or at SIGHUP",
                parent.display(),
                PERIODIC.as_secs()
            ),
            (None, Some(_)) => {}
        }
    }

    /// Stops watching `wd`, unless it is (also) one we still use.
    fn unwatch(&mut self, wd: WatchDescriptor) {
        let used = |w: &Option<Watched>| w.as_ref().is_some_and(|w| w.wd == wd);
        if !used(&self.dir) && !used(&self.parent) {
            let _ = self.inotify.watches().remove(wd);
        }
    }

    /// When to resolve the datapath without an event: only if a switch could go unseen.
    fn plan_check(&mut self) {
        let blind = self.parent.is_none() || datapath::has_indirect_ancestor(&self.datapath);
        self.next_check = blind.then(|| Instant::now() + PERIODIC);
    }
}

fn rescan(reg: &mut Registry) {
    if let Err(e) = reg.rescan() {
        log::error!(
            "cannot scan state directory {} error=\"{e}\"",
            reg.datapath().display()
        );
    }
}

/// Applies link changes to the registry forever.
pub fn run_link_monitor(mut monitor: LinkMonitor, registry: Arc<Mutex<Registry>>) {
    loop {
        match monitor.next_batch() {
            Ok(Batch::Events(events)) => registry.lock().links_changed(events),
            Ok(Batch::Lost) => {
                log::warn!("link monitor overflowed; re-reading all interfaces");
                match monitor.dump() {
                    Ok(dump) => registry.lock().links_replaced(dump),
                    Err(e) => log::error!("interface dump failed error=\"{e}\""),
                }
            }
            Err(e) => {
                log::error!("link monitor failed error=\"{e}\"; retrying in 1s");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}
