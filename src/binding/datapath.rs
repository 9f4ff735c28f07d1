//! The state directory as configured (`[general] datapath`) and the directory it names now.
//!
//! The configured path may be a symlink, or a directory an operator replaces by another
//! (`ln -sfn new tmp && mv -T tmp link`, `mv -T new datapath`). What the daemon serves is the
//! directory the path resolves to at the moment, identified by (device, inode), never the
//! first one it opened: the watcher and the registry compare identities to notice a switch.

use std::fs::Metadata;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// A directory's identity: a rename or a symlink switch changes the path it is reached by,
/// not this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirId {
    dev: u64,
    ino: u64,
}

impl DirId {
    pub fn of(meta: &Metadata) -> DirId {
        DirId {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

/// The directory the configured path leads to now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Without symlinks: file events and reads use it, so they do not race a switch.
    pub path: PathBuf,
    pub id: DirId,
}

/// Follows every symlink of `datapath`; an error if it leads nowhere or not to a directory.
pub fn resolve(datapath: &Path) -> io::Result<Resolved> {
    let path = std::fs::canonicalize(datapath)?;
    let meta = std::fs::metadata(&path)?;
    if !meta.is_dir() {
        return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
    }
    Ok(Resolved {
        path,
        id: DirId::of(&meta),
    })
}

/// Whether a directory above the last component is reached through a symlink. A switch of
/// that symlink is a rename in a directory nobody watches, so only a periodic check (or
/// SIGHUP) notices it.
pub fn has_indirect_ancestor(datapath: &Path) -> bool {
    match datapath.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            std::fs::canonicalize(parent).map_or(true, |p| p != parent)
        }
        _ => false,
    }
}

/// Whether the calling process, with its effective ids and capabilities now, may list the
/// directory and open files in it (read and search permission).
pub fn check_readable(path: &Path) -> io::Result<()> {
    let cpath = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: faccessat(2) with a NUL-terminated path; it only reads it. AT_EACCESS checks
    // the effective ids, which are what every later open uses.
    let rc = unsafe {
        libc::faccessat(
            libc::AT_FDCWD,
            cpath.as_ptr(),
            libc::R_OK | libc::X_OK,
            libc::AT_EACCESS,
        )
    };
    match rc {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

/// What a directory entry is, for a message about one that is not a regular file.
pub fn kind_of(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    match () {
        _ if t.is_symlink() => "symlink",
        _ if t.is_fifo() => "FIFO",
        _ if t.is_socket() => "socket",
        _ if t.is_dir() => "directory",
        _ if t.is_block_device() || t.is_char_device() => "device",
        _ if t.is_file() => "regular file",
        _ => "special file",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binding::testdir::dir;

    #[test]
    fn a_switched_symlink_resolves_to_the_new_directory() {
        let d = dir("datapath-switch");
        let (a, b, link) = (d.0.join("a"), d.0.join("b"), d.0.join("link"));
        std::fs::create_dir(&a).unwrap();
        std::fs::create_dir(&b).unwrap();
        std::os::unix::fs::symlink(&a, &link).unwrap();
        let first = resolve(&link).unwrap();
        assert_eq!(first.path, std::fs::canonicalize(&a).unwrap());
        // ln -sfn b tmp && mv -T tmp link
        let tmp = d.0.join("tmp");
        std::os::unix::fs::symlink(&b, &tmp).unwrap();
        std::fs::rename(&tmp, &link).unwrap();
        let second = resolve(&link).unwrap();
        assert_ne!(first.id, second.id);
        assert_eq!(second.path, std::fs::canonicalize(&b).unwrap());
        assert!(!has_indirect_ancestor(&link));
        assert!(has_indirect_ancestor(&link.join("sub")));
    }

    #[test]
    fn a_file_or_nothing_is_no_state_directory() {
        let d = dir("datapath-bad");
        std::fs::write(d.0.join("f"), "").unwrap();
        assert_eq!(
            resolve(&d.0.join("f")).unwrap_err().raw_os_error(),
            Some(libc::ENOTDIR)
        );
        assert!(resolve(&d.0.join("missing")).is_err());
        assert!(check_readable(&d.0).is_ok());
    }
}
