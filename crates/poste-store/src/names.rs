//! Names compared without case (decision 0015): the key a name is compared by, computed here
//! and stored beside the name, so that both backends compare the same bytes (SQLite's `LOWER`
//! folds ASCII only, PostgreSQL's every letter).

use std::collections::BTreeMap;

use sqlx::AnyPool;
use sqlx::Row;
use unicode_normalization::UnicodeNormalization;

use crate::error::{Result, StoreError};

/// The key a name is compared by: Unicode NFC, then lower case on every letter. Accents stay
/// (« ecole » and « école » are two names, as staff read them); case goes (« ÉCOLE » is
/// « école »).
pub fn fold(name: &str) -> String {
    name.nfc().collect::<String>().to_lowercase()
}

/// What a name names, for the start-up refusal of two names that fold alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamedThing {
    Workstation,
    Space,
    Category,
    VisitorCard,
    StaffLogin,
}

/// Two or more rows whose names fold to the same key, where the key must be unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameClash {
    pub what: NamedThing,
    pub table: &'static str,
    pub column: &'static str,
    /// `(id, name as stored)`, by id.
    pub rows: Vec<(i64, String)>,
}

/// A name column and its key column.
struct KeyedColumn {
    table: &'static str,
    name: &'static str,
    key: &'static str,
    /// The rows the key's unique index covers (an SQL condition); None: not unique.
    unique_among: Option<(&'static str, NamedThing)>,
}

const KEYED_COLUMNS: [KeyedColumn; 8] = [
    KeyedColumn {
        table: "postes",
        name: "nom",
        key: "nom_cle",
        unique_among: Some(("1 = 1", NamedThing::Workstation)),
    },
    KeyedColumn {
        table: "espaces",
        name: "nom",
        key: "nom_cle",
        unique_among: Some(("deleted_at IS NULL", NamedThing::Space)),
    },
    KeyedColumn {
        table: "categories",
        name: "nom",
        key: "nom_cle",
        unique_among: Some(("1 = 1", NamedThing::Category)),
    },
    KeyedColumn {
        table: "visiteurs",
        name: "carte",
        key: "carte_cle",
        unique_among: Some(("1 = 1", NamedThing::VisitorCard)),
    },
    KeyedColumn {
        table: "visiteurs",
        name: "nom",
        key: "nom_cle",
        unique_among: None,
    },
    KeyedColumn {
        table: "visiteurs",
        name: "email",
        key: "email_cle",
        unique_among: None,
    },
    KeyedColumn {
        table: "staff",
        name: "login",
        key: "login_cle",
        unique_among: Some(("1 = 1", NamedThing::StaffLogin)),
    },
    KeyedColumn {
        table: "enrollment_codes",
        name: "poste_nom",
        key: "poste_nom_cle",
        unique_among: None,
    },
];

/// One row's name, its stored key, and whether the key must be unique there.
struct KeyedRow {
    id: i64,
    name: Option<String>,
    stored: Option<String>,
    unique: bool,
}

/// Writes the key of every name whose stored key is missing or stale (rows from before the
/// keys, or a name an administrator changed by hand in the database). Refused, changing
/// nothing, while two names fold alike where their key must be unique: the error names them.
/// Run at start-up, after the migrations.
pub(crate) async fn fill_keys(writer: &AnyPool) -> Result<()> {
    let mut stale: Vec<(&KeyedColumn, Vec<KeyedRow>)> = Vec::new();
    let mut clashes = Vec::new();
    for column in &KEYED_COLUMNS {
        let unique_among = column.unique_among.map_or("1 = 0", |(among, _)| among);
        let sql = format!(
            "SELECT id, {name} AS name, {key} AS stored, \
             CASE WHEN {unique_among} THEN 1 ELSE 0 END AS is_unique FROM {table} ORDER BY id",
            name = column.name,
            key = column.key,
            table = column.table,
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(writer)
            .await?
            .iter()
            .map(|row| {
                Ok(KeyedRow {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    stored: row.try_get("stored")?,
                    unique: row.try_get::<i64, _>("is_unique")? == 1,
                })
            })
            .collect::<std::result::Result<Vec<_>, sqlx::Error>>()?;
        if let Some((_, what)) = column.unique_among {
            clashes.extend(clashes_in(&rows, what, column));
        }
        let changed: Vec<KeyedRow> = rows
            .into_iter()
            .filter(|row| row.name.as_deref().map(fold) != row.stored)
            .collect();
        if !changed.is_empty() {
            stale.push((column, changed));
        }
    }
    if !clashes.is_empty() {
        return Err(StoreError::NamesFoldAlike(clashes));
    }
    if stale.is_empty() {
        return Ok(());
    }
    let mut tx = writer.begin().await?;
    for (column, rows) in &stale {
        let set = |value: &str| {
            sqlx::AssertSqlSafe(format!(
                "UPDATE {} SET {} = {value} WHERE id = $1",
                column.table, column.key
            ))
        };
        // A stale key first goes NULL, so that two names swapped by hand never collide
        // halfway through.
        for row in rows.iter().filter(|row| row.stored.is_some()) {
            sqlx::query(set("NULL"))
                .bind(row.id)
                .execute(&mut *tx)
                .await?;
        }
        for row in rows.iter().filter(|row| row.name.is_some()) {
            sqlx::query(set("$2"))
                .bind(row.id)
                .bind(row.name.as_deref().map(fold))
                .execute(&mut *tx)
                .await?;
        }
        tracing::info!(
            table = column.table,
            column = column.name,
            rows = rows.len(),
            "wrote the comparison keys of names"
        );
    }
    tx.commit().await?;
    Ok(())
}

/// The groups of rows (among those whose key must be unique) whose names fold alike.
fn clashes_in(rows: &[KeyedRow], what: NamedThing, column: &KeyedColumn) -> Vec<NameClash> {
    let mut by_key: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for row in rows.iter().filter(|row| row.unique) {
        if let Some(name) = &row.name {
            by_key
                .entry(fold(name))
                .or_default()
                .push((row.id, name.clone()));
        }
    }
    by_key
        .into_values()
        .filter(|rows| rows.len() > 1)
        .map(|rows| NameClash {
            what,
            table: column.table,
            column: column.name,
            rows,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn case_goes_accents_stay() {
        assert_eq!(fold("ÉCOLE"), "école");
        assert_eq!(fold("École"), fold("école"));
        assert_ne!(fold("ecole"), fold("école"));
        assert_eq!(fold("MÉDIATHÈQUE-01"), "médiathèque-01");
        assert_eq!(fold("Œuvre Ÿ"), "œuvre ÿ");
    }

    #[test]
    fn decomposed_and_composed_accents_are_one_name() {
        // « é » typed as e + combining acute (some keyboards, macOS file names).
        assert_eq!(fold("E\u{301}cole"), fold("École"));
    }
}
