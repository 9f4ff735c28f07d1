//! BOOTP/DHCPv4 messages (RFC 951, RFC 2131; options RFC 2132): a checked zero-copy view of
//! a client's message, the few facts the reply policy needs from it (`Request`), and a
//! writer that builds a BOOTREPLY in place in a caller's buffer.
//!
//! Parsing never allocates or panics, whatever the input; writing never allocates.

use std::net::Ipv4Addr;
use std::ops::Range;

use super::bytes::{
    read, read_u16, read_u32, read_u8, set_once, split_option, write, write_list, write_u16,
    write_u32, write_u8,
};
use super::{MacAddr, WireError};

/// UDP port of the server (RFC 2131 §4.1).
pub const SERVER_PORT: u16 = 67;
/// UDP port of the client (RFC 2131 §4.1).
pub const CLIENT_PORT: u16 = 68;
/// Fixed BOOTP header (236) + magic cookie (4).
pub const HEADER_LEN: usize = 240;
/// Smallest BOOTP message we send: RFC 1542 §2.1 requires room for "the minimal BOOTP
/// header of 300 octets" (RFC 951's 64-byte vendor area), and some clients and relays drop
/// anything shorter.
pub const MIN_MESSAGE_LEN: usize = 300;
/// The vendor-area cookie that says "DHCP options follow" (RFC 2131 §3, RFC 2132 §2).
pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// `op` of a client message (RFC 951).
pub const BOOTREQUEST: u8 = 1;
/// `op` of a server message (RFC 951).
pub const BOOTREPLY: u8 = 2;
/// `htype` of Ethernet (RFC 1700, ARP hardware types).
pub const HTYPE_ETHERNET: u8 = 1;
/// `hlen` of an Ethernet MAC.
pub const HLEN_ETHERNET: u8 = 6;
/// The BROADCAST bit of `flags`, the only one defined (RFC 2131 §2, figure 2).
pub const FLAG_BROADCAST: u16 = 0x8000;
/// The message size every client must accept, and the least a client may announce in
/// option 57 (RFC 2132 §9.10: "The minimum legal value is 576 octets"; RFC 2131 §2: "A
/// DHCP client must be prepared to receive DHCP messages with an 'options' field of at
/// least length 312 octets", i.e. 236 + 312 + 28 = 576). Like option 57, it counts the
/// whole IP datagram.
pub const MIN_MAX_MESSAGE_SIZE: u16 = 576;
/// IPv4 header (no options) and UDP header: what option 57's size counts besides the DHCP
/// message.
pub const IPV4_UDP_HEADERS_LEN: usize = 28;
/// Most addresses one option can carry: 63 * 4 = 252 bytes, under the 255-byte limit.
pub const MAX_IPV4_LIST: usize = 63;

/// Byte offsets in the fixed header (RFC 2131 §2, figure 1).
mod field {
    pub type Field = std::ops::Range<usize>;

    pub const OP: usize = 0;
    pub const HTYPE: usize = 1;
    pub const HLEN: usize = 2;
    pub const HOPS: usize = 3;
    pub const XID: Field = 4..8;
    pub const SECS: Field = 8..10;
    pub const FLAGS: Field = 10..12;
    pub const CIADDR: Field = 12..16;
    pub const YIADDR: Field = 16..20;
    pub const SIADDR: Field = 20..24;
    pub const GIADDR: Field = 24..28;
    pub const CHADDR: Field = 28..44;
    // 44..108 `sname` and 108..236 `file`: never read (option overload is not followed),
    // zeroed in replies.
    pub const MAGIC: Field = 236..240;
    pub const OPTIONS: usize = 240;
}

/// DHCP message type, the value of option 53 (RFC 2132 §9.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    Discover,
    Offer,
    Request,
    Decline,
    Ack,
    Nak,
    Release,
    Inform,
    Unknown(u8),
}

impl From<u8> for MessageType {
    fn from(value: u8) -> Self {
        match value {
            1 => MessageType::Discover,
            2 => MessageType::Offer,
            3 => MessageType::Request,
            4 => MessageType::Decline,
            5 => MessageType::Ack,
            6 => MessageType::Nak,
            7 => MessageType::Release,
            8 => MessageType::Inform,
            n => MessageType::Unknown(n),
        }
    }
}

impl From<MessageType> for u8 {
    fn from(value: MessageType) -> Self {
        match value {
            MessageType::Discover => 1,
            MessageType::Offer => 2,
            MessageType::Request => 3,
            MessageType::Decline => 4,
            MessageType::Ack => 5,
            MessageType::Nak => 6,
            MessageType::Release => 7,
            MessageType::Inform => 8,
            MessageType::Unknown(n) => n,
        }
    }
}

/// Option codes used by the daemon (RFC 2132 unless noted).
pub mod option {
    /// §3.1: one byte of padding, no length.
    pub const PAD: u8 = 0;
    /// §3.3.
    pub const SUBNET_MASK: u8 = 1;
    /// §3.5.
    pub const ROUTER: u8 = 3;
    /// §3.8: domain name servers.
    pub const DNS: u8 = 6;
    /// §3.14.
    pub const HOSTNAME: u8 = 12;
    /// §3.17.
    pub const DOMAIN_NAME: u8 = 15;
    /// §8.3: NTP servers.
    pub const NTP_SERVERS: u8 = 42;
    /// §5.1: interface MTU.
    pub const MTU: u8 = 26;
    /// §5.3: broadcast address.
    pub const BROADCAST: u8 = 28;
    /// §9.1.
    pub const REQUESTED_IP: u8 = 50;
    /// §9.2.
    pub const LEASE_TIME: u8 = 51;
    /// §9.3: options continue in `file`/`sname`.
    pub const OVERLOAD: u8 = 52;
    /// §9.6.
    pub const MESSAGE_TYPE: u8 = 53;
    /// §9.7.
    pub const SERVER_ID: u8 = 54;
    /// §9.8.
    pub const PARAM_REQUEST_LIST: u8 = 55;
    /// §9.10.
    pub const MAX_MESSAGE_SIZE: u8 = 57;
    /// §9.11: T1.
    pub const RENEWAL_TIME: u8 = 58;
    /// §9.12: T2.
    pub const REBINDING_TIME: u8 = 59;
    /// §9.14.
    pub const CLIENT_ID: u8 = 61;
    /// RFC 8925: IPv6-only preferred, V6ONLY_WAIT in seconds (32 bits).
    pub const IPV6_ONLY_PREFERRED: u8 = 108;
    /// RFC 3397: domain search list, names compressed (RFC 1035 §4.1.4).
    pub const DOMAIN_SEARCH: u8 = 119;
    /// RFC 3442: classless static routes.
    pub const CLASSLESS_ROUTES: u8 = 121;
    /// Microsoft's pre-standard code for RFC 3442's routes, same format (older Windows).
    pub const MS_CLASSLESS_ROUTES: u8 = 249;
    /// §3.2: end of the options, no length.
    pub const END: u8 = 255;
}

/// A read-only view of a BOOTP/DHCP message (smoltcp style).
///
/// `new_checked` verifies the length and the magic cookie once; after that no accessor can
/// panic. The view does not interpret `op`: it serves requests and replies alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buf` after checking it holds the fixed header and the magic cookie.
    pub fn new_checked(buf: T) -> Result<Self, WireError> {
        let bytes = buf.as_ref();
        if bytes.len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        if read::<4>(bytes, field::MAGIC) != MAGIC_COOKIE {
            return Err(WireError::BadMagic);
        }
        Ok(Packet { buffer: buf })
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    fn ipv4(&self, f: Range<usize>) -> Ipv4Addr {
        Ipv4Addr::from(read::<4>(self.bytes(), f))
    }

    pub fn op(&self) -> u8 {
        read_u8(self.bytes(), field::OP)
    }

    pub fn htype(&self) -> u8 {
        read_u8(self.bytes(), field::HTYPE)
    }

    pub fn hlen(&self) -> u8 {
        read_u8(self.bytes(), field::HLEN)
    }

    pub fn hops(&self) -> u8 {
        read_u8(self.bytes(), field::HOPS)
    }

    pub fn xid(&self) -> u32 {
        read_u32(self.bytes(), field::XID)
    }

    pub fn secs(&self) -> u16 {
        read_u16(self.bytes(), field::SECS)
    }

    pub fn flags(&self) -> u16 {
        read_u16(self.bytes(), field::FLAGS)
    }

    /// The client cannot receive unicast before it is configured (RFC 2131 §4.1).
    pub fn broadcast_flag(&self) -> bool {
        self.flags() & FLAG_BROADCAST != 0
    }

    pub fn ciaddr(&self) -> Ipv4Addr {
        self.ipv4(field::CIADDR)
    }

    pub fn yiaddr(&self) -> Ipv4Addr {
        self.ipv4(field::YIADDR)
    }

    pub fn siaddr(&self) -> Ipv4Addr {
        self.ipv4(field::SIADDR)
    }

    pub fn giaddr(&self) -> Ipv4Addr {
        self.ipv4(field::GIADDR)
    }

    /// All 16 bytes of `chaddr`, whatever `hlen` says.
    pub fn chaddr_raw(&self) -> &[u8] {
        self.bytes().get(field::CHADDR).unwrap_or(&[])
    }

    /// The client's MAC, when the message says it is Ethernet (htype 1, hlen 6).
    pub fn client_mac(&self) -> Option<MacAddr> {
        if self.htype() != HTYPE_ETHERNET || self.hlen() != HLEN_ETHERNET {
            return None;
        }
        let chaddr = self.chaddr_raw();
        MacAddr::from_slice(chaddr.get(..6)?)
    }

    /// The options after the magic cookie. Option overload (52) is not followed: `sname`
    /// and `file` are never searched.
    pub fn options(&self) -> OptionIter<'_> {
        OptionIter::new(self.bytes().get(field::OPTIONS..).unwrap_or(&[]))
    }
}

/// One option: its code and its value, without the length byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpOption<'a> {
    pub code: u8,
    pub data: &'a [u8],
}

/// Iterates the options area (RFC 2132 §2): skips PAD, stops at END, yields
/// `Err(BadOption)` once (then `None`) when a length byte is missing or runs past the end.
/// A missing END is tolerated: the options simply end with the buffer. Every step consumes
/// at least one byte, so it never loops forever.
#[derive(Debug, Clone)]
pub struct OptionIter<'a> {
    /// What is left to walk; emptied at END or after an error, which ends the iteration.
    rest: &'a [u8],
}

impl<'a> OptionIter<'a> {
    /// Iterates `area`, which starts right after the magic cookie.
    pub fn new(area: &'a [u8]) -> Self {
        OptionIter { rest: area }
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = Result<DhcpOption<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.rest.first() {
                Some(&option::PAD) => self.rest = self.rest.get(1..).unwrap_or_default(),
                None | Some(&option::END) => {
                    self.rest = &[];
                    return None;
                }
                // Code and length bytes, then that many bytes of value.
                Some(_) => {
                    let opt =
                        split_option(&mut self.rest, |[code, len]| Some((code, usize::from(len))));
                    return opt.map(|opt| opt.map(|(code, data)| DhcpOption { code, data }));
                }
            }
        }
    }
}

/// What the reply policy needs from a client message, parsed once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub op: u8,
    pub xid: u32,
    pub secs: u16,
    pub flags: u16,
    pub ciaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
    pub chaddr: MacAddr,
    pub message_type: MessageType,
    /// Option 50 (RFC 2132 §9.1).
    pub requested_ip: Option<Ipv4Addr>,
    /// Option 54 (RFC 2132 §9.7).
    pub server_id: Option<Ipv4Addr>,
    /// Option 55 (RFC 2132 §9.8): which codes the client asked for.
    pub requested: ParamRequestList,
    /// Option 61 (RFC 2132 §9.14), echoed in every reply (RFC 6842 §3).
    pub client_id: Option<ClientId>,
    /// Option 57 (RFC 2132 §9.10): the largest IP datagram the client accepts, at least
    /// 576 (a smaller value, or none sent, counts as 576).
    pub max_message_size: u16,
}

/// The codes of a parameter request list (option 55), as a 256-bit set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParamRequestList([u64; 4]);

impl ParamRequestList {
    /// The set of `codes`.
    pub fn from_codes(codes: &[u8]) -> Self {
        let mut set = ParamRequestList::default();
        for &c in codes {
            if let Some(word) = set.0.get_mut(usize::from(c / 64)) {
                *word |= 1 << (c % 64);
            }
        }
        set
    }

    /// Whether the client asked for option `code`.
    pub fn contains(&self, code: u8) -> bool {
        self.0
            .get(usize::from(code / 64))
            .is_some_and(|w| w & (1 << (code % 64)) != 0)
    }
}

/// Longest value of one option (its length byte).
pub const MAX_OPTION_LEN: usize = 255;

/// A client identifier (option 61) as received: 1 to 255 bytes, kept inline so parsing
/// does not allocate.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ClientId {
    len: u8,
    bytes: [u8; MAX_OPTION_LEN],
}

impl ClientId {
    /// `data` as a client identifier; `BadOption` when empty (RFC 2132 §9.14: at least
    /// 2 bytes, but one is echoed as readily as it came) or over 255 bytes.
    pub fn new(data: &[u8]) -> Result<Self, WireError> {
        let len = u8::try_from(data.len()).map_err(|_| WireError::BadOption)?;
        if len == 0 {
            return Err(WireError::BadOption);
        }
        let mut bytes = [0u8; MAX_OPTION_LEN];
        for (d, s) in bytes.iter_mut().zip(data) {
            *d = *s;
        }
        Ok(ClientId { len, bytes })
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }
}

impl std::fmt::Debug for ClientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientId({:02x?})", self.as_bytes())
    }
}

/// The options `Request::parse` picks up, in their wire form.
#[derive(Default)]
struct RequestOptions {
    message_type: Option<MessageType>,
    requested_ip: Option<Ipv4Addr>,
    server_id: Option<Ipv4Addr>,
    requested: Option<ParamRequestList>,
    client_id: Option<ClientId>,
    max_message_size: Option<u16>,
}

impl Request {
    /// Parses a client's DHCP message (the UDP payload).
    ///
    /// Errors: `Truncated`/`BadMagic` from the view; `WrongProtocol` unless op is
    /// BOOTREQUEST; `BadHardwareAddr` unless htype 1 and hlen 6; `MissingOption` without
    /// option 53; `BadOption` for a malformed options area, option 53 not 1 byte, option 50
    /// or 54 not 4 bytes, option 57 not 2 bytes, an empty option 61, or any of 50, 53, 54,
    /// 55, 57 and 61 repeated (RFC 3396 would concatenate the
    /// repeats into a value of the wrong size). Option overload (52) is ignored: a client
    /// that hides option 53 in `sname`/`file` gets `MissingOption`; none is known to.
    pub fn parse(udp_payload: &[u8]) -> Result<Request, WireError> {
        let packet = Packet::new_checked(udp_payload)?;
        if packet.op() != BOOTREQUEST {
            return Err(WireError::WrongProtocol);
        }
        let chaddr = packet.client_mac().ok_or(WireError::BadHardwareAddr)?;
        let opts = RequestOptions::parse(packet.options())?;
        Ok(Request {
            op: packet.op(),
            xid: packet.xid(),
            secs: packet.secs(),
            flags: packet.flags(),
            ciaddr: packet.ciaddr(),
            giaddr: packet.giaddr(),
            chaddr,
            message_type: opts.message_type.ok_or(WireError::MissingOption)?,
            requested_ip: opts.requested_ip,
            server_id: opts.server_id,
            requested: opts.requested.unwrap_or_default(),
            client_id: opts.client_id,
            max_message_size: opts
                .max_message_size
                .unwrap_or(MIN_MAX_MESSAGE_SIZE)
                .max(MIN_MAX_MESSAGE_SIZE),
        })
    }

    /// The longest DHCP message (UDP payload) the client takes: its maximum message size
    /// less the IPv4 and UDP headers.
    pub fn max_reply_len(&self) -> usize {
        usize::from(self.max_message_size).saturating_sub(IPV4_UDP_HEADERS_LEN)
    }

    /// The client asked for broadcast replies (RFC 2131 §4.1).
    pub fn broadcast_flag(&self) -> bool {
        self.flags & FLAG_BROADCAST != 0
    }
}

impl RequestOptions {
    fn parse(options: OptionIter<'_>) -> Result<Self, WireError> {
        let mut out = RequestOptions::default();
        for opt in options {
            let opt = opt?;
            match opt.code {
                option::MESSAGE_TYPE => {
                    let [t] = fixed_value::<1>(opt.data)?;
                    set_once(&mut out.message_type, MessageType::from(t))?;
                }
                option::REQUESTED_IP => {
                    let ip = Ipv4Addr::from(fixed_value::<4>(opt.data)?);
                    set_once(&mut out.requested_ip, ip)?;
                }
                option::SERVER_ID => {
                    let ip = Ipv4Addr::from(fixed_value::<4>(opt.data)?);
                    set_once(&mut out.server_id, ip)?;
                }
                option::PARAM_REQUEST_LIST => {
                    set_once(&mut out.requested, ParamRequestList::from_codes(opt.data))?;
                }
                option::CLIENT_ID => set_once(&mut out.client_id, ClientId::new(opt.data)?)?,
                option::MAX_MESSAGE_SIZE => {
                    let size = u16::from_be_bytes(fixed_value::<2>(opt.data)?);
                    set_once(&mut out.max_message_size, size)?;
                }
                _ => {}
            }
        }
        Ok(out)
    }
}

/// An option value that must be exactly `N` bytes long.
fn fixed_value<const N: usize>(data: &[u8]) -> Result<[u8; N], WireError> {
    <[u8; N]>::try_from(data).map_err(|_| WireError::BadOption)
}

/// The fields of a BOOTREPLY header that vary from reply to reply (RFC 2131 §4.3.1,
/// table 3); `op`, `htype`, `hlen`, `hops`, `sname` and `file` are fixed by the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyHeader {
    pub xid: u32,
    pub secs: u16,
    pub flags: u16,
    pub ciaddr: Ipv4Addr,
    pub yiaddr: Ipv4Addr,
    pub siaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
    pub chaddr: MacAddr,
}

/// Writes a BOOTREPLY in place into `buf`, which starts at the UDP payload: the header and
/// magic cookie first, then options appended one by one, closed by `finish()`.
///
/// One byte is always kept free for END, so `finish()` cannot run out of room after any
/// sequence of successful `option` calls.
#[derive(Debug)]
pub struct ReplyWriter<'a> {
    buf: &'a mut [u8],
    /// Bytes written so far: the header and the options appended.
    len: usize,
}

impl<'a> ReplyWriter<'a> {
    /// Writes the header: op BOOTREPLY, htype Ethernet, hlen 6, hops 0, the fields of
    /// `hdr`, `chaddr` padded with zeros to 16 bytes, `sname`/`file` zeroed, the cookie.
    /// `BufferTooSmall` if `buf` cannot hold a minimal (300-byte) message.
    pub fn new(buf: &'a mut [u8], hdr: &ReplyHeader) -> Result<Self, WireError> {
        if buf.len() < MIN_MESSAGE_LEN {
            return Err(WireError::BufferTooSmall);
        }
        let header = buf.get_mut(..HEADER_LEN).ok_or(WireError::BufferTooSmall)?;
        // Zeroes hops, the rest of chaddr, sname and file in one go.
        header.fill(0);
        write_u8(header, field::OP, BOOTREPLY);
        write_u8(header, field::HTYPE, HTYPE_ETHERNET);
        write_u8(header, field::HLEN, HLEN_ETHERNET);
        write_u32(header, field::XID, hdr.xid);
        write_u16(header, field::SECS, hdr.secs);
        write_u16(header, field::FLAGS, hdr.flags);
        write(header, field::CIADDR, &hdr.ciaddr.octets());
        write(header, field::YIADDR, &hdr.yiaddr.octets());
        write(header, field::SIADDR, &hdr.siaddr.octets());
        write(header, field::GIADDR, &hdr.giaddr.octets());
        let mac_end = field::CHADDR.start + usize::from(HLEN_ETHERNET);
        write(header, field::CHADDR.start..mac_end, &hdr.chaddr.octets());
        write(header, field::MAGIC, &MAGIC_COOKIE);
        Ok(ReplyWriter {
            buf,
            len: HEADER_LEN,
        })
    }

    /// Appends option `code` with value `data`. `ValueTooLong` if `data` is over 255 bytes,
    /// `BufferTooSmall` if it does not fit (with room left for END), `BadOption` for the
    /// PAD and END codes, which carry no length and are the writer's business.
    pub fn option(&mut self, code: u8, data: &[u8]) -> Result<(), WireError> {
        let len = u8::try_from(data.len()).map_err(|_| WireError::ValueTooLong)?;
        let value = self.reserve(code, len)?;
        // Both are `len` bytes long.
        for (dst, src) in value.iter_mut().zip(data) {
            *dst = *src;
        }
        Ok(())
    }

    /// Option 53 (RFC 2132 §9.6).
    pub fn message_type(&mut self, message_type: MessageType) -> Result<(), WireError> {
        self.option_u8(option::MESSAGE_TYPE, message_type.into())
    }

    pub fn option_u8(&mut self, code: u8, value: u8) -> Result<(), WireError> {
        self.option(code, &[value])
    }

    /// A 16-bit value in network order (e.g. MTU, RFC 2132 §5.1).
    pub fn option_u16(&mut self, code: u8, value: u16) -> Result<(), WireError> {
        self.option(code, &value.to_be_bytes())
    }

    /// A 32-bit value in network order (e.g. lease time, RFC 2132 §9.2).
    pub fn option_u32(&mut self, code: u8, value: u32) -> Result<(), WireError> {
        self.option(code, &value.to_be_bytes())
    }

    pub fn option_ipv4(&mut self, code: u8, addr: Ipv4Addr) -> Result<(), WireError> {
        self.option(code, &addr.octets())
    }

    /// All of `addrs` in one option (routers, DNS servers). Writes nothing for an empty
    /// list, since these options have a minimum length of 4 (RFC 2132 §3.5, §3.8);
    /// `ValueTooLong` past 63 addresses (252 bytes), rather than splitting the option.
    pub fn option_ipv4_list(&mut self, code: u8, addrs: &[Ipv4Addr]) -> Result<(), WireError> {
        if addrs.is_empty() {
            return Ok(());
        }
        if addrs.len() > MAX_IPV4_LIST {
            return Err(WireError::ValueTooLong);
        }
        // At most 63 * 4 = 252.
        let len =
            u8::try_from(addrs.len().saturating_mul(4)).map_err(|_| WireError::ValueTooLong)?;
        let value = self.reserve(code, len)?;
        write_list(value, addrs.iter().map(Ipv4Addr::octets));
        Ok(())
    }

    /// A string option (host name, domain name), as its UTF-8 bytes without a NUL
    /// (RFC 2132 §2: "options containing NVT ASCII data SHOULD NOT include a trailing NULL").
    pub fn option_str(&mut self, code: u8, value: &str) -> Result<(), WireError> {
        self.option(code, value.as_bytes())
    }

    /// A value of any length (RFC 3396): split over as many options `code` as it takes,
    /// 255 bytes each; nothing for an empty value. All or nothing: `BufferTooSmall` leaves
    /// the writer as it was.
    pub fn option_long(&mut self, code: u8, data: &[u8]) -> Result<(), WireError> {
        let parts = data.len().div_ceil(MAX_OPTION_LEN);
        let total = data
            .len()
            .checked_add(parts.saturating_mul(2))
            .and_then(|n| n.checked_add(self.len))
            .ok_or(WireError::BufferTooSmall)?;
        if total >= self.buf.len() {
            return Err(WireError::BufferTooSmall);
        }
        for chunk in data.chunks(MAX_OPTION_LEN) {
            self.option(code, chunk)?;
        }
        Ok(())
    }

    /// Classless static routes (RFC 3442 §3) as option `code` (121, or 249 for older
    /// Windows): per route the prefix width, the significant octets of the destination and
    /// the router. Nothing for no routes; `ValueTooLong` over 255 bytes (the binding and
    /// the policy keep under it).
    pub fn option_routes<I>(&mut self, code: u8, routes: I) -> Result<(), WireError>
    where
        I: IntoIterator<Item = Route> + Clone,
    {
        let len = routes
            .clone()
            .into_iter()
            .try_fold(0usize, |n, r| n.checked_add(r.encoded_len()))
            .ok_or(WireError::ValueTooLong)?;
        if len == 0 {
            return Ok(());
        }
        let len = u8::try_from(len).map_err(|_| WireError::ValueTooLong)?;
        let mut rest = self.reserve(code, len)?;
        for r in routes {
            let n = r.encode(rest)?;
            rest = rest.get_mut(n..).unwrap_or_default();
        }
        Ok(())
    }

    /// Writes the code and length of an option and returns its `len`-byte value area,
    /// keeping one byte free for END.
    fn reserve(&mut self, code: u8, len: u8) -> Result<&mut [u8], WireError> {
        if code == option::PAD || code == option::END {
            return Err(WireError::BadOption);
        }
        let start = self.len;
        let end = start
            .checked_add(2 + usize::from(len))
            .ok_or(WireError::BufferTooSmall)?;
        // `end` itself must remain a valid index: that is where END goes.
        if end >= self.buf.len() {
            return Err(WireError::BufferTooSmall);
        }
        let area = self
            .buf
            .get_mut(start..end)
            .ok_or(WireError::BufferTooSmall)?;
        let (head, value) = area
            .split_at_mut_checked(2)
            .ok_or(WireError::BufferTooSmall)?;
        write(head, 0..2, &[code, len]);
        self.len = end;
        Ok(value)
    }

    /// Writes END and zero padding up to `MIN_MESSAGE_LEN`; returns the message length,
    /// which is the UDP payload length to give `frame::emit_ipv4_udp`.
    pub fn finish(self) -> Result<usize, WireError> {
        let total = self.len.saturating_add(1).max(MIN_MESSAGE_LEN);
        let tail = self
            .buf
            .get_mut(self.len..total)
            .ok_or(WireError::BufferTooSmall)?;
        // RFC 2132 §3.2: after END the rest of the area is PAD (zero).
        tail.fill(0);
        write_u8(tail, 0, option::END);
        Ok(total)
    }
}

/// One classless static route (RFC 3442): a destination network, host bits zero, and the
/// router, 0.0.0.0 for a destination on the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    dest: [u8; 4],
    prefix: u8,
    pub router: Ipv4Addr,
}

impl Route {
    /// The route to `dest`/`prefix` through `router`; `None` for a prefix over 32 or host
    /// bits set in `dest`.
    pub fn new(dest: Ipv4Addr, prefix: u8, router: Ipv4Addr) -> Option<Route> {
        let host_bits = 32u32.checked_sub(u32::from(prefix))?;
        let mask = u32::MAX.checked_shl(host_bits).unwrap_or(0);
        if u32::from(dest) & !mask != 0 {
            return None;
        }
        Some(Route {
            dest: dest.octets(),
            prefix,
            router,
        })
    }

    /// The default route through `router`.
    pub fn default_via(router: Ipv4Addr) -> Route {
        Route {
            dest: [0; 4],
            prefix: 0,
            router,
        }
    }

    /// The on-link host route to `addr` (`addr`/32 via 0.0.0.0).
    pub fn on_link_host(addr: Ipv4Addr) -> Route {
        Route {
            dest: addr.octets(),
            prefix: 32,
            router: Ipv4Addr::UNSPECIFIED,
        }
    }

    pub fn dest(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.dest)
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// The significant octets of the destination: ceil(prefix / 8).
    fn significant(&self) -> usize {
        usize::from(self.prefix).div_ceil(8)
    }

    /// Width byte, significant octets, router: 5 to 9 bytes.
    pub fn encoded_len(&self) -> usize {
        1 + self.significant() + 4
    }

    /// Writes the route at the start of `out`; returns the bytes written.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, WireError> {
        let len = self.encoded_len();
        let area = out.get_mut(..len).ok_or(WireError::BufferTooSmall)?;
        let (width, rest) = area.split_first_mut().ok_or(WireError::BufferTooSmall)?;
        *width = self.prefix;
        let (dest, router) = rest
            .split_at_mut_checked(self.significant())
            .ok_or(WireError::BufferTooSmall)?;
        for (d, s) in dest.iter_mut().zip(&self.dest) {
            *d = *s;
        }
        for (d, s) in router.iter_mut().zip(&self.router.octets()) {
            *d = *s;
        }
        Ok(len)
    }
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{} via {}", self.dest(), self.prefix, self.router)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::frame::{self, Ipv4UdpHeader, ETH_HDR_LEN, IPV4_HDR_LEN};

    /// DHCPDISCOVER (UDP payload) from ISC dhclient 4.4.3-P1 (Debian), captured with tcpdump
    /// on a veth pair in a scratch network namespace. Options: 53 Discover, 12 "vm", 55 with
    /// 13 codes, END, then PAD up to 300 bytes.
    static DISCOVER_BYTES: [u8; 300] = [
        0x01, 0x01, 0x06, 0x00, 0x44, 0xca, 0xa7, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x52, 0x54,
        0x00, 0x12, 0x34, 0x56, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x63, 0x82, 0x53, 0x63,
        0x35, 0x01, 0x01, 0x0c, 0x02, 0x76, 0x6d, 0x37, 0x0d, 0x01, 0x1c, 0x02, 0x03, 0x0f, 0x06,
        0x77, 0x0c, 0x2c, 0x2f, 0x1a, 0x79, 0x2a, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    /// DHCPREQUEST (SELECTING state) from the same dhclient, same capture, sent after a
    /// scapy-built OFFER of 192.0.2.50 from server 192.0.2.1: adds 54 and 50 before 12.
    static REQUEST_BYTES: [u8; 300] = [
        0x01, 0x01, 0x06, 0x00, 0x44, 0xca, 0xa7, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x52, 0x54,
        0x00, 0x12, 0x34, 0x56, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x63, 0x82, 0x53, 0x63,
        0x35, 0x01, 0x03, 0x36, 0x04, 0xc0, 0x00, 0x02, 0x01, 0x32, 0x04, 0xc0, 0x00, 0x02, 0x32,
        0x0c, 0x02, 0x76, 0x6d, 0x37, 0x0d, 0x01, 0x1c, 0x02, 0x03, 0x0f, 0x06, 0x77, 0x0c, 0x2c,
        0x2f, 0x1a, 0x79, 0x2a, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    const CLIENT_MAC: MacAddr = MacAddr([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);

    /// dhclient's parameter request list in both fixtures.
    static PRL: [u8; 13] = [1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42];

    /// A minimal client message: the DISCOVER's header, then `options` and padding.
    fn with_options(options: &[u8]) -> Vec<u8> {
        let mut m = DISCOVER_BYTES[..HEADER_LEN].to_vec();
        m.extend_from_slice(options);
        m
    }

    fn options_of(buf: &[u8]) -> Vec<Result<DhcpOption<'_>, WireError>> {
        OptionIter::new(buf).collect()
    }

    #[test]
    fn deconstruct() {
        let p = Packet::new_checked(&DISCOVER_BYTES[..]).unwrap();
        assert_eq!(p.op(), BOOTREQUEST);
        assert_eq!(p.htype(), 1);
        assert_eq!(p.hlen(), 6);
        assert_eq!(p.hops(), 0);
        assert_eq!(p.xid(), 0x44ca_a730);
        assert_eq!(p.secs(), 0);
        assert_eq!(p.flags(), 0);
        assert!(!p.broadcast_flag());
        assert_eq!(p.ciaddr(), Ipv4Addr::UNSPECIFIED);
        assert_eq!(p.yiaddr(), Ipv4Addr::UNSPECIFIED);
        assert_eq!(p.siaddr(), Ipv4Addr::UNSPECIFIED);
        assert_eq!(p.giaddr(), Ipv4Addr::UNSPECIFIED);
        let mut chaddr = [0u8; 16];
        chaddr[..6].copy_from_slice(&CLIENT_MAC.0);
        assert_eq!(p.chaddr_raw(), &chaddr);
        assert_eq!(p.client_mac(), Some(CLIENT_MAC));
        let opts: Vec<_> = p.options().collect::<Result<_, _>>().unwrap();
        assert_eq!(
            opts,
            [
                DhcpOption {
                    code: option::MESSAGE_TYPE,
                    data: &[1]
                },
                DhcpOption {
                    code: option::HOSTNAME,
                    data: b"vm"
                },
                DhcpOption {
                    code: option::PARAM_REQUEST_LIST,
                    data: &PRL
                },
            ]
        );
        assert_eq!(p.into_inner().len(), 300);
    }

    #[test]
    fn deconstruct_request() {
        let p = Packet::new_checked(&REQUEST_BYTES).unwrap();
        assert_eq!(p.xid(), 0x44ca_a730);
        let codes: Vec<u8> = p.options().map(|o| o.unwrap().code).collect();
        assert_eq!(codes, [53, 54, 50, 12, 55]);
    }

    #[test]
    fn parse_discover() {
        let r = Request::parse(&DISCOVER_BYTES).unwrap();
        assert_eq!(
            r,
            Request {
                op: BOOTREQUEST,
                xid: 0x44ca_a730,
                secs: 0,
                flags: 0,
                ciaddr: Ipv4Addr::UNSPECIFIED,
                giaddr: Ipv4Addr::UNSPECIFIED,
                chaddr: CLIENT_MAC,
                message_type: MessageType::Discover,
                requested_ip: None,
                server_id: None,
                requested: ParamRequestList::from_codes(&PRL),
                client_id: None,
                max_message_size: 576,
            }
        );
        assert!(!r.broadcast_flag());
        assert!(r.requested.contains(121) && !r.requested.contains(249));
    }

    #[test]
    fn parse_request() {
        let r = Request::parse(&REQUEST_BYTES).unwrap();
        assert_eq!(r.message_type, MessageType::Request);
        assert_eq!(r.requested_ip, Some(Ipv4Addr::new(192, 0, 2, 50)));
        assert_eq!(r.server_id, Some(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(r.chaddr, CLIENT_MAC);
        assert_eq!(r.ciaddr, Ipv4Addr::UNSPECIFIED);
    }

    #[test]
    fn parse_broadcast_flag() {
        let mut m = DISCOVER_BYTES;
        m[10] = 0x80;
        assert!(Request::parse(&m).unwrap().broadcast_flag());
        assert!(Packet::new_checked(&m[..]).unwrap().broadcast_flag());
    }

    #[test]
    fn message_type_round_trip() {
        for n in 0..=255u8 {
            assert_eq!(u8::from(MessageType::from(n)), n);
        }
        assert_eq!(MessageType::from(8), MessageType::Inform);
        assert_eq!(MessageType::from(9), MessageType::Unknown(9));
        assert_eq!(MessageType::from(0), MessageType::Unknown(0));
    }

    #[test]
    fn short_packet() {
        for len in 0..=REQUEST_BYTES.len() {
            let cut = &REQUEST_BYTES[..len];
            let parsed = Request::parse(cut);
            if len < HEADER_LEN {
                assert_eq!(parsed, Err(WireError::Truncated), "len {len}");
                assert_eq!(Packet::new_checked(cut).err(), Some(WireError::Truncated));
            } else if let Ok(p) = Packet::new_checked(cut) {
                // Every accessor on every cut, for the no-panic promise.
                let _ = (p.op(), p.xid(), p.secs(), p.flags(), p.ciaddr(), p.giaddr());
                let _ = (p.chaddr_raw(), p.client_mac(), p.options().count());
            }
        }
        // Cut inside option 54 (code, len, 2 of 4 bytes): its length runs past the end.
        assert_eq!(
            Request::parse(&REQUEST_BYTES[..247]),
            Err(WireError::BadOption)
        );
        // Cut right after option 53: no END, but nothing is malformed.
        assert!(Request::parse(&REQUEST_BYTES[..243]).is_ok());
    }

    #[test]
    fn parse_bad_magic() {
        let mut m = DISCOVER_BYTES;
        m[239] = 0x62;
        assert_eq!(Request::parse(&m), Err(WireError::BadMagic));
        assert_eq!(Packet::new_checked(&m[..]).err(), Some(WireError::BadMagic));
    }

    #[test]
    fn parse_wrong_op() {
        let mut m = DISCOVER_BYTES;
        m[0] = BOOTREPLY;
        assert_eq!(Request::parse(&m), Err(WireError::WrongProtocol));
    }

    #[test]
    fn parse_bad_hardware_addr() {
        for (htype, hlen) in [(6, 6), (1, 16), (1, 0), (1, 255), (32, 20)] {
            let mut m = DISCOVER_BYTES;
            m[1] = htype;
            m[2] = hlen;
            assert_eq!(Request::parse(&m), Err(WireError::BadHardwareAddr));
            let p = Packet::new_checked(&m[..]).unwrap();
            assert_eq!(p.client_mac(), None);
            assert_eq!(p.chaddr_raw().len(), 16);
        }
    }

    #[test]
    fn parse_missing_message_type() {
        let m = with_options(&[12, 2, b'v', b'm', 255]);
        assert_eq!(Request::parse(&m), Err(WireError::MissingOption));
        assert_eq!(
            Request::parse(&with_options(&[])),
            Err(WireError::MissingOption)
        );
    }

    #[test]
    fn parse_bad_option_sizes() {
        for opts in [
            &[53, 2, 1, 1, 255][..],
            &[53, 0, 255],
            &[53, 1, 3, 50, 3, 192, 0, 2, 255],
            &[53, 1, 3, 54, 5, 192, 0, 2, 1, 0, 255],
            &[53, 1, 3, 50, 0, 255],
        ] {
            assert_eq!(
                Request::parse(&with_options(opts)),
                Err(WireError::BadOption)
            );
        }
    }

    #[test]
    fn parse_repeated_option() {
        let m = with_options(&[53, 1, 1, 53, 1, 3, 255]);
        assert_eq!(Request::parse(&m), Err(WireError::BadOption));
        let m = with_options(&[53, 1, 3, 50, 4, 1, 2, 3, 4, 50, 4, 1, 2, 3, 4, 255]);
        assert_eq!(Request::parse(&m), Err(WireError::BadOption));
    }

    #[test]
    fn parse_option_past_end() {
        // A bad option anywhere spoils the message, even an unrelated one after 53.
        let m = with_options(&[53, 1, 1, 12, 9, b'v', b'm']);
        assert_eq!(Request::parse(&m), Err(WireError::BadOption));
    }

    #[test]
    fn parse_ignores_overload_and_after_end() {
        // Overload says "more in sname/file"; we do not look there. Bytes after END are
        // padding, even if they look like options.
        let m = with_options(&[52, 1, 3, 53, 1, 8, 255, 53, 1, 1, 50, 9]);
        let r = Request::parse(&m).unwrap();
        assert_eq!(r.message_type, MessageType::Inform);
        assert_eq!(r.requested_ip, None);
    }

    #[test]
    fn option_iter_length_past_end() {
        let area = [53, 1, 1, 12, 5, b'v', b'm'];
        let mut it = OptionIter::new(&area);
        assert_eq!(
            it.next(),
            Some(Ok(DhcpOption {
                code: 53,
                data: &[1]
            }))
        );
        assert_eq!(it.next(), Some(Err(WireError::BadOption)));
        assert_eq!(it.next(), None);
        assert_eq!(it.next(), None);
        // A code with no length byte at all.
        assert_eq!(options_of(&[12]), [Err(WireError::BadOption)]);
    }

    #[test]
    fn option_iter_pad_runs() {
        let area = [0, 0, 0, 53, 1, 2, 0, 0, 12, 0, 0, 255, 0, 0];
        assert_eq!(
            options_of(&area),
            [
                Ok(DhcpOption {
                    code: 53,
                    data: &[2]
                }),
                Ok(DhcpOption {
                    code: 12,
                    data: &[]
                }),
            ]
        );
        assert_eq!(options_of(&[0; 60]), []);
    }

    #[test]
    fn option_iter_missing_end() {
        assert_eq!(
            options_of(&[53, 1, 5, 0, 0]),
            [Ok(DhcpOption {
                code: 53,
                data: &[5]
            })]
        );
        assert_eq!(options_of(&[]), []);
    }

    #[test]
    fn option_iter_stops_at_end() {
        assert_eq!(options_of(&[255, 53, 1, 5]), []);
        // Garbage after END, even a bad length, is not looked at.
        assert_eq!(
            options_of(&[53, 1, 5, 255, 12, 200]),
            [Ok(DhcpOption {
                code: 53,
                data: &[5]
            })]
        );
    }

    #[test]
    fn option_iter_max_length() {
        let mut area = vec![43, 255];
        area.extend_from_slice(&[7; 255]);
        let opts = options_of(&area);
        assert_eq!(opts.len(), 1);
        assert_eq!(opts[0].unwrap().data.len(), 255);
        area.pop();
        assert_eq!(options_of(&area), [Err(WireError::BadOption)]);
    }

    /// Every byte of both fixtures set to every value: Request::parse answers, never panics.
    #[test]
    fn single_byte_mutations_never_panic() {
        for fixture in [&DISCOVER_BYTES, &REQUEST_BYTES] {
            let mut m = *fixture;
            for at in 0..m.len() {
                let original = m[at];
                for v in 0..=255 {
                    m[at] = v;
                    let _ = Request::parse(&m);
                }
                m[at] = original;
            }
        }
    }

    fn offer_header() -> ReplyHeader {
        ReplyHeader {
            xid: 0x44ca_a730,
            secs: 0,
            flags: 0x8000,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::new(192, 0, 2, 50),
            siaddr: Ipv4Addr::new(192, 0, 2, 1),
            giaddr: Ipv4Addr::new(198, 51, 100, 7),
            chaddr: CLIENT_MAC,
        }
    }

    /// Writes the OFFER that `OFFER_OPTIONS_BYTES` spells out.
    fn write_offer(buf: &mut [u8]) -> usize {
        let mut w = ReplyWriter::new(buf, &offer_header()).unwrap();
        w.message_type(MessageType::Offer).unwrap();
        w.option_ipv4(option::SERVER_ID, Ipv4Addr::new(192, 0, 2, 1))
            .unwrap();
        w.option_u32(option::LEASE_TIME, 86400).unwrap();
        w.option_u32(option::RENEWAL_TIME, 43200).unwrap();
        w.option_u32(option::REBINDING_TIME, 75600).unwrap();
        w.option_ipv4(option::SUBNET_MASK, Ipv4Addr::new(255, 255, 255, 0))
            .unwrap();
        w.option_ipv4(option::BROADCAST, Ipv4Addr::new(192, 0, 2, 255))
            .unwrap();
        w.option_ipv4_list(option::ROUTER, &[Ipv4Addr::new(192, 0, 2, 1)])
            .unwrap();
        let dns = [
            Ipv4Addr::new(192, 0, 2, 53),
            Ipv4Addr::new(198, 51, 100, 53),
        ];
        w.option_ipv4_list(option::DNS, &dns).unwrap();
        w.option_str(option::HOSTNAME, "vm1").unwrap();
        w.option_str(option::DOMAIN_NAME, "example.org").unwrap();
        w.option_u16(option::MTU, 1450).unwrap();
        w.finish().unwrap()
    }

    /// The options of `write_offer`, encoded by hand from RFC 2132.
    static OFFER_OPTIONS_BYTES: [u8; 78] = [
        53, 1, 2, // message type: OFFER
        54, 4, 192, 0, 2, 1, // server id
        51, 4, 0x00, 0x01, 0x51, 0x80, // lease 86400 s
        58, 4, 0x00, 0x00, 0xa8, 0xc0, // T1 43200 s
        59, 4, 0x00, 0x01, 0x27, 0x50, // T2 75600 s
        1, 4, 255, 255, 255, 0, // subnet mask
        28, 4, 192, 0, 2, 255, // broadcast
        3, 4, 192, 0, 2, 1, // router
        6, 8, 192, 0, 2, 53, 198, 51, 100, 53, // DNS
        12, 3, b'v', b'm', b'1', // host name
        15, 11, b'e', b'x', b'a', b'm', b'p', b'l', b'e', b'.', b'o', b'r', b'g', // domain
        26, 2, 0x05, 0xaa, // MTU 1450
        255,  // END
    ];

    #[test]
    fn construct() {
        let mut buf = [0xa5u8; 600];
        let len = write_offer(&mut buf);
        // Longer than the 300-byte minimum, so no padding after END.
        assert_eq!(len, HEADER_LEN + OFFER_OPTIONS_BYTES.len());
        assert_eq!(&buf[..4], &[BOOTREPLY, 1, 6, 0]);
        assert_eq!(&buf[4..8], &[0x44, 0xca, 0xa7, 0x30]);
        assert_eq!(&buf[8..12], &[0, 0, 0x80, 0]);
        assert_eq!(
            &buf[12..28],
            &[0, 0, 0, 0, 192, 0, 2, 50, 192, 0, 2, 1, 198, 51, 100, 7]
        );
        assert_eq!(&buf[28..34], &CLIENT_MAC.0);
        // chaddr padding, sname and file.
        assert!(buf[34..236].iter().all(|&b| b == 0));
        assert_eq!(&buf[236..240], &MAGIC_COOKIE);
        assert_eq!(&buf[HEADER_LEN..len], &OFFER_OPTIONS_BYTES);
        assert!(buf[len..].iter().all(|&b| b == 0xa5));
    }

    #[test]
    fn emit_then_parse() {
        let mut buf = [0xa5u8; 600];
        let len = write_offer(&mut buf);
        let p = Packet::new_checked(&buf[..len]).unwrap();
        let h = offer_header();
        assert_eq!(
            (p.op(), p.htype(), p.hlen(), p.hops()),
            (BOOTREPLY, 1, 6, 0)
        );
        assert_eq!((p.xid(), p.secs(), p.flags()), (h.xid, h.secs, h.flags));
        assert!(p.broadcast_flag());
        assert_eq!((p.ciaddr(), p.yiaddr()), (h.ciaddr, h.yiaddr));
        assert_eq!((p.siaddr(), p.giaddr()), (h.siaddr, h.giaddr));
        assert_eq!(p.client_mac(), Some(CLIENT_MAC));
        let mut area = Vec::new();
        for o in p.options() {
            let o = o.unwrap();
            area.extend_from_slice(&[o.code, o.data.len() as u8]);
            area.extend_from_slice(o.data);
        }
        area.push(option::END);
        assert_eq!(area, OFFER_OPTIONS_BYTES);
    }

    /// The whole reply path (ReplyWriter, then emit_ipv4_udp around it) decoded by an
    /// independent implementation: pnet for the checksums, dhcproto for the message.
    #[test]
    fn emit_decodes_with_dhcproto() {
        use dhcproto::v4::{self, DhcpOption as D, OptionCode};
        use dhcproto::{Decodable, Decoder};
        use pnet_packet::ipv4::{self as pipv4, Ipv4Packet};
        use pnet_packet::udp::{self as pudp, UdpPacket};

        let mut buf = [0xa5u8; 1500];
        let dhcp_len = write_offer(&mut buf[frame::IPV4_UDP_PAYLOAD_OFFSET..]);
        let hdr = Ipv4UdpHeader {
            src_mac: "02:00:5e:10:00:01".parse().unwrap(),
            dst_mac: CLIENT_MAC,
            src_ip: Ipv4Addr::new(192, 0, 2, 1),
            dst_ip: Ipv4Addr::new(192, 0, 2, 50),
            src_port: SERVER_PORT,
            dst_port: CLIENT_PORT,
        };
        let len = frame::emit_ipv4_udp(&mut buf, &hdr, dhcp_len).unwrap();
        assert_eq!(len, frame::IPV4_UDP_PAYLOAD_OFFSET + dhcp_len);
        let ip = Ipv4Packet::new(&buf[ETH_HDR_LEN..len]).unwrap();
        assert_eq!(ip.get_checksum(), pipv4::checksum(&ip));
        let udp = UdpPacket::new(&buf[ETH_HDR_LEN + IPV4_HDR_LEN..len]).unwrap();
        assert_eq!(
            udp.get_checksum(),
            pudp::ipv4_checksum(&udp, &hdr.src_ip, &hdr.dst_ip)
        );

        let payload = &buf[frame::IPV4_UDP_PAYLOAD_OFFSET..len];
        let msg = v4::Message::decode(&mut Decoder::new(payload)).unwrap();
        let h = offer_header();
        assert_eq!(msg.opcode(), v4::Opcode::BootReply);
        assert_eq!(msg.htype(), v4::HType::Eth);
        assert_eq!((msg.hlen(), msg.hops()), (6, 0));
        assert_eq!((msg.xid(), msg.secs()), (h.xid, h.secs));
        assert!(msg.flags().broadcast());
        assert_eq!((msg.ciaddr(), msg.yiaddr()), (h.ciaddr, h.yiaddr));
        assert_eq!((msg.siaddr(), msg.giaddr()), (h.siaddr, h.giaddr));
        assert_eq!(msg.chaddr(), &CLIENT_MAC.0);
        let o = msg.opts();
        assert_eq!(o.msg_type(), Some(v4::MessageType::Offer));
        let expected = [
            D::ServerIdentifier(Ipv4Addr::new(192, 0, 2, 1)),
            D::AddressLeaseTime(86400),
            D::Renewal(43200),
            D::Rebinding(75600),
            D::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)),
            D::BroadcastAddr(Ipv4Addr::new(192, 0, 2, 255)),
            D::Router(vec![Ipv4Addr::new(192, 0, 2, 1)]),
            D::DomainNameServer(vec![
                Ipv4Addr::new(192, 0, 2, 53),
                Ipv4Addr::new(198, 51, 100, 53),
            ]),
            D::Hostname("vm1".into()),
            D::DomainName("example.org".into()),
            D::InterfaceMtu(1450),
        ];
        for e in &expected {
            assert_eq!(o.get(OptionCode::from(e)), Some(e));
        }
        // Those and the message type, nothing else.
        assert_eq!(o.len(), expected.len() + 1, "{o:?}");
    }

    #[test]
    fn emit_small_buffer() {
        let mut buf = [0xa5u8; MIN_MESSAGE_LEN - 1];
        assert_eq!(
            ReplyWriter::new(&mut buf, &offer_header()).err(),
            Some(WireError::BufferTooSmall)
        );
        assert!(buf.iter().all(|&b| b == 0xa5));
    }

    #[test]
    fn emit_buffer_full_keeps_room_for_end() {
        let mut buf = [0xa5u8; MIN_MESSAGE_LEN];
        let mut w = ReplyWriter::new(&mut buf, &offer_header()).unwrap();
        // 60 bytes of option area; 14 four-byte options fill 56 of them.
        for _ in 0..14 {
            w.option_u16(option::MTU, 1500).unwrap();
        }
        // Four bytes left: a four-byte option would leave none for END.
        assert_eq!(w.option_u32(200, 1), Err(WireError::BufferTooSmall));
        assert_eq!(w.option_u16(200, 1), Err(WireError::BufferTooSmall));
        w.option_u8(200, 1).unwrap();
        assert_eq!(w.option(201, &[]), Err(WireError::BufferTooSmall));
        assert_eq!(w.finish(), Ok(MIN_MESSAGE_LEN));
        assert_eq!(&buf[292..], &[26, 2, 0x05, 0xdc, 200, 1, 1, 255]);
    }

    #[test]
    fn emit_long_reply_not_padded() {
        let mut buf = [0xa5u8; 1000];
        let mut w = ReplyWriter::new(&mut buf, &offer_header()).unwrap();
        w.option(43, &[7; 255]).unwrap();
        let len = w.finish().unwrap();
        assert_eq!(len, HEADER_LEN + 2 + 255 + 1);
        assert_eq!(buf[len - 1], option::END);
        assert_eq!(buf[len], 0xa5);
    }

    #[test]
    fn emit_bare_header() {
        let mut buf = [0xa5u8; MIN_MESSAGE_LEN];
        let w = ReplyWriter::new(&mut buf, &offer_header()).unwrap();
        assert_eq!(w.finish(), Ok(MIN_MESSAGE_LEN));
        assert_eq!(buf[HEADER_LEN], option::END);
        assert!(buf[HEADER_LEN + 1..].iter().all(|&b| b == 0));
    }

    #[test]
    fn emit_option_errors() {
        let mut buf = [0xa5u8; 1500];
        let mut w = ReplyWriter::new(&mut buf, &offer_header()).unwrap();
        assert_eq!(w.option(43, &[0; 256]), Err(WireError::ValueTooLong));
        assert_eq!(w.option(option::PAD, &[]), Err(WireError::BadOption));
        assert_eq!(w.option_u8(option::END, 0), Err(WireError::BadOption));
        let many = [Ipv4Addr::new(192, 0, 2, 1); 64];
        assert_eq!(
            w.option_ipv4_list(option::DNS, &many),
            Err(WireError::ValueTooLong)
        );
        // Failed calls wrote nothing; an empty list writes nothing either.
        w.option_ipv4_list(option::ROUTER, &[]).unwrap();
        w.option_ipv4_list(option::DNS, &many[..63]).unwrap();
        assert_eq!(w.finish(), Ok(HEADER_LEN + 2 + 252 + 1));
        assert_eq!(&buf[HEADER_LEN..HEADER_LEN + 6], &[6, 252, 192, 0, 2, 1]);
    }

    fn route(dest: [u8; 4], prefix: u8, router: [u8; 4]) -> Route {
        Route::new(dest.into(), prefix, router.into()).unwrap()
    }

    /// The options area a writer left, after the header: code, len, value... END.
    fn written_options(f: impl FnOnce(&mut ReplyWriter<'_>)) -> Vec<u8> {
        let mut buf = [0xa5u8; 1500];
        let mut w = ReplyWriter::new(&mut buf, &offer_header()).unwrap();
        f(&mut w);
        let len = w.finish().unwrap();
        let area = &buf[HEADER_LEN..len];
        let end = area.iter().rposition(|&b| b == option::END).unwrap();
        area[..=end].to_vec()
    }

    #[test]
    fn route_encoding_rfc3442() {
        // RFC 3442 §3's examples: width, significant octets, router.
        let cases: [(Route, &[u8]); 6] = [
            (route([0, 0, 0, 0], 0, [192, 0, 2, 1]), &[0, 192, 0, 2, 1]),
            (
                route([10, 0, 0, 0], 8, [192, 0, 2, 1]),
                &[8, 10, 192, 0, 2, 1],
            ),
            (
                route([10, 17, 0, 0], 16, [192, 0, 2, 1]),
                &[16, 10, 17, 192, 0, 2, 1],
            ),
            (
                route([203, 0, 113, 0], 25, [192, 0, 2, 1]),
                &[25, 203, 0, 113, 0, 192, 0, 2, 1],
            ),
            (
                route([198, 51, 100, 0], 24, [192, 0, 2, 1]),
                &[24, 198, 51, 100, 192, 0, 2, 1],
            ),
            (
                Route::on_link_host(Ipv4Addr::new(192, 0, 2, 1)),
                &[32, 192, 0, 2, 1, 0, 0, 0, 0],
            ),
        ];
        for (r, want) in cases {
            let mut out = [0xa5u8; 12];
            assert_eq!(r.encode(&mut out), Ok(want.len()), "{r}");
            assert_eq!(&out[..want.len()], want, "{r}");
            assert!(out[want.len()..].iter().all(|&b| b == 0xa5), "{r}");
            assert_eq!(r.encoded_len(), want.len());
            let mut short = vec![0xa5u8; want.len() - 1];
            assert_eq!(r.encode(&mut short), Err(WireError::BufferTooSmall));
        }
        assert_eq!(Route::default_via([192, 0, 2, 1].into()), cases[0].0);
    }

    #[test]
    fn route_refuses_host_bits_and_wide_prefix() {
        assert_eq!(
            Route::new([198, 51, 100, 1].into(), 24, [192, 0, 2, 1].into()),
            None
        );
        assert_eq!(
            Route::new([0, 0, 0, 1].into(), 0, [192, 0, 2, 1].into()),
            None
        );
        assert_eq!(
            Route::new([198, 51, 100, 1].into(), 33, [192, 0, 2, 1].into()),
            None
        );
        assert!(Route::new([198, 51, 100, 1].into(), 32, [192, 0, 2, 1].into()).is_some());
    }

    #[test]
    fn emit_routes_option() {
        let routes = [
            Route::on_link_host([192, 0, 2, 1].into()),
            Route::default_via([192, 0, 2, 1].into()),
            route([198, 51, 100, 0], 24, [192, 0, 2, 1]),
        ];
        let area = written_options(|w| {
            w.option_routes(option::CLASSLESS_ROUTES, routes).unwrap();
            w.option_routes(option::MS_CLASSLESS_ROUTES, routes[2..].iter().copied())
                .unwrap();
            // No routes: no option.
            w.option_routes(option::CLASSLESS_ROUTES, []).unwrap();
        });
        #[rustfmt::skip]
        let want = [
            121, 22,
            32, 192, 0, 2, 1, 0, 0, 0, 0,
            0, 192, 0, 2, 1,
            24, 198, 51, 100, 192, 0, 2, 1,
            249, 8,
            24, 198, 51, 100, 192, 0, 2, 1,
            255,
        ];
        assert_eq!(area, want);
    }

    #[test]
    fn emit_routes_too_long() {
        let r = route([203, 0, 113, 0], 25, [192, 0, 2, 1]);
        let mut buf = [0xa5u8; 1500];
        let mut w = ReplyWriter::new(&mut buf, &offer_header()).unwrap();
        // 28 * 9 = 252 fits; 29 * 9 = 261 does not.
        assert_eq!(w.option_routes(121, [r; 28]), Ok(()));
        assert_eq!(w.option_routes(121, [r; 29]), Err(WireError::ValueTooLong));
    }

    #[test]
    fn emit_long_option_is_split() {
        let data: Vec<u8> = (0..=255u8).chain(0..10).collect();
        let area = written_options(|w| w.option_long(119, &data).unwrap());
        assert_eq!(&area[..2], &[119, 255]);
        assert_eq!(&area[2..257], &data[..255]);
        assert_eq!(&area[257..259], &[119, 11]);
        assert_eq!(&area[259..270], &data[255..]);
        assert_eq!(&area[270..], &[255]);
        // Empty: nothing; too big for the buffer: nothing written.
        assert_eq!(written_options(|w| w.option_long(119, &[]).unwrap()), [255]);
        let mut buf = [0xa5u8; 400];
        let mut w = ReplyWriter::new(&mut buf, &offer_header()).unwrap();
        assert_eq!(w.option_long(119, &data), Err(WireError::BufferTooSmall));
        assert_eq!(w.finish(), Ok(MIN_MESSAGE_LEN));
        assert_eq!(buf[HEADER_LEN], option::END);
    }

    #[test]
    fn parse_max_message_size() {
        let size = |opts: &[u8]| Request::parse(&with_options(opts)).map(|r| r.max_message_size);
        // 1500 (0x05dc) as sent; none, or under the legal 576, counts as 576.
        assert_eq!(size(&[53, 1, 1, 57, 2, 0x05, 0xdc, 255]), Ok(1500));
        assert_eq!(size(&[53, 1, 1, 255]), Ok(576));
        assert_eq!(size(&[53, 1, 1, 57, 2, 0x01, 0x00, 255]), Ok(576));
        assert_eq!(size(&[53, 1, 1, 57, 2, 0x02, 0x40, 255]), Ok(576));
        assert_eq!(size(&[53, 1, 1, 57, 2, 0x02, 0x41, 255]), Ok(577));
        assert_eq!(size(&[53, 1, 1, 57, 2, 0xff, 0xff, 255]), Ok(65535));
        for bad in [
            &[53, 1, 1, 57, 1, 0x05, 255][..],
            &[53, 1, 1, 57, 3, 0x05, 0xdc, 0, 255][..],
            &[53, 1, 1, 57, 2, 0x05, 0xdc, 57, 2, 0x05, 0xdc, 255][..],
        ] {
            assert_eq!(size(bad), Err(WireError::BadOption), "{bad:?}");
        }
        let r = Request::parse(&with_options(&[53, 1, 1, 57, 2, 0x05, 0xdc, 255])).unwrap();
        assert_eq!(r.max_reply_len(), 1472);
        let r = Request::parse(&with_options(&[53, 1, 1, 255])).unwrap();
        assert_eq!(r.max_reply_len(), 548);
    }

    #[test]
    fn parse_prl_and_client_id() {
        let mut opts = vec![53, 1, 1, 55, 3, 1, 121, 249, 61, 7, 1];
        opts.extend_from_slice(&CLIENT_MAC.0);
        opts.push(255);
        let r = Request::parse(&with_options(&opts)).unwrap();
        assert!(r.requested.contains(249) && r.requested.contains(121) && r.requested.contains(1));
        assert!(!r.requested.contains(3) && !r.requested.contains(0) && !r.requested.contains(255));
        let id = r.client_id.unwrap();
        assert_eq!(id.as_bytes(), &[1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
        // 255 bytes is the most one option holds; empty and repeated are malformed.
        let mut long = vec![53, 1, 1, 61, 255];
        long.extend([7u8; 255]);
        let r = Request::parse(&with_options(&long)).unwrap();
        assert_eq!(r.client_id.unwrap().as_bytes(), &[7u8; 255][..]);
        for bad in [
            &[53, 1, 1, 61, 0][..],
            &[53, 1, 1, 61, 2, 0, 1, 61, 2, 0, 1][..],
        ] {
            assert_eq!(
                Request::parse(&with_options(bad)),
                Err(WireError::BadOption)
            );
        }
        let r = Request::parse(&with_options(&[53, 1, 1, 255])).unwrap();
        assert_eq!(
            (r.client_id, r.requested),
            (None, ParamRequestList::default())
        );
    }
}
