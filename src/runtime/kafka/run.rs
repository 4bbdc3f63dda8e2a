//! `bursar run`: the live processor (README.md "Running on Kafka"). One
//! consumer-group member per instance; batches of `batch_size` records or
//! `batch_linger` go through the engine and commit under the configured
//! guarantee (`commit.rs`); the state is in `processor.rs`.
//!
//! At start the pre-flight check (`preflight.rs`) must pass. A transient
//! error (a broker outage, a fenced client) drops the processor and builds
//! it again once the broker answers, for up to `broker_outage`
//! (`outage.rs`); any other error stops the run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::error::KafkaError;
use super::outage::{is_transient, probe_broker, Outage, Watchdog};
use super::preflight::preflight;
use super::processor::Processor;
use crate::config::{Config, RuntimeConfig};
use crate::telemetry::{InternalEvent, Metrics, PreflightWarning, ProcessingStopped, Readiness};

/// How often the processor asks the broker whether it is back, in an outage.
const PROBE_EVERY: Duration = Duration::from_secs(2);

/// What `run` is told besides the configuration.
#[derive(Debug, Default, Clone)]
pub struct RunOptions {
    /// `--reset-state`: start partitions whose changelog holds no state
    /// from their committed offsets anyway, with empty state.
    pub reset_state: bool,
    /// Set while the processor is ready (`/readyz`).
    pub ready: Arc<Readiness>,
}

/// Runs until `shutdown` is set (SIGTERM/SIGINT): finishes the batch, flushes, commits.
pub fn run(config: Config, shutdown: Arc<AtomicBool>, metrics: Arc<Metrics>) -> Result<(), KafkaError> {
    run_with(config, RunOptions::default(), shutdown, metrics)
}

/// [`run`] with `options`.
pub fn run_with(config: Config, options: RunOptions, shutdown: Arc<AtomicBool>, metrics: Arc<Metrics>) -> Result<(), KafkaError> {
    let runtime = config.runtime()?;
    let kafka = config.kafka_client()?;
    let mut outage = Outage::new(&kafka.bootstrap_servers, runtime.broker_outage, metrics.clone());
    let watchdog = Watchdog::start(&kafka.bootstrap_servers, metrics.clone());
    let mut checked = false;
    while !shutdown.load(Ordering::SeqCst) {
        watchdog.beat();
        // The first attempt's probe is the pre-flight check's first request.
        let probed = if checked { probe_broker(&kafka).map_err(KafkaError::from) } else { Ok(()) };
        let attempt = probed.and_then(|()| {
            if !checked {
                for warning in preflight(&config, options.reset_state)?.into_result()?.warnings {
                    PreflightWarning { warning: &warning }.emit(&metrics);
                }
                checked = true;
            }
            Processor::new(&config, metrics.clone(), options.ready.clone())
        });
        let result = match attempt {
            Ok(mut p) => {
                outage.ended();
                let result = drive(&mut p, &runtime, &shutdown, &mut outage, &watchdog);
                options.ready.set(false);
                result
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => break,
            Err(e) if is_transient(&e) => {
                outage.failed(&e)?;
                outage.back_off(&shutdown);
            }
            Err(e) => return Err(e),
        }
    }
    ProcessingStopped.emit(&metrics);
    Ok(())
}

/// Batches until `shutdown` (Ok) or an error; notices an outage the
/// consumer reports while no batch fails (a caught-up processor) and its end.
fn drive(p: &mut Processor, runtime: &RuntimeConfig, shutdown: &AtomicBool, outage: &mut Outage, watchdog: &Watchdog) -> Result<(), KafkaError> {
    let mut probed = Instant::now();
    while !shutdown.load(Ordering::SeqCst) {
        watchdog.beat();
        p.follow_entitlements()?;
        let batch = p.fill(runtime.batch_size, runtime.batch_linger, shutdown)?;
        p.process_batch(batch)?;
        if let Some(error) = p.take_broker_error() {
            outage.failed(&error)?;
        } else if outage.active() && probed.elapsed() >= PROBE_EVERY {
            probed = Instant::now();
            match p.probe() {
                Ok(()) => outage.ended(),
                Err(e) => outage.failed(&e)?,
            }
        }
    }
    Ok(())
}
