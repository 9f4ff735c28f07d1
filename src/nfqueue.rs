//! One NFQUEUE's netlink socket: opened, bound and configured with the nfq crate, then read
//! a burst at a time with `recvmmsg` and answered with one `send` of all the burst's
//! verdicts (src/wire/nfqueue.rs has the messages).
//!
//! Why bursts (issue 16): one packet at a time costs a `recv` and a `send` per packet on
//! the netlink socket. `recvmmsg` with MSG_WAITFORONE blocks for the first message and then
//! takes whatever else is already waiting, in the same call: at low rates it is the one
//! `recv` it replaces, and where packets pile up it takes up to [`BURST`] at once. Their
//! verdicts go back in one datagram: each ACCEPT on its own (it carries the packet's mark),
//! every DROP of the burst in one NFQNL_MSG_VERDICT_BATCH naming the newest dropped id.

use crate::wire::nfqueue::{self, Verdict, VERDICT_MSG_MAX};
use nfq::Queue;
use std::io;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

/// Payload bytes the kernel copies to us per packet. DHCP messages fit easily; a larger
/// packet (hostile VM) arrives truncated instead of overflowing a receive buffer, and
/// still gets its verdict.
pub const COPY_RANGE: u16 = 4096;
/// Packets the kernel holds for us before it starts failing open.
const QUEUE_MAX_LEN: u32 = 5000;
/// The netlink socket's receive buffer: enough for a burst of thousands of requests
/// (DESIGN.md §4: the default kept 166 of 2000).
const RCVBUF: libc::c_int = 8 * 1024 * 1024;
/// Messages read per `recvmmsg` at most.
pub const BURST: usize = 32;
/// One message: the copied payload and the kernel's headers and attributes around it
/// (packet header, mark, interfaces, hardware address, timestamp: well under 512 bytes).
const MSG_BUF: usize = COPY_RANGE as usize + 512;
/// Room for a verdict per message of a burst and the batch DROP.
const VERDICT_BUF: usize = (BURST + 1) * VERDICT_MSG_MAX;

/// How long a queue bound by another process is retried. A predecessor killed a moment ago
/// (SIGKILL, then a restart at once) holds its queues until its last thread has exited,
/// which can be after its pid already shows as a zombie.
const BIND_RETRY: Duration = Duration::from_secs(2);

/// A bound queue, its socket and the buffers its thread reads into.
pub struct QueueSocket {
    /// Owns the socket (closed on drop); used for setup only.
    _queue: Queue,
    fd: RawFd,
    num: u16,
    bufs: Box<[u8]>,
    lens: [usize; BURST],
}

/// Opens and binds one NFQUEUE; must run before any other thread exists, because the new
/// netlink socket is found by comparing `/proc/self/fd` before and after `Queue::open`.
pub fn open(num: u16) -> io::Result<QueueSocket> {
    let before = socket_fds();
    let mut queue = Queue::open()?;
    let fd = new_socket(&before)?;
    enlarge_rcvbuf(fd);
    bind(&mut queue, num)?;
    queue.set_copy_range(num, COPY_RANGE)?;
    queue.set_queue_max_len(num, QUEUE_MAX_LEN)?;
    // Should the daemon stall, requests pass on instead of being black-holed by the kernel.
    queue.set_fail_open(num, true)?;
    Ok(QueueSocket {
        _queue: queue,
        fd,
        num,
        bufs: vec![0u8; BURST * MSG_BUF].into_boxed_slice(),
        lens: [0; BURST],
    })
}

fn bind(queue: &mut Queue, num: u16) -> io::Result<()> {
    let deadline = Instant::now() + BIND_RETRY;
    loop {
        match queue.bind(num) {
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
                if Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                return Err(io::Error::new(
                    e.kind(),
                    format!(
                        "{e}: queue {num} is bound by another process (is another nfdhcpd running?) or we lack CAP_NET_ADMIN"
                    ),
                ));
            }
            other => return other,
        }
    }
}

/// The descriptors of this process that are sockets (also the bench's bare loop).
pub fn socket_fds() -> Vec<i32> {
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

/// nfq 0.2.5 exposes no fd: find the one socket `Queue::open` added.
fn new_socket(before: &[i32]) -> io::Result<RawFd> {
    let new: Vec<i32> = socket_fds()
        .into_iter()
        .filter(|fd| !before.contains(fd))
        .collect();
    match new[..] {
        [fd] => Ok(fd),
        _ => Err(io::Error::other(
            "cannot identify the NFQUEUE socket among the open descriptors",
        )),
    }
}

fn enlarge_rcvbuf(fd: RawFd) {
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

impl QueueSocket {
    /// Waits for at least one datagram and takes up to [`BURST`] without waiting further.
    /// Returns how many; read them with [`QueueSocket::messages`].
    pub fn recv(&mut self) -> io::Result<usize> {
        // SAFETY: plain old data; zero is a valid starting value.
        let mut iovs: [libc::iovec; BURST] = unsafe { std::mem::zeroed() };
        let mut msgs: [libc::mmsghdr; BURST] = unsafe { std::mem::zeroed() };
        for (i, chunk) in self.bufs.chunks_exact_mut(MSG_BUF).enumerate() {
            iovs[i] = libc::iovec {
                iov_base: chunk.as_mut_ptr().cast(),
                iov_len: MSG_BUF,
            };
            msgs[i].msg_hdr.msg_iov = &mut iovs[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        loop {
            // SAFETY: every header points at its own iovec and MSG_BUF bytes of `bufs`,
            // all alive and unmoved for the call.
            let n = unsafe {
                libc::recvmmsg(
                    self.fd,
                    msgs.as_mut_ptr(),
                    BURST as libc::c_uint,
                    libc::MSG_WAITFORONE,
                    std::ptr::null_mut(),
                )
            };
            if n >= 0 {
                let n = n as usize;
                for (len, msg) in self.lens.iter_mut().zip(&msgs).take(n) {
                    // A datagram longer than MSG_BUF is cut to it (MSG_TRUNC): the parser
                    // then sees what fits, id first.
                    *len = (msg.msg_len as usize).min(MSG_BUF);
                }
                return Ok(n);
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }

    /// The messages of datagram `i` of the last `recv`.
    pub fn messages(&self, i: usize) -> nfqueue::Messages<'_> {
        let len = self.lens.get(i).copied().unwrap_or(0);
        let start = i * MSG_BUF;
        nfqueue::messages(self.bufs.get(start..start + len).unwrap_or(&[]))
    }

    /// Sends the verdicts collected for a burst and empties the collection.
    pub fn send_verdicts(&self, verdicts: &mut Verdicts) -> io::Result<()> {
        let len = verdicts.finish();
        verdicts.len = 0;
        if len == 0 {
            return Ok(());
        }
        // SAFETY: send(2) of `len` initialised bytes on our socket; the kernel (port 0) is
        // the socket's default destination.
        let rc = unsafe { libc::send(self.fd, verdicts.buf.as_ptr().cast(), len, 0) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// An empty verdict collection for this queue's bursts.
    pub fn verdicts(&self) -> Verdicts {
        Verdicts::new(self.num)
    }
}

/// The verdicts of one burst: ACCEPTs written as they come, the DROPs folded into one batch
/// verdict written last, naming the newest.
pub struct Verdicts {
    queue: u16,
    buf: Box<[u8; VERDICT_BUF]>,
    len: usize,
    newest_drop: Option<u32>,
}

impl Verdicts {
    fn new(queue: u16) -> Verdicts {
        Verdicts {
            queue,
            buf: Box::new([0; VERDICT_BUF]),
            len: 0,
            newest_drop: None,
        }
    }

    /// Adds a packet's verdict. Packets come in id order, so the last DROP is the newest.
    pub fn add(&mut self, id: u32, verdict: Verdict) {
        let queue = self.queue;
        if verdict == Verdict::Drop {
            self.newest_drop = Some(id);
            return;
        }
        match self.buf.get_mut(self.len..) {
            Some(out) => match nfqueue::write_verdict(out, queue, id, verdict) {
                Some(n) => self.len += n,
                // Cannot happen with BURST messages per burst; a packet left without a
                // verdict is dropped by the batch DROP of a later burst.
                None => log::warn!("verdict buffer full queue={queue} id={id}"),
            },
            None => log::warn!("verdict buffer full queue={queue} id={id}"),
        }
    }

    /// Appends the batch DROP; returns the bytes to send.
    fn finish(&mut self) -> usize {
        let queue = self.queue;
        if let Some(newest) = self.newest_drop.take() {
            if let Some(n) = self
                .buf
                .get_mut(self.len..)
                .and_then(|out| nfqueue::write_drop_through(out, queue, newest))
            {
                self.len += n;
            }
        }
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::nfqueue::{write_drop_through, write_verdict};

    /// ACCEPTs go out one by one, in order, before the one batch DROP that names the last
    /// dropped id: the batch must not take an accepted packet with it (the kernel handles
    /// the messages of the datagram in order, so the ACCEPTed ones are gone by then).
    #[test]
    fn a_burst_is_its_accepts_then_one_batch_drop() {
        let mut v = Verdicts::new(42);
        v.add(10, Verdict::Drop);
        v.add(11, Verdict::Accept { mark: 0x0100_0000 });
        v.add(12, Verdict::Drop);
        v.add(13, Verdict::Accept { mark: 0x0100_0005 });
        v.add(14, Verdict::Drop);
        let len = v.finish();
        let mut want = [0u8; 3 * VERDICT_MSG_MAX];
        let mut n =
            write_verdict(&mut want, 42, 11, Verdict::Accept { mark: 0x0100_0000 }).expect("room");
        n += write_verdict(
            &mut want[n..],
            42,
            13,
            Verdict::Accept { mark: 0x0100_0005 },
        )
        .expect("room");
        n += write_drop_through(&mut want[n..], 42, 14).expect("room");
        assert_eq!(&v.buf[..len], &want[..n]);
    }

    #[test]
    fn a_burst_of_accepts_sends_no_batch_and_an_empty_one_nothing() {
        let mut v = Verdicts::new(1);
        assert_eq!(v.finish(), 0);
        v.add(7, Verdict::Accept { mark: 1 });
        assert_eq!(v.finish(), 40);
    }

    /// Ids wrap at 2^32: the batch names the last DROP of the burst, not the largest id.
    #[test]
    fn the_batch_names_the_last_drop_across_the_wrap() {
        let mut v = Verdicts::new(1);
        v.add(u32::MAX, Verdict::Drop);
        v.add(0, Verdict::Drop);
        let len = v.finish();
        let mut want = [0u8; VERDICT_MSG_MAX];
        let n = write_drop_through(&mut want, 1, 0).expect("room");
        assert_eq!(&v.buf[..len], &want[..n]);
    }

    /// Every slot of a full burst holds an ACCEPT with a mark, and the batch still fits.
    #[test]
    fn a_full_burst_fits() {
        let mut v = Verdicts::new(1);
        for id in 0..BURST as u32 {
            v.add(id, Verdict::Accept { mark: id });
        }
        v.add(BURST as u32, Verdict::Drop);
        assert_eq!(v.finish(), BURST * 40 + 32);
    }
}
