//! Access codes as typed by a visitor: the one place where they are normalised.

/// Characters of generated codes: no look-alikes (no 0/O, no 1/I/L).
pub const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// Longest input considered at all; anything longer is refused before any lookup.
pub const MAX_CODE_INPUT_LEN: usize = 64;

/// Normalises a code as a visitor typed it: case-insensitive, surrounding and inner spaces and
/// dashes ignored (tickets may print `ABC-123`). Returns `None` for input that cannot be a code
/// (empty, too long, or with characters other than ASCII letters and digits).
pub fn normalize_code(input: &str) -> Option<String> {
    if input.len() > MAX_CODE_INPUT_LEN {
        return None;
    }
    let mut code = String::with_capacity(input.len());
    for ch in input.chars() {
        if ch.is_whitespace() || ch == '-' {
            continue;
        }
        if !ch.is_ascii_alphanumeric() {
            return None;
        }
        code.push(ch.to_ascii_uppercase());
    }
    if code.is_empty() { None } else { Some(code) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_spaces_and_dashes() {
        assert_eq!(normalize_code("  abc123 ").as_deref(), Some("ABC123"));
        assert_eq!(normalize_code("ab c-12\t3").as_deref(), Some("ABC123"));
    }

    #[test]
    fn refuses_what_cannot_be_a_code() {
        assert_eq!(normalize_code(""), None);
        assert_eq!(normalize_code("   "), None);
        assert_eq!(normalize_code("ABC;DROP"), None);
        assert_eq!(normalize_code("ÉCOLE"), None);
        assert_eq!(normalize_code(&"A".repeat(MAX_CODE_INPUT_LEN + 1)), None);
    }

    #[test]
    fn alphabet_has_no_look_alikes() {
        for ch in b"01OIL" {
            assert!(!CODE_ALPHABET.contains(ch), "{}", *ch as char);
        }
        assert_eq!(CODE_ALPHABET.len(), 31);
    }
}
