//! The command line, read as the original's argparse read it, so every `DAEMON_OPTS` that
//! started the original starts this daemon: clustered short options (`-df`), a short
//! option's value attached (`-c/etc/x.conf`, `-c=/etc/x.conf`) or next, long options by any
//! unambiguous prefix (`--conf`, `--fore`), `--opt=value`, the last of a repeated option
//! winning. What argparse refused exits 2, as it did.

use std::path::PathBuf;

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Run(Args),
    Version,
    Help,
    /// `nfdhcpd ctl ...`: a client of the running daemon's control socket.
    Ctl(crate::ctl::CtlArgs),
}

/// The daemon's options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    pub config: PathBuf,
    pub debug: bool,
    pub foreground: bool,
    pub check: bool,
}

/// A command line argparse would have refused; `Display` is the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CliError(String);

impl CliError {
    /// argparse's exit status for a usage error.
    pub const EXIT_CODE: u8 = 2;

    pub fn new(message: String) -> CliError {
        CliError(message)
    }
}

/// The options: short letter, long name, whether it takes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    Config,
    Debug,
    Foreground,
    Check,
    Version,
    Help,
}

const OPTIONS: &[(char, &str, Opt)] = &[
    ('c', "config", Opt::Config),
    ('d', "debug", Opt::Debug),
    ('f', "foreground", Opt::Foreground),
    ('t', "check-config", Opt::Check),
    ('v', "version", Opt::Version),
    ('h', "help", Opt::Help),
];

/// Reads the arguments after the program name.
pub fn parse(argv: impl IntoIterator<Item = String>) -> Result<Action, CliError> {
    let mut args = Args {
        config: PathBuf::from(crate::config::DEFAULT_CONFIG_PATH),
        debug: false,
        foreground: false,
        check: false,
    };
    let mut it = argv.into_iter().peekable();
    // A subcommand the original never had: no option of its could be spelled `ctl`.
    if it.peek().is_some_and(|a| a == "ctl") {
        it.next();
        return crate::ctl::parse(it).map(Action::Ctl);
    }
    while let Some(arg) = it.next() {
        let found = if let Some(long) = arg.strip_prefix("--") {
            long_option(long)?
        } else if let Some(short) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            short_options(short)?
        } else {
            return Err(CliError(format!("unrecognized arguments: {arg}")));
        };
        for (opt, value) in found {
            let value = match (opt, value) {
                (Opt::Config, None) => Some(it.next().ok_or_else(|| {
                    CliError("argument -c/--config: expected one argument".into())
                })?),
                (_, v) => v,
            };
            match opt {
                Opt::Config => args.config = value.map(PathBuf::from).unwrap_or_default(),
                Opt::Debug => args.debug = true,
                Opt::Foreground => args.foreground = true,
                Opt::Check => args.check = true,
                // argparse acted on these at once, whatever followed.
                Opt::Version => return Ok(Action::Version),
                Opt::Help => return Ok(Action::Help),
            }
        }
    }
    Ok(Action::Run(args))
}

/// `--name`, `--name=value` or an unambiguous prefix of a name.
fn long_option(text: &str) -> Result<Vec<(Opt, Option<String>)>, CliError> {
    if text.is_empty() {
        return Err(CliError("unrecognized arguments: --".into()));
    }
    let (name, value) = match text.split_once('=') {
        Some((n, v)) => (n, Some(v.to_string())),
        None => (text, None),
    };
    let exact = OPTIONS.iter().find(|o| o.1 == name);
    let matches: Vec<_> = match exact {
        Some(o) => vec![o],
        None => OPTIONS.iter().filter(|o| o.1.starts_with(name)).collect(),
    };
    let &[&(_, long, opt)] = matches.as_slice() else {
        let names: Vec<String> = matches.iter().map(|o| format!("--{}", o.1)).collect();
        return Err(CliError(match names.is_empty() {
            true => format!("unrecognized arguments: --{text}"),
            false => format!(
                "ambiguous option: --{name} could match {}",
                names.join(", ")
            ),
        }));
    };
    if value.is_some() && opt != Opt::Config {
        return Err(CliError(format!(
            "argument --{long}: ignored explicit argument"
        )));
    }
    Ok(vec![(opt, value)])
}

/// `-x`, a cluster `-xyz`, or `-cVALUE` / `-c=VALUE` (a value ends the cluster).
fn short_options(cluster: &str) -> Result<Vec<(Opt, Option<String>)>, CliError> {
    let mut found = Vec::new();
    for (i, letter) in cluster.char_indices() {
        let Some(&(_, _, opt)) = OPTIONS.iter().find(|o| o.0 == letter) else {
            return Err(CliError(format!("unrecognized arguments: -{cluster}")));
        };
        if opt == Opt::Config {
            let rest = &cluster[i + letter.len_utf8()..];
            let rest = rest.strip_prefix('=').unwrap_or(rest);
            found.push((opt, (!rest.is_empty()).then(|| rest.to_string())));
            return Ok(found);
        }
        found.push((opt, None));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(line: &str) -> Result<Args, CliError> {
        match parse(line.split_whitespace().map(String::from))? {
            Action::Run(a) => Ok(a),
            other => panic!("{line}: {other:?}"),
        }
    }

    fn conf(line: &str) -> (String, bool, bool, bool) {
        let a = run(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        (
            a.config.display().to_string(),
            a.debug,
            a.foreground,
            a.check,
        )
    }

    #[test]
    fn defaults() {
        assert_eq!(
            conf(""),
            ("/etc/nfdhcpd/nfdhcpd.conf".into(), false, false, false)
        );
    }

    #[test]
    fn what_argparse_accepted_in_daemon_opts() {
        let c = |p: &str| (p.to_string(), true, true, false);
        assert_eq!(conf("-df -c /x.conf"), c("/x.conf"));
        assert_eq!(conf("-d -f -c/x.conf"), c("/x.conf"));
        assert_eq!(conf("-dfc /x.conf"), c("/x.conf"));
        assert_eq!(conf("-dfc/x.conf"), c("/x.conf"));
        assert_eq!(conf("-fd -c=/x.conf"), c("/x.conf"));
        assert_eq!(conf("--conf /x.conf --deb --fore"), c("/x.conf"));
        assert_eq!(conf("--config=/x.conf --debug --foreground"), c("/x.conf"));
        assert_eq!(conf("--co=/x.conf -d -f"), c("/x.conf"));
        assert_eq!(conf("-c /a.conf -df -c /x.conf"), c("/x.conf"));
        assert_eq!(
            conf("-t"),
            ("/etc/nfdhcpd/nfdhcpd.conf".into(), false, false, true)
        );
        assert_eq!(
            conf("--check"),
            ("/etc/nfdhcpd/nfdhcpd.conf".into(), false, false, true)
        );
    }

    #[test]
    fn version_and_help_act_at_once() {
        let p = |l: &str| parse(l.split_whitespace().map(String::from)).unwrap();
        assert_eq!(p("-v"), Action::Version);
        assert_eq!(p("-dv --bogus"), Action::Version);
        assert_eq!(p("--vers"), Action::Version);
        assert_eq!(p("-h"), Action::Help);
        assert_eq!(p("--he"), Action::Help);
    }

    #[test]
    fn what_argparse_refused() {
        for (line, msg) in [
            ("-x", "unrecognized arguments: -x"),
            ("-dx", "unrecognized arguments: -dx"),
            ("--bogus", "unrecognized arguments: --bogus"),
            (
                "--c /x",
                "ambiguous option: --c could match --config, --check-config",
            ),
            ("-c", "argument -c/--config: expected one argument"),
            ("--config", "argument -c/--config: expected one argument"),
            ("--debug=yes", "argument --debug: ignored explicit argument"),
            ("extra", "unrecognized arguments: extra"),
            ("-", "unrecognized arguments: -"),
            ("--", "unrecognized arguments: --"),
        ] {
            assert_eq!(run(line).unwrap_err().to_string(), msg, "{line}");
        }
        assert_eq!(CliError::EXIT_CODE, 2);
    }
}
