//! nfdhcpd: answers DHCP, DHCPv6, Router and Neighbor Solicitations of VMs from the host.
//!
//! `wire` holds pure packet formats, `reply` pure policy, `binding` the binding files and the
//! snapshot table; only `nfqueue`, `worker`, `sender` and `binding::watch` touch the kernel.

pub mod announce;
pub mod binding;
pub mod check;
pub mod cli;
pub mod config;
pub mod control;
pub mod ctl;
pub mod daemon;
pub mod events;
pub mod limiter;
pub mod logging;
pub mod logthrottle;
pub mod metrics;
pub mod nfqueue;
pub mod nftcount;
pub mod privdrop;
pub mod ra;
pub mod reload;
pub mod reply;
pub mod rules;
pub mod sender;
pub mod stats;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod wire;
pub mod worker;
