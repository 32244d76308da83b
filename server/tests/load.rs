//! Load on the real binary (native tier, several connections): 50 clients for
//! `MS5_LOAD_SECONDS` (20 in `make test`; the 60 with `MS5_LOAD_SECONDS=60`) of
//! mixed reads — REST as a token, the overview page as a session, Prometheus — and a
//! few writes (a refresh request every 25th call). Every answer must succeed, and the
//! server's memory must stay flat: resident size after the warm-up against the end.
//! Figures are printed, never asserted as times (a debug build on a 2-core machine).

mod support;

use std::time::{Duration, Instant};
use tsdb::testing::native_tier;

const CLIENTS: usize = 50;

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Kills the console when the test ends, however it ends.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_clients_get_answers_and_memory_stays_flat() {
    let Some(tier) = native_tier() else { return };
    let database = tier.database("load").await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let console = Running(
        std::process::Command::new(env!("CARGO_BIN_EXE_ms5-console"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &database.url)
            .env("MS5_ENV", "development")
            .env("MS5_DEMO_DAYS", "10")
            .env("MS5_DEMO_EQUIPMENT", "2")
            .env("MS5_MONITOR_INTERVAL_SECONDS", "5")
            .env("MS5_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let pid = console.0.id();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let ready = client
            .get(format!("{base}/api/v1/monitoring/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the console did not become healthy"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // An admin made the way the CLI makes one, then signed in; a token from the tokens page.
    let pool = tsdb::testing::connect(&database.url).await;
    let hash = app::auth::password::hash("load test password").unwrap();
    tsdb::users::create(
        &pool,
        &tsdb::audit::Actor::System,
        None,
        tsdb::users::NewUser {
            username: "load",
            role: tsdb::types::Role::Admin,
            password_hash: &hash,
        },
    )
    .await
    .unwrap();
    let login = client
        .post(format!("{base}/api/fn/login"))
        .header("origin", &base)
        .form(&[("username", "load"), ("password", "load test password")])
        .send()
        .await
        .unwrap();
    assert!(login.status().is_success());
    let cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("ms5_session="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_string();
    let created: serde_json::Value = client
        .post(format!("{base}/api/fn/create-token"))
        .header("origin", &base)
        .header("cookie", &cookie)
        .form(&[("name", "load"), ("role", "admin"), ("days", "1")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["secret"].as_str().unwrap().to_string();

    // Load starts once the first catalog pass is published (before it, figures answer
    // 503 "snapshot pending" by design).
    loop {
        let ready = client
            .get(format!("{base}/api/v1/monitoring/metrics/hypertables"))
            .bearer_auth(&token)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            break;
        }
        assert!(Instant::now() < deadline, "no catalog snapshot");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let seconds: u64 = std::env::var("MS5_LOAD_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let warm_up = Duration::from_secs(3);
    let started = Instant::now();
    let end = started + warm_up + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for n in 0..CLIENTS {
        let (client, base, token, cookie) =
            (client.clone(), base.clone(), token.clone(), cookie.clone());
        tasks.push(tokio::spawn(async move {
            let mut timings = Vec::new();
            let mut errors = Vec::new();
            let mut i = n;
            while Instant::now() < end {
                i += 1;
                let request = match i % 25 {
                    0 => client
                        .post(format!("{base}/api/v1/monitoring/refresh"))
                        .bearer_auth(&token),
                    1..=8 => client
                        .get(format!("{base}/api/v1/monitoring/metrics/hypertables"))
                        .bearer_auth(&token),
                    9..=12 => client.get(format!("{base}/")).header("cookie", &cookie),
                    13..=16 => client.get(format!("{base}/metrics")).bearer_auth(&token),
                    17..=20 => client
                        .get(format!("{base}/api/v1/jobs"))
                        .bearer_auth(&token),
                    _ => client
                        .get(format!("{base}/api/v1/storage/trends?range=7d"))
                        .bearer_auth(&token),
                };
                let sent = Instant::now();
                match request.send().await {
                    Ok(response) if response.status().is_success() => {
                        let _ = response.bytes().await;
                        if sent >= started + warm_up {
                            timings.push(sent.elapsed());
                        }
                    }
                    Ok(response) => {
                        let what = format!("{} {}", response.status(), response.url().path());
                        let body = response.text().await.unwrap_or_default();
                        errors.push(format!(
                            "{what}: {}",
                            body.chars().take(160).collect::<String>()
                        ));
                    }
                    Err(error) => errors.push(error.to_string()),
                }
            }
            (timings, errors)
        }));
    }
    tokio::time::sleep(warm_up).await;
    let rss_start = rss_kib(pid);
    let mut timings = Vec::new();
    let mut errors = Vec::new();
    for task in tasks {
        let (t, e) = task.await.unwrap();
        timings.extend(t);
        errors.extend(e);
    }
    let rss_end = rss_kib(pid);
    timings.sort();
    let at = |q: f64| timings[((timings.len() - 1) as f64 * q) as usize];
    println!(
        "LOAD: {CLIENTS} clients, {seconds} s: {} answers, {:.0} req/s, p50 {:?}, p95 {:?}, p99 {:?}, errors {}; server RSS {} MiB after warm-up, {} MiB at the end (debug build)",
        timings.len(),
        timings.len() as f64 / seconds as f64,
        at(0.50),
        at(0.95),
        at(0.99),
        errors.len(),
        rss_start / 1024,
        rss_end / 1024
    );
    assert!(
        errors.is_empty(),
        "{} errors, e.g. {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    assert!(timings.len() > 1000, "the clients got answers");
    assert!(
        rss_end <= rss_start + rss_start / 4 + 16 * 1024,
        "memory grew from {rss_start} KiB to {rss_end} KiB"
    );
    drop(console);
}
