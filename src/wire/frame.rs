//! Ethernet / IPv4 / UDP envelopes. Owned by the wire work; stub.
