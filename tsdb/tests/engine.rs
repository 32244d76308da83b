//! The engine's queries against a real TimescaleDB (a private devdb instance).

use tsdb::capabilities::{Capabilities, MIN_SUPPORTED};
use tsdb::ident::{quote_ident, QualifiedName};
use tsdb::testing::TestDb;

#[tokio::test]
async fn probe_reports_a_supported_timescaledb() {
    let db = TestDb::acquire("probe").await;
    let caps = Capabilities::probe(&db.pool).await.unwrap();
    let version = caps.require_timescaledb().unwrap();
    assert!(version >= MIN_SUPPORTED, "{version}");
    assert!(
        caps.server_version_num >= 150000,
        "{}",
        caps.server_version_num
    );
    assert!(caps.timescaledb_available);
    // devdb runs 2.23: the columnstore names are the current ones.
    assert!(caps.uses_columnstore_names());
    db.finish().await;
}

#[tokio::test]
async fn hypertables_with_names_that_need_quoting_are_listed_with_true_sizes() {
    let db = TestDb::acquire("Odd Schema \"q\"").await;
    let table = QualifiedName::new(&db.schema, "Line 1 \"Metrics\"");
    sqlx::raw_sql(&format!(
        "CREATE TABLE {table} (ts timestamptz NOT NULL, machine text NOT NULL, value double precision);
         SELECT create_hypertable('{regclass}', 'ts', chunk_time_interval => interval '1 day');
         INSERT INTO {table} SELECT t, 'M' || (i % 3), i
           FROM generate_series(1, 2000) AS i,
                LATERAL (SELECT timestamptz '2026-01-01' + i * interval '5 minutes' AS t) AS s;
         ALTER TABLE {table} SET (timescaledb.compress, timescaledb.compress_segmentby = 'machine');",
        regclass = table.to_string().replace('\'', "''"),
    ))
    .execute(&db.pool)
    .await
    .unwrap();
    let first_chunk: String = sqlx::query_scalar(
        "SELECT format('%I.%I', chunk_schema, chunk_name) FROM timescaledb_information.chunks
          WHERE hypertable_schema = $1 ORDER BY range_start LIMIT 1",
    )
    .bind(&db.schema)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    sqlx::query("SELECT compress_chunk($1::regclass)")
        .bind(&first_chunk)
        .execute(&db.pool)
        .await
        .unwrap();

    let capabilities = tsdb::capabilities::Capabilities::probe(&db.pool)
        .await
        .unwrap();
    let snapshot = tsdb::monitoring::gather(
        &db.pool,
        &capabilities,
        &mut tsdb::monitoring::PassCache::default(),
        tsdb::monitoring::Pass::Full,
    )
    .await
    .unwrap();
    let all = &snapshot.hypertables;
    let ours: Vec<_> = all.iter().filter(|h| h.schema == db.schema).collect();
    assert_eq!(ours.len(), 1, "{all:?}");
    let row = ours[0];
    assert_eq!(row.name, "Line 1 \"Metrics\"");
    assert!(row.compression_enabled);
    // 2000 samples 5 minutes apart from 00:05 on 1 January end on 7 January: 7 chunks.
    assert_eq!(row.chunk_count, 7);
    assert_eq!(row.compressed_chunk_count, 1);
    let expected: i64 = sqlx::query_scalar("SELECT hypertable_size($1::regclass)")
        .bind(table.to_string())
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(row.total_bytes, expected);
    assert!(row.total_bytes > 0);
    db.finish().await;
}

#[tokio::test]
async fn quote_ident_matches_postgres() {
    let db = TestDb::acquire("quoting").await;
    for name in [
        "plain",
        "Mixed Case",
        "with \"quotes\"",
        "semi;colon",
        "ünï",
    ] {
        let theirs: String = sqlx::query_scalar("SELECT format('%I', $1::text)")
            .bind(name)
            .fetch_one(&db.pool)
            .await
            .unwrap();
        // PostgreSQL leaves simple lower-case names bare; ours always quotes. Both must
        // denote the same identifier.
        let same: bool = sqlx::query_scalar(&format!(
            "SELECT {} = {}::text",
            quote_literal_of_ident(&quote_ident(name)),
            quote_literal_of_ident(&theirs)
        ))
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert!(same, "{name}: ours {} vs {theirs}", quote_ident(name));
    }
    db.finish().await;
}

/// `parse_ident`-style comparison: turn an identifier into its text value on the server.
fn quote_literal_of_ident(ident: &str) -> String {
    format!("(parse_ident('{}'))[1]", ident.replace('\'', "''"))
}

#[tokio::test]
async fn each_client_gets_a_clean_session() {
    // devdb shares one PostgreSQL session between clients; it must reset it between them,
    // or sqlx's prepared statements collide ("sqlx_s_1 already exists").
    let db = TestDb::acquire("session").await;
    sqlx::raw_sql("SET statement_timeout = '123s'; PREPARE leftover AS SELECT 1")
        .execute(&db.pool)
        .await
        .unwrap();
    let url = tsdb::testing::shared().url();
    db.finish().await;

    let db = TestDb::acquire("session").await;
    let timeout: String = sqlx::query_scalar("SHOW statement_timeout")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(timeout, "0");
    let leftovers: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_prepared_statements WHERE name = 'leftover'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(leftovers, 0);
    let path: String = sqlx::query_scalar("SHOW search_path")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(path.contains("public"), "{path}");
    assert!(url.contains("sslmode=disable"));
    db.finish().await;
}

#[tokio::test]
async fn a_client_that_vanishes_mid_session_does_not_lock_others_out() {
    // A client that exits with unread replies makes the kernel reset the connection.
    // pglite-socket then forgets the handler; devdb must prune it or refuse everyone after.
    let db = TestDb::acquire("vanish").await;
    let url = tsdb::testing::shared().url();
    db.finish().await;
    let port: u16 = url
        .split(['@', '/'])
        .find_map(|part| part.strip_prefix("127.0.0.1:"))
        .and_then(|port| port.parse().ok())
        .expect("port in the devdb url");
    {
        use std::io::Write;
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let params = b"user\0postgres\0database\0postgres\0\0";
        let mut startup = Vec::new();
        startup.extend_from_slice(&((8 + params.len()) as i32).to_be_bytes());
        startup.extend_from_slice(&196_608_i32.to_be_bytes());
        startup.extend_from_slice(params);
        stream.write_all(&startup).unwrap();
        // Let the reply arrive and stay unread, then drop: the close becomes a reset.
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let db = TestDb::acquire("vanish").await;
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(one, 1);
    db.finish().await;
}

#[tokio::test]
async fn a_task_lock_works_on_a_server_with_one_connection() {
    let db = TestDb::acquire("task_lock").await;
    // The work runs on the connection holding the lock: no second one is needed.
    let mut lock = tsdb::locks::try_lock(&db.pool, tsdb::locks::TaskLock::JobWatcher)
        .await
        .unwrap()
        .expect("nobody else holds it");
    let answer: i32 = sqlx::query_scalar("SELECT 41 + 1")
        .fetch_one(lock.conn())
        .await
        .unwrap();
    lock.release().await.unwrap();
    assert_eq!(answer, 42);
    let held: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(held, 0, "released afterwards");
    db.finish().await;
}
