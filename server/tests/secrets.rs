//! Secrets stay secret: a whole session of use (sign-ins good and bad, a token created and
//! used, a password changed, every REST route and page walked, refusals and errors) with
//! the log captured at DEBUG, then the log, every response and the audit trail are
//! searched for the database password, the token, the password hashes and the session id.
//! The only answer allowed to hold a secret is the one creating the token (once).

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use support::{Console, Reply};
use tsdb::testing::DevDb;
use tsdb::types::Role;

/// Everything the console logged during the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut log) = self.0.lock() {
            log.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const DB_PASSWORD: &str = "db-password-7f3a9c2e41";
const ADMIN_PASSWORD: &str = "admin password 5b8d0e6a";
const NEW_PASSWORD: &str = "changed password 9c1f4b7d";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_a_log_a_response_or_the_audit_trail() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish(),
    )
    .unwrap();

    let devdb = tokio::task::spawn_blocking(DevDb::start).await.unwrap();
    // devdb accepts any password: the console must still never repeat this one.
    let url = devdb
        .url()
        .replace("postgres@", &format!("postgres:{DB_PASSWORD}@"));
    let console = Console::start_on(&url, Box::new(devdb), true).await;
    console.snapshot_after(None).await;
    console.add_user("root", Role::Admin, ADMIN_PASSWORD).await;

    let mut replies: Vec<(String, Reply)> = Vec::new();
    let wrong = console
        .request("POST", "/api/fn/login")
        .form(&[("username", "root"), ("password", "not it at all")])
        .send()
        .await;
    replies.push(("wrong password".into(), wrong));
    let cookie = console.login("root", ADMIN_PASSWORD).await;
    let created = console
        .request("POST", "/api/fn/create-token")
        .cookie(&cookie)
        .form(&[("name", "ops"), ("role", "admin"), ("days", "1")])
        .send()
        .await;
    let token = serde_json::from_str::<serde_json::Value>(&created.body).unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let changed = console
        .request("POST", "/api/fn/change-password")
        .cookie(&cookie)
        .form(&[
            ("current", ADMIN_PASSWORD),
            ("new_password", NEW_PASSWORD),
            ("confirm", NEW_PASSWORD),
        ])
        .send()
        .await;
    assert!(changed.status.is_success(), "{}", changed.body);
    replies.push(("change password".into(), changed));
    for path in [
        "/api/fn/users",
        "/api/fn/tokens",
        "/api/fn/audit-log",
        "/api/fn/my-sessions",
    ] {
        let reply = console.request("POST", path).cookie(&cookie).send().await;
        replies.push((path.into(), reply));
    }
    for rule in server::api::rules() {
        if rule.method != http::Method::GET {
            continue;
        }
        let reply = console
            .request("GET", &rule.path)
            .bearer(&token)
            .send()
            .await;
        replies.push((format!("GET {}", rule.path), reply));
    }
    for path in support::page_paths(&console).await {
        let reply = console.request("GET", &path).cookie(&cookie).send().await;
        replies.push((format!("page {path}"), reply));
    }
    let bad_token = console
        .request("GET", "/api/v1/me")
        .bearer(&format!("{token}x"))
        .send()
        .await;
    replies.push(("a wrong token".into(), bad_token));

    let pool = console.pool();
    let hashes: Vec<String> = sqlx::query_scalar("SELECT password_hash FROM console.users")
        .fetch_all(&pool)
        .await
        .unwrap();
    let token_hash: Vec<u8> = sqlx::query_scalar("SELECT token_sha256 FROM console.api_tokens")
        .fetch_one(&pool)
        .await
        .unwrap();
    let token_hex: String = token_hash.iter().map(|b| format!("{b:02x}")).collect();
    let audit: String =
        sqlx::query_scalar("SELECT string_agg(a::text, '\n') FROM console.audit_log a")
            .fetch_one(&pool)
            .await
            .unwrap();
    let mut secrets = vec![
        ("the database password", DB_PASSWORD.to_string()),
        ("the admin's password", ADMIN_PASSWORD.to_string()),
        ("the new password", NEW_PASSWORD.to_string()),
        ("the token", token.clone()),
        ("the token's hash", token_hex),
        ("the session id", cookie.clone()),
    ];
    for hash in hashes {
        secrets.push(("a password hash", hash));
    }
    let log = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    assert!(
        log.len() > 10_000,
        "the log was captured ({} bytes)",
        log.len()
    );
    for (what, secret) in &secrets {
        assert!(!log.contains(secret.as_str()), "{what} is in the log");
        assert!(
            !audit.contains(secret.as_str()),
            "{what} is in the audit trail"
        );
        for (label, reply) in &replies {
            let headers = format!("{:?}", reply.headers);
            assert!(
                !reply.body.contains(secret.as_str()) && !headers.contains(secret.as_str()),
                "{what} is in the answer to {label}"
            );
        }
    }
    println!(
        "SECRETS: {} answers, {} bytes of log and {} bytes of audit trail searched for {} secrets",
        replies.len(),
        log.len(),
        audit.len(),
        secrets.len()
    );
}
