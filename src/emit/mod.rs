//! Serialisation of engine outputs: OCSF findings, window, balance and
//! rejected records. Nothing here decides anything; it only writes.

mod describe;
mod json;
mod ocsf;
mod records;

pub use ocsf::{finding_headers, finding_json, FINDING_TYPE, OCSF_VERSION};
pub use records::{balance_json, rejected_headers, rejected_json, window_json};

use crate::engine::output::Output;

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
