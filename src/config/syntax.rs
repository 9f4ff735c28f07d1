//! INI structure: lines, sections, duplicates, unknown names, and the [`Checker`] that
//! collects every problem and warning while the sections are read.

use super::values::Parser;
use super::Problem;
use ini::{Ini, ParseOption};
use std::collections::BTreeMap;
use std::path::Path;

/// Collects problems and warnings while the sections are checked.
pub(super) struct Checker<'a> {
    pub(super) file: &'a Path,
    pub(super) problems: Vec<Problem>,
    pub(super) warnings: Vec<Problem>,
}

impl<'a> Checker<'a> {
    pub(super) fn new(file: &'a Path) -> Self {
        Checker {
            file,
            problems: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn make(&self, section: &str, key: &str, value: &str, reason: String) -> Problem {
        Problem {
            file: self.file.to_path_buf(),
            section: section.into(),
            key: key.into(),
            value: value.into(),
            reason,
        }
    }

    pub(super) fn problem(
        &mut self,
        section: &str,
        key: &str,
        value: &str,
        reason: impl Into<String>,
    ) {
        let p = self.make(section, key, value, reason.into());
        self.problems.push(p);
    }

    pub(super) fn warning(
        &mut self,
        section: &str,
        key: &str,
        value: &str,
        reason: impl Into<String>,
    ) {
        let p = self.make(section, key, value, reason.into());
        self.warnings.push(p);
    }

    /// The key's parsed value; `None` when it is not set or invalid (then a problem is
    /// recorded).
    pub(super) fn value<T>(&mut self, sec: &Section, key: &str, parse: Parser<T>) -> Option<T> {
        let raw = sec.get(key)?;
        match parse(raw) {
            Ok(v) => Some(v),
            Err(reason) => {
                self.problem(sec.name, key, raw, reason);
                None
            }
        }
    }

    /// As [`Checker::value`], but an unset key gives `default`; `None` means invalid.
    pub(super) fn value_or<T>(
        &mut self,
        sec: &Section,
        key: &str,
        parse: Parser<T>,
        default: T,
    ) -> Option<T> {
        match sec.get(key) {
            None => Some(default),
            Some(_) => self.value(sec, key, parse),
        }
    }

    /// As [`Checker::value`], but an unset key is a problem, explained by `why`.
    pub(super) fn required<T>(
        &mut self,
        sec: &Section,
        key: &str,
        parse: Parser<T>,
        why: &str,
    ) -> Option<T> {
        if sec.get(key).is_none() {
            self.problem(sec.name, key, "", format!("missing; {why}"));
        }
        self.value(sec, key, parse)
    }
}

// ---------------------------------------------------------------------------------------
// INI structure: lines, sections, duplicates, unknown names.

/// One known section's keys, each set once (duplicates were reported).
#[derive(Default)]
pub(super) struct Section {
    pub(super) name: &'static str,
    pub(super) values: BTreeMap<String, String>,
}

impl Section {
    /// The raw value; `None` when the key is absent or its value empty (empty means unset).
    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

pub(super) struct Sections {
    pub(super) general: Section,
    pub(super) dhcp: Section,
    pub(super) ipv6: Section,
}

/// The keys each known section takes: `[general]`, `[dhcp]`, `[ipv6]`.
pub(super) struct KnownKeys {
    pub(super) general: &'static [&'static str],
    pub(super) dhcp: &'static [&'static str],
    pub(super) ipv6: &'static [&'static str],
}

/// Tokenizes the file into the three known sections, reporting structural problems,
/// duplicates and unknown names. `None` when the file cannot be tokenized reliably.
pub(super) fn read_sections(ck: &mut Checker, text: &str, known: &KnownKeys) -> Option<Sections> {
    let clean = sanitize(ck, text)?;
    let opt = ParseOption {
        enabled_quote: true,
        // With escapes on, `\t` in a value would become a tab; configobj had no escapes.
        enabled_escape: false,
        ..ParseOption::default()
    };
    let ini = match Ini::load_from_str_opt(&clean, opt) {
        Ok(ini) => ini,
        Err(e) => {
            let reason = format!("line {}, column {}: {}", e.line, e.col, e.msg);
            ck.problem("", "", "", reason);
            return None;
        }
    };
    let mut raw: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for (name, props) in ini.iter() {
        let Some(name) = name else {
            for (key, value) in props.iter() {
                ck.warning("", key, value, "outside any section; ignored");
            }
            continue;
        };
        if raw.contains_key(name) {
            // rust-ini would merge them; configobj refused a repeated section.
            ck.problem(name, "", "", "section appears more than once; merge them");
        }
        raw.entry(name).or_default().extend(props.iter());
    }
    for name in raw
        .keys()
        .filter(|n| !["general", "dhcp", "ipv6"].contains(n))
    {
        let hint = hint_for(name, &["general", "dhcp", "ipv6"]);
        ck.warning(
            name,
            "",
            "",
            format!("unknown section; its keys are ignored{hint}"),
        );
    }
    let mut section = |name, known| {
        build_section(
            ck,
            name,
            known,
            raw.get(name).map_or(&[][..], Vec::as_slice),
        )
    };
    Some(Sections {
        general: section("general", known.general),
        dhcp: section("dhcp", known.dhcp),
        ipv6: section("ipv6", known.ipv6),
    })
}

/// Checks each line's structure, which rust-ini is too lenient about: a line without `=`
/// silently swallows the following lines into its key name, an indented comment becomes part
/// of the next key, an unclosed quote eats the rest of the file. Returns the text to tokenize:
/// leading whitespace removed (indentation has no meaning in this format) and bad `key =
/// value` lines blanked so the rest is still checked. `None` after a malformed section
/// header, since the keys below it cannot be placed.
fn sanitize(ck: &mut Checker, text: &str) -> Option<String> {
    let mut clean = String::with_capacity(text.len());
    let mut header_broken = false;
    for (index, line) in text.lines().enumerate() {
        let line = line.trim_start();
        let problem = if line.starts_with('[') {
            header_problem(line).inspect(|_| header_broken = true)
        } else if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            None
        } else {
            key_line_problem(line)
        };
        match problem {
            Some(reason) => ck.problem(
                "",
                "",
                "",
                format!("line {}: {reason}: {line:?}", index + 1),
            ),
            None if line.starts_with(['[', '#', ';']) || line.is_empty() => clean.push_str(line),
            None => {
                let (kept, glued) = cut_comment(line);
                if glued {
                    let reason = format!(
                        "line {}: '#' starts a comment even without a space before it, as \
                         in the original; the value is {:?}",
                        index + 1,
                        kept.split_once('=').map_or("", |(_, v)| v.trim())
                    );
                    ck.warning("", "", "", reason);
                }
                clean.push_str(kept);
            }
        }
        clean.push('\n');
    }
    (!header_broken).then_some(clean)
}

/// The line up to its first `#` outside quotes after the `=` (configobj ended an unquoted
/// value there, space or not; rust-ini only at a space), and whether that `#` was glued to
/// the value.
fn cut_comment(line: &str) -> (&str, bool) {
    let Some(eq) = line.find('=') else {
        return (line, false);
    };
    let mut quote = None;
    for (i, c) in line.char_indices().skip_while(|&(i, _)| i <= eq) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') => {
                let before = &line[..i];
                let glued = !before.ends_with(char::is_whitespace) && !before.ends_with('=');
                return (before.trim_end(), glued);
            }
            _ => {}
        }
    }
    (line, false)
}

fn header_problem(line: &str) -> Option<&'static str> {
    let Some(close) = line.find(']') else {
        return Some("section header without a closing ']'");
    };
    let name = line.get(1..close).unwrap_or("").trim();
    let rest = line.get(close + 1..).unwrap_or("").trim_start();
    if name.is_empty() {
        Some("empty section name")
    } else if !(rest.is_empty() || rest.starts_with('#') || rest.starts_with(';')) {
        Some("text after the section header (only a # comment may follow)")
    } else {
        None
    }
}

fn key_line_problem(line: &str) -> Option<&'static str> {
    let Some((key, value)) = line.split_once('=') else {
        return Some("not a `key = value` line, a [section] header or a # comment");
    };
    let key = key.trim();
    if key.is_empty() {
        return Some("no key before '='");
    }
    if key.contains(':') {
        // rust-ini also splits at ':', so "a:b = c" would set a key "a".
        return Some("':' in a key name");
    }
    if line.ends_with('\\') {
        // rust-ini would join the next line to this one; configobj did not.
        return Some("a line may not end with '\\'");
    }
    let mut rest = value.trim_start();
    // rust-ini takes quoted parts at the start of the value, one after another.
    while let Some((q, quoted)) = ['"', '\'']
        .iter()
        .find_map(|&q| Some((q, rest.strip_prefix(q)?)))
    {
        match quoted.split_once(q) {
            Some((_, after)) => rest = after,
            None => return Some("unclosed quote"),
        }
    }
    None
}

/// Builds one known section: reports keys given twice and warns about unknown keys.
fn build_section(
    ck: &mut Checker,
    name: &'static str,
    known: &[&str],
    entries: &[(&str, &str)],
) -> Section {
    // In file order, so problems come out in the order the operator reads the file.
    let mut seen: Vec<(&str, Vec<&str>)> = Vec::new();
    for &(key, value) in entries {
        match seen.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => values.push(value),
            None => seen.push((key, vec![value])),
        }
    }
    let mut section = Section {
        name,
        values: BTreeMap::new(),
    };
    for (key, values) in seen {
        if values.len() > 1 {
            // rust-ini keeps every occurrence; configobj refused duplicates, and silently
            // picking one would hide which the operator meant.
            let list: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
            let reason = format!("set {} times ({}); keep one", values.len(), list.join(", "));
            ck.problem(name, key, "", reason);
        }
        if !known.contains(&key) {
            let reason = format!("unknown key; ignored{}", hint_for(key, known));
            ck.warning(name, key, values.last().copied().unwrap_or(""), reason);
        }
        if let Some(last) = values.last() {
            section.values.insert(key.to_string(), last.to_string());
        }
    }
    section
}

/// ", did you mean ..." when `name` differs from a known name only in case.
fn hint_for(name: &str, known: &[&str]) -> String {
    match known.iter().find(|k| k.eq_ignore_ascii_case(name)) {
        Some(k) => format!(" (names are case-sensitive: did you mean {k}?)"),
        None => String::new(),
    }
}
