//! Serialisation of engine outputs: OCSF findings, window, balance and rejected records.
