//! Text that ioc stores and shows: no control characters (NUL, which
//! PostgreSQL cannot store in text, the other C0 and C1 controls, DEL) and
//! no bidirectional controls (which make a code display as another).

/// The first character of `s` ioc refuses in stored text, with its
/// 0-based position in characters.
pub fn forbidden_char(s: &str) -> Option<(usize, char)> {
    s.chars().enumerate().find(|(_, c)| is_forbidden(*c))
}

/// Why `s` is refused, if it is: "contains U+0000 (a control character) at character 3".
pub fn check_plain(s: &str) -> Result<(), String> {
    match forbidden_char(s) {
        None => Ok(()),
        Some((at, c)) => Err(format!(
            "contains U+{:04X} ({}) at character {}",
            u32::from(c),
            if c.is_control() {
                "a control character"
            } else {
                "a bidirectional control"
            },
            at + 1
        )),
    }
}

fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_marks_are_named_with_their_position() {
        assert_eq!(check_plain("Phường Tân Phú 25195"), Ok(()));
        let nul = check_plain("HS\u{0}1").expect_err("NUL");
        assert!(
            nul.contains("U+0000 (a control character) at character 3"),
            "{nul}"
        );
        let bidi = check_plain("\u{202E}123").expect_err("RLO");
        assert!(
            bidi.contains("U+202E (a bidirectional control) at character 1"),
            "{bidi}"
        );
        assert!(check_plain("a\u{7f}").is_err() && check_plain("a\u{85}").is_err());
        assert!(check_plain("a\tb").is_err(), "tabs are controls too");
    }
}
