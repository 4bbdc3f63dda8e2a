//! Property tests of decoding and redaction: no input bytes make the decoders
//! panic, accepted events obey every limit of README.md (Inputs), and no raw
//! secret survives redaction.

use bursar::decode::entitlement::{decode_entitlement_kafka, decode_entitlement_line};
use bursar::pipeline::partitioner::partition_for;
use bursar::decode::secrets::{is_raw_secret, is_raw_secret_bytes, redact_key, redact_value, redacted_id};
use bursar::decode::{decode_usage, decode_usage_keyed, decode_usage_reference, fast_path_accepts, key_hint, key_hint_reference};
use bursar::decode::RejectKind;
use bursar::model::time::{END_TIME_MS, MIN_TIME_MS};
use bursar::model::UsageEvent;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const MAX: usize = 65536;

fn valid_event() -> Value {
    json!({"id": "e1", "time": "2026-05-04T10:00:00Z", "credential": "key_7f3a", "capability": "chat",
           "model": "llama-3", "credits": "1.5", "tokens_in": 10, "tokens_out": 20,
           "principal": "svc-a", "source": "gw-1", "src_ip": "10.0.0.1"})
}

const FIELDS: [&str; 16] = [
    "id", "time", "credential", "capability", "model", "credits", "tokens_in", "tokens_out", "principal", "source", "src_ip",
    "specversion", "subject", "type", "data", "extra",
];

/// Checks every limit an accepted event must obey.
fn assert_within_limits(e: &UsageEvent) {
    let chars = |s: &str| s.chars().count();
    assert!((1..=128).contains(&chars(&e.id)), "id {:?}", e.id);
    assert!((1..=256).contains(&chars(&e.credential)), "credential length");
    assert!((1..=64).contains(&chars(&e.capability)), "capability {:?}", e.capability);
    if let Some(m) = &e.model {
        assert!((1..=128).contains(&chars(m)), "model {m:?}");
    }
    assert!(e.credits >= 0 && e.tokens_in >= 0 && e.tokens_out >= 0);
    assert!((MIN_TIME_MS..END_TIME_MS).contains(&e.time));
    assert!(!is_raw_secret(&e.credential), "a raw secret credential was accepted");
    if e.exposed {
        assert!(e.credential.starts_with("sha256:") && e.credential.len() == 23);
    }
}

/// Strings that hit the interesting cases: secrets, times, numbers, escapes, unicode.
fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_0-9]{0,10}",
        "(sk-|ghp_|AKIA|hf_|xoxb-)[A-Za-z0-9]{0,30}",
        "[A-Za-z0-9+/=_-]{38,60}",
        "20[0-9]{2}-[01][0-9]-[0-3][0-9][Tt ][0-2][0-9]:[0-5][0-9]:[0-6][0-9](\\.[0-9]{1,9})?([Zz]|[+-][0-2][0-9]:[0-5][0-9])",
        "-?[0-9]{0,25}(\\.[0-9]{0,12})?",
        ".{0,140}",
        "é{120,135}",
        Just(String::new()),
    ]
}

/// Arbitrary JSON values, nested a little.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        tricky_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(prop::sample::select(FIELDS.to_vec()).prop_map(String::from), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A valid event with some fields replaced or removed.
fn mutated_event() -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(FIELDS.to_vec()), prop::option::of(json_value())), 0..5).prop_map(|edits| {
        let mut v = valid_event();
        let obj = v.as_object_mut().expect("object");
        for (field, value) in edits {
            match value {
                Some(value) => obj.insert(field.to_string(), value),
                None => obj.remove(field),
            };
        }
        v
    })
}

/// JSON-looking text: fragments of tokens glued together.
fn jsonish_text() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just(",".to_string()),
        Just(":".to_string()),
        Just("null".to_string()),
        Just("NaN".to_string()),
        Just("-Infinity".to_string()),
        Just("\"\\ud800\"".to_string()),
        prop::sample::select(FIELDS.to_vec()).prop_map(|f| format!("\"{f}\"")),
        tricky_string().prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
        "-?[0-9]{1,22}(\\.[0-9]{1,10})?([eE][+-]?[0-9]{1,4})?",
    ];
    prop::collection::vec(token, 0..40).prop_map(|t| t.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_any_decoder(bytes in prop::collection::vec(any::<u8>(), 0..300), max in 0usize..400) {
        let _ = decode_usage(&bytes, &[], max);
        let _ = decode_usage(&bytes, &[("ce_specversion", b"1.0"), ("ce_id", &bytes)], max);
        let _ = key_hint(&bytes);
        let _ = decode_entitlement_line(&bytes);
        let _ = decode_entitlement_kafka(Some(&bytes), Some(&bytes));
        let _ = partition_for(Some(&bytes), 7);
    }

    #[test]
    fn jsonish_text_never_panics_and_accepted_events_obey_the_limits(text in jsonish_text()) {
        if let Ok(e) = decode_usage(text.as_bytes(), &[], MAX) {
            assert_within_limits(&e);
        }
        let _ = key_hint(text.as_bytes());
        let _ = decode_entitlement_line(text.as_bytes());
    }

    #[test]
    fn mutated_events_are_accepted_only_within_the_limits(v in mutated_event()) {
        let text = v.to_string();
        match decode_usage(text.as_bytes(), &[], MAX) {
            Ok(e) => assert_within_limits(&e),
            Err(r) => prop_assert!(!r.reason.is_empty()),
        }
        let structured = json!({"specversion": "1.0", "id": "x", "source": "s", "type": "t",
                                "subject": v.get("credential").cloned().unwrap_or(Value::Null),
                                "time": v.get("time").cloned().unwrap_or(Value::Null), "data": v.clone()});
        if let Ok(e) = decode_usage(structured.to_string().as_bytes(), &[], MAX) {
            assert_within_limits(&e);
        }
        let headers: [(&str, &[u8]); 6] = [("ce_specversion", b"1.0"), ("ce_id", b"b"), ("ce_source", b"s"),
            ("ce_type", b"t"), ("ce_subject", b"sk-live-x"), ("ce_time", b"2026-05-04T10:00:00Z")];
        if let Ok(e) = decode_usage(text.as_bytes(), &headers, MAX) {
            assert_within_limits(&e);
            prop_assert!(e.exposed);
        }
    }

    #[test]
    fn byte_mutations_of_a_valid_event_never_panic(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6)) {
        let mut bytes = valid_event().to_string().into_bytes();
        for (at, byte, op) in edits {
            let i = at.index(bytes.len() + 1);
            match op {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ if i < bytes.len() => { bytes.remove(i); }
                _ => {}
            }
        }
        if let Ok(e) = decode_usage(&bytes, &[], MAX) {
            assert_within_limits(&e);
        }
        let _ = key_hint(&bytes);
    }

    #[test]
    fn the_rejection_kind_order_puts_too_large_first(v in mutated_event(), extra in 1usize..50) {
        let text = v.to_string();
        let r = decode_usage(text.as_bytes(), &[], text.len().saturating_sub(extra));
        prop_assert_eq!(r.map_err(|r| r.kind), Err(RejectKind::TooLarge));
    }

    #[test]
    fn no_raw_secret_survives_value_redaction(
        parts in prop::collection::vec(tricky_string(), 0..8),
        seps in prop::collection::vec(prop::sample::select(vec![" ", "\"", ":", ",", ".", "\u{0}", "é", "\n"]), 0..8),
        key in tricky_string(),
        key_inside in any::<bool>(),
    ) {
        let mut value = String::new();
        for (i, p) in parts.iter().enumerate() {
            value.push_str(p);
            value.push_str(seps.get(i).copied().unwrap_or(" "));
        }
        if key_inside {
            value.push_str(&key);
        }
        let out = redact_value(value.as_bytes(), Some(key.as_bytes()));
        for run in out.split(|b| !(b.is_ascii_alphanumeric() || b"+/=_-".contains(b))) {
            prop_assert!(!is_raw_secret_bytes(run), "secret run survived: {:?}", String::from_utf8_lossy(run));
        }
        if is_raw_secret(&key) && !key.is_empty() {
            prop_assert!(!out.windows(key.len()).any(|w| w == key.as_bytes()), "raw key survived");
        }
        prop_assert!(!is_raw_secret_bytes(&redact_key(key.as_bytes())));
    }

    #[test]
    fn redacted_ids_are_never_raw_secrets(raw in ".{0,80}") {
        let id = redacted_id(&raw);
        prop_assert!(!is_raw_secret(&id));
        prop_assert_eq!(redact_value(id.as_bytes(), None), id.as_bytes());
    }
}

/// An object as (member name, JSON text of its value), in order: duplicates,
/// raw number spellings and hand-written escapes stay as written.
type Obj = Vec<(String, String)>;

fn text_of(obj: &Obj, pretty: bool) -> String {
    let sep = if pretty { ",\n  " } else { "," };
    let members: Vec<String> = obj.iter().map(|(k, v)| format!("{}:{}{v}", Value::from(k.as_str()), if pretty { " " } else { "" })).collect();
    format!("{{{}}}", members.join(sep))
}

fn obj_of(v: &Value) -> Obj {
    v.as_object().expect("object").iter().map(|(k, v)| (k.clone(), v.to_string())).collect()
}

/// `s` as a JSON string with every character written as a `\u` escape.
fn unicode_escaped(s: &str) -> String {
    let mut out = String::from("\"");
    for unit in s.encode_utf16() {
        out.push_str(&format!("\\u{unit:04x}"));
    }
    out.push('"');
    out
}

/// JSON texts of member values: valid ones for each field and every odd case.
fn member_text(field: &'static str) -> BoxedStrategy<String> {
    let quoted = |s: &str| Value::from(s).to_string();
    let credits = prop_oneof![
        "[0-9]{1,8}(\\.[0-9]{1,9})?",
        "\"[0-9]{1,8}(\\.[0-9]{1,9})?\"",
        prop::sample::select(vec![
            "1e3", "-0", "-0.0", "-0.0e3", "0.0000035", "0.0000025", "0.00000250001", "\"007\"", "\"12.5\"", "1E-7", "2.5e-6", "1e19",
            "1e400", "99999999999999999999999", "9223372036854.775807", "9223372036854.775808", "\"9223372036854.775807\"", "-1",
            "-0.0000001", "\"-1\"", "\"1e3\"", "\".5\"", "\"1.\"", "\"\"", "\"\\u0031.5\"", "0.1e1", "123456789012.3456785",
        ])
        .prop_map(String::from),
    ];
    let time = "20[0-9]{2}-[01][0-9]-[0-3][0-9][Tt ][0-2][0-9]:[0-5][0-9]:[0-6][0-9](\\.[0-9]{1,9})?([Zz]|[+-][0-2][0-9]:[0-5][0-9])";
    let valid: BoxedStrategy<String> = match field {
        "time" => prop_oneof![
            3 => "2026-0[1-9]-[12][0-9]T[01][0-9]:[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?([Zz]|[+-]0[0-9]:[0-5][0-9])".prop_map(move |t| quoted(&t)),
            1 => time.prop_map(move |t| quoted(&t)),
            1 => prop::sample::select(vec!["1999-12-31T23:59:59.999Z", "2000-01-01T00:00:00Z", "2200-12-31T23:59:59.999Z", "2201-01-01T00:00:00Z", "2000-01-01T00:30:00+01:00"]).prop_map(quoted),
        ]
        .boxed(),
        "credits" => credits.boxed(),
        "tokens_in" | "tokens_out" => prop_oneof![
            3 => (0u64..100_000).prop_map(|n| n.to_string()),
            1 => prop::sample::select(vec!["9223372036854775807", "9223372036854775808", "18446744073709551616", "-0", "-1", "1.0", "1e3", "\"5\""]).prop_map(String::from),
        ]
        .boxed(),
        "specversion" => prop::sample::select(vec!["\"1.0\"", "\"1\\u002e0\"", "\"0.3\"", "1.0"]).prop_map(String::from).boxed(),
        _ => prop_oneof![
            3 => "[a-z][a-z0-9_.-]{0,14}".prop_map(move |s| quoted(&s)),
            1 => "é{0,3}[a-zA-Z ]{0,6}(\\u{1F600})?".prop_map(move |s| quoted(&s)),
            1 => "[a-z]{0,3}[\"\\\\\n\t/]{1,2}[a-z]{0,3}".prop_map(move |s| quoted(&s)),
        ]
        .boxed(),
    };
    let odd = prop_oneof![
        tricky_string().prop_map(move |s| quoted(&s)),
        tricky_string().prop_map(|s| unicode_escaped(&s)),
        prop::sample::select(vec![
            "null", "\"\\ud800\"", "\"a\\udc00b\"", "\"\\ud83d\\ude00\"", "true", "5", "-3", "1.5", "[]", "{}", "[1,{\"a\":[null]}]",
            "{\"capability\":5,\"id\":\"\\ud800\",\"x\":{\"y\":[]}}", "\"sk-ant-api03-secret\"", "\"AKIAIOSFODNN7EXAMPLE\"",
            "\"Xk9vQ2mP7rT4wZ8bN3cF6hJ1sD5gL0yA+eR/uI_o-Kq\"", "\"ghp_0123456789abcdefABCDEF0123456789abcd\"",
        ])
        .prop_map(String::from),
        prop::sample::select(vec![1usize, 63, 64, 65, 127, 128, 129, 255, 256, 257]).prop_flat_map(move |n| {
            prop_oneof![Just(quoted(&"k".repeat(n))), Just(quoted(&"é".repeat(n))), Just(quoted(&"\u{1F600}".repeat(n))), Just(unicode_escaped(&"é".repeat(n)))]
        }),
        json_value().prop_map(|v| v.to_string()),
    ];
    prop_oneof![3 => valid, 1 => odd].boxed()
}

/// One edit of an object.
#[derive(Debug, Clone)]
enum Edit {
    Set(&'static str, String),
    Drop(&'static str),
    /// Appends a second member of that name.
    Duplicate(&'static str, String),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop::sample::select(FIELDS.to_vec()).prop_flat_map(|field| {
        prop_oneof![
            4 => member_text(field).prop_map(move |t| Edit::Set(field, t)),
            1 => Just(Edit::Drop(field)),
            1 => member_text(field).prop_map(move |t| Edit::Duplicate(field, t)),
        ]
    });
    prop::collection::vec(edit, 0..4)
}

fn apply(obj: &mut Obj, edits: &[Edit]) {
    for edit in edits {
        match edit {
            Edit::Set(field, text) => match obj.iter_mut().find(|(k, _)| k == field) {
                Some(member) => member.1 = text.clone(),
                None => obj.push((field.to_string(), text.clone())),
            },
            Edit::Drop(field) => obj.retain(|(k, _)| k != field),
            Edit::Duplicate(field, text) => obj.push((field.to_string(), text.clone())),
        }
    }
}

/// How a generated record is encoded.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Native,
    /// A structured CloudEvent; with the `content-type` header or not.
    Structured { header: bool },
    /// A binary CloudEvent; `broken` names a header to drop or spoil.
    Binary { broken: Option<usize> },
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        3 => Just(Shape::Native),
        2 => any::<bool>().prop_map(|header| Shape::Structured { header }),
        2 => prop::option::weighted(0.2, 0usize..8).prop_map(|broken| Shape::Binary { broken }),
    ]
}

const BINARY_HEADERS: [(&str, &[u8]); 6] = [
    ("ce_specversion", b"1.0"),
    ("ce_id", b"b-1"),
    ("ce_source", b"/gw"),
    ("ce_type", b"io.example.usage"),
    ("ce_subject", b"key_b"),
    ("ce_time", b"2026-05-04T10:00:00.5+01:00"),
];

/// A record built from a valid one with random edits: its value text and headers.
fn mutated_record() -> impl Strategy<Value = (String, Vec<(&'static str, Vec<u8>)>)> {
    (shape(), edits(), edits(), any::<bool>(), 0u8..4).prop_map(|(shape, data_edits, envelope_edits, pretty, data_form)| {
        let mut data = obj_of(&valid_event());
        apply(&mut data, &data_edits);
        match shape {
            Shape::Native => (text_of(&data, pretty), vec![]),
            Shape::Binary { broken } => {
                let mut headers: Vec<(&str, Vec<u8>)> = BINARY_HEADERS.iter().map(|(k, v)| (*k, v.to_vec())).collect();
                match broken {
                    Some(i) if i < headers.len() => drop(headers.remove(i)),
                    Some(6) => headers[4].1 = b"sk-live-x".to_vec(),
                    Some(_) => headers[0].1 = b"0.3".to_vec(),
                    None => {}
                }
                (text_of(&data, pretty), headers)
            }
            Shape::Structured { header } => {
                let mut envelope = obj_of(&json!({"specversion": "1.0", "id": "ce-1", "source": "/gw", "type": "io.example.usage",
                    "subject": "key_7f3a", "time": "2026-05-04T10:00:00Z", "datacontenttype": "application/json"}));
                match data_form {
                    0 => {}
                    1 => envelope.push(("data_base64".into(), "\"e30=\"".into())),
                    _ => envelope.push(("data".into(), text_of(&data, pretty))),
                }
                apply(&mut envelope, &envelope_edits);
                let headers = if header { vec![("content-type", b"application/cloudevents+json; charset=utf-8".to_vec())] } else { vec![] };
                (text_of(&envelope, pretty), headers)
            }
        }
    })
}

/// The fast path decides exactly as the reference decoder: same event or
/// same rejection, same key hint.
fn assert_same_as_reference(text: &str, headers: &[(&str, &[u8])], max: usize) -> Result<(), TestCaseError> {
    let value = text.as_bytes();
    let reference = decode_usage_reference(value, headers, max);
    let keyed = decode_usage_keyed(value, headers, max);
    prop_assert_eq!(&keyed.event, &reference, "{}", text);
    prop_assert_eq!(&decode_usage(value, headers, max), &reference, "{}", text);
    let hint = key_hint_reference(value);
    prop_assert_eq!(keyed.key_hint.as_deref(), hint.as_deref(), "{}", text);
    prop_assert_eq!(key_hint(value), hint, "{}", text);
    if fast_path_accepts(value, headers, max) {
        prop_assert!(reference.is_ok(), "the fast path accepted a rejected record: {}", text);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn the_fast_path_decides_mutated_records_exactly_as_the_reference((text, headers) in mutated_record(), cut in prop::option::weighted(0.1, 0usize..3)) {
        let headers: Vec<(&str, &[u8])> = headers.iter().map(|(k, v)| (*k, v.as_slice())).collect();
        let max = cut.map_or(MAX, |c| text.len() + 1 - c);
        assert_same_as_reference(&text, &headers, max)?;
    }

    #[test]
    fn the_fast_path_decides_arbitrary_text_exactly_as_the_reference(text in jsonish_text(), v in mutated_event()) {
        assert_same_as_reference(&text, &[], MAX)?;
        assert_same_as_reference(&v.to_string(), &[], MAX)?;
        assert_same_as_reference(&v.to_string(), &BINARY_HEADERS, MAX)?;
    }
}

#[test]
fn the_fast_path_takes_the_ordinary_shapes() {
    let native = valid_event().to_string();
    let with_nulls = r#"{"id":"e1","time":"2026-05-04T10:00:00.123+02:00","credential":"ghp_0123456789abcdefABCDEF0123456789abcd","capability":"chat","model":null,"credits":0.0000035,"tokens_in":null,"principal":"svc-caf\u00e9","meta":{"tags":["a",null],"n":1.5e3}}"#;
    let structured = json!({"specversion": "1.0", "id": "ce-1", "source": "/gw", "type": "t", "subject": "key_7f3a",
        "time": "2026-05-04T10:00:00Z", "datacontenttype": "application/json",
        "data": {"id": "\\ud800", "capability": "chat", "credits": "2", "tokens_out": 5, "source": "gw-data"}})
    .to_string();
    let content_type: [(&str, &[u8]); 1] = [("content-type", b"application/cloudevents+json")];
    for (text, headers) in [
        (native.as_str(), &[][..]),
        (with_nulls, &[][..]),
        (structured.as_str(), &[][..]),
        (structured.as_str(), &content_type[..]),
        (native.as_str(), &BINARY_HEADERS[..]),
    ] {
        assert!(fast_path_accepts(text.as_bytes(), headers, MAX), "{text} {headers:?}");
        let keyed = decode_usage_keyed(text.as_bytes(), headers, MAX);
        assert_eq!(keyed.event, decode_usage_reference(text.as_bytes(), headers, MAX));
        assert_eq!(keyed.key_hint.as_deref(), key_hint_reference(text.as_bytes()).as_deref());
    }
    assert!(matches!(decode_usage_keyed(native.as_bytes(), &[], MAX).key_hint, Some(std::borrow::Cow::Borrowed("key_7f3a"))));
    // And it leaves the unusual ones to the reference decoder.
    let duplicate = native.replace("\"id\":\"e1\"", "\"id\":\"e0\",\"id\":\"e1\"");
    assert!(decode_usage(duplicate.as_bytes(), &[], MAX).is_ok());
    for text in [duplicate.as_str(), &native.replace("\"tokens_in\":10", "\"tokens_in\":-0"), &native.replace("\"id\":\"e1\"", "\"id\":5")] {
        assert!(!fast_path_accepts(text.as_bytes(), &[], MAX), "{text}");
    }
    assert!(!fast_path_accepts(native.as_bytes(), &[], native.len() - 1));
}

/// Throughput of `decode_usage` on typical lines; run with
/// `cargo test --release --test decode_props -- --ignored --nocapture`.
#[test]
#[ignore]
fn decode_throughput() {
    let lines: Vec<String> = (0..1000)
        .map(|i| {
            format!(
                r#"{{"id":"evt-{i:08}","time":"2026-05-04T10:{:02}:{:02}.123Z","credential":"key_{:04x}","capability":"chat","model":"llama-3-70b","credits":"0.0{i:04}","tokens_in":{},"tokens_out":{},"principal":"spiffe://prod/ns/ml/sa/batch","source":"gw-eu-1","src_ip":"10.1.{}.{}"}}"#,
                i % 60, (i * 7) % 60, i % 500, i * 3, i * 5, i % 256, (i * 13) % 256
            )
        })
        .collect();
    let rounds = 1000;
    let start = std::time::Instant::now();
    let mut ok = 0usize;
    for _ in 0..rounds {
        for l in &lines {
            ok += decode_usage(l.as_bytes(), &[], MAX).is_ok() as usize;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(ok, lines.len() * rounds);
    println!("decode_usage: {:.0} lines/s", ok as f64 / secs);
    let start = std::time::Instant::now();
    let mut n = 0usize;
    for _ in 0..rounds {
        for l in &lines {
            n += serde_json::from_str::<Value>(l).is_ok() as usize;
        }
    }
    println!("serde_json::Value: {:.0} lines/s", n as f64 / start.elapsed().as_secs_f64());
    let start = std::time::Instant::now();
    let mut hints = 0usize;
    for _ in 0..rounds {
        for l in &lines {
            hints += key_hint(l.as_bytes()).is_some() as usize;
        }
    }
    assert_eq!(hints, lines.len() * rounds);
    println!("key_hint: {:.0} lines/s", hints as f64 / start.elapsed().as_secs_f64());
}
