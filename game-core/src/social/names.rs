//! Guild names: what one may be, and the key that makes two that look alike
//! the same name.
//!
//! Names are ASCII letters, digits and single spaces, so no letter from
//! another script can pass for a Latin one and no invisible character can
//! hide in a name ("Night Watch" against a Cyrillic "Night Wаtch" is refused
//! at the door). Within ASCII, the key folds the look-alikes that remain:
//! case, `0`/`o`, `1`/`l`/`i`/`I`, `5`/`s`, `rn`/`m`, `vv`/`w`, and spaces.

use crate::protocol::SocialRefusal;

/// The shortest and longest guild name, in characters (= bytes: ASCII).
pub const GUILD_NAME_LEN: std::ops::RangeInclusive<usize> = 3..=24;

/// Checks a guild name: 3 to 24 ASCII letters, digits and single spaces,
/// starting with a letter and not ending with a space.
pub fn validate_guild_name(name: &str) -> Result<(), SocialRefusal> {
    let b = name.as_bytes();
    let ok = GUILD_NAME_LEN.contains(&b.len())
        && b[0].is_ascii_alphabetic()
        && b[b.len() - 1] != b' '
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b' ')
        && !name.contains("  ");
    if ok {
        Ok(())
    } else {
        Err(SocialRefusal::InvalidName)
    }
}

/// The key two guild names share when they look alike: lowercase, spaces
/// dropped, and each group of look-alike letters folded to one.
pub fn guild_name_key(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        let folded = match c {
            ' ' => continue,
            '0' => 'o',
            '1' | 'i' | '|' => 'l',
            '5' => 's',
            other => other,
        };
        key.push(folded);
    }
    key.replace("rn", "m").replace("vv", "w")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alike_names_share_a_key() {
        let same = [
            "Night Watch",
            "night watch",
            "NightWatch",
            "N1ght Watch",
            "NIGHT VVATCH",
        ];
        let key = guild_name_key("Night Watch");
        for name in same {
            assert_eq!(guild_name_key(name), key, "{name}");
        }
        assert_eq!(guild_name_key("Modern"), guild_name_key("Modem"));
        assert_ne!(guild_name_key("Night Watch"), guild_name_key("Day Watch"));
        assert_eq!(guild_name_key("B0ss 5quad"), guild_name_key("boss squad"));
    }

    #[test]
    fn only_plain_ascii_names_pass() {
        assert_eq!(validate_guild_name("Night Watch"), Ok(()));
        assert_eq!(validate_guild_name("Clan42"), Ok(()));
        for bad in [
            "",
            "ab",
            "1st Legion",
            " Lead",
            "Trail ",
            "Two  Spaces",
            "Night Wаtch", // a Cyrillic а
            "Zero\u{200b}Width",
            "Tab\tName",
            "Bidi\u{202e}Name",
            "Ünïcode",
            "A name far too long for any guild",
        ] {
            assert_eq!(
                validate_guild_name(bad),
                Err(SocialRefusal::InvalidName),
                "{bad:?}"
            );
        }
    }
}
