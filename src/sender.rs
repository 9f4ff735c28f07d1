//! The one AF_PACKET sender thread, and the frame buffers workers hand to it.
//!
//! Workers never block on the sender: they take a buffer from the pool, fill it, and
//! `try_send` it; a full channel drops the reply and counts it. The sender writes each frame
//! with `sendto(sockaddr_ll{ifindex})` on one send-only socket (protocol 0, so it receives
//! nothing and pins no device), then returns the buffer to the pool: no allocation per reply
//! once the pool is warm.

use crate::stats::Stats;
use crate::wire::MacAddr;
use crossbeam_channel::{Receiver, Sender, TrySendError};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;

/// Largest frame we ever build: an untagged Ethernet frame at a 1500-byte MTU.
pub const FRAME_CAP: usize = 1514;
/// Replies waiting for the sender; past this, replies are dropped and counted.
pub const CHANNEL_DEPTH: usize = 4096;
/// Empty buffers kept for reuse. Enough for the steady state; a burst (an RA round to
/// thousands of taps) allocates more, and the surplus is freed instead of kept for good
/// (4096 kept buffers were 6 MB of RSS).
pub const POOL_KEEP: usize = 64;

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
    free: Receiver<Box<[u8; FRAME_CAP]>>,
    stats: Arc<Stats>,
}

impl SendHandle {
    /// An empty buffer: recycled when one is free, else newly allocated.
    pub fn buffer(&self) -> Box<[u8; FRAME_CAP]> {
        self.free
            .try_recv()
            .unwrap_or_else(|_| Box::new([0u8; FRAME_CAP]))
    }

    /// Queues a frame for the sender without blocking.
    pub fn send(&self, frame: Frame) {
        match self.tx.try_send(frame) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                Stats::bump(&self.stats.reply_queue_full);
            }
        }
    }
}

impl SendHandle {
    /// Queues a frame, waiting for room: for the RA timer, which may wait, not for workers.
    pub fn send_blocking(&self, frame: Frame) {
        if self.tx.send(frame).is_err() {
            Stats::bump(&self.stats.reply_queue_full);
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

    /// Writes one frame onto interface `ifindex`; never blocks.
    pub fn send(&self, frame: &Frame) -> io::Result<()> {
        // SAFETY: sockaddr_ll is plain old data; zero is a valid starting value.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = frame.ethertype().to_be();
        addr.sll_ifindex = frame.ifindex as i32;
        addr.sll_halen = 6;
        addr.sll_addr[..6].copy_from_slice(&frame.dst_mac().octets());
        let bytes = frame.bytes();
        // SAFETY: the pointers and lengths describe live buffers for the duration of the call.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                bytes.as_ptr().cast(),
                bytes.len(),
                libc::MSG_DONTWAIT,
                (&addr as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

/// Builds the channel pair: the handle for workers, and the receiving end for `run`.
pub fn channel(stats: Arc<Stats>) -> (SendHandle, SenderLoop) {
    let (tx, rx) = crossbeam_channel::bounded(CHANNEL_DEPTH);
    let (free_tx, free_rx) = crossbeam_channel::bounded(POOL_KEEP);
    let handle = SendHandle {
        tx,
        free: free_rx,
        stats: Arc::clone(&stats),
    };
    let sender = SenderLoop {
        rx,
        free: free_tx,
        stats,
    };
    (handle, sender)
}

/// The sender thread's state.
pub struct SenderLoop {
    rx: Receiver<Frame>,
    free: Sender<Box<[u8; FRAME_CAP]>>,
    stats: Arc<Stats>,
}

impl SenderLoop {
    /// Sends frames until every `SendHandle` is gone.
    pub fn run(self, socket: PacketSocket) {
        let mut errors = crate::ratelimit::Every::new(std::time::Duration::from_secs(10));
        for frame in self.rx.iter() {
            match socket.send(&frame) {
                Ok(()) => Stats::bump(&self.stats.sent),
                Err(err) => {
                    Stats::bump(&self.stats.send_errors);
                    if let Some(suppressed) = errors.tick() {
                        log::warn!(
                            "send failed ifindex={} error=\"{err}\" suppressed={suppressed}",
                            frame.ifindex
                        );
                    }
                }
            }
            // A full pool means the buffer is surplus: let it drop.
            let _ = self.free.try_send(frame.buf);
        }
    }
}
