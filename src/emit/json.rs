//! Hand-written JSON: string escaping and fields, for the hot output paths.

use std::fmt::Write;

use crate::model::credits;
use crate::model::time::write_rfc3339;

/// Appends `s` as a JSON string literal.
pub(crate) fn write_str(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{:04x}", b);
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

pub(crate) fn key(out: &mut String, first: bool, name: &str) {
    if !first {
        out.push(',');
    }
    out.push('"');
    out.push_str(name);
    out.push_str("\":");
}

pub(crate) fn credits_field(out: &mut String, name: &str, micros: i64) {
    key(out, false, name);
    out.push('"');
    credits::write_to(out, micros);
    out.push('"');
}

pub(crate) fn time_field(out: &mut String, name: &str, ms: i64) {
    key(out, false, name);
    out.push('"');
    write_rfc3339(out, ms);
    out.push('"');
}

pub(crate) fn int_field(out: &mut String, name: &str, v: impl itoa::Integer) {
    key(out, false, name);
    out.push_str(itoa::Buffer::new().format(v));
}

/// `"name":"value"` (a comma first unless `first`).
pub(crate) fn str_field(out: &mut String, first: bool, name: &str, value: &str) {
    key(out, first, name);
    write_str(out, value);
}

