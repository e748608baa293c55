//! Serving a service's router over plain HTTP or HTTPS (rustls), with graceful shutdown
//! and the peer address available to handlers ([`crate::web::client_ip`]).
//!
//! HTTPS is on when both `EGATE_TLS_CERT` (PEM certificate chain, leaf first) and
//! `EGATE_TLS_KEY` (PEM private key: PKCS#8, PKCS#1 or SEC1) are set; the key file must
//! be private to the service's user ([`crate::secret_file`]). TLS 1.2 and 1.3, ALPN
//! `http/1.1` only (the only protocol served). Handshakes run off the accept loop, each
//! bounded by [`HANDSHAKE_TIMEOUT`], so a client that stalls its handshake holds no one
//! else up.

use axum::Router;
use axum::serve::ListenerExt as _;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Longest a TLS handshake may take before the connection is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes in progress at once; further connections wait in the kernel's backlog.
const MAX_HANDSHAKES: usize = 256;

/// The certificate and key files of an HTTPS listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain, leaf first (`EGATE_TLS_CERT`).
    pub cert: PathBuf,
    /// PEM private key, mode 0600 (`EGATE_TLS_KEY`).
    pub key: PathBuf,
}

/// TLS configuration errors (the operator reads them at start).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Only one of the two variables is set.
    #[error("set both EGATE_TLS_CERT and EGATE_TLS_KEY (PEM files) for HTTPS, or neither")]
    Half,
    /// A file could not be read, or the key file is too open.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The PEM does not hold what it must.
    #[error("{path}: {why}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// rustls refused the pair.
    #[error("the TLS certificate and key are not usable together: {0}")]
    Rustls(#[from] rustls::Error),
}

impl TlsFiles {
    /// From `EGATE_TLS_CERT` and `EGATE_TLS_KEY`: `None` when neither is set.
    pub fn from_env() -> Result<Option<TlsFiles>, TlsError> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        match (var("EGATE_TLS_CERT"), var("EGATE_TLS_KEY")) {
            (None, None) => Ok(None),
            (Some(cert), Some(key)) => Ok(Some(TlsFiles {
                cert: cert.into(),
                key: key.into(),
            })),
            _ => Err(TlsError::Half),
        }
    }

    /// Read both files into a rustls server configuration (blocking file reads).
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| TlsError::Io { path, source }
        };
        let pem = |path: &Path, why: String| TlsError::Pem {
            path: path.to_owned(),
            why,
        };
        let cert_pem = std::fs::read(&self.cert).map_err(io(&self.cert))?;
        let certs = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem(&self.cert, format!("not a PEM certificate chain: {e}")))?;
        if certs.is_empty() {
            return Err(pem(&self.cert, "holds no CERTIFICATE block".into()));
        }
        let key_pem = crate::secret_file::read_private(&self.key).map_err(io(&self.key))?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem)
            .map_err(|e| pem(&self.key, format!("not a PEM private key: {e}")))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(certs, key)?;
        // Only what the server speaks (axum is built with HTTP/1 only): a browser that
        // negotiated `h2` here would send HTTP/2 frames to an HTTP/1 parser and get no
        // answer at all.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// A listener whose connections have completed a TLS handshake.
struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(tokio_rustls::server::TlsStream<TcpStream>, SocketAddr)>,
    acceptor_task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor_task.abort();
    }
}

impl TlsListener {
    fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let acceptor = TlsAcceptor::from(config);
        let (tx, ready) = mpsc::channel(MAX_HANDSHAKES);
        let slots = Arc::new(tokio::sync::Semaphore::new(MAX_HANDSHAKES));
        let acceptor_task = tokio::spawn(async move {
            loop {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    return;
                };
                let (stream, peer) = match tcp.accept().await {
                    Ok(c) => c,
                    Err(e) => {
                        // Out of file descriptors and the like: back off, as axum does.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let _permit = permit;
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(Self {
            local,
            ready,
            acceptor_task,
        })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(c) => c,
            // The accept task only stops when the listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// A request extension every handler served by [`serve`] can read: it turns `true` when
/// the listener starts shutting down, so that a request that waits on purpose (the
/// revocation feed's long poll, docs/trust.md) answers at once instead of holding the
/// graceful shutdown up.
#[derive(Debug, Clone)]
pub struct Draining(pub tokio::sync::watch::Receiver<bool>);

impl Draining {
    /// Completes once shutdown has started (at once if it has).
    pub async fn started(&mut self) {
        let _ = self.0.wait_for(|d| *d).await;
    }
}

/// Serve `app` on `listener` until `shutdown` completes (in-flight requests finish;
/// handlers see [`Draining`] turn): HTTPS with `tls`, else plain HTTP. Handlers see the
/// peer address as `ConnectInfo<SocketAddr>` either way.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (draining, drained) = tokio::sync::watch::channel(false);
    let trigger = tokio::spawn(async move {
        shutdown.await;
        let _ = draining.send(true);
    });
    let app = app.layer(axum::Extension(Draining(drained.clone())));
    let shutdown = async move {
        Draining(drained).started().await;
    };
    let make = app.into_make_service_with_connect_info::<SocketAddr>();
    let result = serve_until(listener, make, tls, shutdown).await;
    trigger.abort();
    result
}

async fn serve_until(
    listener: TcpListener,
    make: axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, SocketAddr>,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    match tls {
        None => {
            axum::serve(listener, make)
                .with_graceful_shutdown(shutdown)
                .await
        }
        Some(config) => {
            // `tap_io` only to get axum's `ConnectInfo` for any listener with a
            // `SocketAddr` address.
            let listener = TlsListener::new(listener, config)?.tap_io(|_| {});
            axum::serve(listener, make)
                .with_graceful_shutdown(shutdown)
                .await
        }
    }
}

/// Serve `public` on one listener and, when given, `internal` on another (the
/// `/v1/internal/*` endpoints, kept off the public network: docs/trust.md), both until
/// `shutdown` completes. Returns when both have stopped; the first error wins.
pub async fn serve_public_and_internal(
    public: (TcpListener, Router),
    internal: Option<(TcpListener, Router)>,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let Some((i_listener, i_app)) = internal else {
        return serve(public.0, public.1, tls, shutdown).await;
    };
    let (tx, rx) = tokio::sync::watch::channel(false);
    let stopped = move |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let trigger = tokio::spawn(async move {
        shutdown.await;
        let _ = tx.send(true);
    });
    let (a, b) = tokio::join!(
        serve(public.0, public.1, tls.clone(), stopped(rx.clone())),
        serve(i_listener, i_app, tls, stopped(rx)),
    );
    trigger.abort();
    a.and(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_a_configuration_is_refused_and_a_missing_key_named() {
        let dir = tempfile::tempdir().unwrap();
        let files = TlsFiles {
            cert: dir.path().join("cert.pem"),
            key: dir.path().join("key.pem"),
        };
        std::fs::write(&files.cert, "not pem").unwrap();
        let e = files.server_config().unwrap_err().to_string();
        assert!(e.contains("cert.pem"), "{e}");
    }
}
