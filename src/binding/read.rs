//! Reading binding files from the state directory: one file (an inotify event) or all of
//! them (start-up, SIGHUP, inotify overflow).
//!
//! A whole-directory scan is on the start-up path, and with 100,000 files the system calls
//! are the cost (issue 6). So a scan opens each file relative to one directory handle (no
//! path walk per file), reads it with one `read` of the size `fstat` reported into a reused
//! buffer, and splits the files over a few short-lived threads.

use super::file::{self, Binding, BindingError};
use std::collections::BTreeMap;
use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;

/// Why a binding file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read: {0}")]
    Io(#[from] io::Error),
    #[error("not a regular file")]
    NotRegular,
    #[error("larger than {} bytes", file::MAX_FILE_SIZE)]
    TooLarge,
    #[error("not UTF-8 text")]
    NotText,
    #[error("{0}")]
    Invalid(#[from] BindingError),
}

/// Flags for every binding file open: never follow a symlink out of the state directory,
/// never block on a FIFO.
const OPEN_FLAGS: libc::c_int = libc::O_NOFOLLOW | libc::O_NONBLOCK;
/// Below this many files a scan reads them on the calling thread.
const PARALLEL_MIN: usize = 2048;
/// Reader threads at most, whatever the core count: the kernel's directory and inode
/// locks, not the cores, limit more.
const MAX_THREADS: usize = 4;
/// One buffer per reader: the largest file we accept, plus one byte to notice a larger one.
const BUF_LEN: usize = file::MAX_FILE_SIZE as usize + 1;

/// Reads one binding file by path (an inotify event, `--check-config`).
pub fn read_binding(path: &Path, name: &str) -> Result<Binding, LoadError> {
    let f = File::options()
        .read(true)
        .custom_flags(OPEN_FLAGS)
        .open(path)
        .map_err(open_error)?;
    let mut buf = vec![0u8; BUF_LEN];
    read_open(f, name, &mut buf)
}

/// The outcome of a whole-directory scan.
#[derive(Debug, Default)]
pub struct Scan {
    /// Valid bindings by tap name.
    pub bindings: BTreeMap<String, Arc<Binding>>,
    /// Files that could not be used, with the reason (the registry logs them).
    pub refused: Vec<(String, LoadError)>,
}

/// Reads every binding file in `dir`; refused files come back with the reason.
pub fn scan(dir: &Path) -> io::Result<Scan> {
    let names = binding_names(dir)?;
    let handle = File::open(dir)?;
    let threads = match names.len() {
        n if n < PARALLEL_MIN => 1,
        _ => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(MAX_THREADS),
    };
    let per_thread = names.len().div_ceil(threads).max(1);
    let parts: Vec<Vec<Read1>> = std::thread::scope(|s| {
        let mut chunks = names.chunks(per_thread);
        let first = chunks.next().unwrap_or(&[]);
        let spawned: Vec<_> = chunks
            .map(|chunk| {
                let handle = &handle;
                std::thread::Builder::new()
                    .name("scan".into())
                    .spawn_scoped(s, move || read_all(handle, chunk))
                    .map_err(|_| chunk)
            })
            .collect();
        let mut parts = vec![read_all(&handle, first)];
        for h in spawned {
            parts.push(match h {
                Ok(h) => h.join().unwrap_or_default(),
                // No thread to be had: read that share here.
                Err(chunk) => read_all(&handle, chunk),
            });
        }
        parts
    });
    let mut scan = Scan::default();
    for (name, result) in parts.into_iter().flatten() {
        match result {
            Ok(b) => {
                scan.bindings.insert(name, Arc::new(b));
            }
            Err(e) => scan.refused.push((name, e)),
        }
    }
    Ok(scan)
}

/// One file's name and what reading it gave.
type Read1 = (String, Result<Binding, LoadError>);

/// The directory's entries that may be binding files (by name).
fn binding_names(dir: &Path) -> io::Result<Vec<String>> {
    let mut names = Vec::new();
    for dirent in std::fs::read_dir(dir)? {
        match dirent?.file_name().into_string() {
            Ok(n) if file::is_binding_name(&n) => names.push(n),
            _ => continue,
        }
    }
    Ok(names)
}

/// Reads `names` relative to the open directory `handle`.
fn read_all(handle: &File, names: &[String]) -> Vec<Read1> {
    let mut buf = vec![0u8; BUF_LEN];
    names
        .iter()
        .map(|name| (name.clone(), read_at(handle, name, &mut buf)))
        .collect()
}

fn read_at(handle: &File, name: &str, buf: &mut [u8]) -> Result<Binding, LoadError> {
    // A directory entry's name has no NUL; refuse rather than trust that blindly.
    let cname = CString::new(name).map_err(|e| LoadError::Io(io::Error::other(e)))?;
    // SAFETY: openat(2) on our open directory with a NUL-terminated name; the result is
    // checked before use and owned by the File from then on.
    let fd = unsafe {
        libc::openat(
            handle.as_raw_fd(),
            cname.as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC | OPEN_FLAGS,
        )
    };
    if fd < 0 {
        return Err(open_error(io::Error::last_os_error()));
    }
    // SAFETY: fd is a fresh descriptor nobody else owns.
    let f = unsafe { File::from_raw_fd(fd) };
    read_open(f, name, buf)
}

fn open_error(e: io::Error) -> LoadError {
    match e.raw_os_error() {
        Some(libc::ELOOP) => LoadError::NotRegular,
        _ => LoadError::Io(e),
    }
}

/// Checks and reads an open binding file into `buf` (`BUF_LEN` bytes), then parses it.
fn read_open(mut f: File, name: &str, buf: &mut [u8]) -> Result<Binding, LoadError> {
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(LoadError::NotRegular);
    }
    if meta.len() > file::MAX_FILE_SIZE {
        return Err(LoadError::TooLarge);
    }
    // Usually one read: stop at the size fstat gave. A file that grows meanwhile is being
    // rewritten, and its CLOSE_WRITE event brings us back to it.
    let expected = meta.len() as usize;
    let mut got = 0;
    while got < buf.len() {
        match f.read(buf.get_mut(got..).unwrap_or(&mut [])) {
            Ok(0) => break,
            Ok(n) => {
                got += n;
                if got == expected {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(LoadError::Io(e)),
        }
    }
    if got > file::MAX_FILE_SIZE as usize {
        return Err(LoadError::TooLarge);
    }
    let text =
        std::str::from_utf8(buf.get(..got).unwrap_or(&[])).map_err(|_| LoadError::NotText)?;
    Ok(file::parse(name, text)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binding::testdir::dir;

    fn binding_text(i: usize) -> String {
        format!(
            "MAC=02:00:00:00:{:02x}:{:02x}\nIP=192.0.2.{}\n",
            i >> 8,
            i & 255,
            i % 250 + 2
        )
    }

    #[test]
    fn a_parallel_scan_reads_every_file_once_and_reports_refused_ones() {
        let d = dir("read-parallel");
        let n = PARALLEL_MIN + 101;
        for i in 0..n {
            std::fs::write(d.0.join(format!("tap{i}")), binding_text(i)).unwrap();
        }
        std::fs::write(d.0.join("tapbad"), "MAC=nope\n").unwrap();
        std::fs::write(d.0.join("tapbin"), [0xff, 0xfe, b'\n']).unwrap();
        std::fs::write(d.0.join(".hidden"), binding_text(1)).unwrap();
        let scan = scan(&d.0).unwrap();
        assert_eq!(scan.bindings.len(), n);
        assert_eq!(scan.refused.len(), 2);
        for i in [0, n / 2, n - 1] {
            let b = &scan.bindings[&format!("tap{i}")];
            assert_eq!(b.tap, format!("tap{i}"));
            assert_eq!(
                b.ip.map(|ip| ip.to_string()),
                Some(format!("192.0.2.{}", i % 250 + 2))
            );
        }
    }

    #[test]
    fn one_read_or_many_the_content_is_the_same() {
        let d = dir("read-single");
        let text = binding_text(7);
        std::fs::write(d.0.join("tap7"), &text).unwrap();
        let by_path = read_binding(&d.0.join("tap7"), "tap7").unwrap();
        let scanned = scan(&d.0).unwrap();
        assert_eq!(*scanned.bindings["tap7"], by_path);
    }

    #[test]
    fn oversized_symlinked_and_special_files_are_refused() {
        let d = dir("read-refused");
        std::fs::write(d.0.join("tapbig"), vec![b'#'; BUF_LEN + 10]).unwrap();
        std::fs::write(d.0.join("target"), binding_text(1)).unwrap();
        std::os::unix::fs::symlink(d.0.join("target"), d.0.join("taplink")).unwrap();
        std::fs::create_dir(d.0.join("tapdir")).unwrap();
        assert!(matches!(
            read_binding(&d.0.join("tapbig"), "tapbig"),
            Err(LoadError::TooLarge)
        ));
        assert!(matches!(
            read_binding(&d.0.join("taplink"), "taplink"),
            Err(LoadError::NotRegular)
        ));
        assert!(matches!(
            read_binding(&d.0.join("tapdir"), "tapdir"),
            Err(LoadError::NotRegular)
        ));
        let scan = scan(&d.0).unwrap();
        assert_eq!(scan.refused.len(), 3, "{:?}", scan.bindings.keys());
    }
}
