//! API tokens: digests only, expiry, revocation, last use, audit.

use chrono::{Duration, Utc};
use tsdb::audit::Actor;
use tsdb::testing::{connect, DevDb};
use tsdb::tokens::{self, NewToken};
use tsdb::types::Role;

fn digest(seed: u8) -> [u8; 32] {
    [seed; 32]
}

#[tokio::test]
async fn token_lifecycle() {
    let devdb = tokio::task::spawn_blocking(DevDb::start).await.unwrap();
    let pool = connect(&devdb.url()).await;
    tsdb::migrations::run(&pool).await.unwrap();
    let admin = Actor::System;
    let new = |name, sha256, expires_at| NewToken {
        name,
        role: Role::Viewer,
        prefix: "ms5_abcdefgh",
        sha256,
        expires_at,
        created_by: None,
    };

    let scraper = tokens::create(
        &pool,
        &admin,
        None,
        new("prometheus", digest(1), Utc::now() + Duration::days(30)),
    )
    .await
    .unwrap();
    assert_eq!(scraper.role, Role::Viewer);
    assert!(scraper.last_used_at.is_none());

    let used = tokens::authenticate(&pool, &digest(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(used.id, scraper.id);
    assert!(used.last_used_at.is_some(), "use is recorded");
    assert!(
        tokens::authenticate(&pool, &digest(2))
            .await
            .unwrap()
            .is_none(),
        "unknown digest"
    );

    // Expired tokens stop working without anyone revoking them.
    let expiring = tokens::create(
        &pool,
        &admin,
        None,
        new("short-lived", digest(3), Utc::now() + Duration::seconds(2)),
    )
    .await
    .unwrap();
    assert!(tokens::authenticate(&pool, &digest(3))
        .await
        .unwrap()
        .is_some());
    sqlx::query("UPDATE console.api_tokens SET expires_at = created_at + interval '1 millisecond' WHERE id = $1")
        .bind(expiring.id)
        .execute(&pool)
        .await
        .unwrap();
    assert!(
        tokens::authenticate(&pool, &digest(3))
            .await
            .unwrap()
            .is_none(),
        "expired"
    );

    assert!(tokens::revoke(&pool, &admin, Some("127.0.0.1"), scraper.id)
        .await
        .unwrap());
    assert!(
        tokens::authenticate(&pool, &digest(1))
            .await
            .unwrap()
            .is_none(),
        "revoked"
    );
    assert!(
        tokens::revoke(&pool, &admin, None, scraper.id)
            .await
            .unwrap(),
        "idempotent"
    );
    assert!(!tokens::revoke(&pool, &admin, None, 999_999).await.unwrap());

    let past = tokens::create(
        &pool,
        &admin,
        None,
        new("late", digest(4), Utc::now() - Duration::days(1)),
    )
    .await;
    assert!(past
        .unwrap_err()
        .to_string()
        .contains("expected a time in the future"));
    let unnamed = tokens::create(
        &pool,
        &admin,
        None,
        new("  ", digest(5), Utc::now() + Duration::days(1)),
    )
    .await;
    assert!(unnamed
        .unwrap_err()
        .to_string()
        .contains("expected 1 to 100 characters"));

    let listed = tokens::list(&pool).await.unwrap();
    assert_eq!(listed.len(), 2);
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM console.audit_log WHERE object_type = 'api_token' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "token.create",
            "token.create",
            "token.revoke",
            "token.revoke"
        ]
    );
    pool.close().await;
    drop(devdb);
}
