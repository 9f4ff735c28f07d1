//! `--check-config` (`-t`): validate the configuration and every binding file, print each
//! problem, and say whether the daemon would start with them (like `nginx -t`).
//!
//! The binding files are checked with the rights the daemon reads them with: as root, in a
//! forked child that becomes the configured `[general] user` (the daemon reads them after
//! dropping root to it); otherwise as the calling user, as the daemon would run.

use crate::binding::read::read_binding;
use crate::binding::{datapath, file};
use crate::config;
use crate::privdrop::{self, Account};
use std::io::Write;
use std::path::Path;

/// Prints findings to stdout; returns whether everything is usable.
pub fn run(config_path: &Path) -> bool {
    let loaded = match config::load(config_path) {
        Ok(l) => l,
        Err(e) => {
            println!("{e}");
            return false;
        }
    };
    for w in &loaded.warnings {
        println!("warning: {w}");
    }
    println!("{}: configuration OK", config_path.display());
    let general = &loaded.config.fixed.general;
    if !privdrop::running_as_root() {
        return bindings_ok(&general.datapath, &privdrop::current_user());
    }
    match privdrop::lookup(&general.user) {
        Ok(account) => as_user(&account, |user| bindings_ok(&general.datapath, user)),
        Err(e) => {
            println!("[general] user: {e}");
            false
        }
    }
}

/// Runs `check` in a child process that became `account`; whether it said everything is
/// usable. Forking is safe here: `-t` never starts a thread.
fn as_user(account: &Account, check: impl FnOnce(&str) -> bool) -> bool {
    // What we printed must not be printed again by the child's copy of the buffer.
    let _ = std::io::stdout().flush();
    // SAFETY: fork(2) in a single-threaded process; the child only makes syscalls, prints
    // and exits with _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        println!(
            "cannot fork to check the binding files as user {}: {}",
            account.name,
            std::io::Error::last_os_error()
        );
        return false;
    }
    if pid == 0 {
        let ok = match privdrop::become_user(account) {
            Ok(()) => check(&account.name),
            Err(e) => {
                println!("cannot become user {}: {e}", account.name);
                false
            }
        };
        let _ = std::io::stdout().flush();
        // SAFETY: ends the child without running the parent's exit handlers twice.
        unsafe { libc::_exit(i32::from(!ok)) }
    }
    let mut status = 0;
    // SAFETY: waits for our own child; status is a valid out pointer.
    let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
    rc == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
}

fn bindings_ok(datapath: &Path, user: &str) -> bool {
    let shown = datapath.display();
    let at = match datapath::resolve(datapath) {
        Ok(at) => at,
        Err(e) => {
            println!("state directory {shown}: {e}");
            return false;
        }
    };
    if let Err(e) = datapath::check_readable(&at.path) {
        println!(
            "state directory {shown}: not readable by user {user}, who reads the binding \
             files (it needs read and search permission on it): {e}"
        );
        return false;
    }
    let dir = match std::fs::read_dir(&at.path) {
        Ok(d) => d,
        Err(e) => {
            println!("state directory {shown}: {e}");
            return false;
        }
    };
    let (mut good, mut bad) = (0usize, 0usize);
    for dirent in dir.flatten() {
        let name = dirent.file_name().to_string_lossy().into_owned();
        if !file::is_binding_name(&name) {
            println!("ignored: {:?} (not a binding file name)", name);
            continue;
        }
        match read_binding(&dirent.path(), &name) {
            Ok(b) => {
                good += 1;
                for w in &b.warnings {
                    println!("{}: warning: {w}", dirent.path().display());
                }
            }
            Err(e) => {
                bad += 1;
                println!("{}: {e}", dirent.path().display());
            }
        }
    }
    println!("{shown}: {good} binding files OK, {bad} with problems");
    bad == 0
}
