//! The process logger: syslog (facility daemon, ident nfdhcpd, with pid) for the daemon,
//! `LEVEL message` lines on stderr in the foreground (`-f`). A daemon on a host without
//! syslog (no /dev/log) writes the same lines to `<logdir>/nfdhcpd.log`, the original's log
//! file, opened before privileges are dropped.
//!
//! Never `syslog::init()`: without /dev/log it silently sends to UDP 514 (DESIGN.md §4).

use log::{Level, LevelFilter, Log, Metadata, Record};
use parking_lot::Mutex;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use syslog::{Facility, Formatter3164, LoggerBackend};

/// Where log lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Stderr,
    /// Syslog, else this file.
    Syslog {
        fallback: std::path::PathBuf,
    },
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Error => "ERROR",
        Level::Warn => "WARN",
        Level::Info => "INFO",
        Level::Debug => "DEBUG",
        Level::Trace => "TRACE",
    }
}

/// Lines on stderr, or appended to a log file (with a timestamp, as the original's).
struct LineLogger {
    file: Option<Mutex<std::fs::File>>,
}

impl Log for LineLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        match &self.file {
            None => write_stderr(record),
            Some(f) => {
                let secs = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                let line = format!(
                    "{} {} {}\n",
                    utc_timestamp(secs),
                    level_name(record.level()),
                    record.args()
                );
                let _ = f.lock().write_all(line.as_bytes());
            }
        }
    }

    fn flush(&self) {}
}

/// `YYYY-MM-DDTHH:MM:SSZ` from Unix seconds (H. Hinnant's civil-from-days).
fn utc_timestamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn write_stderr(record: &Record<'_>) {
    // One write per line so lines of concurrent threads never interleave.
    let line = format!("{} {}\n", level_name(record.level()), record.args());
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

struct SyslogLogger {
    inner: Mutex<syslog::Logger<LoggerBackend, Formatter3164>>,
}

impl Log for SyslogLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let msg = record.args().to_string();
        let mut l = self.inner.lock();
        let sent = match record.level() {
            Level::Error => l.err(msg),
            Level::Warn => l.warning(msg),
            Level::Info => l.info(msg),
            Level::Debug | Level::Trace => l.debug(msg),
        };
        if sent.is_err() {
            write_stderr(record);
        }
    }

    fn flush(&self) {}
}

/// Installs the logger. Returns a note to log once logging works, when syslog was asked
/// for but is not there (no /dev/log) and stderr is used instead.
pub fn init(target: Target, debug: bool) -> Option<String> {
    let level = if debug {
        LevelFilter::Debug
    } else {
        LevelFilter::Info
    };
    log::set_max_level(level);
    let (logger, note): (Box<dyn Log>, _) = match target {
        Target::Stderr => (Box::new(LineLogger { file: None }), None),
        Target::Syslog { fallback } => match open_syslog() {
            Ok(l) => (Box::new(l), None),
            Err(e) => fallback_logger(&e.to_string(), &fallback),
        },
    };
    let _ = log::set_boxed_logger(logger);
    note
}

/// Set when the log itself goes to the log file (no syslog): the dump is there already.
static LOG_IS_THE_FILE: AtomicBool = AtomicBool::new(false);

/// Appends `lines` to the log file `path` as the log would write them, unless the log goes
/// there anyway. For SIGUSR1's dump: the original documented `kill -USR1 ... && tail
/// <logdir>/nfdhcpd.log`, so the table must be in that file too, not only in syslog.
pub fn append_to_log_file(path: &Path, lines: &[String]) -> std::io::Result<()> {
    if LOG_IS_THE_FILE.load(Ordering::Relaxed) {
        return Ok(());
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let stamp = utc_timestamp(secs);
    let text: String = lines
        .iter()
        .map(|l| format!("{stamp} INFO {l}\n"))
        .collect();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    // One write, so the dump is never interleaved with another writer's lines.
    f.write_all(text.as_bytes())
}

fn fallback_logger(why: &str, path: &std::path::Path) -> (Box<dyn Log>, Option<String>) {
    let opened = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path);
    LOG_IS_THE_FILE.store(opened.is_ok(), Ordering::Relaxed);
    match opened {
        Ok(f) => (
            Box::new(LineLogger {
                file: Some(Mutex::new(f)),
            }),
            Some(format!(
                "syslog unavailable ({why}); logging to {}",
                path.display()
            )),
        ),
        Err(e) => (
            Box::new(LineLogger { file: None }),
            Some(format!(
                "syslog unavailable ({why}) and {}: {e}; logging to stderr",
                path.display()
            )),
        ),
    }
}

fn open_syslog() -> Result<SyslogLogger, syslog::Error> {
    let formatter = Formatter3164 {
        facility: Facility::LOG_DAEMON,
        hostname: None,
        process: "nfdhcpd".into(),
        pid: std::process::id(),
    };
    Ok(SyslogLogger {
        inner: Mutex::new(syslog::unix(formatter)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(utc_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_timestamp(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc_timestamp(1_795_603_599), "2026-11-25T10:46:39Z");
    }
}
