//! Enrollment of workstations: one-time enrollment codes, an agent's request, staff's
//! approval, the agent collecting its secret, and the reset of a workstation.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Any, AnyConnection};

use crate::error::{EnrollmentRefusal, Result, StoreError};
use crate::events::EventSpec;
use crate::model::{
    Actor, Enrollment, EnrollmentCodeRow, EnrollmentProof, EventKind, Millis, PosteRow,
    PosteSighting,
};
use crate::names::fold;
use crate::rows::{fetch_poste_by_name, get, insert_poste, poste_columns, poste_from_row};
use crate::store::Store;

/// Columns of an enrollment code row (never the hash).
macro_rules! enrollment_code_columns {
    () => {
        "id, poste_nom, espace_id, created_at, expires_at, used_at"
    };
}

impl Store {
    /// Stores a one-time enrollment code by its SHA-256 (hex), optionally reserved for a
    /// workstation name (case-insensitive) and made for a space (`NotFound` for a space that
    /// does not exist or was deleted). Event `EnrollmentCodeCreated` (detail: the name).
    pub async fn create_enrollment_code(
        &self,
        code_hash: &str,
        poste_nom: Option<&str>,
        espace_id: Option<i64>,
        expires_at: Millis,
        actor: &Actor,
        now: Millis,
    ) -> Result<EnrollmentCodeRow> {
        let mut tx = self.writer.begin().await?;
        // A space that does not stand inserts nothing (one statement, a write, first).
        let row = sqlx::query(concat!(
            "INSERT INTO enrollment_codes \
             (code_hash, poste_nom, espace_id, created_at, expires_at, poste_nom_cle) \
             SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS BIGINT), CAST($4 AS BIGINT), \
             CAST($5 AS BIGINT), CAST($6 AS TEXT) WHERE CAST($3 AS BIGINT) IS NULL OR EXISTS \
             (SELECT 1 FROM espaces WHERE id = CAST($3 AS BIGINT) AND deleted_at IS NULL) \
             RETURNING ",
            enrollment_code_columns!()
        ))
        .bind(code_hash.to_owned())
        .bind(poste_nom.map(str::to_owned))
        .bind(espace_id)
        .bind(now)
        .bind(expires_at)
        .bind(poste_nom.map(fold))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Err(StoreError::not_found(
                "espace",
                espace_id.unwrap_or_default(),
            ));
        };
        let code = enrollment_code_from_row(&row)?;
        let event = EventSpec::by(
            EventKind::EnrollmentCodeCreated,
            actor,
            code.poste_nom.as_deref(),
        );
        self.insert_event(&mut tx, now, &event, None, None).await?;
        tx.commit().await?;
        Ok(code)
    }

    /// An agent asks to enroll as `seen.nom`, in one transaction: checks the proof (a one-time
    /// code is used up), creates the workstation if its name is new (or updates ip/mac/version),
    /// and sets it `EnAttente` with `request_hash` (SHA-256 hex of the agent's request key).
    /// Refused with `EnrollmentRefused(..)`: code unknown or used (`UnknownCode`), expired,
    /// reserved for another name, or the workstation is already `Enrole` (`AlreadyEnrolled`).
    /// A workstation already `EnAttente` or `Approuve` is set back to `EnAttente` with the new
    /// request (the agent lost its request key). Event `EnrollmentRequested`.
    pub async fn request_enrollment(
        &self,
        proof: &EnrollmentProof,
        seen: &PosteSighting,
        request_hash: &str,
        now: Millis,
    ) -> Result<PosteRow> {
        let mut tx = self.writer.begin().await?;
        // The code first: a write as first statement (see `Store::transition`), and a refusal
        // below rolls its use back, so a refused request never uses a code up.
        let named = proof.named_space();
        let (proof_detail, code_space) = match proof {
            EnrollmentProof::OneTimeCode(code_hash)
            | EnrollmentProof::OneTimeCodeIn(code_hash, _) => {
                match use_enrollment_code(&mut tx, code_hash, &seen.nom, now).await? {
                    // Staff made the code for one space, the agent names another: neither is
                    // guessed right.
                    Ok(Some(space)) if named.is_some_and(|named| named != space) => {
                        tx.rollback().await?;
                        return Err(StoreError::EnrollmentRefused(
                            EnrollmentRefusal::CodeForAnotherSpace,
                        ));
                    }
                    Ok(space) => ("code_enrolement", space.or(named)),
                    Err(refusal) => {
                        tx.rollback().await?;
                        return Err(StoreError::EnrollmentRefused(refusal));
                    }
                }
            }
            EnrollmentProof::SiteToken | EnrollmentProof::SiteTokenIn(_) => {
                ("jeton_installation", named)
            }
        };
        let row = match update_enrollment_request(&mut tx, seen, request_hash, code_space, now)
            .await?
        {
            Some(row) => row,
            None => {
                // Unknown, or enrolled. Create it if unknown: when another writer created it
                // in between, the insert waits for it and does nothing, and the update below
                // then finds it (like `record_poste_seen`).
                insert_poste(
                    &mut tx,
                    &seen.nom,
                    &seen.ip,
                    &seen.mac,
                    &seen.version,
                    Some(now),
                    now,
                )
                .await?;
                let row =
                    match update_enrollment_request(&mut tx, seen, request_hash, code_space, now)
                        .await?
                    {
                        Some(row) => row,
                        None => {
                            tx.rollback().await?;
                            return Err(StoreError::EnrollmentRefused(
                                EnrollmentRefusal::AlreadyEnrolled,
                            ));
                        }
                    };
                // New here: it waits in the space its code was made for (or its agent named),
                // if that stands.
                match code_space {
                    Some(space) => place_new_poste(&mut tx, row, space).await?,
                    None => row,
                }
            }
        };
        let event = EventSpec::by(
            EventKind::EnrollmentRequested,
            &Actor::Poste(row.nom.clone()),
            Some(proof_detail),
        );
        self.insert_event(&mut tx, now, &event, None, Some(row.id))
            .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Staff approve a pending request: `EnAttente` → `Approuve`. `NotFound` for an unknown
    /// name, `EnrollmentRefused(NotApproved)` if it is not pending. Event `EnrollmentApproved`.
    pub async fn approve_enrollment(
        &self,
        nom: &str,
        actor: &Actor,
        now: Millis,
    ) -> Result<PosteRow> {
        let update = sqlx::query(concat!(
            "UPDATE postes SET enrollment = 'approuve' \
             WHERE nom_cle = $1 AND enrollment = 'en_attente' RETURNING ",
            poste_columns!()
        ))
        .bind(fold(nom));
        self.enrollment_transition(
            nom,
            update,
            EventKind::EnrollmentApproved,
            Some(actor),
            |_| EnrollmentRefusal::NotApproved,
            now,
        )
        .await
    }

    /// The agent collects its secret: if `nom` is `Approuve` and `request_hash` matches the
    /// pending request, stores `secret_hash`, clears the request, and sets `Enrole`.
    /// `EnrollmentRefused(NotApproved)` while still pending (the agent asks again later),
    /// `EnrollmentRefused(WrongRequest)` for another request key, `NotFound` for an unknown name.
    /// Event `PosteEnrolled`.
    pub async fn complete_enrollment(
        &self,
        nom: &str,
        request_hash: &str,
        secret_hash: &str,
        now: Millis,
    ) -> Result<PosteRow> {
        let update = sqlx::query(concat!(
            "UPDATE postes SET enrollment = 'enrole', secret_hash = $3, request_hash = NULL \
             WHERE nom_cle = $1 AND enrollment = 'approuve' AND request_hash = $2 \
             RETURNING ",
            poste_columns!()
        ))
        .bind(fold(nom))
        .bind(request_hash.to_owned())
        .bind(secret_hash.to_owned());
        self.enrollment_transition(
            nom,
            update,
            EventKind::PosteEnrolled,
            None,
            |current| match current.enrollment {
                Enrollment::Approuve => EnrollmentRefusal::WrongRequest,
                Enrollment::Aucun | Enrollment::EnAttente | Enrollment::Enrole => {
                    EnrollmentRefusal::NotApproved
                }
            },
            now,
        )
        .await
    }

    /// Staff reset a workstation (stolen or reinstalled): back to `Aucun`, secret and request
    /// cleared. `NotFound` for an unknown name. Event `EnrollmentReset`.
    pub async fn reset_enrollment(
        &self,
        nom: &str,
        actor: &Actor,
        now: Millis,
    ) -> Result<PosteRow> {
        let update = sqlx::query(concat!(
            "UPDATE postes SET enrollment = 'aucun', secret_hash = NULL, request_hash = NULL \
             WHERE nom_cle = $1 RETURNING ",
            poste_columns!()
        ))
        .bind(fold(nom));
        // Only an unknown name refuses a reset (`NotFound`); the refusal is never used.
        self.enrollment_transition(
            nom,
            update,
            EventKind::EnrollmentReset,
            Some(actor),
            |_| EnrollmentRefusal::NotApproved,
            now,
        )
        .await
    }

    /// Workstations waiting for staff (`EnAttente`), by name.
    pub async fn pending_enrollments(&self) -> Result<Vec<PosteRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            poste_columns!(),
            " FROM postes WHERE enrollment = 'en_attente' ORDER BY nom_cle, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(poste_from_row).collect()
    }

    /// Runs a conditional `UPDATE postes … RETURNING <poste columns>` of the workstation named
    /// `nom`; when it changed the row, appends the event (`actor` None: the workstation itself)
    /// and returns the new row, all in one transaction. Otherwise changes nothing: `NotFound`
    /// for an unknown name, else `EnrollmentRefused(refuse(current row))`.
    async fn enrollment_transition(
        &self,
        nom: &str,
        update: sqlx::query::Query<'_, Any, AnyArguments>,
        kind: EventKind,
        actor: Option<&Actor>,
        refuse: fn(&PosteRow) -> EnrollmentRefusal,
        now: Millis,
    ) -> Result<PosteRow> {
        let mut tx = self.writer.begin().await?;
        let updated = update.fetch_optional(&mut *tx).await?;
        let row = match updated {
            Some(row) => poste_from_row(&row)?,
            None => {
                let current = fetch_poste_by_name(&mut *tx, nom).await?;
                tx.rollback().await?;
                return Err(match current {
                    Some(current) => StoreError::EnrollmentRefused(refuse(&current)),
                    None => not_found_poste(nom),
                });
            }
        };
        let workstation = Actor::Poste(row.nom.clone());
        let event = EventSpec::by(kind, actor.unwrap_or(&workstation), Some(&row.nom));
        self.insert_event(&mut tx, now, &event, None, Some(row.id))
            .await?;
        tx.commit().await?;
        Ok(row)
    }
}

/// Uses up the one-time code `code_hash` for workstation `nom`, or tells why it cannot be;
/// the space it was made for, if any.
async fn use_enrollment_code(
    conn: &mut AnyConnection,
    code_hash: &str,
    nom: &str,
    now: Millis,
) -> Result<std::result::Result<Option<i64>, EnrollmentRefusal>> {
    let used = sqlx::query(
        "UPDATE enrollment_codes SET used_at = $3 \
         WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $3 \
         AND (poste_nom_cle IS NULL OR poste_nom_cle = $2) RETURNING espace_id",
    )
    .bind(code_hash.to_owned())
    .bind(fold(nom))
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(used) = used {
        return Ok(Ok(get(&used, "espace_id")?));
    }
    let row = sqlx::query("SELECT expires_at, used_at FROM enrollment_codes WHERE code_hash = $1")
        .bind(code_hash.to_owned())
        .fetch_optional(conn)
        .await?;
    let Some(row) = row else {
        return Ok(Err(EnrollmentRefusal::UnknownCode));
    };
    let used_at: Option<Millis> = get(&row, "used_at")?;
    let expires_at: Millis = get(&row, "expires_at")?;
    Ok(Err(if used_at.is_some() {
        EnrollmentRefusal::UnknownCode
    } else if expires_at <= now {
        EnrollmentRefusal::ExpiredCode
    } else {
        EnrollmentRefusal::CodeForAnotherPoste
    }))
}

/// Puts a workstation just created in `space`, unless that space was deleted meanwhile (it
/// then stays in the default space).
async fn place_new_poste(conn: &mut AnyConnection, row: PosteRow, space: i64) -> Result<PosteRow> {
    let moved = sqlx::query(concat!(
        "UPDATE postes SET espace_id = $2 WHERE id = $1 \
         AND EXISTS (SELECT 1 FROM espaces WHERE id = $2 AND deleted_at IS NULL) RETURNING ",
        poste_columns!()
    ))
    .bind(row.id)
    .bind(space)
    .fetch_optional(conn)
    .await?;
    match moved {
        Some(moved) => poste_from_row(&moved),
        None => Ok(row),
    }
}

/// Sets the workstation named `seen.nom` waiting for staff with this request and the space it
/// names (its space stays), and records the sighting; None when there is none of that name or
/// it is enrolled.
async fn update_enrollment_request(
    conn: &mut AnyConnection,
    seen: &PosteSighting,
    request_hash: &str,
    requested_space: Option<i64>,
    now: Millis,
) -> Result<Option<PosteRow>> {
    let row = sqlx::query(concat!(
        "UPDATE postes SET enrollment = 'en_attente', request_hash = $6, espace_demande = $7, \
         ip = COALESCE($2, ip), mac = COALESCE($3, mac), version = COALESCE($4, version), \
         last_seen = $5 \
         WHERE nom_cle = $1 AND enrollment <> 'enrole' RETURNING ",
        poste_columns!()
    ))
    .bind(fold(&seen.nom))
    .bind(seen.ip.clone())
    .bind(seen.mac.clone())
    .bind(seen.version.clone())
    .bind(now)
    .bind(request_hash.to_owned())
    .bind(requested_space)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(poste_from_row).transpose()
}

fn not_found_poste(nom: &str) -> StoreError {
    StoreError::not_found("poste", nom)
}

fn enrollment_code_from_row(row: &AnyRow) -> Result<EnrollmentCodeRow> {
    Ok(EnrollmentCodeRow {
        id: get(row, "id")?,
        poste_nom: get(row, "poste_nom")?,
        espace_id: get(row, "espace_id")?,
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
        used_at: get(row, "used_at")?,
    })
}
