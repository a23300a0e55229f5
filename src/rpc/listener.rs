//! The listener: the server's own accept loop, which serves each connection with hyper and a jsonrpsee
//! `TowerService` built for it (jsonrpsee's documented way to keep one's own loop), holds it to the time bounds that
//! need no token to reach, and shuts down within a bound of its own.
//!
//! - **Connection cap.** A slot is taken before `accept`: at the cap the server stops accepting (new clients wait in
//!   the kernel's backlog) instead of failing on a full file table. An `accept` error backs off (up to a second) and
//!   is logged at most every ten seconds, so a full file table never turns into a busy loop or a flood of log lines.
//! - **Header and idle bounds.** Each connection is watched: a request head must arrive whole within the header
//!   timeout of its first byte (a new connection's first head, of the connection's opening), and a connection with
//!   no call running and no byte moving for the idle timeout is closed. While a call runs, the body and call
//!   timeouts of the HTTP front bound it instead. hyper's own header timeout cannot serve here: it starts when hyper
//!   begins waiting for a head, so on a keep-alive connection it would cut the idle wait to the header timeout.
//! - **Shutdown.** Stopping closes the listener, asks every connection to finish what it is doing, waits up to the
//!   shutdown timeout, closes whatever is still open, and only then closes the store.

use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use jsonrpsee::core::BoxError;
use jsonrpsee::server::{HttpBody, StopHandle};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::config::Bounds;
use crate::metrics::Metrics;

/// On every request: the address of the client whose connection it came on (the key of its anonymous rate limit).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub IpAddr);

/// Accepts and serves connections until `stop`, then shuts down within `bounds.shutdown_timeout`.
/// `connection` makes the service of each new connection.
pub async fn serve<M, S>(listener: TcpListener, connection: M, bounds: Bounds, metrics: Arc<Metrics>, stop: StopHandle)
where
    M: Fn() -> S,
    S: tower::Service<Request<Incoming>, Response = Response<HttpBody>, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let slots = Arc::new(Semaphore::new(bounds.max_connections.max(1)));
    let bounds = Arc::new(bounds);
    let mut connections = JoinSet::new();
    let mut refusals = AcceptErrors::default();
    let stopped = stop.clone().shutdown();
    tokio::pin!(stopped);
    loop {
        let slot = tokio::select! {
            _ = &mut stopped => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let accepted = tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                refusals.clear();
                let _ = stream.set_nodelay(true);
                let service = connection();
                let (bounds, stop, open) = (bounds.clone(), stop.clone(), metrics.connection());
                connections.spawn(async move {
                    serve_connection(stream, Peer(peer.ip()), service, &bounds, stop).await;
                    drop((open, slot));
                });
            }
            // A connection that failed between the kernel's accept and ours: nothing to wait for.
            Err(e) if matches!(e.kind(), io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset) => {}
            Err(e) => {
                drop(slot);
                let pause = refusals.note(&e);
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tokio::time::sleep(pause) => {}
                }
            }
        }
    }
    drop(listener);
    let open = connections.len();
    let finished =
        tokio::time::timeout(bounds.shutdown_timeout, async { while connections.join_next().await.is_some() {} }).await;
    if finished.is_err() {
        tracing::warn!(
            open,
            still_open = connections.len(),
            timeout = ?bounds.shutdown_timeout,
            "shutdown timeout reached; closing the connections still open"
        );
        connections.shutdown().await;
    }
}

/// The back-off and the log of failing `accept` calls (a full file table fails every one until a file is closed).
#[derive(Default)]
struct AcceptErrors {
    failed: u32,
    last_logged: Option<Instant>,
    unlogged: u64,
}

impl AcceptErrors {
    /// Notes a failure; how long to wait before accepting again.
    fn note(&mut self, e: &io::Error) -> Duration {
        self.failed = self.failed.saturating_add(1);
        self.unlogged += 1;
        if self.last_logged.is_none_or(|at| at.elapsed() >= Duration::from_secs(10)) {
            tracing::warn!(error = %e, failures = self.unlogged, "accept failed; backing off");
            self.last_logged = Some(Instant::now());
            self.unlogged = 0;
        }
        Duration::from_millis(5u64 << self.failed.min(8)).min(Duration::from_secs(1))
    }

    fn clear(&mut self) {
        self.failed = 0;
    }
}

/// Serves one connection under the header and idle bounds, finishing gracefully when the server stops.
async fn serve_connection<S>(stream: TcpStream, peer: Peer, service: S, bounds: &Bounds, stop: StopHandle)
where
    S: tower::Service<Request<Incoming>, Response = Response<HttpBody>, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let activity = Arc::new(Activity::new(bounds));
    let io = TokioIo::new(Watched { io: stream, activity: activity.clone() });
    let service = TowerToHyperService::new(Tracked { inner: service, activity: activity.clone(), peer });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().header_read_timeout(None);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let stopped = stop.shutdown();
    tokio::pin!(stopped);
    let mut stopping = false;
    loop {
        let wake = match activity.expiry() {
            Some((at, why)) if at <= activity.now() => {
                tracing::debug!(why, "closing a connection past its bound");
                return;
            }
            Some((at, _)) => at,
            // A call is running: look again after an idle period (its own timeouts bound it meanwhile).
            None => activity.now() + activity.idle,
        };
        activity.watch_until.store(wake, Ordering::Release);
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = &mut stopped, if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = tokio::time::sleep_until((activity.opened + Duration::from_millis(wake)).into()) => {}
            _ = activity.sooner.notified() => {}
        }
    }
}

/// What one connection is doing, shared by its I/O, its service and its watch. Times are milliseconds since the
/// connection opened.
///
/// The watch sleeps until the bound it computed last. Most changes only move that bound later (a call ending under
/// the default bounds, bytes arriving), and the watch finds that out when it wakes; a change that brings the bound
/// sooner (a new head's first byte, or a call ending when the idle bound is the shorter) wakes it at once.
struct Activity {
    opened: Instant,
    header: u64,
    idle: u64,
    /// When a byte last arrived, or a call ended. Writes do not count: a client that stops reading its answer is
    /// idle, and is closed like one.
    last_read: AtomicU64,
    /// One more than when the first byte of the awaited request head arrived; 0 when no head is being read.
    head_since: AtomicU64,
    /// Requests inside the service.
    busy: AtomicUsize,
    /// When the watch is to wake next.
    watch_until: AtomicU64,
    /// Wakes the watch when its bound comes sooner than it is sleeping for.
    sooner: tokio::sync::Notify,
}

impl Activity {
    fn new(bounds: &Bounds) -> Activity {
        // A new connection awaits its first head from the start: a client that connects and sends nothing is held
        // to the header timeout, not to the idle one.
        Activity {
            opened: Instant::now(),
            header: bounds.header_timeout.as_millis() as u64,
            idle: bounds.idle_timeout.as_millis() as u64,
            last_read: AtomicU64::new(0),
            head_since: AtomicU64::new(1),
            busy: 0.into(),
            watch_until: AtomicU64::new(u64::MAX),
            sooner: tokio::sync::Notify::new(),
        }
    }

    fn now(&self) -> u64 {
        self.opened.elapsed().as_millis() as u64
    }

    /// Wakes the watch if `bound` comes before the time it sleeps until.
    fn bound_at(&self, bound: u64) {
        if bound < self.watch_until.load(Ordering::Acquire) {
            self.sooner.notify_one();
        }
    }

    fn read_some(&self) {
        let now = self.now();
        self.last_read.store(now, Ordering::Relaxed);
        if self.busy.load(Ordering::Acquire) == 0
            && self.head_since.compare_exchange(0, now + 1, Ordering::AcqRel, Ordering::Relaxed).is_ok()
        {
            self.bound_at(now + self.header);
        }
    }

    fn begin(&self) {
        self.busy.fetch_add(1, Ordering::AcqRel);
        self.head_since.store(0, Ordering::Release);
    }

    fn end(&self) {
        let now = self.now();
        self.last_read.store(now, Ordering::Relaxed);
        if self.busy.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.bound_at(now + self.idle);
        }
    }

    /// When (in milliseconds since the opening) the connection is to be closed unless something happens first, and
    /// which bound that is; `None` while a call runs.
    fn expiry(&self) -> Option<(u64, &'static str)> {
        if self.busy.load(Ordering::Acquire) > 0 {
            return None;
        }
        match self.head_since.load(Ordering::Acquire) {
            0 => Some((self.last_read.load(Ordering::Relaxed) + self.idle, "idle")),
            since => Some((since - 1 + self.header, "header")),
        }
    }
}

/// The connection's socket, noting every byte that arrives.
struct Watched {
    io: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read_some();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// The connection's service, counting the requests inside it and naming their client.
#[derive(Clone)]
struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
    peer: Peer,
}

/// Marks a request done when dropped, also when its future is dropped unfinished.
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.end();
    }
}

impl<S> tower::Service<Request<Incoming>> for Tracked<S>
where
    S: tower::Service<Request<Incoming>, Response = Response<HttpBody>, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = Response<HttpBody>;
    type Error = BoxError;
    type Future = super::http::BoxFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<Incoming>) -> Self::Future {
        req.extensions_mut().insert(self.peer);
        self.activity.begin();
        let busy = Busy(self.activity.clone());
        let answer = self.inner.call(req);
        Box::pin(async move {
            let response = answer.await;
            drop(busy);
            response
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activity() -> Activity {
        let bounds = Bounds {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            ..Bounds::default()
        };
        Activity::new(&bounds)
    }

    #[test]
    fn a_new_connection_awaits_its_head_under_the_header_bound() {
        let a = activity();
        let (at, why) = a.expiry().expect("a bound");
        assert_eq!((at, why), (10_000, "header"));
    }

    #[test]
    fn a_running_call_has_no_connection_bound_and_then_idles() {
        let a = activity();
        a.begin();
        assert!(a.expiry().is_none());
        a.read_some();
        assert_eq!(a.head_since.load(Ordering::Relaxed), 0, "bytes read during a call start no head");
        a.end();
        let (at, why) = a.expiry().expect("a bound");
        assert_eq!(why, "idle");
        assert!(at >= 60_000);
    }

    #[test]
    fn a_new_head_wakes_a_watch_asleep_on_the_idle_bound() {
        let a = activity();
        a.begin();
        a.end();
        a.watch_until.store(a.expiry().expect("idle").0, Ordering::Release);
        a.read_some();
        assert_eq!(a.expiry().expect("a bound").1, "header", "the next head's first byte");
        let woken = a.sooner.notified();
        tokio::pin!(woken);
        assert!(woken.as_mut().enable(), "the head's bound is sooner than the idle one: the watch is woken");
        a.read_some();
        let again = a.sooner.notified();
        tokio::pin!(again);
        assert!(!again.as_mut().enable(), "later bytes of the same head move nothing");
    }

    #[test]
    fn accept_errors_back_off_to_a_second() {
        let mut errors = AcceptErrors::default();
        let e = io::Error::other("too many open files");
        let pauses: Vec<Duration> = (0..12).map(|_| errors.note(&e)).collect();
        assert!(pauses.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(pauses.last(), Some(&Duration::from_secs(1)));
        errors.clear();
        assert!(errors.note(&e) < Duration::from_millis(20));
    }
}
