//! Reading one content file: its lines, and the checks every table shares
//! (an integer in range, a distance in metres, a name, a walkable cell, dense
//! ids, unique names), each refusing with the file and line of the value.
//! `loader.rs` and `economy_loader.rs` build the tables with these.

use super::loader::ContentError;
use crate::math::Fixed;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;

/// The largest distance a file may give, in metres.
const MAX_METRES: f64 = 1000.0;
/// The largest duration a file may give (a day), in milliseconds.
pub(super) const MAX_MS: i64 = 86_400_000;
/// The most entries of one table (ids are `u16`).
const MAX_ENTRIES: usize = 1 << 16;
/// The longest name of a skill, monster or item.
const MAX_NAME_LEN: usize = 32;

/// Whether a cell of a map is walkable (`None`: no such map or cell).
/// The end of a spawns file's name, after its map's.
pub(super) const SPAWNS_SUFFIX: &str = ".spawns.toml";

pub(super) type Walkable<'a> = dyn Fn(&str, (u32, u32)) -> Option<bool> + 'a;
/// One file being read: its name (as given) and text, to turn byte spans into
/// lines.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct File<'a> {
    pub(super) name: &'a str,
    pub(super) text: &'a str,
}

impl File<'_> {
    /// The 1-based line holding byte `offset`.
    pub(super) fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    pub(super) fn at(&self, span: Range<usize>, message: impl Into<String>) -> ContentError {
        ContentError {
            file: self.name.into(),
            line: self.line(span.start),
            message: message.into(),
        }
    }

    pub(super) fn at_no_line(&self, message: impl Into<String>) -> ContentError {
        ContentError {
            file: self.name.into(),
            line: 0,
            message: message.into(),
        }
    }

    /// Parses the whole file; a syntax or shape error (unknown field, missing
    /// field, wrong type) is reported on the line toml points at.
    pub(super) fn parse<T: DeserializeOwned>(&self) -> Result<T, ContentError> {
        toml::from_str(self.text).map_err(|e| ContentError {
            file: self.name.into(),
            line: e.span().map_or(0, |s| self.line(s.start)),
            message: e.message().trim().replace('\n', ": "),
        })
    }

    /// An integer field in `min..=max`, narrowed to `T`.
    pub(super) fn int<T: TryFrom<i64>>(
        &self,
        v: &Spanned<i64>,
        field: &str,
        min: i64,
        max: i64,
    ) -> Result<T, ContentError> {
        let n = *v.get_ref();
        if n < min || n > max {
            return Err(self.at(
                v.span(),
                format!("{field} is {n}: it must be from {min} to {max}"),
            ));
        }
        T::try_from(n).map_err(|_| self.at(v.span(), format!("{field} is out of range")))
    }

    /// An optional integer field in `min..=max`, `default` when absent.
    pub(super) fn int_or<T: TryFrom<i64>>(
        &self,
        v: &Option<Spanned<i64>>,
        field: &str,
        min: i64,
        max: i64,
        default: T,
    ) -> Result<T, ContentError> {
        match v {
            Some(v) => self.int(v, field, min, max),
            None => Ok(default),
        }
    }

    /// A distance in metres (a decimal or an integer), rounded to 1/256 m: from
    /// 0 (more than 0 if `positive`) to [`MAX_METRES`].
    pub(super) fn metres(
        &self,
        v: &Spanned<f64>,
        field: &str,
        positive: bool,
    ) -> Result<Fixed, ContentError> {
        self.metres_value(*v.get_ref(), v.span(), field, positive)
    }

    pub(super) fn metres_value(
        &self,
        m: f64,
        span: Range<usize>,
        field: &str,
        positive: bool,
    ) -> Result<Fixed, ContentError> {
        let allowed = if positive {
            "more than 0 and at most"
        } else {
            "from 0 to"
        };
        // NaN and infinities are outside too.
        if !(0.0..=MAX_METRES).contains(&m) {
            return Err(self.at(
                span,
                format!("{field} is {m}: it must be a distance in metres, {allowed} {MAX_METRES}"),
            ));
        }
        // Deterministic: TOML's decimal parse and this rounding are exact
        // IEEE operations, the same on every machine.
        let raw = (m * f64::from(1u32 << Fixed::FRAC_BITS)).round() as i32;
        if positive && raw == 0 {
            return Err(self.at(
                span,
                format!("{field} is {m}: it must be at least 1/256 m (0.004)"),
            ));
        }
        Ok(Fixed::from_raw(raw))
    }

    /// A name: a lowercase ASCII identifier.
    pub(super) fn name(&self, v: &Spanned<String>, what: &str) -> Result<String, ContentError> {
        let name = v.get_ref();
        let ok = name.len() <= MAX_NAME_LEN
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            return Err(self.at(
                v.span(),
                format!(
                    "{what} name \"{name}\" is not allowed: a name is 1 to {MAX_NAME_LEN} \
                     lowercase ASCII letters, digits and `_`, starting with a letter"
                ),
            ));
        }
        Ok(name.clone())
    }

    /// A cell of `map`, checked walkable.
    pub(super) fn cell(
        &self,
        v: &Spanned<[i64; 2]>,
        what: &str,
        map: &str,
        walkable: &Walkable<'_>,
    ) -> Result<(u32, u32), ContentError> {
        let [x, y] = *v.get_ref();
        let coord = |n: i64| u32::try_from(n).ok();
        let (Some(cx), Some(cy)) = (coord(x), coord(y)) else {
            return Err(self.at(
                v.span(),
                format!("{what} [{x}, {y}] is not a cell: cells are [x, y], each from 0"),
            ));
        };
        match walkable(map, (cx, cy)) {
            // Every map has a cell (0, 0): without it, there is no such map.
            None if walkable(map, (0, 0)).is_none() => Err(self.at(
                v.span(),
                format!(
                    "no map named \"{map}\": a spawns file is named <map>{SPAWNS_SUFFIX} after \
                     a loaded map"
                ),
            )),
            None => Err(self.at(
                v.span(),
                format!("{what} [{x}, {y}] is outside map \"{map}\""),
            )),
            Some(false) => Err(self.at(
                v.span(),
                format!(
                    "{what} [{x}, {y}] is not a walkable cell of map \"{map}\": it must be a `.` \
                     cell inside the map"
                ),
            )),
            Some(true) => Ok((cx, cy)),
        }
    }
}

/// Checks that the ids of a table of `n` entries are `0..n`, each once, and
/// returns them in file order.
pub(super) fn dense_ids(
    file: &File,
    ids: &[&Spanned<i64>],
    what: &str,
) -> Result<Vec<u16>, ContentError> {
    let n = ids.len();
    if n > MAX_ENTRIES {
        return Err(file.at_no_line(format!("too many {what}s: at most {MAX_ENTRIES}")));
    }
    // id -> where it was first seen (a byte offset).
    let mut seen: BTreeMap<i64, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(n);
    for id in ids {
        let v = *id.get_ref();
        if v < 0 || v >= n as i64 {
            return Err(file.at(
                id.span(),
                format!(
                    "{what} id {v} is out of range: the {n} {what}s must have the ids 0 to {}, \
                     each once, in any order",
                    n as i64 - 1
                ),
            ));
        }
        if let Some(first) = seen.insert(v, id.span().start) {
            let first = file.line(first);
            return Err(file.at(
                id.span(),
                format!("{what} id {v} is given twice (also on line {first}): each id once"),
            ));
        }
        out.push(v as u16);
    }
    Ok(out)
}

/// Checks that a name is not taken yet, and takes it (`seen`: name -> the
/// byte offset where it was first given).
pub(super) fn unique_name(
    file: &File,
    seen: &mut BTreeMap<String, usize>,
    name: &Spanned<String>,
    what: &str,
) -> Result<(), ContentError> {
    if let Some(first) = seen.insert(name.get_ref().clone(), name.span().start) {
        let first = file.line(first);
        return Err(file.at(
            name.span(),
            format!(
                "{what} name \"{}\" is given twice (also on line {first}): names are unique",
                name.get_ref()
            ),
        ));
    }
    Ok(())
}
