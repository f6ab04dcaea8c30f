//! What several subjects share to read rows: the column lists of sessions and workstations,
//! the decoding of a row into its type, and the few statements more than one subject runs.

use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor, Row};

use crate::error::{Result, StoreError};
use crate::model::{Enrollment, EventKind, EventRow, Millis, PosteRow, SessionRow, SessionStatus};

/// Columns of a session row, `postes` joined for the name; the FROM clause is included so
/// that callers only append `WHERE …`. Decoded by [`session_from_row`].
macro_rules! session_select {
    () => {
        "SELECT s.id AS id, s.code AS code, s.utilisateur AS utilisateur, \
         s.poste_id AS poste_id, p.nom AS poste_nom, s.statut AS statut, \
         s.initial_secs AS initial_secs, s.added_secs AS added_secs, \
         s.created_at AS created_at, s.valid_until AS valid_until, \
         s.started_at AS started_at, s.ended_at AS ended_at, s.end_reason AS end_reason, \
         s.warning_level AS warning_level, s.created_by AS created_by, \
         s.visiteur_id AS visiteur_id, s.espace_id AS espace_id, \
         p.espace_id AS poste_espace_id, s.atelier AS atelier \
         FROM sessions s LEFT JOIN postes p ON p.id = s.poste_id"
    };
}
pub(crate) use session_select;

/// Columns of a workstation row, for `SELECT … FROM postes` and `RETURNING`.
macro_rules! poste_columns {
    () => {
        "id, nom, ip, mac, version, created_at, last_seen, hors_service, enrollment, secret_hash, \
         emplacement, retired_at, espace_id, espace_demande, request_hash"
    };
}
pub(crate) use poste_columns;

pub(crate) async fn fetch_session<'e, E>(executor: E, id: i64) -> Result<Option<SessionRow>>
where
    E: Executor<'e, Database = Any>,
{
    let row = sqlx::query(concat!(session_select!(), " WHERE s.id = $1"))
        .bind(id)
        .fetch_optional(executor)
        .await?;
    row.as_ref().map(session_from_row).transpose()
}

/// The workstation of that name (case-insensitive).
pub(crate) async fn fetch_poste_by_name<'e, E>(executor: E, nom: &str) -> Result<Option<PosteRow>>
where
    E: Executor<'e, Database = Any>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        poste_columns!(),
        " FROM postes WHERE nom_cle = $1"
    ))
    .bind(crate::names::fold(nom))
    .fetch_optional(executor)
    .await?;
    row.as_ref().map(poste_from_row).transpose()
}

/// Inserts a workstation unless its name is taken (in any case); None then.
pub(crate) async fn insert_poste(
    conn: &mut AnyConnection,
    nom: &str,
    ip: &Option<String>,
    mac: &Option<String>,
    version: &Option<String>,
    last_seen: Option<Millis>,
    now: Millis,
) -> Result<Option<PosteRow>> {
    let row = sqlx::query(concat!(
        "INSERT INTO postes (nom, ip, mac, version, created_at, last_seen, hors_service, nom_cle) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7) ON CONFLICT DO NOTHING RETURNING ",
        poste_columns!()
    ))
    .bind(nom.to_owned())
    .bind(ip.clone())
    .bind(mac.clone())
    .bind(version.clone())
    .bind(now)
    .bind(last_seen)
    .bind(crate::names::fold(nom))
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(poste_from_row).transpose()
}

pub(crate) fn get<'r, T>(row: &'r AnyRow, column: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    row.try_get(column).map_err(StoreError::Database)
}

pub(crate) fn decode_error(what: &str, value: &str) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(
        format!("unknown {what} `{value}` in the database").into(),
    ))
}

pub(crate) fn session_from_row(row: &AnyRow) -> Result<SessionRow> {
    let statut: String = get(row, "statut")?;
    Ok(SessionRow {
        id: get(row, "id")?,
        code: get(row, "code")?,
        utilisateur: get(row, "utilisateur")?,
        poste_id: get(row, "poste_id")?,
        poste_nom: get(row, "poste_nom")?,
        status: SessionStatus::parse(&statut).ok_or_else(|| decode_error("statut", &statut))?,
        initial_secs: get(row, "initial_secs")?,
        added_secs: get(row, "added_secs")?,
        created_at: get(row, "created_at")?,
        valid_until: get(row, "valid_until")?,
        started_at: get(row, "started_at")?,
        ended_at: get(row, "ended_at")?,
        end_reason: get(row, "end_reason")?,
        warning_level: get(row, "warning_level")?,
        created_by: get(row, "created_by")?,
        visiteur_id: get(row, "visiteur_id")?,
        espace_id: get(row, "espace_id")?,
        poste_espace_id: get(row, "poste_espace_id")?,
        atelier: get(row, "atelier")?,
    })
}

pub(crate) fn poste_from_row(row: &AnyRow) -> Result<PosteRow> {
    let enrollment: String = get(row, "enrollment")?;
    Ok(PosteRow {
        id: get(row, "id")?,
        nom: get(row, "nom")?,
        ip: get(row, "ip")?,
        mac: get(row, "mac")?,
        version: get(row, "version")?,
        created_at: get(row, "created_at")?,
        last_seen: get(row, "last_seen")?,
        hors_service: get::<i64>(row, "hors_service")? != 0,
        enrollment: Enrollment::parse(&enrollment)
            .ok_or_else(|| decode_error("enrollment", &enrollment))?,
        secret_hash: get(row, "secret_hash")?,
        emplacement: get(row, "emplacement")?,
        retired_at: get(row, "retired_at")?,
        espace_id: get(row, "espace_id")?,
        requested_space: get(row, "espace_demande")?,
        request_hash: get(row, "request_hash")?,
    })
}

pub(crate) fn event_from_row(row: &AnyRow) -> Result<EventRow> {
    let kind: String = get(row, "kind")?;
    Ok(EventRow {
        id: get(row, "id")?,
        at: get(row, "at")?,
        kind: EventKind::parse(&kind).ok_or_else(|| decode_error("event kind", &kind))?,
        session_id: get(row, "session_id")?,
        poste_id: get(row, "poste_id")?,
        actor: get(row, "actor")?,
        ip: get(row, "ip")?,
        detail: get(row, "detail")?,
        origin: get(row, "origin")?,
    })
}
