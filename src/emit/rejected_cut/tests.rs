use proptest::prelude::*;

use super::*;
use crate::decode::RejectKind;

fn record(key: Option<Vec<u8>>, value: Option<Vec<u8>>, headers: Vec<(String, Option<Vec<u8>>)>) -> RejectedRecord {
    RejectedRecord { partition: 3, offset: 41, line: None, kind: RejectKind::TooLarge, reason: "value of 1040118 bytes is over the limit of 65536".into(), key, value, headers }
}

fn header<'a>(t: &'a TopicRejected<'_>, name: &str) -> Option<&'a [u8]> {
    t.headers.iter().rev().find(|(k, _)| k == name).and_then(|(_, v)| v.as_deref())
}

/// No maximal run of secret characters in `bytes` is a raw secret.
fn no_raw_secret(bytes: &[u8]) -> bool {
    secrets::redact_value(bytes, None) == bytes
}

#[test]
fn a_record_that_fits_goes_out_unchanged_without_cut_headers() {
    let r = record(Some(b"key_a".to_vec()), Some(b"{\"id\":1}".to_vec()), vec![("trace".into(), Some(b"t1".to_vec()))]);
    let t = for_topic(&r, "ai.usage", DEFAULT_MAX_MESSAGE_BYTES);
    assert!(!t.cut);
    assert_eq!(t.value, r.value.as_deref());
    assert_eq!(t.key, r.key.as_deref());
    assert_eq!(t.headers, rejected_headers(&r, "ai.usage"));
    assert_eq!(header(&t, ORIGINAL_SIZE), None);
}

#[test]
fn a_value_of_a_megabyte_is_cut_to_the_default_limit_with_its_size_and_hash() {
    let value: Vec<u8> = std::iter::repeat(&b"{\"pad\":\"abc def \"}"[..]).flatten().copied().take(1_040_118).collect();
    let r = record(Some(b"key_a".to_vec()), Some(value.clone()), vec![("trace".into(), Some(b"t1".to_vec()))]);
    let t = for_topic(&r, "ai.usage", DEFAULT_MAX_MESSAGE_BYTES);
    assert!(t.cut);
    assert!(record_size(t.key, t.value, &t.headers) + 61 <= DEFAULT_MAX_MESSAGE_BYTES);
    let cut = t.value.unwrap();
    assert!(value.starts_with(cut) && cut.len() > 990_000, "a prefix close to the limit: {}", cut.len());
    assert_eq!(header(&t, ORIGINAL_SIZE), Some(&b"1040118"[..]));
    assert_eq!(header(&t, ORIGINAL_SHA256).map(|h| String::from_utf8_lossy(h).into_owned()), Some(hex_sha256(&value)));
    assert_eq!(header(&t, "bursar.error.kind"), Some(&b"too_large"[..]));
    assert_eq!(header(&t, "trace"), Some(&b"t1"[..]), "the record's own headers are kept when they fit");
    assert_eq!(header(&t, ORIGINAL_HEADERS), None);
}

#[test]
fn the_sha256_header_is_the_hex_digest_of_the_value() {
    // SHA-256 of "abc" (FIPS 180-2, appendix B.1).
    assert_eq!(hex_sha256(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

#[test]
fn a_cut_never_ends_inside_a_utf8_character() {
    let value = "é".repeat(2_000).into_bytes();
    let r = record(None, Some(value), vec![]);
    let t = for_topic(&r, "ai.usage", 1_001);
    assert!(std::str::from_utf8(t.value.unwrap()).is_ok());
}

#[test]
fn a_cut_never_leaves_a_part_of_a_run_that_would_be_a_raw_secret() {
    // 25 upper-case letters and digits: not a secret, but its first 20 are
    // `AKIA[0-9A-Z]{16}`, an access key.
    for pad in 0..40 {
        let mut value = vec![b' '; pad];
        value.extend_from_slice(b"AKIAABCDEFGHIJKLMNOPQRSTU");
        value.extend(std::iter::repeat_n(b' ', 3_000));
        assert!(no_raw_secret(&value));
        let r = record(None, Some(value), vec![]);
        for limit in 1_000..1_100 {
            let t = for_topic(&r, "ai.usage", limit);
            assert!(no_raw_secret(t.value.unwrap()), "pad {pad} limit {limit}");
        }
    }
}

#[test]
fn headers_too_large_for_the_limit_are_left_off_and_counted() {
    let big = vec![b'h'; 5_000];
    let r = record(Some(b"key_a".to_vec()), Some(b"v".repeat(5_000)), vec![("a".into(), Some(big.clone())), ("b".into(), None)]);
    let t = for_topic(&r, "ai.usage", 2_000);
    assert!(record_size(t.key, t.value, &t.headers) + 61 <= 2_000);
    assert_eq!(header(&t, ORIGINAL_HEADERS), Some(&b"2"[..]));
    assert_eq!(header(&t, "a"), None);
    assert_eq!(header(&t, ORIGINAL_SIZE), Some(&b"5000"[..]));
}

#[test]
fn a_null_value_stays_null_when_the_key_is_cut() {
    let r = record(Some(b"k ".repeat(3_000)), None, vec![]);
    let t = for_topic(&r, "ai.usage", 1_000);
    assert_eq!(t.value, None);
    assert!(t.key.unwrap().len() < 1_000);
    assert!(record_size(t.key, t.value, &t.headers) + 61 <= 1_000);
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..max),
        proptest::collection::vec(prop_oneof![Just(b'A'), Just(b'z'), Just(b'7'), Just(b' '), Just(b'-'), Just(0xC3u8), Just(0xA9u8)], 0..max),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_cut_record_fits_its_limit_and_keeps_its_original_size_and_hash(
        key in proptest::option::of(bytes(3_000)),
        value in proptest::option::of(bytes(6_000)),
        own in proptest::collection::vec(("[a-z]{1,8}", proptest::option::of(bytes(1_500))), 0..4),
        topic in "[a-z.]{1,249}",
        limit in 1_000usize..8_000,
    ) {
        let r = record(key, value, own);
        let t = for_topic(&r, &topic, limit);
        prop_assert!(record_size(t.key, t.value, &t.headers) + 61 <= limit);
        let whole = record_size(r.key.as_deref(), r.value.as_deref(), &rejected_headers(&r, &topic)) + 61 <= limit;
        prop_assert_eq!(t.cut, !whole);
        if let (Some(v), Some(orig)) = (t.value, r.value.as_deref()) {
            prop_assert!(orig.starts_with(v));
        }
        prop_assert_eq!(t.value.is_none(), r.value.is_none());
        prop_assert_eq!(t.key.is_none(), r.key.is_none());
        if t.cut {
            let orig = r.value.as_deref().unwrap_or(b"");
            let (size, sha) = (orig.len().to_string(), hex_sha256(orig));
            prop_assert_eq!(header(&t, ORIGINAL_SIZE), Some(size.as_bytes()));
            prop_assert_eq!(header(&t, ORIGINAL_SHA256), Some(sha.as_bytes()));
            prop_assert_eq!(header(&t, "bursar.source.offset"), Some(&b"41"[..]));
        }
        // A cut adds no raw secret that the record did not already hold.
        if let (Some(v), Some(orig)) = (t.value, r.value.as_deref()) {
            prop_assert!(!no_raw_secret(orig) || no_raw_secret(v));
        }
    }
}
