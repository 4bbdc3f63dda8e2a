//! Serialisation of engine outputs: OCSF findings, window, balance and
//! rejected records. Nothing here decides anything; it only writes.

mod describe;
mod facts;
mod json;
mod ocsf;
mod records;
pub mod rejected_cut;

pub use ocsf::{finding_headers, finding_json, write_finding, FINDING_TYPE, OCSF_VERSION};
pub use records::{balance_json, rejected_headers, rejected_json, window_json, write_balance, write_rejected, write_window};

use crate::engine::output::Output;

/// Appends one output's JSON (no newline) to `buf`: rejected records in
/// their file form. Written straight into the caller's buffer, so a sink
/// that reuses one buffer encodes without allocating.
pub fn encode_into(output: &Output, buf: &mut Vec<u8>) {
    match output {
        Output::Finding(f) => write_finding(f, buf),
        Output::Window(w) => write_window(w, buf),
        Output::Balance(b) => write_balance(b, buf),
        Output::Rejected(r) => write_rejected(r, buf),
    }
}

/// One output as its JSON line (rejected records in their file form).
pub fn encode(output: &Output) -> String {
    match output {
        Output::Finding(f) => finding_json(f),
        Output::Window(w) => window_json(w),
        Output::Balance(b) => balance_json(b),
        Output::Rejected(r) => rejected_json(r),
    }
}

#[cfg(test)]
mod tests;
