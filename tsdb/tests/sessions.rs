//! Sessions time out when idle and after their absolute lifetime, and the janitor
//! deletes what timed out.

use std::time::Duration;
use tsdb::audit::Actor;
use tsdb::sessions::{self, Timeouts};
use tsdb::testing::{connect, DevDb};
use tsdb::types::Role;
use tsdb::users::NewUser;

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA";

#[tokio::test]
async fn sessions_time_out_and_are_purged() {
    let devdb = tokio::task::spawn_blocking(DevDb::start).await.unwrap();
    let pool = connect(&devdb.url()).await;
    tsdb::migrations::run(&pool).await.unwrap();
    let user = tsdb::users::create(
        &pool,
        &Actor::System,
        None,
        NewUser {
            username: "eve",
            role: Role::Operator,
            password_hash: HASH,
        },
    )
    .await
    .unwrap();
    let key = |c: char| c.to_string().repeat(64);
    sessions::create(&pool, user.id, &key('a'), Some("10.0.0.1"), Some("test"))
        .await
        .unwrap();
    sessions::create(&pool, user.id, &key('b'), None, None)
        .await
        .unwrap();

    let long = Timeouts {
        idle: Duration::from_secs(3600),
        absolute: Duration::from_secs(3600),
    };
    let found = sessions::resolve(&pool, &key('a'), long)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.user.username, "eve");
    assert_eq!(found.user.role, Role::Operator);
    assert!(!found.refreshed, "seen a moment ago: no write");
    assert!(sessions::resolve(&pool, &key('z'), long)
        .await
        .unwrap()
        .is_none());

    tokio::time::sleep(Duration::from_millis(1200)).await;
    let idle = Timeouts {
        idle: Duration::from_secs(1),
        absolute: Duration::from_secs(3600),
    };
    assert!(sessions::resolve(&pool, &key('a'), idle)
        .await
        .unwrap()
        .is_none());
    let absolute = Timeouts {
        idle: Duration::from_secs(3600),
        absolute: Duration::from_secs(1),
    };
    assert!(sessions::resolve(&pool, &key('b'), absolute)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        sessions::list_for_user(&pool, user.id, None, long)
            .await
            .unwrap()
            .len(),
        2
    );

    // Disabled users have no live sessions (the update also deletes them).
    sqlx::query("UPDATE console.users SET disabled = true WHERE id = $1")
        .bind(user.id)
        .execute(&pool)
        .await
        .unwrap();
    assert!(sessions::resolve(&pool, &key('b'), long)
        .await
        .unwrap()
        .is_none());

    let mut conn = pool.acquire().await.unwrap();
    assert_eq!(sessions::purge_expired(&mut conn, idle).await.unwrap(), 2);
    drop(conn);
    assert!(sessions::list_for_user(&pool, user.id, None, long)
        .await
        .unwrap()
        .is_empty());
}
