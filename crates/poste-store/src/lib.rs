//! Persistent state of Postes Publics: sessions (with their access codes), workstations
//! (`postes`, with their enrollment and one-time enrollment codes), the public spaces they
//! belong to, API tokens, staff accounts of the web console with their login sessions, the
//! visitors register with its categories, the settings edited from the console, and the event
//! log.
//!
//! One store, two backends chosen at run time by the URL: SQLite (the default, a file, WAL mode)
//! and PostgreSQL. Both run the same SQL text through sqlx's `Any` driver; only the DDL differs
//! (`migrations/sqlite`, `migrations/postgres`). Portable rules: `$N` placeholders, times as
//! BIGINT Unix milliseconds, no BOOLEAN columns (0/1 BIGINT), `CAST(SUM(..) AS BIGINT)`.
//!
//! Every state change is one transaction that also appends its row to `events`, so the event
//! log is the audit trail and the change feed other processes (CLI, other instances) follow.
//! Conditional updates (`... WHERE statut = 'active'`) make every transition happen once, even
//! when two tasks or two instances race for it.
//!
//! Migrations only ever add: a database in the field has run the earlier ones, so a shipped
//! migration file is never edited (sqlx checks their checksums).

mod enrollment;
mod error;
mod events;
mod instances;
mod model;
mod names;
mod postes;
mod power;
mod query;
mod register;
mod reports;
mod requests;
mod rows;
mod sessions;
mod spaces;
mod staff;
mod store;
mod tokens;

pub use error::{EnrollmentRefusal, SpaceRefusal, StaffRefusal, StoreError};
pub use instances::{Bell, EventListener, LeaseClaim};
pub use model::{
    Actor, Backend, CategoryRow, DEFAULT_SPACE, Enrollment, EnrollmentCodeRow, EnrollmentProof,
    EventFilter, EventKind, EventRow, EventView, Millis, NewCategory, NewPoste, NewSession,
    NewSpace, NewStaff, NewVisitor, NewWorkshop, PosteRow, PosteSighting, PurgeReport,
    RefusedLogin, SessionFilter, SessionRow, SessionStatus, SpaceRow, SpaceScope, StaffCredentials,
    StaffRole, StaffRow, StaffSessionRow, TimeRequestRow, TimeRequestStatus, TokenRow, UsageRow,
    VisitorRow, Warning,
};
pub use names::{NameClash, NamedThing, fold};
pub use power::PowerRecorded;
pub use requests::TimeAnswer;
pub use sessions::StartPlan;
pub use staff::{ANONYMOUS, StaffChange};
pub use store::Store;
