//! The session store: tower-sessions' PostgreSQL store in the console's schema, reached
//! through the state because the pool only exists once start-up has connected.

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
        self.inner()?.create(record).await
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.inner()?.save(record).await
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        self.inner()?.load(id).await
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.inner()?.delete(id).await
    }
}
