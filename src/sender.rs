//! The one AF_PACKET sender thread, and the frame buffers workers hand to it.
//!
//! Workers never block on the sender: they take a buffer from the pool, fill it, and
//! `try_send` it; a full channel drops the reply and counts it. The sender writes each frame
//! with `sendto(sockaddr_ll{ifindex})` on one send-only socket (protocol 0, so it receives
//! nothing and pins no device), then returns the buffer to the pool: no allocation per reply
//! once the pool is warm.
//!
//! The hand-over is the cost of this design (issue 6): at moderate rates nearly every reply
//! finds the sender asleep. So the sender sleeps with a plain park (no spinning or yielding
//! first: at 10k requests/s the next frame is 100 µs away, far beyond any useful spin), a
//! worker pays for the wake-up only when the sender said it is asleep, and frames that pile
//! up meanwhile go out in one `sendmmsg` call.

use crate::logthrottle::Every;
use crate::stats::Stats;
use crate::wire::MacAddr;
use crossbeam_channel::{Receiver, Sender, TryRecvError, TrySendError};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::Thread;

/// Largest frame we ever build: an untagged Ethernet frame at a 1500-byte MTU.
pub const FRAME_CAP: usize = 1514;
/// Replies waiting for the sender; past this, replies are dropped and counted.
pub const CHANNEL_DEPTH: usize = 4096;
/// Empty buffers kept for reuse. Enough for the steady state; a burst (an RA round to
/// thousands of taps) allocates more, and the surplus is freed instead of kept for good
/// (4096 kept buffers were 6 MB of RSS).
pub const POOL_KEEP: usize = 64;
/// Frames written per `sendmmsg` call at most.
const BATCH: usize = 32;
/// Periodic RAs travel in chunks of this many frames, at most `PERIODIC_DEPTH` chunks
/// waiting: a round to 10,000 taps then holds about 300 KB of frames at a time instead of
/// filling the reply channel (6 MB, and no room left for solicited replies), and the RA
/// thread waits for the sender once per chunk, not once per frame.
pub const PERIODIC_CHUNK: usize = 64;
const PERIODIC_DEPTH: usize = 2;

/// A finished frame and where it goes.
pub struct Frame {
    pub ifindex: u32,
    pub len: usize,
    pub buf: Box<[u8; FRAME_CAP]>,
}

impl Frame {
    pub fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// The Ethernet destination, which the kernel wants in `sockaddr_ll` too.
    fn dst_mac(&self) -> MacAddr {
        MacAddr::from_slice(self.buf.get(0..6).unwrap_or(&[0; 6])).unwrap_or_default()
    }

    fn ethertype(&self) -> u16 {
        u16::from_be_bytes([self.buf[12], self.buf[13]])
    }
}

/// The worker side: a pool of empty buffers and the channel to the sender.
#[derive(Clone)]
pub struct SendHandle {
    tx: Sender<Frame>,
    periodic: Sender<Vec<Frame>>,
    free: Receiver<Box<[u8; FRAME_CAP]>>,
    stats: Arc<Stats>,
    /// Last: fields drop in order, so the channels are closed when it wakes the sender.
    bell: WakeOnDrop,
}

/// The doorbell, rung once more when a handle goes: the last handle gone must wake the
/// sender so that it sees the channels closed.
#[derive(Clone)]
struct WakeOnDrop(Arc<Doorbell>);

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        self.0.wake();
    }
}

impl std::ops::Deref for WakeOnDrop {
    type Target = Doorbell;
    fn deref(&self) -> &Doorbell {
        &self.0
    }
}

/// How a worker learns whether the sender is asleep and needs a wake-up.
#[derive(Default)]
struct Doorbell {
    asleep: AtomicBool,
    sender: OnceLock<Thread>,
}

impl Doorbell {
    /// After a frame was queued: wakes the sender if, and only if, it said it sleeps.
    fn ring(&self) {
        // Pairs with the fence in `SenderLoop::sleep`: either the sender's re-check sees
        // our frame, or we see its flag (no lost wake-up between the two).
        fence(Ordering::SeqCst);
        if self.asleep.load(Ordering::Relaxed) && self.asleep.swap(false, Ordering::Relaxed) {
            self.wake();
        }
    }

    fn wake(&self) {
        if let Some(t) = self.sender.get() {
            t.unpark();
        }
    }
}

impl SendHandle {
    /// An empty buffer: recycled when one is free, else newly allocated.
    pub fn buffer(&self) -> Box<[u8; FRAME_CAP]> {
        self.free
            .try_recv()
            .unwrap_or_else(|_| Box::new([0u8; FRAME_CAP]))
    }

    /// Queues a frame for the sender without blocking, and wakes it.
    pub fn send(&self, frame: Frame) {
        self.push(frame);
        self.ring();
    }

    /// Queues a frame for the sender without blocking and without waking it: a queue
    /// thread pushes a burst's replies, then rings once (issue 16: the wake-up of a
    /// sleeping sender is the dearest part of a reply).
    pub fn push(&self, frame: Frame) {
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = self.tx.try_send(frame)
        {
            Stats::bump(&self.stats.reply_queue_full);
        }
    }

    /// Wakes the sender if it sleeps and frames are waiting (cheap when not: a fence and a
    /// load).
    pub fn ring(&self) {
        if !self.tx.is_empty() {
            self.bell.ring();
        }
    }
}

impl SendHandle {
    /// Queues a chunk of unsolicited frames (periodic RAs), waiting for room: for the RA
    /// timer, which may wait, not for workers. The sender writes solicited replies first.
    pub fn send_periodic(&self, chunk: Vec<Frame>) {
        let n = chunk.len() as u64;
        match self.periodic.send(chunk) {
            Ok(()) => self.bell.ring(),
            Err(_) => Stats::add(&self.stats.reply_queue_full, n),
        }
    }
}

/// The send-only AF_PACKET socket, opened as root before privileges are dropped.
pub struct PacketSocket {
    fd: OwnedFd,
}

impl PacketSocket {
    pub fn open() -> io::Result<PacketSocket> {
        // SAFETY: plain socket(2); the result is checked before use.
        let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor we own.
        Ok(PacketSocket {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Writes `frames`, each onto its interface, with one `sendmmsg`; never blocks.
    /// Returns how many went out (at least one), or the error of the first one.
    pub fn send_many(&self, frames: &[Frame]) -> io::Result<usize> {
        let n = frames.len().min(BATCH);
        // SAFETY: all three are plain old data; zero is a valid starting value.
        let mut addrs: [libc::sockaddr_ll; BATCH] = unsafe { std::mem::zeroed() };
        let mut iovs: [libc::iovec; BATCH] = unsafe { std::mem::zeroed() };
        let mut msgs: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
        for (i, frame) in frames.iter().take(n).enumerate() {
            let addr = &mut addrs[i];
            addr.sll_family = libc::AF_PACKET as u16;
            addr.sll_protocol = frame.ethertype().to_be();
            addr.sll_ifindex = frame.ifindex as i32;
            addr.sll_halen = 6;
            addr.sll_addr[..6].copy_from_slice(&frame.dst_mac().octets());
            let bytes = frame.bytes();
            iovs[i] = libc::iovec {
                iov_base: bytes.as_ptr() as *mut libc::c_void,
                iov_len: bytes.len(),
            };
            let hdr = &mut msgs[i].msg_hdr;
            hdr.msg_name = (addr as *mut libc::sockaddr_ll).cast();
            hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            hdr.msg_iov = &mut iovs[i];
            hdr.msg_iovlen = 1;
        }
        // SAFETY: every header points into `addrs`, `iovs` and `frames`, all alive and
        // unmoved for the duration of the call; n <= BATCH entries are initialised.
        let sent = unsafe {
            libc::sendmmsg(
                self.fd.as_raw_fd(),
                msgs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT,
            )
        };
        match sent {
            s if s > 0 => Ok(s as usize),
            0 => Err(io::Error::from(io::ErrorKind::WriteZero)),
            _ => Err(io::Error::last_os_error()),
        }
    }
}

/// Builds the channel pair: the handle for workers, and the receiving end for `run`.
pub fn channel(stats: Arc<Stats>) -> (SendHandle, SenderLoop) {
    let (tx, rx) = crossbeam_channel::bounded(CHANNEL_DEPTH);
    let (periodic_tx, periodic_rx) = crossbeam_channel::bounded(PERIODIC_DEPTH);
    let (free_tx, free_rx) = crossbeam_channel::bounded(POOL_KEEP);
    let bell = Arc::new(Doorbell::default());
    let handle = SendHandle {
        tx,
        periodic: periodic_tx,
        free: free_rx,
        stats: Arc::clone(&stats),
        bell: WakeOnDrop(Arc::clone(&bell)),
    };
    let sender = SenderLoop {
        rx,
        periodic: periodic_rx,
        free: free_tx,
        bell,
        stats,
    };
    (handle, sender)
}

/// The sender thread's state.
pub struct SenderLoop {
    rx: Receiver<Frame>,
    periodic: Receiver<Vec<Frame>>,
    free: Sender<Box<[u8; FRAME_CAP]>>,
    bell: Arc<Doorbell>,
    stats: Arc<Stats>,
}

/// What woke the sender.
enum Next {
    Reply(Frame),
    Periodic(Vec<Frame>),
    Closed,
}

impl SenderLoop {
    /// Sends frames until every `SendHandle` is gone.
    pub fn run(self, socket: PacketSocket) {
        let _ = self.bell.sender.set(std::thread::current());
        yield_to_queue_threads();
        let mut errors = Every::new(std::time::Duration::from_secs(10));
        let mut batch: Vec<Frame> = Vec::with_capacity(BATCH);
        // The periodic chunk being written, reversed so that `pop` keeps its order.
        let mut periodic: Vec<Frame> = Vec::new();
        loop {
            // Solicited replies first: a VM waits for those.
            while batch.len() < BATCH {
                match self.rx.try_recv() {
                    Ok(frame) => batch.push(frame),
                    Err(_) => break,
                }
            }
            while batch.len() < BATCH {
                if let Some(frame) = periodic.pop() {
                    batch.push(frame);
                } else if let Ok(chunk) = self.periodic.try_recv() {
                    periodic = reversed(chunk);
                } else {
                    break;
                }
            }
            if batch.is_empty() {
                match self.sleep() {
                    Next::Reply(frame) => batch.push(frame),
                    Next::Periodic(chunk) => periodic = reversed(chunk),
                    Next::Closed => return,
                }
                continue;
            }
            self.flush(&socket, &batch, &mut errors);
            for frame in batch.drain(..) {
                // A full pool means the buffer is surplus: let it drop.
                let _ = self.free.try_send(frame.buf);
            }
        }
    }

    /// Waits for the next frame or chunk without spinning.
    fn sleep(&self) -> Next {
        loop {
            self.bell.asleep.store(true, Ordering::Relaxed);
            // Pairs with the fence in `Doorbell::ring`.
            fence(Ordering::SeqCst);
            if let Some(next) = self.poll() {
                self.bell.asleep.store(false, Ordering::Relaxed);
                return next;
            }
            std::thread::park();
            self.bell.asleep.store(false, Ordering::Relaxed);
            if let Some(next) = self.poll() {
                return next;
            }
            // Spurious wake-up: announce sleep again.
        }
    }

    /// One look at both channels: `None` when both are empty and still open.
    fn poll(&self) -> Option<Next> {
        match self.rx.try_recv() {
            Ok(frame) => return Some(Next::Reply(frame)),
            Err(TryRecvError::Disconnected) => return Some(Next::Closed),
            Err(TryRecvError::Empty) => {}
        }
        match self.periodic.try_recv() {
            Ok(chunk) => Some(Next::Periodic(chunk)),
            Err(TryRecvError::Disconnected) => Some(Next::Closed),
            Err(TryRecvError::Empty) => None,
        }
    }

    /// Writes the batch, counting each frame as sent or failed.
    fn flush(&self, socket: &PacketSocket, batch: &[Frame], errors: &mut Every) {
        let mut next = 0;
        while let Some(rest) = batch.get(next..).filter(|r| !r.is_empty()) {
            match socket.send_many(rest) {
                Ok(n) => {
                    Stats::add(&self.stats.sent, n as u64);
                    next += n;
                }
                Err(err) => {
                    // The first frame of `rest` failed; the others get their own try.
                    Stats::bump(&self.stats.send_errors);
                    if let Some(suppressed) = errors.tick() {
                        log::warn!(
                            "send failed ifindex={} error=\"{err}\" suppressed={suppressed}",
                            rest[0].ifindex
                        );
                    }
                    next += 1;
                }
            }
        }
    }
}

/// Makes the sender thread SCHED_BATCH (same nice level, same share of the CPU) when it
/// runs under the normal policy. A woken SCHED_BATCH thread does not preempt the running
/// one: when the kernel wakes the sender on the CPU of the queue thread that rang, the
/// sender runs once that thread blocks for its next burst instead of cutting into it, one
/// pair of context switches less per reply (issue 16, tests/bench/RESULTS.md 2026-12-02:
/// 33 instead of 57 µs of CPU per reply at 1,000 DISCOVERs/s). Its verdict cannot delay a
/// reply noticeably: the queue thread sends it right after waking the sender. Under an
/// operator's real-time policy (chrt) the sender keeps it: demoting it below the queue
/// threads could starve it.
fn yield_to_queue_threads() {
    // SAFETY: both calls act on the calling thread (0) and read or copy a plain struct.
    unsafe {
        if libc::sched_getscheduler(0) != libc::SCHED_OTHER {
            return;
        }
        let param = libc::sched_param { sched_priority: 0 };
        if libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) != 0 {
            log::debug!(
                "sender stays SCHED_OTHER error=\"{}\"",
                io::Error::last_os_error()
            );
        }
    }
}

fn reversed(mut chunk: Vec<Frame>) -> Vec<Frame> {
    chunk.reverse();
    chunk
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// An interface index no namespace has: every send fails and is counted, so the test
    /// touches no network and still runs the whole hand-over and `sendmmsg` path.
    const NO_SUCH_IFINDEX: u32 = 0x7fff_fff0;

    /// Many workers, with pauses that let the sender fall asleep between frames: every
    /// frame is accounted for (no wake-up lost between "asleep" and "queued").
    #[test]
    fn no_frame_waits_for_a_lost_wake_up() {
        let socket = match PacketSocket::open() {
            Ok(s) => s,
            Err(e) if std::env::var_os("CI").is_none() => {
                eprintln!("skipped: an AF_PACKET socket needs CAP_NET_RAW ({e})");
                return;
            }
            Err(e) => panic!("an AF_PACKET socket needs CAP_NET_RAW under CI: {e}"),
        };
        let stats = Arc::new(Stats::default());
        let (handle, sender) = channel(Arc::clone(&stats));
        let sender = std::thread::spawn(move || sender.run(socket));
        const WORKERS: u64 = 4;
        const FRAMES: u64 = 5000;
        let workers: Vec<_> = (0..WORKERS)
            .map(|w| {
                let handle = handle.clone();
                std::thread::spawn(move || {
                    for i in 0..FRAMES {
                        let mut buf = handle.buffer();
                        buf[12..14].copy_from_slice(&[0x08, 0x00]);
                        let frame = Frame {
                            ifindex: NO_SUCH_IFINDEX,
                            len: 60,
                            buf,
                        };
                        // Both paths: replies and periodic chunks.
                        if i % 2 == 0 {
                            handle.send(frame);
                        } else {
                            handle.send_periodic(vec![frame]);
                        }
                        if (i + w) % 7 == 0 {
                            std::thread::sleep(Duration::from_micros(50));
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().expect("worker");
        }
        let total = WORKERS * FRAMES;
        // Written, failed, or refused by a full channel (a sender descheduled for long on a
        // busy machine): a frame stuck for want of a wake-up is none of the three.
        let done = || {
            stats.sent.load(Ordering::Relaxed)
                + stats.send_errors.load(Ordering::Relaxed)
                + stats.reply_queue_full.load(Ordering::Relaxed)
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while done() < total && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(done(), total, "frames written, failed or refused");
        drop(handle);
        sender
            .join()
            .expect("the sender ends once every handle is gone");
    }
}
