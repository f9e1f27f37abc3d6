//! The acknowledged saves, read from the server's log.

use super::*;

/// The acknowledged saves in a server log: the last (highest version) per
/// character.
pub(super) fn parse_acks(log: &str) -> Acks {
    let mut acks = Acks::default();
    for line in log.lines() {
        if line.contains("entered world") {
            let line = strip_ansi(line);
            let character = fields(&line)
                .into_iter()
                .find(|(k, _)| k == "character")
                .and_then(|(_, v)| v.strip_prefix("character#")?.parse().ok());
            if let Some(id) = character {
                acks.entered.insert(id);
            }
            continue;
        }
        if !line.contains("character saved") {
            continue;
        }
        acks.lines += 1;
        match parse_ack_line(line) {
            Some((id, ack)) => {
                let keep = acks
                    .last
                    .get(&id)
                    .is_none_or(|old| old.version < ack.version);
                if keep {
                    acks.last.insert(id, ack);
                }
            }
            None => acks.unreadable += 1,
        }
    }
    acks
}

/// Saves acknowledged in the last second of the log (by the lines' time
/// stamps): whether the kill came while saves were flowing.
pub(super) fn count_recent_acks(log: &str) -> u64 {
    let stamps: Vec<f64> = log
        .lines()
        .filter(|l| l.contains("character saved"))
        .filter_map(|l| seconds_of_day(&strip_ansi(l)))
        .collect();
    let Some(&last) = stamps.last() else {
        return 0;
    };
    stamps.iter().filter(|&&s| last - s <= 1.0).count() as u64
}

/// `2026-12-06T05:40:00.123456Z ...` -> seconds into the day.
pub(super) fn seconds_of_day(line: &str) -> Option<f64> {
    let time = line.split_whitespace().next()?.split_once('T')?.1;
    let time = time.trim_end_matches('Z');
    let mut parts = time.split(':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next()?.parse().ok()?;
    let s: f64 = parts.next()?.parse().ok()?;
    Some(h * 3600.0 + m * 60.0 + s)
}

/// One `character saved` line: `character=character#12 version=3
/// map="meadow" channel=0 x=-123 y=456`.
pub(super) fn parse_ack_line(line: &str) -> Option<(u64, Ack)> {
    let line = strip_ansi(line);
    let fields = fields(&line);
    let get = |k: &str| fields.iter().find(|(key, _)| key == k).map(|(_, v)| v);
    let id = get("character")?.strip_prefix("character#")?.parse().ok()?;
    Some((
        id,
        Ack {
            version: get("version")?.parse().ok()?,
            map: get("map")?.clone(),
            channel: get("channel")?.parse().ok()?,
            x: get("x")?.parse().ok()?,
            y: get("y")?.parse().ok()?,
        },
    ))
}

/// `key=value` pairs of a log line, a quoted value unquoted.
pub(super) fn fields(line: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq]
            .rsplit(|c: char| c.is_whitespace())
            .next()
            .unwrap_or("")
            .to_owned();
        let after = &rest[eq + 1..];
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = q.char_indices();
            let mut end = q.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, e)) = chars.next() {
                            value.push(e);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &q[end..])
        } else {
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            (after[..end].to_owned(), &after[end..])
        };
        out.push((key, value));
        rest = next;
    }
    out
}

/// The line without terminal colour sequences (`ESC [ ... m`).
pub(super) fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
