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

/// `2026-05-04T10:00:00.000Z`.
pub fn format_rfc3339(ms: i64) -> String {
    let mut out = String::with_capacity(24);
    write_rfc3339(&mut out, ms);
    out
}

/// Appends `2026-05-04T10:00:00.000Z` to `out`.
pub fn write_rfc3339(out: &mut String, ms: i64) {
    let days = ms.div_euclid(MS_PER_DAY);
    let rem = ms.rem_euclid(MS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        let _ = write!(out, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / MS_PER_HOUR, rem % MS_PER_HOUR / MS_PER_MINUTE, rem % MS_PER_MINUTE / MS_PER_SECOND, rem % MS_PER_SECOND);
        return;
    }
    let mut b = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut v: i64| {
        for i in (at..at + width).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, y);
    put(5, 2, m as i64);
    put(8, 2, d as i64);
    put(11, 2, rem / MS_PER_HOUR);
    put(14, 2, rem % MS_PER_HOUR / MS_PER_MINUTE);
    put(17, 2, rem % MS_PER_MINUTE / MS_PER_SECOND);
    put(20, 3, rem % MS_PER_SECOND);
    out.push_str(std::str::from_utf8(&b).unwrap_or_default());
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
    for (scale, unit) in [(MS_PER_DAY, "d"), (MS_PER_HOUR, "h"), (MS_PER_MINUTE, "m"), (MS_PER_SECOND, "s")] {
        if ms != 0 && ms % scale == 0 {
            return format!("{}{unit}", ms / scale);
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod tests {
    use super::*;

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
