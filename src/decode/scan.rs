//! Pieces of JSON syntax shared by the scans that read the usual input
//! without serde (`decode::fast::flat` for usage lines,
//! `decode::entitlement::tape` for entitlement records).

/// A JSON number at `i` (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`):
/// where it ends, None when there is none.
pub(crate) fn number(b: &[u8], mut i: usize) -> Option<usize> {
    let digits = |b: &[u8], i: usize| i + b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => i = digits(b, i),
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        let end = digits(b, i + 1);
        if end == i + 1 {
            return None;
        }
        i = end;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let end = digits(b, i);
        if end == i {
            return None;
        }
        i = end;
    }
    Some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_ends_where_json_says_it_does() {
        for (text, end) in [("0", Some(1)), ("-12.50e+3,", Some(9)), ("1.", None), ("-", None), ("01", Some(1)), ("2E", None), ("7e-0]", Some(4)), ("x", None), ("", None)] {
            assert_eq!(number(text.as_bytes(), 0), end, "{text:?}");
        }
    }
}
