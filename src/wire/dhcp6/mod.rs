//! DHCPv6 client/server messages (RFC 8415 §8; options §21, DNS options RFC 3646, the
//! Information Refresh Time RFC 8415 §21.23, first defined by RFC 4242): the facts the
//! reply policy needs from a client's message (`Request`), a writer that builds a reply in
//! place, and the server's DUID-LL.
//!
//! Relay messages (RFC 8415 §9) are not handled: VMs talk to us directly on their link.
//! Identity associations and the Status Code option are in [`ia`].
//! Parsing never allocates or panics, whatever the input; writing never allocates.

use std::net::Ipv6Addr;

use super::bytes::{read, read_u16, read_u8, set_once, split_option, write, write_list, write_u16};
use super::{dns, MacAddr, WireError};

mod ia;
pub use ia::{Ia, IaAddress, IaHeader, IaKind, IaPrefix, Lease, StatusCode};

/// UDP port of the client (RFC 8415 §7.2).
pub const CLIENT_PORT: u16 = 546;
/// UDP port of servers and relays (RFC 8415 §7.2).
pub const SERVER_PORT: u16 = 547;
/// Message type and 24-bit transaction id (RFC 8415 §8).
pub const HEADER_LEN: usize = 4;
/// Option code and length in front of every option's data (RFC 8415 §21.1).
pub const OPTION_HDR_LEN: usize = 4;
/// Longest DUID: a 2-byte type and up to 128 bytes (RFC 8415 §11.1).
pub const MAX_DUID_LEN: usize = 130;
/// Shortest DUID we accept: the type and at least one byte of identifier.
pub const MIN_DUID_LEN: usize = 3;
/// The largest transaction id: it has 24 bits.
pub const MAX_TRANSACTION_ID: u32 = 0x00ff_ffff;

enum_with_unknown! {
    /// Message types (RFC 8415 §7.3).
    pub enum MessageType(u8) {
        Solicit = 1,
        Advertise = 2,
        Request = 3,
        Confirm = 4,
        Renew = 5,
        Rebind = 6,
        Reply = 7,
        Release = 8,
        Decline = 9,
        Reconfigure = 10,
        InformationRequest = 11,
        RelayForw = 12,
        RelayRepl = 13,
    }
}

/// Option codes (RFC 8415 §21 unless noted).
pub mod option {
    /// §21.2.
    pub const CLIENTID: u16 = 1;
    /// §21.3.
    pub const SERVERID: u16 = 2;
    /// §21.4: at least IAID, T1, T2 (12 bytes).
    pub const IA_NA: u16 = 3;
    /// §21.5: at least IAID (4 bytes).
    pub const IA_TA: u16 = 4;
    /// §21.7: a list of 16-bit option codes.
    pub const ORO: u16 = 6;
    /// §21.8: one byte, 255 = "choose me at once".
    pub const PREFERENCE: u16 = 7;
    /// §21.9: 2 bytes, hundredths of a second.
    pub const ELAPSED_TIME: u16 = 8;
    /// §21.13.
    pub const STATUS_CODE: u16 = 13;
    /// §21.14: empty.
    pub const RAPID_COMMIT: u16 = 14;
    /// RFC 3646 §3: recursive DNS servers.
    pub const DNS_SERVERS: u16 = 23;
    /// RFC 3646 §4: domain search list.
    pub const DOMAIN_LIST: u16 = 24;
    /// §21.21: at least IAID, T1, T2 (12 bytes).
    pub const IA_PD: u16 = 25;
    /// §21.23 (RFC 4242): 4 bytes, seconds.
    pub const INFORMATION_REFRESH_TIME: u16 = 32;
    /// RFC 5908 §4: NTP servers, as suboptions.
    pub const NTP_SERVER: u16 = 56;
    /// RFC 5908 §4.1: NTP_SUBOPTION_SRV_ADDR, one unicast server address (16 bytes).
    pub const NTP_SUBOPTION_SRV_ADDR: u16 = 1;
}

/// Byte offsets in a client/server message (RFC 8415 §8).
mod field {
    pub type Field = std::ops::Range<usize>;

    pub const MSG_TYPE: usize = 0;
    pub const TRANSACTION_ID: Field = 1..4;
    pub const OPTIONS: usize = 4;

    /// Within an option (RFC 8415 §21.1).
    pub mod opt {
        use super::Field;
        pub const CODE: Field = 0..2;
        pub const LEN: Field = 2..4;
    }
}

/// A read-only view of a client/server message (not a relay message). `new_checked`
/// verifies the 4-byte header is there; afterwards no accessor can panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buf` after checking it holds the header (`Truncated` otherwise).
    pub fn new_checked(buf: T) -> Result<Self, WireError> {
        if buf.as_ref().len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        Ok(Packet { buffer: buf })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub fn msg_type(&self) -> MessageType {
        MessageType::from(read_u8(self.bytes(), field::MSG_TYPE))
    }

    /// The 24-bit transaction id.
    pub fn transaction_id(&self) -> u32 {
        let [a, b, c] = read::<3>(self.bytes(), field::TRANSACTION_ID);
        u32::from_be_bytes([0, a, b, c])
    }

    pub fn options(&self) -> OptionIter<'_> {
        OptionIter::new(self.bytes().get(field::OPTIONS..).unwrap_or(&[]))
    }
}

/// One option: its code and its data, without code and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dhcp6Option<'a> {
    pub code: u16,
    pub data: &'a [u8],
}

/// Walks an options area (RFC 8415 §21.1): there is no padding and no end marker, options
/// run to the end of the message. Yields `Err(BadOption)` once, then `None`, when an
/// option header is cut short or a length runs past the end. Every step consumes at least
/// 4 bytes, so it terminates.
#[derive(Debug, Clone)]
pub struct OptionIter<'a> {
    rest: &'a [u8],
}

impl<'a> OptionIter<'a> {
    pub fn new(area: &'a [u8]) -> Self {
        OptionIter { rest: area }
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = Result<Dhcp6Option<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        let opt = split_option(&mut self.rest, |hdr: [u8; OPTION_HDR_LEN]| {
            let code = read_u16(&hdr, field::opt::CODE);
            let len = read_u16(&hdr, field::opt::LEN);
            Some((code, usize::from(len)))
        });
        opt.map(|opt| opt.map(|(code, data)| Dhcp6Option { code, data }))
    }
}

/// What the reply policy needs from a client's message, parsed once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    pub msg_type: MessageType,
    /// 24 bits.
    pub transaction_id: u32,
    /// The client's DUID (option 1), 3..=130 bytes.
    pub client_id: Option<&'a [u8]>,
    /// The server DUID the client addresses (option 2), 3..=130 bytes.
    pub server_id: Option<&'a [u8]>,
    /// IA_NA, IA_TA or IA_PD present: the client wants addresses or prefixes.
    pub has_ia: bool,
    /// The Option Request option's data (option 6): 16-bit codes, an even length.
    pub oro: Option<&'a [u8]>,
    /// Rapid Commit (option 14): a Solicit that wants its Reply at once (§18.2.1).
    pub rapid_commit: bool,
    /// The whole options area, every option and every IA in it checked (see [`Request::ias`]).
    options: &'a [u8],
}

impl<'a> Request<'a> {
    /// Parses a client's message (the UDP payload). Any message type but the relay ones is
    /// accepted: which ones to answer is the policy's business.
    ///
    /// Errors: `Truncated` below 4 bytes; `WrongProtocol` for RELAY-FORW/RELAY-REPL; and
    /// `BadOption` for a malformed options area (every option is walked), a client or
    /// server id outside 3..=130 bytes or given twice, an ORO of odd length or given
    /// twice, an IA whose contents [`Ia::parse`] refuses (IA_NA/IA_PD shorter than 12
    /// bytes, IA_TA shorter than 4, a short IAADDR/IAPREFIX, ...), an Elapsed Time not 2
    /// bytes, a Rapid Commit not empty.
    pub fn parse(udp_payload: &'a [u8]) -> Result<Self, WireError> {
        let packet = Packet::new_checked(udp_payload)?;
        let msg_type = packet.msg_type();
        if msg_type == MessageType::RelayForw || msg_type == MessageType::RelayRepl {
            return Err(WireError::WrongProtocol);
        }
        let mut req = Request {
            msg_type,
            transaction_id: packet.transaction_id(),
            client_id: None,
            server_id: None,
            has_ia: false,
            oro: None,
            rapid_commit: false,
            options: udp_payload.get(field::OPTIONS..).unwrap_or(&[]),
        };
        for opt in OptionIter::new(req.options) {
            req.take_option(opt?)?;
        }
        Ok(req)
    }

    fn take_option(&mut self, opt: Dhcp6Option<'a>) -> Result<(), WireError> {
        let len = opt.data.len();
        let well_formed = match opt.code {
            option::CLIENTID => return set_once(&mut self.client_id, duid(opt.data)?),
            option::SERVERID => return set_once(&mut self.server_id, duid(opt.data)?),
            option::ORO if len.is_multiple_of(2) => return set_once(&mut self.oro, opt.data),
            option::ORO => false,
            option::ELAPSED_TIME => len == 2,
            option::RAPID_COMMIT => {
                self.rapid_commit = true;
                len == 0
            }
            code => match IaKind::from_code(code) {
                Some(kind) => {
                    Ia::parse(kind, opt.data)?;
                    self.has_ia = true;
                    true
                }
                None => true,
            },
        };
        if !well_formed {
            return Err(WireError::BadOption);
        }
        Ok(())
    }

    /// Every IA_NA, IA_TA and IA_PD, in order. `parse` checked them all, so none is
    /// skipped here.
    pub fn ias(&self) -> impl Iterator<Item = Ia<'a>> + 'a {
        OptionIter::new(self.options)
            .filter_map(Result::ok)
            .filter_map(|o| Ia::parse(IaKind::from_code(o.code)?, o.data).ok())
    }

    /// Whether the client listed `code` in its Option Request option.
    pub fn requested(&self, code: u16) -> bool {
        let (codes, _) = self.oro.unwrap_or(&[]).as_chunks::<2>();
        codes.iter().any(|c| u16::from_be_bytes(*c) == code)
    }
}

/// A DUID's bytes, if their length is plausible (RFC 8415 §11.1).
fn duid(data: &[u8]) -> Result<&[u8], WireError> {
    if (MIN_DUID_LEN..=MAX_DUID_LEN).contains(&data.len()) {
        Ok(data)
    } else {
        Err(WireError::BadOption)
    }
}

/// DUID type of DUID-LL (RFC 8415 §11.4).
const DUID_TYPE_LL: u16 = 3;
/// Hardware type of Ethernet (IANA ARP hardware types), in DUID-LL.
const HW_TYPE_ETHERNET: u16 = 1;

/// DUID-LL (RFC 8415 §11.4): type 3, hardware type 1, the MAC. Stable for an interface:
/// derived from its MAC only (unlike the DUID-LLT the original sent, with a new time in
/// every reply).
pub fn duid_ll(mac: MacAddr) -> [u8; 10] {
    let [t0, t1] = DUID_TYPE_LL.to_be_bytes();
    let [h0, h1] = HW_TYPE_ETHERNET.to_be_bytes();
    let m = mac.octets();
    [t0, t1, h0, h1, m[0], m[1], m[2], m[3], m[4], m[5]]
}

/// Writes a server message in place into `buf` (which starts at the UDP payload): the
/// header, then options appended one by one. Every call writes a whole option or nothing.
#[derive(Debug)]
pub struct ReplyWriter<'a> {
    buf: &'a mut [u8],
    /// Bytes written so far.
    len: usize,
}

impl<'a> ReplyWriter<'a> {
    /// Writes the header. `ValueTooLong` for a transaction id over 24 bits,
    /// `BufferTooSmall` below 4 bytes of room.
    pub fn new(
        buf: &'a mut [u8],
        msg_type: MessageType,
        transaction_id: u32,
    ) -> Result<Self, WireError> {
        if transaction_id > MAX_TRANSACTION_ID {
            return Err(WireError::ValueTooLong);
        }
        let header = buf.get_mut(..HEADER_LEN).ok_or(WireError::BufferTooSmall)?;
        let [_, a, b, c] = transaction_id.to_be_bytes();
        write(header, 0..HEADER_LEN, &[msg_type.into(), a, b, c]);
        Ok(ReplyWriter {
            buf,
            len: HEADER_LEN,
        })
    }

    /// Appends option `code` with `data`. `ValueTooLong` over 65535 bytes,
    /// `BufferTooSmall` if it does not fit.
    pub fn option(&mut self, code: u16, data: &[u8]) -> Result<(), WireError> {
        let value = self.reserve(code, data.len())?;
        // Both are `data.len()` long.
        for (dst, src) in value.iter_mut().zip(data) {
            *dst = *src;
        }
        Ok(())
    }

    /// A 32-bit value in network order (e.g. Information Refresh Time, RFC 8415 §21.23).
    pub fn option_u32(&mut self, code: u16, v: u32) -> Result<(), WireError> {
        self.option(code, &v.to_be_bytes())
    }

    /// All of `addrs` in one option (e.g. DNS servers, RFC 3646 §3). Writes nothing for an
    /// empty list; `ValueTooLong` past 4095 addresses.
    pub fn option_ipv6_list(&mut self, code: u16, addrs: &[Ipv6Addr]) -> Result<(), WireError> {
        if addrs.is_empty() {
            return Ok(());
        }
        let len = addrs.len().checked_mul(16).ok_or(WireError::ValueTooLong)?;
        let value = self.reserve(code, len)?;
        write_list(value, addrs.iter().map(Ipv6Addr::octets));
        Ok(())
    }

    /// The NTP Server option (RFC 5908 §4): one NTP_SUBOPTION_SRV_ADDR suboption (code 1,
    /// length 16, the address) per address, in order. Writes nothing for an empty list;
    /// `ValueTooLong` past 3276 addresses.
    pub fn option_ntp_servers(&mut self, addrs: &[Ipv6Addr]) -> Result<(), WireError> {
        const SUBOPTION_LEN: usize = OPTION_HDR_LEN + 16;
        if addrs.is_empty() {
            return Ok(());
        }
        let len = addrs
            .len()
            .checked_mul(SUBOPTION_LEN)
            .ok_or(WireError::ValueTooLong)?;
        let value = self.reserve(option::NTP_SERVER, len)?;
        for (sub, addr) in value.chunks_exact_mut(SUBOPTION_LEN).zip(addrs) {
            write_u16(sub, field::opt::CODE, option::NTP_SUBOPTION_SRV_ADDR);
            write_u16(sub, field::opt::LEN, 16);
            write(sub, OPTION_HDR_LEN..SUBOPTION_LEN, &addr.octets());
        }
        Ok(())
    }

    /// `names` in uncompressed wire format, back to back, in one option (e.g. the domain
    /// search list, RFC 3646 §4). Writes nothing for an empty list; `BadOption` or
    /// `ValueTooLong` for a name `dns::encoded_len` refuses, checked before anything is
    /// written.
    pub fn option_domain_list(&mut self, code: u16, names: &[String]) -> Result<(), WireError> {
        if names.is_empty() {
            return Ok(());
        }
        let value = self.reserve(code, dns::encoded_list_len(names)?)?;
        dns::encode_list(names, value)
    }

    /// Writes the code and length of an option and returns its `len`-byte data area.
    fn reserve(&mut self, code: u16, len: usize) -> Result<&mut [u8], WireError> {
        let len16 = u16::try_from(len).map_err(|_| WireError::ValueTooLong)?;
        let start = self.len;
        let end = start
            .checked_add(OPTION_HDR_LEN)
            .and_then(|n| n.checked_add(len))
            .ok_or(WireError::BufferTooSmall)?;
        let area = self
            .buf
            .get_mut(start..end)
            .ok_or(WireError::BufferTooSmall)?;
        let (hdr, value) = area
            .split_at_mut_checked(OPTION_HDR_LEN)
            .ok_or(WireError::BufferTooSmall)?;
        write_u16(hdr, field::opt::CODE, code);
        write_u16(hdr, field::opt::LEN, len16);
        self.len = end;
        Ok(value)
    }

    /// The message length, which is the UDP payload length to give
    /// `frame::emit_ipv6_udp`.
    pub fn finish(self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::frame::ipv6_fixtures::INFO_REQUEST_BYTES;
    use crate::wire::frame::{self, Ipv6Header, IPV6_UDP_PAYLOAD_OFFSET};

    /// The UDP payload of dhclient's Information-Request (see `INFO_REQUEST_BYTES`).
    fn info_request() -> &'static [u8] {
        &INFO_REQUEST_BYTES[48..]
    }

    fn vm_mac() -> MacAddr {
        "52:54:00:12:34:56".parse().unwrap()
    }

    fn host_mac() -> MacAddr {
        "02:00:5e:10:00:01".parse().unwrap()
    }

    /// DUID-LL of the VM's MAC, as dhclient sent it.
    static CLIENT_DUID: [u8; 10] = [0, 3, 0, 1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

    /// A message of type `t`, transaction id 0x010203, with `options` after the header.
    fn message(t: impl Into<u8>, options: &[u8]) -> Vec<u8> {
        let mut m = vec![t.into(), 1, 2, 3];
        m.extend_from_slice(options);
        m
    }

    /// One option in wire form.
    fn opt(code: u16, data: &[u8]) -> Vec<u8> {
        let mut o = code.to_be_bytes().to_vec();
        o.extend_from_slice(&(data.len() as u16).to_be_bytes());
        o.extend_from_slice(data);
        o
    }

    fn options_of(area: &[u8]) -> Vec<Result<Dhcp6Option<'_>, WireError>> {
        OptionIter::new(area).collect()
    }

    #[test]
    fn deconstruct() {
        let p = Packet::new_checked(info_request()).unwrap();
        assert_eq!(p.msg_type(), MessageType::InformationRequest);
        assert_eq!(p.transaction_id(), 0x7b23c6);
        let opts: Vec<_> = p.options().collect::<Result<_, _>>().unwrap();
        assert_eq!(
            opts,
            [
                Dhcp6Option {
                    code: option::CLIENTID,
                    data: &CLIENT_DUID
                },
                Dhcp6Option {
                    code: option::ORO,
                    data: &[0, 23, 0, 24, 0, 39, 0, 31]
                },
                Dhcp6Option {
                    code: option::ELAPSED_TIME,
                    data: &[0, 0]
                },
            ]
        );
        assert_eq!(p.into_inner().len(), 36);
    }

    #[test]
    fn parse_info_request() {
        let r = Request::parse(info_request()).unwrap();
        assert_eq!(
            r,
            Request {
                msg_type: MessageType::InformationRequest,
                transaction_id: 0x7b23c6,
                client_id: Some(&CLIENT_DUID),
                server_id: None,
                has_ia: false,
                oro: Some(&[0, 23, 0, 24, 0, 39, 0, 31]),
                rapid_commit: false,
                options: &info_request()[4..],
            }
        );
        assert!(r.requested(option::DNS_SERVERS));
        assert!(r.requested(option::DOMAIN_LIST));
        assert!(!r.requested(option::INFORMATION_REFRESH_TIME));
        // The client DUID is the VM's DUID-LL: the same thing our duid_ll builds.
        assert_eq!(duid_ll(vm_mac()), CLIENT_DUID);
    }

    #[test]
    fn parse_relay_messages() {
        for t in [MessageType::RelayForw, MessageType::RelayRepl] {
            assert_eq!(
                Request::parse(&message(t, &[])),
                Err(WireError::WrongProtocol)
            );
        }
        // Every other type parses; answering is the policy's call.
        for t in (0..=255u8).filter(|t| !(12..=13).contains(t)) {
            assert_eq!(Request::parse(&message(t, &[])).unwrap().msg_type, t.into());
        }
    }

    #[test]
    fn parse_duid_lengths() {
        for code in [option::CLIENTID, option::SERVERID] {
            for len in [0, 1, 2, 131, 300] {
                let m = message(1, &opt(code, &vec![7; len]));
                assert_eq!(Request::parse(&m), Err(WireError::BadOption), "len {len}");
            }
            for len in [3, 10, 130] {
                let m = message(1, &opt(code, &vec![7; len]));
                let r = Request::parse(&m).unwrap();
                let id = if code == option::CLIENTID {
                    r.client_id
                } else {
                    r.server_id
                };
                assert_eq!(id.map(<[u8]>::len), Some(len));
            }
            let twice = [opt(code, &CLIENT_DUID), opt(code, &CLIENT_DUID)].concat();
            assert_eq!(
                Request::parse(&message(1, &twice)),
                Err(WireError::BadOption)
            );
        }
        let both = [
            opt(option::CLIENTID, &CLIENT_DUID),
            opt(option::SERVERID, &duid_ll(host_mac())),
        ]
        .concat();
        let m = message(MessageType::Request, &both);
        let r = Request::parse(&m).unwrap();
        assert_eq!(r.client_id, Some(&CLIENT_DUID[..]));
        assert_eq!(r.server_id, Some(&duid_ll(host_mac())[..]));
    }

    #[test]
    fn parse_option_sizes() {
        for bad in [
            opt(option::ORO, &[0, 23, 0]),
            [opt(option::ORO, &[0, 23]), opt(option::ORO, &[0, 24])].concat(),
            opt(option::IA_NA, &[0; 11]),
            opt(option::IA_PD, &[0; 11]),
            opt(option::IA_TA, &[0; 3]),
            opt(option::ELAPSED_TIME, &[0; 3]),
            opt(option::ELAPSED_TIME, &[]),
            opt(option::RAPID_COMMIT, &[0]),
        ] {
            assert_eq!(
                Request::parse(&message(1, &bad)),
                Err(WireError::BadOption),
                "{bad:?}"
            );
        }
        let m = message(1, &opt(option::ORO, &[]));
        let r = Request::parse(&m).unwrap();
        assert_eq!(r.oro, Some(&[][..]));
        assert!(!r.requested(23));
        // Unknown options of any size are walked over.
        let m = message(1, &opt(999, &[1; 77]));
        let r = Request::parse(&m).unwrap();
        assert_eq!(r.client_id, None);
    }

    #[test]
    fn parse_has_ia() {
        assert!(!Request::parse(info_request()).unwrap().has_ia);
        for ia in [
            opt(option::IA_NA, &[0; 12]),
            opt(option::IA_TA, &[0; 4]),
            opt(option::IA_PD, &[0; 40]),
        ] {
            let m = message(MessageType::Solicit, &ia);
            let r = Request::parse(&m).unwrap();
            assert!(r.has_ia, "{ia:?}");
        }
    }

    #[test]
    fn option_iter_past_end() {
        let area = [opt(1, &[1, 2, 3]), vec![0, 2, 0, 5, 1, 2]].concat();
        let mut it = OptionIter::new(&area);
        assert_eq!(
            it.next(),
            Some(Ok(Dhcp6Option {
                code: 1,
                data: &[1, 2, 3]
            }))
        );
        assert_eq!(it.next(), Some(Err(WireError::BadOption)));
        assert_eq!(it.next(), None);
        assert_eq!(it.next(), None);
        // A cut option header.
        for cut in 1..4 {
            assert_eq!(
                options_of(&[0, 1, 0, 0][..cut]),
                [Err(WireError::BadOption)]
            );
        }
        // 65535 claimed.
        assert_eq!(
            options_of(&[0, 1, 0xff, 0xff, 0]),
            [Err(WireError::BadOption)]
        );
    }

    #[test]
    fn option_iter_exactly_at_end() {
        let area = [opt(14, &[]), opt(8, &[0, 5])].concat();
        assert_eq!(
            options_of(&area),
            [
                Ok(Dhcp6Option {
                    code: 14,
                    data: &[]
                }),
                Ok(Dhcp6Option {
                    code: 8,
                    data: &[0, 5]
                }),
            ]
        );
        assert_eq!(options_of(&[]), []);
        let mut long = opt(500, &[9; 65535]);
        assert_eq!(options_of(&long).len(), 1);
        long.pop();
        assert_eq!(options_of(&long), [Err(WireError::BadOption)]);
    }

    #[test]
    fn short_packet() {
        // Option boundaries in the fixture: after the header, client id, ORO, elapsed.
        let boundaries = [4, 18, 30, 36];
        let m = info_request();
        for len in 0..=m.len() {
            let parsed = Request::parse(&m[..len]);
            if len < HEADER_LEN {
                assert_eq!(parsed, Err(WireError::Truncated), "len {len}");
                assert_eq!(
                    Packet::new_checked(&m[..len]).err(),
                    Some(WireError::Truncated)
                );
            } else if boundaries.contains(&len) {
                assert!(parsed.is_ok(), "len {len}");
            } else {
                assert_eq!(parsed, Err(WireError::BadOption), "len {len}");
            }
        }
    }

    /// Every byte of the fixture set to every value: parse answers, never panics.
    #[test]
    fn single_byte_mutations_never_panic() {
        let mut m = info_request().to_vec();
        for at in 0..m.len() {
            let original = m[at];
            for v in 0..=255 {
                m[at] = v;
                let _ = Request::parse(&m);
            }
            m[at] = original;
        }
    }

    fn dns_servers() -> [Ipv6Addr; 2] {
        [
            "2001:db8::53".parse().unwrap(),
            "2001:db8::5353".parse().unwrap(),
        ]
    }

    fn domains() -> Vec<String> {
        vec!["example.org".into(), "vm.example.org.".into()]
    }

    /// The Reply to the fixture: the options the daemon sends.
    fn write_reply(buf: &mut [u8]) -> usize {
        let mut w = ReplyWriter::new(buf, MessageType::Reply, 0x7b23c6).unwrap();
        w.option(option::CLIENTID, &CLIENT_DUID).unwrap();
        w.option(option::SERVERID, &duid_ll(host_mac())).unwrap();
        w.option_ipv6_list(option::DNS_SERVERS, &dns_servers())
            .unwrap();
        w.option_domain_list(option::DOMAIN_LIST, &domains())
            .unwrap();
        w.option_u32(option::INFORMATION_REFRESH_TIME, 86400)
            .unwrap();
        w.finish()
    }

    /// `write_reply`'s output, encoded by hand from RFC 8415 and RFC 3646.
    #[rustfmt::skip]
    static REPLY_BYTES: [u8; 109] = [
        7, 0x7b, 0x23, 0xc6, // REPLY, transaction id
        0, 1, 0, 10, 0, 3, 0, 1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, // client id
        0, 2, 0, 10, 0, 3, 0, 1, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, // server id, DUID-LL
        0, 23, 0, 32, // DNS servers
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53,
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53, 0x53,
        0, 24, 0, 29, // domain list
        7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'o', b'r', b'g', 0,
        2, b'v', b'm', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'o', b'r', b'g', 0,
        0, 32, 0, 4, 0, 1, 0x51, 0x80, // information refresh time 86400
    ];

    #[test]
    fn construct() {
        let mut buf = [0xa5u8; 200];
        let len = write_reply(&mut buf);
        assert_eq!(&buf[..len], &REPLY_BYTES[..]);
        assert!(buf[len..].iter().all(|&b| b == 0xa5));
    }

    #[test]
    fn emit_then_parse() {
        let mut buf = [0xa5u8; 200];
        let len = write_reply(&mut buf);
        let p = Packet::new_checked(&buf[..len]).unwrap();
        assert_eq!(
            (p.msg_type(), p.transaction_id()),
            (MessageType::Reply, 0x7b23c6)
        );
        let codes: Vec<u16> = p.options().map(|o| o.unwrap().code).collect();
        assert_eq!(codes, [1, 2, 23, 24, 32]);
        let list = p.options().nth(3).unwrap().unwrap().data;
        let names: Vec<String> = crate::wire::dns::NameIter::new(list)
            .map(|n| n.unwrap().to_string())
            .collect();
        assert_eq!(names, ["example.org", "vm.example.org"]);
        // Our own Request parser takes it too (a Reply is not a relay message).
        let r = Request::parse(&buf[..len]).unwrap();
        assert_eq!(r.server_id, Some(&duid_ll(host_mac())[..]));
    }

    /// The whole reply path (ReplyWriter, then emit_ipv6_udp around it) decoded by an
    /// independent implementation: pnet for the UDP checksum, dhcproto for the message.
    #[test]
    fn emit_decodes_with_dhcproto() {
        use dhcproto::v6::{self, DhcpOption as D, OptionCode};
        use dhcproto::{Decodable, Decoder};
        use pnet_packet::udp::{self as pudp, UdpPacket};

        let mut buf = [0xa5u8; 400];
        let len = write_reply(&mut buf[IPV6_UDP_PAYLOAD_OFFSET..]);
        let hdr = Ipv6Header {
            src_mac: host_mac(),
            dst_mac: vm_mac(),
            src_ip: "fe80::5eff:fe10:1".parse().unwrap(),
            dst_ip: "fe80::1bba:bfd7:b741:fbbe".parse().unwrap(),
            hop_limit: 255,
        };
        let frame_len =
            frame::emit_ipv6_udp(&mut buf, &hdr, SERVER_PORT, CLIENT_PORT, len).unwrap();
        let udp = UdpPacket::new(&buf[frame::IPV6_PAYLOAD_OFFSET..frame_len]).unwrap();
        assert_eq!(
            udp.get_checksum(),
            pudp::ipv6_checksum(&udp, &hdr.src_ip, &hdr.dst_ip)
        );
        assert_eq!((udp.get_source(), udp.get_destination()), (547, 546));

        let payload = &buf[IPV6_UDP_PAYLOAD_OFFSET..frame_len];
        let msg = v6::Message::decode(&mut Decoder::new(payload)).unwrap();
        assert_eq!(msg.msg_type(), v6::MessageType::Reply);
        assert_eq!(msg.xid_num(), 0x7b23c6);
        let o = msg.opts();
        assert_eq!(
            o.get(OptionCode::ClientId),
            Some(&D::ClientId(CLIENT_DUID.to_vec()))
        );
        assert_eq!(
            o.get(OptionCode::ServerId),
            Some(&D::ServerId(duid_ll(host_mac()).to_vec()))
        );
        assert_eq!(
            o.get(OptionCode::DomainNameServers),
            Some(&D::DomainNameServers(dns_servers().to_vec()))
        );
        let Some(D::DomainSearchList(names)) = o.get(OptionCode::DomainSearchList) else {
            panic!("no domain list in {o:?}");
        };
        let names: Vec<String> = names.iter().map(|n| n.to_utf8()).collect();
        assert_eq!(names, ["example.org.", "vm.example.org."]);
        // dhcproto 0.15 decodes option 32 as an unknown option.
        match o.get(OptionCode::InformationRefreshTime) {
            Some(D::InformationRefreshTime(t)) => assert_eq!(*t, 86400),
            Some(D::Unknown(u)) => assert_eq!(u.data(), &86400u32.to_be_bytes()),
            other => panic!("option 32: {other:?}"),
        }
        // Those five, nothing else (dhcproto stops silently at a bad option).
        assert_eq!(o.iter().count(), 5, "{o:?}");
    }

    /// Two NTP servers after the header, encoded by hand from RFC 5908 §4 and §4.1.
    #[rustfmt::skip]
    static NTP_REPLY_BYTES: [u8; 48] = [
        7, 0, 0, 1, // REPLY, transaction id
        0, 56, 0, 40, // NTP server option, two suboptions of 20 bytes
        0, 1, 0, 16, // NTP_SUBOPTION_SRV_ADDR
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x23,
        0, 1, 0, 16, // NTP_SUBOPTION_SRV_ADDR
        0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x23,
    ];

    fn ntp_servers() -> [Ipv6Addr; 2] {
        [
            "2001:db8::123".parse().unwrap(),
            "2001:db8:1::123".parse().unwrap(),
        ]
    }

    #[test]
    fn emit_ntp_servers() {
        let mut buf = [0xa5u8; 60];
        let mut w = ReplyWriter::new(&mut buf, MessageType::Reply, 1).unwrap();
        w.option_ntp_servers(&ntp_servers()).unwrap();
        w.option_ntp_servers(&[]).unwrap();
        assert_eq!(w.finish(), NTP_REPLY_BYTES.len());
        assert_eq!(&buf[..NTP_REPLY_BYTES.len()], &NTP_REPLY_BYTES[..]);
        assert!(buf[NTP_REPLY_BYTES.len()..].iter().all(|&b| b == 0xa5));
    }

    #[test]
    fn emit_ntp_servers_decodes_with_dhcproto() {
        use dhcproto::v6::{DhcpOption as D, Message, NtpSuboption, OptionCode};
        use dhcproto::Decodable;
        let m = Message::from_bytes(&NTP_REPLY_BYTES).expect("dhcproto decodes it");
        let want = ntp_servers().map(NtpSuboption::ServerAddress).to_vec();
        assert_eq!(
            m.opts().get(OptionCode::NtpServer),
            Some(&D::NtpServer(want))
        );
        assert_eq!(m.opts().iter().count(), 1);
    }

    #[test]
    fn emit_ntp_servers_errors() {
        // Room for one suboption, not two: nothing is written.
        let mut buf = [0xa5u8; 4 + 4 + 20 + 10];
        let mut w = ReplyWriter::new(&mut buf, MessageType::Reply, 1).unwrap();
        assert_eq!(
            w.option_ntp_servers(&ntp_servers()),
            Err(WireError::BufferTooSmall)
        );
        w.option_ntp_servers(&ntp_servers()[..1]).unwrap();
        assert_eq!(w.finish(), 28);
        assert_eq!(&buf[4..12], &[0, 56, 0, 20, 0, 1, 0, 16]);
        assert!(buf[28..].iter().all(|&b| b == 0xa5));
        // 3277 suboptions are 65540 bytes: over an option's 16-bit length.
        let mut big = vec![0xa5u8; 70_000];
        let mut w = ReplyWriter::new(&mut big, MessageType::Reply, 1).unwrap();
        let many = vec![Ipv6Addr::LOCALHOST; 3277];
        assert_eq!(w.option_ntp_servers(&many), Err(WireError::ValueTooLong));
        w.option_ntp_servers(&many[..3276]).unwrap();
        assert_eq!(w.finish(), 4 + 4 + 3276 * 20);
    }

    #[test]
    fn emit_empty_lists_write_nothing() {
        let mut buf = [0xa5u8; 10];
        let mut w = ReplyWriter::new(&mut buf, MessageType::Reply, 1).unwrap();
        w.option_ipv6_list(option::DNS_SERVERS, &[]).unwrap();
        w.option_domain_list(option::DOMAIN_LIST, &[]).unwrap();
        assert_eq!(w.finish(), 4);
        assert_eq!(&buf[..4], &[7, 0, 0, 1]);
        assert!(buf[4..].iter().all(|&b| b == 0xa5));
    }

    #[test]
    fn emit_errors() {
        let mut buf = [0xa5u8; 40];
        assert_eq!(
            ReplyWriter::new(&mut buf, MessageType::Reply, 0x0100_0000).err(),
            Some(WireError::ValueTooLong)
        );
        assert_eq!(
            ReplyWriter::new(&mut buf[..3], MessageType::Reply, 1).err(),
            Some(WireError::BufferTooSmall)
        );
        assert!(buf.iter().all(|&b| b == 0xa5));
        let mut w = ReplyWriter::new(&mut buf, MessageType::Reply, MAX_TRANSACTION_ID).unwrap();
        // 36 bytes of room: two addresses (36 bytes with the header) fit exactly, three
        // do not.
        let three = [Ipv6Addr::LOCALHOST; 3];
        assert_eq!(
            w.option_ipv6_list(23, &three),
            Err(WireError::BufferTooSmall)
        );
        assert_eq!(
            w.option_domain_list(24, &["ok.org".into(), "bad..org".into()]),
            Err(WireError::BadOption)
        );
        assert_eq!(
            w.option_domain_list(24, &["a".repeat(64)]),
            Err(WireError::ValueTooLong)
        );
        assert_eq!(w.option(1, &[0; 65536]), Err(WireError::ValueTooLong));
        // Nothing was written by the failed calls.
        w.option_ipv6_list(23, &three[..2]).unwrap();
        assert_eq!(w.option(14, &[]), Err(WireError::BufferTooSmall));
        assert_eq!(w.option_u32(32, 1), Err(WireError::BufferTooSmall));
        assert_eq!(w.finish(), 40);
        assert_eq!(&buf[..8], &[7, 0xff, 0xff, 0xff, 0, 23, 0, 32]);
    }

    #[test]
    fn emit_long_lists() {
        // 4095 addresses are 65520 bytes: the largest list one option holds.
        let mut buf = vec![0u8; 70000];
        let many = vec![Ipv6Addr::LOCALHOST; 4096];
        let mut w = ReplyWriter::new(&mut buf, MessageType::Reply, 1).unwrap();
        assert_eq!(w.option_ipv6_list(23, &many), Err(WireError::ValueTooLong));
        w.option_ipv6_list(23, &many[..4095]).unwrap();
        assert_eq!(w.finish(), 4 + 4 + 65520);
    }

    #[test]
    fn duid_ll_value() {
        assert_eq!(
            duid_ll(host_mac()),
            [0, 3, 0, 1, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01]
        );
    }

    use crate::wire::testing::random_buffers;

    /// Random messages made of plausible options, and pure noise: parse never panics, and
    /// whatever it accepts, the iterator walked cleanly.
    #[test]
    fn robustness_random_buffers() {
        let codes = [1, 2, 3, 4, 6, 8, 13, 14, 23, 24, 25, 32, 999];
        let mut accepted = 0;
        let make = |rng: &mut crate::wire::testing::XorShift, round: usize| {
            if round.is_multiple_of(3) {
                rng.noise(80)
            } else {
                let mut m = message((rng.next() % 14) as u8, &[]);
                for _ in 0..(rng.next() % 5) {
                    let code = codes[(rng.next() % codes.len() as u64) as usize];
                    let len = (rng.next() % 20) as usize;
                    let mut o = opt(code, &vec![rng.next() as u8; len]);
                    if rng.next().is_multiple_of(10) {
                        o[3] = rng.next() as u8;
                    }
                    m.extend_from_slice(&o);
                }
                m
            }
        };
        random_buffers(0xa54f_f53a_5f1d_36f1, 30000, make, |_, m| {
            if let Ok(r) = Request::parse(m) {
                accepted += 1;
                assert!(Packet::new_checked(m).unwrap().options().all(|o| o.is_ok()));
                let _ = r.requested(23);
            }
        });
        assert!(accepted > 3000, "only {accepted} accepted");
    }
}
