//! `ms5-console migrate`: apply the migrations and exit.

use super::{connect_and_migrate, CommandError};
use crate::config::Settings;

/// Applies every pending migration.
pub async fn run(settings: &Settings) -> Result<(), CommandError> {
    let connected = connect_and_migrate(settings).await?;
    // Say goodbye properly: a single-connection server otherwise sees a reset.
    connected.pool.close().await;
    println!("migrations applied");
    Ok(())
}
