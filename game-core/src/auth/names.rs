//! What a name and a password may be.
//!
//! Account and character names are ASCII on purpose: no two of them can look
//! alike (no confusable letters from other scripts, no invisible characters),
//! and one lowercase key makes them unique in any case.

use std::fmt;

/// The key that makes names unique in any case: the ASCII lowercase of the name.
pub fn name_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// Why a name was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameProblem {
    TooShort,
    TooLong,
    /// Must start with an ASCII letter.
    BadStart,
    /// Only ASCII letters, digits, `_` and `-`.
    BadCharacter,
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameProblem::TooShort => "name is too short",
            NameProblem::TooLong => "name is too long",
            NameProblem::BadStart => "name must start with a letter",
            NameProblem::BadCharacter => "name may hold only ASCII letters, digits, '_' and '-'",
        })
    }
}

fn validate_name(name: &str, min: usize, max: usize) -> Result<(), NameProblem> {
    if name.len() < min {
        return Err(NameProblem::TooShort);
    }
    if name.len() > max {
        return Err(NameProblem::TooLong);
    }
    if !name.as_bytes()[0].is_ascii_alphabetic() {
        return Err(NameProblem::BadStart);
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(NameProblem::BadCharacter);
    }
    Ok(())
}

/// An account name: 3 to 32 ASCII letters, digits, `_` or `-`, starting with a letter.
pub fn validate_account_name(name: &str) -> Result<(), NameProblem> {
    validate_name(name, 3, 32)
}

/// A character name: 3 to 16 ASCII letters, digits, `_` or `-`, starting with a letter.
pub fn validate_character_name(name: &str) -> Result<(), NameProblem> {
    validate_name(name, 3, 16)
}

/// Why a password was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordProblem {
    TooShort,
    TooLong,
    /// The password contains the account name, or is one character repeated.
    Guessable,
}

impl fmt::Display for PasswordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PasswordProblem::TooShort => "password must be at least 10 characters",
            PasswordProblem::TooLong => "password must be at most 128 bytes",
            PasswordProblem::Guessable => {
                "password must not contain the account name or repeat one character"
            }
        })
    }
}

/// A password: 10 characters to 128 bytes (OWASP: length over composition
/// rules), not containing the name, not one character repeated.
pub fn validate_password(name: &str, password: &str) -> Result<(), PasswordProblem> {
    if password.chars().count() < 10 {
        return Err(PasswordProblem::TooShort);
    }
    if password.len() > 128 {
        return Err(PasswordProblem::TooLong);
    }
    let mut chars = password.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first)
        || password
            .to_ascii_lowercase()
            .contains(&name.to_ascii_lowercase())
    {
        return Err(PasswordProblem::Guessable);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_ascii_and_bounded() {
        assert_eq!(validate_account_name("ada"), Ok(()));
        assert_eq!(validate_account_name("ad"), Err(NameProblem::TooShort));
        assert_eq!(validate_account_name("1ada"), Err(NameProblem::BadStart));
        assert_eq!(
            validate_account_name("ad'; DROP TABLE accounts;--"),
            Err(NameProblem::BadCharacter)
        );
        // A Cyrillic "а" looks like the Latin one: refused.
        assert_eq!(
            validate_account_name("\u{430}da"),
            Err(NameProblem::BadStart)
        );
        assert_eq!(
            validate_account_name("ad\u{430}"),
            Err(NameProblem::BadCharacter)
        );
        assert_eq!(
            validate_character_name(&"a".repeat(17)),
            Err(NameProblem::TooLong)
        );
        assert_eq!(validate_character_name("Bot_7-x"), Ok(()));
        assert_eq!(name_key("AdA"), "ada");
    }

    #[test]
    fn passwords_are_long_and_not_the_name() {
        assert_eq!(validate_password("ada", "correct horse"), Ok(()));
        assert_eq!(
            validate_password("ada", "short"),
            Err(PasswordProblem::TooShort)
        );
        assert_eq!(
            validate_password("ada", "aaaaaaaaaaaa"),
            Err(PasswordProblem::Guessable)
        );
        assert_eq!(
            validate_password("ada", "my-ADA-password"),
            Err(PasswordProblem::Guessable)
        );
        assert_eq!(
            validate_password("ada", &"x1".repeat(65)),
            Err(PasswordProblem::TooLong)
        );
    }
}
