//! Pure wire formats: views over byte buffers that cannot panic, and emitters.
//!
//! Nothing here knows about bindings or configuration.

mod bytes;
pub mod dhcp4;
pub mod dhcp6;
pub mod dns;
pub mod frame;
mod mac;
pub mod ndp;

pub use mac::{MacAddr, MacParseError};

/// Why a packet could not be parsed or built. Small and `Copy`: it maps to a drop counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WireError {
    /// The buffer ends before a header or a length field says it should.
    Truncated,
    /// IP version nibble is not the expected one.
    BadVersion,
    /// IPv4 IHL below 5 or past the end of the packet.
    BadHeaderLen,
    /// A length field disagrees with the buffer (IP total length, UDP length).
    BadLength,
    /// Not UDP (or not ICMPv6) where that was required.
    WrongProtocol,
    /// A non-first fragment, or a packet with more fragments to come.
    Fragmented,
    /// DHCP magic cookie missing.
    BadMagic,
    /// A malformed option (length past the end, zero-length NDP option, bad value size).
    BadOption,
    /// A required option is absent (DHCP message type).
    MissingOption,
    /// The client hardware address is not 6-byte Ethernet.
    BadHardwareAddr,
    /// The output buffer is too small for what was asked to be written.
    BufferTooSmall,
    /// A value does not fit its wire field (an option longer than 255 bytes).
    ValueTooLong,
    /// A checksum that must be complete (ICMPv6) does not verify.
    BadChecksum,
    /// An NDP message whose IPv6 hop limit is not 255, so it may have been routed from
    /// off-link (RFC 4861 §6.1, §7.1).
    BadHopLimit,
    /// An address where it may not be (a multicast source).
    BadAddress,
}

impl WireError {
    /// Stable lowercase name, used as a counter label and in debug logs.
    pub fn as_str(self) -> &'static str {
        match self {
            WireError::Truncated => "truncated",
            WireError::BadVersion => "bad_version",
            WireError::BadHeaderLen => "bad_header_len",
            WireError::BadLength => "bad_length",
            WireError::WrongProtocol => "wrong_protocol",
            WireError::Fragmented => "fragmented",
            WireError::BadMagic => "bad_magic",
            WireError::BadOption => "bad_option",
            WireError::MissingOption => "missing_option",
            WireError::BadHardwareAddr => "bad_hw_addr",
            WireError::BufferTooSmall => "buffer_too_small",
            WireError::ValueTooLong => "value_too_long",
            WireError::BadChecksum => "bad_checksum",
            WireError::BadHopLimit => "bad_hop_limit",
            WireError::BadAddress => "bad_address",
        }
    }
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
