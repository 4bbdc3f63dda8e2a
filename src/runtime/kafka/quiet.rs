//! librdkafka's own log lines and global errors, rate-limited: in a broker
//! outage every client reports every failed connection, which would be
//! hundreds of lines a minute. At most one line per kind every few seconds
//! (with the count suppressed), at most `warn` (bursar's own events say
//! whether the run is in trouble).

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError as RdKafkaError;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientContext;

use crate::telemetry::RateLimiter;

fn limiter() -> &'static RateLimiter {
    static LIMITER: OnceLock<RateLimiter> = OnceLock::new();
    LIMITER.get_or_init(RateLimiter::default)
}

/// A librdkafka log line: debug ones as debug, the rest as warn or info, rate-limited per facility.
pub(crate) fn client_log(level: RDKafkaLogLevel, facility: &str, message: &str) {
    if matches!(level, RDKafkaLogLevel::Debug) {
        tracing::debug!(target: "librdkafka", facility, "{message}");
        return;
    }
    let Some(suppressed) = limiter().check(&format!("librdkafka.{facility}")) else { return };
    match level {
        RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => tracing::info!(target: "librdkafka", facility, suppressed, "{message}"),
        _ => tracing::warn!(target: "librdkafka", facility, suppressed, "{message}"),
    }
}

/// The last time a client's credentials were refused (SASL or TLS), and the
/// client's words for it (librdkafka's; they never hold the password).
static REFUSED: Mutex<Option<(Instant, String)>> = Mutex::new(None);

/// The refusal of this process's credentials a client reported within `within`, if any.
pub(crate) fn recent_refusal(within: Duration) -> Option<String> {
    let slot = REFUSED.lock().unwrap_or_else(|e| e.into_inner());
    slot.as_ref().filter(|(at, _)| at.elapsed() <= within).map(|(_, reason)| reason.clone())
}

/// A librdkafka global error (the client retries on its own), rate-limited per code.
pub(crate) fn client_error(error: &RdKafkaError, reason: &str) {
    if matches!(error.rdkafka_error_code(), Some(RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SaslAuthenticationFailed | RDKafkaErrorCode::SSL)) {
        *REFUSED.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), reason.to_string()));
    }
    let kind = error.rdkafka_error_code().map_or_else(|| "client".to_string(), |c| format!("{c:?}"));
    if let Some(suppressed) = limiter().check(&format!("librdkafka.error.{kind}")) {
        tracing::warn!(target: "librdkafka", error = %error, reason, suppressed, "Kafka client error (retried by the client).");
    }
}

/// The context of clients that need nothing else (readers, admin, probes).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Quiet;

impl ClientContext for Quiet {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        client_log(level, fac, log_message);
    }

    fn error(&self, error: RdKafkaError, reason: &str) {
        client_error(&error, reason);
    }
}

impl ConsumerContext for Quiet {}

/// Drops a client that only read (a probe, the pre-flight check's admin
/// client and offsets reader) on a thread of its own: closing a librdkafka
/// client waits for its broker threads (about 100 ms), time the caller need
/// not spend. Never for a client that produced or committed: their close is
/// part of what they guarantee.
pub(crate) fn close_in_background<T: Send + 'static>(client: T) {
    // When no thread can be made, the closure, and the client with it, is dropped here.
    if std::thread::Builder::new().name("bursar-close".into()).spawn(move || drop(client)).is_err() {
        tracing::debug!("No thread to close a client on: closed in line.");
    }
}
