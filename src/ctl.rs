//! `nfdhcpd ctl`: the client of the control socket (see `control`).
//!
//! ```text
//! nfdhcpd ctl [-c CONFIG] [--socket PATH] [--json] COMMAND [TAP]
//! ```
//!
//! The socket is `--socket`, else the config file's `[general] control_socket`. The answer
//! is copied to stdout as it comes (`trace` streams until interrupted). Exit status: 0, 1
//! when the daemon cannot be reached or answered `error: ...`, 2 for a bad command line.

use crate::cli::CliError;
use crate::config;
use crate::control::{Command, Request, COMMANDS};
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

/// What `nfdhcpd ctl` was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtlArgs {
    pub config: PathBuf,
    pub socket: Option<PathBuf>,
    pub request: Request,
}

pub const USAGE: &str = "usage: nfdhcpd ctl [-c CONFIG] [--socket PATH] [--json] COMMAND [TAP]\n";

/// The arguments after `ctl`.
pub fn parse(argv: impl IntoIterator<Item = String>) -> Result<CtlArgs, CliError> {
    let mut config = PathBuf::from(config::DEFAULT_CONFIG_PATH);
    let mut socket = None;
    let mut json = false;
    let mut words: Vec<String> = Vec::new();
    let mut it = argv.into_iter();
    let value = |it: &mut dyn Iterator<Item = String>, name: &str| {
        it.next()
            .ok_or_else(|| CliError::new(format!("argument {name}: expected one argument")))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-c" | "--config" => config = value(&mut it, "-c/--config")?.into(),
            "--socket" => socket = Some(value(&mut it, "--socket")?.into()),
            "--json" => json = true,
            a if a.starts_with("--config=") => config = a["--config=".len()..].into(),
            a if a.starts_with("--socket=") => socket = Some(a["--socket=".len()..].into()),
            a if a.starts_with('-') => {
                return Err(CliError::new(format!("ctl: unrecognized arguments: {a}")))
            }
            _ => words.push(arg),
        }
    }
    if words.is_empty() {
        return Err(CliError::new(format!(
            "ctl: a command is needed: {COMMANDS}"
        )));
    }
    let mut request =
        Request::parse(&words.join(" ")).map_err(|e| CliError::new(format!("ctl: {e}")))?;
    request.json = json;
    Ok(CtlArgs {
        config,
        socket,
        request,
    })
}

/// Sends the request and copies the answer to stdout; the exit status.
pub fn run(args: &CtlArgs) -> u8 {
    let path = match &args.socket {
        Some(p) => p.clone(),
        None => match config::load(&args.config) {
            Ok(l) => match l.config.fixed.general.control_socket {
                Some(p) => p,
                None => {
                    eprintln!(
                        "nfdhcpd ctl: {}: [general] control_socket is empty: the control socket is off",
                        args.config.display()
                    );
                    return 1;
                }
            },
            Err(e) => {
                eprintln!("nfdhcpd ctl: {e}");
                return 1;
            }
        },
    };
    let mut stream = match UnixStream::connect(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "nfdhcpd ctl: cannot connect to {}: {e} (is nfdhcpd running, and are you root or its user?)",
                path.display()
            );
            return 1;
        }
    };
    if let Err(e) = stream.write_all(args.request.line().as_bytes()) {
        eprintln!("nfdhcpd ctl: cannot send the request: {e}");
        return 1;
    }
    copy_answer(stream, matches!(args.request.command, Command::Trace(_)))
}

/// Copies line by line (a trace is flushed as it comes); `error: ` from the daemon is
/// printed on stderr and exits 1.
fn copy_answer(stream: UnixStream, streaming: bool) -> u8 {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut status = 0;
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else {
            break;
        };
        if let Some(e) = line.strip_prefix("error: ") {
            eprintln!("nfdhcpd ctl: {e}");
            status = 1;
            continue;
        }
        if writeln!(out, "{line}").is_err() {
            break;
        }
        if streaming {
            let _ = out.flush();
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Result<CtlArgs, String> {
        parse(line.split_whitespace().map(String::from)).map_err(|e| e.to_string())
    }

    #[test]
    fn command_lines() {
        let a = p("show tap0").unwrap();
        assert_eq!(a.request.command, Command::Show("tap0".into()));
        assert_eq!((a.socket, a.request.json), (None, false));
        assert_eq!(a.config, PathBuf::from(config::DEFAULT_CONFIG_PATH));
        let a = p("--json -c /x.conf --socket /run/x status").unwrap();
        assert_eq!(a.request.command, Command::Status);
        assert_eq!(
            (a.socket, a.request.json, a.config),
            (Some("/run/x".into()), true, "/x.conf".into())
        );
        let a = p("--socket=/s bindings --json").unwrap();
        assert!(a.request.json && a.socket == Some("/s".into()));
        for bad in ["", "show", "-x status", "--socket", "frobnicate"] {
            assert!(p(bad).is_err(), "{bad:?}");
        }
    }
}
