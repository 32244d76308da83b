//! SIGTERM to the real binary: a request in flight is answered, the background tasks stop
//! at a safe point, and the process exits 0 within a bound.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tsdb::testing::DevDb;

fn health_ok(addr: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return false;
    };
    let request =
        "GET /api/v1/monitoring/health HTTP/1.1\r\nHost: console.test\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok();
    answer.starts_with("HTTP/1.1 200")
}

#[test]
fn sigterm_finishes_requests_in_flight_and_exits_cleanly() {
    let devdb = DevDb::start();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let log = std::env::temp_dir().join(format!("ms5-shutdown-{}.log", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_ms5-console"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", devdb.url())
        .env("MS5_ENV", "development")
        .env("MS5_DEMO_DATA", "false")
        .env("MS5_LISTEN_ADDR", &addr)
        .env("MS5_HTTP_SHUTDOWN_SECONDS", "10")
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !health_ok(&addr) {
        assert!(Instant::now() < deadline, "the console did not come up");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the console exited early"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // A sign-in whose body is still arriving when the signal comes.
    let mut in_flight = TcpStream::connect(&addr).unwrap();
    in_flight
        .write_all(
            b"POST /api/fn/login HTTP/1.1\r\nHost: console.test\r\nOrigin: http://console.test\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 30\r\nConnection: close\r\n\r\nusername=ada",
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(300));
    in_flight.write_all(b"&password=whatever").unwrap();
    let mut answer = String::new();
    in_flight
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    in_flight.read_to_string(&mut answer).ok();
    assert!(
        answer.starts_with("HTTP/1.1 401"),
        "the request in flight is answered: {answer:?}"
    );

    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(15),
            "still running 15 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = signalled.elapsed();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    std::fs::remove_file(&log).ok();
    assert_eq!(exit.code(), Some(0), "{text}");
    assert!(text.contains("SIGTERM received"), "{text}");
    assert!(text.contains("stopped"), "{text}");
    assert!(
        !text.contains("aborting them"),
        "every task stopped by itself: {text}"
    );
    assert!(!text.contains("panicked"), "{text}");
    println!("SHUTDOWN: exit 0 {took:?} after SIGTERM (request in flight answered)");
}
