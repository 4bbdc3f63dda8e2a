//! bursar's strict RFC 3339 reader and writer and its calendar helpers,
//! checked against chrono's independent implementation (docs/semantics.md, "Input").

use bursar::model::time::{day_label, day_of, format_rfc3339, month_label, month_of, month_start, parse_rfc3339, END_TIME_MS, MIN_TIME_MS};
use chrono::{DateTime, Datelike, FixedOffset, SecondsFormat, TimeZone, Utc};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 5000, ..ProptestConfig::default() })]

    /// Any instant of the accepted range, written by chrono in any offset
    /// with any number of fraction digits, reads back as that instant
    /// truncated to milliseconds.
    #[test]
    fn times_written_by_chrono_read_back_exactly(
        ms in MIN_TIME_MS..END_TIME_MS,
        sub_ms_nanos in 0u32..1_000_000,
        offset_min in -(23 * 60 + 59)..=(23 * 60 + 59i32),
        digits in 0usize..=9,
        lower_t in any::<bool>(),
    ) {
        let utc = Utc.timestamp_millis_opt(ms).unwrap() + chrono::Duration::nanoseconds(i64::from(sub_ms_nanos));
        let local: DateTime<FixedOffset> = utc.with_timezone(&FixedOffset::east_opt(offset_min * 60).unwrap());
        let nanos = local.timestamp_subsec_nanos();
        let fraction = if digits == 0 { String::new() } else { format!(".{}", &format!("{nanos:09}")[..digits]) };
        let offset = if offset_min == 0 { "Z".to_string() } else { local.format("%:z").to_string() };
        let sep = if lower_t { "t" } else { "T" };
        let text = format!("{}{sep}{}{fraction}{offset}", local.format("%Y-%m-%d"), local.format("%H:%M:%S"));
        // What the text says, truncated to milliseconds (times here are after 1970: truncation is floor).
        let digits_ms = if digits >= 3 { i64::from(nanos / 1_000_000) } else if digits == 0 { 0 } else { i64::from(nanos / 10u32.pow(9 - digits as u32)) * 10i64.pow(3 - digits as u32) };
        let expected = local.timestamp() * 1000 + digits_ms;
        let got = parse_rfc3339(&text);
        if (MIN_TIME_MS..END_TIME_MS).contains(&expected) {
            prop_assert_eq!(got, Ok(expected), "{}", text);
        } else {
            prop_assert!(got.is_err(), "{} is outside the years 2000..2200 but was read", text);
        }
    }

    /// Output times, months and days match chrono's calendar.
    #[test]
    fn written_times_months_and_days_match_chrono(ms in MIN_TIME_MS..END_TIME_MS) {
        let utc = Utc.timestamp_millis_opt(ms).unwrap();
        prop_assert_eq!(format_rfc3339(ms), utc.to_rfc3339_opts(SecondsFormat::Millis, true));
        let month = month_of(ms);
        prop_assert_eq!(month_label(month), utc.format("%Y-%m").to_string());
        let first = Utc.with_ymd_and_hms(utc.year(), utc.month(), 1, 0, 0, 0).unwrap();
        prop_assert_eq!(month_start(month), first.timestamp_millis());
        prop_assert_eq!(day_label(day_of(ms)), utc.format("%Y-%m-%d").to_string());
    }
}

/// Dates chrono refuses are refused too.
#[test]
fn dates_that_do_not_exist_are_refused_like_chrono_refuses_them() {
    for text in ["2026-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:00:60Z"] {
        assert!(DateTime::parse_from_rfc3339(text).is_err() || text.contains(":60"), "chrono accepts {text}");
        assert!(parse_rfc3339(text).is_err(), "bursar accepts {text}");
    }
    assert!(parse_rfc3339("2024-02-29T00:00:00Z").is_ok() && parse_rfc3339("2000-02-29T00:00:00Z").is_ok());
}
