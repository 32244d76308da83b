//! A console on a private devdb and an HTTP client for it: cookies, tokens, forms and
//! client addresses, sent through the real router.

#![allow(dead_code)]

use app::state::{AppState, StartupPhase};
use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use server::config::Settings;
use std::collections::HashMap;
use std::net::SocketAddr;
use tower::ServiceExt;
use tsdb::testing::DevDb;
use tsdb::types::Role;

/// Test settings: development profile, small demo volume, `url` as the database.
pub fn settings(url: Option<&str>, demo: bool) -> Settings {
    settings_with(url, demo, &[])
}

/// Test settings with `extra` variables on top.
pub fn settings_with(url: Option<&str>, demo: bool, extra: &[(&'static str, &str)]) -> Settings {
    let mut vars: HashMap<&str, String> = HashMap::from([
        ("MS5_ENV", "development".to_string()),
        ("MS5_DEMO_DATA", demo.to_string()),
        ("MS5_DEMO_DAYS", "10".to_string()),
        ("MS5_DEMO_EQUIPMENT", "2".to_string()),
        ("MS5_DEMO_SAMPLE_SECONDS", "3600".to_string()),
    ]);
    if let Some(url) = url {
        vars.insert("DATABASE_URL", url.to_string());
    }
    for (name, value) in extra {
        vars.insert(name, value.to_string());
    }
    Settings::load(None, |name| vars.get(name).cloned()).expect("valid test settings")
}

/// The settings a production deployment starts with: only the database named.
pub fn production_settings(url: &str) -> Settings {
    let vars = HashMap::from([
        ("MS5_ENV", "production".to_string()),
        ("DATABASE_URL", url.to_string()),
    ]);
    Settings::load(None, |name| vars.get(name).cloned()).expect("valid production settings")
}

/// A started console (start-up finished) on its own devdb.
pub struct Console {
    /// The state handed to the router; change it through [`Console::change_state`], which
    /// rebuilds the router, or the change never reaches a request.
    pub state: AppState,
    /// The router, built once as `serve` builds it: building one per request renders the
    /// route list while other requests render pages, and leptos then leaves some of those
    /// renders waiting forever.
    router: axum::Router,
    /// Keeps the database alive.
    _database: Box<dyn std::any::Any + Send>,
    /// Dropping it stops the background tasks.
    _stop: tokio::sync::watch::Sender<bool>,
}

impl Console {
    /// Starts devdb and runs start-up to the end.
    pub async fn start(demo: bool) -> Console {
        let devdb = tokio::task::spawn_blocking(DevDb::start).await.unwrap();
        let url = devdb.url();
        Console::start_on(&url, Box::new(devdb), demo).await
    }

    /// Starts a console on the database at `url`; `database` keeps it alive.
    pub async fn start_on(
        url: &str,
        database: Box<dyn std::any::Any + Send>,
        demo: bool,
    ) -> Console {
        Console::start_with(settings(Some(url), demo), database).await
    }

    /// Starts a console with `settings`; `database` keeps its database alive.
    pub async fn start_with(
        settings: Settings,
        database: Box<dyn std::any::Any + Send>,
    ) -> Console {
        let mut auth = server::commands::serve::auth_settings(&settings);
        // The cookie attributes of production are what the tests check.
        auth.secure_cookie = true;
        let mut state = server::commands::serve::state_for(&settings);
        state.auth = auth;
        state.monitor_interval_seconds = 5;
        let (stop, stopped) = server::shutdown::channel();
        // Start-up runs as in `serve`, supervised; it may go on after Ready (waiting
        // for a server to preload TimescaleDB), so the phase is awaited, not the task.
        tokio::spawn(server::tasks::supervise(
            "startup",
            server::tasks::Lifetime::OneOff,
            state.clone(),
            stopped.clone(),
            move |state, stopped| server::tasks::startup::run(state, settings.clone(), stopped),
        ));
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(300);
        while !matches!(state.phase(), StartupPhase::Ready | StartupPhase::Failed(_)) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "start-up stuck at {:?}",
                state.phase()
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(state.phase(), StartupPhase::Ready);
        tokio::spawn(server::tasks::supervise(
            "database-watch",
            server::tasks::Lifetime::UntilShutdown,
            state.clone(),
            stopped.clone(),
            server::tasks::database_watch::run,
        ));
        tokio::spawn(server::tasks::supervise(
            "monitoring-refresher",
            server::tasks::Lifetime::UntilShutdown,
            state.clone(),
            stopped,
            server::tasks::refresher::run,
        ));
        Console {
            router: server::http::router(state.clone()),
            state,
            _database: database,
            _stop: stop,
        }
    }

    /// Changes the state and rebuilds the router from it (the router holds its own copy).
    pub fn change_state(&mut self, change: impl FnOnce(&mut AppState)) {
        change(&mut self.state);
        self.router = server::http::router(self.state.clone());
    }

    /// Waits for the monitoring snapshot taken after `after` (the first one when `None`).
    pub async fn snapshot_after(
        &self,
        after: Option<chrono::DateTime<chrono::Utc>>,
    ) -> std::sync::Arc<tsdb::facts::Snapshot> {
        let mut updates = self.state.monitor.subscribe();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Some(snapshot) = updates.borrow_and_update().clone() {
                if after.is_none_or(|t| snapshot.taken_at > t) {
                    return snapshot;
                }
            }
            tokio::time::timeout_at(deadline, updates.changed())
                .await
                .expect("a monitoring snapshot within 60 s")
                .expect("the refresher is running");
        }
    }

    /// Waits for a snapshot whose pass started after `moment`, so it saw everything
    /// done before then (a pass already under way may not have).
    pub async fn snapshot_started_after(
        &self,
        moment: chrono::DateTime<chrono::Utc>,
    ) -> std::sync::Arc<tsdb::facts::Snapshot> {
        let mut snapshot = self.snapshot_after(Some(moment)).await;
        loop {
            let started = snapshot.taken_at
                - chrono::Duration::milliseconds((snapshot.pass_seconds * 1000.0) as i64);
            if started > moment {
                return snapshot;
            }
            snapshot = self.snapshot_after(Some(snapshot.taken_at)).await;
        }
    }

    /// The id of a job the published snapshot knows (job pages answer 404 for others):
    /// the first one, or a retention policy added on `metric_hist` when there is none.
    pub async fn some_job(&self) -> i64 {
        let snapshot = self.snapshot_after(None).await;
        if let Some(job) = snapshot.jobs.first() {
            return job.id;
        }
        let id: i32 = sqlx::query_scalar(
            "SELECT add_retention_policy('factory_telemetry.metric_hist', INTERVAL '400 days', if_not_exists => true)",
        )
        .fetch_one(&self.pool())
        .await
        .unwrap();
        self.state.monitor.request_refresh();
        let mut snapshot = snapshot;
        loop {
            snapshot = self.snapshot_after(Some(snapshot.taken_at)).await;
            if snapshot.jobs.iter().any(|j| j.id == i64::from(id)) {
                return i64::from(id);
            }
        }
    }

    /// The pool.
    pub fn pool(&self) -> sqlx::PgPool {
        self.state.pool().unwrap()
    }

    /// Runs the start-up policy apply as `serve` does (steps that would drop data held).
    pub async fn apply_policies_at_startup(&self) {
        let (_stop, stopped) = server::shutdown::channel();
        server::tasks::policy_reconciler::run(self.state.clone(), true, stopped)
            .await
            .unwrap();
    }

    /// Whether TimescaleDB schedules `job`, read in the database.
    pub async fn job_scheduled(&self, job: i32) -> bool {
        sqlx::query_scalar("SELECT scheduled FROM timescaledb_information.jobs WHERE job_id = $1")
            .bind(job)
            .fetch_one(&self.pool())
            .await
            .unwrap()
    }

    /// Creates a user through the engine (as the CLI does).
    pub async fn add_user(&self, username: &str, role: Role, password: &str) -> i64 {
        let hash = app::auth::password::hash(password).unwrap();
        tsdb::users::create(
            &self.pool(),
            &tsdb::audit::Actor::System,
            Some("test"),
            tsdb::users::NewUser {
                username,
                role,
                password_hash: &hash,
            },
        )
        .await
        .unwrap()
        .id
    }

    /// Creates a token for `role`; returns its secret.
    pub async fn add_token(&self, name: &str, role: Role) -> String {
        let generated = app::auth::token_secret::generate().unwrap();
        tsdb::tokens::create(
            &self.pool(),
            &tsdb::audit::Actor::System,
            None,
            tsdb::tokens::NewToken {
                name,
                role,
                prefix: &generated.prefix,
                sha256: generated.sha256,
                expires_at: chrono::Utc::now() + chrono::Duration::days(1),
                created_by: None,
            },
        )
        .await
        .unwrap();
        generated.secret
    }

    /// Starts a request.
    pub fn request(&self, method: &str, uri: &str) -> Call {
        Call {
            router: self.router.clone(),
            method: method.to_string(),
            uri: uri.to_string(),
            headers: vec![
                ("host".into(), "console.test".into()),
                ("origin".into(), "http://console.test".into()),
            ],
            body: String::new(),
            addr: SocketAddr::from(([192, 0, 2, 1], 40000)),
        }
    }

    /// Calls a server function as the session `cookie`, its arguments as a form.
    pub async fn call_fn(&self, cookie: &str, path: &str, form: &[(&str, &str)]) -> Reply {
        self.request("POST", path)
            .cookie(cookie)
            .form(form)
            .send()
            .await
    }

    /// Signs in through the login server function; returns the session cookie.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let response = self
            .request("POST", "/api/fn/login")
            .form(&[("username", username), ("password", password)])
            .send()
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        response.session_cookie().expect("a session cookie")
    }
}

/// Every page's address, its parameters filled with a demo table and a job the console knows.
pub async fn page_paths(console: &Console) -> Vec<String> {
    let job = console.some_job().await;
    leptos_axum::generate_route_list(app::App)
        .iter()
        .map(|route| {
            route
                .path()
                .replace("{schema}", "factory_telemetry")
                .replace("{name}", "metric_hist")
                .replace("{id}", &job.to_string())
        })
        .collect()
}

/// One request being built.
pub struct Call {
    router: axum::Router,
    method: String,
    uri: String,
    headers: Vec<(String, String)>,
    body: String,
    addr: SocketAddr,
}

/// Percent-encodes a form value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Call {
    /// Adds or replaces a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| n != name);
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Removes a header.
    pub fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| n != name);
        self
    }

    /// Sends the session cookie.
    pub fn cookie(self, cookie: &str) -> Self {
        let value = format!("{}={cookie}", server::http::SESSION_COOKIE);
        self.header("cookie", &value)
    }

    /// Sends an API token.
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// Sends a URL-encoded form.
    pub fn form(mut self, fields: &[(&str, &str)]) -> Self {
        self.body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self
    }

    /// Sends a JSON body.
    pub fn json(mut self, value: &serde_json::Value) -> Self {
        self.body = value.to_string();
        self.header("content-type", "application/json")
    }

    /// Comes from this client address.
    pub fn client_at(mut self, addr: [u8; 4]) -> Self {
        self.addr = SocketAddr::from((addr, 40000));
        self
    }

    /// Sends it through the router.
    pub async fn send(self) -> Reply {
        let mut builder = Request::builder()
            .method(self.method.as_str())
            .uri(&self.uri);
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        let typed = self.headers.iter().any(|(n, _)| n == "content-type");
        if self.method == "POST" && !typed {
            builder = builder.header("content-type", "application/x-www-form-urlencoded");
        }
        let mut request = builder.body(Body::from(self.body)).unwrap();
        request.extensions_mut().insert(ConnectInfo(self.addr));
        let response = self.router.oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        // An event stream never ends: its body is not read here.
        let streaming = headers
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        let body = if streaming {
            Default::default()
        } else {
            response.into_body().collect().await.unwrap().to_bytes()
        };
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }
}

/// A response.
pub struct Reply {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body as text.
    pub body: String,
}

impl Reply {
    /// The `Set-Cookie` header of the session cookie, whole.
    pub fn set_cookie(&self) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{}=", server::http::SESSION_COOKIE)))
            .map(str::to_string)
    }

    /// The session cookie's value, when one was set.
    pub fn session_cookie(&self) -> Option<String> {
        let header = self.set_cookie()?;
        let first = header.split(';').next()?;
        let value = first.split_once('=')?.1;
        (!value.is_empty()).then(|| value.to_string())
    }
}
