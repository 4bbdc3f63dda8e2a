//! Event time: strict RFC 3339 parsing, epoch milliseconds, UTC calendar
//! months and days, and `<integer><unit>` durations.

use std::fmt::Write;

pub const MS_PER_SECOND: i64 = 1_000;
pub const MS_PER_MINUTE: i64 = 60 * MS_PER_SECOND;
pub const MS_PER_HOUR: i64 = 60 * MS_PER_MINUTE;
pub const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;

/// 2000-01-01T00:00:00Z, the first accepted instant.
pub const MIN_TIME_MS: i64 = 946_684_800_000;
/// 2201-01-01T00:00:00Z, the first instant past the accepted range.
pub const END_TIME_MS: i64 = 7_289_654_400_000;

/// Why a time or duration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("`{0}` is not an RFC 3339 time like 2026-05-04T10:00:00Z")]
    Syntax(String),
    #[error("`{0}` lies outside the years 2000..2200")]
    OutOfRange(String),
    #[error("`{0}` is not a duration: write <integer><unit> with unit ms, s, m, h or d (e.g. 90d, 5m)")]
    Duration(String),
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp as i64 + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month 1..=12, day 1..=31) of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

fn num(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (`t`/`z` accepted) into epoch
/// milliseconds, truncating the fraction; the instant must lie in
/// [2000-01-01T00:00:00Z, 2201-01-01T00:00:00Z).
pub fn parse_rfc3339(s: &str) -> Result<i64, TimeError> {
    let ms = parse_rfc3339_any(s)?;
    if !(MIN_TIME_MS..END_TIME_MS).contains(&ms) {
        return Err(TimeError::OutOfRange(s.to_string()));
    }
    Ok(ms)
}

/// Like [`parse_rfc3339`] without the range check.
pub fn parse_rfc3339_any(s: &str) -> Result<i64, TimeError> {
    let err = || TimeError::Syntax(s.to_string());
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return Err(err());
    }
    let year = num(&b[0..4]).ok_or_else(err)? as i64;
    let month = num(&b[5..7]).ok_or_else(err)?;
    let day = num(&b[8..10]).ok_or_else(err)?;
    let hour = num(&b[11..13]).ok_or_else(err)?;
    let minute = num(&b[14..16]).ok_or_else(err)?;
    let second = num(&b[17..19]).ok_or_else(err)?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 59 {
        return Err(err());
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b[i] == b'.' {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(err());
        }
        for k in 0..3 {
            let d = if start + k < i { (b[start + k] - b'0') as i64 } else { 0 };
            millis = millis * 10 + d;
        }
    }
    let offset_min: i64 = match &b[i..] {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let h = num(&[*h1, *h2]).ok_or_else(err)? as i64;
            let m = num(&[*m1, *m2]).ok_or_else(err)? as i64;
            if h > 23 || m > 59 {
                return Err(err());
            }
            let total = h * 60 + m;
            if *sign == b'-' { -total } else { total }
        }
        _ => return Err(err()),
    };
    let days = days_from_civil(year, month, day);
    let local = days * MS_PER_DAY + hour as i64 * MS_PER_HOUR + minute as i64 * MS_PER_MINUTE + second as i64 * MS_PER_SECOND + millis;
    Ok(local - offset_min * MS_PER_MINUTE)
}

/// `"00" "01" .. "99"`: two ASCII digits per value below 100, for the
/// formatting of times here and of credits in `model::credits`.
pub(crate) static TWO_DIGITS: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    t
};

/// The two digits of `v % 100`.
#[inline]
pub(crate) fn two_digits(v: u32) -> [u8; 2] {
    TWO_DIGITS[(v % 100) as usize]
}

/// Appends the first `len` bytes of `bytes`: all of them, then cut back (a
/// copy of fixed size, a few moves, not a call to copy a few bytes).
#[inline]
pub(crate) fn push_fixed<const N: usize>(out: &mut Vec<u8>, (bytes, len): ([u8; N], usize)) {
    let at = out.len();
    out.extend_from_slice(&bytes);
    out.truncate(at + len);
}

/// Appends an integer in decimal: one below 10 000 as a copy of fixed size
/// ([`small_digits`]), a larger one through `itoa`.
#[inline]
pub(crate) fn push_int<T: itoa::Integer + Copy + TryInto<u32>>(out: &mut Vec<u8>, v: T) {
    match v.try_into() {
        Ok(n) if n < 10_000 => push_fixed(out, small_digits(n)),
        _ => out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes()),
    }
}

/// The decimal digits of `n` < 10 000 in four bytes, and how many there are.
#[inline]
pub(crate) fn small_digits(n: u32) -> ([u8; 4], usize) {
    let [a, b] = two_digits(n / 100);
    let [c, d] = two_digits(n);
    match n {
        0..=9 => ([d, 0, 0, 0], 1),
        10..=99 => ([c, d, 0, 0], 2),
        100..=999 => ([b, c, d, 0], 3),
        _ => ([a, b, c, d], 4),
    }
}

/// `YYYY-MM-DD` of a day since 1970-01-01, None outside the years 0..=9999.
fn date_bytes(days: i64) -> Option<[u8; 10]> {
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return None;
    }
    let [y1, y2] = two_digits((y / 100) as u32);
    let [y3, y4] = two_digits(y as u32);
    let [m1, m2] = two_digits(m);
    let [d1, d2] = two_digits(d);
    Some([y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2])
}

thread_local! {
    /// The last day formatted on this thread and its `YYYY-MM-DD`:
    /// consecutive records mostly share their day.
    static LAST_DAY: std::cell::Cell<(i64, [u8; 10])> = const { std::cell::Cell::new((i64::MIN, [0; 10])) };
}

/// Instants formatted lately on this thread (a window's start and end, a
/// balance's `as_of` and grant expiries repeat from record to record), with
/// their text; replaced round-robin.
struct Recent {
    at: [i64; RECENT],
    text: [[u8; 24]; RECENT],
    next: usize,
}

const RECENT: usize = 8;

thread_local! {
    static RECENT_TIMES: std::cell::RefCell<Recent> = const { std::cell::RefCell::new(Recent { at: [i64::MIN; RECENT], text: [[0; 24]; RECENT], next: 0 }) };
}

/// `2026-05-04T10:00:00.000Z` as bytes; None when the year lies outside
/// 0..=9999 (written by [`write_rfc3339_slow`]).
fn rfc3339_bytes(ms: i64) -> Option<[u8; 24]> {
    RECENT_TIMES.with(|r| match r.try_borrow_mut() {
        // `i64::MIN` marks an empty slot (its year is out of range: never cached).
        Ok(mut r) if ms != i64::MIN => {
            if let Some(i) = r.at.iter().position(|&t| t == ms) {
                return Some(r.text[i]);
            }
            let b = format_bytes(ms)?;
            let i = r.next;
            r.at[i] = ms;
            r.text[i] = b;
            r.next = (i + 1) % RECENT;
            Some(b)
        }
        _ => format_bytes(ms),
    })
}

/// [`rfc3339_bytes`] computed.
fn format_bytes(ms: i64) -> Option<[u8; 24]> {
    let days = ms.div_euclid(MS_PER_DAY);
    let date = match LAST_DAY.with(|c| c.get()) {
        (d, date) if d == days => date,
        _ => {
            let date = date_bytes(days)?;
            LAST_DAY.with(|c| c.set((days, date)));
            date
        }
    };
    let rem = ms.rem_euclid(MS_PER_DAY) as u32;
    let mut b = *b"0000-00-00T00:00:00.000Z";
    b[..10].copy_from_slice(&date);
    b[11..13].copy_from_slice(&two_digits(rem / MS_PER_HOUR as u32));
    b[14..16].copy_from_slice(&two_digits(rem / MS_PER_MINUTE as u32 % 60));
    b[17..19].copy_from_slice(&two_digits(rem / MS_PER_SECOND as u32 % 60));
    let millis = rem % MS_PER_SECOND as u32;
    b[20] = b'0' + (millis / 100) as u8;
    b[21..23].copy_from_slice(&two_digits(millis));
    Some(b)
}

/// The general form, for years outside 0..=9999 (never an accepted input time).
fn write_rfc3339_slow(out: &mut String, ms: i64) {
    let rem = ms.rem_euclid(MS_PER_DAY);
    let (y, m, d) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    let _ = write!(out, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / MS_PER_HOUR, rem % MS_PER_HOUR / MS_PER_MINUTE, rem % MS_PER_MINUTE / MS_PER_SECOND, rem % MS_PER_SECOND);
}

/// `2026-05-04T10:00:00.000Z`.
pub fn format_rfc3339(ms: i64) -> String {
    let mut out = String::with_capacity(24);
    write_rfc3339(&mut out, ms);
    out
}

/// Appends `2026-05-04T10:00:00.000Z` to `out`.
pub fn write_rfc3339(out: &mut String, ms: i64) {
    match rfc3339_bytes(ms) {
        Some(b) => out.push_str(std::str::from_utf8(&b).unwrap_or_default()),
        None => write_rfc3339_slow(out, ms),
    }
}

/// Appends `2026-05-04T10:00:00.000Z` to a byte buffer, as [`write_rfc3339`].
pub fn push_rfc3339(out: &mut Vec<u8>, ms: i64) {
    match rfc3339_bytes(ms) {
        Some(b) => out.extend_from_slice(&b),
        None => {
            let mut s = String::new();
            write_rfc3339_slow(&mut s, ms);
            out.extend_from_slice(s.as_bytes());
        }
    }
}

/// A UTC calendar month as `year * 12 + (month - 1)`.
pub type Month = i32;

pub fn month_of(ms: i64) -> Month {
    let (y, m, _) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    (y * 12 + m as i64 - 1) as Month
}

pub fn month_start(month: Month) -> i64 {
    let y = (month as i64).div_euclid(12);
    let m = (month as i64).rem_euclid(12) as u32 + 1;
    days_from_civil(y, m, 1) * MS_PER_DAY
}

/// `YYYY-MM`.
pub fn month_label(month: Month) -> String {
    match month_bytes(month) {
        Some(b) => std::str::from_utf8(&b).unwrap_or_default().to_string(),
        None => month_label_slow(month),
    }
}

/// Appends `YYYY-MM` to a byte buffer, as [`month_label`].
pub fn push_month_label(out: &mut Vec<u8>, month: Month) {
    match month_bytes(month) {
        Some(b) => out.extend_from_slice(&b),
        None => out.extend_from_slice(month_label_slow(month).as_bytes()),
    }
}

/// `YYYY-MM` as bytes, None outside the years 0..=9999.
fn month_bytes(month: Month) -> Option<[u8; 7]> {
    let y = (month as i64).div_euclid(12);
    if !(0..=9999).contains(&y) {
        return None;
    }
    let [y1, y2] = two_digits((y / 100) as u32);
    let [y3, y4] = two_digits(y as u32);
    let [m1, m2] = two_digits((month as i64).rem_euclid(12) as u32 + 1);
    Some([y1, y2, y3, y4, b'-', m1, m2])
}

fn month_label_slow(month: Month) -> String {
    format!("{:04}-{:02}", (month as i64).div_euclid(12), (month as i64).rem_euclid(12) + 1)
}

/// A UTC day as days since 1970-01-01.
pub type Day = i32;

pub fn day_of(ms: i64) -> Day {
    ms.div_euclid(MS_PER_DAY) as Day
}

/// `YYYY-MM-DD`.
pub fn day_label(day: Day) -> String {
    let (y, m, d) = civil_from_days(day as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Parses `<integer><unit>`, unit one of ms, s, m, h, d, into milliseconds.
pub fn parse_duration(s: &str) -> Result<i64, TimeError> {
    let err = || TimeError::Duration(s.to_string());
    let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
    let (digits, unit) = s.split_at(split);
    if digits.is_empty() || digits.len() > 15 {
        return Err(err());
    }
    let n: i64 = digits.parse().map_err(|_| err())?;
    let scale = match unit {
        "ms" => 1,
        "s" => MS_PER_SECOND,
        "m" => MS_PER_MINUTE,
        "h" => MS_PER_HOUR,
        "d" => MS_PER_DAY,
        _ => return Err(err()),
    };
    n.checked_mul(scale).ok_or_else(err)
}

/// The shortest exact `<integer><unit>` form of a duration (`60000` → `1m`).
pub fn format_duration(ms: i64) -> String {
    let (n, unit) = duration_parts(ms);
    let mut out = String::with_capacity(8);
    out.push_str(itoa::Buffer::new().format(n));
    out.push_str(unit);
    out
}

/// Appends the form of [`format_duration`] to a byte buffer.
pub fn push_duration(out: &mut Vec<u8>, ms: i64) {
    let (n, unit) = duration_parts(ms);
    push_int(out, n);
    out.extend_from_slice(unit.as_bytes());
}

/// The count and unit of the shortest exact form of a duration.
fn duration_parts(ms: i64) -> (i64, &'static str) {
    for (scale, unit) in [(MS_PER_DAY, "d"), (MS_PER_HOUR, "h"), (MS_PER_MINUTE, "m"), (MS_PER_SECOND, "s")] {
        if ms != 0 && ms % scale == 0 {
            return (ms / scale, unit);
        }
    }
    (ms, "ms")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recently_formatted_instants_come_back_as_computed() {
        // More distinct instants than the cache holds, revisited out of order,
        // across days and with the out-of-range ends.
        let base = 1_777_888_800_000i64;
        let instants: Vec<i64> = (0..40).map(|i| base + (i * 7919 % 23) * 3_600_017 + i % 3).chain([i64::MIN, i64::MAX, MIN_TIME_MS, END_TIME_MS - 1]).collect();
        for round in 0..3 {
            for (k, &ms) in instants.iter().enumerate() {
                let ms = if round == 1 { instants[instants.len() - 1 - k] } else { ms };
                assert_eq!(rfc3339_bytes(ms), format_bytes(ms), "{ms}");
                assert_eq!(rfc3339_bytes(ms), format_bytes(ms), "{ms} again");
            }
        }
        assert_eq!(format_rfc3339(base), "2026-05-04T10:00:00.000Z");
        assert_eq!(format_rfc3339(base + 86_400_000 + 1), "2026-05-05T10:00:00.001Z");
        assert_eq!(format_rfc3339(base), "2026-05-04T10:00:00.000Z");
    }

    #[test]
    fn rfc3339_is_parsed_strictly_and_truncated_to_milliseconds() {
        assert_eq!(parse_rfc3339("2026-05-04T10:00:00Z"), Ok(1_777_888_800_000));
        assert_eq!(parse_rfc3339("2026-05-04t10:00:00.9999z"), Ok(1_777_888_800_999));
        assert_eq!(parse_rfc3339("2026-05-04T12:00:00+02:00"), Ok(1_777_888_800_000));
        assert_eq!(parse_rfc3339("2000-01-01T00:00:00Z"), Ok(MIN_TIME_MS));
        assert_eq!(parse_rfc3339("2200-12-31T23:59:59.999Z"), Ok(END_TIME_MS - 1));
        for bad in [
            "2026-05-04 10:00:00Z",
            "2026-05-04T10:00:60Z",
            "2026-02-30T10:00:00Z",
            "2026-05-04T10:00:00",
            "2026-05-04T10:00:00.Z",
            "2026-05-04T10:00:00+0200",
            "1999-12-31T23:59:59Z",
            "2201-01-01T00:00:00Z",
            "2000-01-01T00:30:00+01:00",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn times_format_with_milliseconds_and_z() {
        assert_eq!(format_rfc3339(1_777_888_800_000), "2026-05-04T10:00:00.000Z");
        assert_eq!(format_rfc3339(MIN_TIME_MS + 5), "2000-01-01T00:00:00.005Z");
    }

    #[test]
    fn months_and_days_are_utc_calendar_units() {
        let t = parse_rfc3339("2026-03-31T23:59:59.999Z").unwrap();
        let m = month_of(t);
        assert_eq!(month_label(m), "2026-03");
        assert_eq!(month_start(m + 1), parse_rfc3339("2026-04-01T00:00:00Z").unwrap());
        assert_eq!(month_label(m + 10), "2027-01");
        assert_eq!(day_label(day_of(t)), "2026-03-31");
    }

    #[test]
    fn durations_take_an_integer_and_a_unit() {
        assert_eq!(parse_duration("90d"), Ok(90 * MS_PER_DAY));
        assert_eq!(parse_duration("5m"), Ok(300_000));
        assert_eq!(parse_duration("250ms"), Ok(250));
        assert_eq!(parse_duration("0d"), Ok(0));
        for bad in ["", "d", "5", "1.5h", "5 m", "1mo", "-5m"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(format_duration(60_000), "1m");
        assert_eq!(format_duration(3_600_000), "1h");
        assert_eq!(format_duration(1_500), "1500ms");
    }
}
