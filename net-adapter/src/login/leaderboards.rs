//! `GET /v1/leaderboards/{raid}/{level_group}`: a raid kind's leaderboard,
//! read from the store, for web pages and launchers (no login needed).
//!
//! Bounds: the raid name is a content name (at most
//! [`MAX_RAID_NAME_BYTES`], lowercase ASCII letters, digits and `_`), `top`
//! at most [`MAX_LEADERBOARD_TOP`]; anything else is a 400 before the store
//! is asked. The read takes one pooled connection for two or three indexed
//! queries; the service's connection limit and request timeout bound how
//! many run at once and for how long.

use super::http::{refuse, store_unavailable, ApiError};
use super::metrics::Refusal;
use super::LoginState;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use game_core::ids::CharacterId;
use game_core::persist::{Board, BoardEntry, MAX_LEADERBOARD_TOP, MAX_RAID_NAME_BYTES};
use serde::Deserialize;
use serde_json::{json, Value};

/// Entries answered when `top` is not given.
pub const DEFAULT_TOP: u16 = 10;

#[derive(Deserialize)]
pub(super) struct BoardQuery {
    /// `players` (the default) or `groups`.
    board: Option<String>,
    /// Read as a u32 so that a number past the bound gets the bound's
    /// message, not a parse error.
    top: Option<u32>,
    character: Option<u64>,
}

/// Whether `raid` can name a raid kind (content's rule for names).
fn is_raid_name(raid: &str) -> bool {
    raid.len() <= MAX_RAID_NAME_BYTES
        && raid.starts_with(|c: char| c.is_ascii_lowercase())
        && (raid.bytes()).all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// An entry as JSON. The entrant is a string: a group's is a 64-bit hash,
/// past the integers a JavaScript number holds exactly.
fn entry_json(e: &BoardEntry) -> Value {
    json!({
        "rank": e.rank,
        "entrant": e.entrant.to_string(),
        "names": e.names,
        "cleared": e.score.cleared,
        "time_ms": e.score.time_ms,
        "deaths": e.score.deaths,
        "damage": e.score.damage,
    })
}

pub(super) async fn leaderboard(
    State(state): State<LoginState>,
    path: Result<Path<(String, u8)>, PathRejection>,
    query: Result<Query<BoardQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let invalid = |text: String| {
        refuse(
            &state,
            Refusal::Invalid,
            ApiError::new(StatusCode::BAD_REQUEST, text),
        )
    };
    let Path((raid, level_group)) = path.map_err(|r| invalid(r.body_text()))?;
    let Query(query) = query.map_err(|r| invalid(r.body_text()))?;
    if !is_raid_name(&raid) {
        return Err(invalid(format!(
            "raid must be 1 to {MAX_RAID_NAME_BYTES} lowercase ASCII letters, digits and `_`, \
             starting with a letter"
        )));
    }
    let board = match query.board.as_deref() {
        None => Board::Players,
        Some(label) => Board::from_label(label)
            .ok_or_else(|| invalid("board must be players or groups".to_owned()))?,
    };
    let top = match query.top {
        None => DEFAULT_TOP,
        Some(n) => u16::try_from(n)
            .ok()
            .filter(|&n| n <= MAX_LEADERBOARD_TOP)
            .ok_or_else(|| invalid(format!("top must be at most {MAX_LEADERBOARD_TOP}")))?,
    };
    let character = query.character.map(CharacterId);
    // A task of its own, as the other routes' store calls: never cancelled
    // mid-query by the request's timeout.
    let store = state.inner.store.clone();
    let task_raid = raid.clone();
    let (entries, own) = tokio::spawn(async move {
        (store.leaderboard(&task_raid, level_group, board, top, character)).await
    })
    .await
    .map_err(|_| store_unavailable(&state))?
    .map_err(|_| store_unavailable(&state))?;
    state.inner.metrics.leaderboard_served();
    let body = json!({
        "raid": raid,
        "level_group": level_group,
        "board": board.label(),
        "top": entries.iter().map(entry_json).collect::<Vec<_>>(),
        "own": own.as_ref().map(entry_json),
    });
    Ok((StatusCode::OK, Json(body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raid_names_follow_contents_rule() {
        for ok in ["ember_lair", "a", "t2", &"a".repeat(MAX_RAID_NAME_BYTES)] {
            assert!(is_raid_name(ok), "{ok}");
        }
        let long = "a".repeat(MAX_RAID_NAME_BYTES + 1);
        for bad in ["", "Ember", "2x", "a-b", "a b", "a\0", "é", long.as_str()] {
            assert!(!is_raid_name(bad), "{bad:?}");
        }
    }
}
