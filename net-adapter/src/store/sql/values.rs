//! Column values: the core's u64s as the same 64 bits in a signed BIGINT,
//! and text and narrow integers read the same from every engine.

use sqlx::any::AnyRow;
use sqlx::Row;

pub(super) fn bits(v: u64) -> i64 {
    v as i64
}

pub(super) fn unbits(v: i64) -> u64 {
    v as u64
}

pub(super) fn decode_err<E: std::error::Error + Send + Sync + 'static>(e: E) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(e))
}

/// A text column. MariaDB's `TEXT` reaches the `Any` driver as a blob.
pub(super) fn text(row: &AnyRow, i: usize) -> Result<String, sqlx::Error> {
    match row.try_get::<String, _>(i) {
        Ok(s) => Ok(s),
        Err(_) => String::from_utf8(row.try_get::<Vec<u8>, _>(i)?).map_err(decode_err),
    }
}

pub(super) fn opt_text(row: &AnyRow, i: usize) -> Result<Option<String>, sqlx::Error> {
    match row.try_get::<Option<String>, _>(i) {
        Ok(s) => Ok(s),
        Err(_) => row
            .try_get::<Option<Vec<u8>>, _>(i)?
            .map(|b| String::from_utf8(b).map_err(decode_err))
            .transpose(),
    }
}

pub(super) fn u16_col(row: &AnyRow, i: usize) -> Result<u16, sqlx::Error> {
    u16::try_from(row.try_get::<i64, _>(i)?).map_err(decode_err)
}

pub(super) fn i32_col(row: &AnyRow, i: usize) -> Result<i32, sqlx::Error> {
    i32::try_from(row.try_get::<i64, _>(i)?).map_err(decode_err)
}
