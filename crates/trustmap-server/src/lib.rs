//! trustmap-server: the HTTP API (`trustmap serve`) over the same store the CLI uses, and
//! the client side of a remote scanner's push (`trustmap scan --push URL`).
//!
//! One [`Store`] behind an `Arc` serves every request; store calls are synchronous and run
//! on tokio's blocking pool (`spawn_blocking`), so a slow query never stalls the reactor.
//! The server keeps no state outside the store but the per-token rate buckets.
//!
//! Modules: `api` (the routes and their handlers: one table, [`api::ROUTES`], that the
//! router and the OpenAPI document's test share), `auth` (bearer tokens, roles, rate
//! limit), `push` (the push payload, the server's recording of it, the client),
//! `error` (JSON errors), `body` (bounded bodies, gzip), `config` (the server's own
//! configuration file: scheduled scans and alert webhooks), `worker` (the background
//! scheduler and alert delivery, claimed through the store so replicas share the work),
//! `alerts` (what a scan brings that is worth telling, routed by owner), `overview` (the
//! dashboard's tallies), `ui` (the web UI's embedded files and the security headers).

#![forbid(unsafe_code)]

pub mod alerts;
pub mod api;
pub mod auth;
mod body;
pub mod config;
pub mod error;
mod overview;
pub mod push;
pub mod ui;
pub mod worker;

pub use auth::RateLimit;
pub use error::ApiError;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use trustmap_store::Store;

/// Bounds of what a client may send.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A JSON request body (owners, waivers): bytes as sent.
    pub body: usize,
    /// A pushed scan as sent (compressed or not).
    pub push: usize,
    /// A pushed scan once inflated.
    pub push_inflated: usize,
    pub rate: RateLimit,
    /// Pushed scans inflated, read and recorded at once; the others wait their turn with
    /// only their compressed body in memory. Recording is one writer at a time anyway, and
    /// each push in progress holds its report in memory and a connection of the store's
    /// pool, which the readers need.
    pub pushes_at_once: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body: 64 << 10,
            push: 256 << 20,
            push_inflated: 1 << 30,
            rate: RateLimit::default(),
            pushes_at_once: 2,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub limits: Limits,
    buckets: Arc<auth::Buckets>,
    push_slots: Arc<tokio::sync::Semaphore>,
    pub(crate) pushes: Arc<push::Gauges>,
}

impl AppState {
    pub fn new(store: Arc<Store>, limits: Limits) -> AppState {
        AppState {
            store,
            limits,
            buckets: Arc::new(auth::Buckets::new(limits.rate)),
            push_slots: Arc::new(tokio::sync::Semaphore::new(limits.pushes_at_once.max(1))),
            pushes: Arc::new(push::Gauges::default()),
        }
    }
}

/// `trustmap serve`'s configuration.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// PEM certificate chain and private key: HTTPS. `None`: plain HTTP (behind a proxy
    /// that terminates TLS).
    pub tls: Option<(PathBuf, PathBuf)>,
    pub limits: Limits,
    /// How long in-flight requests may run after SIGTERM / Ctrl-C.
    pub grace: Duration,
    /// Scheduled scans and alerts (`--config`); the default runs neither.
    pub background: config::ServerConfig,
}

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("TLS: {0}")]
    Tls(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Serves the API on `config.listen` until SIGTERM or Ctrl-C, then stops accepting and
/// waits (at most `config.grace`) for in-flight requests to finish. `on_listening` is told
/// the bound address (with `:0`, the port the system chose) once the socket accepts.
pub fn serve(
    store: Store,
    config: ServeConfig,
    on_listening: impl FnOnce(SocketAddr) + Send + 'static,
) -> Result<(), ServeError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let grace = config.grace;
    // The last handle on the store is this one, dropped after the runtime: a PostgreSQL
    // connection closes by blocking on its own runtime, which panics on a tokio worker
    // (where an aborted background task would otherwise drop the store).
    let store = Arc::new(store);
    let shared = store.clone();
    let served = rt.block_on(async move {
        let store = shared;
        let background = worker::start(store.clone(), Arc::new(config.background.clone()));
        let state = AppState::new(store, config.limits);
        let app = api::router(state).into_make_service();
        let handle = axum_server::Handle::new();
        let watcher = handle.clone();
        tokio::spawn(async move {
            if let Some(addr) = watcher.listening().await {
                on_listening(addr);
            }
        });
        let stopper = handle.clone();
        let grace = config.grace;
        tokio::spawn(async move {
            shutdown_signal().await;
            eprintln!("trustmap serve: stopping; finishing requests in flight");
            stopper.graceful_shutdown(Some(grace));
        });
        match &config.tls {
            Some((cert, key)) => {
                let tls = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(tls_config(
                    cert, key,
                )?));
                axum_server::bind_rustls(config.listen, tls)
                    .handle(handle)
                    .serve(app)
                    .await?
            }
            None => {
                axum_server::bind(config.listen)
                    .handle(handle)
                    .serve(app)
                    .await?
            }
        }
        // A scheduled scan cut short is not recorded (its transaction never commits) and
        // its claim runs out; another replica, or this one restarted, runs it again.
        for task in background {
            task.abort();
        }
        Ok(())
    });
    // Blocking work still running (a scheduled scan, a delivery) gets the same grace.
    rt.shutdown_timeout(grace);
    drop(store);
    served
}

/// SIGTERM (systemd, Kubernetes) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// A rustls server configuration (ring provider; HTTP/1.1) from PEM files.
fn tls_config(cert: &PathBuf, key: &PathBuf) -> Result<rustls::ServerConfig, ServeError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| ServeError::Tls(format!("certificate {}: {e}", cert.display())))?;
    if certs.is_empty() {
        return Err(ServeError::Tls(format!(
            "certificate {}: no CERTIFICATE block",
            cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| ServeError::Tls(format!("private key {}: {e}", key.display())))?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ServeError::Tls(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| ServeError::Tls(e.to_string()))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(cfg)
}
