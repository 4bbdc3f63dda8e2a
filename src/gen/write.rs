//! Fast text building for the generator: a portable seeded RNG, integer,
//! decimal and RFC 3339 writers that append to a reused `String` without
//! going through `fmt` on the hot path.

use crate::model::time::{civil_from_days, MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, MS_PER_SECOND};

/// SplitMix64 finaliser: a stateless 64-bit mix, used to derive stable
/// per-credential choices from (seed, index, salt).
pub(crate) const fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stable hash of (seed, index, salt).
pub(crate) const fn hash3(seed: u64, idx: u64, salt: u64) -> u64 {
    mix(seed ^ mix(idx.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ mix(salt)))
}

/// xoshiro256** seeded through SplitMix64: small, fast, and (unlike
/// `rand::rngs::SmallRng`) guaranteed to give the same stream on every
/// platform and crate version, so `bursar gen --seed N` is reproducible.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        let mut z = seed;
        let mut s = [0u64; 4];
        for slot in &mut s {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            *slot = mix(z);
        }
        Rng { s }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n` (`n > 0`; 0 when `n == 0`), by multiply-shift.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in `lo..hi` (`hi > lo`).
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo).max(1) as u64) as i64
    }
}

/// Appends the decimal digits of `v`.
pub(crate) fn push_u64(out: &mut String, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    // The buffer holds ASCII digits only.
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or("0"));
}

/// Appends `v` as exactly `width` digits (zero-padded; `v < 10^width`).
pub(crate) fn push_padded(out: &mut String, v: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut v = v;
    for i in (0..width).rev() {
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.push_str(std::str::from_utf8(&buf[..width]).unwrap_or(""));
}

/// Appends the lowercase hex digits of `v` (at least `min` digits).
pub(crate) fn push_hex(out: &mut String, v: u64, min: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [b'0'; 16];
    let mut n = 0;
    let mut x = v;
    while x != 0 || n < min.max(1) {
        buf[15 - n] = HEX[(x & 15) as usize];
        x >>= 4;
        n += 1;
        if n == 16 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&buf[16 - n..]).unwrap_or(""));
}

/// Appends an amount given in units of 10^-7 credits with `digits` (0..=7)
/// fractional digits kept (truncated) and trailing zeros dropped.
pub(crate) fn push_decimal7(out: &mut String, units: u64, digits: u32) {
    let int = units / 10_000_000;
    let mut frac = units % 10_000_000;
    push_u64(out, int);
    let mut width = 7usize;
    let cut = 10u64.pow(7 - digits.min(7));
    frac /= cut;
    width -= (7 - digits.min(7)) as usize;
    while width > 0 && frac % 10 == 0 {
        frac /= 10;
        width -= 1;
    }
    if width > 0 {
        out.push('.');
        push_padded(out, frac, width);
    }
}

/// How an event time is written; all are valid docs/semantics.md forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeStyle {
    /// `2026-01-01T00:00:00.123Z`
    Millis,
    /// `2026-01-01T00:00:00Z`
    Seconds,
    /// `2026-01-01T00:00:00.123456Z` (sub-millisecond digits are truncated by the reader)
    Micros,
    /// `2026-01-01T02:00:00.123+02:00`
    Offset,
    /// `2026-01-01t00:00:00.123z`
    Lower,
}

/// Appends the RFC 3339 form of `ms` (epoch milliseconds) in `style`.
pub(crate) fn push_time(out: &mut String, ms: i64, style: TimeStyle) {
    let local = if style == TimeStyle::Offset { ms + 2 * MS_PER_HOUR } else { ms };
    let days = local.div_euclid(MS_PER_DAY);
    let rem = local.rem_euclid(MS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    push_padded(out, y.max(0) as u64, 4);
    out.push('-');
    push_padded(out, m as u64, 2);
    out.push('-');
    push_padded(out, d as u64, 2);
    out.push(if style == TimeStyle::Lower { 't' } else { 'T' });
    push_padded(out, (rem / MS_PER_HOUR) as u64, 2);
    out.push(':');
    push_padded(out, (rem % MS_PER_HOUR / MS_PER_MINUTE) as u64, 2);
    out.push(':');
    push_padded(out, (rem % MS_PER_MINUTE / MS_PER_SECOND) as u64, 2);
    let millis = (rem % MS_PER_SECOND) as u64;
    match style {
        TimeStyle::Seconds => {}
        TimeStyle::Micros => {
            out.push('.');
            push_padded(out, millis * 1000 + (ms.rem_euclid(997) as u64), 6);
        }
        _ => {
            out.push('.');
            push_padded(out, millis, 3);
        }
    }
    match style {
        TimeStyle::Offset => out.push_str("+02:00"),
        TimeStyle::Lower => out.push('z'),
        _ => out.push('Z'),
    }
}

/// Appends `"name":` (with a leading comma unless `first`).
pub(crate) fn push_key(out: &mut String, name: &str, first: bool) {
    if !first {
        out.push(',');
    }
    out.push('"');
    out.push_str(name);
    out.push_str("\":");
}

/// Appends `"name":"value"` (value must need no escaping).
pub(crate) fn push_str_field(out: &mut String, name: &str, value: &str, first: bool) {
    push_key(out, name, first);
    out.push('"');
    out.push_str(value);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::parse_rfc3339;

    #[test]
    fn every_time_style_reads_back_as_the_same_millisecond() {
        let ms = 1_767_225_600_123; // 2026-01-01T00:00:00.123Z
        for style in [TimeStyle::Millis, TimeStyle::Micros, TimeStyle::Offset, TimeStyle::Lower] {
            let mut s = String::new();
            push_time(&mut s, ms, style);
            assert_eq!(parse_rfc3339(&s), Ok(ms), "{s}");
        }
        let mut s = String::new();
        push_time(&mut s, ms, TimeStyle::Seconds);
        assert_eq!(s, "2026-01-01T00:00:00Z");
    }

    #[test]
    fn decimals_drop_trailing_zeros_and_keep_at_most_the_asked_digits() {
        let cases = [(0, 7, "0"), (10_000_000, 7, "1"), (12_345_678, 7, "1.2345678"), (12_345_678, 2, "1.23"), (5, 7, "0.0000005"), (5, 6, "0")];
        for (units, digits, want) in cases {
            let mut s = String::new();
            push_decimal7(&mut s, units, digits);
            assert_eq!(s, want);
        }
    }

    #[test]
    fn integers_and_hex_are_written_like_fmt() {
        for v in [0u64, 7, 10, 12345, u64::MAX] {
            let mut s = String::new();
            push_u64(&mut s, v);
            assert_eq!(s, v.to_string());
            let mut h = String::new();
            push_hex(&mut h, v, 6);
            assert_eq!(h, format!("{v:06x}"));
        }
    }

    #[test]
    fn the_rng_is_reproducible_and_below_stays_in_range() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        for _ in 0..1000 {
            let x = a.below(10);
            assert_eq!(x, b.below(10));
            assert!(x < 10);
        }
    }
}
