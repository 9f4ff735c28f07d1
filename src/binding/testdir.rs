//! A scratch state directory for unit tests, removed when dropped.

use std::path::PathBuf;

pub struct Dir(pub PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An empty directory unique to this test (`name`) and this test process.
pub fn dir(name: &str) -> Dir {
    let d = std::env::temp_dir().join(format!("nfdhcpd-unit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create the test directory");
    Dir(d)
}
