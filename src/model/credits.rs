//! Credits as integer micro-credits (10^-6), parsed exactly from decimal text.
//!
//! No floating point ever touches a credit amount: JSON numbers are read from
//! their decimal text, rounded half-to-even to six fractional digits.


use super::time::{push_fixed, push_int, two_digits};

/// Micro-credits per credit.
pub const MICROS_PER_CREDIT: i64 = 1_000_000;

/// Why a credit amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditsError {
    #[error("credits must be a non-negative decimal number, got `{0}`")]
    Syntax(String),
    #[error("credits must not be negative, got `{0}`")]
    Negative(String),
    #[error("credits `{0}` do not fit in 64-bit micro-credits")]
    Overflow(String),
}

/// Parses the text of a JSON number (`12`, `0.5`, `1e3`, `-0`) into micro-credits.
/// Negative values other than zero are refused.
pub fn parse_json_number(text: &str) -> Result<i64, CreditsError> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => {
            let exp_text = &body[i + 1..];
            let exp_text = exp_text.strip_prefix('+').unwrap_or(exp_text);
            let exp: i64 = if exp_text.len() > 12 {
                // Absurd exponents: clamp while keeping the sign, the result is 0 or an overflow.
                if exp_text.starts_with('-') { -1_000_000 } else { 1_000_000 }
            } else {
                exp_text.parse().map_err(|_| CreditsError::Syntax(text.to_string()))?
            };
            (&body[..i], exp)
        }
        None => (body, 0),
    };
    let micros = scaled(mantissa, exponent).ok_or_else(|| classify(text))?;
    if negative && micros != 0 {
        return Err(CreditsError::Negative(text.to_string()));
    }
    Ok(micros)
}

/// Parses a decimal string credit amount: `^[0-9]+(\.[0-9]+)?$`.
pub fn parse_decimal_string(text: &str) -> Result<i64, CreditsError> {
    let valid = {
        let (int, frac) = match text.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (text, None),
        };
        !int.is_empty()
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
    };
    if !valid {
        if text.starts_with('-') {
            return Err(CreditsError::Negative(text.to_string()));
        }
        return Err(CreditsError::Syntax(text.to_string()));
    }
    scaled(text, 0).ok_or_else(|| CreditsError::Overflow(text.to_string()))
}

fn classify(text: &str) -> CreditsError {
    let plain = text.trim_start_matches('-');
    let ok_syntax = !plain.is_empty() && plain.bytes().all(|b| b.is_ascii_digit() || b"eE.+-".contains(&b));
    if ok_syntax {
        CreditsError::Overflow(text.to_string())
    } else {
        CreditsError::Syntax(text.to_string())
    }
}

/// `mantissa` is `digits[.digits]`; returns round_half_even(mantissa * 10^(exponent+6)),
/// or None on bad syntax or overflow of i64.
fn scaled(mantissa: &str, exponent: i64) -> Option<i64> {
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if mantissa.ends_with('.') {
        return None;
    }
    // value = digits * 10^(shift), digits = int ++ frac
    let digits: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
    let shift = exponent + 6 - frac.len() as i64;
    let first_nonzero = digits.iter().position(|&d| d != 0);
    let Some(first) = first_nonzero else { return Some(0) };
    let digits = &digits[first..];
    if shift >= 0 {
        if digits.len() as i64 + shift > 19 {
            return None;
        }
        let mut v: i128 = 0;
        for &d in digits {
            v = v * 10 + d as i128;
        }
        v *= 10i128.pow(shift as u32);
        return i64::try_from(v).ok();
    }
    let drop = (-shift) as usize;
    let (kept, dropped): (&[u8], &[u8]) = if drop >= digits.len() {
        (&[], digits)
    } else {
        digits.split_at(digits.len() - drop)
    };
    if kept.len() > 19 {
        return None;
    }
    let mut v: i128 = 0;
    for &d in kept {
        v = v * 10 + d as i128;
    }
    // Half-to-even on the dropped digits (if fewer dropped digits than `drop`,
    // the leading dropped digits are implicit zeros).
    let leading_zeros = drop.saturating_sub(digits.len());
    let round_up = if leading_zeros > 0 {
        false
    } else {
        let (head, rest) = (dropped[0], &dropped[1..]);
        match head.cmp(&5) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => rest.iter().any(|&d| d != 0) || v % 2 == 1,
        }
    };
    if round_up {
        v += 1;
    }
    i64::try_from(v).ok()
}

/// Formats micro-credits as a decimal string: no exponent, no trailing zeros,
/// no trailing dot (`"12.5"`, `"0"`, `"-3.25"`).
pub fn format(micros: i64) -> String {
    let (b, len) = decimal(micros);
    std::str::from_utf8(&b[..len]).unwrap_or_default().to_string()
}

/// Appends the decimal form of `micros` to `out`.
pub fn write_to(out: &mut String, micros: i64) {
    let (b, len) = decimal(micros);
    out.push_str(std::str::from_utf8(&b[..len]).unwrap_or_default());
}

/// Appends the decimal form of `micros` to a byte buffer, as [`write_to`].
/// Short parts (most amounts) go in as copies of fixed size cut back to
/// their length, not as calls to copy a few bytes.
#[inline]
pub fn push(out: &mut Vec<u8>, micros: i64) {
    if micros == 0 {
        // Most totals of a balance record are zero.
        out.push(b'0');
        return;
    }
    let abs = micros.unsigned_abs();
    if micros < 0 {
        out.push(b'-');
    }
    push_int(out, abs / MICROS_PER_CREDIT as u64);
    let frac = (abs % MICROS_PER_CREDIT as u64) as u32;
    if frac != 0 {
        push_fixed(out, fraction(frac));
    }
}

/// `.dddddd` of a non-zero fraction in micro-credits without its trailing
/// zeros, and its length.
#[inline]
fn fraction(frac: u32) -> ([u8; 7], usize) {
    let [a, b] = two_digits(frac / 10_000);
    let [c, d] = two_digits(frac / 100);
    let [e, f] = two_digits(frac);
    let text = [b'.', a, b, c, d, e, f];
    // The digits as values in bytes 1..=6 of a word (byte 0 the dot, zeroed):
    // the last non-zero digit is the highest non-zero byte. `frac` is not 0.
    let word = u64::from_le_bytes([0, a, b, c, d, e, f, b'0']) - u64::from_le_bytes([0, b'0', b'0', b'0', b'0', b'0', b'0', b'0']);
    let last = (63 - word.leading_zeros()) as usize / 8;
    (text, last + 1)
}

/// The longest decimal form: `-9223372036854.775808`.
const DECIMAL_MAX: usize = 21;

/// The decimal form of `micros` in a fixed buffer, and its length.
fn decimal(micros: i64) -> ([u8; DECIMAL_MAX], usize) {
    let mut b = [0u8; DECIMAL_MAX];
    let abs = micros.unsigned_abs();
    let mut len = 0;
    if micros < 0 {
        b[0] = b'-';
        len = 1;
    }
    let mut itoa = itoa::Buffer::new();
    let int = itoa.format(abs / MICROS_PER_CREDIT as u64).as_bytes();
    b[len..len + int.len()].copy_from_slice(int);
    len += int.len();
    let frac = (abs % MICROS_PER_CREDIT as u64) as u32;
    if frac != 0 {
        let (digits, n) = fraction(frac);
        b[len..len + n].copy_from_slice(&digits[..n]);
        len += n;
    }
    (b, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fraction_is_written_without_its_trailing_zeros() {
        for frac in 1..MICROS_PER_CREDIT as u32 {
            let (text, len) = fraction(frac);
            let expected = format!(".{frac:06}");
            assert_eq!(std::str::from_utf8(&text[..len]), Ok(expected.trim_end_matches('0')), "{frac}");
        }
    }

    #[test]
    fn json_numbers_are_read_exactly_and_rounded_half_to_even() {
        assert_eq!(parse_json_number("0.0000035"), Ok(4));
        assert_eq!(parse_json_number("0.0000025"), Ok(2));
        assert_eq!(parse_json_number("0.00000250001"), Ok(3));
        assert_eq!(parse_json_number("12"), Ok(12_000_000));
        assert_eq!(parse_json_number("1e3"), Ok(1_000_000_000));
        assert_eq!(parse_json_number("1.5E-6"), Ok(2));
        assert_eq!(parse_json_number("-0"), Ok(0));
        assert_eq!(parse_json_number("-0.0"), Ok(0));
        assert!(matches!(parse_json_number("-1"), Err(CreditsError::Negative(_))));
        assert!(matches!(parse_json_number("1e30"), Err(CreditsError::Overflow(_))));
        assert_eq!(parse_json_number("1e-300"), Ok(0));
        assert_eq!(parse_json_number("9223372036854.775807"), Ok(i64::MAX));
        assert!(parse_json_number("9223372036854.775808").is_err());
    }

    #[test]
    fn decimal_strings_follow_the_strict_grammar() {
        assert_eq!(parse_decimal_string("1000"), Ok(1_000_000_000));
        assert_eq!(parse_decimal_string("0.1234565"), Ok(123_456));
        assert_eq!(parse_decimal_string("0.1234575"), Ok(123_458));
        for bad in ["", ".5", "5.", "1e3", "-1", " 1", "+1", "1.2.3"] {
            assert!(parse_decimal_string(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formatting_has_no_trailing_zeros_or_dot() {
        assert_eq!(format(12_500_000), "12.5");
        assert_eq!(format(0), "0");
        assert_eq!(format(-3_250_000), "-3.25");
        assert_eq!(format(1), "0.000001");
        assert_eq!(format(i64::MIN), "-9223372036854.775808");
    }

    #[test]
    fn the_byte_form_matches_the_plain_arithmetic_form_at_every_digit_count() {
        let plain = |m: i64| {
            let (int, frac) = (m.unsigned_abs() / 1_000_000, m.unsigned_abs() % 1_000_000);
            let sign = if m < 0 { "-" } else { "" };
            let frac = format!("{frac:06}");
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() { format!("{sign}{int}") } else { format!("{sign}{int}.{frac}") }
        };
        let mut values = vec![0, 1, -1, 999_999, 1_000_000, 9_999_999_999, 10_000_000_000, i64::MAX, i64::MIN, i64::MIN + 1];
        for k in 0..19 {
            let p = 10i64.pow(k);
            values.extend([p, p - 1, p + 1, -p, 7 * p, p + 500_000, p.saturating_mul(3) + 250_001]);
        }
        for m in values {
            let mut out = b"x".to_vec();
            push(&mut out, m);
            assert_eq!(out, format!("x{}", plain(m)).into_bytes(), "{m}");
            assert_eq!(format(m), plain(m), "{m}");
        }
    }
}
