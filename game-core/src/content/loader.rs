//! The content files: their formats, and turning them into validated tables.
//! (A helper is filling this in; see `Content::load`.)

use super::Content;
use std::fmt;

/// The sample content compiled into the server: (file name, text).
pub const SAMPLE_CONTENT: &[(&str, &str)] = &[];

/// Why the content was refused: the file, the line (1-based; 0 when the
/// mistake is not on one line, such as a missing file) and the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ContentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl std::error::Error for ContentError {}

impl Content {
    /// Loads and validates content from `files` (name, text). `walkable(map,
    /// cell)` says whether a cell of a loaded map is walkable (`None`: no such
    /// map or cell).
    pub fn load(
        _files: &[(&str, &str)],
        _walkable: &dyn Fn(&str, (u32, u32)) -> Option<bool>,
    ) -> Result<Content, ContentError> {
        Err(ContentError {
            file: String::new(),
            line: 0,
            message: "not yet".into(),
        })
    }
}
