//! Byte-level helpers shared by the wire formats: panic-free reads and writes of the fixed
//! fields of a header, and the walk over type-length-value option areas (DHCPv4, DHCPv6,
//! NDP).
//!
//! A field is a `Range<usize>` of byte offsets (a `usize` for a single byte) relative to
//! the start of its header; multi-byte values are big-endian (network order). Readers give
//! zeros and writers do nothing when a field lies outside the buffer or is not the size of
//! the value, which cannot happen for the fixed fields of a header whose length was checked
//! first, nor in an output area sized exactly before writing. This way field accesses need
//! no `unwrap` and cannot panic, whatever the input.

use std::ops::Range;

use super::WireError;

/// The bytes of `f` in `bytes` as an array; zeros if `f` is outside `bytes` or not `N`
/// long.
pub(crate) fn read<const N: usize>(bytes: &[u8], f: Range<usize>) -> [u8; N] {
    bytes
        .get(f)
        .and_then(|s| <[u8; N]>::try_from(s).ok())
        .unwrap_or([0; N])
}

/// The byte at `at`; zero if it is outside `bytes`.
pub(crate) fn read_u8(bytes: &[u8], at: usize) -> u8 {
    bytes.get(at).copied().unwrap_or(0)
}

/// The 2-byte field `f`; zero if it does not fit.
pub(crate) fn read_u16(bytes: &[u8], f: Range<usize>) -> u16 {
    u16::from_be_bytes(read(bytes, f))
}

/// The 4-byte field `f`; zero if it does not fit.
pub(crate) fn read_u32(bytes: &[u8], f: Range<usize>) -> u32 {
    u32::from_be_bytes(read(bytes, f))
}

/// Writes `value` at `f`; does nothing if `f` is outside `bytes` or not as long as
/// `value`.
pub(crate) fn write(bytes: &mut [u8], f: Range<usize>, value: &[u8]) {
    if let Some(dst) = bytes.get_mut(f) {
        if dst.len() == value.len() {
            dst.copy_from_slice(value);
        }
    }
}

/// Writes the byte at `at`; does nothing if it is outside `bytes`.
pub(crate) fn write_u8(bytes: &mut [u8], at: usize, value: u8) {
    if let Some(b) = bytes.get_mut(at) {
        *b = value;
    }
}

/// Writes the 2-byte field `f`; does nothing if it does not fit.
pub(crate) fn write_u16(bytes: &mut [u8], f: Range<usize>, value: u16) {
    write(bytes, f, &value.to_be_bytes());
}

/// Writes the 4-byte field `f`; does nothing if it does not fit.
pub(crate) fn write_u32(bytes: &mut [u8], f: Range<usize>, value: u32) {
    write(bytes, f, &value.to_be_bytes());
}

/// Writes `items` (addresses, as their octets) back to back from the start of `area`, as
/// many as fit whole.
pub(crate) fn write_list<const N: usize>(
    area: &mut [u8],
    items: impl IntoIterator<Item = [u8; N]>,
) {
    let (slots, _) = area.as_chunks_mut::<N>();
    for (slot, item) in slots.iter_mut().zip(items) {
        *slot = item;
    }
}

/// One step of an option iterator over a type-length-value area: splits the next option
/// off the front of `*rest` and returns its type and data.
///
/// `header` gets the option's first `H` bytes and returns its type and the length of the
/// data that follows the header, or `None` if the header is malformed. `None` when `*rest`
/// is empty (the area ends there); `Err(BadOption)` when the header is cut short, refused
/// by `header`, or its length runs past the end. An error also empties `*rest`, so the
/// iterator reports it once and then ends.
pub(crate) fn split_option<'a, const H: usize, K>(
    rest: &mut &'a [u8],
    header: impl FnOnce([u8; H]) -> Option<(K, usize)>,
) -> Option<Result<(K, &'a [u8]), WireError>> {
    if rest.is_empty() {
        return None;
    }
    let option = rest.split_first_chunk::<H>().and_then(|(hdr, after)| {
        let (kind, len) = header(*hdr)?;
        let (data, after) = after.split_at_checked(len)?;
        Some((kind, data, after))
    });
    let Some((kind, data, after)) = option else {
        *rest = &[];
        return Some(Err(WireError::BadOption));
    };
    *rest = after;
    Some(Ok((kind, data)))
}

/// Stores the value of an option that may appear only once; `BadOption` for a repeat.
pub(crate) fn set_once<V>(slot: &mut Option<V>, value: V) -> Result<(), WireError> {
    if slot.is_some() {
        return Err(WireError::BadOption);
    }
    *slot = Some(value);
    Ok(())
}
