//! Domain names in the uncompressed wire format of RFC 1035 §3.1: a sequence of labels,
//! each a length byte (1..=63) and that many bytes, ended by the zero-length root label.
//!
//! Two options carry lists of them: NDP's DNS Search List (RFC 8106 §5.2) and DHCPv6's
//! Domain Search List (option 24, RFC 3646 §4 via RFC 8415 §10). Neither allows message
//! compression, so pointers are refused. Encoding checks the name first and writes nothing
//! unless all of it fits; decoding walks a list without allocating.

use std::fmt;

use super::WireError;

/// Longest label (RFC 1035 §2.3.4): the length byte has two bits reserved for pointers.
pub const MAX_LABEL_LEN: usize = 63;
/// Longest encoded name, length bytes and the root label included (RFC 1035 §3.1).
pub const MAX_NAME_LEN: usize = 255;

/// Longest name in dotted text, without the trailing dot: with a length byte per label and
/// the root label it encodes to `MAX_NAME_LEN` (RFC 1035 §2.3.4).
pub const MAX_TEXT_LEN: usize = MAX_NAME_LEN - 2;

/// The dotted-text labels of `name`, one trailing dot (a fully qualified name) allowed.
fn labels(name: &str) -> impl Iterator<Item = &[u8]> {
    let name = name.strip_suffix('.').unwrap_or(name);
    name.as_bytes().split(|&b| b == b'.')
}

/// A label byte we agree to send: visible ASCII. Spaces, control characters and non-ASCII
/// would reach the guest's resolver configuration verbatim; internationalized names travel
/// as their punycode (RFC 5891) anyway.
fn is_label_byte(b: u8) -> bool {
    b.is_ascii_graphic() && b != b'.'
}

/// Why a name in dotted text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// "" or ".".
    Empty,
    /// Two dots in a row, or a leading dot.
    EmptyLabel,
    /// A byte the rules do not allow in a label.
    BadChar,
    /// A label over 63 bytes.
    LabelTooLong,
    /// A host name label starting or ending with '-'.
    EdgeHyphen,
    /// Over 253 bytes without the trailing dot (255 encoded).
    TooLong,
}

impl NameError {
    /// The reason, for configuration and binding file errors.
    pub fn as_str(self) -> &'static str {
        match self {
            NameError::Empty => "empty name",
            NameError::EmptyLabel => "empty label (two dots in a row, or a leading dot)",
            NameError::BadChar => "only letters, digits, '-' and '.' are allowed",
            NameError::LabelTooLong => "a label is longer than 63 characters",
            NameError::EdgeHyphen => "a label starts or ends with '-'",
            NameError::TooLong => "longer than 253 characters",
        }
    }

    /// The packet-path error: a length limit is `ValueTooLong`, bad syntax `BadOption`.
    pub fn wire_error(self) -> WireError {
        match self {
            NameError::LabelTooLong | NameError::TooLong => WireError::ValueTooLong,
            _ => WireError::BadOption,
        }
    }
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The two alphabets of the one set of name rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Alphabet {
    /// RFC 1123 §2.1 host names: letters, digits, '-' not at a label's edge.
    Hostname,
    /// Visible ASCII (`is_label_byte`): what the encoder accepts, so search domains like
    /// `_sip.example` still go out; a superset of `Hostname`, so whatever the
    /// configuration or a binding file accepted encodes.
    Visible,
}

/// The rules, in one place: a name of one or more labels of 1..=63 allowed bytes, at most
/// 253 bytes without its one optional trailing dot; returns it without that dot. Labels
/// are checked in order, syntax before length, then the whole length.
fn check(name: &str, alphabet: Alphabet) -> Result<&str, NameError> {
    let text = name.strip_suffix('.').unwrap_or(name);
    if text.is_empty() {
        return Err(NameError::Empty);
    }
    for label in labels(name) {
        if label.is_empty() {
            return Err(NameError::EmptyLabel);
        }
        let byte_ok = |b: u8| match alphabet {
            Alphabet::Hostname => b.is_ascii_alphanumeric() || b == b'-',
            Alphabet::Visible => is_label_byte(b),
        };
        if !label.iter().all(|&b| byte_ok(b)) {
            return Err(NameError::BadChar);
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(NameError::LabelTooLong);
        }
        let edge_hyphen = label.first() == Some(&b'-') || label.last() == Some(&b'-');
        if alphabet == Alphabet::Hostname && edge_hyphen {
            return Err(NameError::EdgeHyphen);
        }
    }
    if text.len() > MAX_TEXT_LEN {
        return Err(NameError::TooLong);
    }
    Ok(text)
}

/// Checks a DNS host or domain name (RFC 1123 letters, digits and hyphens; labels of 1-63
/// characters, not starting or ending with '-'; at most 253 characters) and returns it
/// without its trailing dot. Such a name is safe in DHCP options and in logs.
pub fn check_name(name: &str) -> Result<&str, NameError> {
    check(name, Alphabet::Hostname)
}

/// The length of `name` in wire format: one length byte per label, the label, and the
/// closing zero byte ("example.org" is 13).
///
/// The rules are `check_name`'s with any visible ASCII allowed in labels. Errors:
/// `BadOption` for an empty name or an empty label ("", ".", "a..b", ".a") or a byte that
/// is not visible ASCII; `ValueTooLong` for a label over 63 bytes or an encoding over 255
/// bytes. The root name is refused: as a search domain it means nothing, and an empty
/// string is far more likely a configuration slip.
pub fn encoded_len(name: &str) -> Result<usize, WireError> {
    let text = check(name, Alphabet::Visible).map_err(NameError::wire_error)?;
    // A length byte per label replaces each dot, plus the first one and the root label.
    Ok(text.len() + 2)
}

/// Writes `name` in wire format at the start of `out`; returns the bytes written
/// (`encoded_len(name)`). Errors: those of `encoded_len`, then `BufferTooSmall`; `out` is
/// untouched on error.
pub fn encode_name(name: &str, out: &mut [u8]) -> Result<usize, WireError> {
    let len = encoded_len(name)?;
    let mut rest = out.get_mut(..len).ok_or(WireError::BufferTooSmall)?;
    for label in labels(name) {
        let (len_byte, after) = std::mem::take(&mut rest)
            .split_first_mut()
            .ok_or(WireError::BufferTooSmall)?;
        // encoded_len checked that every label is at most 63 bytes.
        *len_byte = u8::try_from(label.len()).map_err(|_| WireError::ValueTooLong)?;
        let (dst, after) = after
            .split_at_mut_checked(label.len())
            .ok_or(WireError::BufferTooSmall)?;
        // Both are `label.len()` long.
        for (d, s) in dst.iter_mut().zip(label) {
            *d = *s;
        }
        rest = after;
    }
    // Exactly the root label's byte is left.
    let root = rest.first_mut().ok_or(WireError::BufferTooSmall)?;
    *root = 0;
    Ok(len)
}

/// The length of `names` in wire format, packed back to back (the sum of their
/// `encoded_len`). Errors: those of `encoded_len`, for the first name it refuses.
pub(crate) fn encoded_list_len(names: &[String]) -> Result<usize, WireError> {
    names.iter().try_fold(0usize, |acc, name| {
        acc.checked_add(encoded_len(name)?)
            .ok_or(WireError::ValueTooLong)
    })
}

/// Writes `names` in wire format back to back at the start of `out`, which the caller
/// sized with `encoded_list_len`. Errors: those of `encode_name`; the names before the
/// one refused stay written.
pub(crate) fn encode_list(names: &[String], mut out: &mut [u8]) -> Result<(), WireError> {
    for name in names {
        let n = encode_name(name, out)?;
        out = out.get_mut(n..).unwrap_or_default();
    }
    Ok(())
}

/// Longest domain search list we send in DHCPv4 option 119: two full options (RFC 3396
/// splits a longer value; a list this long is almost surely a mistake, and every byte of it
/// is taken from a reply that must fit one Ethernet frame).
pub const MAX_SEARCH_LIST_LEN: usize = 2 * 255;

/// Encodes `names` for DHCPv4 option 119 (RFC 3397 §2): names back to back, each suffix
/// already written replaced by a compression pointer (RFC 1035 §4.1.4), offsets counted
/// from the start of the (concatenated) option data. Labels compare case-insensitively, as
/// DNS names do. For the configuration and binding files: allocates.
///
/// Errors: `encoded_len`'s for a name, `ValueTooLong` when the whole list encodes to more
/// than `MAX_SEARCH_LIST_LEN` bytes.
pub fn encode_search_list(names: &[String]) -> Result<Vec<u8>, WireError> {
    let mut out: Vec<u8> = Vec::new();
    // (offset, the suffix's labels in dotted text): what a pointer can point to.
    let mut suffixes: Vec<(usize, String)> = Vec::new();
    for name in names {
        let text = check(name, Alphabet::Visible).map_err(NameError::wire_error)?;
        let mut rest = text;
        loop {
            if let Some((at, _)) = suffixes.iter().find(|(_, s)| s.eq_ignore_ascii_case(rest)) {
                // Pointers hold 14 bits; the list is far shorter.
                let at = u16::try_from(*at).map_err(|_| WireError::ValueTooLong)?;
                out.extend_from_slice(&(0xc000 | at).to_be_bytes());
                break;
            }
            suffixes.push((out.len(), rest.to_string()));
            let (label, after) = rest.split_once('.').unwrap_or((rest, ""));
            out.push(u8::try_from(label.len()).map_err(|_| WireError::ValueTooLong)?);
            out.extend_from_slice(label.as_bytes());
            if after.is_empty() {
                out.push(0);
                break;
            }
            rest = after;
        }
    }
    if out.len() > MAX_SEARCH_LIST_LEN {
        return Err(WireError::ValueTooLong);
    }
    Ok(out)
}

/// A domain search list checked and encoded once, for option 119: the names as given and
/// their compressed encoding, which replies copy as it is.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SearchList {
    names: Vec<String>,
    wire: Vec<u8>,
}

impl SearchList {
    /// The list of `names`, which `encode_search_list` must accept; the reason as text
    /// otherwise, for configuration and binding file errors.
    pub fn new(names: Vec<String>) -> Result<SearchList, String> {
        match encode_search_list(&names) {
            Ok(wire) => Ok(SearchList { names, wire }),
            Err(WireError::ValueTooLong) => Err(format!(
                "too long: encodes to more than {MAX_SEARCH_LIST_LEN} bytes (two DHCP options)"
            )),
            Err(_) => Err("not a list of DNS names".into()),
        }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The option 119 data.
    pub fn wire(&self) -> &[u8] {
        &self.wire
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

impl fmt::Debug for SearchList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.names, f)
    }
}

/// One name in wire format, checked: labels of 1..=63 bytes, the closing zero byte
/// included, at most 255 bytes in all. Displays as dotted text without the final dot,
/// bytes outside visible ASCII (and dots inside labels) as `\DDD` (RFC 4343 §2.1).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct WireName<'a> {
    bytes: &'a [u8],
}

impl<'a> WireName<'a> {
    /// The whole encoding, closing zero byte included.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The labels, without their length bytes.
    pub fn labels(&self) -> impl Iterator<Item = &'a [u8]> {
        let mut rest = self.bytes;
        std::iter::from_fn(move || {
            let (&len, after) = rest.split_first()?;
            let (label, after) = after.split_at_checked(usize::from(len))?;
            rest = after;
            (!label.is_empty()).then_some(label)
        })
    }
}

impl fmt::Display for WireName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, label) in self.labels().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            for &b in label {
                if is_label_byte(b) && b != b'\\' {
                    write!(f, "{}", char::from(b))?;
                } else {
                    write!(f, "\\{b:03}")?;
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for WireName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WireName({self})")
    }
}

/// Iterates a list of uncompressed names packed back to back, as in DNSSL and DHCPv6
/// option 24. A zero byte where a name would start ends the list if only zeros follow
/// (DNSSL's padding, RFC 8106 §5.2); any other byte after it is `BadOption`. So the root
/// name cannot appear in a list, matching `encoded_len`.
///
/// Yields `Err(BadOption)` once, then `None`, for a compression pointer or reserved label
/// type (length byte >= 64), a label running past the end, a name over 255 bytes, or
/// non-zero bytes in the padding.
#[derive(Debug, Clone)]
pub struct NameIter<'a> {
    rest: &'a [u8],
}

impl<'a> NameIter<'a> {
    pub fn new(list: &'a [u8]) -> Self {
        NameIter { rest: list }
    }

    fn fail(&mut self) -> Option<Result<WireName<'a>, WireError>> {
        self.rest = &[];
        Some(Err(WireError::BadOption))
    }
}

impl<'a> Iterator for NameIter<'a> {
    type Item = Result<WireName<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.rest.first() {
            None => return None,
            Some(0) => {
                let padding_ok = self.rest.iter().all(|&b| b == 0);
                self.rest = &[];
                return (!padding_ok).then_some(Err(WireError::BadOption));
            }
            Some(_) => {}
        }
        // Walk the labels up to and including the root label.
        let mut at = 0usize;
        loop {
            let Some(&len) = self.rest.get(at) else {
                return self.fail();
            };
            let len = usize::from(len);
            if len > MAX_LABEL_LEN {
                return self.fail();
            }
            // at <= 255 and len <= 63 here, so no overflow.
            at = match at.checked_add(1 + len) {
                Some(next) if next <= MAX_NAME_LEN => next,
                _ => return self.fail(),
            };
            if len == 0 {
                break;
            }
        }
        let Some((bytes, rest)) = self.rest.split_at_checked(at) else {
            return self.fail();
        };
        self.rest = rest;
        Some(Ok(WireName { bytes }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "example.org" then "vm.example.org", encoded by hand from RFC 1035 §3.1.
    static LIST_BYTES: [u8; 29] = [
        7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'o', b'r', b'g', 0, // example.org
        2, b'v', b'm', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'o', b'r', b'g',
        0, // vm.example.org
    ];

    fn names_of(list: &[u8]) -> Vec<Result<String, WireError>> {
        NameIter::new(list)
            .map(|n| n.map(|n| n.to_string()))
            .collect()
    }

    #[test]
    fn construct() {
        let mut buf = [0xa5u8; 40];
        let a = encode_name("example.org", &mut buf).unwrap();
        assert_eq!(a, 13);
        let b = encode_name("vm.example.org.", &mut buf[a..]).unwrap();
        assert_eq!(b, 16);
        assert_eq!(&buf[..a + b], &LIST_BYTES);
        assert!(buf[a + b..].iter().all(|&x| x == 0xa5));
    }

    #[test]
    fn deconstruct() {
        let names: Vec<_> = NameIter::new(&LIST_BYTES).map(|n| n.unwrap()).collect();
        assert_eq!(names.len(), 2);
        assert_eq!(names[0].as_bytes(), &LIST_BYTES[..13]);
        assert_eq!(
            names[0].labels().collect::<Vec<_>>(),
            [&b"example"[..], b"org"]
        );
        assert_eq!(names[1].to_string(), "vm.example.org");
        assert_eq!(format!("{:?}", names[0]), "WireName(example.org)");
    }

    #[test]
    fn check_name_reasons() {
        assert_eq!(check_name("vm-1.Example.COM."), Ok("vm-1.Example.COM"));
        assert_eq!(check_name(""), Err(NameError::Empty));
        assert_eq!(check_name("a..b"), Err(NameError::EmptyLabel));
        assert_eq!(check_name("a_b"), Err(NameError::BadChar));
        assert_eq!(check_name("-a"), Err(NameError::EdgeHyphen));
        assert_eq!(check_name(&"a".repeat(64)), Err(NameError::LabelTooLong));
        let l63 = "a".repeat(63);
        let over = format!("{l63}.{l63}.{l63}.{}", "b".repeat(62));
        assert_eq!(check_name(&over), Err(NameError::TooLong));
        // What the host name rules accept, the encoder accepts: it is only more lenient.
        for ok in [
            "a",
            "vm-1.example.org.",
            &format!("{l63}.{l63}.{l63}.{}", "b".repeat(61)),
        ] {
            assert_eq!(encoded_len(ok), Ok(check_name(ok).unwrap().len() + 2));
        }
        assert_eq!(encoded_len("a_b"), Ok(5));
    }

    #[test]
    fn encoded_len_values() {
        assert_eq!(encoded_len("a"), Ok(3));
        assert_eq!(encoded_len("a."), Ok(3));
        assert_eq!(encoded_len("example.org"), Ok(13));
        assert_eq!(encoded_len("Example.ORG."), Ok(13));
        assert_eq!(encoded_len("x-1_2.example"), Ok(15));
    }

    #[test]
    fn encoded_len_bad_syntax() {
        for bad in [
            "",
            ".",
            "..",
            "a..b",
            ".a",
            "a b.org",
            "tab\t.org",
            "caf\u{e9}.org",
            "nl\n.org",
        ] {
            assert_eq!(encoded_len(bad), Err(WireError::BadOption), "{bad:?}");
            let mut buf = [0xa5u8; 64];
            assert_eq!(encode_name(bad, &mut buf), Err(WireError::BadOption));
            assert!(buf.iter().all(|&x| x == 0xa5));
        }
    }

    #[test]
    fn label_length_limits() {
        let l63 = "a".repeat(63);
        assert_eq!(encoded_len(&l63), Ok(65));
        let l64 = "a".repeat(64);
        assert_eq!(encoded_len(&l64), Err(WireError::ValueTooLong));
        assert_eq!(
            encoded_len(&format!("{l64}.org")),
            Err(WireError::ValueTooLong)
        );
    }

    #[test]
    fn name_length_limits() {
        // Four labels of 63 = 4 * 64 + 1 = 257: too long. Three of 63 and one of 61:
        // 3 * 64 + 62 + 1 = 255, the maximum.
        let l63 = "a".repeat(63);
        let too_long = format!("{l63}.{l63}.{l63}.{l63}");
        assert_eq!(encoded_len(&too_long), Err(WireError::ValueTooLong));
        let max = format!("{l63}.{l63}.{l63}.{}", "b".repeat(61));
        assert_eq!(encoded_len(&max), Ok(255));
        assert_eq!(encoded_len(&format!("{max}.")), Ok(255));
        let over = format!("{l63}.{l63}.{l63}.{}", "b".repeat(62));
        assert_eq!(encoded_len(&over), Err(WireError::ValueTooLong));
        let mut buf = [0u8; 255];
        assert_eq!(encode_name(&max, &mut buf), Ok(255));
        let names = names_of(&buf);
        assert_eq!(names, [Ok(max)]);
    }

    #[test]
    fn emit_buffer_too_small() {
        let mut buf = [0xa5u8; 12];
        assert_eq!(
            encode_name("example.org", &mut buf),
            Err(WireError::BufferTooSmall)
        );
        assert!(buf.iter().all(|&x| x == 0xa5));
        let mut buf = [0xa5u8; 13];
        assert_eq!(encode_name("example.org", &mut buf), Ok(13));
    }

    #[test]
    fn parse_padding() {
        let mut padded = LIST_BYTES.to_vec();
        padded.extend_from_slice(&[0, 0, 0]);
        assert_eq!(
            names_of(&padded),
            [Ok("example.org".into()), Ok("vm.example.org".into())]
        );
        assert_eq!(names_of(&[0; 8]), []);
        assert_eq!(names_of(&[]), []);
        // Something after the padding.
        padded.push(1);
        let names = names_of(&padded);
        assert_eq!(names.len(), 3);
        assert_eq!(names[2], Err(WireError::BadOption));
    }

    #[test]
    fn parse_pointer_refused() {
        // "vm" then a pointer to offset 0.
        assert_eq!(
            names_of(&[2, b'v', b'm', 0xc0, 0x00]),
            [Err(WireError::BadOption)]
        );
        assert_eq!(names_of(&[64]), [Err(WireError::BadOption)]);
    }

    #[test]
    fn parse_too_long_name() {
        // Five labels of 63 bytes with no end.
        let mut list = Vec::new();
        for _ in 0..5 {
            list.push(63);
            list.extend_from_slice(&[b'a'; 63]);
        }
        list.push(0);
        assert_eq!(names_of(&list), [Err(WireError::BadOption)]);
    }

    #[test]
    fn display_escapes() {
        let list = [3, b'a', b'.', 0xff, 2, b'\\', b' ', 0];
        let names: Vec<_> = NameIter::new(&list).map(|n| n.unwrap()).collect();
        assert_eq!(names[0].to_string(), "a\\046\\255.\\092\\032");
    }

    #[test]
    fn short_packet() {
        for len in 0..LIST_BYTES.len() {
            let names = names_of(&LIST_BYTES[..len]);
            match len {
                0 => assert_eq!(names, []),
                1..=12 => assert_eq!(names, [Err(WireError::BadOption)], "len {len}"),
                13 => assert_eq!(names, [Ok("example.org".into())]),
                _ => {
                    assert_eq!(names.len(), 2, "len {len}");
                    assert_eq!(names[1], Err(WireError::BadOption));
                }
            }
        }
    }

    use crate::wire::testing::random_buffers;

    /// Random bytes through the list decoder, and random strings through the encoder:
    /// errors are fine, panics are not, and whatever encodes decodes to the same text.
    #[test]
    fn robustness_random_buffers() {
        let alphabet = b"ab.-\\. \xc3";
        let mut round_trips = 0;
        let make = |rng: &mut crate::wire::testing::XorShift, _| {
            let len = (rng.next() % 300) as usize;
            (0..len)
                .map(|_| {
                    if rng.next().is_multiple_of(4) {
                        (rng.next() % 70) as u8
                    } else {
                        rng.next() as u8
                    }
                })
                .collect()
        };
        random_buffers(0x1234_5678_9abc_def1, 20000, make, |rng, bytes| {
            for n in NameIter::new(bytes).flatten() {
                assert!(n.as_bytes().len() <= MAX_NAME_LEN);
                let _ = n.to_string();
            }
            let text: Vec<u8> = (0..rng.next() % 80)
                .map(|_| alphabet[(rng.next() % alphabet.len() as u64) as usize])
                .collect();
            let text = String::from_utf8_lossy(&text);
            let mut out = [0u8; 300];
            if let Ok(n) = encode_name(&text, &mut out) {
                let back = names_of(&out[..n]);
                let expected = text.strip_suffix('.').unwrap_or(&text);
                assert_eq!(back, [Ok(expected.replace('\\', "\\092"))]);
                round_trips += 1;
            }
        });
        assert!(round_trips > 100, "only {round_trips} names encoded");
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn search_list_compression_rfc3397_example() {
        // RFC 3397 §2's example: eng.apple.com and marketing.apple.com.
        let got = encode_search_list(&names(&["eng.apple.com.", "marketing.apple.com."])).unwrap();
        #[rustfmt::skip]
        let want = [
            3, b'e', b'n', b'g', 5, b'a', b'p', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0,
            9, b'm', b'a', b'r', b'k', b'e', b't', b'i', b'n', b'g', 0xc0, 0x04,
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn search_list_whole_name_and_case_insensitive_pointers() {
        let got =
            encode_search_list(&names(&["a.example.org", "EXAMPLE.org", "b.example.net"])).unwrap();
        #[rustfmt::skip]
        let want = [
            1, b'a', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'o', b'r', b'g', 0,
            0xc0, 0x02,
            1, b'b', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'n', b'e', b't', 0,
        ];
        assert_eq!(got, want);
        assert_eq!(encode_search_list(&[]).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn search_list_refused() {
        assert_eq!(
            encode_search_list(&names(&["a..b"])),
            Err(WireError::BadOption)
        );
        assert_eq!(encode_search_list(&names(&[""])), Err(WireError::BadOption));
        // Distinct 60-byte labels do not compress: 9 * 63 = 567 bytes.
        let long: Vec<String> = (0..9).map(|i| format!("{i}{}", "x".repeat(60))).collect();
        assert_eq!(encode_search_list(&long), Err(WireError::ValueTooLong));
        let e = SearchList::new(long).unwrap_err();
        assert!(e.contains("more than 510 bytes"), "{e}");
        let ok: Vec<String> = (0..8).map(|i| format!("{i}{}", "x".repeat(60))).collect();
        assert_eq!(SearchList::new(ok).unwrap().wire().len(), 8 * 63);
    }
}
