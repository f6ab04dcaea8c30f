//! API tokens, stored by their SHA-256.

use sqlx::any::AnyRow;

use crate::error::{Result, StoreError};
use crate::events::EventSpec;
use crate::model::{Actor, EventKind, Millis, TokenRow};
use crate::rows::get;
use crate::store::Store;

/// Columns of a token row (never the hash).
macro_rules! token_columns {
    () => {
        "id, nom, created_at, last_used, revoked_at"
    };
}

impl Store {
    /// Stores a token by its SHA-256 (hex). `AlreadyExists` if the name is taken by a token
    /// that is not revoked. Event `TokenCreated`.
    pub async fn create_token(
        &self,
        nom: &str,
        hash_hex: &str,
        actor: &Actor,
        now: Millis,
    ) -> Result<TokenRow> {
        let mut tx = self.writer.begin().await?;
        // Conflicts with the partial unique index on live names (or, absurdly, on the hash).
        let row = sqlx::query(concat!(
            "INSERT INTO api_tokens (nom, hash, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING RETURNING ",
            token_columns!()
        ))
        .bind(nom.to_owned())
        .bind(hash_hex.to_owned())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let token = match row {
            Some(row) => token_from_row(&row)?,
            None => {
                return Err(StoreError::AlreadyExists {
                    what: "token",
                    name: nom.to_owned(),
                });
            }
        };
        let event = EventSpec::by(EventKind::TokenCreated, actor, Some(&token.nom));
        self.insert_event(&mut tx, now, &event, None, None).await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The token with this hash, unless revoked.
    pub async fn token_by_hash(&self, hash_hex: &str) -> Result<Option<TokenRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL"
        ))
        .bind(hash_hex.to_owned())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    pub async fn touch_token(&self, id: i64, now: Millis) -> Result<()> {
        self.touch(
            "UPDATE api_tokens SET last_used = $2 WHERE id = $1",
            "token",
            id,
            now,
        )
        .await
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM api_tokens ORDER BY nom, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// Revokes the live token of that name; `NotFound` if none. Event `TokenRevoked`.
    pub async fn revoke_token(&self, nom: &str, actor: &Actor, now: Millis) -> Result<TokenRow> {
        let mut tx = self.writer.begin().await?;
        let row = sqlx::query(concat!(
            "UPDATE api_tokens SET revoked_at = $2 WHERE nom = $1 AND revoked_at IS NULL \
             RETURNING ",
            token_columns!()
        ))
        .bind(nom.to_owned())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let token = match row {
            Some(row) => token_from_row(&row)?,
            None => {
                return Err(StoreError::NotFound {
                    what: "token",
                    id: nom.to_owned(),
                });
            }
        };
        let event = EventSpec::by(EventKind::TokenRevoked, actor, Some(&token.nom));
        self.insert_event(&mut tx, now, &event, None, None).await?;
        tx.commit().await?;
        Ok(token)
    }
}

fn token_from_row(row: &AnyRow) -> Result<TokenRow> {
    Ok(TokenRow {
        id: get(row, "id")?,
        nom: get(row, "nom")?,
        created_at: get(row, "created_at")?,
        last_used: get(row, "last_used")?,
        revoked_at: get(row, "revoked_at")?,
    })
}
