//! Hand-written JSON into a byte buffer: string escaping and fields, for the
//! hot output paths. Everything appended is valid UTF-8 (str slices, ASCII).

use crate::model::credits;
use crate::model::time::{push_int, push_rfc3339};

/// How a byte is escaped in a JSON string: 0 not at all, `u` as `\u00XX`,
/// else as a backslash and this byte. Control characters other than `\n`,
/// `\r` and `\t` take the `\u00XX` form (lowercase hex, as serde_json).
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\t' as usize] = b't';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether any of the eight bytes of `x` is a control character, `"` or `\`
/// (exact on existence: the word is then scanned byte by byte).
#[inline]
fn word_needs_escape(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS != 0;
    let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGHS != 0;
    below_space || has_zero(x ^ (ONES * b'"' as u64)) || has_zero(x ^ (ONES * b'\\' as u64))
}

/// Whether any of the 16 bytes needs an escape (exact on existence; written
/// without early exit so that it compiles to a few vector compares).
#[inline]
fn chunk_needs_escape(chunk: &[u8; 16]) -> bool {
    let mut any = false;
    for &b in chunk {
        any |= (b < 0x20) | (b == b'"') | (b == b'\\');
    }
    any
}

/// The index of the first byte at or after `from` that needs an escape:
/// 16 bytes at a time, then 8, then byte by byte.
#[inline]
fn next_escape(bytes: &[u8], mut from: usize) -> Option<usize> {
    while let Some(chunk) = bytes.get(from..from + 16).and_then(|c| <&[u8; 16]>::try_from(c).ok()) {
        if chunk_needs_escape(chunk) {
            break;
        }
        from += 16;
    }
    while let Some(word) = bytes.get(from..from + 8) {
        if word_needs_escape(self::word(word)) {
            break;
        }
        from += 8;
    }
    bytes[from..].iter().position(|&b| ESCAPE[b as usize] != 0).map(|i| from + i)
}

/// The eight bytes of `b` (exactly eight long) as a word.
#[inline]
fn word(b: &[u8]) -> u64 {
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

/// Whether any byte of `b` needs an escape (exact). The tail past the
/// last whole chunk is checked as one overlapping chunk or word, not byte
/// by byte: most strings written are short ids with nothing to escape.
#[inline]
fn any_escape(b: &[u8]) -> bool {
    let n = b.len();
    match n {
        16.. => {
            let chunk = |at: usize| <&[u8; 16]>::try_from(&b[at..at + 16]).is_ok_and(chunk_needs_escape);
            (0..n / 16).any(|i| chunk(16 * i)) || (n % 16 != 0 && chunk(n - 16))
        }
        8.. => word_needs_escape(word(&b[..8])) || word_needs_escape(word(&b[n - 8..])),
        4.. => {
            let half = |at: usize| u64::from(u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]));
            word_needs_escape(half(0) | half(n - 4) << 32)
        }
        _ => b.iter().any(|&c| ESCAPE[c as usize] != 0),
    }
}

/// Appends the JSON-escaped text of `s` (no quotes): runs that need no
/// escape are copied whole.
pub(crate) fn put_escaped(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if !any_escape(bytes) {
        out.extend_from_slice(bytes);
        return;
    }
    let mut start = 0;
    while let Some(i) = next_escape(bytes, start) {
        out.extend_from_slice(&bytes[start..i]);
        let b = bytes[i];
        match ESCAPE[b as usize] {
            b'u' => out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 0xf) as usize]]),
            c => out.extend_from_slice(&[b'\\', c]),
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends `s` as a JSON string literal.
pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    put_escaped(out, s);
    out.push(b'"');
}

/// Appends bytes as a JSON string literal of their lossy UTF-8 reading, as
/// `String::from_utf8_lossy` (one U+FFFD per invalid sequence).
pub(crate) fn put_lossy_str(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    for chunk in bytes.utf8_chunks() {
        put_escaped(out, chunk.valid());
        if !chunk.invalid().is_empty() {
            out.extend_from_slice(char::REPLACEMENT_CHARACTER.encode_utf8(&mut [0; 4]).as_bytes());
        }
    }
    out.push(b'"');
}

/// Appends `s` as a JSON string literal to a String (for tests of the escaping).
#[cfg(test)]
pub(crate) fn write_str(out: &mut String, s: &str) {
    let mut buf = Vec::with_capacity(s.len() + 2);
    put_str(&mut buf, s);
    out.push_str(&String::from_utf8_lossy(&buf));
}

/// The text before a member's value, as one literal: `,"name":`, or
/// `"name":` for the first member (`key!(first "name")`). `name` needs no
/// escaping. One copy of fixed size per member, not four.
macro_rules! key {
    (first $name:literal) => {
        concat!("\"", $name, "\":").as_bytes()
    };
    ($name:literal) => {
        concat!(",\"", $name, "\":").as_bytes()
    };
}
pub(crate) use key;

/// Appends a member's name (`key!`).
#[inline]
pub(crate) fn put_key(out: &mut Vec<u8>, key: &[u8]) {
    out.extend_from_slice(key);
}

#[inline]
pub(crate) fn credits_field(out: &mut Vec<u8>, key: &[u8], micros: i64) {
    out.extend_from_slice(key);
    out.push(b'"');
    credits::push(out, micros);
    out.push(b'"');
}

#[inline]
pub(crate) fn time_field(out: &mut Vec<u8>, key: &[u8], ms: i64) {
    out.extend_from_slice(key);
    out.push(b'"');
    push_rfc3339(out, ms);
    out.push(b'"');
}

#[inline]
pub(crate) fn int_field<T: itoa::Integer + Copy + TryInto<u32>>(out: &mut Vec<u8>, key: &[u8], v: T) {
    out.extend_from_slice(key);
    push_int(out, v);
}

/// A member with a string value.
#[inline]
pub(crate) fn str_field(out: &mut Vec<u8>, key: &[u8], value: &str) {
    out.extend_from_slice(key);
    put_str(out, value);
}

/// A buffer the writers filled, as a String. The writers append only valid
/// UTF-8, so this never replaces anything; it does not panic either way.
pub(crate) fn into_string(buf: Vec<u8>) -> String {
    String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}
