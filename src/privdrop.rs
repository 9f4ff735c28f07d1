//! Dropping root: to `[general] user`, keeping exactly CAP_NET_ADMIN (NFQUEUE verdicts are
//! checked per message) and CAP_NET_RAW (AF_PACKET), as DESIGN.md §4 verified.
//!
//! Runs after every queue and socket is open and before any thread starts: capabilities
//! are per thread, and threads inherit the set of the thread that spawns them.

use caps::{CapSet, Capability, CapsHashSet};
use std::ffi::CString;
use std::io;

/// The account to run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum PrivError {
    #[error("user {0:?} not found")]
    NoSuchUser(String),
    #[error("{step}: {source}")]
    Syscall {
        step: &'static str,
        source: io::Error,
    },
    #[error("capabilities: {0}")]
    Caps(String),
    #[error("privileges were not dropped: setuid(0) still succeeds")]
    NotDropped,
}

/// Resolves a user name or a numeric uid (a uid without a passwd entry gets gid = uid).
pub fn lookup(user: &str) -> Result<Account, PrivError> {
    if let Some(a) = getpw(user)? {
        return Ok(a);
    }
    match user.parse::<u32>() {
        Ok(uid) => Ok(Account {
            name: user.to_owned(),
            uid,
            gid: uid,
        }),
        Err(_) => Err(PrivError::NoSuchUser(user.to_owned())),
    }
}

fn getpw(user: &str) -> Result<Option<Account>, PrivError> {
    let Ok(cname) = CString::new(user) else {
        return Ok(None);
    };
    // SAFETY: getpwnam returns NULL or a pointer to static storage, read at once, before
    // any other thread exists (start-up is single-threaded).
    let mut pw = unsafe { libc::getpwnam(cname.as_ptr()) };
    if pw.is_null() {
        if let Ok(uid) = user.parse::<u32>() {
            // SAFETY: as above.
            pw = unsafe { libc::getpwuid(uid) };
        }
    }
    if pw.is_null() {
        return Ok(None);
    }
    // SAFETY: pw is non-null and points at a valid passwd entry.
    let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
    Ok(Some(Account {
        name: user.to_owned(),
        uid,
        gid,
    }))
}

fn check(step: &'static str, rc: libc::c_int) -> Result<(), PrivError> {
    if rc < 0 {
        return Err(PrivError::Syscall {
            step,
            source: io::Error::last_os_error(),
        });
    }
    Ok(())
}

fn kept() -> CapsHashSet {
    [Capability::CAP_NET_ADMIN, Capability::CAP_NET_RAW]
        .into_iter()
        .collect()
}

fn caps_err(e: caps::errors::CapsError) -> PrivError {
    PrivError::Caps(e.to_string())
}

/// Becomes `account` with only the two capabilities the daemon needs, then proves it
/// cannot become root again.
pub fn drop_to(account: &Account) -> Result<(), PrivError> {
    // The bounding set can only shrink while we still hold CAP_SETPCAP, i.e. as root.
    for cap in caps::all().difference(&kept()) {
        caps::drop(None, CapSet::Bounding, *cap).map_err(caps_err)?;
    }
    // SAFETY: plain syscalls on the calling (only) thread; arguments are valid.
    unsafe {
        check(
            "prctl(PR_SET_KEEPCAPS)",
            libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0),
        )?;
        check("setgroups", libc::setgroups(0, std::ptr::null()))?;
        check(
            "setresgid",
            libc::setresgid(account.gid, account.gid, account.gid),
        )?;
        check(
            "setresuid",
            libc::setresuid(account.uid, account.uid, account.uid),
        )?;
        check(
            "prctl(PR_SET_KEEPCAPS)",
            libc::prctl(libc::PR_SET_KEEPCAPS, 0, 0, 0, 0),
        )?;
    }
    // Effective first: it must stay a subset of permitted at every step (as root it is full).
    caps::clear(None, CapSet::Inheritable).map_err(caps_err)?;
    caps::set(None, CapSet::Effective, &kept()).map_err(caps_err)?;
    caps::set(None, CapSet::Permitted, &kept()).map_err(caps_err)?;
    verify(account)
}

fn verify(account: &Account) -> Result<(), PrivError> {
    if account.uid != 0 {
        // SAFETY: an attempt to regain root; it must fail with EPERM.
        if unsafe { libc::setuid(0) } == 0 {
            return Err(PrivError::NotDropped);
        }
    }
    let eff = caps::read(None, CapSet::Effective).map_err(caps_err)?;
    if eff != kept() {
        return Err(PrivError::Caps(format!("effective set is {eff:?}")));
    }
    Ok(())
}

/// Becomes `account` with no capability in effect, for a check that must see what the
/// daemon will see after `drop_to` (which keeps only the two network capabilities, none
/// that bypasses file permissions). For a forked child that only reads, then exits.
pub fn become_user(account: &Account) -> Result<(), PrivError> {
    // SAFETY: plain syscalls on the calling (only) thread; arguments are valid.
    unsafe {
        check("setgroups", libc::setgroups(0, std::ptr::null()))?;
        check(
            "setresgid",
            libc::setresgid(account.gid, account.gid, account.gid),
        )?;
        check(
            "setresuid",
            libc::setresuid(account.uid, account.uid, account.uid),
        )?;
    }
    // Still all of them if the account is root itself.
    caps::clear(None, CapSet::Effective).map_err(caps_err)
}

/// The user we run as, for a message: its name, or its uid if it has no passwd entry.
pub fn current_user() -> String {
    // SAFETY: geteuid cannot fail.
    let uid = unsafe { libc::geteuid() };
    // SAFETY: getpwuid returns NULL or a pointer to static storage, read at once; called
    // on start-up paths only, before other threads could call it.
    let pw = unsafe { libc::getpwuid(uid) };
    if pw.is_null() {
        return uid.to_string();
    }
    // SAFETY: pw is non-null; pw_name is a NUL-terminated string in the same storage.
    let name = unsafe { std::ffi::CStr::from_ptr((*pw).pw_name) };
    name.to_string_lossy().into_owned()
}

/// Whether we run as root and so must drop privileges ourselves. Not as root (systemd
/// `User=` with `AmbientCapabilities=`), the service manager already did it.
pub fn running_as_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_names_and_numbers() {
        assert_eq!(lookup("root").unwrap().uid, 0);
        let n = lookup("nobody").unwrap();
        assert_eq!(lookup(&n.uid.to_string()).unwrap().uid, n.uid);
        assert_eq!(lookup("4242").unwrap().gid, 4242);
        assert!(matches!(
            lookup("no-such-user-here"),
            Err(PrivError::NoSuchUser(_))
        ));
    }
}
