//! The application (API key) store: a SQLite table `applications`, shared by the server (reading) and the
//! `imgflo app` command (writing).
//!
//! * WAL mode and a busy timeout, so both processes can use the file at once.
//! * No caching: every lookup reads the table, so changes made by the CLI take effect without a restart.
//! * Migrations are tracked with `PRAGMA user_version`, run on open, idempotent, and accept a database created
//!   by the original imgflo-server (knex; no `admin` column, timestamps as epoch milliseconds).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior};

/// One application: an API key with its secret and permissions.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct App {
    pub key: String,
    pub secret: String,
    pub label: String,
    pub owner_email: String,
    pub processing_quota: i64,
    pub enabled: bool,
    pub admin: bool,
    /// RFC 3339 UTC (empty for keys from environment variables).
    pub created_at: String,
    /// RFC 3339 UTC (empty for keys from environment variables).
    pub updated_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid application: {0}")]
    Invalid(String),
    #[error("no application with key {0:?}")]
    NotFound(String),
    #[error("unsupported DATABASE_URL scheme {0:?}: only SQLite is supported (sqlite://PATH, sqlite:PATH or a path)")]
    UnsupportedDatabase(String),
    #[error("application database schema version {0} is newer than this imgflo supports ({SCHEMA_VERSION})")]
    SchemaTooNew(i64),
    #[error("cannot create {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("application database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("random number generator failed: {0}")]
    Random(getrandom::Error),
}

/// Latest schema version (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 2;

/// How long a writer waits for another process's lock before failing with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const COLUMNS: &str = "key, secret, label, owner_email, processing_quota, enabled, admin, created_at, updated_at";

/// Current time as RFC 3339 UTC with milliseconds, computed by SQLite.
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/// The database file: `DATABASE_URL` if set (and non-empty), else `<data_dir>/imgflo.db`.
///
/// Accepted `DATABASE_URL` forms: `sqlite://PATH`, `sqlite:PATH` or a plain path (relative paths are relative to
/// the working directory; `sqlite:///abs` is absolute). The original's `sqlite://user:pass@host/PATH` form is
/// accepted too (the credentials are ignored). Any other scheme is an error.
pub fn database_path(data_dir: &Path, database_url: Option<&str>) -> Result<PathBuf, AppError> {
    let Some(url) = database_url.map(str::trim).filter(|u| !u.is_empty()) else {
        return Ok(data_dir.join("imgflo.db"));
    };
    let rest = if let Some(rest) = url.strip_prefix("sqlite://") {
        // knex form: sqlite://user:pass@localhost/abs/path -> /abs/path
        match rest.find('/') {
            Some(slash) if rest[..slash].contains('@') => &rest[slash..],
            None if rest.contains('@') => {
                return Err(AppError::Invalid("DATABASE_URL has no database path after the host".into()))
            }
            _ => rest,
        }
    } else if let Some(rest) = url.strip_prefix("sqlite:") {
        rest
    } else if let Some(sep) = url.find("://") {
        // Only the scheme: the rest may hold a password.
        return Err(AppError::UnsupportedDatabase(url[..sep].to_string()));
    } else if let Some(scheme) = ["postgres:", "postgresql:", "mysql:"].iter().find(|s| url.starts_with(**s)) {
        return Err(AppError::UnsupportedDatabase(scheme.trim_end_matches(':').to_string()));
    } else {
        return Ok(PathBuf::from(url));
    };
    if rest.is_empty() {
        return Err(AppError::Invalid("DATABASE_URL has no database path".into()));
    }
    if rest.contains('?') || rest == ":memory:" {
        return Err(AppError::Invalid(
            "DATABASE_URL: query parameters and in-memory databases are not supported; give a file path".into(),
        ));
    }
    Ok(PathBuf::from(rest))
}

/// Handle on the application database; cheap to clone (one shared connection).
#[derive(Clone)]
pub struct AppStore {
    conn: Arc<Mutex<Connection>>,
}

impl fmt::Debug for AppStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppStore").finish_non_exhaustive()
    }
}

impl AppStore {
    /// Opens (creating the parent directories and the file if needed) and migrates the database.
    pub fn open(path: &Path) -> Result<AppStore, AppError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| AppError::Io { path: parent.to_path_buf(), source })?;
        }
        create_private_file(path)?;
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Returns the resulting mode as a row; WAL lets the server read while the CLI writes.
        let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Self::init(conn)
    }

    /// A private, empty database (tests, and servers configured without a data directory).
    pub fn open_in_memory() -> Result<AppStore, AppError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<AppStore, AppError> {
        migrate(&mut conn)?;
        Ok(AppStore { conn: Arc::new(Mutex::new(conn)) })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave the connection half-updated (SQLite is transactional).
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds an enabled application with a fresh random key and secret.
    pub fn add(&self, owner_email: &str, label: &str, quota: i64, admin: bool) -> Result<App, AppError> {
        validate(owner_email, label, quota)?;
        let (key, secret) = (random_hex()?, random_hex()?);
        let conn = self.conn();
        conn.prepare_cached(&format!(
            "INSERT INTO applications ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, {NOW}, {NOW})"
        ))?
        .execute(rusqlite::params![key, secret, label, owner_email, quota, admin])?;
        get_with(&conn, &key)?.ok_or(AppError::NotFound(key))
    }

    /// Every application, oldest first.
    pub fn list(&self) -> Result<Vec<App>, AppError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM applications ORDER BY created_at, key"))?;
        let rows = stmt.query_map([], read_app)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    pub fn get(&self, key: &str) -> Result<Option<App>, AppError> {
        get_with(&self.conn(), key)
    }

    /// Changes the enabled flag and/or the quota (None = unchanged); returns the updated record.
    pub fn set(&self, key: &str, enabled: Option<bool>, quota: Option<i64>) -> Result<App, AppError> {
        if let Some(q) = quota {
            validate_quota(q)?;
        }
        let conn = self.conn();
        if enabled.is_some() || quota.is_some() {
            let changed = conn
                .prepare_cached(&format!(
                    "UPDATE applications SET enabled = COALESCE(?2, enabled), \
                     processing_quota = COALESCE(?3, processing_quota), updated_at = {NOW} WHERE key = ?1"
                ))?
                .execute(rusqlite::params![key, enabled, quota])?;
            if changed == 0 {
                return Err(AppError::NotFound(key.to_string()));
            }
        }
        get_with(&conn, key)?.ok_or_else(|| AppError::NotFound(key.to_string()))
    }

    /// Deletes an application; false if there was none with that key.
    pub fn remove(&self, key: &str) -> Result<bool, AppError> {
        let conn = self.conn();
        let n = conn.prepare_cached("DELETE FROM applications WHERE key = ?1")?.execute([key])?;
        Ok(n > 0)
    }

    pub fn count(&self) -> Result<u64, AppError> {
        let conn = self.conn();
        let n: i64 = conn.prepare_cached("SELECT COUNT(*) FROM applications")?.query_row([], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

fn get_with(conn: &Connection, key: &str) -> Result<Option<App>, AppError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM applications WHERE key = ?1"))?;
    Ok(stmt.query_row([key], read_app).optional()?)
}

/// The database file holds secrets: create it readable by the owner only (SQLite gives -wal/-shm the same mode).
fn create_private_file(path: &Path) -> Result<(), AppError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(AppError::Io { path: path.to_path_buf(), source }),
    }
}

fn migrate(conn: &mut Connection) -> Result<(), AppError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(AppError::SchemaTooNew(version));
    }
    if version < 1 {
        // Same shape as the original's knex migration (which may already have created it), plus `admin`.
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS applications (
                key TEXT PRIMARY KEY NOT NULL,
                secret TEXT NOT NULL,
                label TEXT NOT NULL,
                owner_email TEXT NOT NULL,
                processing_quota INTEGER NOT NULL,
                enabled BOOLEAN NOT NULL,
                admin BOOLEAN NOT NULL DEFAULT 0,
                created_at TEXT,
                updated_at TEXT
            )",
        )?;
    }
    if version < 2 {
        // A table created by the original imgflo-server has no `admin` column.
        let has_admin: bool =
            tx.prepare("SELECT 1 FROM pragma_table_info('applications') WHERE name = 'admin'")?.exists([])?;
        if !has_admin {
            tx.execute_batch("ALTER TABLE applications ADD COLUMN admin BOOLEAN NOT NULL DEFAULT 0")?;
        }
    }
    if version < SCHEMA_VERSION {
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    }
    tx.commit()?;
    Ok(())
}

fn validate(owner_email: &str, label: &str, quota: i64) -> Result<(), AppError> {
    match owner_email.find('@') {
        Some(at) if at > 0 && at + 1 < owner_email.len() => {}
        _ => {
            return Err(AppError::Invalid(format!(
                "owner email {owner_email:?} must look like name@domain ('@' neither first nor last)"
            )))
        }
    }
    if label.trim().is_empty() {
        return Err(AppError::Invalid("label must not be empty".into()));
    }
    validate_quota(quota)
}

fn validate_quota(quota: i64) -> Result<(), AppError> {
    if quota < 0 {
        return Err(AppError::Invalid(format!("processing quota must be >= 0, got {quota}")));
    }
    Ok(())
}

/// 128 random bits as 32 lowercase hex characters.
fn random_hex() -> Result<String, AppError> {
    let mut buf = [0u8; 16];
    getrandom::fill(&mut buf).map_err(AppError::Random)?;
    Ok(hex::encode(buf))
}

/// Reads a row leniently: the original stored booleans as 0/1 and timestamps as epoch milliseconds.
fn read_app(row: &Row<'_>) -> rusqlite::Result<App> {
    Ok(App {
        key: text(row.get(0)?),
        secret: text(row.get(1)?),
        label: text(row.get(2)?),
        owner_email: text(row.get(3)?),
        processing_quota: integer(row.get(4)?),
        enabled: boolean(row.get(5)?),
        admin: boolean(row.get(6)?),
        created_at: timestamp(row.get(7)?),
        updated_at: timestamp(row.get(8)?),
    })
}

fn text(v: Value) -> String {
    match v {
        Value::Text(s) => s,
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => f.to_string(),
        Value::Blob(b) => String::from_utf8_lossy(&b).into_owned(),
        Value::Null => String::new(),
    }
}

fn integer(v: Value) -> i64 {
    match v {
        Value::Integer(i) => i,
        Value::Real(f) => f as i64,
        Value::Text(s) => s.trim().parse().unwrap_or(0),
        Value::Blob(_) | Value::Null => 0,
    }
}

fn boolean(v: Value) -> bool {
    match v {
        Value::Integer(i) => i != 0,
        Value::Real(f) => f != 0.0,
        Value::Text(s) => matches!(s.trim().to_ascii_lowercase().as_str(), "1" | "t" | "true"),
        Value::Blob(_) | Value::Null => false,
    }
}

fn timestamp(v: Value) -> String {
    match v {
        Value::Integer(ms) => rfc3339_from_millis(ms),
        Value::Real(ms) => rfc3339_from_millis(ms as i64),
        other => text(other),
    }
}

/// Epoch milliseconds → `YYYY-MM-DDTHH:MM:SS.mmmZ` (proleptic Gregorian, UTC).
fn rfc3339_from_millis(ms: i64) -> String {
    let (secs, millis) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z", sod / 3600, sod % 3600 / 60, sod % 60)
}

/// A fresh, unique directory under the system temp dir (removed by the caller).
#[cfg(test)]
pub(crate) fn test_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("imgflo-{name}-{}-{}", std::process::id(), random_hex().unwrap()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_get_list_set_remove() {
        let store = AppStore::open_in_memory().unwrap();
        assert_eq!(store.count().unwrap(), 0);
        let a = store.add("me@example.com", "first", 1, false).unwrap();
        assert_eq!(a.key.len(), 32);
        assert_eq!(a.secret.len(), 32);
        assert!(a.key.chars().chain(a.secret.chars()).all(|c| matches!(c, '0'..='9' | 'a'..='f')));
        assert_ne!(a.key, a.secret);
        assert!(a.enabled && !a.admin);
        assert_eq!(a.processing_quota, 1);
        assert!(a.created_at.ends_with('Z') && a.created_at.len() == 24, "{}", a.created_at);
        assert_eq!(a.created_at, a.updated_at);
        let b = store.add("you@example.com", "second", 0, true).unwrap();
        assert!(b.admin);
        assert_eq!(store.count().unwrap(), 2);
        assert_eq!(store.get(&a.key).unwrap(), Some(a.clone()));
        assert_eq!(store.get("nope").unwrap(), None);
        let keys: Vec<_> = store.list().unwrap().into_iter().map(|x| x.key).collect();
        assert_eq!(keys.len(), 2);
        assert!(keys.contains(&a.key) && keys.contains(&b.key));

        let changed = store.set(&a.key, Some(false), None).unwrap();
        assert!(!changed.enabled);
        assert_eq!(changed.processing_quota, 1);
        let changed = store.set(&a.key, None, Some(7)).unwrap();
        assert!(!changed.enabled);
        assert_eq!(changed.processing_quota, 7);
        assert_eq!(store.get(&a.key).unwrap(), Some(changed));
        assert!(matches!(store.set("nope", Some(true), None), Err(AppError::NotFound(_))));
        assert!(matches!(store.set("nope", None, None), Err(AppError::NotFound(_))));

        assert!(store.remove(&a.key).unwrap());
        assert!(!store.remove(&a.key).unwrap());
        assert_eq!(store.count().unwrap(), 1);
    }

    #[test]
    fn list_is_ordered_by_creation() {
        let store = AppStore::open_in_memory().unwrap();
        let first = store.add("a@b", "one", 1, false).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        let second = store.add("a@b", "two", 1, false).unwrap();
        let keys: Vec<_> = store.list().unwrap().into_iter().map(|x| x.key).collect();
        assert_eq!(keys, vec![first.key, second.key]);
    }

    #[test]
    fn validation() {
        let store = AppStore::open_in_memory().unwrap();
        for email in ["", "@example.com", "nobody", "me@"] {
            match store.add(email, "label", 1, false) {
                Err(AppError::Invalid(msg)) => assert!(msg.contains("email"), "{msg}"),
                other => panic!("{email:?}: {other:?}"),
            }
        }
        assert!(matches!(store.add("a@b", "", 1, false), Err(AppError::Invalid(m)) if m.contains("label")));
        assert!(matches!(store.add("a@b", "  ", 1, false), Err(AppError::Invalid(_))));
        assert!(matches!(store.add("a@b", "x", -1, false), Err(AppError::Invalid(m)) if m.contains("quota")));
        assert!(store.add("a@b", "x", 0, false).is_ok());
        let key = store.list().unwrap()[0].key.clone();
        assert!(matches!(store.set(&key, None, Some(-5)), Err(AppError::Invalid(_))));
        assert_eq!(store.count().unwrap(), 1);
    }

    #[test]
    fn file_store_reopens_and_shares_changes() {
        let dir = test_dir("apps");
        let path = dir.join("sub/dir/imgflo.db");
        let server = AppStore::open(&path).unwrap();
        let cli = AppStore::open(&path).unwrap();
        let app = cli.add("a@b", "shared", 1, false).unwrap();
        assert_eq!(server.get(&app.key).unwrap(), Some(app.clone()));
        cli.set(&app.key, Some(false), None).unwrap();
        assert!(!server.get(&app.key).unwrap().unwrap().enabled);
        drop((server, cli));
        let again = AppStore::open(&path).unwrap();
        assert_eq!(again.count().unwrap(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let mode: String = again.conn().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        drop(again);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn migrates_original_database() {
        let dir = test_dir("apps-legacy");
        let path = dir.join("imgflo-server.db");
        {
            // What knex + node-sqlite3 produced: no admin column, 0/1 booleans, epoch-ms timestamps.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE knex_migrations (id integer not null primary key autoincrement, name varchar(255));
                 CREATE TABLE applications (key varchar(255), secret varchar(255) not null,
                   label varchar(255) not null, owner_email varchar(255) not null,
                   processing_quota integer not null, enabled boolean not null,
                   created_at datetime, updated_at datetime, primary key (key));
                 INSERT INTO applications VALUES ('oldkey', 'oldsecret', 'legacy', 'x@y', 1, 1,
                   1429048346123, 1429048346123);
                 INSERT INTO applications VALUES ('off', 's', 'disabled', 'x@y', 0, 0, NULL, NULL);",
            )
            .unwrap();
        }
        let store = AppStore::open(&path).unwrap();
        let old = store.get("oldkey").unwrap().unwrap();
        assert_eq!(old.secret, "oldsecret");
        assert!(old.enabled && !old.admin);
        assert_eq!(old.created_at, "2015-04-14T21:52:26.123Z");
        let off = store.get("off").unwrap().unwrap();
        assert!(!off.enabled);
        assert_eq!(off.created_at, "");
        let new = store.add("a@b", "new", 1, true).unwrap();
        assert!(store.get(&new.key).unwrap().unwrap().admin);
        drop(store);
        // Idempotent: opening again changes nothing.
        let store = AppStore::open(&path).unwrap();
        assert_eq!(store.count().unwrap(), 3);
        let version: i64 = store.conn().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn refuses_newer_schema() {
        let dir = test_dir("apps-newer");
        let path = dir.join("imgflo.db");
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(AppStore::open(&path), Err(AppError::SchemaTooNew(99))));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn timestamps_from_millis() {
        assert_eq!(rfc3339_from_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_from_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_from_millis(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(rfc3339_from_millis(1_700_000_000_456), "2023-11-14T22:13:20.456Z");
    }

    #[test]
    fn database_paths() {
        let dir = Path::new("/data");
        let p = |url: Option<&str>| database_path(dir, url);
        assert_eq!(p(None).unwrap(), PathBuf::from("/data/imgflo.db"));
        assert_eq!(p(Some("")).unwrap(), PathBuf::from("/data/imgflo.db"));
        assert_eq!(p(Some("sqlite://x/apps.db")).unwrap(), PathBuf::from("x/apps.db"));
        assert_eq!(p(Some("sqlite:///abs/apps.db")).unwrap(), PathBuf::from("/abs/apps.db"));
        assert_eq!(p(Some("sqlite:apps.db")).unwrap(), PathBuf::from("apps.db"));
        assert_eq!(p(Some("/var/lib/apps.db")).unwrap(), PathBuf::from("/var/lib/apps.db"));
        assert_eq!(p(Some("sqlite://user:pass@localhost/srv/../imgflo-server.db")).unwrap(), {
            PathBuf::from("/srv/../imgflo-server.db")
        });
        for bad in ["postgres://u:hunter2@db/x", "postgresql://db/x", "mysql://db", "postgres:x"] {
            match p(Some(bad)) {
                Err(e @ AppError::UnsupportedDatabase(_)) => assert!(!e.to_string().contains("hunter2"), "{e}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        for bad in ["sqlite://", "sqlite:", "sqlite::memory:", "sqlite://a.db?mode=ro", "sqlite://u:p@host"] {
            assert!(matches!(p(Some(bad)), Err(AppError::Invalid(_))), "{bad}");
        }
    }
}
