//! Unit names as they are compared when a source names a unit: Vietnamese
//! is written with the tone mark on either vowel of a pair ("Hòa", "Hoà"),
//! in composed or decomposed Unicode, and lists differ in "Đak"/"Đăk". A
//! name is folded word by word to its letters without the tone, then the
//! tone as a control character (U+0001 to U+0005, which no checked name
//! holds: "hòa", "hoà" → "hoa\u{1}"), so that such spellings match while
//! names that differ in a tone or a letter ("Tân", "Tấn") do not.

/// Every lower-case Vietnamese vowel that carries a tone: the letter, the
/// letter without the tone, the tone (1 huyền, 2 sắc, 3 hỏi, 4 ngã, 5 nặng).
const TONED: [(char, char, u8); 60] = [
    ('à', 'a', 1),
    ('á', 'a', 2),
    ('ả', 'a', 3),
    ('ã', 'a', 4),
    ('ạ', 'a', 5),
    ('ằ', 'ă', 1),
    ('ắ', 'ă', 2),
    ('ẳ', 'ă', 3),
    ('ẵ', 'ă', 4),
    ('ặ', 'ă', 5),
    ('ầ', 'â', 1),
    ('ấ', 'â', 2),
    ('ẩ', 'â', 3),
    ('ẫ', 'â', 4),
    ('ậ', 'â', 5),
    ('è', 'e', 1),
    ('é', 'e', 2),
    ('ẻ', 'e', 3),
    ('ẽ', 'e', 4),
    ('ẹ', 'e', 5),
    ('ề', 'ê', 1),
    ('ế', 'ê', 2),
    ('ể', 'ê', 3),
    ('ễ', 'ê', 4),
    ('ệ', 'ê', 5),
    ('ì', 'i', 1),
    ('í', 'i', 2),
    ('ỉ', 'i', 3),
    ('ĩ', 'i', 4),
    ('ị', 'i', 5),
    ('ò', 'o', 1),
    ('ó', 'o', 2),
    ('ỏ', 'o', 3),
    ('õ', 'o', 4),
    ('ọ', 'o', 5),
    ('ồ', 'ô', 1),
    ('ố', 'ô', 2),
    ('ổ', 'ô', 3),
    ('ỗ', 'ô', 4),
    ('ộ', 'ô', 5),
    ('ờ', 'ơ', 1),
    ('ớ', 'ơ', 2),
    ('ở', 'ơ', 3),
    ('ỡ', 'ơ', 4),
    ('ợ', 'ơ', 5),
    ('ù', 'u', 1),
    ('ú', 'u', 2),
    ('ủ', 'u', 3),
    ('ũ', 'u', 4),
    ('ụ', 'u', 5),
    ('ừ', 'ư', 1),
    ('ứ', 'ư', 2),
    ('ử', 'ư', 3),
    ('ữ', 'ư', 4),
    ('ự', 'ư', 5),
    ('ỳ', 'y', 1),
    ('ý', 'y', 2),
    ('ỷ', 'y', 3),
    ('ỹ', 'y', 4),
    ('ỵ', 'y', 5),
];

/// The name reduced for matching: lower case, single spaces, each word
/// folded, without a leading "Ủy ban nhân dân"/"UBND" (sources write "UBND
/// xã Tân Thành" for the unit "Xã Tân Thành").
pub(super) fn name_key(name: &str) -> String {
    // Control characters (which checked names never hold) are dropped, so
    // that none sent by a source can pose as a tone.
    let lower: String = name
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .to_lowercase();
    let folded: Vec<String> = lower.split_whitespace().map(fold_word).collect();
    let folded = folded.join(" ");
    for prefix in ["uy\u{3} ban nhân dân ", "ubnd "] {
        if let Some(rest) = folded.strip_prefix(prefix) {
            return rest.to_owned();
        }
    }
    folded
}

/// One lower-case word: its letters without the tone, then the tone.
fn fold_word(word: &str) -> String {
    let mut letters: Vec<char> = Vec::with_capacity(word.len());
    let mut tone = 0;
    for c in word.chars() {
        match c {
            '\u{300}' => tone = 1,
            '\u{301}' => tone = 2,
            '\u{309}' => tone = 3,
            '\u{303}' => tone = 4,
            '\u{323}' => tone = 5,
            // Decomposed vowel marks: circumflex, breve, horn.
            '\u{302}' | '\u{306}' | '\u{31b}' => {
                if let Some(last) = letters.last_mut() {
                    *last = with_mark(*last, c);
                }
            }
            c => match TONED.iter().find(|(toned, _, _)| *toned == c) {
                Some(&(_, bare, t)) => {
                    letters.push(bare);
                    tone = t;
                }
                None => letters.push(c),
            },
        }
    }
    // "Đăk" and "Đak" (as in Đắk Lắk, Đak Ơ) are one spelling.
    if letters == ['đ', 'ă', 'k'] {
        letters[1] = 'a';
    }
    let mut folded: String = letters.into_iter().collect();
    if tone > 0 {
        folded.push(char::from(tone));
    }
    folded
}

/// `letter` with a decomposed vowel `mark` composed onto it.
fn with_mark(letter: char, mark: char) -> char {
    match (letter, mark) {
        ('a', '\u{302}') => 'â',
        ('e', '\u{302}') => 'ê',
        ('o', '\u{302}') => 'ô',
        ('a', '\u{306}') => 'ă',
        ('o', '\u{31b}') => 'ơ',
        ('u', '\u{31b}') => 'ư',
        (other, _) => other,
    }
}

#[cfg(test)]
mod tests {
    use super::name_key;

    #[test]
    fn spellings_of_one_name_match_and_other_names_do_not() {
        assert_eq!(name_key("Xã Hòa Bình"), name_key("Xã Hoà Bình"));
        assert_eq!(name_key("Xã Đăk Ơ"), name_key("Xã Đak Ơ"));
        let decomposed_dak = "Ti\u{309}nh \u{110}a\u{306}\u{301}k La\u{306}\u{301}k";
        assert_eq!(name_key(decomposed_dak), name_key("Tỉnh Đắk Lắk"));
        assert_eq!(name_key("TỈNH ĐẮK LẮK"), name_key("Tỉnh Đắk Lắk"));
        assert_ne!(
            name_key("Xã Hoa\u{2}"),
            name_key("Xã Hóa"),
            "no tone from a control"
        );
        let decomposed = "Xa\u{303} Ta\u{302}n Thanh\u{300}";
        assert_eq!(name_key(decomposed), name_key("Xã Tân Thành"));
        assert_eq!(
            name_key("UBND  phường Hưng Long"),
            name_key("Phường Hưng Long")
        );
        assert_eq!(name_key("Uỷ ban nhân dân xã A"), name_key("Xã A"));
        assert_eq!(name_key("Ủy ban nhân dân xã A"), name_key("Xã A"));
        assert_ne!(name_key("Xã Tân Lợi"), name_key("Xã Tấn Lợi"));
        assert_ne!(name_key("Xã Tân Lợi"), name_key("Xã Tân Lời"));
        assert_ne!(name_key("Phường An Lộc"), name_key("Phường An Lọc"));
    }
}
