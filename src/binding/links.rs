//! The host's network interfaces as rtnetlink reports them: name -> (ifindex, MAC).
//!
//! A dump at start-up, then RTM_NEWLINK/RTM_DELLINK events, keep the table current, so a
//! tap created after its binding file, or deleted and re-created with a new ifindex, is
//! picked up without touching the file and without polling or per-packet syscalls.

use crate::wire::MacAddr;
use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// One interface, as far as bindings care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub ifindex: u32,
    pub name: String,
    /// None for interfaces without a 6-byte hardware address.
    pub mac: Option<MacAddr>,
    /// Operationally up (IFF_RUNNING): frames written to it can reach the VM.
    pub running: bool,
}

/// A change the kernel told us about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    Up(Link),
    Gone { ifindex: u32 },
}

/// The current interfaces, keyed by ifindex, with a name index.
#[derive(Debug, Default, Clone)]
pub struct Links {
    by_index: HashMap<u32, Link>,
    by_name: HashMap<String, u32>,
}

impl Links {
    pub fn by_name(&self, name: &str) -> Option<&Link> {
        self.by_name.get(name).and_then(|i| self.by_index.get(i))
    }

    /// Applies one event; returns the names whose interface changed (appeared, vanished,
    /// was renamed, or changed MAC, index or state): what bindings could see.
    pub fn apply(&mut self, event: LinkEvent) -> Vec<String> {
        match event {
            LinkEvent::Up(link) => {
                if self.by_index.get(&link.ifindex) == Some(&link) {
                    return Vec::new();
                }
                let mut names: Vec<String> = self.remove(link.ifindex).into_iter().collect();
                // A name that moves to a new ifindex (tap re-created) leaves the old one.
                if let Some(old) = self.by_name.get(&link.name).copied() {
                    self.by_index.remove(&old);
                }
                names.push(link.name.clone());
                self.by_name.insert(link.name.clone(), link.ifindex);
                self.by_index.insert(link.ifindex, link);
                names
            }
            LinkEvent::Gone { ifindex } => self.remove(ifindex).into_iter().collect(),
        }
    }

    /// Replaces the whole table with the result of a dump; true when it differs.
    pub fn replace(&mut self, dump: Vec<LinkEvent>) -> bool {
        let mut next = Links::default();
        for event in dump {
            let _ = next.apply(event);
        }
        let changed = next.by_index != self.by_index;
        *self = next;
        changed
    }

    /// Forgets an interface; returns its name if it was known.
    fn remove(&mut self, ifindex: u32) -> Option<String> {
        let old = self.by_index.remove(&ifindex)?;
        if self.by_name.get(&old.name) == Some(&ifindex) {
            self.by_name.remove(&old.name);
        }
        Some(old.name)
    }
}

mod nl {
    //! rtnetlink constants (linux/rtnetlink.h, linux/if_link.h) not all in libc.
    pub const RTM_NEWLINK: u16 = 16;
    pub const RTM_DELLINK: u16 = 17;
    pub const RTM_GETLINK: u16 = 18;
    pub const NLMSG_ERROR: u16 = 2;
    pub const NLMSG_DONE: u16 = 3;
    pub const RTMGRP_LINK: u32 = 1;
    pub const IFLA_ADDRESS: u16 = 1;
    pub const IFLA_IFNAME: u16 = 3;
    pub const IFLA_EXT_MASK: u16 = 29;
    pub const RTEXT_FILTER_SKIP_STATS: u32 = 1 << 3;
    pub const NLMSG_HDRLEN: usize = 16;
    pub const IFINFOMSG_LEN: usize = 16;
    /// One attribute carrying a u32: header (len, type) and value.
    pub const U32_ATTR_LEN: usize = 8;
}

/// An rtnetlink socket subscribed to link changes.
pub struct LinkMonitor {
    fd: OwnedFd,
    buf: Vec<u8>,
}

/// What one `recv` brought.
pub enum Batch {
    Events(Vec<LinkEvent>),
    /// The socket overflowed (ENOBUFS): events were lost, dump again.
    Lost,
}

impl LinkMonitor {
    pub fn open() -> io::Result<LinkMonitor> {
        // SAFETY: plain socket(2); checked below.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: sockaddr_nl is plain old data.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as u16;
        addr.nl_groups = nl::RTMGRP_LINK;
        // SAFETY: addr lives for the call; the length matches its type.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(LinkMonitor {
            fd,
            buf: vec![0; 64 * 1024],
        })
    }

    /// Every current interface, as events to apply in order to an empty table. Change
    /// notifications that race with the dump come interleaved on the same socket, in the
    /// order the kernel made them, so applying everything in order misses nothing.
    pub fn dump(&mut self) -> io::Result<Vec<LinkEvent>> {
        self.request_dump()?;
        let mut all = Vec::new();
        loop {
            let n = self.recv()?;
            let (done, events) = parse_messages(self.buf.get(..n).unwrap_or(&[]));
            all.extend(events);
            if done {
                return Ok(all);
            }
        }
    }

    /// Blocks for the next batch of link events.
    pub fn next_batch(&mut self) -> io::Result<Batch> {
        match self.recv() {
            Ok(n) => Ok(Batch::Events(
                parse_messages(self.buf.get(..n).unwrap_or(&[])).1,
            )),
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => Ok(Batch::Lost),
            Err(e) => Err(e),
        }
    }

    fn request_dump(&self) -> io::Result<()> {
        let mut req = [0u8; nl::NLMSG_HDRLEN + nl::IFINFOMSG_LEN + nl::U32_ATTR_LEN];
        let len = req.len() as u32;
        req[0..4].copy_from_slice(&len.to_ne_bytes());
        req[4..6].copy_from_slice(&nl::RTM_GETLINK.to_ne_bytes());
        let flags = (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16;
        req[6..8].copy_from_slice(&flags.to_ne_bytes());
        req[8..12].copy_from_slice(&1u32.to_ne_bytes());
        req[nl::NLMSG_HDRLEN] = libc::AF_UNSPEC as u8;
        // No statistics: they are most of what the kernel fills per link, and a dump of
        // 100,000 links is on the start-up path.
        let attr = nl::NLMSG_HDRLEN + nl::IFINFOMSG_LEN;
        req[attr..attr + 2].copy_from_slice(&(nl::U32_ATTR_LEN as u16).to_ne_bytes());
        req[attr + 2..attr + 4].copy_from_slice(&nl::IFLA_EXT_MASK.to_ne_bytes());
        req[attr + 4..attr + 8].copy_from_slice(&nl::RTEXT_FILTER_SKIP_STATS.to_ne_bytes());
        // SAFETY: req is a live buffer of the given length.
        let n = unsafe { libc::send(self.fd.as_raw_fd(), req.as_ptr().cast(), req.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn recv(&mut self) -> io::Result<usize> {
        loop {
            // SAFETY: buf is a live, writable buffer of the given length.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    self.buf.as_mut_ptr().cast(),
                    self.buf.len(),
                    0,
                )
            };
            if n >= 0 {
                return Ok(n as usize);
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Walks a netlink datagram; returns (saw NLMSG_DONE or an error, link events).
fn parse_messages(mut b: &[u8]) -> (bool, Vec<LinkEvent>) {
    let mut events = Vec::new();
    let mut done = false;
    while let (Some(len), Some(kind)) = (u32_at(b, 0), u16_at(b, 4)) {
        let len = len as usize;
        let Some(msg) = b.get(..len).filter(|_| len >= nl::NLMSG_HDRLEN) else {
            break;
        };
        match kind {
            nl::NLMSG_DONE | nl::NLMSG_ERROR => done = true,
            nl::RTM_NEWLINK | nl::RTM_DELLINK => {
                if let Some(ev) = parse_link(kind, msg.get(nl::NLMSG_HDRLEN..).unwrap_or(&[])) {
                    events.push(ev);
                }
            }
            _ => {}
        }
        b = b.get(align4(len)..).unwrap_or(&[]);
    }
    (done, events)
}

/// ifinfomsg + attributes -> event.
fn parse_link(kind: u16, body: &[u8]) -> Option<LinkEvent> {
    let ifindex = u32_at(body, 4)?;
    let flags = u32_at(body, 8)?;
    if kind == nl::RTM_DELLINK {
        return Some(LinkEvent::Gone { ifindex });
    }
    let (mut name, mut mac) = (None, None);
    let mut attrs = body.get(nl::IFINFOMSG_LEN..)?;
    while let (Some(alen), Some(atype)) = (u16_at(attrs, 0), u16_at(attrs, 2)) {
        let alen = alen as usize;
        let data = attrs.get(4..alen)?;
        match atype {
            nl::IFLA_IFNAME => {
                let raw = data.split(|&c| c == 0).next().unwrap_or(&[]);
                name = std::str::from_utf8(raw).ok().map(str::to_owned);
            }
            nl::IFLA_ADDRESS => mac = MacAddr::from_slice(data),
            _ => {}
        }
        if alen < 4 {
            break;
        }
        attrs = attrs.get(align4(alen)..).unwrap_or(&[]);
    }
    Some(LinkEvent::Up(Link {
        ifindex,
        name: name?,
        mac,
        running: flags & libc::IFF_RUNNING as u32 != 0,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(i: u32, name: &str) -> Link {
        Link {
            ifindex: i,
            name: name.into(),
            mac: Some(MacAddr([2, 0, 0, 0, 0, i as u8])),
            running: true,
        }
    }

    #[test]
    fn recreated_tap_gets_new_index() {
        let mut l = Links::default();
        assert_eq!(l.apply(LinkEvent::Up(link(5, "tap0"))), ["tap0"]);
        assert!(l.apply(LinkEvent::Up(link(5, "tap0"))).is_empty());
        assert_eq!(l.apply(LinkEvent::Gone { ifindex: 5 }), ["tap0"]);
        assert!(l.by_name("tap0").is_none());
        assert_eq!(l.apply(LinkEvent::Up(link(9, "tap0"))), ["tap0"]);
        assert_eq!(l.by_name("tap0").map(|x| x.ifindex), Some(9));
        // Re-created without a DELLINK in between: the old index is dropped.
        l.apply(LinkEvent::Up(link(11, "tap0")));
        assert_eq!(l.by_name("tap0").map(|x| x.ifindex), Some(11));
        assert!(!l.by_index.contains_key(&9));
    }

    #[test]
    fn rename_drops_old_name() {
        let mut l = Links::default();
        l.apply(LinkEvent::Up(link(5, "tap0")));
        assert_eq!(l.apply(LinkEvent::Up(link(5, "tap1"))), ["tap0", "tap1"]);
        assert!(l.by_name("tap0").is_none());
        assert_eq!(l.by_name("tap1").map(|x| x.ifindex), Some(5));
    }

    #[test]
    fn garbage_never_panics() {
        let mut x: u32 = 0x1234_5678;
        for len in 0..512 {
            let buf: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    (x % 7) as u8
                })
                .collect();
            let _ = parse_messages(&buf);
        }
    }

    #[test]
    fn real_dump_lists_loopback() {
        // Netlink is readable without privileges; every namespace has lo.
        let mut m = LinkMonitor::open().expect("rtnetlink socket");
        let mut links = Links::default();
        links.replace(m.dump().expect("dump"));
        assert!(links.by_name("lo").is_some(), "{links:?}");
    }
}
