//! One thread per NFQUEUE: recv -> look the tap up -> decide -> verdict -> hand the reply
//! frame to the sender.
//!
//! Every message gets exactly one verdict: `process` returns it by value on every path and
//! `run` is the only caller of `Queue::verdict`. Unbound interfaces are ACCEPTed untouched;
//! bound ones are DROPped whether or not a reply is built. A panic in a handler (a bug, never
//! expected) is caught, counted, and the packet still gets its DROP.

use crate::binding::table::{Entry, SharedSnapshot};
use crate::config::Config;
use crate::ra::Kick;
use crate::ratelimit::{Buckets, Every};
use crate::reply::{self, NoReply, Outcome, ReplyKind};
use crate::sender::{Frame, SendHandle, FRAME_CAP};
use crate::stats::Stats;
use crate::wire::dhcp4::MessageType;
use crate::wire::MacAddr;
use arc_swap::ArcSwap;
use crossbeam_channel::Sender;
use nfq::{Message, Queue, Verdict};
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which protocol a queue carries (DESIGN.md §1 queue numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueKind {
    Dhcp4,
    RouterSolicit,
    NeighborSolicit,
    Dhcp6,
}

impl QueueKind {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueKind::Dhcp4 => "dhcp4",
            QueueKind::RouterSolicit => "rs",
            QueueKind::NeighborSolicit => "ns",
            QueueKind::Dhcp6 => "dhcp6",
        }
    }
}

/// Payload bytes the kernel copies to us per packet. DHCP messages fit easily; a larger
/// packet (hostile VM) arrives truncated instead of overflowing nfq's receive buffer, and
/// still gets its verdict.
const COPY_RANGE: u16 = 4096;
/// Packets the kernel holds for us before it starts failing open.
const QUEUE_MAX_LEN: u32 = 5000;
/// The netlink socket's receive buffer: enough for a burst of thousands of requests
/// (DESIGN.md §4: the default kept 166 of 2000).
const RCVBUF: libc::c_int = 8 * 1024 * 1024;

/// Opens and binds one NFQUEUE; must run before any other thread exists, because the new
/// netlink socket is found by comparing `/proc/self/fd` before and after `Queue::open`.
pub fn open_queue(num: u16) -> io::Result<Queue> {
    let before = socket_fds();
    let mut queue = Queue::open()?;
    enlarge_rcvbuf(&before);
    queue.bind(num).map_err(|e| {
        if e.raw_os_error() == Some(libc::EPERM) {
            io::Error::new(
                e.kind(),
                format!(
                    "{e}: queue {num} is bound by another process (is another nfdhcpd running?) or we lack CAP_NET_ADMIN"
                ),
            )
        } else {
            e
        }
    })?;
    queue.set_copy_range(num, COPY_RANGE)?;
    queue.set_queue_max_len(num, QUEUE_MAX_LEN)?;
    // Should the daemon stall, requests pass on instead of being black-holed by the kernel.
    queue.set_fail_open(num, true)?;
    Ok(queue)
}

fn socket_fds() -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter(|e| {
            std::fs::read_link(e.path())
                .map(|t| t.to_string_lossy().starts_with("socket:"))
                .unwrap_or(false)
        })
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect()
}

/// nfq 0.2.5 exposes no fd: find the one socket `Queue::open` added and force its buffer.
fn enlarge_rcvbuf(before: &[i32]) {
    let new: Vec<i32> = socket_fds()
        .into_iter()
        .filter(|fd| !before.contains(fd))
        .collect();
    let [fd] = new[..] else {
        log::warn!("cannot identify the NFQUEUE socket; bursts may be dropped by the kernel");
        return;
    };
    // SAFETY: fd is an open socket of ours; the option value outlives the call.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&RCVBUF as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        log::warn!(
            "cannot enlarge the NFQUEUE socket buffer error=\"{}\"; bursts may be dropped",
            io::Error::last_os_error()
        );
    }
}

/// A queue and everything its thread needs.
pub struct Worker {
    pub queue: Queue,
    pub num: u16,
    pub kind: QueueKind,
    pub snapshot: SharedSnapshot,
    pub config: Arc<ArcSwap<Config>>,
    pub send: SendHandle,
    pub stats: Arc<Stats>,
    /// To the RA timer: a VM whose IPv6 stack is coming up (see [`Kick::Probe`]).
    pub kick: Sender<Kick>,
}

impl Worker {
    /// Serves the queue forever.
    pub fn run(mut self) {
        let mut scratch: Option<Box<[u8; FRAME_CAP]>> = None;
        let general = &self.config.load().general;
        let mut buckets = Buckets::new(general.rate_limit, general.rate_burst);
        let mut recv_errors = Every::new(Duration::from_secs(10));
        loop {
            let mut msg = match self.queue.recv() {
                Ok(m) => m,
                Err(e) => {
                    // Also where the kernel reports a failed earlier verdict.
                    Stats::bump(&self.stats.queue_recv_errors);
                    if let Some(n) = recv_errors.tick() {
                        log::warn!(
                            "queue={} recv failed error=\"{e}\" suppressed={n}",
                            self.num
                        );
                    }
                    continue;
                }
            };
            let verdict = self.process(&msg, &mut scratch, &mut buckets);
            msg.set_verdict(verdict);
            if let Err(e) = self.queue.verdict(msg) {
                Stats::bump(&self.stats.verdict_errors);
                if let Some(n) = recv_errors.tick() {
                    log::warn!(
                        "queue={} verdict failed error=\"{e}\" suppressed={n}",
                        self.num
                    );
                }
            }
        }
    }

    fn process(
        &self,
        msg: &Message,
        scratch: &mut Option<Box<[u8; FRAME_CAP]>>,
        buckets: &mut Buckets,
    ) -> Verdict {
        let s = &self.stats;
        Stats::bump(match self.kind {
            QueueKind::Dhcp4 => &s.dhcp4_packets,
            QueueKind::RouterSolicit => &s.rs_packets,
            QueueKind::NeighborSolicit => &s.ns_packets,
            QueueKind::Dhcp6 => &s.dhcp6_packets,
        });
        let ifindex = match msg.get_physindev() {
            0 => msg.get_indev(),
            port => port,
        };
        let snapshot = self.snapshot.load();
        let Some(entry) = snapshot.get(ifindex) else {
            Stats::bump(&self.stats.accepted_unbound);
            return Verdict::Accept;
        };
        Stats::bump(&self.stats.dropped_bound);
        let config = self.config.load();
        buckets.set_limits(config.general.rate_limit, config.general.rate_burst);
        if !buckets.allow(ifindex, Instant::now()) {
            Stats::bump(&self.stats.drop_rate_limited);
            return Verdict::Drop;
        }
        let buf = scratch.get_or_insert_with(|| self.send.buffer());
        let frame_src = msg.get_hw_addr().and_then(MacAddr::from_slice);
        let payload = msg.get_payload();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.handle(&config, payload, frame_src, entry, &mut buf[..])
        }));
        match result {
            Ok(Outcome::Reply { len, kind }) => {
                self.count_reply(kind);
                log::debug!("reply tap={} kind={kind:?} len={len}", entry.binding.tap);
                if let Some(buf) = scratch.take() {
                    self.send.send(Frame { ifindex, len, buf });
                }
            }
            Ok(Outcome::NoReply(why)) => {
                self.count_no_reply(entry, why);
                if why == (NoReply::Dad { link_local: true }) && entry.binding.subnet6.is_some() {
                    // Full only if the RA timer is far behind; a lost kick costs only an
                    // early RA (the VM's RS still gets its answer).
                    let _ = self.kick.try_send(Kick::Probe(ifindex));
                }
            }
            Err(_) => {
                Stats::bump(&self.stats.drop_internal_error);
                log::error!("handler panicked tap={}; packet dropped", entry.binding.tap);
            }
        }
        Verdict::Drop
    }

    fn handle(
        &self,
        config: &Config,
        payload: &[u8],
        frame_src: Option<MacAddr>,
        entry: &Entry,
        out: &mut [u8],
    ) -> Outcome {
        // A reload may have switched the feature off: bound taps still get their DROP.
        let disabled = Outcome::NoReply(NoReply::UnexpectedType);
        match (self.kind, config.dhcp.as_ref(), config.ipv6.as_ref()) {
            (QueueKind::Dhcp4, Some(dhcp), _) => {
                let (msg_type, outcome) =
                    reply::dhcp4::handle(payload, frame_src, entry, dhcp, out);
                self.count_dhcp4_type(msg_type);
                outcome
            }
            (QueueKind::RouterSolicit, _, Some(v6)) => {
                reply::ndp::handle_rs(payload, frame_src, entry, v6, out)
            }
            (QueueKind::NeighborSolicit, _, Some(_)) => {
                reply::ndp::handle_ns(payload, frame_src, entry, out)
            }
            (QueueKind::Dhcp6, _, Some(v6)) => {
                reply::dhcp6::handle(payload, frame_src, entry, v6, out)
            }
            _ => disabled,
        }
    }

    fn count_dhcp4_type(&self, t: Option<MessageType>) {
        let s = &self.stats;
        let counter = match t {
            None => return,
            Some(MessageType::Discover) => &s.dhcp4_discover,
            Some(MessageType::Request) => &s.dhcp4_request,
            Some(MessageType::Inform) => &s.dhcp4_inform,
            Some(MessageType::Release) => &s.dhcp4_release,
            Some(MessageType::Decline) => &s.dhcp4_decline,
            Some(_) => &s.dhcp4_other_type,
        };
        Stats::bump(counter);
    }

    fn count_reply(&self, kind: ReplyKind) {
        let s = &self.stats;
        Stats::bump(match kind {
            ReplyKind::Offer => &s.dhcp4_offer,
            ReplyKind::Ack => &s.dhcp4_ack,
            ReplyKind::Nak => &s.dhcp4_nak,
            ReplyKind::Ra => &s.ra_solicited,
            ReplyKind::Na => &s.na_sent,
            ReplyKind::Dhcp6Reply => &s.dhcp6_reply,
        });
    }

    fn count_no_reply(&self, entry: &Entry, why: NoReply) {
        let s = &self.stats;
        let counter = match why {
            NoReply::Malformed(_) => &s.drop_malformed,
            NoReply::Spoofed => &s.drop_spoofed,
            NoReply::NoIp => &s.drop_no_ip,
            NoReply::NoServerAddr => &s.drop_no_server_addr,
            NoReply::NoHostMac => &s.drop_no_host_mac,
            NoReply::OtherServer => &s.drop_other_server,
            NoReply::UnexpectedType => &s.drop_unexpected_type,
            NoReply::Informational => &s.drop_informational,
            NoReply::NoIpv6 => &s.drop_no_ipv6,
            NoReply::Dad { .. } => &s.drop_dad_probe,
            NoReply::OwnAddress => &s.drop_own_address,
            NoReply::NotOurTarget => &s.drop_not_our_target,
        };
        Stats::bump(counter);
        log::debug!(
            "no reply queue={} tap={} reason={}",
            self.num,
            entry.binding.tap,
            why.as_str()
        );
    }
}
