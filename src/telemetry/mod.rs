//! Observability: Prometheus metrics on `/metrics`, `/healthz`, logs, and
//! the observable events that log and count together (`events`).

mod events;
mod http;
mod logging;
mod metrics;
mod ratelimit;

pub use events::*;
pub use http::{bind, serve_on, HttpError, Readiness};
pub use logging::init_logging;
pub use metrics::{Metrics, LATENCY_BUCKETS};
pub use ratelimit::{Clock, RateLimiter, LOG_INTERVAL};
