//! BOOTP/DHCPv4 messages (RFC 2131, options RFC 2132). Owned by the wire work; stub.
