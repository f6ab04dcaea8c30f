//! Store errors, typed so the server can tell a refused transition from a dead database.

use sqlx::error::DatabaseError;

use crate::model::SessionRow;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or refuses to work (connection lost, pool timed out,
    /// file not writable, disk full). The operation did nothing; it may be retried later.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// Any other database error (a bug or a corrupted schema).
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("schema migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL `{0}` (expected sqlite:… or postgres://…)")]
    UnsupportedUrl(String),
    /// The row does not exist.
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    /// A unique name is already taken (workstation name, token name).
    #[error("{what} `{name}` already exists")]
    AlreadyExists { what: &'static str, name: String },
    /// The session is not in a state that allows this transition; carries its current row.
    #[error("session {} is {}", .0.id, .0.status.as_str())]
    WrongState(Box<SessionRow>),
    /// An enrollment request was refused: `reason` says why (unknown/used/expired code, code
    /// reserved for another name, workstation already enrolled, wrong request key…).
    #[error("enrollment refused: {0:?}")]
    EnrollmentRefused(EnrollmentRefusal),
    /// A request was already answered (by another staff member, or the session ended).
    #[error("{what} {id} was already answered")]
    AlreadyAnswered { what: &'static str, id: i64 },
    /// No free code could be found after several tries (alphabet or length too small).
    #[error("could not generate a unique access code")]
    CodeSpaceExhausted,
    /// A change to a staff account was refused: `reason` says why.
    #[error("staff change refused: {0:?}")]
    StaffRefused(StaffRefusal),
    /// A change to a public space, or a workstation's move between spaces, was refused:
    /// `reason` says why.
    #[error("space change refused: {0:?}")]
    SpaceRefused(SpaceRefusal),
    /// At start-up: names that must differ once case is set aside (decision 0015) do not;
    /// nothing was changed. Someone renames one of each group, then the store opens.
    #[error("names that differ only by case: {0:?}")]
    NamesFoldAlike(Vec<crate::names::NameClash>),
}

impl StoreError {
    /// `NotFound` for the row `what` of that id (or name).
    pub(crate) fn not_found(what: &'static str, id: impl ToString) -> StoreError {
        StoreError::NotFound {
            what,
            id: id.to_string(),
        }
    }
}

/// Classifies a sqlx error: connectivity and I/O problems are `Unavailable`.
impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if is_unavailable(&err) {
            StoreError::Unavailable(err)
        } else {
            StoreError::Database(err)
        }
    }
}

fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            // The Any driver passes the backend's own error through, so the code can be read
            // in the backend's terms (SQLite result codes are numbers, PostgreSQL's are
            // SQLSTATEs: the two must not be confused, "53…" means different things).
            if let Some(sqlite) = db.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
                sqlite_unavailable(sqlite.code().as_deref(), sqlite.message())
            } else if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                pg_unavailable(pg.code())
            } else {
                sqlite_message_unavailable(db.message())
            }
        }
        _ => false,
    }
}

/// SQLite primary result codes meaning the file cannot be used right now.
const SQLITE_BUSY: i64 = 5;
const SQLITE_READONLY: i64 = 8;
const SQLITE_IOERR: i64 = 10;
const SQLITE_FULL: i64 = 13;
const SQLITE_CANTOPEN: i64 = 14;

fn sqlite_unavailable(code: Option<&str>, message: &str) -> bool {
    // sqlx reports the extended result code; its low byte is the primary code.
    let primary = code
        .and_then(|code| code.parse::<i64>().ok())
        .map(|code| code & 0xff);
    matches!(
        primary,
        Some(SQLITE_BUSY | SQLITE_READONLY | SQLITE_IOERR | SQLITE_FULL | SQLITE_CANTOPEN)
    ) || sqlite_message_unavailable(message)
}

fn sqlite_message_unavailable(message: &str) -> bool {
    const MARKERS: [&str; 5] = [
        "readonly",
        "disk I/O error",
        "database or disk is full",
        "unable to open",
        "database is locked",
    ];
    MARKERS.iter().any(|marker| message.contains(marker))
}

fn pg_unavailable(sqlstate: &str) -> bool {
    // 08: connection exception; 53: insufficient resources; 57P01-57P05: admin/crash
    // shutdown, cannot connect now, idle session timeout; 25006: read-only transaction (a
    // standby or `default_transaction_read_only`).
    sqlstate.starts_with("08")
        || sqlstate.starts_with("53")
        || sqlstate.starts_with("57P0")
        || sqlstate == "25006"
        // 55000 on connect: the database "is not currently accepting connections"
        // (ALLOW_CONNECTIONS false, e.g. during maintenance).
        || sqlstate == "55000"
}

/// Why an enrollment step was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrollmentRefusal {
    /// No such one-time code, or already used.
    UnknownCode,
    ExpiredCode,
    /// The code is reserved for another workstation name.
    CodeForAnotherPoste,
    /// The code was made for a space other than the one the agent names.
    CodeForAnotherSpace,
    /// The workstation already holds a secret: staff must reset it first.
    AlreadyEnrolled,
    /// The request key does not match the pending request.
    WrongRequest,
    /// Not approved (yet), or not in the state the step needs.
    NotApproved,
}

/// Why a change to a staff account was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffRefusal {
    /// The account is disabled already (someone else did it meanwhile).
    AlreadyDisabled,
    /// The account is enabled already (someone else did it meanwhile).
    AlreadyEnabled,
    /// The account is the last enabled admin: nobody could manage the team after this.
    LastAdmin,
    /// The login belonged to a deleted account: it stays reserved so that the history, which
    /// names who did what by login, never mixes two people.
    LoginOfDeletedAccount,
    /// An account must work in at least one space.
    NoSpace,
}

/// Why a change to a public space was refused. Nothing was changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpaceRefusal {
    /// The space still has workstations (not retired): they must be moved or retired first.
    HasWorkstations(u64),
    /// Codes of the space are still unused or running: they must end or be cancelled first.
    HasSessions(u64),
    /// It is the only space left: a site has at least one.
    LastSpace,
    /// It is the only space of these many accounts: give them another one first.
    OnlySpaceOfStaff(u64),
    /// The workstation runs a session, or holds an unused code made for its space: moving it
    /// now would leave that code or session in a space the workstation is no longer in.
    WorkstationBusy,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_codes_meaning_unavailable() {
        // Primary and extended codes: BUSY, READONLY, IOERR_WRITE (778), FULL, CANTOPEN.
        for code in ["5", "8", "778", "13", "14", "1032"] {
            assert!(sqlite_unavailable(Some(code), "x"), "{code}");
        }
        // CONSTRAINT_UNIQUE (2067), ERROR, CORRUPT, NOTADB: a bug or a broken file.
        for code in ["2067", "1", "11", "26"] {
            assert!(!sqlite_unavailable(Some(code), "x"), "{code}");
        }
        assert!(sqlite_unavailable(
            None,
            "attempt to write a readonly database"
        ));
        assert!(sqlite_unavailable(None, "database is locked"));
        assert!(!sqlite_unavailable(None, "no such table: sessions"));
    }

    #[test]
    fn pg_sqlstates_meaning_unavailable() {
        for code in [
            "08006", "08001", "57P01", "57P03", "53100", "53300", "25006", "55000",
        ] {
            assert!(pg_unavailable(code), "{code}");
        }
        for code in ["23505", "42P01", "40001", "57014", "25P02"] {
            assert!(!pg_unavailable(code), "{code}");
        }
    }

    #[test]
    fn pool_and_io_errors_are_unavailable() {
        assert!(matches!(
            StoreError::from(sqlx::Error::PoolClosed),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            StoreError::from(sqlx::Error::PoolTimedOut),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            StoreError::from(sqlx::Error::Io(std::io::Error::other("reset"))),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            StoreError::from(sqlx::Error::RowNotFound),
            StoreError::Database(_)
        ));
    }
}
