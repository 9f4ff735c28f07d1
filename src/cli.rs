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
    /// `--print-rules FORMAT [--bridged]`: print the firewall rules for the configuration.
    PrintRules(PrintRules),
}

/// `--print-rules`: which configuration, which format, and the bridged IPv6 opt-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintRules {
    pub config: PathBuf,
    pub format: crate::rules::Format,
    pub bridged: bool,
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
    PrintRules,
    Bridged,
}

impl Opt {
    fn takes_value(self) -> bool {
        matches!(self, Opt::Config | Opt::PrintRules)
    }
}

/// The letter of a long-only option: argv strings cannot hold a NUL, so it never matches.
const NO_SHORT: char = '\0';

const OPTIONS: &[(char, &str, Opt)] = &[
    ('c', "config", Opt::Config),
    ('d', "debug", Opt::Debug),
    ('f', "foreground", Opt::Foreground),
    ('t', "check-config", Opt::Check),
    ('v', "version", Opt::Version),
    ('h', "help", Opt::Help),
    (NO_SHORT, "print-rules", Opt::PrintRules),
    (NO_SHORT, "bridged", Opt::Bridged),
];

/// Reads the arguments after the program name.
pub fn parse(argv: impl IntoIterator<Item = String>) -> Result<Action, CliError> {
    let mut args = Args {
        config: PathBuf::from(crate::config::DEFAULT_CONFIG_PATH),
        debug: false,
        foreground: false,
        check: false,
    };
    let (mut print_rules, mut bridged) = (None, false);
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
                (Opt::PrintRules, None) => Some(it.next().ok_or_else(|| {
                    CliError("argument --print-rules: expected one argument".into())
                })?),
                (_, v) => v,
            };
            match opt {
                Opt::Config => args.config = value.map(PathBuf::from).unwrap_or_default(),
                Opt::Debug => args.debug = true,
                Opt::Foreground => args.foreground = true,
                Opt::Check => args.check = true,
                Opt::PrintRules => {
                    print_rules = Some(print_rules_format(value.as_deref().unwrap_or_default())?)
                }
                Opt::Bridged => bridged = true,
                // argparse acted on these at once, whatever followed.
                Opt::Version => return Ok(Action::Version),
                Opt::Help => return Ok(Action::Help),
            }
        }
    }
    match print_rules {
        Some(format) => Ok(Action::PrintRules(PrintRules {
            config: args.config,
            format,
            bridged,
        })),
        None if bridged => Err(CliError(
            "argument --bridged: only with --print-rules".into(),
        )),
        None => Ok(Action::Run(args)),
    }
}

/// `--print-rules`' value, one of [`crate::rules::Format::NAMES`] (argparse's `choices`).
fn print_rules_format(value: &str) -> Result<crate::rules::Format, CliError> {
    crate::rules::Format::from_name(value).ok_or_else(|| {
        let names: Vec<String> = crate::rules::Format::NAMES
            .iter()
            .map(|n| format!("'{n}'"))
            .collect();
        CliError(format!(
            "argument --print-rules: invalid choice: '{value}' (choose from {})",
            names.join(", ")
        ))
    })
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
    if value.is_some() && !opt.takes_value() {
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

    #[test]
    fn print_rules_takes_a_format_and_the_config() {
        use crate::rules::Format;
        let p = |l: &str| parse(l.split_whitespace().map(String::from));
        let want = |config: &str, format, bridged| {
            Ok(Action::PrintRules(PrintRules {
                config: config.into(),
                format,
                bridged,
            }))
        };
        let default = "/etc/nfdhcpd/nfdhcpd.conf";
        assert_eq!(p("--print-rules nft"), want(default, Format::Nft, false));
        assert_eq!(p("--print-rules=ferm"), want(default, Format::Ferm, false));
        assert_eq!(
            p("--print iptables --bridged -c /x.conf"),
            want("/x.conf", Format::Iptables, true)
        );
        assert_eq!(
            p("-c/x.conf --bri --print-rules nft-limits"),
            want("/x.conf", Format::NftLimits, true)
        );
        // The last one wins, as for every option; -d/-f change nothing.
        assert_eq!(
            p("-df --print-rules ferm --print-rules nft"),
            want(default, Format::Nft, false)
        );
        assert_eq!(p("--print-rules nft -h"), Ok(Action::Help));
        for (line, msg) in [
            (
                "--print-rules",
                "argument --print-rules: expected one argument",
            ),
            (
                "--print-rules ip6tables",
                "argument --print-rules: invalid choice: 'ip6tables' (choose from 'iptables', \
                 'ferm', 'nft', 'nft-limits')",
            ),
            (
                "--print-rules= -h",
                "argument --print-rules: invalid choice: '' (choose from \
                 'iptables', 'ferm', 'nft', 'nft-limits')",
            ),
            ("--bridged", "argument --bridged: only with --print-rules"),
            (
                "--bridged=yes --print-rules nft",
                "argument --bridged: ignored explicit argument",
            ),
        ] {
            assert_eq!(p(line).unwrap_err().to_string(), msg, "{line}");
        }
    }
}
