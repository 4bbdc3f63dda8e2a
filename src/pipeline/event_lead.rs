//! The `max_event_lead` guard (docs/semantics.md "Bad input"): an event
//! whose time is further ahead of its Kafka record's timestamp than
//! `max_event_lead` is rejected as `invalid_field`, so one producer with a
//! wrong clock cannot move a partition's watermark into the future. A pure
//! function of the record: the same record is always judged the same way,
//! live or replayed from the topic. A file line has no record timestamp, so
//! the guard never applies to it.

use crate::decode::{RejectKind, Rejection};
use crate::engine::output::RejectedRecord;
use crate::model::time::{format_duration, format_rfc3339};

/// How every reason of this guard starts (the `bursar_event_lead_rejected_total` metric counts them).
pub const REASON: &str = "event time is ahead of the Kafka record timestamp";

/// Refuses an event at `event_time` (epoch ms) whose record was stamped
/// `record_timestamp`, when `max_lead_ms` is set and the event is more than
/// that ahead. Without a record timestamp or a limit, every event passes.
pub fn check(event_time: i64, record_timestamp: Option<i64>, max_lead_ms: Option<i64>) -> Result<(), Rejection> {
    let (Some(stamp), Some(max)) = (record_timestamp, max_lead_ms) else { return Ok(()) };
    let lead = event_time.saturating_sub(stamp);
    if lead <= max {
        return Ok(());
    }
    Err(Rejection {
        kind: RejectKind::InvalidField,
        reason: format!(
            "{REASON} by {}: `time` {} against the record timestamp {} (max_event_lead is {})",
            format_duration(lead),
            format_rfc3339(event_time),
            format_rfc3339(stamp),
            format_duration(max)
        ),
    })
}

/// True when `r` was rejected by this guard.
pub fn rejected_ahead(r: &RejectedRecord) -> bool {
    r.kind == RejectKind::InvalidField && r.reason.starts_with(REASON)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_777_888_800_000; // 2026-05-04T10:00:00Z

    #[test]
    fn an_event_at_most_the_lead_ahead_passes_and_one_beyond_is_invalid_field() {
        let hour = 3_600_000;
        assert_eq!(check(T + hour, Some(T), Some(hour)), Ok(()));
        assert_eq!(check(T - 30 * 86_400_000, Some(T), Some(hour)), Ok(()), "an event behind its record is never refused here");
        let r = check(T + hour + 1, Some(T), Some(hour)).unwrap_err();
        assert_eq!(r.kind, RejectKind::InvalidField);
        assert!(r.reason.starts_with(REASON), "{}", r.reason);
        assert!(r.reason.contains("by 3600001ms") && r.reason.contains("max_event_lead is 1h"), "{}", r.reason);
        assert!(r.reason.contains("2026-05-04T11:00:00.001Z"), "{}", r.reason);
    }

    #[test]
    fn without_a_record_timestamp_or_a_limit_every_event_passes() {
        let year_2199 = 7_226_582_400_000;
        assert_eq!(check(year_2199, None, Some(1)), Ok(()));
        assert_eq!(check(year_2199, Some(T), None), Ok(()));
    }

    #[test]
    fn a_rejection_of_this_guard_is_told_apart_from_other_invalid_fields() {
        let rejection = check(T + 10, Some(T), Some(1)).unwrap_err();
        let mut r = RejectedRecord { partition: 0, offset: 1, line: None, kind: rejection.kind, reason: rejection.reason, key: None, value: None, headers: vec![] };
        assert!(rejected_ahead(&r));
        r.reason = "`time`: not RFC 3339".into();
        assert!(!rejected_ahead(&r));
    }
}
