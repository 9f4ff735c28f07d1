//! The bindings snapshot that workers read, and the registry that rebuilds it.
//!
//! Workers `load()` an immutable `Snapshot` from an `ArcSwap` once per packet: lock-free, and
//! they see the old table or the new one, never half of one. Writers (the inotify thread, the
//! link monitor, SIGHUP) go through the `Registry` under one mutex; each change re-resolves
//! host-side facts (tap ifindex, INDEV's MAC) from the link table, publishes a new snapshot,
//! and logs what changed per tap (a burst of changes as one summary line, see `burst`).
//!
//! Files are read from the directory the configured datapath resolves to now (see
//! `datapath`): a rescan resolves it again, and when it names another directory the table is
//! diffed against that one and the watcher is told to move its watch.

use super::burst::{Burst, Kind};
use super::datapath::{self, DirId, Resolved};
use super::file::{self, Binding};
use super::links::{LinkEvent, Links};
use super::read::{self, LoadError, Scan};
use super::snapshot::{Change, Entry, SharedSnapshot, Slot, Snapshot};
use arc_swap::ArcSwap;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// The writer side: parsed files, known links, and what was last published.
///
/// Changes are applied incrementally: a file event re-resolves that one tap, a link event
/// the taps named after the link or using it as INDEV; the new snapshot is the previous
/// table with those entries replaced (a shallow copy of the map, entries shared by `Arc`).
pub struct Registry {
    /// As configured: for messages, and resolved again on every rescan.
    datapath: PathBuf,
    /// The directory it resolved to last (symlinks followed): files are read from here.
    dir: PathBuf,
    /// That directory's identity; `None` before the first scan and while it is gone.
    dir_id: Option<DirId>,
    /// Poked when a rescan finds the datapath naming another directory: the watcher then
    /// moves its watch (it owns the inotify instance; a SIGHUP rescan runs elsewhere).
    watcher: Option<UnixStream>,
    /// Per-binding lines of a burst of changes, summed up.
    burst: Burst,
    files: BTreeMap<String, Arc<Binding>>,
    /// INDEV name -> taps whose binding names it (a link event re-resolves these).
    indev_users: HashMap<String, BTreeSet<String>>,
    links: Links,
    published: HashMap<String, Arc<Slot>>,
    /// Taps already reported inactive, so each is reported once until it changes.
    inactive: BTreeSet<String>,
    /// Files that could not be used, with why (for `nfdhcpd ctl`), until they change.
    refused: BTreeMap<String, String>,
    shared: SharedSnapshot,
    /// Told the ifindex of every entry that became active or changed (for an immediate RA).
    changes: Option<crossbeam_channel::Sender<Change>>,
    /// Per-binding transitions at debug level (the start-up load; see `load_initial`).
    quiet: bool,
}

impl Registry {
    pub fn new(datapath: PathBuf, links: Links) -> Registry {
        Registry {
            dir: datapath.clone(),
            datapath,
            dir_id: None,
            watcher: None,
            burst: Burst::default(),
            files: BTreeMap::new(),
            indev_users: HashMap::new(),
            links,
            published: HashMap::new(),
            inactive: BTreeSet::new(),
            refused: BTreeMap::new(),
            changes: None,
            quiet: false,
            shared: Arc::new(ArcSwap::from_pointee(Snapshot::default())),
        }
    }

    /// Where to announce interfaces that became active or changed.
    pub fn notify_changes(&mut self, changes: crossbeam_channel::Sender<Change>) {
        self.changes = Some(changes);
    }

    /// The handle workers read.
    pub fn shared(&self) -> SharedSnapshot {
        Arc::clone(&self.shared)
    }

    /// Where to say that the datapath now names another directory (see `watcher`).
    pub fn notify_moves(&mut self, watcher: UnixStream) {
        self.watcher = Some(watcher);
    }

    /// The state directory as configured.
    pub fn datapath(&self) -> &Path {
        &self.datapath
    }

    /// The directory the bindings are read from (the datapath resolved at the last scan).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every binding file as the daemon sees it (only `tap`'s when given), by tap name:
    /// served, bound but not served (and why), or refused (and why).
    pub fn describe(&self, tap: Option<&str>) -> Vec<BindingInfo> {
        let wanted = |name: &str| tap.is_none_or(|t| t == name);
        let mut out: Vec<BindingInfo> = self
            .files
            .iter()
            .filter(|(name, _)| wanted(name))
            .map(|(name, binding)| {
                let slot = self.published.get(name).cloned();
                let state = match slot.as_deref() {
                    Some(Slot::Active(_)) => State::Active,
                    Some(Slot::Inactive { why, .. }) => State::Inactive(why.as_str().into()),
                    None => State::Inactive("no such interface".into()),
                };
                BindingInfo {
                    tap: name.clone(),
                    state,
                    binding: Some(Arc::clone(binding)),
                    slot,
                }
            })
            .collect();
        out.extend(
            self.refused
                .iter()
                .filter(|(name, _)| wanted(name))
                .map(|(name, why)| BindingInfo {
                    tap: name.clone(),
                    state: State::Refused(why.clone()),
                    binding: None,
                    slot: None,
                }),
        );
        out.sort_by(|a, b| a.tap.cmp(&b.tap));
        out
    }

    /// Bindings served, bound but not served, and files refused.
    pub fn counts(&self) -> (usize, usize, usize) {
        let active = self
            .published
            .values()
            .filter(|s| s.active().is_some())
            .count();
        (active, self.files.len() - active, self.refused.len())
    }

    /// Number of binding files currently parsed and valid.
    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    /// (Re)reads one binding file after it was written or renamed into place.
    pub fn file_changed(&mut self, name: &str) {
        if !file::is_binding_name(name) {
            log::debug!("ignoring file name={name:?} reason=\"not a binding file name\"");
            return;
        }
        let path = self.dir.join(name);
        self.inactive.remove(name);
        let binding = match read::read_binding(&path, name) {
            Ok(binding) => Some(Arc::new(binding)),
            // Gone again before we read it: the DELETE/MOVED_FROM event follows.
            Err(LoadError::Io(e)) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                self.log_refused(name, &e);
                None
            }
        };
        self.set_file(name, binding);
        self.publish([name.to_owned()]);
    }

    /// A name was created in the state directory. A regular file is read when its writer
    /// closes it (CLOSE_WRITE); a hard link brings no such event and waits for a rescan, as
    /// before. Anything else (symlink, FIFO, directory, ...) brings no other event either:
    /// it is reported now, from its lstat, and never opened (a FIFO could block a reader).
    pub fn file_created(&mut self, name: &str) {
        if !file::is_binding_name(name) {
            return;
        }
        let Ok(meta) = std::fs::symlink_metadata(self.dir.join(name)) else {
            return; // gone again: its DELETE event follows
        };
        if meta.is_file() {
            return;
        }
        let kind = datapath::kind_of(&meta);
        let why = format!("{} kind={kind}", LoadError::NotRegular);
        self.refused.insert(name.to_owned(), why);
        let level = self.level(Kind::Refused, log::Level::Warn);
        log::log!(
            level,
            "binding refused file={} {} kind={kind}",
            self.dir.join(name).display(),
            LoadError::NotRegular
        );
        self.inactive.remove(name);
        if self.set_file(name, None) {
            self.publish([name.to_owned()]);
        }
    }

    /// Forgets a binding whose file was deleted or renamed away.
    pub fn file_removed(&mut self, name: &str) {
        self.refused.remove(name);
        if self.set_file(name, None) {
            let level = self.level(Kind::Removed, log::Level::Info);
            log::log!(level, "binding removed tap={name}");
            self.publish([name.to_owned()]);
        }
    }

    /// Re-reads the whole directory: SIGHUP, inotify overflow, the datapath switched. The
    /// datapath is resolved again first: if it names another directory now, the table is
    /// diffed against that one (no binding present in both is removed meanwhile) and the
    /// watcher is told. Files that vanished are removed too.
    pub fn rescan(&mut self) -> io::Result<()> {
        let now = datapath::resolve(&self.datapath)?;
        if self.dir_id != Some(now.id) {
            self.moved_to(now);
        }
        let scan = read::scan(&self.dir)?;
        self.apply_scan(scan);
        Ok(())
    }

    fn moved_to(&mut self, now: Resolved) {
        if self.dir_id.is_some() {
            log::info!(
                "state directory followed datapath={} dir={} previous={}",
                self.datapath.display(),
                now.path.display(),
                self.dir.display()
            );
        }
        self.dir = now.path;
        self.dir_id = Some(now.id);
        if let Some(w) = &mut self.watcher {
            // Non-blocking: a full socket already holds a wake-up.
            let _ = w.write(&[1]);
        }
    }

    /// Summarizes the per-binding lines counted in a burst once it is over; returns when
    /// to ask again (the watcher's timer).
    pub fn flush_burst(&mut self) -> Option<Instant> {
        if let Some(tally) = self.burst.due(Instant::now()) {
            tally.log();
        }
        self.burst.next_due()
    }

    /// The level of one binding's transition line: `normal` for the first lines of a burst,
    /// debug (and counted for the summary) after them; debug at start-up (`quiet`), whose
    /// summary is the load line.
    fn level(&mut self, kind: Kind, normal: log::Level) -> log::Level {
        if self.quiet && kind != Kind::Refused {
            return log::Level::Debug;
        }
        let (line, summary) = self.burst.admit(Instant::now(), kind);
        if let Some(tally) = summary {
            tally.log();
        }
        match line {
            true => normal,
            false => log::Level::Debug,
        }
    }

    fn log_refused(&mut self, name: &str, e: &LoadError) {
        self.refused.insert(name.to_owned(), e.to_string());
        let level = self.level(Kind::Refused, log::Level::Warn);
        log::log!(
            level,
            "binding refused file={} {e}",
            self.dir.join(name).display()
        );
    }

    /// Takes the start-up scan: each binding is logged at debug level only, then one
    /// summary line (100,000 lines at start-up would bury everything else in the log).
    pub fn load_initial(&mut self, at: Resolved, scan: Scan) {
        let refused = scan.refused.len();
        self.dir = at.path;
        self.dir_id = Some(at.id);
        self.quiet = true;
        self.apply_scan(scan);
        self.quiet = false;
        let active = self
            .published
            .values()
            .filter(|s| s.active().is_some())
            .count();
        log::info!(
            "bindings loaded files={} active={active} inactive={} refused={refused}",
            self.files.len(),
            self.files.len() - active,
        );
    }

    /// Makes the table match a whole-directory scan.
    fn apply_scan(&mut self, scan: Scan) {
        self.refused.clear();
        for (name, e) in &scan.refused {
            self.log_refused(name, e);
        }
        let seen = scan.bindings;
        let gone: Vec<String> = self
            .files
            .keys()
            .filter(|k| !seen.contains_key(*k))
            .cloned()
            .collect();
        for tap in &gone {
            let level = self.level(Kind::Removed, log::Level::Info);
            log::log!(level, "binding removed tap={tap}");
            self.set_file(tap, None);
        }
        let all: Vec<String> = seen.keys().cloned().chain(gone).collect();
        for (tap, b) in seen {
            self.set_file(&tap, Some(b));
        }
        self.publish(all);
    }

    /// Forgets every binding (the state directory is gone); the next rescan takes whatever
    /// directory the datapath names then.
    pub fn clear(&mut self) {
        self.dir_id = None;
        let all: Vec<String> = self.files.keys().cloned().collect();
        for tap in &all {
            let level = self.level(Kind::Removed, log::Level::Info);
            log::log!(level, "binding removed tap={tap}");
            self.set_file(tap, None);
        }
        self.publish(all);
    }

    /// Applies interface changes from the link monitor.
    pub fn links_changed(&mut self, events: Vec<LinkEvent>) {
        let mut names = BTreeSet::new();
        for e in events {
            names.extend(self.links.apply(e));
        }
        let taps = self.users_of(names);
        if !taps.is_empty() {
            self.publish(taps);
        }
    }

    /// Replaces the link table after a monitor overflow.
    pub fn links_replaced(&mut self, dump: Vec<LinkEvent>) {
        if self.links.replace(dump) {
            let all: Vec<String> = self.files.keys().cloned().collect();
            self.publish(all);
        }
    }

    /// Sets or removes one tap's binding, keeping the INDEV index; true if one was there.
    fn set_file(&mut self, tap: &str, binding: Option<Arc<Binding>>) -> bool {
        let old = match binding {
            Some(b) => {
                self.refused.remove(tap);
                if self
                    .files
                    .get(tap)
                    .is_none_or(|old| old.warnings != b.warnings)
                {
                    for w in &b.warnings {
                        let path = self.datapath.join(tap);
                        log::warn!("binding served with a warning file={} {w}", path.display());
                    }
                }
                // A routed tap is its own INDEV: its link events reach it by name already.
                if b.indev != tap {
                    self.indev_users
                        .entry(b.indev.clone())
                        .or_default()
                        .insert(tap.to_owned());
                }
                self.files.insert(tap.to_owned(), b)
            }
            None => self.files.remove(tap),
        };
        if let Some(old) = &old {
            let still = self.files.get(tap).is_some_and(|b| b.indev == old.indev);
            if let (false, Some(users)) = (still, self.indev_users.get_mut(&old.indev)) {
                users.remove(tap);
                if users.is_empty() {
                    self.indev_users.remove(&old.indev);
                }
            }
        }
        old.is_some()
    }

    /// The taps a change of these interfaces can affect: bindings named after them, and
    /// bindings using them as INDEV.
    fn users_of(&self, names: BTreeSet<String>) -> Vec<String> {
        let mut taps = BTreeSet::new();
        for name in names {
            if self.files.contains_key(&name) {
                taps.insert(name.clone());
            }
            if let Some(users) = self.indev_users.get(&name) {
                taps.extend(users.iter().cloned());
            }
        }
        taps.into_iter().collect()
    }

    /// Re-resolves `taps`, swaps in the snapshot with their entries replaced, logs each
    /// change once.
    fn publish(&mut self, taps: impl IntoIterator<Item = String>) {
        let mut table = self.shared.load().by_ifindex.clone();
        let mut kicks = Vec::new();
        for tap in taps {
            let old = self.published.get(&tap).cloned();
            let new = self
                .files
                .get(&tap)
                .and_then(|b| self.resolve(b))
                .map(|slot| Arc::new(slot.following(old.as_deref())));
            if let Some(old) = &old {
                if table
                    .get(&old.ifindex())
                    .is_some_and(|e| Arc::ptr_eq(e, old))
                {
                    table.remove(&old.ifindex());
                }
            }
            kicks.extend(self.note_change(&tap, old.as_deref(), new.as_deref()));
            match new {
                Some(slot) => {
                    table.insert(slot.ifindex(), Arc::clone(&slot));
                    self.published.insert(tap, slot);
                }
                None => {
                    self.published.remove(&tap);
                }
            }
        }
        self.shared.store(Arc::new(Snapshot { by_ifindex: table }));
        // Only now: the RA timer looks the entry up in the snapshot it loads, so a kick sent
        // before the store could find the old one (or none) and send nothing.
        if let Some(changes) = &self.changes {
            for ifindex in kicks {
                let _ = changes.try_send(Change::Changed(ifindex));
            }
        }
    }

    /// Logs a tap's transition (active, changed, inactive); the ifindex the RA timer is to
    /// be kicked for (once the snapshot holds the new entry), if any.
    fn note_change(&mut self, tap: &str, old: Option<&Slot>, new: Option<&Slot>) -> Option<u32> {
        match new {
            Some(slot) => {
                self.inactive.remove(tap);
                if old != Some(slot) {
                    let level = self.level(Kind::Active, log::Level::Info);
                    log_active(slot, level);
                    return slot.active().map(|entry| entry.ifindex);
                }
            }
            None if self.files.contains_key(tap) => {
                if self.inactive.insert(tap.to_owned()) {
                    let level = self.level(Kind::Inactive, log::Level::Info);
                    log::log!(
                        level,
                        "binding inactive tap={tap} reason=\"no such interface\""
                    );
                }
            }
            None => {
                self.inactive.remove(tap);
            }
        }
        None
    }

    fn resolve(&self, binding: &Arc<Binding>) -> Option<Slot> {
        let tap = self.links.by_name(&binding.tap)?;
        Some(Entry::resolve(
            binding,
            tap,
            self.links.by_name(&binding.indev),
        ))
    }
}

/// One binding file as [`Registry::describe`] sees it.
#[derive(Debug, Clone)]
pub struct BindingInfo {
    pub tap: String,
    pub state: State,
    /// The parsed file; `None` when refused.
    pub binding: Option<Arc<Binding>>,
    /// What the queue threads see for it; `None` when its tap does not exist (or refused).
    pub slot: Option<Arc<Slot>>,
}

/// Served, or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Active,
    Inactive(String),
    Refused(String),
}

fn log_active(slot: &Slot, level: log::Level) {
    let b = slot.binding();
    let running = slot.active().is_some_and(|e| e.running);
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let list = |v: Vec<String>| opt((!v.is_empty()).then(|| v.join(",")));
    log::log!(
        level,
        "binding active tap={} ifindex={} running={running} indev={} mac={} ip={} hostname={:?} subnet6={} ip6={} delegated6={}",
        b.tap,
        slot.ifindex(),
        b.indev,
        b.mac,
        opt(b.ip.map(|x| x.to_string())),
        b.hostname.as_deref().unwrap_or("-"),
        opt(b.subnet6.map(|x| x.to_string())),
        list(b.ip6.iter().map(ToString::to_string).collect()),
        list(b.delegated6.iter().map(ToString::to_string).collect()),
    );
    if let Slot::Inactive { why, .. } = slot {
        // Part of the line above: counted with it in a burst.
        let level = match level {
            log::Level::Info => log::Level::Warn,
            other => other,
        };
        log::log!(
            level,
            "binding tap={} indev={} reason=\"{}\"",
            b.tap,
            b.indev,
            why.as_str()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binding::links::Link;
    use crate::binding::testdir::{dir, Dir};
    use crate::wire::MacAddr;

    fn write(d: &Dir, tap: &str, indev: &str, ip: &str) {
        let text = format!("INDEV={indev}\nMAC=aa:6b:39:22:33:44\nIP={ip}\n");
        std::fs::write(d.0.join(tap), text).unwrap();
    }

    fn up(ifindex: u32, name: &str, mac_last: u8) -> LinkEvent {
        LinkEvent::Up(Link {
            ifindex,
            name: name.into(),
            mac: Some(MacAddr([2, 0, 0, 0, 0, mac_last])),
            running: true,
        })
    }

    fn ip_at(reg: &Registry, ifindex: u32) -> Option<String> {
        let snap = reg.shared().load_full();
        snap.get(ifindex)
            .and_then(|e| e.binding().ip)
            .map(|i| i.to_string())
    }

    #[test]
    fn file_events_update_only_that_tap() {
        let d = dir("table-files");
        let mut reg = Registry::new(d.0.clone(), Links::default());
        reg.links_changed(vec![up(5, "tap0", 5), up(6, "tap1", 6)]);
        write(&d, "tap0", "tap0", "192.0.2.10");
        write(&d, "tap1", "tap1", "192.0.2.11");
        reg.rescan().unwrap();
        let before = reg.shared().load_full();
        write(&d, "tap0", "tap0", "192.0.2.20");
        reg.file_changed("tap0");
        assert_eq!(ip_at(&reg, 5).as_deref(), Some("192.0.2.20"));
        // The untouched entry is shared, not rebuilt.
        let after = reg.shared().load_full();
        let (a, b) = (before.get(6).unwrap(), after.get(6).unwrap());
        assert!(std::ptr::eq(a, b));
        reg.file_removed("tap0");
        assert_eq!(ip_at(&reg, 5), None);
        assert_eq!(reg.file_count(), 1);
    }

    #[test]
    fn tap_appearing_and_recreated() {
        let d = dir("table-links");
        let mut reg = Registry::new(d.0.clone(), Links::default());
        write(&d, "tap0", "tap0", "192.0.2.10");
        reg.rescan().unwrap();
        assert!(reg.shared().load().is_empty(), "no tap yet");
        reg.links_changed(vec![up(5, "tap0", 5)]);
        assert_eq!(ip_at(&reg, 5).as_deref(), Some("192.0.2.10"));
        reg.links_changed(vec![LinkEvent::Gone { ifindex: 5 }, up(9, "tap0", 9)]);
        assert_eq!(ip_at(&reg, 5), None);
        assert_eq!(ip_at(&reg, 9).as_deref(), Some("192.0.2.10"));
        // ifindex 5 reused by another tap without a binding: nothing bound there.
        reg.links_changed(vec![up(5, "tap7", 7)]);
        assert_eq!(ip_at(&reg, 5), None);
    }

    #[test]
    fn indev_change_reaches_its_users() {
        let d = dir("table-indev");
        let mut reg = Registry::new(d.0.clone(), Links::default());
        reg.links_changed(vec![up(3, "br0", 3), up(5, "tap0", 5), up(6, "tap1", 6)]);
        write(&d, "tap0", "br0", "192.0.2.10");
        write(&d, "tap1", "br0", "192.0.2.11");
        reg.rescan().unwrap();
        let mac = |reg: &Registry, i| reg.shared().load().active(i).map(|e| e.host_mac);
        assert_eq!(mac(&reg, 5), Some(MacAddr([2, 0, 0, 0, 0, 3])));
        reg.links_changed(vec![up(3, "br0", 33)]);
        assert_eq!(mac(&reg, 5), Some(MacAddr([2, 0, 0, 0, 0, 33])));
        assert_eq!(mac(&reg, 6), Some(MacAddr([2, 0, 0, 0, 0, 33])));
        reg.links_changed(vec![LinkEvent::Gone { ifindex: 3 }]);
        assert_eq!(mac(&reg, 5), None, "bound, but nothing to send from");
        assert!(
            reg.shared().load().get(5).is_some(),
            "still bound: its packets are dropped"
        );
    }

    #[test]
    fn a_rescan_follows_a_switched_symlink_and_diffs() {
        let d = dir("table-switch");
        let (a, b, link) = (d.0.join("a"), d.0.join("b"), d.0.join("link"));
        std::fs::create_dir(&a).unwrap();
        std::fs::create_dir(&b).unwrap();
        std::os::unix::fs::symlink(&a, &link).unwrap();
        let (da, db) = (Dir(a.clone()), Dir(b.clone()));
        write(&da, "tap0", "tap0", "192.0.2.10");
        write(&da, "tap1", "tap1", "192.0.2.11");
        write(&db, "tap0", "tap0", "192.0.2.10");
        write(&db, "tap2", "tap2", "192.0.2.12");
        let mut reg = Registry::new(link.clone(), Links::default());
        reg.links_changed(vec![up(5, "tap0", 5), up(6, "tap1", 6), up(7, "tap2", 7)]);
        reg.rescan().unwrap();
        let before = reg.shared().load_full();
        let tmp = d.0.join("tmp");
        std::os::unix::fs::symlink(&b, &tmp).unwrap();
        std::fs::rename(&tmp, &link).unwrap();
        reg.rescan().unwrap();
        assert_eq!(reg.dir(), std::fs::canonicalize(&b).unwrap());
        assert_eq!(ip_at(&reg, 6), None, "only in the old directory");
        assert_eq!(ip_at(&reg, 7).as_deref(), Some("192.0.2.12"));
        // In both, unchanged: the same entry (one publish: never absent in between).
        let after = reg.shared().load_full();
        assert_eq!(before.get(5), after.get(5));
    }

    #[test]
    fn a_fifo_created_is_refused_unopened() {
        let d = dir("table-fifo");
        let mut reg = Registry::new(d.0.clone(), Links::default());
        reg.rescan().unwrap();
        let path = std::ffi::CString::new(d.0.join("tapf").to_str().unwrap()).unwrap();
        // SAFETY: mkfifo(3) with a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o644) }, 0);
        reg.file_created("tapf"); // would block forever if it opened the FIFO for reading
        reg.file_changed("tapf"); // O_NONBLOCK: neither does this
        assert_eq!(reg.file_count(), 0);
    }

    #[test]
    fn rescan_removes_vanished_files() {
        let d = dir("table-rescan");
        let mut reg = Registry::new(d.0.clone(), Links::default());
        reg.links_changed(vec![up(5, "tap0", 5)]);
        write(&d, "tap0", "tap0", "192.0.2.10");
        write(&d, ".tap0.tmp", "tap0", "192.0.2.99");
        reg.rescan().unwrap();
        assert_eq!(ip_at(&reg, 5).as_deref(), Some("192.0.2.10"));
        std::fs::remove_file(d.0.join("tap0")).unwrap();
        reg.rescan().unwrap();
        assert!(reg.shared().load().is_empty());
    }
}
