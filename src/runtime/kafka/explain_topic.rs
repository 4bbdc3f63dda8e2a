//! `bursar explain --topic` (README.md "Explaining a finding"): the usage
//! topic read as `replay --topic` reads it (entitlements caught up from the
//! entitlements topic first, then each partition of the range in offset
//! order with its real offsets, headers and timestamps), handed record by
//! record to the caller until it finds what it looks for.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use super::error::KafkaError;
use super::replay_topic::{catch_up_entitlements, ranges, read_records, usage_reader};
use super::ReplayFrom;
use crate::config::Config;
use crate::engine::Engine;
use crate::pipeline::InputRecord;

/// A range of a usage topic: `[from, until)` of record timestamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicRange {
    pub topic: String,
    pub from: ReplayFrom,
    /// Exclusive end (record timestamp, epoch ms); None: the end at start.
    pub until: Option<i64>,
}

/// What was read: the offsets of each partition's range and the records handed on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicRead {
    /// Partition to `[start, end)` offsets.
    pub ranges: BTreeMap<i32, (i64, i64)>,
    pub records: u64,
}

/// Loads the config's entitlements topic into the fresh `engine`, then hands
/// `f` each usage record of `range` in the replay's order, until it breaks
/// with a value (returned with what was read; None when it never broke).
pub fn explain_topic<B>(config: &Config, engine: &mut Engine, range: &TopicRange, mut f: impl FnMut(&mut Engine, &InputRecord<'_>) -> ControlFlow<B>) -> Result<(Option<B>, TopicRead), KafkaError> {
    let kafka = config.kafka_client()?;
    let reader = usage_reader(&kafka, &range.topic)?;
    catch_up_entitlements(config, &kafka, engine)?;
    let ranges = ranges(&reader, &range.topic, range.from, range.until)?;
    let mut found = None;
    let (records, _) = read_records(&reader, &ranges, |record| {
        Ok(match f(engine, record) {
            ControlFlow::Continue(()) => ControlFlow::Continue(()),
            ControlFlow::Break(b) => {
                found = Some(b);
                ControlFlow::Break(())
            }
        })
    })?;
    Ok((found, TopicRead { ranges, records }))
}
