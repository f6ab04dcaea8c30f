//! Lists filtered at run time: a `WHERE` clause built from the filters given, with only
//! placeholders in its text and every value bound.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, AssertSqlSafe};

use crate::error::Result;

const DEFAULT_LIST_LIMIT: i64 = 100;
const MAX_LIST_LIMIT: i64 = 1000;

/// A value bound to a placeholder of a query built at run time.
pub(crate) enum Arg {
    Int(i64),
    Text(String),
}

/// The `WHERE` clause of a filtered list, built from conditions written with `?`, each turned
/// into the next `$N` placeholder: only placeholders go into the text, every value is bound.
use crate::model::SpaceScope;

#[derive(Default)]
pub(crate) struct Conditions {
    args: Vec<Arg>,
    clauses: Vec<String>,
}

impl Conditions {
    pub(crate) fn push(&mut self, clause: &str, arg: Arg) {
        self.args.push(arg);
        self.clauses
            .push(clause.replace('?', &format!("${}", self.args.len())));
    }

    /// `column` contains `text`, literally and case-insensitively (LOWER on both sides: ASCII
    /// only on SQLite; the names that have a key use `push_key_contains` instead).
    pub(crate) fn push_contains(&mut self, column: &str, text: &str) {
        let pattern = format!("%{}%", escape_like(text));
        self.push_like(
            &format!("LOWER({column}) LIKE LOWER(?) ESCAPE '\\'"),
            text,
            pattern,
        );
    }

    /// `key` (a key column or an expression of key columns, decision 0015) contains `text`,
    /// literally, compared by its folded key: the same on both backends.
    pub(crate) fn push_key_contains(&mut self, key: &str, text: &str) {
        let pattern = format!("%{}%", escape_like(&crate::names::fold(text)));
        self.push_like(&format!("{key} LIKE ? ESCAPE '\\'"), text, pattern);
    }

    fn push_like(&mut self, clause: &str, text: &str, pattern: String) {
        // No stored text can hold NUL (PostgreSQL refuses it in `text` with an error, and
        // SQLite's LIKE stops at it, so `%\0%` would match every row): match nothing.
        if has_nul(text) {
            self.clauses.push("1 = 0".to_owned());
            return;
        }
        self.push(clause, Arg::Text(pattern));
    }

    /// Several alternatives as one condition: `(a OR b …)`, each with its own value.
    pub(crate) fn push_any(&mut self, clause: &str, args: Vec<Arg>) {
        if args.is_empty() {
            return;
        }
        let mut alternatives = Vec::new();
        for arg in args {
            self.args.push(arg);
            alternatives.push(clause.replace('?', &format!("${}", self.args.len())));
        }
        self.clauses
            .push(format!("({})", alternatives.join(" OR ")));
    }

    /// Rows of the spaces of `scope` only: `space` (an SQL expression, the row's space or NULL)
    /// is one of them, or `unplaced` (an SQL condition: a row of no space, e.g. a code of every
    /// space not yet started) holds. Nothing for every space.
    pub(crate) fn push_scope(&mut self, scope: &SpaceScope, space: &str, unplaced: &str) {
        let SpaceScope::Only(ids) = scope else {
            return;
        };
        let mut alternatives = vec![format!("({unplaced})")];
        if !ids.is_empty() {
            let mut params = Vec::with_capacity(ids.len());
            for &id in ids {
                self.args.push(Arg::Int(id));
                params.push(format!("${}", self.args.len()));
            }
            alternatives.push(format!("{space} IN ({})", params.join(", ")));
        }
        self.clauses
            .push(format!("({})", alternatives.join(" OR ")));
    }

    /// Runs `select` (which ends with its FROM clause) with these conditions, ordered, one page
    /// (default 100 rows, at most 1000).
    pub(crate) async fn fetch_page(
        self,
        pool: &AnyPool,
        select: &str,
        order_by: &str,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> Result<Vec<AnyRow>> {
        let mut sql = String::from(select);
        if !self.clauses.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&self.clauses.join(" AND "));
        }
        let n = self.args.len();
        sql.push_str(&format!(
            " ORDER BY {order_by} LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        ));
        let limit = limit.unwrap_or(DEFAULT_LIST_LIMIT).clamp(0, MAX_LIST_LIMIT);
        let offset = offset.unwrap_or(0).max(0);
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for arg in self.args {
            query = match arg {
                Arg::Int(value) => query.bind(value),
                Arg::Text(value) => query.bind(value),
            };
        }
        let rows = query.bind(limit).bind(offset).fetch_all(pool).await?;
        Ok(rows)
    }
}

/// Outside text with a NUL character: never stored (PostgreSQL refuses it in `text`), so a
/// lookup by it finds nothing, and must not reach the database, where it would be an error.
pub(crate) fn has_nul(text: &str) -> bool {
    text.contains('\0')
}

/// Escapes `\`, `%` and `_` for `LIKE … ESCAPE '\'`, so the text matches literally.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(escape_like(r"100%_a\b"), r"100\%\_a\\b");
    }

    #[test]
    fn a_search_with_nul_matches_nothing_and_binds_nothing() {
        let mut conditions = Conditions::default();
        conditions.push_contains("s.utilisateur", "a\0b");
        assert_eq!(conditions.clauses, ["1 = 0"]);
        assert!(conditions.args.is_empty());
    }
}
