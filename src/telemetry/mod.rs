//! Observability: Prometheus metrics on `/metrics`, `/healthz`, and logs.

mod http;
mod logging;
mod metrics;

pub use http::serve;
pub use logging::init_logging;
pub use metrics::Metrics;
