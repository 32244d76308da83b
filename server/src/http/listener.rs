//! Accepting connections: at most `max_connections` open at once, each closed when its
//! request headers have not arrived within the header time-out or it has sat idle that
//! long (a client trickling bytes, or a silent or kept-alive socket, cannot hold a file
//! handle for long), and a graceful stop that lets requests in flight finish within a
//! bound.

use super::idle::{Activity, IdleIo};
use super::limits::HttpLimits;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// How long to pause after a failed `accept` (out of file handles, say) before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `app` on `listener` until `shutdown` resolves, then waits up to
/// `limits.shutdown` for the connections still open (their requests in flight).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &HttpLimits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.header_timeout)
        .keep_alive_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        // A free slot first: at the limit, new clients wait in the kernel's queue rather
        // than each costing a file handle here.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let activity = Activity::new();
        let io = IdleIo::new(stream, activity.clone(), limits.header_timeout);
        let app = app.clone();
        let service = tower::service_fn(
            move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                let app = app.clone();
                let busy = activity.begin();
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(peer));
                async move {
                    let response = app.oneshot(request).await?;
                    Ok::<_, Infallible>(busy.until_sent(response))
                }
            },
        );
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                // Clients hanging up and header time-outs end up here: not the server's fault.
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    let open = graceful.count();
    if open > 0 {
        tracing::info!(open, "waiting for connections to finish their requests");
    }
    if tokio::time::timeout(limits.shutdown, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            seconds = limits.shutdown.as_secs(),
            "requests still running after the shutdown bound; exiting anyway"
        );
    }
}
