//! NDP parsing from the IPv6 header on: `parse_icmpv6`, then RouterSolicit, NeighborSolicit
//! and NeighborAdvert (each accepted message emitted again and parsed back to the same
//! value), the checked RaPacket view with every accessor, and every typed option accessor
//! on every option.
//!
//! `parse_icmpv6` verifies the checksum, which nearly every mutation breaks. The input is
//! parsed as it is (so the checksum check itself is fuzzed), then again with its checksum
//! recomputed, so the NDP parsers behind it see the mutated messages.
//!
//! Seeds: corpus/ndp/seed-* (the kernel's RS, NS and DAD NS, scapy's NA and RA).

#![no_main]

use libfuzzer_sys::fuzz_target;
use nfdhcpd::wire::frame;
use nfdhcpd_fuzz::{fix_icmpv6_checksum, walk_ndp};

fuzz_target!(|data: &[u8]| {
    if let Ok(icmp) = frame::parse_icmpv6(data) {
        walk_ndp(&icmp);
    }
    let mut fixed = data.to_vec();
    if fix_icmpv6_checksum(&mut fixed) {
        let icmp = frame::parse_icmpv6(&fixed).expect("checksum was just fixed");
        walk_ndp(&icmp);
    }
});
