//! Raw-secret detection and redaction (README.md, `credential.exposed`; docs/semantics.md, "Input").
//!
//! A raw secret is replaced by `sha256:` + the first 16 hex digits of its
//! SHA-256 before it is stored, logged or emitted anywhere. A redacted id is
//! never itself a raw secret (it holds a `:` and starts with no secret
//! prefix), so redaction is idempotent.

use sha2::{Digest, Sha256};

/// Well-known secret prefixes (`sk-` also covers `sk-ant-`).
const PREFIXES: [&[u8]; 13] = [
    b"sk-",
    b"sk_live_",
    b"sk_test_",
    b"rk_live_",
    b"ghp_",
    b"gho_",
    b"ghs_",
    b"github_pat_",
    b"glpat-",
    b"xoxb-",
    b"xoxp-",
    b"AIza",
    b"hf_",
];

/// Shortest string the entropy rule considers.
const ENTROPY_MIN_LEN: usize = 40;
/// Least Shannon entropy, bits per character, of a high-entropy secret.
const ENTROPY_MIN_BITS: f64 = 4.5;

/// True when `s` is a raw secret by docs/semantics.md `credential.exposed`.
pub fn is_raw_secret(s: &str) -> bool {
    is_raw_secret_bytes(s.as_bytes())
}

/// [`is_raw_secret`] over bytes (every rule is about ASCII, so a byte string
/// that is not UTF-8 can still carry a secret prefix).
pub fn is_raw_secret_bytes(b: &[u8]) -> bool {
    let prefixed = b.first().is_some_and(|&c| PREFIX_STARTS[c as usize]) && PREFIXES.iter().any(|p| b.starts_with(p));
    prefixed || is_aws_access_key(b) || is_high_entropy(b)
}

/// The first bytes of [`PREFIXES`]: most strings start with none of them,
/// and then no prefix is compared.
static PREFIX_STARTS: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < PREFIXES.len() {
        t[PREFIXES[i][0] as usize] = true;
        i += 1;
    }
    t
};

/// The whole string matches `AKIA[0-9A-Z]{16}`.
fn is_aws_access_key(b: &[u8]) -> bool {
    b.len() == 20 && b.starts_with(b"AKIA") && b[4..].iter().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
}

/// Characters of the entropy rule and of the runs scanned in values: `[A-Za-z0-9+/=_-]`.
pub(crate) fn in_class(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'_' | b'-')
}

/// At least 40 characters from the class, with an upper-case letter, a
/// lower-case letter and a digit, and Shannon entropy >= 4.5 bits/char.
fn is_high_entropy(b: &[u8]) -> bool {
    if b.len() < ENTROPY_MIN_LEN || !b.iter().all(|&c| in_class(c)) {
        return false;
    }
    let has = |f: fn(&u8) -> bool| b.iter().any(f);
    if !(has(u8::is_ascii_uppercase) && has(u8::is_ascii_lowercase) && has(u8::is_ascii_digit)) {
        return false;
    }
    shannon_entropy(b) >= ENTROPY_MIN_BITS
}

/// Shannon entropy in bits per character: -Σ p·log2(p) over the distinct
/// characters (taken in code order), p = count / length.
pub fn shannon_entropy(b: &[u8]) -> f64 {
    if b.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &c in b {
        counts[c as usize] += 1;
    }
    let n = b.len() as f64;
    let mut h = 0.0f64;
    for &count in counts.iter().filter(|&&c| c > 0) {
        let p = count as f64 / n;
        h -= p * p.log2();
    }
    h
}

/// `sha256:` + the first 16 hex digits of SHA-256 of `raw`.
pub fn redacted_id(raw: &str) -> String {
    redacted_id_bytes(raw.as_bytes())
}

/// [`redacted_id`] of raw bytes.
pub fn redacted_id_bytes(raw: &[u8]) -> String {
    let digest = Sha256::digest(raw);
    let mut out = String::with_capacity(23);
    out.push_str("sha256:");
    for b in &digest[..8] {
        out.push(char::from(HEX[(b >> 4) as usize]));
        out.push(char::from(HEX[(b & 0xf) as usize]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A record key, redacted when it is a raw secret (docs/semantics.md).
pub fn redact_key(key: &[u8]) -> Vec<u8> {
    if is_raw_secret_bytes(key) {
        redacted_id_bytes(key).into_bytes()
    } else {
        key.to_vec()
    }
}

/// A text field that is a raw secret as its redacted id, any other unchanged
/// (an entitlement's `owner` reaches findings: docs/semantics.md "Bad input").
pub fn redact_field(s: String) -> String {
    if is_raw_secret(&s) {
        redacted_id(&s)
    } else {
        s
    }
}

/// A record value (or header value) with no raw secret left (docs/semantics.md):
/// every occurrence of the raw secret key is replaced by its redacted id,
/// then every maximal run of `[A-Za-z0-9+/=_-]` that is a raw secret.
pub fn redact_value(value: &[u8], raw_key: Option<&[u8]>) -> Vec<u8> {
    let keyed = match raw_key {
        Some(key) if !key.is_empty() && is_raw_secret_bytes(key) => replace_all(value, key, redacted_id_bytes(key).as_bytes()),
        _ => value.to_vec(),
    };
    redact_runs(&keyed)
}

/// `haystack` with every non-overlapping occurrence of `needle` (left to
/// right) replaced by `with`.
fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// Replaces every maximal run of class characters that is a raw secret.
fn redact_runs(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        if !in_class(value[i]) {
            out.push(value[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < value.len() && in_class(value[i]) {
            i += 1;
        }
        let run = &value[start..i];
        if is_raw_secret_bytes(run) {
            out.extend_from_slice(redacted_id_bytes(run).as_bytes());
        } else {
            out.extend_from_slice(run);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HIGH: &str = "Xk9vQ2mP7rT4wZ8bN3cF6hJ1sD5gL0yA+eR/uI_o-Kq";

    proptest! {
        /// The first-byte table only skips comparisons: detection is the rule
        /// as written (any prefix, an AWS key, high entropy).
        #[test]
        fn detection_is_the_rule_as_written(prefix in prop::sample::select(PREFIXES.to_vec()), cut in 0usize..12, rest in "[ -~]{0,50}", plain in any::<bool>()) {
            let mut b = if plain { Vec::new() } else { prefix[..cut.min(prefix.len())].to_vec() };
            b.extend_from_slice(rest.as_bytes());
            let rule = PREFIXES.iter().any(|p| b.starts_with(p)) || is_aws_access_key(&b) || is_high_entropy(&b);
            prop_assert_eq!(is_raw_secret_bytes(&b), rule, "{:?}", String::from_utf8_lossy(&b));
        }
    }

    #[test]
    fn well_known_prefixes_are_raw_secrets() {
        for s in ["sk-x", "sk-ant-api03-abc", "sk_live_1", "sk_test_1", "rk_live_1", "ghp_1", "gho_1", "ghs_1", "github_pat_1", "glpat-1", "xoxb-1", "xoxp-1", "AIzaSy", "hf_abc"] {
            assert!(is_raw_secret(s), "{s}");
        }
        for s in ["key_7f3a", "sk", "SK-x", "hf-abc", "ghp-1", "aiza", ""] {
            assert!(!is_raw_secret(s), "{s}");
        }
    }

    #[test]
    fn aws_access_keys_match_the_whole_string_only() {
        assert!(is_raw_secret("AKIAIOSFODNN7EXAMPLE"));
        assert!(!is_raw_secret("AKIAIOSFODNN7EXAMPL"));
        assert!(!is_raw_secret("AKIAIOSFODNN7EXAMPLEX"));
        assert!(!is_raw_secret("AKIAiosfodnn7example"));
        assert!(!is_raw_secret("xAKIAIOSFODNN7EXAMPLE"));
    }

    #[test]
    fn long_high_entropy_strings_are_raw_secrets() {
        assert!(HIGH.len() >= 40);
        assert!(shannon_entropy(HIGH.as_bytes()) >= 4.5);
        assert!(is_raw_secret(HIGH));
        // Same characters but one class missing, or too short, or low entropy.
        assert!(!is_raw_secret(&HIGH.to_ascii_lowercase()));
        assert!(!is_raw_secret(&HIGH[..39]));
        assert!(!is_raw_secret(&"aA1".repeat(20)));
        assert!(!is_raw_secret(&format!("{HIGH}.")));
    }

    #[test]
    fn entropy_of_exactly_four_and_a_half_bits_counts() {
        // 8 symbols x4 and 16 symbols x2 over 64 characters: exactly 4.5 bits.
        let mut s = String::new();
        for c in "ABCDEFGH".chars() {
            s.extend(std::iter::repeat_n(c, 4));
        }
        for c in "abcdefgh01234567".chars() {
            s.extend(std::iter::repeat_n(c, 2));
        }
        assert_eq!(s.len(), 64);
        assert_eq!(shannon_entropy(s.as_bytes()), 4.5);
        assert!(is_raw_secret(&s));
    }

    #[test]
    fn a_redacted_id_is_not_itself_a_raw_secret() {
        let id = redacted_id("sk-live-secret");
        assert!(id.starts_with("sha256:"));
        assert_eq!(id.len(), 7 + 16);
        assert!(!is_raw_secret(&id));
        assert_eq!(redact_value(id.as_bytes(), Some(id.as_bytes())), id.as_bytes());
    }

    #[test]
    fn redacted_id_is_the_first_16_hex_of_sha256() {
        // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        assert_eq!(redacted_id("abc"), "sha256:ba7816bf8f01cfea");
    }

    #[test]
    fn keys_are_redacted_only_when_they_are_raw_secrets() {
        assert_eq!(redact_key(b"key_7f3a"), b"key_7f3a");
        assert_eq!(redact_key(b"sk-abc"), redacted_id("sk-abc").into_bytes());
        assert_eq!(redact_key(b"sk-\xff\xfe"), redacted_id_bytes(b"sk-\xff\xfe").into_bytes());
    }

    #[test]
    fn the_raw_key_is_replaced_everywhere_in_the_value_even_with_odd_characters() {
        let key = b"sk-has space.dot";
        let value = br#"{"credential":"sk-has space.dot","note":"sk-has space.dot!"}"#;
        let out = redact_value(value, Some(key));
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("sk-has"));
        assert_eq!(text.matches(&redacted_id("sk-has space.dot")).count(), 2);
    }

    #[test]
    fn secret_runs_in_a_value_are_replaced_and_other_text_is_kept() {
        let value = format!("{{\"credential\":\"{HIGH}\",\"x\":\"key_7f3a AKIAIOSFODNN7EXAMPLE\"}}");
        let out = String::from_utf8(redact_value(value.as_bytes(), None)).unwrap();
        assert!(!out.contains(HIGH));
        assert!(!out.contains("AKIAIOSFODNN7EXAMPLE"));
        assert!(out.contains("key_7f3a"));
        assert!(out.contains(&redacted_id(HIGH)));
        assert!(out.contains(&redacted_id("AKIAIOSFODNN7EXAMPLE")));
    }

    #[test]
    fn invalid_utf8_values_are_redacted_bytewise() {
        let value = b"\xff\xfeghp_token\xff";
        let out = redact_value(value, None);
        assert!(out.starts_with(b"\xff\xfesha256:"));
        assert!(out.ends_with(b"\xff"));
    }

    #[test]
    fn a_key_that_is_not_a_secret_is_not_replaced_in_the_value() {
        assert_eq!(redact_value(b"key_7f3a", Some(b"key_7f3a")), b"key_7f3a");
        assert_eq!(redact_value(b"abc", Some(b"")), b"abc");
    }
}
