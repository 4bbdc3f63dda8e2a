//! `bursar validate` (README.md): checks usage events or entitlements line by
//! line, with the same decoders the pipeline uses, and lists what is wrong
//! with line numbers. Reasons never quote a raw secret.

use crate::decode::{decode_usage, entitlement::decode_entitlement_line, entitlement_keys::unknown_keys, json_lines};

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Usage,
    Entitlement,
}

/// One refused line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// Physical line number, from 1.
    pub line: u64,
    /// The rejection kind name (`bursar.error.kind`: `invalid_json`, `missing_field`, ...).
    pub kind: String,
    pub reason: String,
}

/// A line that is accepted, or refused, but holds something that is likely
/// a mistake: an entitlement key bursar does not read (and so ignores).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineWarning {
    pub line: u64,
    pub message: String,
}

/// What `bursar validate` found in a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub checked: u64,
    /// Refused lines, in line order.
    pub errors: Vec<LineError>,
    /// Unknown entitlement keys (each with the nearest known key), in line order.
    pub warnings: Vec<LineWarning>,
}

/// Checks every non-blank line of `text` (a trailing `\r` stripped; a line
/// that is not UTF-8 is one more `invalid_json` record); returns
/// how many records were checked and the refused ones in line order.
pub fn validate_text(kind: Kind, text: &(impl AsRef<[u8]> + ?Sized), max_value_bytes: usize) -> (u64, Vec<LineError>) {
    let report = validate_report(kind, text, max_value_bytes);
    (report.checked, report.errors)
}

/// [`validate_text`] with warnings: the unknown keys of every entitlement
/// line (refused or not), each with the nearest known key.
pub fn validate_report(kind: Kind, text: &(impl AsRef<[u8]> + ?Sized), max_value_bytes: usize) -> Report {
    let mut report = Report::default();
    for (line_no, line) in json_lines(text.as_ref()) {
        report.checked += 1;
        let failure = match kind {
            Kind::Usage => decode_usage(line, &[], max_value_bytes).err().map(|r| (r.kind.as_str().to_string(), r.reason)),
            Kind::Entitlement => decode_entitlement_line(line).err().map(|e| (e.kind().to_string(), e.to_string())),
        };
        if let Some((kind, reason)) = failure {
            report.errors.push(LineError { line: line_no, kind, reason });
        }
        if kind == Kind::Entitlement {
            report.warnings.extend(unknown_keys(line).into_iter().map(|k| LineWarning { line: line_no, message: k.to_string() }));
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"id":"e1","time":"2026-05-04T10:00:00Z","credential":"key_1","capability":"chat","credits":"1"}"#;

    #[test]
    fn usage_lines_are_checked_with_line_numbers_and_blank_lines_skipped() {
        let text = format!("{GOOD}\n\n  \n{{\"id\":1}}\r\nnot json\n{GOOD}\n");
        let (checked, errors) = validate_text(Kind::Usage, &text, 65536);
        assert_eq!(checked, 4);
        assert_eq!(errors.len(), 2);
        assert_eq!((errors[0].line, errors[0].kind.as_str()), (4, "invalid_field"));
        assert_eq!((errors[1].line, errors[1].kind.as_str()), (5, "invalid_json"));
    }

    #[test]
    fn a_line_that_is_not_utf8_is_one_error_among_others() {
        let mut text = format!("{GOOD}\n").into_bytes();
        text.extend_from_slice(b"{\"id\":\"\xff\"}\nnot json\n");
        text.extend_from_slice(GOOD.as_bytes());
        let (checked, errors) = validate_text(Kind::Usage, &text, 65536);
        assert_eq!(checked, 4);
        assert_eq!(errors.iter().map(|e| (e.line, e.kind.as_str())).collect::<Vec<_>>(), vec![(2, "invalid_json"), (3, "invalid_json")]);
    }

    #[test]
    fn entitlement_lines_report_the_field_at_fault() {
        let text = "{\"credential\":\"k\",\"owner\":\"o\",\"updated_at\":\"2026-05-01T00:00:00Z\"}\n{\"credential\":\"k\",\"updated_at\":\"2026-05-01T00:00:00Z\"}\n";
        let (checked, errors) = validate_text(Kind::Entitlement, text, 65536);
        assert_eq!(checked, 2);
        assert_eq!(errors, vec![LineError { line: 2, kind: "missing_field".into(), reason: "field `owner` is required".into() }]);
    }

    #[test]
    fn unknown_entitlement_keys_are_warnings_with_line_numbers_and_the_nearest_key() {
        let text = "{\"credential\":\"k\",\"owner\":\"o\",\"updated_at\":\"2026-05-01T00:00:00Z\"}\n\n{\"credential\":\"k\",\"owner\":\"o\",\"updated_at\":\"2026-05-01T00:00:00Z\",\"sope\":{\"models\":[]}}\n";
        let report = validate_report(Kind::Entitlement, text, 65536);
        assert_eq!((report.checked, report.errors.len()), (2, 0), "an unknown key does not refuse the line");
        assert_eq!(report.warnings, vec![LineWarning { line: 3, message: "unknown key `sope` is ignored (the nearest known key is `scope`)".into() }]);
        let usage = validate_report(Kind::Usage, "{\"id\":\"e1\",\"time\":\"2026-05-04T10:00:00Z\",\"credential\":\"k\",\"capability\":\"chat\",\"credits\":\"1\",\"extra\":1}", 65536);
        assert!(usage.warnings.is_empty() && usage.errors.is_empty(), "usage events accept unknown fields: {usage:?}");
    }

    #[test]
    fn reasons_never_quote_a_raw_secret() {
        let secret = "sk-live-0123456789abcdef";
        let lines = [
            format!(r#"{{"id":"e1","time":"2026-05-04T10:00:00Z","credential":"{secret}","capability":"chat","credits":"{secret}"}}"#),
            format!(r#"{{"id":"{secret}{}","time":"x","credential":"k","capability":"chat","credits":"1"}}"#, "x".repeat(200)),
            format!(r#"{{"id":"e1","time":"{secret}","credential":"k","capability":"chat","credits":"1"}}"#),
        ];
        let (_, errors) = validate_text(Kind::Usage, &lines.join("\n"), 65536);
        assert_eq!(errors.len(), 3);
        for e in errors {
            assert!(!e.reason.contains(secret), "{}", e.reason);
        }
        let ent = format!(r#"{{"credential":"k","owner":"o","updated_at":"2026-05-01T00:00:00Z","status":"{secret}"}}"#);
        let (_, errors) = validate_text(Kind::Entitlement, &ent, 65536);
        assert!(!errors[0].reason.contains(secret));
    }
}
