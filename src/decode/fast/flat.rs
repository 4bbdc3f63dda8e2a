//! The common case of the fast path without serde: a flat object whose
//! members are unescaped strings, plain numbers, `true`, `false` or `null`
//! (a native usage event as most producers write it; members bursar does not
//! read may also be arrays or objects of those), scanned into the same
//! [`Members`] that the serde visitor fills.
//!
//! It only ever says "done, and serde_json would read exactly this" or
//! "unsure": anything else (an escape, an array or object in a member bursar
//! reads, a CloudEvent's `data` object, a duplicate of a read member, a
//! count that is not a plain integer, text serde_json might refuse) leaves
//! the decision to the serde pass, which runs from scratch. So no line is accepted here that the serde pass would
//! reject, and every accepted line has the same members (checked against the
//! serde pass by the tests below).

use std::borrow::Cow;

use super::{bit, Members, Str};
use crate::decode::scan::number;
use crate::decode::KeyName;

/// Scans `text` as one flat object (and nothing after it), reading the
/// members in `mask` into `m`; false when the serde pass must decide (then
/// `m` holds partial members and must be reset).
pub(super) fn scan<'a>(text: &'a str, mask: u32, m: &mut Members<'a>) -> bool {
    scan_object(text, mask, m).is_some()
}

fn scan_object<'a>(text: &'a str, mask: u32, m: &mut Members<'a>) -> Option<()> {
    let b = text.as_bytes();
    let mut i = ws(b, 0);
    expect(b, i, b'{')?;
    i = ws(b, i + 1);
    let mut seen = 0u32;
    if b.get(i) == Some(&b'}') {
        i += 1;
    } else {
        loop {
            let (key, next) = string(b, i)?;
            i = ws(b, next);
            expect(b, i, b':')?;
            i = ws(b, i + 1);
            let name = KeyName::of(&text[key]);
            let flag = bit(name);
            i = if mask & flag == 0 {
                value(b, i)?
            } else {
                if seen & flag != 0 {
                    return None; // serde_json refuses a duplicate read member
                }
                seen |= flag;
                member(text, i, name, m)?
            };
            i = ws(b, i);
            match b.get(i) {
                Some(b',') => i = ws(b, i + 1),
                Some(b'}') => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    (ws(b, i) == b.len()).then_some(())
}

/// Reads the value at `i` of a member in the mask into its slot; returns where it ends.
fn member<'a>(text: &'a str, i: usize, name: KeyName, m: &mut Members<'a>) -> Option<usize> {
    let b = text.as_bytes();
    let null = b[i..].starts_with(b"null");
    let (u, e) = (&mut m.usage, &mut m.envelope);
    let slot: &mut Option<Str<'a>> = match name {
        KeyName::Credits => {
            let end = scalar(b, i)?;
            u.credits = (!null).then(|| &text[i..end]);
            return Some(end);
        }
        KeyName::TokensIn | KeyName::TokensOut => {
            let (count, end) = if null { (None, i + 4) } else { count(b, i).map(|(c, end)| (Some(c), end))? };
            if name == KeyName::TokensIn {
                u.tokens_in = count;
            } else {
                u.tokens_out = count;
            }
            return Some(end);
        }
        // A `null` data is no data; an object is read by the serde pass.
        KeyName::Data => return null.then_some(i + 4),
        KeyName::Capability => &mut u.capability,
        KeyName::Model => &mut u.model,
        KeyName::Principal => &mut u.principal,
        KeyName::Source => &mut u.source,
        KeyName::SrcIp => &mut u.src_ip,
        KeyName::Id => &mut e.id,
        KeyName::Time => &mut e.time,
        KeyName::Credential => &mut e.credential,
        KeyName::Specversion => &mut e.specversion,
        KeyName::Type => &mut e.kind,
        KeyName::Subject => &mut e.subject,
        KeyName::DataBase64 | KeyName::Other => return value(b, i),
    };
    if null {
        *slot = None;
        return Some(i + 4);
    }
    let (range, end) = string(b, i)?;
    *slot = Some(Cow::Borrowed(&text[range]));
    Some(end)
}

/// JSON whitespace from `i`: where it ends.
fn ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

fn expect(b: &[u8], i: usize, want: u8) -> Option<()> {
    (b.get(i) == Some(&want)).then_some(())
}

/// A string at `i` with no escape and no control character: the range of
/// its contents and where it ends.
fn string(b: &[u8], i: usize) -> Option<(std::ops::Range<usize>, usize)> {
    expect(b, i, b'"')?;
    let start = i + 1;
    let len = plain_run(&b[start..]);
    // The run must end at the closing quote, not at an escape, a control
    // character or the end of the text.
    expect(b, start + len, b'"')?;
    Some((start..start + len, start + len + 1))
}

/// Bytes before the first `"`, `\` or control character (all of `b` when none).
fn plain_run(b: &[u8]) -> usize {
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))]
    let mut at = 0;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};
        // SAFETY: SSE2 is part of x86_64; every load reads 16 bytes inside `b`.
        unsafe {
            let (quote, backslash, control) = (_mm_set1_epi8(b'"' as i8), _mm_set1_epi8(b'\\' as i8), _mm_set1_epi8(0x1f));
            while at + 16 <= b.len() {
                let x = _mm_loadu_si128(b.as_ptr().add(at) as *const __m128i);
                // A byte is a control character when max(byte, 0x1f) is 0x1f.
                let stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)), _mm_cmpeq_epi8(_mm_max_epu8(x, control), control));
                let mask = _mm_movemask_epi8(stop) as u32;
                if mask != 0 {
                    return at + mask.trailing_zeros() as usize;
                }
                at += 16;
            }
        }
    }
    at + b[at..].iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20).unwrap_or(b.len() - at)
}

/// A value at `i` (an unescaped string, a number, `true`, `false`, `null`,
/// or an array or object of those): where it ends. What follows it is
/// checked by the caller. Nesting is bounded by the caller's depth check.
fn value(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'[' => sequence(b, i, b']', value),
        b'{' => sequence(b, i, b'}', |b, i| {
            let (_, end) = string(b, i)?;
            let i = ws(b, end);
            expect(b, i, b':')?;
            value(b, ws(b, i + 1))
        }),
        _ => scalar(b, i),
    }
}

/// An array or object at `i` whose items `item` reads, closed by `close`.
fn sequence(b: &[u8], i: usize, close: u8, item: impl Fn(&[u8], usize) -> Option<usize>) -> Option<usize> {
    let mut i = ws(b, i + 1);
    if b.get(i) == Some(&close) {
        return Some(i + 1);
    }
    loop {
        i = ws(b, item(b, i)?);
        match b.get(i)? {
            b',' => i = ws(b, i + 1),
            c if *c == close => return Some(i + 1),
            _ => return None,
        }
    }
}

/// A scalar at `i` (an unescaped string, a number, `true`, `false`, `null`):
/// where it ends. What follows it is checked by the caller.
fn scalar(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => string(b, i).map(|(_, end)| end),
        b'-' | b'0'..=b'9' => number(b, i),
        _ => [&b"true"[..], b"false", b"null"].into_iter().find(|w| b[i..].starts_with(w)).map(|w| i + w.len()),
    }
}

/// A count at `i`: an integer from 0 to i64::MAX without sign, fraction or
/// exponent (what the serde pass's `Count` accepts), and where it ends.
fn count(b: &[u8], i: usize) -> Option<(i64, usize)> {
    let end = number(b, i)?;
    let text = &b[i..end];
    if !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = text.iter().try_fold(0i64, |v, c| v.checked_mul(10)?.checked_add(i64::from(c - b'0')))?;
    Some((v, end))
}

#[cfg(test)]
mod tests {
    use super::super::{parse_serde, ENVELOPE, KEY, BINARY};
    use super::*;
    use proptest::prelude::*;

    /// The scan accepts only what the serde pass accepts, with the same members.
    fn agrees(text: &str) -> bool {
        let mut flat = Members::default();
        if !scan(text, ENVELOPE, &mut flat) {
            return false;
        }
        for mask in [ENVELOPE, KEY, BINARY] {
            let (mut f, mut s) = (Members::default(), Members::default());
            assert!(scan(text, mask, &mut f), "the scan depends on the mask: {text}");
            assert!(parse_serde(text, mask, &mut s).is_some(), "the scan accepted what serde_json refuses: {text}");
            assert_eq!(f, s, "different members for {text}");
        }
        true
    }

    #[test]
    fn generated_lines_scan_like_serde() {
        let spec = crate::gen::GenSpec { events: 3000, credentials: 50, ..Default::default() };
        let dense = crate::gen::GenSpec { events: 3000, shape: crate::gen::Shape::Dense, ..Default::default() };
        let (mut scanned, mut lines) = (0, 0);
        for line in crate::gen::usage(&spec).chain(crate::gen::usage(&dense)) {
            lines += 1;
            scanned += usize::from(agrees(&line));
        }
        // Most generated lines are plain native events; CloudEvents, escapes and bad lines are left to serde.
        assert!(scanned * 10 > lines * 8, "{scanned} of {lines} lines scanned");
    }

    #[test]
    fn what_the_scan_leaves_to_serde() {
        let base = r#"{"id":"e1","time":"2026-01-01T00:00:00Z","credential":"k","capability":"chat","credits":1}"#;
        assert!(agrees(base));
        for unsure in [
            r#"{"id":"e\u0031","credential":"k"}"#,
            r#"{"id":"e1","id":"e2"}"#,
            r#"{"id":"e1","meta":{"a":1,}}"#,
            r#"{"id":"e1","tags":[1,]}"#,
            r#"{"id":"e1","tags":[1}"#,
            r#"{"id":"e1","meta":{"a\u0041":1}}"#,
            r#"{"id":"e1","meta":{1:1}}"#,
            r#"{"credential":["k"]}"#,
            r#"{"data":{"capability":"chat"}}"#,
            r#"{"tokens_in":1.0}"#,
            r#"{"tokens_in":-0}"#,
            r#"{"tokens_in":1e3}"#,
            r#"{"tokens_in":9223372036854775808}"#,
            r#"{"tokens_in":01}"#,
            r#"{"id":"e1",}"#,
            r#"{"id":"e1"} x"#,
            r#"{"id":"e1""#,
            r#"{"id":1.}"#,
            r#"{"x":truex}"#,
            "{\"id\":\"a\tb\"}",
            r#"[1]"#,
        ] {
            let mut m = Members::default();
            assert!(!scan(unsure, ENVELOPE, &mut m), "scanned {unsure}");
        }
        for sure in [r#"{"id":"e1","meta":{"latency_ms":69,"cached":false,"tags":["batch",null,[],{}]}}"#, r#" { } "#, r#"{"x":null,"y":true,"z":-1.5e+3,"w":"é","credits":"2.5","tokens_out":null,"data":null}"#, "{\"id\" :\t\"e1\" ,\r\n\"model\":null}"] {
            assert!(agrees(sure), "left {sure} to serde");
        }
    }

    proptest! {
        /// Any edit of a plain event: the scan either leaves it to serde or agrees with it.
        #[test]
        fn edited_lines_never_disagree(at in 0usize..260, cut in 0usize..4, insert in "[ -~\\\\\"{}\\[\\],:0-9eE.+-]{0,4}") {
            let base = r#"{"id":"evt-1","time":"2026-01-01T00:00:10.368Z","credential":"key_1","capability":"search","model":"m","credits":"0.661","tokens_in":12,"tokens_out":0,"source":"gw","src_ip":"10.0.0.1","n":-1.5e3,"ok":true,"meta":{"a":[1,{"b":null}],"c":"d"}}"#;
            let mut b = base.as_bytes().to_vec();
            let at = at.min(b.len());
            let end = (at + cut).min(b.len());
            b.splice(at..end, insert.bytes());
            if let Ok(text) = std::str::from_utf8(&b) {
                let mut m = Members::default();
                if scan(text, ENVELOPE, &mut m) {
                    agrees(text);
                }
            }
        }
    }
}
