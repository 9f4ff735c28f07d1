//! The two threads that keep the registry current: inotify on the state directory, and the
//! rtnetlink link monitor.
//!
//! Each blocks on its own fd and takes the registry lock only to apply what it read, so a
//! slow reload never stalls a worker (workers only read the published snapshot).

use super::links::{Batch, LinkMonitor};
use super::table::Registry;
use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask};
use parking_lot::Mutex;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The events that change which bindings exist (DESIGN.md §3). A temp-file-then-rename
/// writer shows CLOSE_WRITE(temp) MOVED_FROM(temp) MOVED_TO(name); temp names are ignored.
fn file_mask() -> WatchMask {
    WatchMask::CLOSE_WRITE
        | WatchMask::MOVED_TO
        | WatchMask::MOVED_FROM
        | WatchMask::DELETE
        | WatchMask::DELETE_SELF
        | WatchMask::MOVE_SELF
        | WatchMask::ONLYDIR
}

/// An inotify instance watching the state directory.
pub struct DirWatch {
    inotify: Inotify,
    /// The watch on the current state directory; events of any other (a directory moved
    /// away, still watched until we remove it) are ignored.
    wd: WatchDescriptor,
}

impl DirWatch {
    /// Starts watching; call before the initial scan so no change falls between the two.
    pub fn open(datapath: &Path) -> io::Result<DirWatch> {
        let inotify = Inotify::init()?;
        let wd = inotify.watches().add(datapath, file_mask())?;
        Ok(DirWatch { inotify, wd })
    }

    /// Applies events to the registry forever.
    pub fn run(mut self, registry: Arc<Mutex<Registry>>) {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let events = match self.inotify.read_events_blocking(&mut buf) {
                Ok(ev) => ev,
                Err(e) => {
                    log::error!("inotify read failed error=\"{e}\"; retrying in 1s");
                    std::thread::sleep(Duration::from_secs(1));
                    continue;
                }
            };
            let mut lost_dir = false;
            let mut reg = registry.lock();
            for ev in events {
                let name = ev.name.and_then(|n| n.to_str());
                if ev.mask.contains(EventMask::Q_OVERFLOW) {
                    log::warn!("inotify queue overflowed; rescanning the state directory");
                    rescan(&mut reg);
                } else if ev.wd != self.wd {
                    // The old directory after a move: its files are no bindings any more.
                    continue;
                } else if ev
                    .mask
                    .intersects(EventMask::DELETE_SELF | EventMask::MOVE_SELF)
                {
                    lost_dir = true;
                } else if let Some(name) = name {
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
                    }
                }
            }
            if lost_dir {
                drop(reg);
                self.rewatch(&registry);
            }
        }
    }

    /// The state directory was deleted or moved away: every binding is gone with it. Wait
    /// for it to come back, then watch and scan it again.
    fn rewatch(&mut self, registry: &Arc<Mutex<Registry>>) {
        let datapath = registry.lock().datapath().to_owned();
        log::error!(
            "state directory {} vanished; all bindings removed until it is back",
            datapath.display()
        );
        registry.lock().clear();
        // A moved directory is still watched under its new name: stop that (after a delete
        // the kernel already dropped the watch, and this fails harmlessly).
        let _ = self.inotify.watches().remove(self.wd.clone());
        // Polling only in this broken state: inotify cannot watch a path that does not exist.
        loop {
            std::thread::sleep(Duration::from_secs(1));
            if let Ok(wd) = self.inotify.watches().add(&datapath, file_mask()) {
                self.wd = wd;
                break;
            }
        }
        log::info!("state directory {} is back", datapath.display());
        rescan(&mut registry.lock());
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
