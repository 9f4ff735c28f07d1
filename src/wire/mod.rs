//! Pure wire formats: views over byte buffers that cannot panic, and emitters.
//!
//! Nothing here knows about bindings or configuration.

/// Declares a code-point enum with an `Unknown(n)` arm and the `From<u8>` / `Into<u8>`
/// conversions both ways, as smoltcp's `enum_with_unknown!`: a value we do not know still
/// round-trips unchanged.
macro_rules! enum_with_unknown {
    (
        $(#[$enum_attr:meta])*
        pub enum $name:ident($ty:ty) {
            $( $(#[$variant_attr:meta])* $variant:ident = $value:expr ),+ $(,)?
        }
    ) => {
        $(#[$enum_attr])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$variant_attr])* $variant ),+,
            /// A code point this crate has no name for.
            Unknown($ty),
        }

        impl ::core::convert::From<$ty> for $name {
            fn from(value: $ty) -> Self {
                match value {
                    $( $value => $name::$variant ),+,
                    other => $name::Unknown(other),
                }
            }
        }

        impl ::core::convert::From<$name> for $ty {
            fn from(value: $name) -> Self {
                match value {
                    $( $name::$variant => $value ),+,
                    $name::Unknown(other) => other,
                }
            }
        }
    };
}

/// Declares a set of one-bit flags within a byte: named constants, the reserved bits
/// dropped on the way in (receivers ignore them) and never set on the way out.
macro_rules! flag_set {
    (
        $(#[$attr:meta])*
        pub struct $name:ident {
            $( $(#[$flag_attr:meta])* const $flag:ident = $bit:expr; )+
        }
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name(u8);

        impl $name {
            $( $(#[$flag_attr])* pub const $flag: $name = $name($bit); )+
            /// No flag set.
            pub const EMPTY: $name = $name(0);
            const ALL: u8 = 0 $( | $bit )+;

            /// The known flags of a wire byte; reserved bits are ignored.
            pub fn from_bits_truncate(bits: u8) -> Self {
                $name(bits & Self::ALL)
            }

            /// The wire byte, reserved bits zero.
            pub fn bits(self) -> u8 {
                self.0
            }

            /// Whether every flag of `other` is set.
            pub fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }

            /// `self` with the flags of `other` set when `on`, for building from bools.
            pub fn with(self, other: Self, on: bool) -> Self {
                if on {
                    $name(self.0 | other.0)
                } else {
                    self
                }
            }
        }
    };
}

pub mod arp;
mod bytes;
pub mod dhcp4;
pub mod dhcp6;
pub mod dns;
pub mod frame;
mod mac;
pub mod ndp;
pub mod nfqueue;

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

/// Shared by the unit tests of the wire formats and the reply policies.
#[cfg(test)]
pub(crate) mod testing {
    /// Marsaglia's xorshift64: deterministic noise without a rand dependency.
    pub(crate) struct XorShift(pub u64);

    impl XorShift {
        pub(crate) fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        /// Up to `max_len - 1` random bytes.
        pub(crate) fn noise(&mut self, max_len: u64) -> Vec<u8> {
            let len = self.next() % max_len;
            (0..len).map(|_| self.next() as u8).collect()
        }
    }

    /// The one "random buffers never panic" loop: `rounds` times, `make` builds a buffer
    /// from the generator seeded with `seed` and the round number (plain noise, plausible
    /// options or mutated fixtures: each test's recipe), then `check` runs the parsers on
    /// it (errors are fine, panics are not), with the same generator for any further
    /// randomness. Deterministic, so a failure reproduces.
    pub(crate) fn random_buffers(
        seed: u64,
        rounds: usize,
        mut make: impl FnMut(&mut XorShift, usize) -> Vec<u8>,
        mut check: impl FnMut(&mut XorShift, &[u8]),
    ) {
        let mut rng = XorShift(seed);
        for round in 0..rounds {
            let buf = make(&mut rng, round);
            check(&mut rng, &buf);
        }
    }
}
