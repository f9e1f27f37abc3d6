//! The statements' placeholders in each engine's syntax: `?` as written,
//! `$1, $2, …` for PostgreSQL.

use crate::store::Engine;

/// The statement in the engine's placeholder syntax.
pub(super) fn for_engine(engine: Engine, sql: &str) -> String {
    match engine {
        Engine::Postgres => numbered(sql),
        _ => sql.to_owned(),
    }
}

/// `INSERT … VALUES` with `rows` copies of `row`, in the engine's syntax.
pub(super) fn insert_rows(engine: Engine, head: &str, row: &str, rows: usize) -> String {
    let values = vec![row; rows].join(", ");
    for_engine(engine, &format!("{head} VALUES {values}"))
}

/// `?` placeholders numbered `$1, $2, …` for PostgreSQL (the statements hold
/// no `?` in a literal).
pub(super) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}
