//! The store: the same SQL on both backends, through sqlx's `Any` driver.
//!
//! This module holds the handle and what every subject shares: opening the database (URL,
//! pools, migrations) and the small statements several subjects run. Each subject adds its
//! methods to [`Store`] in its own module (`sessions`, `postes`, `tokens`, `enrollment`,
//! `events`, `staff`, `register`, `requests`, `instances`).

use std::path::Path;
use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

use crate::error::{Result, StoreError};
use crate::model::{Backend, Millis};

static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// SQLite readers beside the one writer (WAL: readers never wait for it).
const SQLITE_READERS: u32 = 8;

/// Handle on the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    /// For reads. On PostgreSQL the same pool as `writer`.
    pub(crate) pool: AnyPool,
    /// For every write. On SQLite one connection: SQLite lets one writer in at a time, and
    /// writers racing for its lock on several connections wait in its busy handler, which
    /// sleeps and polls (up to 100 ms a turn): under a burst of connecting workstations the
    /// writes queued for seconds (docs/benchmarks.md). Here they queue in the pool, first
    /// come first served, and each starts the instant the previous one commits.
    pub(crate) writer: AnyPool,
    backend: Backend,
    origin: String,
    /// The PostgreSQL URL, for the LISTEN connection (None on SQLite).
    pub(crate) url: Option<SecretUrl>,
}

/// A database URL that may hold a password: never printed.
#[derive(Clone)]
pub(crate) struct SecretUrl(String);

impl std::ops::Deref for SecretUrl {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

impl Store {
    /// Opens `url` (`sqlite:PATH` / `sqlite://PATH?mode=rwc`, creating the file and its parent
    /// directory; or `postgres://…`), switches SQLite to WAL, applies the migrations, and writes
    /// the comparison keys of names that lack one or hold a stale one (`NamesFoldAlike` while
    /// two fold alike).
    /// `origin` names this process in the events it writes (the server uses a random instance id).
    pub async fn connect(url: &str, origin: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let (backend, url) = normalise_url(url)?;
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|_| StoreError::UnsupportedUrl(redact(&url)))?;

        let (pool, writer) = match backend {
            Backend::Sqlite => {
                let writer = sqlite_pool(1, false).connect_with(options.clone()).await?;
                // Persists in the file; must happen before anything else writes.
                let mode: String = sqlx::query_scalar("PRAGMA journal_mode = WAL")
                    .fetch_one(&writer)
                    .await?;
                if !mode.eq_ignore_ascii_case("wal") {
                    tracing::warn!(journal_mode = %mode, "SQLite refused WAL mode");
                }
                SQLITE_MIGRATOR.run(&writer).await?;
                crate::names::fill_keys(&writer).await?;
                // Debug builds (the tests) open the readers read-only, so that a write sent
                // to the wrong pool fails loudly instead of contending for the lock.
                let readers = sqlite_pool(SQLITE_READERS, cfg!(debug_assertions))
                    .connect_with(options)
                    .await?;
                (readers, writer)
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new().connect_with(options).await?;
                POSTGRES_MIGRATOR.run(&pool).await?;
                crate::names::fill_keys(&pool).await?;
                (pool.clone(), pool)
            }
        };

        Ok(Store {
            pool,
            writer,
            backend,
            origin: origin.to_owned(),
            url: (backend == Backend::Postgres).then(|| SecretUrl(url.clone())),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The instance id this store writes into `events.origin`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Cheap round trip, for readiness checks.
    pub async fn ping(&self) -> Result<()> {
        self.pool.execute("SELECT 1").await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    /// Runs a `… SET <time column> = $2 WHERE id = $1`; `NotFound` when no row has that id.
    pub(crate) async fn touch(
        &self,
        sql: &'static str,
        what: &'static str,
        id: i64,
        now: Millis,
    ) -> Result<()> {
        let done = sqlx::query(sql)
            .bind(id)
            .bind(now)
            .execute(&self.writer)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what,
                id: id.to_string(),
            });
        }
        Ok(())
    }
}

/// Picks the backend from the scheme and, for SQLite, rewrites the URL so that sqlx opens
/// (and creates) exactly the file meant, its directory created beforehand.
fn normalise_url(url: &str) -> Result<(Backend, String)> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Backend::Postgres, url.to_owned()));
    }
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return Err(StoreError::UnsupportedUrl(redact(url)));
    };
    let (encoded_path, params) = rest.split_once('?').unwrap_or((rest, ""));
    let path =
        percent_decode(encoded_path).ok_or_else(|| StoreError::UnsupportedUrl(url.to_owned()))?;
    let params: Vec<&str> = params.split('&').filter(|p| !p.is_empty()).collect();
    let in_memory = path == ":memory:" || params.contains(&"mode=memory");
    if path.is_empty() && !in_memory {
        return Err(StoreError::UnsupportedUrl(url.to_owned()));
    }
    if in_memory {
        return Ok((Backend::Sqlite, url.to_owned()));
    }

    let path = std::path::absolute(Path::new(&path))
        .map_err(|err| StoreError::Unavailable(sqlx::Error::Io(err)))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|err| StoreError::Unavailable(sqlx::Error::Io(err)))?;
    }
    let mut normalised = format!(
        "sqlite:{}?mode=rwc",
        percent_encode(&path.to_string_lossy())
    );
    for param in params.iter().filter(|p| !p.starts_with("mode=")) {
        normalised.push('&');
        normalised.push_str(param);
    }
    Ok((Backend::Sqlite, normalised))
}

/// Encodes what would otherwise end or alter the path part of a URL.
fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if matches!(c, '%' | '?' | '#' | ' ' | '"' | '<' | '>' | '`' | '{' | '}') || c.is_control()
        {
            let mut buf = [0; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Decodes `%XX` sequences; None when they do not form UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The URL without its password, for error messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let authority = &url[scheme_end + 3..at];
            match authority.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Options of a SQLite pool of `max` connections; `read_only` connections refuse every write.
fn sqlite_pool(max: u32, read_only: bool) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        // Per connection. FULL: a commit is on the disk (the WAL fsynced) before it is
        // confirmed. NORMAL never corrupts a WAL database, but loses the last commits on a
        // power cut or when the filesystem goes read-only on a disk error: a printed code would
        // no longer exist, a started session would be waiting again (its code usable twice), an
        // end or added time forgotten. Shown by `storage::a_filesystem_gone_read_only_…`
        // (poste-server).
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                conn.execute("PRAGMA synchronous = FULL").await?;
                if read_only {
                    conn.execute("PRAGMA query_only = ON").await?;
                }
                Ok(())
            })
        })
        // When COMMIT fails (disk full, read-only file), SQLite keeps the transaction open
        // while sqlx counts it as done: the connection went back to the pool holding the write
        // lock, and every other writer got "database is locked" forever, even once space was
        // back. A connection coming back is never inside a transaction on purpose, so roll back
        // whatever is left; the error when nothing is open is expected and ignored.
        .after_release(|conn, _meta| {
            Box::pin(async move {
                let _ = conn.execute("ROLLBACK").await;
                Ok(true)
            })
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_become_absolute_with_rwc() {
        let dir = std::env::temp_dir().join(format!("poste-store-url-{}", std::process::id()));
        let abs = dir.join("sub").join("db.sqlite");
        let abs = abs.to_str().unwrap();
        let (backend, url) =
            normalise_url(&format!("sqlite://{abs}?mode=ro&cache=private")).unwrap();
        assert_eq!(backend, Backend::Sqlite);
        assert_eq!(url, format!("sqlite:{abs}?mode=rwc&cache=private"));
        assert!(dir.join("sub").is_dir());
        let (_, url) = normalise_url(&format!("sqlite:{abs}")).unwrap();
        assert_eq!(url, format!("sqlite:{abs}?mode=rwc"));

        let (_, url) = normalise_url("sqlite:relative.db").unwrap();
        let expected = std::env::current_dir().unwrap().join("relative.db");
        assert_eq!(url, format!("sqlite:{}?mode=rwc", expected.display()));

        let root = dir.to_str().unwrap();
        let (_, url) = normalise_url(&format!("sqlite:{root}/a%20b/c.db")).unwrap();
        assert_eq!(url, format!("sqlite:{root}/a%20b/c.db?mode=rwc"));
        assert!(dir.join("a b").is_dir());
        let (_, url) = normalise_url(&format!("sqlite:{root}/a%3Fb.db")).unwrap();
        assert_eq!(url, format!("sqlite:{root}/a%3Fb.db?mode=rwc"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn other_urls() {
        assert_eq!(
            normalise_url("postgres://u:p@h/db").unwrap(),
            (Backend::Postgres, "postgres://u:p@h/db".to_owned())
        );
        assert_eq!(
            normalise_url("postgresql://h/db").unwrap().0,
            Backend::Postgres
        );
        assert_eq!(
            normalise_url("sqlite::memory:").unwrap().1,
            "sqlite::memory:"
        );
        assert!(matches!(
            normalise_url("mysql://h/db"),
            Err(StoreError::UnsupportedUrl(_))
        ));
        assert!(matches!(
            normalise_url("sqlite:"),
            Err(StoreError::UnsupportedUrl(_))
        ));
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("mysql://u:secret@h/db"), "mysql://u:***@h/db");
        assert_eq!(redact("mysql://h/db"), "mysql://h/db");
    }
}
