//! Daemon mode and the pid file.
//!
//! `detach` forks twice and keeps the original process waiting on a pipe until the daemon
//! says it is serving (queues bound, privileges dropped) or why it is not: so `nfdhcpd`
//! without `-f`, as sysvinit's start-stop-daemon runs it, exits 0 only when the daemon
//! really works, and otherwise exits with the daemon's own status and reason on stderr.

use std::fs;
use std::io::{self, Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The daemon's end of the start-up pipe.
pub struct Readiness {
    pipe: fs::File,
    /// Printed by the waiting parent on success: what the operator must know at once.
    note: String,
}

impl Readiness {
    /// Has the waiting parent print `note` on its stderr (the operator's terminal) when it
    /// exits 0: the detached daemon's own stderr is /dev/null.
    pub fn note(&mut self, note: &str) {
        self.note = note.to_owned();
    }

    /// Tells the waiting parent that start-up succeeded; it exits 0.
    pub fn ready(mut self) {
        let mut msg = vec![0];
        msg.extend_from_slice(self.note.as_bytes());
        let _ = self.pipe.write_all(&msg);
    }

    /// Tells the waiting parent why start-up failed; it prints this and exits with `code`.
    pub fn failed(mut self, code: u8, message: &str) {
        let mut msg = vec![code.max(1)];
        msg.extend_from_slice(message.as_bytes());
        let _ = self.pipe.write_all(&msg);
    }
}

/// Forks into the background. Returns in the daemon only; the calling process waits for
/// the daemon's word and exits with it. Must run before any thread exists.
pub fn detach() -> io::Result<Readiness> {
    let (read_end, write_end) = pipe()?;
    match fork()? {
        0 => {}
        _child => {
            drop(write_end);
            wait_for_daemon(read_end);
        }
    }
    drop(read_end);
    // SAFETY: setsid has no memory-safety preconditions.
    if unsafe { libc::setsid() } < 0 {
        return Err(io::Error::last_os_error());
    }
    // A second fork: the daemon is no session leader, so it can never regain a terminal.
    if fork()? != 0 {
        // SAFETY: _exit skips atexit handlers and destructors shared with the daemon.
        unsafe { libc::_exit(0) };
    }
    let _ = std::env::set_current_dir("/");
    // SAFETY: umask only changes the process's file creation mask.
    unsafe { libc::umask(0o022) };
    redirect_stdio()?;
    Ok(Readiness {
        pipe: fs::File::from(write_end),
        note: String::new(),
    })
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors are fresh and ours.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn fork() -> io::Result<libc::pid_t> {
    // SAFETY: called while the process is single-threaded (documented on `detach`).
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        pid => Ok(pid),
    }
}

/// The original process: relay the daemon's verdict as our exit status.
fn wait_for_daemon(read_end: OwnedFd) -> ! {
    let mut msg = Vec::new();
    let _ = fs::File::from(read_end).read_to_end(&mut msg);
    // Reap the intermediate child so it does not linger as a zombie.
    // SAFETY: waitpid with a null status pointer is always sound.
    unsafe { libc::waitpid(-1, std::ptr::null_mut(), 0) };
    match msg.split_first() {
        Some((0, note)) => {
            if !note.is_empty() {
                eprintln!("nfdhcpd: {}", String::from_utf8_lossy(note));
            }
            std::process::exit(0)
        }
        Some((code, reason)) => {
            eprintln!("nfdhcpd: {}", String::from_utf8_lossy(reason));
            std::process::exit(i32::from(*code))
        }
        None => {
            eprintln!("nfdhcpd: the daemon exited during start-up; see the system log");
            std::process::exit(1)
        }
    }
}

fn redirect_stdio() -> io::Result<()> {
    let null = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    let fd = std::os::fd::AsRawFd::as_raw_fd(&null);
    for target in 0..3 {
        // SAFETY: dup2 onto the standard descriptors; `null` stays open for the call.
        if unsafe { libc::dup2(fd, target) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Why the pid file stops start-up.
#[derive(Debug, thiserror::Error)]
pub enum PidFileError {
    #[error("another nfdhcpd is running (pid {pid}, pid file {path})")]
    Running { pid: i32, path: PathBuf },
    #[error("pid file {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// Whether our parent is init (PID 1): systemd running a unit of `Type=simple`, or a
/// container's init. Detaching there would make init see its service exit at once.
pub fn started_by_init() -> bool {
    std::os::unix::process::parent_id() == 1
}

/// Refuses to start when a live nfdhcpd holds `path`. A stale file (its process gone, a
/// zombie that has not been reaped yet, or not an nfdhcpd) is left for `write` to replace.
pub fn check_not_running(path: &Path) -> Result<(), PidFileError> {
    let Ok(text) = fs::read_to_string(path) else {
        return Ok(());
    };
    let Ok(pid) = text.trim().parse::<i32>() else {
        return Ok(());
    };
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let live = pid > 0 && pid != std::process::id() as i32 && is_live_nfdhcpd(&stat);
    if live {
        return Err(PidFileError::Running {
            pid,
            path: path.to_owned(),
        });
    }
    log::info!("replacing stale pid file {} (pid {pid})", path.display());
    Ok(())
}

/// Whether a `/proc/PID/stat` line is a running nfdhcpd: its command is ours and it is not
/// a zombie (a killed daemon whose parent has not reaped it yet has closed every queue and
/// socket already) or dead.
fn is_live_nfdhcpd(stat: &str) -> bool {
    // "PID (COMM) STATE ...": COMM may hold spaces and ')', so split at the last ')'.
    let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
        return false;
    };
    let comm = stat.get(open + 1..close).unwrap_or("");
    let state = stat
        .get(close + 1..)
        .and_then(|r| r.split_whitespace().next());
    comm == "nfdhcpd" && !matches!(state, None | Some("Z" | "X" | "x"))
}

/// A pid file we wrote, removed on a clean stop.
pub struct PidFile {
    path: PathBuf,
}

impl PidFile {
    /// Writes our pid atomically (temp file + rename). Creates the directory when missing,
    /// owned by `owner` so the daemon can still remove the file after dropping privileges.
    pub fn write(path: &Path, owner: Option<(u32, u32)>) -> Result<PidFile, PidFileError> {
        let io_err = |source| PidFileError::Io {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.exists()) {
            fs::create_dir_all(dir).map_err(io_err)?;
            if let Some((uid, gid)) = owner {
                std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(io_err)?;
            }
        }
        let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
        fs::write(&tmp, format!("{}\n", std::process::id())).map_err(io_err)?;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o644)).map_err(io_err)?;
        fs::rename(&tmp, path).map_err(io_err)?;
        Ok(PidFile {
            path: path.to_owned(),
        })
    }

    pub fn remove(&self) {
        if let Err(e) = fs::remove_file(&self.path) {
            log::warn!("cannot remove pid file {}: {e}", self.path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_live_nfdhcpd;

    #[test]
    fn pid_file_owner_must_be_a_live_nfdhcpd() {
        assert!(is_live_nfdhcpd(
            "4242 (nfdhcpd) S 1 4242 4242 0 -1 4194560 ..."
        ));
        assert!(is_live_nfdhcpd("4242 (nfdhcpd) R 1"));
        // Killed, not reaped yet: its queues are already free.
        assert!(!is_live_nfdhcpd("4242 (nfdhcpd) Z 1 4242"));
        assert!(!is_live_nfdhcpd("4242 (nfdhcpd) X 1"));
        // Another program reusing the pid, also one whose name has spaces and parentheses.
        assert!(!is_live_nfdhcpd("4242 (bash) S 1"));
        assert!(!is_live_nfdhcpd("4242 (nfdhcpd) x) S 1"));
        assert!(!is_live_nfdhcpd(""));
        assert!(!is_live_nfdhcpd("4242 (nfdhcpd"));
    }

    use super::*;

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("nfdhcpd-pid-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn write_creates_dir_and_remove_cleans() {
        let d = tmpdir("write");
        let p = d.join("run/nfdhcpd.pid");
        let f = PidFile::write(&p, None).unwrap();
        assert_eq!(
            fs::read_to_string(&p).unwrap(),
            format!("{}\n", std::process::id())
        );
        f.remove();
        assert!(!p.exists());
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn stale_and_foreign_pids_do_not_block() {
        let d = tmpdir("stale");
        fs::create_dir_all(&d).unwrap();
        let p = d.join("x.pid");
        assert!(check_not_running(&p).is_ok(), "no file");
        fs::write(&p, "garbage").unwrap();
        assert!(check_not_running(&p).is_ok());
        // pid 1 exists but is not an nfdhcpd.
        fs::write(&p, "1\n").unwrap();
        assert!(check_not_running(&p).is_ok());
        let _ = fs::remove_dir_all(&d);
    }
}
