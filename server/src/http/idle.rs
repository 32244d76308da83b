//! Closing idle connections. hyper times out request headers only once their first byte
//! has arrived, so a client that connects and sends nothing, or a kept-alive connection
//! that goes quiet, would hold its socket for ever. This wraps the socket: while no
//! request is being handled or streamed on it, a read that has waited longer than the
//! idle limit since the last activity fails, and hyper closes the connection.

use axum::body::{Body, Bytes, HttpBody};
use axum::response::Response;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// What one connection is doing: requests under way and the last sign of life.
#[derive(Debug)]
pub struct Activity {
    active: AtomicUsize,
    last: Mutex<Instant>,
}

impl Activity {
    /// A connection just accepted.
    pub fn new() -> Arc<Self> {
        Arc::new(Activity {
            active: AtomicUsize::new(0),
            last: Mutex::new(Instant::now()),
        })
    }

    fn touch(&self) {
        if let Ok(mut last) = self.last.lock() {
            *last = Instant::now();
        }
    }

    fn last(&self) -> Instant {
        self.last
            .lock()
            .map_or_else(|_| Instant::now(), |last| *last)
    }

    /// Marks a request as under way from the moment it arrives.
    pub fn begin(self: &Arc<Self>) -> Busy {
        Busy::new(self.clone())
    }
}

impl Busy {
    /// Keeps the request counted until `response`'s body is finished or dropped.
    pub fn until_sent(self, response: Response) -> Response {
        response.map(|body| {
            Body::new(Tracked {
                inner: body,
                _busy: self,
            })
        })
    }
}

/// A request under way on the connection; the connection counts as idle again (from now)
/// when the last one is dropped.
#[derive(Debug)]
pub struct Busy(Arc<Activity>);

impl Busy {
    fn new(activity: Arc<Activity>) -> Self {
        activity.active.fetch_add(1, Ordering::SeqCst);
        activity.touch();
        Busy(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A response body that keeps its request counted until it is finished.
struct Tracked {
    inner: Body,
    _busy: Busy,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// A socket whose reads fail once it has been idle for longer than `limit`.
pub struct IdleIo<S> {
    inner: S,
    activity: Arc<Activity>,
    limit: Duration,
    sleep: Pin<Box<Sleep>>,
}

impl<S> IdleIo<S> {
    /// Wraps `inner`, sharing `activity` with the connection's service.
    pub fn new(inner: S, activity: Arc<Activity>, limit: Duration) -> Self {
        let deadline = activity.last() + limit;
        IdleIo {
            inner,
            activity,
            limit,
            sleep: Box::pin(tokio::time::sleep_until(deadline)),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for IdleIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if buf.filled().len() > before {
                    self.activity.touch();
                }
                Poll::Ready(result)
            }
            Poll::Pending => {
                if self.activity.active.load(Ordering::SeqCst) > 0 {
                    return Poll::Pending;
                }
                let deadline = self.activity.last() + self.limit;
                if self.sleep.deadline() != deadline {
                    self.sleep.as_mut().reset(deadline);
                }
                match self.sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "connection idle for longer than the header time-out",
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for IdleIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = result {
            if n > 0 {
                self.activity.touch();
            }
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = result {
            if n > 0 {
                self.activity.touch();
            }
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
