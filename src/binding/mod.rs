//! Binding files, the snapshot table and the watcher that keeps it current.

pub mod file;
