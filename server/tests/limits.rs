//! The HTTP server's own limits, over real sockets (loopback): slow and idle clients are
//! cut off after the header time-out, open connections are capped, bodies that are too
//! large (413) or too slow (408) are refused before any handler, requests beyond the
//! in-flight limit get 503 with `Retry-After`, and a stop lets a request in flight finish.

mod support;

use server::http::limits::{limited, HttpLimits};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use support::Console;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn small_limits() -> HttpLimits {
    HttpLimits {
        header_timeout: Duration::from_secs(2),
        body_timeout: Duration::from_secs(2),
        max_body_bytes: 64 * 1024,
        max_connections: 64,
        max_in_flight: 8,
        shutdown: Duration::from_secs(10),
    }
}

/// The console's router behind `limits` on a loopback port; the sender stops it.
async fn serve(
    console: &Console,
    limits: HttpLimits,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = limited(
        server::http::router(console.state.clone()),
        &console.state,
        &limits,
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        server::http::listener::serve(listener, app, &limits, async {
            stopped.await.ok();
        })
        .await;
    });
    (addr, stop, server)
}

/// Reads until the server closes the connection (or `bound` passes); what it sent.
async fn read_to_close(stream: &mut TcpStream, bound: Duration) -> Option<String> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = Instant::now() + bound;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&received).into()),
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Err(_) => return None,
        }
    }
}

/// Sends a whole request on a new connection and reads the answer.
async fn exchange(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    read_to_close(&mut stream, Duration::from_secs(30))
        .await
        .expect("an answer within 30 s")
}

const HEALTH: &str =
    "GET /api/v1/monitoring/health HTTP/1.1\r\nHost: console.test\r\nConnection: close\r\n\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_idle_and_greedy_clients_are_cut_off() {
    let console = Console::start(false).await;
    let (addr, stop, server) = serve(&console, small_limits()).await;

    // Slowloris: 40 clients trickle header bytes and never finish; an idle client sends
    // nothing; a kept-alive client goes quiet after its first answer.
    let mut slow = Vec::new();
    for _ in 0..40 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /api/v1/monitoring/health HTTP/1.1\r\nHost: console.test\r\n")
            .await
            .unwrap();
        slow.push(stream);
    }
    let trickle = tokio::spawn(async move {
        let started = Instant::now();
        let mut open = slow.len();
        while open > 0 && started.elapsed() < Duration::from_secs(20) {
            open = 0;
            for stream in &mut slow {
                if stream.write_all(b"X-Slow: 1\r\n").await.is_ok() {
                    open += 1;
                }
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        (open, started.elapsed())
    });
    let mut idle = TcpStream::connect(addr).await.unwrap();
    let mut kept = TcpStream::connect(addr).await.unwrap();
    kept.write_all(b"GET /api/v1/monitoring/health HTTP/1.1\r\nHost: console.test\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 1024];
    let n = kept.read(&mut first).await.unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));

    // Meanwhile everyone else is served.
    let answer = exchange(addr, HEALTH).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let start = Instant::now();
    let idle_closed = read_to_close(&mut idle, Duration::from_secs(10)).await;
    let idle_after = start.elapsed();
    let kept_closed = read_to_close(&mut kept, Duration::from_secs(10)).await;
    let kept_after = start.elapsed();
    let (still_open, trickled) = trickle.await.unwrap();
    assert!(idle_closed.is_some(), "an idle connection is closed");
    assert!(
        kept_closed.is_some(),
        "a quiet kept-alive connection is closed"
    );
    assert_eq!(still_open, 0, "every trickling client was cut off");
    assert!(
        trickled < Duration::from_secs(10),
        "cut off after {trickled:?}"
    );
    println!(
        "LIMITS: idle closed after {idle_after:?}, kept-alive after {kept_after:?}, 40 trickling clients within {trickled:?} (header time-out 2 s)"
    );
    stop.send(()).unwrap();
    server.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_too_large_or_too_slow_are_refused_before_any_handler() {
    let console = Console::start(false).await;
    let (addr, stop, server) = serve(&console, small_limits()).await;

    // Declared too large: refused at once, without reading it.
    let answer = exchange(
        addr,
        "POST /api/fn/login HTTP/1.1\r\nHost: console.test\r\nOrigin: http://console.test\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000000\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large") && answer.contains("MS5_HTTP_MAX_BODY_KIB"));
    assert!(
        answer.contains("x-content-type-options: nosniff"),
        "{answer}"
    );

    // Too large without saying so (chunked): refused once the limit is crossed.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"POST /api/v1/monitoring/refresh HTTP/1.1\r\nHost: console.test\r\n\
              Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 32 * 1024, "a".repeat(32 * 1024));
    for _ in 0..3 {
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let answer = read_to_close(&mut stream, Duration::from_secs(10))
        .await
        .expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // Too slow: half a body, then nothing.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"POST /api/fn/login HTTP/1.1\r\nHost: console.test\r\nOrigin: http://console.test\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nusername=a",
        )
        .await
        .unwrap();
    let start = Instant::now();
    let answer = read_to_close(&mut stream, Duration::from_secs(10))
        .await
        .expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(start.elapsed() < Duration::from_secs(5));

    // Nothing of those reached the sign-in: no throttle or audit row.
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM console.audit_log")
        .fetch_one(&console.pool())
        .await
        .unwrap();
    assert_eq!(audited, 0);
    stop.send(()).unwrap();
    server.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_beyond_the_in_flight_limit_are_told_to_retry() {
    let console = Console::start(false).await;
    let limits = HttpLimits {
        max_in_flight: 1,
        body_timeout: Duration::from_secs(5),
        ..small_limits()
    };
    let (addr, stop, server) = serve(&console, limits).await;
    // One request in flight: its body is still arriving.
    let mut holder = TcpStream::connect(addr).await.unwrap();
    holder
        .write_all(
            b"POST /api/fn/login HTTP/1.1\r\nHost: console.test\r\nOrigin: http://console.test\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 30\r\nConnection: close\r\n\r\nusername=ada",
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let answer = exchange(addr, HEALTH).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1"),
        "{answer}"
    );
    assert!(answer.contains("MS5_HTTP_MAX_IN_FLIGHT"), "{answer}");

    // A stop now lets the request in flight finish, then the server returns.
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    holder.write_all(b"&password=whatever").await.unwrap();
    let answer = read_to_close(&mut holder, Duration::from_secs(10))
        .await
        .expect("the request in flight is answered");
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server returns once its last request is answered")
        .unwrap();
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no new connection after the stop"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_limit_wait_for_a_free_slot() {
    let console = Console::start(false).await;
    let limits = HttpLimits {
        max_connections: 2,
        ..small_limits()
    };
    let (addr, stop, server) = serve(&console, limits).await;
    // Two silent clients take both slots until the idle limit frees them.
    let _silent = [
        TcpStream::connect(addr).await.unwrap(),
        TcpStream::connect(addr).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let start = Instant::now();
    let answer = exchange(addr, HEALTH).await;
    let waited = start.elapsed();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        waited > Duration::from_millis(1500) && waited < Duration::from_secs(5),
        "served once a slot was free, after {waited:?}"
    );
    stop.send(()).unwrap();
    server.await.unwrap();
}
