//! The audit trail is append-only, enforced by the database itself.

use serde_json::json;
use tsdb::audit::{record, Actor, Entry, Outcome};
use tsdb::testing::{connect, DevDb};

fn entry<'a>(actor: &'a Actor, action: &'a str) -> Entry<'a> {
    Entry {
        actor,
        client_addr: Some("127.0.0.1"),
        action,
        object_type: Some("user"),
        object_id: Some("42"),
        before: Some(json!({"role": "viewer"})),
        after: Some(json!({"role": "operator"})),
        outcome: Outcome::Success,
        detail: None,
    }
}

#[tokio::test]
async fn the_audit_log_refuses_update_delete_and_truncate() {
    let devdb = tokio::task::spawn_blocking(DevDb::start).await.unwrap();
    let pool = connect(&devdb.url()).await;
    tsdb::migrations::run(&pool).await.unwrap();

    let admin = Actor::User {
        id: 1,
        name: "ada".into(),
    };
    let id = record(&pool, &entry(&admin, "user.change_role"))
        .await
        .unwrap();
    assert!(id > 0);

    for statement in [
        "UPDATE console.audit_log SET actor_name = 'mallory'",
        "DELETE FROM console.audit_log",
        "TRUNCATE console.audit_log",
    ] {
        let error = sqlx::query(statement).execute(&pool).await.unwrap_err();
        let message = error.to_string();
        assert!(message.contains("append-only"), "{statement}: {message}");
    }
    let (name, after): (String, serde_json::Value) =
        sqlx::query_as("SELECT actor_name, after FROM console.audit_log WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(name, "ada");
    assert_eq!(after, json!({"role": "operator"}));

    // An entry shares the fate of the change it describes.
    let mut tx = pool.begin().await.unwrap();
    let rolled_back = record(&mut *tx, &entry(&Actor::System, "policy.apply"))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM console.audit_log WHERE id = $1)")
            .bind(rolled_back)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(!exists);
    pool.close().await;
    drop(devdb);
}

#[tokio::test]
async fn creating_a_user_is_audited_in_the_same_transaction() {
    let devdb = tokio::task::spawn_blocking(DevDb::start).await.unwrap();
    let pool = connect(&devdb.url()).await;
    tsdb::migrations::run(&pool).await.unwrap();
    // A real Argon2id PHC string shape; hashing itself is the server's job.
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    let new = tsdb::users::NewUser {
        username: "Ada",
        role: tsdb::types::Role::Admin,
        password_hash: hash,
    };
    let user = tsdb::users::create(&pool, &Actor::System, None, new.clone())
        .await
        .unwrap();
    assert_eq!(user.role, tsdb::types::Role::Admin);

    let found = tsdb::users::find_by_username(&pool, "ada")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, user.id, "usernames match regardless of case");

    let error = tsdb::users::create(
        &pool,
        &Actor::System,
        None,
        tsdb::users::NewUser {
            username: "ADA",
            ..new.clone()
        },
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("already exists"), "{error}");
    let error = tsdb::users::create(
        &pool,
        &Actor::System,
        None,
        tsdb::users::NewUser {
            username: "bad name",
            ..new
        },
    )
    .await
    .unwrap_err();
    assert!(
        error.to_string().contains("expected 1 to 63 letters"),
        "{error}"
    );

    let audited: Vec<(String, String, serde_json::Value)> = sqlx::query_as(
        "SELECT action, outcome, after FROM console.audit_log WHERE object_type = 'user' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        audited.len(),
        1,
        "failed creations leave no success entry: {audited:?}"
    );
    assert_eq!(audited[0].0, "user.create");
    assert_eq!(
        audited[0].2,
        json!({"username": "Ada", "role": "admin", "disabled": false})
    );
    assert!(
        !audited[0].2.to_string().contains("argon2"),
        "the hash is never audited"
    );
    pool.close().await;
    drop(devdb);
}

#[tokio::test]
async fn the_trail_is_searched_by_actor_action_object_and_time_and_paged() {
    use tsdb::access_types::AuditQuery;
    let devdb = tokio::task::spawn_blocking(DevDb::start).await.unwrap();
    let pool = connect(&devdb.url()).await;
    tsdb::migrations::run(&pool).await.unwrap();
    let ada = Actor::User {
        id: 1,
        name: "Ada".into(),
    };
    let bot = Actor::Token {
        id: 7,
        name: "prometheus".into(),
    };
    for i in 0..5 {
        record(
            &pool,
            &entry(&ada, if i % 2 == 0 { "user.update" } else { "login" }),
        )
        .await
        .unwrap();
    }
    record(&pool, &entry(&bot, "token.revoke")).await.unwrap();

    let all = tsdb::audit::search(&pool, &AuditQuery::default())
        .await
        .unwrap();
    assert_eq!(all.total, 6);
    assert_eq!(all.records[0].action, "token.revoke", "newest first");

    let by_ada = AuditQuery {
        actor: Some("ada".into()),
        action: Some("user.".into()),
        ..AuditQuery::default()
    };
    let page = tsdb::audit::search(&pool, &by_ada).await.unwrap();
    assert_eq!(page.total, 3);
    assert!(page
        .records
        .iter()
        .all(|r| r.actor_name == "Ada" && r.action == "user.update"));
    assert!(page.records[0]
        .before
        .as_deref()
        .unwrap()
        .contains("viewer"));

    // Paging: two per page, then the rest, no overlap.
    let first = tsdb::audit::search(
        &pool,
        &AuditQuery {
            limit: Some(2),
            ..AuditQuery::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(first.records.len(), 2);
    let rest = tsdb::audit::search(
        &pool,
        &AuditQuery {
            limit: Some(10),
            before: first.next_before,
            ..AuditQuery::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(rest.records.len(), 4);
    assert_eq!(rest.next_before, None);
    assert!(rest.records[0].id < first.records[1].id);

    // Time range and object filters; a backwards range and a bad page size are refused.
    let now = chrono::Utc::now();
    let future = AuditQuery {
        from: Some(now + chrono::Duration::hours(1)),
        ..AuditQuery::default()
    };
    assert_eq!(tsdb::audit::search(&pool, &future).await.unwrap().total, 0);
    let object = AuditQuery {
        object_type: Some("user".into()),
        object_id: Some("42".into()),
        to: Some(now + chrono::Duration::hours(1)),
        ..AuditQuery::default()
    };
    assert_eq!(tsdb::audit::search(&pool, &object).await.unwrap().total, 6);
    let backwards = AuditQuery {
        from: Some(now),
        to: Some(now - chrono::Duration::hours(1)),
        ..AuditQuery::default()
    };
    let error = tsdb::audit::search(&pool, &backwards).await.unwrap_err();
    assert!(error.to_string().contains("must be earlier"), "{error}");
    let huge = AuditQuery {
        limit: Some(1000),
        ..AuditQuery::default()
    };
    let error = tsdb::audit::search(&pool, &huge).await.unwrap_err();
    assert!(error.to_string().starts_with("limit 1000"), "{error}");
}
