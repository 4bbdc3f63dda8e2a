//! The one parse of an entitlement record's text: every value of the
//! record as its JSON text, in document order, each object's members and
//! each array's elements right after it (a tape), so the decoder and the
//! unknown-key check read the nested `scope`, `credits` and `burst` without
//! parsing them again.
//!
//! The usual line (valid JSON without a backslash or a control character,
//! nested at most [`MAX_DEPTH`] levels) is scanned here without serde; the
//! scan only ever says "done, and serde_json reads exactly these members"
//! or "unsure". Anything else goes to serde_json, which reads the record as
//! the decoder always has: the top level by [`parse_members`] (its errors
//! are the record's), and each object or array down to [`READ_DEPTH`] on
//! its own text, where what serde_json refuses there (a member name with a
//! lone surrogate) is kept to be reported when the decoder reads that object.

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::EntitlementError;
use crate::decode::scan::number;
use crate::decode::{json_error_reason, parse_members, BadString, Json, MAX_DEPTH};

/// Deepest value whose members or elements the decoder reads: the top level
/// is 0, `scope` 1, `scope.models` (or a `burst` rule) 2. Deeper objects
/// and arrays are read as values only, so serde_json leaves them whole.
const READ_DEPTH: usize = 2;

/// The values of one record (see the module documentation); reused from one
/// line to the next.
#[derive(Debug, Default)]
pub(crate) struct Tape<'a> {
    nodes: Vec<Node<'a>>,
    /// Whether the scan read the record: then no string holds an escape.
    scanned: bool,
    /// The objects and arrays whose own text serde_json refused (by index), and why.
    refused: Vec<(usize, String)>,
}

#[derive(Debug, PartialEq, Eq)]
struct Node<'a> {
    /// The member's name; empty for an array element and the top level.
    name: Cow<'a, str>,
    /// The value's JSON text.
    text: &'a str,
    /// The index after this value's members or elements.
    end: usize,
}

impl<'a> Tape<'a> {
    /// Parses `bytes` as one record (UTF-8 and JSON checked, with the
    /// decoder's reasons; not its nesting depth) and returns its top level.
    pub(crate) fn parse(&mut self, bytes: &'a [u8]) -> Result<Value<'_, 'a>, EntitlementError> {
        let text = std::str::from_utf8(bytes).map_err(|e| EntitlementError::InvalidJson(format!("the record is not UTF-8 (invalid byte at offset {})", e.valid_up_to())))?;
        self.nodes.clear();
        self.refused.clear();
        self.scanned = Scan::record(text, &mut self.nodes);
        if !self.scanned {
            self.nodes.clear();
            self.parse_serde(text)?;
        }
        Ok(Value { tape: self, at: 0 })
    }

    /// [`Tape::parse`] by serde_json alone.
    fn parse_serde(&mut self, text: &'a str) -> Result<(), EntitlementError> {
        let members = parse_members(text).map_err(|e| EntitlementError::InvalidJson(json_error_reason(text, &e)))?;
        self.nodes.push(Node { name: Cow::Borrowed(""), text, end: 0 });
        for (name, raw) in members {
            self.push_serde(name, raw.get(), 1);
        }
        self.nodes[0].end = self.nodes.len();
        Ok(())
    }

    /// One value at `depth`, and its members or elements when the decoder may read them.
    fn push_serde(&mut self, name: Cow<'a, str>, text: &'a str, depth: usize) {
        let at = self.nodes.len();
        self.nodes.push(Node { name, text, end: at + 1 });
        if depth > READ_DEPTH {
            return;
        }
        let refused = match text.as_bytes().first() {
            Some(b'{') => parse_members(text).map(|members| members.into_iter().for_each(|(name, raw)| self.push_serde(name, raw.get(), depth + 1))).err(),
            Some(b'[') => serde_json::from_str::<Vec<&RawValue>>(text).map(|items| items.into_iter().for_each(|raw| self.push_serde(Cow::Borrowed(""), raw.get(), depth + 1))).err(),
            _ => None,
        };
        if let Some(e) = refused {
            self.refused.push((at, e.to_string()));
        }
        self.nodes[at].end = self.nodes.len();
    }
}

/// One value of a [`Tape`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Value<'t, 'a> {
    tape: &'t Tape<'a>,
    at: usize,
}

impl<'t, 'a> Value<'t, 'a> {
    fn node(self) -> &'t Node<'a> {
        &self.tape.nodes[self.at]
    }

    /// The value's JSON text.
    pub(crate) fn text(self) -> &'a str {
        self.node().text
    }

    /// The member's name (unescaped).
    pub(crate) fn name(self) -> &'t str {
        &self.node().name
    }

    /// Whether the value's text starts with `opener` (`{`: an object, `[`: an array).
    pub(crate) fn starts_with(self, opener: u8) -> bool {
        self.text().as_bytes().first() == Some(&opener)
    }

    /// What serde_json said when it refused this object's or array's own text.
    pub(crate) fn refused(self) -> Option<&'t str> {
        self.tape.refused.iter().find(|(at, _)| *at == self.at).map(|(_, why)| why.as_str())
    }

    /// An object's members or an array's elements, in document order.
    pub(crate) fn children(self) -> impl Iterator<Item = Value<'t, 'a>> {
        let (tape, end) = (self.tape, self.node().end);
        let mut next = self.at + 1;
        std::iter::from_fn(move || {
            let child = (next < end).then_some(Value { tape, at: next })?;
            next = child.node().end;
            Some(child)
        })
    }

    /// Whether the member is called `name`: its length and first byte
    /// first, since most names read differ in those (a call to compare
    /// bytes costs more than the names do).
    pub(crate) fn is_named(self, name: &str) -> bool {
        let own = self.name();
        own.len() == name.len() && own.as_bytes().first() == name.as_bytes().first() && own == name
    }

    /// The last member called `name`.
    pub(crate) fn member(self, name: &str) -> Option<Value<'t, 'a>> {
        self.children().filter(|m| m.is_named(name)).last()
    }

    /// The value as [`Json::read`] reads its raw value.
    pub(crate) fn json(self) -> Result<Option<Json<'a>>, BadString> {
        let text = self.text();
        Ok(Some(match text.as_bytes().first() {
            Some(b'n') | None => return Ok(None),
            Some(b't' | b'f') => Json::Bool(text),
            Some(b'"') if self.tape.scanned || !text.contains('\\') => Json::Str(Cow::Borrowed(&text[1..text.len() - 1])),
            // Escaped strings, arrays and objects: by serde_json, as always
            // (the text is one JSON value already read, so it is a raw value).
            Some(b'"' | b'[' | b'{') => return Json::read(serde_json::from_str(text).map_err(|_| BadString)?),
            Some(_) => Json::Number(text),
        }))
    }
}

/// The scan of a record without serde: valid JSON with no backslash and no
/// control character (so no escape, and only spaces as white space), nested
/// at most [`MAX_DEPTH`] levels.
struct Scan<'t, 'a> {
    text: &'a str,
    nodes: &'t mut Vec<Node<'a>>,
}

impl<'a> Scan<'_, 'a> {
    /// Scans `text` into `nodes`; false when serde_json must decide (then
    /// `nodes` holds part of the record).
    fn record(text: &'a str, nodes: &mut Vec<Node<'a>>) -> bool {
        let b = text.as_bytes();
        // One pass over the whole line (it vectorises), so that a string
        // need only look for its closing quote.
        if b.iter().fold(false, |unusual, &c| unusual | (c < 0x20) | (c == b'\\')) {
            return false;
        }
        let start = ws(b, 0);
        let mut scan = Scan { text, nodes };
        match b.get(start) {
            Some(b'{') => scan.value("", start, 0).is_some_and(|end| ws(b, end) == b.len()),
            _ => false,
        }
    }

    /// The value at byte `i`, a member called `name` or an element (`""`); where it ends.
    fn value(&mut self, name: &'a str, i: usize, depth: usize) -> Option<usize> {
        let b = self.text.as_bytes();
        let at = self.nodes.len();
        let end = match *b.get(i)? {
            open @ (b'{' | b'[') if depth < MAX_DEPTH => {
                self.nodes.push(Node { name: Cow::Borrowed(name), text: "", end: 0 });
                let end = self.items(i + 1, open == b'{', depth + 1)?;
                let (text, children_end) = (self.text.get(i..end)?, self.nodes.len());
                let node = &mut self.nodes[at];
                (node.text, node.end) = (text, children_end);
                return Some(end);
            }
            b'"' => string(b, i)?,
            b't' => literal(b, i, b"true")?,
            b'f' => literal(b, i, b"false")?,
            b'n' => literal(b, i, b"null")?,
            b'-' | b'0'..=b'9' => number(b, i)?,
            _ => return None,
        };
        self.nodes.push(Node { name: Cow::Borrowed(name), text: self.text.get(i..end)?, end: at + 1 });
        Some(end)
    }

    /// The members (`object`) or elements of an object or array whose `{`
    /// or `[` is before byte `i`; where it ends.
    fn items(&mut self, i: usize, object: bool, depth: usize) -> Option<usize> {
        let b = self.text.as_bytes();
        let close = if object { b'}' } else { b']' };
        let mut i = ws(b, i);
        if b.get(i) == Some(&close) {
            return Some(i + 1);
        }
        loop {
            let mut name = "";
            if object {
                let key_end = string(b, i)?;
                name = self.text.get(i + 1..key_end - 1)?;
                i = ws(b, key_end);
                (b.get(i) == Some(&b':')).then_some(())?;
                i = ws(b, i + 1);
            }
            i = ws(b, self.value(name, i, depth)?);
            match b.get(i)? {
                b',' => i = ws(b, i + 1),
                c if *c == close => return Some(i + 1),
                _ => return None,
            }
        }
    }
}

/// The first byte from `i` that is not a space (the only white space of a scanned line).
fn ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

/// A string at `i` (of a line without backslashes); where it ends.
fn string(b: &[u8], i: usize) -> Option<usize> {
    (b.get(i) == Some(&b'"')).then_some(())?;
    let len = quote(b.get(i + 1..)?)?;
    Some(i + len + 2)
}

/// Where the first `"` of `b` is, 8 bytes at a time (most strings are short,
/// so this beats a vector search that must first be set up).
fn quote(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut words = b.chunks_exact(8);
    for (n, word) in (&mut words).enumerate() {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(word);
        // The bytes of `x` that are 0 are the quotes; the lowest high bit set
        // in `found` is the first of them (higher ones may be false).
        let x = u64::from_le_bytes(bytes) ^ (ONES * u64::from(b'"'));
        let found = x.wrapping_sub(ONES) & !x & (ONES << 7);
        if found != 0 {
            return Some(n * 8 + found.trailing_zeros() as usize / 8);
        }
    }
    let rest = words.remainder();
    rest.iter().position(|&c| c == b'"').map(|p| b.len() - rest.len() + p)
}

fn literal(b: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    b.get(i..)?.starts_with(word).then_some(i + word.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The scan accepts only what serde_json accepts, with the same values
    /// down to the depth the decoder reads.
    fn agrees(text: &str) -> bool {
        let mut scanned = Vec::new();
        if !Scan::record(text, &mut scanned) {
            return false;
        }
        let mut serde = Tape::default();
        assert!(serde.parse_serde(text).is_ok(), "the scan accepted what serde_json refuses: {text}");
        let scanned = Tape { nodes: scanned, scanned: true, refused: Vec::new() };
        let members = |tape| Value { tape, at: 0 }.children().map(|m| read(m, 1)).collect::<String>();
        assert_eq!(members(&scanned), members(&serde), "{text}");
        true
    }

    /// What the decoder can read of a value at `depth`: its name, text and
    /// refusal, and those of its members or elements down to `READ_DEPTH`.
    fn read(v: Value<'_, '_>, depth: usize) -> String {
        let mut out = format!("({:?} {:?} {:?}", v.name(), v.text(), v.refused());
        if depth <= READ_DEPTH {
            v.children().for_each(|c| out += &read(c, depth + 1));
        }
        out + ")"
    }

    #[test]
    fn generated_lines_are_scanned_like_serde() {
        let spec = crate::gen::GenSpec { credentials: 300, ..Default::default() };
        let lines = crate::gen::entitlements(&spec);
        assert!(lines.len() > 200);
        for line in &lines {
            assert!(agrees(line), "left to serde: {line}");
        }
    }

    #[test]
    fn what_the_scan_leaves_to_serde() {
        for unsure in [
            r#"{"a":"\u0041"}"#,
            r#"{"a\n":1}"#,
            "{\"a\":\"tab\there\"}",
            "{\"a\":\t1}",
            "{\"a\":1}\r",
            r#"{"a":1,}"#,
            r#"{"a":[1,]}"#,
            r#"{"a":[1}"#,
            r#"{"a":{1:1}}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":-}"#,
            r#"{"a":1e}"#,
            r#"{"a":.5}"#,
            r#"{"a":truex}"#,
            r#"{"a":nul}"#,
            r#"{"a":1} x"#,
            r#"{"a":1"#,
            "[1]",
            "\u{feff}{}",
            "{\"a\":\u{a0}1}",
        ] {
            assert!(!Scan::record(unsure, &mut Vec::new()), "scanned {unsure}");
        }
        let deep = |n: usize| format!("{{\"a\":{}1{}}}", "[".repeat(n - 1), "]".repeat(n - 1));
        assert!(agrees(&deep(MAX_DEPTH)));
        assert!(!Scan::record(&deep(MAX_DEPTH + 1), &mut Vec::new()));
        for sure in [" { } ", r#"{"x":null,"y":true,"z":-1.5e+3,"w":"é","v":[],"u":{},"a":"1","a":2}"#, "{\"a\" :  [ 1 ,{\"b\":[[0]]} ]  }", r#"{"n":0,"m":-0.0E-0}"#] {
            assert!(agrees(sure), "left {sure} to serde");
        }
    }

    #[test]
    fn serde_keeps_what_it_refuses_in_a_nested_object_for_the_decoder() {
        let text = r#"{"scope":{"\ud800":1},"burst":[{"\udc00":2},3],"credits":{"a":{"b":{"\ud800":1}}}}"#;
        let mut tape = Tape::default();
        let top = tape.parse(text.as_bytes()).expect("valid JSON");
        assert!(top.refused().is_none());
        assert!(top.member("scope").and_then(|s| s.refused()).is_some_and(|r| r.contains("hex escape")), "{top:?}");
        let rules: Vec<_> = top.member("burst").expect("burst").children().collect();
        assert!(rules[0].refused().is_some_and(|r| r.contains("surrogate")) && rules[1].refused().is_none());
        // Deeper than the decoder reads: left whole.
        let b = top.member("credits").and_then(|c| c.member("a")).and_then(|a| a.member("b")).expect("credits.a.b");
        assert_eq!((b.children().count(), b.refused()), (0, None));
    }

    proptest! {
        /// The search for a quote, 8 bytes at a time, finds the first one.
        #[test]
        fn the_first_quote_is_found(b in proptest::collection::vec(prop_oneof![Just(b'"'), Just(b'a'), Just(0x80u8), Just(0xffu8), Just(0x21u8), Just(0x23u8)], 0..40)) {
            prop_assert_eq!(quote(&b), b.iter().position(|&c| c == b'"'));
        }

        /// Any edit of a record: the scan either leaves it to serde or agrees with it.
        #[test]
        fn edited_records_never_disagree(at in 0usize..300, cut in 0usize..4, insert in "[ -~\\\\\"{}\\[\\],:0-9eE.+-]{0,4}") {
            let base = r#"{"credential":"key_1","owner":"o","updated_at":"2026-01-01T00:00:00Z","scope":{"models":["a","b-*"],"x":{"y":[1,{"z":null}]}},"credits":{"monthly":"2.5","bank_months":3},"burst":[{"window":"5m","calls":100},{"window":"1h","credits":1.5e2}],"n":-0.5,"t":true}"#;
            let mut b = base.as_bytes().to_vec();
            let at = at.min(b.len());
            let end = (at + cut).min(b.len());
            b.splice(at..end, insert.bytes());
            if let Ok(text) = std::str::from_utf8(&b) {
                agrees(text);
            }
        }
    }
}
