//! MS5.0 demo data, generated inside the database with `generate_series`.
//!
//! Nothing is streamed from the client (the embedded database dies on `COPY … FROM`, and
//! server-side generation is fastest anyway). Each table is filled in one statement and
//! only when it is empty, so a second run or an interrupted one never duplicates rows.

use crate::ident::QualifiedName;
use crate::Result;
use sqlx::PgPool;
use std::time::{Duration, Instant};

/// How much demo data to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoVolume {
    /// Days of history, ending now.
    pub days: u32,
    /// Number of machines (four per production line).
    pub equipment: u32,
    /// Seconds between two samples of one metric of one machine.
    pub sample_seconds: u32,
}

impl Default for DemoVolume {
    fn default() -> Self {
        Self {
            days: 120,
            equipment: 12,
            sample_seconds: 900,
        }
    }
}

/// What a demo load did, per table.
#[derive(Debug, Clone, Default)]
pub struct DemoReport {
    /// Tables filled now, with their row counts.
    pub loaded: Vec<(String, u64)>,
    /// Tables left alone because they already held rows.
    pub skipped: Vec<String>,
    /// Chunks compressed to mirror a deployment whose compression policy has been running.
    pub compressed_chunks: u64,
    /// Wall time of the whole load.
    pub elapsed: Duration,
}

/// The demo hypertables and the statement that fills each: `$1` days of history,
/// `$2` machines, and for the metric history `$3` seconds between samples.
const TABLES: &[(&str, &str)] = &[
    (
        "metric_hist",
        "INSERT INTO factory_telemetry.metric_hist (ts, equipment_id, line_id, metric_name, value, quality)
         SELECT t, 'EQ-' || lpad(e::text, 3, '0'), 'LINE-' || ((e - 1) / 4 + 1), m.name,
                round((m.base + m.amplitude * sin(extract(epoch FROM t) / 3600.0 + e)
                       + (random() - 0.5) * m.noise)::numeric, 3)::double precision,
                CASE WHEN random() < 0.005 THEN 64 ELSE 192 END
           FROM generate_series(date_trunc('hour', now()) - make_interval(days => $1::int),
                                now(), $3::int * interval '1 second') AS t
          CROSS JOIN generate_series(1, $2::int) AS e
          CROSS JOIN (VALUES ('temperature_c', 65.0, 8.0, 1.5),
                             ('vibration_mm_s', 2.5, 0.8, 0.3),
                             ('spindle_speed_rpm', 1450.0, 40.0, 10.0),
                             ('air_pressure_bar', 6.0, 0.5, 0.2)) AS m(name, base, amplitude, noise)",
    ),
    (
        "energy_consumption",
        "INSERT INTO factory_telemetry.energy_consumption
                (consumption_time, equipment_id, line_id, power_kw, energy_kwh, power_factor)
         SELECT t, 'EQ-' || lpad(e::text, 3, '0'), 'LINE-' || ((e - 1) / 4 + 1),
                round(kw::numeric, 2)::double precision,
                round((kw * 0.25)::numeric, 3)::double precision,
                round((0.88 + random() * 0.1)::numeric, 3)::double precision
           FROM (SELECT t, e,
                        40 + 25 * (extract(hour FROM t) BETWEEN 6 AND 21)::int + random() * 8 + e AS kw
                   FROM generate_series(date_trunc('hour', now()) - make_interval(days => $1::int),
                                        now(), interval '15 minutes') AS t
                  CROSS JOIN generate_series(1, $2::int) AS e) AS s",
    ),
    (
        "oee_calculations",
        "INSERT INTO factory_telemetry.oee_calculations
                (calculation_time, line_id, equipment_id, availability, performance, quality, oee,
                 planned_time_seconds, good_count, total_count)
         SELECT t, 'LINE-' || ((e - 1) / 4 + 1), 'EQ-' || lpad(e::text, 3, '0'),
                a, p, q, round((a * p * q)::numeric, 4)::double precision,
                3600, total - scrap, total
           FROM (SELECT t, e,
                        round((0.80 + random() * 0.18)::numeric, 4)::double precision AS a,
                        round((0.85 + random() * 0.14)::numeric, 4)::double precision AS p,
                        round((0.95 + random() * 0.049)::numeric, 4)::double precision AS q,
                        300 + (random() * 40)::int AS total,
                        (random() * 12)::int AS scrap
                   FROM generate_series(date_trunc('hour', now()) - make_interval(days => $1::int),
                                        now(), interval '1 hour') AS t
                  CROSS JOIN generate_series(1, $2::int) AS e) AS s",
    ),
    (
        "production_events",
        "INSERT INTO factory_telemetry.production_events
                (event_time, line_id, equipment_id, event_type, product_code, quantity, batch_id)
         SELECT t + (random() * 1800) * interval '1 second', 'LINE-' || ((e - 1) / 4 + 1),
                'EQ-' || lpad(e::text, 3, '0'),
                (ARRAY['batch_start', 'batch_end', 'changeover', 'material_load'])[1 + (random() * 3)::int],
                'SKU-' || (100 + (random() * 20)::int),
                (random() * 500)::int,
                'B' || to_char(t, 'YYYYMMDDHH24') || '-' || e
           FROM generate_series(date_trunc('hour', now()) - make_interval(days => $1::int),
                                now(), interval '30 minutes') AS t
          CROSS JOIN generate_series(1, $2::int) AS e",
    ),
    (
        "fault_event",
        "INSERT INTO factory_telemetry.fault_event
                (start_ts, end_ts, equipment_id, line_id, fault_code, severity, description)
         SELECT t, t + (60 + random() * 3600) * interval '1 second',
                'EQ-' || lpad(e::text, 3, '0'), 'LINE-' || ((e - 1) / 4 + 1),
                (ARRAY['E101', 'E205', 'E310', 'E412'])[k],
                (ARRAY['warning', 'critical', 'minor', 'warning'])[k],
                (ARRAY['Spindle temperature high', 'Emergency stop pressed',
                       'Material feed jam', 'Air pressure low'])[k]
           FROM (SELECT t, e, 1 + (abs(hashtext(t::text || e::text)) % 4) AS k
                   FROM generate_series(date_trunc('hour', now()) - make_interval(days => $1::int),
                                        now(), interval '6 hours') AS t
                  CROSS JOIN generate_series(1, $2::int) AS e) AS s
          WHERE random() < 0.2",
    ),
];

/// Fills every empty demo table, compresses chunks older than `compress_after` on tables
/// with compression enabled, and refreshes the hourly rollup.
pub async fn load(
    pool: &PgPool,
    volume: DemoVolume,
    compress_after: crate::interval::PolicyInterval,
) -> Result<DemoReport> {
    let started = Instant::now();
    let mut report = DemoReport::default();
    for (table, insert) in TABLES {
        let name = QualifiedName::new("factory_telemetry", *table);
        let mut tx = pool.begin().await?;
        // Serialises concurrent loaders (several console instances starting together).
        sqlx::query(&format!("LOCK TABLE {name} IN SHARE ROW EXCLUSIVE MODE"))
            .execute(&mut *tx)
            .await?;
        let empty: bool =
            sqlx::query_scalar(&format!("SELECT NOT EXISTS (SELECT 1 FROM {name} LIMIT 1)"))
                .fetch_one(&mut *tx)
                .await?;
        if !empty {
            report.skipped.push(table.to_string());
            continue;
        }
        let mut query = sqlx::query(insert)
            .bind(volume.days as i32)
            .bind(volume.equipment as i32);
        if insert.contains("$3") {
            query = query.bind(volume.sample_seconds as i32);
        }
        let rows = query.execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        tracing::info!(table = %name, rows, "demo data loaded");
        report.loaded.push((table.to_string(), rows));
    }
    if !report.loaded.is_empty() {
        report.compressed_chunks = compress_old_chunks(pool, compress_after).await?;
        sqlx::query(
            "CALL refresh_continuous_aggregate('factory_telemetry.metric_hist_hourly', NULL, NULL)",
        )
        .execute(pool)
        .await?;
        sqlx::query("ANALYZE factory_telemetry.metric_hist, factory_telemetry.energy_consumption, factory_telemetry.oee_calculations, factory_telemetry.production_events, factory_telemetry.fault_event")
            .execute(pool)
            .await?;
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Compresses the demo chunks a running compression policy would already have compressed.
async fn compress_old_chunks(
    pool: &PgPool,
    compress_after: crate::interval::PolicyInterval,
) -> Result<u64> {
    let compressed: i64 = sqlx::query_scalar(
        "SELECT count(compress_chunk(c, if_not_compressed => true))
           FROM timescaledb_information.hypertables h
          CROSS JOIN LATERAL show_chunks(format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass,
                                         older_than => $1::text::interval) AS c
          WHERE h.hypertable_schema = 'factory_telemetry' AND h.compression_enabled",
    )
    .bind(compress_after.to_string())
    .fetch_one(pool)
    .await?;
    Ok(compressed.max(0) as u64)
}
