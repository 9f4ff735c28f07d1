//! The bindings snapshot that workers read, and the registry that rebuilds it.
//!
//! Workers `load()` an immutable `Snapshot` from an `ArcSwap` once per packet: lock-free, and
//! they see the old table or the new one, never half of one. Writers (the inotify thread, the
//! link monitor, SIGHUP) go through the `Registry` under one mutex; each change re-resolves
//! host-side facts (tap ifindex, INDEV's MAC) from the link table, publishes a new snapshot,
//! and logs what changed per tap.

use super::file::{self, Binding, BindingError};
use super::links::{LinkEvent, Links};
use crate::wire::MacAddr;
use arc_swap::ArcSwap;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A binding whose tap exists, with the host-side facts replies need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub binding: Arc<Binding>,
    /// The tap's ifindex: the key NFQUEUE packets are looked up by, and where replies go.
    pub ifindex: u32,
    /// INDEV's MAC: the source of every reply. None while INDEV is missing.
    pub host_mac: Option<MacAddr>,
    /// The HOSTNAME's domain as a one-item search list, for RA DNSSL and DHCPv6 when no
    /// `domains` are configured.
    pub fallback_domains: Vec<String>,
    /// The tap is operationally up. A change makes a new entry, so a VM whose link just
    /// came up gets its RA at once (the registry kicks the RA timer for changed entries).
    pub running: bool,
}

/// What workers read: bound taps by ifindex.
#[derive(Debug, Default)]
pub struct Snapshot {
    by_ifindex: HashMap<u32, Arc<Entry>>,
}

impl Snapshot {
    pub fn get(&self, ifindex: u32) -> Option<&Arc<Entry>> {
        self.by_ifindex.get(&ifindex)
    }

    pub fn len(&self) -> usize {
        self.by_ifindex.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_ifindex.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Entry>> {
        self.by_ifindex.values()
    }

    /// Entries sorted by tap name, for the SIGUSR1 dump.
    pub fn sorted(&self) -> Vec<Arc<Entry>> {
        let mut v: Vec<_> = self.by_ifindex.values().cloned().collect();
        v.sort_by(|a, b| a.binding.tap.cmp(&b.binding.tap));
        v
    }
}

pub type SharedSnapshot = Arc<ArcSwap<Snapshot>>;

/// Why a binding file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read: {0}")]
    Io(#[from] io::Error),
    #[error("not a regular file")]
    NotRegular,
    #[error("larger than {} bytes", file::MAX_FILE_SIZE)]
    TooLarge,
    #[error("{0}")]
    Invalid(#[from] BindingError),
}

/// The writer side: parsed files, known links, and what was last published.
pub struct Registry {
    datapath: PathBuf,
    files: BTreeMap<String, Arc<Binding>>,
    links: Links,
    published: BTreeMap<String, Arc<Entry>>,
    /// Taps already reported inactive, so each is reported once until it changes.
    inactive: BTreeSet<String>,
    shared: SharedSnapshot,
    /// Told the ifindex of every entry that became active or changed (for an immediate RA).
    kick: Option<crossbeam_channel::Sender<u32>>,
}

impl Registry {
    pub fn new(datapath: PathBuf, links: Links) -> Registry {
        Registry {
            datapath,
            files: BTreeMap::new(),
            links,
            published: BTreeMap::new(),
            inactive: BTreeSet::new(),
            kick: None,
            shared: Arc::new(ArcSwap::from_pointee(Snapshot::default())),
        }
    }

    /// Where to announce interfaces that became active.
    pub fn set_kick(&mut self, kick: crossbeam_channel::Sender<u32>) {
        self.kick = Some(kick);
    }

    /// The handle workers read.
    pub fn shared(&self) -> SharedSnapshot {
        Arc::clone(&self.shared)
    }

    pub fn datapath(&self) -> &Path {
        &self.datapath
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
        let path = self.datapath.join(name);
        self.inactive.remove(name);
        match read_binding(&path, name) {
            Ok(binding) => {
                self.files.insert(name.to_owned(), Arc::new(binding));
            }
            Err(LoadError::Io(e)) if e.kind() == io::ErrorKind::NotFound => {
                // Gone again before we read it: the DELETE/MOVED_FROM event follows.
                self.files.remove(name);
            }
            Err(e) => {
                log::warn!("binding refused file={} {e}", path.display());
                self.files.remove(name);
            }
        }
        self.publish();
    }

    /// Forgets a binding whose file was deleted or renamed away.
    pub fn file_removed(&mut self, name: &str) {
        if self.files.remove(name).is_some() {
            log::info!("binding removed tap={name}");
            self.publish();
        }
    }

    /// Re-reads the whole directory: start-up, SIGHUP, inotify overflow. Files that vanished
    /// are removed too.
    pub fn rescan(&mut self) -> io::Result<()> {
        let mut seen = BTreeMap::new();
        for dirent in std::fs::read_dir(&self.datapath)? {
            let name = match dirent?.file_name().into_string() {
                Ok(n) if file::is_binding_name(&n) => n,
                _ => continue,
            };
            let path = self.datapath.join(&name);
            match read_binding(&path, &name) {
                Ok(b) => {
                    seen.insert(name, Arc::new(b));
                }
                Err(e) => log::warn!("binding refused file={} {e}", path.display()),
            }
        }
        for gone in self.files.keys().filter(|k| !seen.contains_key(*k)) {
            log::info!("binding removed tap={gone}");
        }
        self.files = seen;
        self.publish();
        Ok(())
    }

    /// Forgets every binding (the state directory is gone).
    pub fn clear(&mut self) {
        for tap in self.files.keys() {
            log::info!("binding removed tap={tap}");
        }
        self.files.clear();
        self.publish();
    }

    /// Applies interface changes from the link monitor.
    pub fn links_changed(&mut self, events: Vec<LinkEvent>) {
        let mut changed = false;
        for e in events {
            changed |= self.links.apply(e);
        }
        if changed {
            self.publish();
        }
    }

    /// Replaces the link table after a monitor overflow.
    pub fn links_replaced(&mut self, dump: Vec<LinkEvent>) {
        if self.links.replace(dump) {
            self.publish();
        }
    }

    /// Resolves every binding against the links, swaps in the new snapshot, logs the diff.
    fn publish(&mut self) {
        let mut next = BTreeMap::new();
        for (tap, binding) in &self.files {
            match self.resolve(binding) {
                Some(entry) => {
                    next.insert(tap.clone(), Arc::new(entry));
                }
                None => {
                    if self.inactive.insert(tap.clone()) {
                        log::info!("binding inactive tap={tap} reason=\"no such interface\"");
                    }
                }
            }
        }
        let files = &self.files;
        self.inactive
            .retain(|tap| files.contains_key(tap) && !next.contains_key(tap));
        for (tap, entry) in &next {
            if self.published.get(tap) != Some(entry) {
                log_active(entry);
                if let Some(kick) = &self.kick {
                    let _ = kick.try_send(entry.ifindex);
                }
            }
        }
        let table = next.values().map(|e| (e.ifindex, Arc::clone(e))).collect();
        self.shared.store(Arc::new(Snapshot { by_ifindex: table }));
        self.published = next;
    }

    fn resolve(&self, binding: &Arc<Binding>) -> Option<Entry> {
        let tap = self.links.by_name(&binding.tap)?;
        let host_mac = self.links.by_name(&binding.indev).and_then(|l| l.mac);
        Some(Entry {
            binding: Arc::clone(binding),
            ifindex: tap.ifindex,
            host_mac,
            fallback_domains: binding
                .hostname
                .as_deref()
                .and_then(crate::reply::hostname_domain)
                .map(|d| vec![d.to_owned()])
                .unwrap_or_default(),
            running: tap.running,
        })
    }
}

fn log_active(entry: &Entry) {
    let b = &entry.binding;
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    log::info!(
        "binding active tap={} ifindex={} running={} indev={} mac={} ip={} hostname={:?} subnet6={}",
        b.tap,
        entry.ifindex,
        entry.running,
        b.indev,
        b.mac,
        opt(b.ip.map(|x| x.to_string())),
        b.hostname.as_deref().unwrap_or("-"),
        opt(b.subnet6.map(|x| x.to_string())),
    );
    if entry.host_mac.is_none() {
        log::warn!(
            "binding tap={} indev={} reason=\"INDEV has no MAC or does not exist; no replies until it does\"",
            b.tap,
            b.indev
        );
    }
}

/// Reads a binding file without following a symlink out of the state directory, refusing
/// FIFOs, devices and oversized files before reading them.
pub fn read_binding(path: &Path, name: &str) -> Result<Binding, LoadError> {
    let f = File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => LoadError::NotRegular,
            _ => LoadError::Io(e),
        })?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(LoadError::NotRegular);
    }
    if meta.len() > file::MAX_FILE_SIZE {
        return Err(LoadError::TooLarge);
    }
    let mut text = String::new();
    f.take(file::MAX_FILE_SIZE + 1)
        .read_to_string(&mut text)
        .map_err(LoadError::Io)?;
    Ok(file::parse(name, &text)?)
}
