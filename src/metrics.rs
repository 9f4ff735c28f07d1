//! The counters in the Prometheus text exposition format (version 0.0.4), for `nfdhcpd ctl
//! metrics` and for `[general] metrics_file`, which node_exporter's textfile collector reads
//! (the usual way for a daemon that opens no port). Totals only: by queue, message kind,
//! reply kind and drop reason, never by tap (a label per VM would make a series per VM).

use crate::stats::{Stats, FAMILIES};
use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::path::Path;

/// The prefix of every metric name.
const PREFIX: &str = "nfdhcpd";

/// What the metrics say besides the counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gauges {
    /// Bindings served, bound but not served (INDEV without a MAC, tap missing), and files
    /// refused.
    pub active: usize,
    pub inactive: usize,
    pub refused: usize,
    /// When the daemon started, seconds since the epoch.
    pub start_time: u64,
}

/// The whole exposition: every counter family, the binding gauges, the start time and the
/// version.
pub fn render(stats: &Stats, gauges: &Gauges) -> String {
    let mut out = String::new();
    let samples = stats.samples();
    for family in FAMILIES {
        let name = format!("{PREFIX}_{}_total", family.name);
        let _ = writeln!(out, "# HELP {name} {}", family.help.trim());
        let _ = writeln!(out, "# TYPE {name} counter");
        for s in samples.iter().filter(|s| std::ptr::eq(s.family, family)) {
            match (family.label, s.label_value) {
                (Some(label), Some(value)) => {
                    let _ = writeln!(out, "{name}{{{label}=\"{value}\"}} {}", s.value);
                }
                _ => {
                    let _ = writeln!(out, "{name} {}", s.value);
                }
            }
        }
    }
    let bindings = format!("{PREFIX}_bindings");
    let _ = writeln!(out, "# HELP {bindings} Binding files, by state.");
    let _ = writeln!(out, "# TYPE {bindings} gauge");
    for (state, n) in [
        ("active", gauges.active),
        ("inactive", gauges.inactive),
        ("refused", gauges.refused),
    ] {
        let _ = writeln!(out, "{bindings}{{state=\"{state}\"}} {n}");
    }
    let start = format!("{PREFIX}_start_time_seconds");
    let _ = writeln!(
        out,
        "# HELP {start} When the daemon started, seconds since the epoch."
    );
    let _ = writeln!(out, "# TYPE {start} gauge");
    let _ = writeln!(out, "{start} {}", gauges.start_time);
    let info = format!("{PREFIX}_build_info");
    let _ = writeln!(out, "# HELP {info} The running version.");
    let _ = writeln!(out, "# TYPE {info} gauge");
    let _ = writeln!(out, "{info}{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
    out
}

/// Replaces `path` with `text` atomically: written to a temporary file beside it, then
/// renamed over it, so a reader (node_exporter) never sees half a file. The temporary name
/// starts with a dot and does not end in `.prom`, which the textfile collector skips.
pub fn write_file(path: &Path, text: &str) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text() -> String {
        let stats = Stats::default();
        Stats::add(&stats.dhcp4_packets, 7);
        Stats::add(&stats.drop_spoofed, 2);
        Stats::add(&stats.sent, 5);
        let gauges = Gauges {
            active: 3,
            inactive: 1,
            refused: 0,
            start_time: 1_796_000_000,
        };
        render(&stats, &gauges)
    }

    #[test]
    fn exposition_format() {
        let t = text();
        for line in [
            "# HELP nfdhcpd_packets_total Packets read from a queue, by queue.",
            "# TYPE nfdhcpd_packets_total counter",
            "nfdhcpd_packets_total{queue=\"dhcp4\"} 7",
            "nfdhcpd_packets_total{queue=\"dhcp6\"} 0",
            "nfdhcpd_drops_total{reason=\"spoofed\"} 2",
            "nfdhcpd_sent_total 5",
            "nfdhcpd_bindings{state=\"active\"} 3",
            "nfdhcpd_start_time_seconds 1796000000",
        ] {
            assert!(t.lines().any(|l| l == line), "no {line:?} in\n{t}");
        }
        // Each family once, every sample line after its TYPE line, names as Prometheus wants.
        let mut seen = std::collections::BTreeSet::new();
        for l in t.lines() {
            if let Some(rest) = l.strip_prefix("# TYPE ") {
                assert!(
                    seen.insert(rest.split(' ').next().unwrap().to_string()),
                    "{l}"
                );
            } else if !l.starts_with('#') {
                let name = l.split(['{', ' ']).next().unwrap();
                assert!(seen.contains(name), "{l}: before its TYPE");
                assert!(
                    name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "{l}"
                );
            }
        }
        assert!(t.ends_with('\n'));
    }

    #[test]
    fn file_is_replaced_whole() {
        let dir = std::env::temp_dir().join(format!("nfdhcpd-metrics-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("nfdhcpd.prom");
        write_file(&path, "a 1\n").unwrap();
        write_file(&path, &text()).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text());
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["nfdhcpd.prom"], "no temporary file left");
        assert!(write_file(&dir.join("missing/x.prom"), "x").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
