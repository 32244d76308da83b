//! The session store: tower-sessions' PostgreSQL store in the console's schema, reached
//! through the state because the pool only exists once start-up has connected. Records
//! read are kept for a few seconds under the credentials epoch (as `cache` keeps verified
//! callers), so a page request needs no database round trip to find its session; writes
//! and deletions go to the database at once.

use crate::state::AppState;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result};
use tower_sessions::SessionStore;
use tower_sessions_sqlx_store::PostgresStore;

/// Sessions in `console.sessions` (created by the migrations, not by the store).
#[derive(Clone)]
pub struct ConsoleSessionStore {
    state: AppState,
}

impl std::fmt::Debug for ConsoleSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsoleSessionStore")
    }
}

impl ConsoleSessionStore {
    /// A store that reads the pool from `state` on each use.
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    fn inner(&self) -> Result<PostgresStore> {
        let pool = self
            .state
            .pool()
            .map_err(|_| Error::Backend("the database is not connected yet".into()))?;
        PostgresStore::new(pool)
            .with_schema_name("console")
            .and_then(|store| store.with_table_name("sessions"))
            .map_err(Error::Backend)
    }
}

#[async_trait::async_trait]
impl SessionStore for ConsoleSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        self.inner()?.create(record).await?;
        self.state.credentials.keep_session_record(record);
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.state.credentials.drop_session_record(&record.id);
        self.inner()?.save(record).await?;
        self.state.credentials.keep_session_record(record);
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        if let Some(record) = self.state.credentials.session_record(id) {
            return Ok(Some(record));
        }
        let _alone = self.state.credentials.load_alone(id).await;
        if let Some(record) = self.state.credentials.session_record(id) {
            return Ok(Some(record));
        }
        self.state.credentials.count_record_read();
        let loaded = self.inner()?.load(id).await?;
        if let Some(record) = &loaded {
            self.state.credentials.keep_session_record(record);
        }
        Ok(loaded)
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.state.credentials.drop_session_record(id);
        self.inner()?.delete(id).await
    }
}
