//! Binding files, the snapshot table and the watcher that keeps it current.

pub mod burst;
pub mod datapath;
pub mod file;
pub mod links;
pub mod read;
pub mod snapshot;
pub mod table;
#[cfg(test)]
mod testdir;
pub mod watch;
