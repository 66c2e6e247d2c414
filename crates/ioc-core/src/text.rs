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

/// `raw` with its `%XX` escapes decoded (invalid escapes kept as they
/// are), as servers and libpq read parameter names: so that a name is
/// compared as it will be read, `%74oken` as `token`.
pub fn percent_decoded(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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

    #[test]
    fn escapes_are_decoded_and_broken_ones_kept() {
        assert_eq!(percent_decoded("%74o%6Ben"), "token");
        assert_eq!(percent_decoded("pass%77ord"), "password");
        assert_eq!(percent_decoded("a%2"), "a%2");
        assert_eq!(percent_decoded("%zz+"), "%zz+");
    }
}
