//! `bursar run`: the live processor (README.md "Running on Kafka"). One
//! consumer-group member per instance; batches of `batch_size` records or
//! `batch_linger` go through the engine and commit under the configured
//! guarantee (`commit.rs`); the state is in `processor.rs`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::error::KafkaError;
use super::processor::Processor;
use crate::config::Config;
use crate::telemetry::{InternalEvent, Metrics, ProcessingStopped};

/// Runs until `shutdown` is set (SIGTERM/SIGINT): finishes the batch, flushes, commits.
pub fn run(config: Config, shutdown: Arc<AtomicBool>, metrics: Arc<Metrics>) -> Result<(), KafkaError> {
    let runtime = config.runtime()?;
    let mut p = Processor::new(&config, metrics.clone())?;
    while !shutdown.load(Ordering::SeqCst) {
        p.follow_entitlements()?;
        let batch = p.fill(runtime.batch_size, runtime.batch_linger, &shutdown);
        p.process_batch(batch)?;
    }
    ProcessingStopped.emit(&metrics);
    Ok(())
}
