//! Names as users really make them: quotes, spaces, capitals, semicolons, dots, unicode
//! and the 63-byte maximum, on a time hypertable with a space partition, an integer-time
//! hypertable and a continuous aggregate. Every page and every endpoint that takes a name
//! is walked with them: each answers, none with a server error, and the pages find them.

mod support;

use app::url::encode;
use http::StatusCode;
use support::Console;
use tsdb::types::Role;

/// `"…"` with inner quotes doubled (the test's own SQL; the console quotes through tsdb).
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_names_work_on_every_page_and_endpoint() {
    let console = Console::start(false).await;
    let pool = console.pool();
    let schema = "Plant \"Nord\"; Ünit";
    // 63 bytes exactly: the longest name PostgreSQL keeps.
    let mut table = String::from("Readings.v2 \"Line A\"; ñ ");
    while table.len() < 63 {
        table.push('x');
    }
    assert_eq!(table.len(), 63);
    let counter = "Counter \"Log\"";
    let cagg = "Hourly ; \"Mix\" é";
    let s = ident(schema);
    let (t, c, a) = (ident(&table), ident(counter), ident(cagg));
    let setup = format!(
        "CREATE SCHEMA {s};
         CREATE TABLE {s}.{t} (\"Time\" timestamptz NOT NULL, \"Machine ID\" text NOT NULL,
                               \"Value;\" double precision);
         SELECT create_hypertable('{s}.{t}', 'Time', chunk_time_interval => interval '1 day');
         SELECT add_dimension('{s}.{t}', 'Machine ID', number_partitions => 2);
         INSERT INTO {s}.{t}
              SELECT ts, 'm-' || (i % 3), random()
                FROM generate_series(now() - interval '3 days', now(), interval '10 minutes') ts,
                     generate_series(1, 3) i;
         CREATE TABLE {s}.{c} (tick bigint NOT NULL, amount int);
         SELECT create_hypertable('{s}.{c}', 'tick', chunk_time_interval => 1000);
         CREATE FUNCTION {s}.now_tick() RETURNS bigint LANGUAGE sql STABLE
             AS 'SELECT coalesce(max(tick), 0) FROM {s}.{c}';
         SELECT set_integer_now_func('{s}.{c}', '{s}.now_tick');
         INSERT INTO {s}.{c} SELECT g, g % 7 FROM generate_series(1, 5000) g;
         CREATE MATERIALIZED VIEW {s}.{a} WITH (timescaledb.continuous) AS
              SELECT time_bucket('1 hour', \"Time\") AS bucket, \"Machine ID\", avg(\"Value;\")
                FROM {s}.{t} GROUP BY 1, 2 WITH NO DATA;"
    );
    // The quoted identifiers also sit inside string literals above: fine while the names
    // hold no single quote (a single quote is covered by tsdb's quoting tests).
    sqlx::raw_sql(&setup).execute(&pool).await.unwrap();
    let started = chrono::Utc::now();
    console.state.monitor.request_refresh();
    let snapshot = console.snapshot_started_after(started).await;
    for name in [&table, &counter.to_string()] {
        assert!(
            snapshot
                .hypertables
                .iter()
                .any(|h| h.schema == schema && &h.name == name),
            "{name} is in the snapshot"
        );
    }

    // One storage sample, so the storage pages have a history for the new tables.
    server::tasks::storage_sampler::sample(
        &pool,
        &snapshot,
        server::tasks::storage_sampler::SamplerSettings {
            every: std::time::Duration::from_secs(3600),
            backfill: false,
        },
    )
    .await
    .unwrap();
    console
        .add_user("odd-admin", Role::Admin, "odd names password")
        .await;
    let cookie = console.login("odd-admin", "odd names password").await;
    let token = console.add_token("odd", Role::Admin).await;
    let mut walked = 0;
    for name in [table.as_str(), counter] {
        let (es, en) = (encode(schema, false), encode(name, false));
        let qualified = encode(&tsdb::ident::display_name(schema, name), false);
        for path in [
            format!("/hypertables/{es}/{en}"),
            format!("/hypertables/{es}/{en}/advisor"),
            format!("/policies/{es}/{en}"),
            format!("/chunks?hypertable={qualified}"),
            format!("/storage?table={qualified}"),
        ] {
            let reply = console.request("GET", &path).cookie(&cookie).send().await;
            assert_eq!(reply.status, StatusCode::OK, "GET {path}");
            assert!(
                !reply.body.contains("data-testid=\"error\"") && !reply.body.contains("went wrong"),
                "GET {path} shows an error: {}",
                reply
                    .body
                    .find("went wrong")
                    .or_else(|| reply.body.find("data-testid=\"error\""))
                    .map(|i| &reply.body[i.saturating_sub(300)..(i + 300).min(reply.body.len())])
                    .unwrap_or("")
            );
            walked += 1;
        }
        for (method, path) in [
            ("GET", format!("/api/v1/advisor?hypertable={qualified}")),
            (
                "POST",
                format!("/api/v1/advisor/trial?hypertable={qualified}"),
            ),
            (
                "GET",
                format!("/api/v1/monitoring/metrics/chunks?hypertable={qualified}"),
            ),
            ("GET", format!("/api/v1/storage/trends?table={qualified}")),
            (
                "GET",
                format!("/api/v1/storage/trends/csv?table={qualified}"),
            ),
        ] {
            let reply = console.request(method, &path).bearer(&token).send().await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{method} {path}: {}",
                reply.body
            );
            walked += 1;
        }
    }
    for path in [
        "/",
        "/hypertables",
        "/chunks",
        "/jobs",
        "/policies",
        "/storage",
        "/diagnostics",
    ] {
        let reply = console.request("GET", path).cookie(&cookie).send().await;
        assert_eq!(reply.status, StatusCode::OK, "GET {path}");
        walked += 1;
    }
    for path in [
        "/api/v1/monitoring/metrics/hypertables",
        "/api/v1/monitoring/metrics/compression",
        "/api/v1/monitoring/metrics/chunks",
        "/api/v1/policies",
        "/api/v1/diagnostics",
        "/api/v1/storage/forecast",
        "/metrics",
    ] {
        let reply = console.request("GET", path).bearer(&token).send().await;
        assert_eq!(reply.status, StatusCode::OK, "GET {path}: {}", reply.body);
        if path == "/api/v1/monitoring/metrics/hypertables" {
            assert!(reply.body.contains("Readings.v2"), "{}", reply.body);
        }
        walked += 1;
    }
    println!("NAMES: {walked} pages and endpoints answered for odd names");
}
