//! `ms5-console users add` against a real devdb: password from standard input, policy,
//! duplicates, and the audit entry.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use tsdb::testing::{connect, DevDb};

fn users_add(url: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ms5-console"))
        .args(["users", "add"])
        .args(args)
        .env("DATABASE_URL", url)
        .env("MS5_ENV", "development")
        .env("MS5_LOG_LEVEL", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ms5-console");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn users_add_reads_the_password_from_stdin_and_audits() {
    let devdb = tokio::task::spawn_blocking(DevDb::start).await.unwrap();
    let url = devdb.url();

    let ok = users_add(
        &url,
        &["--role", "admin", "ada"],
        "violet kettle under rain\n",
    );
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("created admin \"ada\""), "{}", text(&ok));

    let again = users_add(
        &url,
        &["--role", "viewer", "ADA"],
        "another good passphrase\n",
    );
    assert!(!again.status.success());
    assert!(text(&again).contains("already exists"), "{}", text(&again));

    let weak = users_add(&url, &["bob"], "Password2024!\n");
    assert!(!weak.status.success());
    assert!(
        text(&weak).contains("password refused: it is a common password"),
        "{}",
        text(&weak)
    );

    let empty = users_add(&url, &["carol"], "");
    assert!(!empty.status.success());
    assert!(
        text(&empty).contains("no password on standard input"),
        "{}",
        text(&empty)
    );

    let bad_role = users_add(
        &url,
        &["--role", "root", "dave"],
        "violet kettle under rain\n",
    );
    assert_eq!(bad_role.status.code(), Some(2), "{}", text(&bad_role));
    assert!(
        text(&bad_role).contains("expected one of viewer, operator, admin"),
        "{}",
        text(&bad_role)
    );

    let pool = connect(&url).await;
    let ada = tsdb::users::find_by_username(&pool, "ada")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ada.role, tsdb::types::Role::Admin);
    assert!(app::auth::password::verify(
        "violet kettle under rain",
        &ada.password_hash
    ));
    assert!(!app::auth::password::needs_rehash(&ada.password_hash));
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM console.users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(users, 1, "refused commands create nobody");
    let (actor, addr, action): (String, Option<String>, String) = sqlx::query_as(
        "SELECT actor_kind, client_addr, action FROM console.audit_log ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (actor.as_str(), addr.as_deref(), action.as_str()),
        ("system", Some("command line"), "user.create")
    );
    pool.close().await;
    drop(devdb);
}
