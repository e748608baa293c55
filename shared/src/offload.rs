//! Blocking work run off the async runtime: SQLite calls, Ed25519 signing, QR rendering
//! and decoding, image codecs, argon2. Each runs on tokio's blocking pool, in the
//! caller's tracing span, so a slow call never stalls the tasks serving other requests.

/// A blocking task panicked or was cancelled (at shutdown).
#[derive(Debug, thiserror::Error)]
#[error("background task failed: {0}")]
pub struct TaskFailed(String);

/// Run `f` on tokio's blocking pool, keeping the caller's tracing span.
pub async fn blocking<T, F>(f: F) -> Result<T, TaskFailed>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(f))
        .await
        .map_err(|e| TaskFailed(e.to_string()))
}
