//! Tests of the entitlement decoder.

use super::*;
use crate::model::time::MS_PER_DAY;

#[test]
fn one_parse_finds_the_records_and_unknown_keys_of_separate_parses() {
    let deep = format!(r#"{{"credential":"d","owner":"o","updated_at":"2026-05-01T00:00:00Z","x":{}{}}}"#, "[".repeat(MAX_DEPTH + 2), "]".repeat(MAX_DEPTH + 2));
    let text = [
        r#"{"credential":"k1","owner":"o","updated_at":"2026-05-01T00:00:00Z","ownr":"x","credits":{"monthly":10,"bank_month":1}}"#,
        "",
        r#"{"credential":"k2","tombstone":true,"note":1}"#,
        r#"{"credential":"k3","owner":"o","updated_at":"yesterday","colour":"red"}"#,
        "not json",
        &deep,
        r#"{"credential":"k4","owner":"o","updated_at":"2026-05-02T00:00:00Z","burst":[{"window":"60s","calls":5,"cals":1}]}"#,
    ]
    .join("\n");
    let one = read_entitlement_file(text.as_bytes(), true);
    // The reference: each line decoded on its own, and unknown keys by a parse of their own.
    let (mut records, mut skipped) = (Vec::new(), Vec::new());
    for (line_no, line) in super::super::json_lines(text.as_bytes()) {
        match decode_entitlement_line(line) {
            Ok(record) => records.push(record),
            Err(e) => skipped.push((line_no, e)),
        }
    }
    let unknown = super::super::entitlement_keys::unknown_keys_by_line(text.as_bytes());
    assert_eq!(format!("{:?}", one.records), format!("{records:?}"));
    assert_eq!(format!("{:?}", one.skipped), format!("{skipped:?}"));
    assert_eq!(format!("{:?}", one.unknown), format!("{unknown:?}"));
    assert_eq!((one.records.len(), one.skipped.len()), (3, 3), "{:?}", one.skipped);
    // A line nested too deep is skipped, yet its keys are still checked, as before.
    let lines: Vec<u64> = one.unknown.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, [1, 1, 3, 4, 6, 7], "{:?}", one.unknown);
}

const FULL: &str = r#"{"credential":"key_7f3a","owner":"team-ml@example.com","status":"active",
    "updated_at":"2026-05-01T00:00:00Z","valid_from":"2026-05-01T00:00:00Z","valid_until":"2027-05-01T00:00:00Z",
    "scope":{"capabilities":["chat","embeddings"],"models":["llama-*","qwen-*"]},
    "credits":{"monthly":"1000","bank_months":3,"bank_cap":"2500"},
    "burst":[{"window":"5m","credits":"50"},{"window":"1h","calls":2000}],"dormancy":"90d","extra":1}"#;

fn line(s: &str) -> Result<EntitlementRecord, EntitlementError> {
    decode_entitlement_line(s.replace('\n', "").as_bytes())
}

fn version(s: &str) -> Entitlement {
    match line(s) {
        Ok(EntitlementRecord::Version(e)) => e,
        other => panic!("expected a version, got {other:?}"),
    }
}

fn patched(member: &str, value: &str) -> String {
    let base = r#"{"credential":"k","owner":"o","updated_at":"2026-05-01T00:00:00Z"}"#;
    format!("{},\"{member}\":{value}}}", &base[..base.len() - 1])
}

#[test]
fn the_spec_example_decodes_every_field() {
    let e = version(FULL);
    assert_eq!(e.credential, "key_7f3a");
    assert_eq!(e.owner, "team-ml@example.com");
    assert_eq!(e.status, Status::Active);
    assert_eq!(e.scope.capabilities, Some(vec!["chat".to_string(), "embeddings".to_string()]));
    assert_eq!(e.credits, Some(CreditPlan { monthly: 1_000_000_000, bank_months: 3, bank_cap: Some(2_500_000_000) }));
    let burst = e.burst.unwrap();
    assert_eq!(burst[0], BurstRule { window_ms: 300_000, credits: Some(50_000_000), calls: None, tokens: None });
    assert_eq!(burst[1], BurstRule { window_ms: 3_600_000, credits: None, calls: Some(2000), tokens: None });
    assert_eq!(e.dormancy_ms, Some(90 * MS_PER_DAY));
    assert!(e.valid_from.is_some() && e.valid_until.is_some());
}

#[test]
fn absent_and_null_members_take_their_defaults() {
    let e = version(&patched("status", "null"));
    assert_eq!(e.status, Status::Active);
    assert_eq!(e.scope, Scope::default());
    assert_eq!((e.credits, e.burst, e.dormancy_ms, e.valid_from), (None, None, None, None));
    let e = version(&patched("scope", r#"{"capabilities":[],"models":null}"#));
    assert_eq!(e.scope, Scope { capabilities: Some(vec![]), ..Scope::default() });
    let e = version(&patched("credits", r#"{"monthly":0.0000035}"#));
    assert_eq!(e.credits, Some(CreditPlan { monthly: 4, bank_months: 0, bank_cap: None }));
    assert_eq!(version(&patched("dormancy", "\"0d\"")).dormancy_ms, Some(0));
    assert_eq!(version(&patched("burst", "[]")).burst, Some(vec![]));
    assert!(version(&patched("valid_until", "\"9999-12-31T00:00:00Z\"")).valid_until.is_some());
}

#[test]
fn principals_networks_and_day_limits_decode() {
    let e = version(&patched("scope", r#"{"principals":["svc-*"],"networks":["10.0.0.0/8","2001:db8::1"]}"#));
    assert_eq!(e.scope.principals, Some(vec!["svc-*".to_string()]));
    let nets: Vec<&str> = e.scope.networks.iter().flatten().map(|n| n.as_str()).collect();
    assert_eq!(nets, ["10.0.0.0/8", "2001:db8::1"]);
    assert_eq!(version(&patched("scope", r#"{"networks":[]}"#)).scope.networks, Some(vec![]));
    assert_eq!(version(&patched("max_principals", "3")).max_principals, Some(3));
    assert_eq!(version(&patched("max_source_ips", "1")).max_source_ips, Some(1));
    let e = version(FULL);
    assert_eq!((e.scope.principals, e.scope.networks, e.max_principals, e.max_source_ips), (None, None, None, None));
}

#[test]
fn tombstones_name_a_credential() {
    assert_eq!(line(r#"{"credential":"k","tombstone":true}"#).unwrap(), EntitlementRecord::Tombstone { credential: "k".into() });
    assert!(matches!(line(&patched("tombstone", "false")), Ok(EntitlementRecord::Version(_))));
    assert!(line(r#"{"tombstone":true}"#).is_err());
    assert!(line(r#"{"credential":"k","tombstone":"yes"}"#).is_err());
}

#[test]
fn invalid_records_name_the_field() {
    let cases = [
        (r#"{"owner":"o","updated_at":"2026-05-01T00:00:00Z"}"#.to_string(), "field `credential` is required"),
        (r#"{"credential":"k","updated_at":"2026-05-01T00:00:00Z"}"#.to_string(), "field `owner` is required"),
        (r#"{"credential":"k","owner":"o"}"#.to_string(), "field `updated_at` is required"),
        (r#"{"credential":"","owner":"o","updated_at":"2026-05-01T00:00:00Z"}"#.to_string(), "field `credential`"),
        (r#"{"credential":"k","owner":"","updated_at":"2026-05-01T00:00:00Z"}"#.to_string(), "field `owner`"),
        (patched("status", "\"paused\""), "field `status`"),
        (patched("valid_from", "\"2026-05-01\""), "field `valid_from`"),
        (patched("scope", "[]"), "field `scope`"),
        (patched("scope", r#"{"models":["a",1]}"#), "field `scope.models[1]`"),
        (patched("credits", "{}"), "field `credits.monthly` is required"),
        (patched("credits", r#"{"monthly":"-5"}"#), "field `credits.monthly`"),
        (patched("credits", r#"{"monthly":1,"bank_months":-1}"#), "field `credits.bank_months`"),
        (patched("credits", r#"{"monthly":1,"bank_months":1.5}"#), "field `credits.bank_months`"),
        (patched("credits", r#"{"monthly":1,"bank_cap":"x"}"#), "field `credits.bank_cap`"),
        (patched("credits", r#"{"monthly":"1000000000.000001"}"#), "field `credits.monthly` must be at most 1000000000 credits a month"),
        (patched("credits", r#"{"monthly":1,"bank_months":1201}"#), "field `credits.bank_months` must be at most 1200"),
        (patched("burst", r#"[{"window":"5m"}]"#), "field `burst[0]` must set at least one limit"),
        (patched("burst", r#"[{"window":"5m","calls":1},{"window":"0s","calls":1}]"#), "field `burst[1].window`"),
        (patched("burst", r#"[{"window":"90ms","calls":1}]"#), "field `burst[0].window`"),
        (patched("burst", r#"[{"calls":1}]"#), "field `burst[0].window` is required"),
        (patched("burst", r#"[5]"#), "field `burst[0]` must be an object"),
        (patched("burst", r#"[{"window":"1m","tokens":-2}]"#), "field `burst[0].tokens`"),
        (patched("dormancy", "\"3 months\""), "field `dormancy`"),
        (patched("scope", r#"{"principals":"svc-*"}"#), "field `scope.principals` must be an array"),
        (patched("scope", r#"{"principals":["svc-*",7]}"#), "field `scope.principals[1]` must be a string"),
        (patched("scope", r#"{"networks":["10.0.0.0/8","10.0.0.0/08"]}"#), "field `scope.networks[1]` has a prefix length `/08`"),
        (patched("scope", r#"{"networks":["10.0.0.256"]}"#), "field `scope.networks[0]` must be a network"),
        (patched("scope", r#"{"networks":[null]}"#), "field `scope.networks[0]` must be a string"),
        (patched("max_principals", "0"), "field `max_principals` must be an integer of at least 1"),
        (patched("max_principals", "2.5"), "field `max_principals`"),
        (patched("max_source_ips", "\"3\""), "field `max_source_ips`"),
    ];
    for (text, reason) in cases {
        let err = line(&text).expect_err(&text);
        assert!(err.to_string().starts_with(reason), "{text}: {err}");
    }
    assert_eq!(line("[1]").unwrap_err().kind(), "invalid_json");
    assert_eq!(line("{").unwrap_err().kind(), "invalid_json");
    assert!(version(&patched("burst", r#"[{"window":"60ms","tokens":0}]"#)).burst.is_some());
}

#[test]
fn raw_secret_credentials_are_kept_unredacted() {
    let e = version(r#"{"credential":"sk-live-123","owner":"o","updated_at":"2026-05-01T00:00:00Z"}"#);
    assert_eq!(e.credential, "sk-live-123");
    // A scope glob that is a raw secret (found by fuzzing) is kept as its redacted id.
    let e = version(&patched("scope", r#"{"models":["ghp_model*","llama-*"]}"#));
    assert_eq!(e.scope.models, Some(vec![crate::decode::secrets::redacted_id("ghp_model*"), "llama-*".to_string()]));
    let err = line(&format!(r#"{{"credential":"sk-{}","owner":"o","updated_at":"2026-05-01T00:00:00Z"}}"#, "x".repeat(300))).unwrap_err();
    assert!(!err.to_string().contains("sk-"));
}

#[test]
fn kafka_records_use_the_key_for_tombstones_and_as_a_fallback() {
    assert_eq!(decode_entitlement_kafka(Some(b"k1"), None).unwrap(), EntitlementRecord::Tombstone { credential: "k1".into() });
    assert!(decode_entitlement_kafka(None, None).is_err());
    let value = br#"{"owner":"o","updated_at":"2026-05-01T00:00:00Z"}"#;
    let rec = decode_entitlement_kafka(Some(b"k2"), Some(value)).unwrap();
    assert_eq!(rec.credential(), "k2");
    let value = br#"{"credential":"inside","owner":"o","updated_at":"2026-05-01T00:00:00Z"}"#;
    assert_eq!(decode_entitlement_kafka(Some(b"k2"), Some(value)).unwrap().credential(), "inside");
    assert!(decode_entitlement_kafka(None, Some(br#"{"owner":"o","updated_at":"2026-05-01T00:00:00Z"}"#)).is_err());
}

#[test]
fn a_file_is_read_in_line_order_with_skipped_lines_numbered() {
    let text = "{\"credential\":\"a\",\"owner\":\"o\",\"updated_at\":\"2026-05-01T00:00:00Z\"}\r\n\n   \nbroken\n{\"credential\":\"a\",\"tombstone\":true}\n";
    let (records, skipped) = read_entitlements(text);
    assert_eq!(records.len(), 2);
    assert!(matches!(records[1], EntitlementRecord::Tombstone { .. }));
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].0, 4);
    // A line that is not UTF-8 is skipped like any bad record; the rest is read.
    let mut bytes = text.as_bytes().to_vec();
    bytes.extend_from_slice(b"\xff\xfe\n{\"credential\":\"b\",\"owner\":\"o\",\"updated_at\":\"2026-05-01T00:00:00Z\"}\n");
    let (records, skipped) = read_entitlements(&bytes);
    assert_eq!((records.len(), skipped.len(), skipped[1].0, skipped[1].1.kind()), (3, 2, 6, "invalid_json"));
}

/// Edited entitlement lines, decoded by the tape and by the decoder before
/// it (`reference`): the same records, reasons and unknown keys.
mod against_the_reference {
    use std::sync::OnceLock;

    use proptest::prelude::*;

    use super::super::{decode_entitlement_kafka, decode_entitlement_kafka_with_unknown_keys, decode_entitlement_line, read_entitlement_file, reference, Tape};
    use crate::decode::entitlement_keys::unknown_keys;

    /// A record as members and elements of JSON text, to edit.
    #[derive(Debug, Clone)]
    enum Tree {
        Text(String),
        Object(Vec<(String, Tree)>),
        Array(Vec<Tree>),
    }

    impl Tree {
        fn of(v: super::super::Value<'_, '_>) -> Tree {
            match v.text().as_bytes().first() {
                Some(b'{') => Tree::Object(v.children().map(|m| (m.name().to_string(), Tree::of(m))).collect()),
                Some(b'[') => Tree::Array(v.children().map(Tree::of).collect()),
                _ => Tree::Text(v.text().to_string()),
            }
        }

        fn write(&self, out: &mut String) {
            match self {
                Tree::Text(t) => out.push_str(t),
                Tree::Object(members) => {
                    out.push('{');
                    for (i, (name, v)) in members.iter().enumerate() {
                        out.push_str(if i == 0 { "\"" } else { ",\"" });
                        out.push_str(name);
                        out.push_str("\":");
                        v.write(out);
                    }
                    out.push('}');
                }
                Tree::Array(items) => {
                    out.push('[');
                    for (i, v) in items.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        v.write(out);
                    }
                    out.push(']');
                }
            }
        }

        /// How many objects and arrays the tree holds.
        fn containers(&self) -> usize {
            match self {
                Tree::Text(_) => 0,
                Tree::Object(members) => 1 + members.iter().map(|(_, v)| v.containers()).sum::<usize>(),
                Tree::Array(items) => 1 + items.iter().map(Tree::containers).sum::<usize>(),
            }
        }

        /// Object or array number `n` (counted from 0 in document order).
        fn container(&mut self, n: &mut usize) -> Option<&mut Tree> {
            if matches!(self, Tree::Text(_)) {
                return None;
            }
            if *n == 0 {
                return Some(self);
            }
            *n -= 1;
            let children: Vec<&mut Tree> = match self {
                Tree::Object(members) => members.iter_mut().map(|(_, v)| v).collect(),
                Tree::Array(items) => items.iter_mut().collect(),
                Tree::Text(_) => Vec::new(),
            };
            children.into_iter().find_map(|c| c.container(n))
        }
    }

    /// Member names written as JSON text: the known ones, near misses, escapes.
    const NAMES: &[&str] = &[
        "credential", "owner", "status", "updated_at", "valid_from", "valid_until", "scope", "credits", "burst", "dormancy", "tombstone", "max_principals",
        "max_source_ips", "capabilities", "models", "principals", "networks", "monthly", "bank_months", "bank_cap", "window", "calls", "tokens", "sope",
        "credit", "windw", "", "\\u0073cope", "cred\\u0065ntial", "\\ud800", "x\\udc00", "sk-live-0123456789abcdef", "\\n", "é",
    ];

    /// Values written as JSON text: of every type, valid and not.
    const VALUES: &[&str] = &[
        "null", "true", "false", "0", "-0", "1", "-1", "3", "1.5", "1e3", "2.5E-1", "1201", "99999999999999999999", "\"\"", "\"k\"", "\"5m\"", "\"90ms\"",
        "\"0s\"", "\"1h\"", "\"90d\"", "\"3 months\"", "\"active\"", "\"paused\"", "\"revoked\"", "\"2026-05-01T00:00:00Z\"", "\"2026-05-01\"",
        "\"9999-12-31T00:00:00Z\"", "\"1999-12-31T00:00:00Z\"", "\"1000000000.000001\"", "\"-5\"", "\"2.5\"", "\"\\u0041\"", "\"\\ud800\"", "\"a\\\"b\"",
        "\"sk-live-0123456789abcdef\"", "\"ghp_model*\"", "\"10.0.0.0/8\"", "\"10.0.0.0/08\"", "\"10.0.0.256\"", "\"2001:db8::1\"", "[]", "[1]",
        "[\"a\",null]", "[\"chat\",\"\\u0063hat\"]", "{}", "{\"monthly\":1}", "{\"window\":\"1m\",\"calls\":1}", "{\"\\ud800\":1}", "[{\"\\udc00\":1}]",
        "{\"a\":{\"\\ud800\":1}}", "[[[]]]",
    ];

    /// One edit of a tree: what, where (a container by index), which member
    /// or element, and with what.
    type Edit = (u8, usize, usize, usize);

    fn edit(tree: &mut Tree, (op, at, which, with): Edit) {
        let mut n = at % tree.containers();
        let Some(target) = tree.container(&mut n) else { return };
        let value = || Tree::Text(VALUES[with % VALUES.len()].to_string());
        match target {
            Tree::Object(members) => {
                let len = members.len().max(1);
                let (i, j) = (which % len, with % len);
                match (op % 7, members.is_empty()) {
                    (0, false) => drop(members.remove(i)),
                    (1, false) => members.insert(i, members[i].clone()),
                    (2, false) => members[i].0 = NAMES[with % NAMES.len()].to_string(),
                    (3, false) => members[i].1 = value(),
                    (4, false) => members.swap(i, j),
                    (5, false) => members[i].1 = nested(members[i].1.clone(), with),
                    _ => members.insert(which % (members.len() + 1), (NAMES[with % NAMES.len()].to_string(), value())),
                }
            }
            Tree::Array(items) => {
                let len = items.len().max(1);
                let i = which % len;
                match (op % 7, items.is_empty()) {
                    (0, false) => drop(items.remove(i)),
                    (1, false) => items.insert(i, items[i].clone()),
                    (3, false) => items[i] = value(),
                    (5, false) => items[i] = nested(items[i].clone(), with),
                    _ => items.insert(which % (items.len() + 1), value()),
                }
            }
            Tree::Text(_) => {}
        }
    }

    /// `t` inside arrays, to about the nesting limit.
    fn nested(t: Tree, with: usize) -> Tree {
        (0..[1, 126, 127, 128, 200][with % 5]).fold(t, |t, _| Tree::Array(vec![t]))
    }

    fn lines() -> &'static [String] {
        static LINES: OnceLock<Vec<String>> = OnceLock::new();
        LINES.get_or_init(|| {
            let sparse = crate::gen::GenSpec { credentials: 200, ..Default::default() };
            let dense = crate::gen::GenSpec { credentials: 50, shape: crate::gen::Shape::Dense, ..Default::default() };
            crate::gen::entitlements(&sparse).into_iter().chain(crate::gen::entitlements(&dense)).collect()
        })
    }

    /// Every entry point agrees with the reference on `bytes`.
    fn agree(bytes: &[u8]) {
        let shown = |v: &dyn std::fmt::Debug| format!("{v:?}");
        let text = String::from_utf8_lossy(bytes);
        assert_eq!(decode_entitlement_line(bytes), reference::decode_entitlement_line(bytes), "{text}");
        for key in [None, Some(&b"key-credential"[..]), Some(&b""[..])] {
            assert_eq!(decode_entitlement_kafka(key, Some(bytes)), reference::decode_entitlement_kafka(key, Some(bytes)), "{text}");
            let both = decode_entitlement_kafka_with_unknown_keys(key, Some(bytes));
            assert_eq!(shown(&both), shown(&reference::decode_entitlement_kafka_with_unknown_keys(key, Some(bytes))), "{text}");
        }
        assert_eq!(unknown_keys(bytes), reference::unknown_keys(bytes), "{text}");
        let mut file = lines()[..3].join("\n").into_bytes();
        file.push(b'\n');
        file.extend_from_slice(bytes);
        for unknown in [false, true] {
            let (new, old) = (read_entitlement_file(&file, unknown), reference::read_entitlement_file(&file, unknown));
            assert_eq!((shown(&new.records), shown(&new.skipped), shown(&new.unknown)), (shown(&old.records), shown(&old.skipped), shown(&old.unknown)), "{text}");
        }
    }

    /// A generated line with `edits`, then maybe spliced and cut.
    pub(super) fn make(line: prop::sample::Index, edits: Vec<Edit>, cut: Option<prop::sample::Index>, splice: Option<(prop::sample::Index, String)>) -> Vec<u8> {
        let base = line.get(lines());
        let mut tape = Tape::default();
        let mut tree = Tree::of(tape.parse(base.as_bytes()).expect("a generated line is JSON"));
        for e in edits {
            edit(&mut tree, e);
        }
        let mut text = String::new();
        tree.write(&mut text);
        let mut bytes = text.into_bytes();
        if let Some((at, insert)) = splice {
            let at = at.index(bytes.len() + 1);
            bytes.splice(at..(at + 2).min(bytes.len()), insert.bytes());
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        bytes
    }

    #[test]
    fn generated_lines_decode_as_before() {
        for line in lines() {
            agree(line.as_bytes());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        /// A generated line with random edits of its members (deleted,
        /// duplicated, renamed, moved, retyped, nulled, nested), then maybe cut or spliced.
        #[test]
        fn edited_lines_decode_as_before(
            line in any::<prop::sample::Index>(),
            edits in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>(), any::<usize>()), 0..6),
            cut in proptest::option::weighted(0.15, any::<prop::sample::Index>()),
            splice in proptest::option::weighted(0.3, (any::<prop::sample::Index>(), "[ -~\\\\\"{}\\[\\],:0-9eE.+-]{0,3}")),
        ) {
            agree(&make(line, edits, cut, splice));
        }
    }
}
