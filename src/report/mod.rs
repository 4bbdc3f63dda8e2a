//! For the people who read bursar's outputs (docs/report.md): the review of
//! every key (`review`), read from output files or topics (`source`), drawn
//! as one self-contained HTML page (`page`, `chart`) by `bursar report`, and
//! one key at a time by `bursar inspect` (`inspect`).

pub mod chart;
pub mod inspect;
pub mod page;
mod records;
pub mod review;
pub mod source;

pub use page::{render, PageOptions};
pub use review::{Keep, Review};
pub use source::Source;

use std::path::PathBuf;

/// Why a report or an inspection failed.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("reading topic {topic}: {reason}")]
    Kafka { topic: String, reason: String },
    #[error("{0}")]
    Config(String),
    #[error("drawing the chart {0}")]
    Chart(String),
    #[error("rendering the report: {0}")]
    Template(String),
}

#[cfg(test)]
mod tests;
