//! `ms5-console serve` (the default command): bind, start the background tasks, serve
//! until a signal.

use super::CommandError;
use crate::config::{Profile, Settings};
use crate::site::Site;
use crate::tasks::{
    self, database_watch, job_watcher, policy_reconciler, refresher, session_janitor, startup,
    storage_sampler, webhook_sender, Lifetime,
};
use crate::{http, shutdown};
use app::auth::settings::AuthSettings;
use app::state::{AppState, StateConfig};
use leptos::prelude::LeptosOptions;
use std::time::Duration;
use tokio::task::JoinSet;

/// Errors that stop the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The listen address is taken or not allowed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// No site to serve: the configured directory holds none, or the binary's own could
    /// not be unpacked.
    #[error(transparent)]
    Site(crate::site::SiteError),
}

/// Leptos' options from the console's own configuration and where its site is (not from
/// Cargo metadata, so the binary runs the same however it was built).
pub fn leptos_options(settings: &Settings, site: &Site) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("ms5-console")
        .site_root(site.root.display().to_string())
        .site_pkg_dir("pkg")
        // Leptos refuses to render hashed names without their listing (test binaries
        // have none).
        .hash_files(site.hash_file.is_some())
        .hash_file(std::sync::Arc::from(site.hash_file.as_ref().map_or_else(
            || "hash.txt".to_string(),
            |f| f.display().to_string(),
        )))
        .site_addr(settings.listen_addr)
        .build()
}

/// The application state for `settings`, before any database work, with the site on
/// disk (never unpacking the binary's own: tests and commands other than `serve`).
pub fn state_for(settings: &Settings) -> AppState {
    state_with_site(settings, &Site::on_disk(settings.site_root.as_deref()))
}

/// The application state for `settings` serving `site`.
pub fn state_with_site(settings: &Settings, site: &Site) -> AppState {
    AppState::new(StateConfig {
        leptos_options: leptos_options(settings, site),
        auth: auth_settings(settings),
        configuration: std::sync::Arc::new(settings.describe()),
        monitor_interval_seconds: settings.monitor_interval_seconds,
        catalog_reads: settings.catalog_reads,
        trusted_proxies: std::sync::Arc::new(settings.http.trusted_proxies.clone()),
        policy_source: std::sync::Arc::new(settings.policy_source()),
        job_config: app::jobs::JobConfig {
            run_timeout: Duration::from_secs(u64::from(settings.jobs.run_timeout_seconds)),
            webhook: settings
                .jobs
                .webhook_url
                .as_deref()
                .map(crate::config::jobs::redact_webhook),
        },
        storage_config: app::storage::StorageConfig {
            budget: settings.storage.budget(),
            horizon_days: settings.storage.horizon_days,
            sample_seconds: settings.storage.sample_seconds,
        },
        production: settings.profile == Profile::Production,
    })
}

/// What the job watcher needs from the configuration.
pub fn watch_settings(settings: &Settings) -> job_watcher::WatchSettings {
    job_watcher::WatchSettings {
        every: Duration::from_secs(u64::from(settings.jobs.alert_check_seconds)),
        stale_factor: settings.jobs.stale_factor,
        reminder: (settings.jobs.reminder_minutes > 0)
            .then(|| Duration::from_secs(u64::from(settings.jobs.reminder_minutes) * 60)),
        notify: settings.jobs.webhook_url.is_some(),
    }
}

/// Session time-outs and cookie policy from the configuration.
pub fn auth_settings(settings: &Settings) -> AuthSettings {
    AuthSettings {
        timeouts: tsdb::sessions::Timeouts {
            idle: Duration::from_secs(u64::from(settings.session_idle_minutes) * 60),
            absolute: Duration::from_secs(u64::from(settings.session_absolute_hours) * 3600),
        },
        // Browsers refuse Secure cookies over plain HTTP except on localhost; the
        // development profile may run on a LAN address without TLS.
        secure_cookie: settings.profile != Profile::Development,
        metrics_public: !settings.metrics_token_required,
    }
}

/// Serves until SIGINT/SIGTERM; start-up work runs beside it and never delays it.
pub async fn run(settings: Settings) -> Result<(), CommandError> {
    if settings.database_url.is_none() {
        return Err(CommandError::MissingDatabaseUrl);
    }
    let site = Site::locate(settings.site_root.as_deref()).map_err(ServeError::Site)?;
    tracing::debug!(site = %site.root.display(), "serving the site");
    let state = state_with_site(&settings, &site);
    let listener = tokio::net::TcpListener::bind(settings.listen_addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: settings.listen_addr,
            source,
        })?;
    let (stop, stopped) = shutdown::channel();
    let mut background = JoinSet::new();
    let startup_settings = settings.clone();
    tasks::spawn(
        &mut background,
        "startup",
        Lifetime::OneOff,
        &state,
        &stopped,
        move |state, stopped| startup::run(state, startup_settings.clone(), stopped),
    );
    let apply_on_startup = settings.apply_policies_on_startup;
    tasks::spawn(
        &mut background,
        "policy-reconciler",
        Lifetime::OneOff,
        &state,
        &stopped,
        move |state, stopped| policy_reconciler::run(state, apply_on_startup, stopped),
    );
    tasks::spawn(
        &mut background,
        "session-janitor",
        Lifetime::UntilShutdown,
        &state,
        &stopped,
        session_janitor::run,
    );
    tasks::spawn(
        &mut background,
        "database-watch",
        Lifetime::UntilShutdown,
        &state,
        &stopped,
        database_watch::run,
    );
    tasks::spawn(
        &mut background,
        "monitoring-refresher",
        Lifetime::UntilShutdown,
        &state,
        &stopped,
        refresher::run,
    );
    let watch = watch_settings(&settings);
    tasks::spawn(
        &mut background,
        "job-watcher",
        Lifetime::UntilShutdown,
        &state,
        &stopped,
        move |state, stopped| job_watcher::run(state, watch, stopped),
    );
    let sampler = storage_sampler::SamplerSettings {
        every: Duration::from_secs(u64::from(settings.storage.sample_seconds)),
        backfill: settings.demo.enabled,
    };
    tasks::spawn(
        &mut background,
        "storage-sampler",
        Lifetime::UntilShutdown,
        &state,
        &stopped,
        move |state, stopped| storage_sampler::run(state, sampler, stopped),
    );
    let webhook = webhook_sender::Webhook::from_settings(&settings.jobs);
    tasks::spawn(
        &mut background,
        "webhook-sender",
        Lifetime::UntilShutdown,
        &state,
        &stopped,
        move |state, stopped| webhook_sender::run(state, webhook.clone(), stopped),
    );
    tracing::info!(
        addr = %settings.listen_addr,
        profile = %settings.profile,
        "serving on http://{}",
        settings.listen_addr
    );
    let mut stopped_for_server = stopped.clone();
    let monitor = state.monitor.clone();
    let limits = http::limits::HttpLimits::from(&settings.http);
    let app = http::limits::limited(http::router(state.clone()), &state, &limits);
    tokio::spawn(async move {
        shutdown::signal().await;
        let _ = stop.send(true);
    });
    http::listener::serve(listener, app, &limits, async move {
        let _ = stopped_for_server.changed().await;
        // Live streams never end by themselves: end them so shutdown does not wait.
        monitor.close();
    })
    .await;
    // Background tasks stop at their next safe point (each checks the signal between
    // steps, never inside one); one still busy after the bound is aborted, its
    // transaction rolled back with its connection.
    let finished = tokio::time::timeout(limits.shutdown, async {
        // A bench run started from the page removes its scratch schema first.
        if !state.bench.stop_for_shutdown(limits.shutdown).await {
            tracing::warn!("the bench run did not stop in time; the next run sweeps its schema");
        }
        while background.join_next().await.is_some() {}
    })
    .await;
    if finished.is_err() {
        tracing::warn!(
            seconds = limits.shutdown.as_secs(),
            "background tasks still busy after the shutdown bound; aborting them"
        );
    }
    background.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}
