//! Raw-secret detection and redaction (SPEC §3.10, §7.3, §7.7).

pub fn redact_key(key: &[u8]) -> Vec<u8> {
    key.to_vec()
}

pub fn redact_value(value: &[u8], _raw_key: Option<&[u8]>) -> Vec<u8> {
    value.to_vec()
}
