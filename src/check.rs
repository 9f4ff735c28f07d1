//! `--check-config` (`-t`): validate the configuration and every binding file, print each
//! problem, and say whether the daemon would start with them (like `nginx -t`).

use crate::binding::file;
use crate::binding::read::read_binding;
use crate::config;
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
    bindings_ok(&loaded.config.fixed.general.datapath)
}

fn bindings_ok(datapath: &Path) -> bool {
    let dir = match std::fs::read_dir(datapath) {
        Ok(d) => d,
        Err(e) => {
            println!("state directory {}: {e}", datapath.display());
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
    println!(
        "{}: {good} binding files OK, {bad} with problems",
        datapath.display()
    );
    bad == 0
}
