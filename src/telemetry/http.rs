//! `/metrics` (Prometheus text), `/healthz` (liveness) and `/readyz`
//! (readiness) over HTTP (axum). The address is bound before anything else
//! starts, so one that cannot be bound stops the program with a message.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

use super::Metrics;

/// Whether the processor is ready (docs/operations.md "Metrics and alerts"):
/// the entitlements table loaded, the consumer assigned its partitions and
/// their state restored from the changelog. Not ready while it rebuilds its
/// clients in a broker outage.
#[derive(Debug, Default)]
pub struct Readiness(AtomicBool);

impl Readiness {
    pub fn set(&self, ready: bool) {
        self.0.store(ready, Ordering::SeqCst);
    }

    pub fn get(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Clone)]
struct Shared {
    metrics: Arc<Metrics>,
    ready: Arc<Readiness>,
}

async fn metrics(State(s): State<Shared>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], s.metrics.render())
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(s): State<Shared>) -> (StatusCode, &'static str) {
    match s.ready.get() {
        true => (StatusCode::OK, "ready\n"),
        false => (StatusCode::SERVICE_UNAVAILABLE, "not ready\n"),
    }
}

/// Why the metrics address could not be served.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot listen on metrics_addr {addr} ({source}): another process may hold it; set `metrics_addr` to a free address, e.g. \"127.0.0.1:9465\"")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// Binds `addr` (call inside a Tokio runtime).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, HttpError> {
    TcpListener::bind(addr).await.map_err(|source| HttpError::Bind { addr, source })
}

/// Serves `/metrics`, `/healthz` and `/readyz` on `listener` until the process ends.
pub async fn serve_on(listener: TcpListener, metrics: Arc<Metrics>, ready: Arc<Readiness>) -> std::io::Result<()> {
    let app = Router::new()
        .route("/metrics", get(self::metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(Shared { metrics, ready });
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "Serving /metrics, /healthz and /readyz.");
    }
    axum::serve(listener, app).await
}
