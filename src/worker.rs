//! One thread per NFQUEUE: read a burst -> per packet look the tap up, decide, hand the
//! reply frame to the sender -> wake the sender once -> send the burst's verdicts.
//!
//! Every message gets exactly one verdict: `process` returns it by value on every path and
//! `run` is the only place verdicts are collected and sent. Unbound interfaces are ACCEPTed
//! untouched; bound ones are DROPped whether or not a reply is built. A panic in a handler
//! (a bug, never expected) is caught, counted, and the packet still gets its DROP.

use crate::binding::snapshot::{Change, Entry, SharedSnapshot, Slot};
use crate::config::Config;
use crate::events::{Decision, Event, Trace, Traced};
use crate::limiter::Buckets;
use crate::logthrottle::Every;
use crate::nfqueue::QueueSocket;
use crate::reply::{self, Ctx, Handled, NoReply, Outcome, Packet, ReplyKind, RequestKind};
use crate::sender::{Frame, SendHandle, FRAME_CAP};
use crate::stats::Stats;
use crate::wire::dhcp4::MessageType;
use crate::wire::dhcp6::MessageType as Dhcp6Type;
use crate::wire::nfqueue::{PacketMsg, QueueMsg, Verdict};
use crate::wire::MacAddr;
use arc_swap::ArcSwap;
use crossbeam_channel::Sender;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use crate::reply::QueueKind;

/// The bit of the packet mark set on every packet we ACCEPT. conf/nfdhcpd.nft counts the
/// queued kinds of packets that come out of the NFQUEUE rules without it (passed on by the
/// kernel with no verdict of ours: queue full, or no daemon bound) and clears it again.
pub const ACCEPT_MARK: u32 = 0x0100_0000;

/// At most one Decline warning per period per queue.
const DECLINE_LOG_EVERY: Duration = Duration::from_secs(10);

/// What one queue thread keeps for itself between packets.
struct Local {
    /// The reply buffer, taken by the sender with each reply and replaced from its pool.
    scratch: Option<Box<[u8; FRAME_CAP]>>,
    buckets: Buckets,
    declines: Every,
}

/// A Decline means the VM found its DHCPv6 address in use on its link: worth a warning, at
/// most one per `DECLINE_LOG_EVERY` (a VM can send them at will).
fn log_decline(every: &mut Every, tap: &str, pkt: &Packet) {
    let Some(held_back) = every.tick() else {
        return;
    };
    let addrs: Vec<String> = crate::reply::dhcp6::declined(pkt.ip)
        .iter()
        .map(ToString::to_string)
        .collect();
    log::warn!(
        "dhcpv6 decline tap={tap} addresses={} suppressed={held_back} (the VM found them in use on its link)",
        addrs.join(",")
    );
}

/// What `process` decided for a packet; `run` turns it into the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decided {
    /// Unbound interface: not ours, passed on untouched (but for the mark).
    Accept,
    /// Bound interface: answered here or refused, never passed on.
    Drop,
}

/// A queue and everything its thread needs.
pub struct Worker {
    pub queue: QueueSocket,
    pub num: u16,
    pub kind: QueueKind,
    pub snapshot: SharedSnapshot,
    pub config: Arc<ArcSwap<Config>>,
    pub send: SendHandle,
    pub stats: Arc<Stats>,
    /// To the RA timer: a VM whose IPv6 stack is coming up (see [`Change::Probe`]).
    pub changes: Sender<Change>,
    /// Live tracing (`nfdhcpd ctl trace`).
    pub trace: Arc<Trace>,
}

impl Worker {
    /// Serves the queue forever.
    pub fn run(mut self) {
        let limits = &self.config.load().live.general;
        let mut local = Local {
            scratch: None,
            buckets: Buckets::new(limits.rate_limit, limits.rate_burst),
            declines: Every::new(DECLINE_LOG_EVERY),
        };
        let mut errors = Every::new(Duration::from_secs(10));
        let mut verdicts = self.queue.verdicts();
        loop {
            let n = match self.queue.recv() {
                Ok(n) => n,
                Err(e) => {
                    let what = format_args!("recv failed error=\"{e}\"");
                    self.failed(&mut errors, &self.stats.queue_recv_errors, what);
                    continue;
                }
            };
            for i in 0..n {
                for msg in self.queue.messages(i) {
                    match msg {
                        Ok(QueueMsg::Packet(pkt)) => {
                            let verdict = match self.process(&pkt, &mut local) {
                                // Tells conf/nfdhcpd.nft's counting chain this packet had
                                // our verdict.
                                Decided::Accept => Verdict::Accept {
                                    mark: pkt.mark | ACCEPT_MARK,
                                },
                                Decided::Drop => Verdict::Drop,
                            };
                            verdicts.add(pkt.id, verdict);
                        }
                        // The kernel reporting a verdict of ours it could not apply.
                        Ok(QueueMsg::Error(errno)) => {
                            let e = std::io::Error::from_raw_os_error(errno);
                            let what = format_args!("verdict failed error=\"{e}\"");
                            self.failed(&mut errors, &self.stats.verdict_errors, what);
                        }
                        Ok(QueueMsg::Other) => {}
                        Err(e) => {
                            let what = format_args!("unreadable message error={e:?}");
                            self.failed(&mut errors, &self.stats.queue_recv_errors, what);
                        }
                    }
                }
            }
            // One wake-up of the sender per burst, before the verdicts: it writes the
            // replies while we send those.
            self.send.ring();
            if let Err(e) = self.queue.send_verdicts(&mut verdicts) {
                let what = format_args!("verdict failed error=\"{e}\"");
                self.failed(&mut errors, &self.stats.verdict_errors, what);
            }
        }
    }

    /// Counts a failure of the queue socket and warns, at most once per period.
    fn failed(&self, errors: &mut Every, counter: &AtomicU64, what: std::fmt::Arguments) {
        Stats::bump(counter);
        if let Some(n) = errors.tick() {
            log::warn!("queue={} {what} suppressed={n}", self.num);
        }
    }

    fn process(&self, msg: &PacketMsg, local: &mut Local) -> Decided {
        let s = &self.stats;
        Stats::bump(match self.kind {
            QueueKind::Dhcp4 => &s.dhcp4_packets,
            QueueKind::RouterSolicit => &s.rs_packets,
            QueueKind::NeighborSolicit => &s.ns_packets,
            QueueKind::Dhcp6 => &s.dhcp6_packets,
        });
        let ifindex = match msg.physindev {
            0 => msg.indev,
            port => port,
        };
        let snapshot = self.snapshot.load();
        let Some(slot) = snapshot.get(ifindex) else {
            Stats::bump(&self.stats.accepted_unbound);
            return Decided::Accept;
        };
        Stats::bump(&self.stats.dropped_bound);
        let config = self.config.load();
        let limits = &config.live.general;
        local
            .buckets
            .set_limits(limits.rate_limit, limits.rate_burst);
        let frame_src = msg.hw_addr.and_then(MacAddr::from_slice);
        if !local.buckets.allow(ifindex, Instant::now()) {
            Stats::bump(&self.stats.drop_rate_limited);
            self.note(
                slot,
                Event::now(self.kind, None, Decision::RateLimited, frame_src),
                msg,
                &[],
            );
            return Decided::Drop;
        }
        let entry = match slot {
            Slot::Active(entry) => entry,
            Slot::Inactive { binding, .. } => {
                self.count_no_reply(&binding.tap, NoReply::NoHostMac);
                let why = Decision::NoReply(NoReply::NoHostMac);
                self.note(slot, Event::now(self.kind, None, why, frame_src), msg, &[]);
                return Decided::Drop;
            }
        };
        self.answer(msg, slot, entry, &config, local);
        Decided::Drop
    }

    /// Records a decision in the tap's event log and, while someone traces, hands it on
    /// with copies of the request and the reply.
    fn note(&self, slot: &Slot, event: Event, msg: &PacketMsg, reply: &[u8]) {
        slot.events().record(event);
        if self.trace.on() {
            self.trace.publish(Traced {
                tap: slot.binding().tap.clone(),
                event,
                request: msg.payload.to_vec(),
                reply: reply.to_vec(),
            });
        }
    }

    /// Runs the handler on a packet from a servable tap and acts on its outcome: counts it,
    /// hands a reply to the sender, tells the RA timer of a booting VM.
    fn answer(
        &self,
        msg: &PacketMsg,
        slot: &Slot,
        entry: &Entry,
        config: &Config,
        local: &mut Local,
    ) {
        let ifindex = entry.ifindex;
        let buf = local.scratch.get_or_insert_with(|| self.send.buffer());
        let pkt = Packet {
            ip: msg.payload,
            frame_src: msg.hw_addr.and_then(MacAddr::from_slice),
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let ctx = Ctx {
                entry,
                config,
                out: &mut buf[..],
            };
            reply::handle(self.kind, &pkt, ctx)
        }));
        let tap = &entry.binding.tap;
        let Ok(Handled { request, outcome }) = result else {
            Stats::bump(&self.stats.drop_internal_error);
            log::error!("handler panicked tap={tap}; packet dropped");
            return;
        };
        self.count_request(request);
        let decision = match outcome {
            Outcome::Reply { kind, .. } => Decision::Replied(kind),
            Outcome::NoReply(why) => Decision::NoReply(why),
        };
        let event = Event::now(self.kind, request, decision, pkt.frame_src);
        let reply = match (outcome, local.scratch.as_deref()) {
            (Outcome::Reply { len, .. }, Some(buf)) => buf.get(..len).unwrap_or_default(),
            _ => &[],
        };
        self.note(slot, event, msg, reply);
        match outcome {
            Outcome::Reply { len, kind } => {
                self.count_reply(kind);
                log::debug!("reply tap={tap} kind={kind:?} len={len}");
                if request == Some(RequestKind::Dhcp6(Dhcp6Type::Decline)) {
                    log_decline(&mut local.declines, tap, &pkt);
                }
                if let Some(buf) = local.scratch.take() {
                    // Woken once at the end of the burst (`run`).
                    self.send.push(Frame { ifindex, len, buf });
                }
            }
            Outcome::NoReply(why) => {
                self.count_no_reply(tap, why);
                if why == (NoReply::Dad { link_local: true }) && entry.binding.subnet6.is_some() {
                    // Full only if the RA timer is far behind; a lost notice costs only an
                    // early RA (the VM's RS still gets its answer).
                    let _ = self.changes.try_send(Change::Probe(ifindex));
                }
            }
        }
    }

    /// DHCPv4 and DHCPv6 requests by message type (RS and NS have one type each).
    fn count_request(&self, request: Option<RequestKind>) {
        let s = &self.stats;
        let counter = match request {
            Some(RequestKind::Dhcp4(t)) => match t {
                MessageType::Discover => &s.dhcp4_discover,
                MessageType::Request => &s.dhcp4_request,
                MessageType::Inform => &s.dhcp4_inform,
                MessageType::Release => &s.dhcp4_release,
                MessageType::Decline => &s.dhcp4_decline,
                _ => &s.dhcp4_other_type,
            },
            Some(RequestKind::Dhcp6(t)) => {
                use Dhcp6Type as T;
                match t {
                    T::Solicit => &s.dhcp6_solicit,
                    T::Request => &s.dhcp6_request,
                    T::Confirm => &s.dhcp6_confirm,
                    T::Renew => &s.dhcp6_renew,
                    T::Rebind => &s.dhcp6_rebind,
                    T::Release => &s.dhcp6_release,
                    T::Decline => &s.dhcp6_decline,
                    T::InformationRequest => &s.dhcp6_information_request,
                    T::RelayForw | T::RelayRepl => &s.dhcp6_relay,
                    _ => &s.dhcp6_other_type,
                }
            }
            _ => return,
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
            ReplyKind::Dhcp6Advertise => &s.dhcp6_advertise,
            ReplyKind::Dhcp6Reply => &s.dhcp6_reply,
        });
    }

    fn count_no_reply(&self, tap: &str, why: NoReply) {
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
            NoReply::Invalid => &s.drop_invalid,
            NoReply::Unicast => &s.drop_unicast,
            NoReply::Dad { .. } => &s.drop_dad_probe,
            NoReply::OwnAddress => &s.drop_own_address,
            NoReply::NotOurTarget => &s.drop_not_our_target,
        };
        Stats::bump(counter);
        log::debug!(
            "no reply queue={} tap={tap} reason={}",
            self.num,
            why.as_str()
        );
    }
}
