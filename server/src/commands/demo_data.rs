//! `ms5-console demo-data`: fill the empty demo tables and create the demo accounts, then
//! exit (refused in production).

use super::{connect_and_migrate, CommandError};
use crate::config::{Profile, Settings};

/// Loads the demo data the configuration describes.
pub async fn run(settings: &Settings) -> Result<(), CommandError> {
    if settings.profile == Profile::Production {
        return Err(CommandError::Refused(
            "demo data is never loaded in the production profile (MS5_ENV=production)".into(),
        ));
    }
    let connected = connect_and_migrate(settings).await?;
    let accounts = crate::demo_accounts::ensure(&connected.pool).await;
    let report = tsdb::demo::load(
        &connected.pool,
        settings.demo.volume(),
        settings.demo_compress_after(),
    )
    .await;
    // Say goodbye properly: a single-connection server otherwise sees a reset.
    connected.pool.close().await;
    let report = report?;
    crate::demo_accounts::print(&accounts.map_err(CommandError::Refused)?);
    for (table, rows) in &report.loaded {
        println!("loaded {rows} rows into factory_telemetry.{table}");
    }
    for table in &report.skipped {
        println!("kept factory_telemetry.{table}: it already holds data");
    }
    println!(
        "compressed {} chunk(s) in {:.1} s",
        report.compressed_chunks,
        report.elapsed.as_secs_f64()
    );
    Ok(())
}
