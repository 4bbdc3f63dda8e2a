//! Unknown keys of an entitlement (docs/semantics.md "Bad input"): the
//! decoder ignores members it does not know, so a misspelt key (`"sope"`
//! for `"scope"`) silently lifts a limit. This lists them, at the top level
//! and in `scope`, `credits` and each `burst` rule, each with the nearest
//! known key, for `bursar validate` and the entitlement loaders' warnings.

use std::fmt;

use super::entitlement::tape::{Tape, Value};
use super::entitlement::Path;
use super::secrets;

/// Members of an entitlement record that bursar reads.
pub const TOP_LEVEL: &[&str] = &[
    "credential", "owner", "status", "updated_at", "valid_from", "valid_until", "scope", "credits", "burst", "dormancy", "tombstone", "max_principals", "max_source_ips",
];
/// Members of `scope`.
pub const SCOPE: &[&str] = &["capabilities", "models", "principals", "networks"];
/// Members of `credits`.
pub const CREDITS: &[&str] = &["monthly", "bank_months", "bank_cap"];
/// Members of each `burst` rule.
pub const BURST: &[&str] = &["window", "credits", "calls", "tokens"];

/// Longest key name quoted (longer ones are cut, like quoted values in reasons).
const MAX_SHOWN: usize = 64;

/// One unknown member: where it is (`scope.modles`, `burst[1].windw`) and
/// the known key of that object nearest to it by edit distance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKey {
    /// The member's path, its name shown safely (cut to 64 characters, raw secrets in it redacted).
    pub path: String,
    pub nearest: &'static str,
}

impl fmt::Display for UnknownKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown key `{}` is ignored (the nearest known key is `{}`)", self.path, self.nearest)
    }
}

/// The unknown keys of one entitlement line or record value (top level,
/// then `scope`, `credits`, each `burst` rule; by name within each); none
/// for text that is not a JSON object (the decoder refuses it).
pub fn unknown_keys(value: &[u8]) -> Vec<UnknownKey> {
    Tape::default().parse(value).map_or_else(|_| Vec::new(), unknown_keys_of)
}

/// The unknown keys of every line of an entitlements file, with its line
/// number (as `bursar validate` and `replay --entitlements` number lines).
pub fn unknown_keys_by_line(text: &[u8]) -> Vec<(u64, UnknownKey)> {
    let mut tape = Tape::default();
    let mut out = Vec::new();
    for (line, bytes) in super::json_lines(text) {
        if let Ok(top) = tape.parse(bytes) {
            out.extend(unknown_keys_of(top).into_iter().map(|k| (line, k)));
        }
    }
    out
}

/// Each of `names` (by name, each once) that is not in `known`.
pub(super) fn unknown_names<'n>(names: impl Iterator<Item = &'n str>, path: impl fmt::Display, known: &'static [&'static str], out: &mut Vec<UnknownKey>) {
    for name in names.filter(|k| !known.contains(k)) {
        out.push(UnknownKey { path: format!("{path}{}", shown(name)), nearest: nearest(name, known) });
    }
}

/// [`unknown_keys`] of an entitlement object as the decoder parsed it
/// (members in document order, a repeated name counted once, the last one
/// read, as the decoder reads it), from the same parse.
pub(crate) fn unknown_keys_of(top: Value<'_, '_>) -> Vec<UnknownKey> {
    let mut out = Vec::new();
    unknown_among(top, Path::Top, TOP_LEVEL, &mut out);
    for (name, known) in [("scope", SCOPE), ("credits", CREDITS)] {
        if let Some(nested) = top.member(name).filter(|v| readable(*v, b'{')) {
            unknown_among(nested, Path::Member(name), known, &mut out);
        }
    }
    if let Some(rules) = top.member("burst").filter(|v| readable(*v, b'[')) {
        for (i, rule) in rules.children().enumerate().filter(|(_, rule)| readable(*rule, b'{')) {
            unknown_among(rule, Path::Element("burst", i), BURST, &mut out);
        }
    }
    out
}

/// Members' names sorted and each once (the order of a parsed JSON map).
fn unknown_among(obj: Value<'_, '_>, path: Path, known: &'static [&'static str], out: &mut Vec<UnknownKey>) {
    let mut names = Vec::new();
    // Members mostly come in the order of `known`: each search starts after the last match.
    let mut next = 0;
    for m in obj.children() {
        match known[next..].iter().chain(&known[..next]).position(|k| m.is_named(k)) {
            Some(p) => next = (next + p) % known.len() + 1,
            None => names.push(m.name()),
        }
    }
    names.sort_unstable();
    names.dedup();
    unknown_names(names.into_iter(), path, known, out);
}

/// Whether `v` is an object (`opener` `{`) or array (`[`) whose members or
/// elements serde_json reads.
fn readable(v: Value<'_, '_>, opener: u8) -> bool {
    v.starts_with(opener) && v.refused().is_none()
}

/// A key name as it may be shown: cut to 64 characters, then every run of
/// secret characters that is a raw secret replaced by its redacted id (cut
/// first, so the cut cannot leave part of a run that is a secret on its own).
fn shown(name: &str) -> String {
    let cut: String = name.chars().take(MAX_SHOWN).collect();
    String::from_utf8_lossy(&secrets::redact_value(cut.as_bytes(), None)).into_owned()
}

/// The known key nearest to `name` (Levenshtein distance over characters,
/// ties to the first in `known`).
pub fn nearest(name: &str, known: &'static [&'static str]) -> &'static str {
    let name: Vec<char> = name.chars().take(MAX_SHOWN * 4).collect();
    known.iter().copied().min_by_key(|k| edit_distance(&name, k)).unwrap_or("")
}

/// Levenshtein distance between `a` and `b` (one row of the table at a time).
fn edit_distance(a: &[char], b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = if ca == cb { prev } else { 1 + prev.min(row[j]).min(row[j + 1]) };
            prev = here;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, Value};

    /// The unknown keys read from a `serde_json::Value` parse (the plain
    /// reading the borrowed-members one must agree with).
    fn unknown_keys_of_value(top: &Map<String, Value>) -> Vec<UnknownKey> {
        let mut out = Vec::new();
        let names = |obj: &Map<String, Value>, path: &str, known, out: &mut Vec<UnknownKey>| unknown_names(obj.keys().map(String::as_str), path, known, out);
        names(top, "", TOP_LEVEL, &mut out);
        if let Some(Value::Object(scope)) = top.get("scope") {
            names(scope, "scope.", SCOPE, &mut out);
        }
        if let Some(Value::Object(credits)) = top.get("credits") {
            names(credits, "credits.", CREDITS, &mut out);
        }
        if let Some(Value::Array(rules)) = top.get("burst") {
            for (i, rule) in rules.iter().enumerate() {
                if let Value::Object(rule) = rule {
                    names(rule, &format!("burst[{i}]."), BURST, &mut out);
                }
            }
        }
        out
    }

    fn paths(text: &str) -> Vec<(String, &'static str)> {
        unknown_keys(text.as_bytes()).into_iter().map(|k| (k.path, k.nearest)).collect()
    }

    #[test]
    fn a_misspelt_scope_is_reported_with_scope_as_the_nearest_key() {
        let got = paths(r#"{"credential":"k","owner":"o","updated_at":"2026-05-01T00:00:00Z","sope":{"models":["a"]}}"#);
        assert_eq!(got, vec![("sope".to_string(), "scope")]);
        let k = &unknown_keys(br#"{"sope":1}"#)[0];
        assert_eq!(k.to_string(), "unknown key `sope` is ignored (the nearest known key is `scope`)");
    }

    #[test]
    fn nested_objects_are_checked_against_their_own_keys() {
        let text = r#"{"credential":"k","owner":"o","updated_at":"2026-05-01T00:00:00Z",
            "scope":{"capabilities":["chat"],"modles":["a"],"principals":[],"networks":[]},
            "credits":{"monthly":"1","bank_month":3},
            "burst":[{"window":"5m","credits":"5"},{"windw":"1h","calls":2},7],
            "max_principals":3,"max_source_ips":4,"dormancy":"9d"}"#;
        assert_eq!(paths(text), vec![("scope.modles".into(), "models"), ("credits.bank_month".into(), "bank_months"), ("burst[1].windw".into(), "window")]);
    }

    #[test]
    fn a_record_with_only_known_keys_or_no_object_has_none() {
        assert!(paths(r#"{"credential":"k","tombstone":true}"#).is_empty());
        assert!(paths("not json").is_empty());
        assert!(paths("[1,2]").is_empty());
        assert!(paths(r#"{"credential":"k","scope":"all"}"#).is_empty(), "a scope that is no object is the decoder's error");
    }

    #[test]
    fn a_key_that_is_a_raw_secret_is_never_shown() {
        let secret = "sk-live-0123456789abcdef";
        let got = unknown_keys(format!(r#"{{"{secret}":1}}"#).as_bytes());
        assert_eq!(got.len(), 1);
        assert!(!got[0].to_string().contains(secret), "{}", got[0]);
        assert!(got[0].path.starts_with("sha256:"));
    }

    #[test]
    fn every_line_of_a_file_is_checked_with_its_line_number() {
        let text = b"{\"sope\":1}\n\nnot json\n{\"credential\":\"k\",\"dormacy\":\"1d\"}\n";
        let got: Vec<(u64, String)> = unknown_keys_by_line(text).into_iter().map(|(l, k)| (l, k.path)).collect();
        assert_eq!(got, vec![(1, "sope".to_string()), (4, "dormacy".to_string())]);
    }

    #[test]
    fn a_raw_secret_inside_a_key_name_is_never_shown() {
        // Found by the entitlement_decoder fuzz target: a name holding a
        // secret-prefixed run (`glpat-...`) after a dot was shown as written.
        let got = unknown_keys(br#"{"cvvvv....glpat-.....,....x":1,"a b sk-live-0123456789 c":2}"#);
        assert_eq!(got.len(), 2);
        for k in &got {
            assert_eq!(secrets::redact_value(k.path.as_bytes(), None), k.path.as_bytes(), "{}", k.path);
            assert!(!k.path.contains("glpat-") && !k.path.contains("sk-live"), "{}", k.path);
        }
    }

    #[test]
    fn the_decoders_parse_finds_the_same_unknown_keys() {
        let records = [
            r#"{"credential":"k","owner":"o","updated_at":"2026-05-01T00:00:00Z","sope":{"models":["a"]}}"#,
            r#"{"credential":"k","owner":"o","updated_at":"2026-05-01T00:00:00Z",
                "scope":{"capabilities":["chat"],"modles":["a"],"principals":[],"networks":[]},
                "credits":{"monthly":"1","bank_month":3},
                "burst":[{"window":"5m","credits":"5"},{"windw":"1h","calls":2},7],
                "max_principals":3,"max_source_ips":4,"dormancy":"9d"}"#,
            // Repeated names (each once, sorted), the last `scope` read, a scope that is no object.
            r#"{"zz":1,"credential":"k","aa":2,"zz":3,"scope":{"modles":[]},"scope":{"modells":[]},"credits":7}"#,
            r#"{"credential":"k","scope":"all","burst":{"windw":1}}"#,
            r#"{"cvvvv....glpat-.....,....x":1,"a b sk-live-0123456789 c":2,"credential":"k","tombstone":true}"#,
            r#"{"credential":"k","owner":"o"}"#,
        ];
        for text in records {
            let value: Map<String, Value> = serde_json::from_str(text).expect("an object");
            assert_eq!(unknown_keys(text.as_bytes()), unknown_keys_of_value(&value), "{text}");
        }
    }

    #[test]
    fn the_topics_loader_decodes_as_the_decoder_does_and_adds_the_unknown_keys() {
        use crate::decode::entitlement::{decode_entitlement_kafka, decode_entitlement_kafka_with_unknown_keys};
        let values: [Option<&str>; 5] = [
            Some(r#"{"credential":"k","owner":"o","updated_at":"2026-05-01T00:00:00Z","sope":{"models":["a"]}}"#),
            // No credential: the record key's applies.
            Some(r#"{"owner":"o","updated_at":"2026-05-01T00:00:00Z","credits":{"monthly":"1","bank_month":3}}"#),
            Some(r#"{"credential":"k","owner":"o","updated_at":"2026-05-01T00:00:00Z","burst":[{"windw":"1h"}]}"#),
            Some("not json"),
            None,
        ];
        let mut found = 0;
        for value in values {
            let key = Some(&b"key-credential"[..]);
            let both = decode_entitlement_kafka_with_unknown_keys(key, value.map(str::as_bytes));
            assert_eq!(both.clone().map(|(r, _)| r), decode_entitlement_kafka(key, value.map(str::as_bytes)), "{value:?}");
            if let Ok((_, keys)) = both {
                assert_eq!(keys, value.map(|v| unknown_keys(v.as_bytes())).unwrap_or_default(), "{value:?}");
                found += keys.len();
            }
        }
        assert_eq!(found, 2, "sope and credits.bank_month");
    }

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        let d = |a: &str, b: &str| edit_distance(&a.chars().collect::<Vec<_>>(), b);
        assert_eq!(d("sope", "scope"), 1);
        assert_eq!(d("kitten", "sitting"), 3);
        assert_eq!(d("", "abc"), 3);
        assert_eq!(d("same", "same"), 0);
        assert_eq!(nearest("monthy", CREDITS), "monthly");
    }
}
