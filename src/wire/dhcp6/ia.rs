//! Identity associations: IA_NA (RFC 8415 §21.4), IA_TA (§21.5) and IA_PD (§21.21), the
//! addresses (IAADDR, §21.6) and prefixes (IAPREFIX, §21.22) inside them, and the Status
//! Code option (§21.13) a server puts at the top level or inside an IA.
//!
//! [`Ia::parse`] checks an IA's whole contents once (the request parser calls it for every
//! IA), so the iterators afterwards never meet a malformed sub-option. Writing goes through
//! [`ReplyWriter`]: a whole IA or nothing, never an allocation.

use std::net::Ipv6Addr;

use super::super::bytes::{read, read_u32, read_u8, write, write_u16, write_u32, write_u8};
use super::super::WireError;
use super::{option, OptionIter, ReplyWriter, OPTION_HDR_LEN};

/// IAADDR (§21.6) and IAPREFIX (§21.22) option codes; their data's fixed part.
pub mod sub {
    pub const IAADDR: u16 = 5;
    pub const IAPREFIX: u16 = 26;
    /// Address, preferred and valid lifetime.
    pub const IAADDR_LEN: usize = 24;
    /// Preferred and valid lifetime, prefix length, prefix.
    pub const IAPREFIX_LEN: usize = 25;
}

/// Byte offsets in an IA's data (§21.4, §21.21; IA_TA has only the IAID, §21.5).
mod field {
    pub type Field = std::ops::Range<usize>;
    pub const IAID: Field = 0..4;
    pub const T1: Field = 4..8;
    pub const T2: Field = 8..12;

    pub mod addr {
        use super::Field;
        pub const ADDR: Field = 0..16;
        pub const PREFERRED: Field = 16..20;
        pub const VALID: Field = 20..24;
    }

    pub mod prefix {
        use super::Field;
        pub const PREFERRED: Field = 0..4;
        pub const VALID: Field = 4..8;
        pub const LEN: usize = 8;
        pub const PREFIX: Field = 9..25;
    }
}

/// Which kind of identity association.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IaKind {
    /// Non-temporary addresses.
    Na,
    /// Temporary addresses (RFC 8415 §21.5): not served, refused per IA.
    Ta,
    /// Delegated prefixes.
    Pd,
}

impl IaKind {
    pub fn from_code(code: u16) -> Option<IaKind> {
        match code {
            option::IA_NA => Some(IaKind::Na),
            option::IA_TA => Some(IaKind::Ta),
            option::IA_PD => Some(IaKind::Pd),
            _ => None,
        }
    }

    pub fn code(self) -> u16 {
        match self {
            IaKind::Na => option::IA_NA,
            IaKind::Ta => option::IA_TA,
            IaKind::Pd => option::IA_PD,
        }
    }

    /// The fixed part before the IA's own options: IAID, T1, T2 (IA_TA: IAID only).
    pub fn fixed_len(self) -> usize {
        match self {
            IaKind::Na | IaKind::Pd => 12,
            IaKind::Ta => 4,
        }
    }
}

enum_with_unknown! {
    /// Status codes (RFC 8415 §21.13).
    pub enum StatusCode(u16) {
        Success = 0,
        UnspecFail = 1,
        NoAddrsAvail = 2,
        NoBinding = 3,
        NotOnLink = 4,
        UseMulticast = 5,
        NoPrefixAvail = 6,
    }
}

/// An address with its lifetimes (IAADDR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IaAddress {
    pub addr: Ipv6Addr,
    pub preferred: u32,
    pub valid: u32,
}

/// A prefix with its lifetimes (IAPREFIX). `len` is at most 128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IaPrefix {
    pub prefix: Ipv6Addr,
    pub len: u8,
    pub preferred: u32,
    pub valid: u32,
}

/// What an IA of a reply holds: addresses (IA_NA, IA_TA) or prefixes (IA_PD).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lease {
    Address(IaAddress),
    Prefix(IaPrefix),
}

impl Lease {
    fn option_len(&self) -> usize {
        OPTION_HDR_LEN
            + match self {
                Lease::Address(_) => sub::IAADDR_LEN,
                Lease::Prefix(_) => sub::IAPREFIX_LEN,
            }
    }
}

/// A checked view of one IA option's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ia<'a> {
    pub kind: IaKind,
    pub iaid: u32,
    /// 0 for IA_TA, which has no T1/T2.
    pub t1: u32,
    pub t2: u32,
    /// The IA's own options, all well formed.
    options: &'a [u8],
}

impl<'a> Ia<'a> {
    /// Checks an IA's data: the fixed part, then every option inside it walked, each
    /// IAADDR (only in IA_NA/IA_TA) at least 24 bytes, each IAPREFIX (only in IA_PD) at
    /// least 25 bytes with a length of at most 128, each Status Code at least 2 bytes.
    /// `BadOption` otherwise.
    pub fn parse(kind: IaKind, data: &'a [u8]) -> Result<Ia<'a>, WireError> {
        let fixed = kind.fixed_len();
        let options = data.get(fixed..).ok_or(WireError::BadOption)?;
        let (t1, t2) = match kind {
            IaKind::Ta => (0, 0),
            IaKind::Na | IaKind::Pd => (read_u32(data, field::T1), read_u32(data, field::T2)),
        };
        for opt in OptionIter::new(options) {
            let opt = opt?;
            let ok = match opt.code {
                sub::IAADDR => kind != IaKind::Pd && opt.data.len() >= sub::IAADDR_LEN,
                sub::IAPREFIX => {
                    kind == IaKind::Pd
                        && opt.data.len() >= sub::IAPREFIX_LEN
                        && read_u8(opt.data, field::prefix::LEN) <= 128
                }
                option::STATUS_CODE => opt.data.len() >= 2,
                _ => true,
            };
            if !ok {
                return Err(WireError::BadOption);
            }
        }
        Ok(Ia {
            kind,
            iaid: read_u32(data, field::IAID),
            t1,
            t2,
            options,
        })
    }

    /// The IAADDR options, in order (none in an IA_PD).
    pub fn addresses(&self) -> impl Iterator<Item = IaAddress> + 'a {
        OptionIter::new(self.options)
            .filter_map(Result::ok)
            .filter(|o| o.code == sub::IAADDR)
            .map(|o| IaAddress {
                addr: Ipv6Addr::from(read::<16>(o.data, field::addr::ADDR)),
                preferred: read_u32(o.data, field::addr::PREFERRED),
                valid: read_u32(o.data, field::addr::VALID),
            })
    }

    /// The IAPREFIX options, in order (none in an IA_NA or IA_TA).
    pub fn prefixes(&self) -> impl Iterator<Item = IaPrefix> + 'a {
        OptionIter::new(self.options)
            .filter_map(Result::ok)
            .filter(|o| o.code == sub::IAPREFIX)
            .map(|o| IaPrefix {
                prefix: Ipv6Addr::from(read::<16>(o.data, field::prefix::PREFIX)),
                len: read_u8(o.data, field::prefix::LEN),
                preferred: read_u32(o.data, field::prefix::PREFERRED),
                valid: read_u32(o.data, field::prefix::VALID),
            })
    }
}

/// The fixed part of an IA a server writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IaHeader {
    pub kind: IaKind,
    pub iaid: u32,
    pub t1: u32,
    pub t2: u32,
}

impl<'a> ReplyWriter<'a> {
    /// A Status Code option (§21.13): the code, then `message` as UTF-8 (no terminator).
    pub fn option_status(&mut self, code: StatusCode, message: &str) -> Result<(), WireError> {
        let value = self.reserve(option::STATUS_CODE, 2 + message.len())?;
        write_status(value, code, message);
        Ok(())
    }

    /// One IA: its fixed part, an IAADDR or IAPREFIX per lease, then `status` when given.
    /// A lease of the wrong kind for the IA (a prefix in an IA_NA) is `BadOption`; nothing
    /// is written on any error.
    pub fn option_ia(
        &mut self,
        ia: IaHeader,
        leases: &[Lease],
        status: Option<(StatusCode, &str)>,
    ) -> Result<(), WireError> {
        let fits = |l: &Lease| matches!(l, Lease::Prefix(_)) == (ia.kind == IaKind::Pd);
        if !leases.iter().all(fits) {
            return Err(WireError::BadOption);
        }
        let status_len = status.map_or(0, |(_, m)| OPTION_HDR_LEN + 2 + m.len());
        let len =
            ia.kind.fixed_len() + leases.iter().map(Lease::option_len).sum::<usize>() + status_len;
        let value = self.reserve(ia.kind.code(), len)?;
        let (fixed, mut rest) = value.split_at_mut(ia.kind.fixed_len());
        write_u32(fixed, field::IAID, ia.iaid);
        if ia.kind != IaKind::Ta {
            write_u32(fixed, field::T1, ia.t1);
            write_u32(fixed, field::T2, ia.t2);
        }
        for lease in leases {
            let (opt, tail) = std::mem::take(&mut rest).split_at_mut(lease.option_len());
            write_lease(opt, lease);
            rest = tail;
        }
        if let Some((code, message)) = status {
            write_u16(rest, 0..2, option::STATUS_CODE);
            write_u16(rest, 2..4, (2 + message.len()) as u16);
            write_status(&mut rest[OPTION_HDR_LEN..], code, message);
        }
        Ok(())
    }
}

/// `opt` is exactly the lease's option, header included.
fn write_lease(opt: &mut [u8], lease: &Lease) {
    let (hdr, data) = opt.split_at_mut(OPTION_HDR_LEN);
    let (code, len) = match lease {
        Lease::Address(_) => (sub::IAADDR, sub::IAADDR_LEN),
        Lease::Prefix(_) => (sub::IAPREFIX, sub::IAPREFIX_LEN),
    };
    write_u16(hdr, 0..2, code);
    write_u16(hdr, 2..4, len as u16);
    match lease {
        Lease::Address(a) => {
            write(data, field::addr::ADDR, &a.addr.octets());
            write_u32(data, field::addr::PREFERRED, a.preferred);
            write_u32(data, field::addr::VALID, a.valid);
        }
        Lease::Prefix(p) => {
            write_u32(data, field::prefix::PREFERRED, p.preferred);
            write_u32(data, field::prefix::VALID, p.valid);
            write_u8(data, field::prefix::LEN, p.len);
            write(data, field::prefix::PREFIX, &p.prefix.octets());
        }
    }
}

/// `value` is exactly `2 + message.len()` bytes.
fn write_status(value: &mut [u8], code: StatusCode, message: &str) {
    write_u16(value, 0..2, code.into());
    write(value, 2..value.len(), message.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::super::{MessageType, Packet, Request};
    use super::*;

    fn addr(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    /// A Solicit for an address laid out as ISC dhclient 4.4 sends it (`dhclient -6`: rapid
    /// commit asked, IAID from the MAC's last four bytes, T1 = T2 = 0).
    #[rustfmt::skip]
    pub(crate) static SOLICIT_BYTES: [u8; 52] = [
        1, 0x2a, 0x4e, 0x11, // SOLICIT, transaction id
        0, 1, 0, 10, 0, 3, 0, 1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, // client id (DUID-LL)
        0, 6, 0, 4, 0, 23, 0, 24, // ORO: DNS servers, domain list
        0, 8, 0, 2, 0, 0, // elapsed time
        0, 14, 0, 0, // rapid commit
        0, 3, 0, 12, 0x00, 0x12, 0x34, 0x56, 0, 0, 0, 0, 0, 0, 0, 0, // IA_NA, T1 = T2 = 0
    ];

    /// A Renew of 2001:db8::5 and of 2001:db8:100::/56.
    #[rustfmt::skip]
    static RENEW_BYTES: [u8; 121] = [
        5, 0, 0, 9, // RENEW, transaction id
        0, 1, 0, 10, 0, 3, 0, 1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, // client id
        0, 2, 0, 10, 0, 3, 0, 1, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, // server id
        0, 3, 0, 40, 0, 0, 0, 1, 0, 0, 0x0e, 0x10, 0, 0, 0x1c, 0x20, // IA_NA 1, T1 3600, T2 7200
        0, 5, 0, 24, // IAADDR
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5,
        0, 0, 0x1c, 0x20, 0, 0, 0x38, 0x40, // preferred 7200, valid 14400
        0, 25, 0, 41, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, // IA_PD 2
        0, 26, 0, 25, // IAPREFIX
        0, 0, 0x1c, 0x20, 0, 0, 0x38, 0x40, 56, // preferred, valid, length 56
        0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];

    fn ias<'a>(r: &Request<'a>) -> Vec<Ia<'a>> {
        r.ias().collect()
    }

    #[test]
    fn solicit_fixture() {
        let r = Request::parse(&SOLICIT_BYTES).unwrap();
        assert_eq!(r.msg_type, MessageType::Solicit);
        assert!(r.rapid_commit);
        let ia = ias(&r);
        assert_eq!(ia.len(), 1);
        assert_eq!(
            (ia[0].kind, ia[0].iaid, ia[0].t1, ia[0].t2),
            (IaKind::Na, 0x00123456, 0, 0)
        );
        assert_eq!(ia[0].addresses().count(), 0);
    }

    #[test]
    fn renew_fixture() {
        let r = Request::parse(&RENEW_BYTES).unwrap();
        assert!(!r.rapid_commit);
        let ia = ias(&r);
        assert_eq!(ia.len(), 2);
        assert_eq!(
            (ia[0].kind, ia[0].iaid, ia[0].t1, ia[0].t2),
            (IaKind::Na, 1, 3600, 7200)
        );
        let a: Vec<_> = ia[0].addresses().collect();
        assert_eq!(
            a,
            [IaAddress {
                addr: addr("2001:db8::5"),
                preferred: 7200,
                valid: 14400
            }]
        );
        assert_eq!(ia[0].prefixes().count(), 0);
        assert_eq!((ia[1].kind, ia[1].iaid), (IaKind::Pd, 2));
        let p: Vec<_> = ia[1].prefixes().collect();
        assert_eq!(
            p,
            [IaPrefix {
                prefix: addr("2001:db8:100::"),
                len: 56,
                preferred: 7200,
                valid: 14400
            }]
        );
        assert_eq!(ia[1].addresses().count(), 0);
    }

    /// Every cut of the Renew is refused or parses with fewer IAs; never a panic, and an IA
    /// that parsed is whole.
    #[test]
    fn every_truncation() {
        for len in 0..RENEW_BYTES.len() {
            if let Ok(r) = Request::parse(&RENEW_BYTES[..len]) {
                for ia in r.ias() {
                    let _ = ia.addresses().count() + ia.prefixes().count();
                }
                assert!(r.ias().count() < 2, "len {len}");
            }
        }
    }

    fn ia_data(kind: IaKind, subs: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut d = vec![0u8; kind.fixed_len()];
        for (code, data) in subs {
            d.extend_from_slice(&code.to_be_bytes());
            d.extend_from_slice(&(data.len() as u16).to_be_bytes());
            d.extend_from_slice(data);
        }
        d
    }

    #[test]
    fn ia_contents_checked() {
        let prefix = |len: u8| {
            let mut p = vec![0u8; 25];
            p[8] = len;
            p
        };
        for (kind, subs) in [
            (IaKind::Na, vec![(sub::IAADDR, vec![0; 23])]),
            (IaKind::Ta, vec![(sub::IAADDR, vec![0; 23])]),
            (IaKind::Pd, vec![(sub::IAPREFIX, vec![0; 24])]),
            (IaKind::Pd, vec![(sub::IAPREFIX, prefix(129))]),
            (IaKind::Na, vec![(sub::IAPREFIX, prefix(64))]),
            (IaKind::Pd, vec![(sub::IAADDR, vec![0; 24])]),
            (IaKind::Na, vec![(option::STATUS_CODE, vec![0])]),
        ] {
            assert_eq!(
                Ia::parse(kind, &ia_data(kind, &subs)),
                Err(WireError::BadOption),
                "{kind:?} {subs:?}"
            );
        }
        let mut cut = ia_data(IaKind::Na, &[(sub::IAADDR, vec![0; 24])]);
        cut.pop();
        assert_eq!(Ia::parse(IaKind::Na, &cut), Err(WireError::BadOption));
        for kind in [IaKind::Na, IaKind::Ta, IaKind::Pd] {
            let short = vec![0; kind.fixed_len() - 1];
            assert_eq!(Ia::parse(kind, &short), Err(WireError::BadOption));
        }
        // Longer sub-options than the fixed part, unknown ones and status codes are fine.
        let ok = ia_data(
            IaKind::Pd,
            &[
                (
                    sub::IAPREFIX,
                    [prefix(128), vec![0, 13, 0, 2, 0, 0]].concat(),
                ),
                (999, vec![1; 3]),
                (option::STATUS_CODE, b"\0\0ok".to_vec()),
            ],
        );
        let ia = Ia::parse(IaKind::Pd, &ok).unwrap();
        assert_eq!(ia.prefixes().map(|p| p.len).collect::<Vec<_>>(), [128]);
    }

    fn header(kind: IaKind) -> IaHeader {
        IaHeader {
            kind,
            iaid: 1,
            t1: 3600,
            t2: 7200,
        }
    }

    /// The Reply that answers `RENEW_BYTES`: the address kept, an old one at lifetime 0,
    /// the prefix kept.
    #[rustfmt::skip]
    static REPLY_BYTES: [u8; 4 + 88 + 45 + 10] = [
        7, 0, 0, 9,
        0, 3, 0, 84, 0, 0, 0, 1, 0, 0, 0x0e, 0x10, 0, 0, 0x1c, 0x20, // IA_NA 1
        0, 5, 0, 24,
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5,
        0, 0, 0x1c, 0x20, 0, 0, 0x38, 0x40,
        0, 5, 0, 24,
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4,
        0, 0, 0, 0, 0, 0, 0, 0, // lifetimes 0
        0, 13, 0, 12, 0, 0, b'r', b'e', b'n', b'e', b'w', b'e', b'd', b' ', b'2', b'.', // status
        0, 25, 0, 41, 0, 0, 0, 2, 0, 0, 0x0e, 0x10, 0, 0, 0x1c, 0x20, // IA_PD 2
        0, 26, 0, 25,
        0, 0, 0x1c, 0x20, 0, 0, 0x38, 0x40, 56,
        0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 13, 0, 6, 0, 3, b'g', b'o', b'n', b'e', // top-level status NoBinding
    ];

    fn write_reply(buf: &mut [u8]) -> usize {
        let mut w = ReplyWriter::new(buf, MessageType::Reply, 9).unwrap();
        let kept = IaAddress {
            addr: addr("2001:db8::5"),
            preferred: 7200,
            valid: 14400,
        };
        let old = IaAddress {
            addr: addr("2001:db8::4"),
            preferred: 0,
            valid: 0,
        };
        let na = [Lease::Address(kept), Lease::Address(old)];
        w.option_ia(
            header(IaKind::Na),
            &na,
            Some((StatusCode::Success, "renewed 2.")),
        )
        .unwrap();
        let pd = [Lease::Prefix(IaPrefix {
            prefix: addr("2001:db8:100::"),
            len: 56,
            preferred: 7200,
            valid: 14400,
        })];
        let pd_header = IaHeader {
            iaid: 2,
            ..header(IaKind::Pd)
        };
        w.option_ia(pd_header, &pd, None).unwrap();
        w.option_status(StatusCode::NoBinding, "gone").unwrap();
        w.finish()
    }

    #[test]
    fn construct() {
        let mut buf = [0xa5u8; 200];
        let len = write_reply(&mut buf);
        assert_eq!(&buf[..len], &REPLY_BYTES[..]);
        assert!(buf[len..].iter().all(|&b| b == 0xa5));
    }

    /// What we write, our parser and dhcproto read back the same.
    #[test]
    fn emit_then_parse() {
        use dhcproto::v6::{self, DhcpOption as D, OptionCode};
        use dhcproto::Decodable;
        let mut buf = [0u8; 200];
        let len = write_reply(&mut buf);
        let r = Request::parse(&buf[..len]).unwrap();
        let ia = ias(&r);
        assert_eq!(ia[0].addresses().count(), 2);
        assert_eq!(ia[1].prefixes().next().unwrap().len, 56);
        let m = v6::Message::from_bytes(&buf[..len]).expect("dhcproto decodes it");
        let Some(D::IANA(na)) = m.opts().get(OptionCode::IANA) else {
            panic!("no IA_NA in {m:?}");
        };
        assert_eq!((na.id, na.t1, na.t2), (1, 3600, 7200));
        let Some(D::IAAddr(a)) = na.opts.get(OptionCode::IAAddr) else {
            panic!("no IAADDR in {na:?}");
        };
        assert_eq!(
            (a.addr, a.preferred_life, a.valid_life),
            (addr("2001:db8::5"), 7200, 14400)
        );
        let Some(D::IAPD(pd)) = m.opts().get(OptionCode::IAPD) else {
            panic!("no IA_PD in {m:?}");
        };
        let Some(D::IAPrefix(p)) = pd.opts.get(OptionCode::IAPrefix) else {
            panic!("no IAPREFIX in {pd:?}");
        };
        assert_eq!((p.prefix_ip, p.prefix_len), (addr("2001:db8:100::"), 56));
        let Some(D::StatusCode(s)) = m.opts().get(OptionCode::StatusCode) else {
            panic!("no status in {m:?}");
        };
        assert_eq!((u16::from(s.status), s.msg.as_str()), (3, "gone"));
        assert!(Packet::new_checked(&buf[..len])
            .unwrap()
            .options()
            .all(|o| o.is_ok()));
    }

    #[test]
    fn write_errors_leave_nothing() {
        let mut buf = [0xa5u8; 4 + 16 + 28 - 1];
        let mut w = ReplyWriter::new(&mut buf, MessageType::Reply, 1).unwrap();
        let a = Lease::Address(IaAddress {
            addr: addr("2001:db8::1"),
            preferred: 1,
            valid: 1,
        });
        let p = Lease::Prefix(IaPrefix {
            prefix: addr("2001:db8::"),
            len: 48,
            preferred: 1,
            valid: 1,
        });
        assert_eq!(
            w.option_ia(header(IaKind::Na), &[a], None),
            Err(WireError::BufferTooSmall)
        );
        assert_eq!(
            w.option_ia(header(IaKind::Na), &[p], None),
            Err(WireError::BadOption)
        );
        assert_eq!(
            w.option_ia(header(IaKind::Pd), &[a], None),
            Err(WireError::BadOption)
        );
        // An IA_TA has no T1/T2, and an empty IA only its fixed part and a status.
        w.option_ia(
            header(IaKind::Ta),
            &[],
            Some((StatusCode::NoAddrsAvail, "")),
        )
        .unwrap();
        assert_eq!(w.finish(), 4 + 4 + 4 + 4 + 2);
        assert_eq!(&buf[4..18], &[0, 4, 0, 10, 0, 0, 0, 1, 0, 13, 0, 2, 0, 2]);
    }

    #[test]
    fn status_codes_round_trip() {
        for n in 0..=7u16 {
            assert_eq!(u16::from(StatusCode::from(n)), n);
        }
        assert_eq!(StatusCode::from(6), StatusCode::NoPrefixAvail);
        assert_eq!(StatusCode::from(7), StatusCode::Unknown(7));
    }
}
