//! Binding files, the snapshot table and the watcher that keeps it current.

pub mod file;
pub mod links;
pub mod table;
pub mod watch;
