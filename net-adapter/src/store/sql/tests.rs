//! The statements' pure parts: placeholders, what a column can hold, labels.

use super::placeholders::numbered;
use super::*;

#[test]
fn postgres_placeholders_are_numbered() {
    assert_eq!(
        numbered("UPDATE t SET a = ? WHERE b = ? AND c < ?"),
        "UPDATE t SET a = $1 WHERE b = $2 AND c < $3"
    );
}

#[test]
fn unstorable_strings_are_caught_before_the_database() {
    assert!(storable_key("ada"));
    assert!(!storable("a\0b"));
    assert!(!storable_key(&"a".repeat(MAX_KEY_BYTES + 1)));
    assert!(storable_key(&"a".repeat(MAX_KEY_BYTES)));
}
