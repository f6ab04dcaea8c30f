//! Access codes and API tokens: generated with the OS-seeded CSPRNG of `rand`.

use poste_proto::CODE_ALPHABET;
use rand::RngExt;
use sha2::{Digest, Sha256};

/// A new access code of `len` characters from the look-alike-free alphabet.
pub fn generate_code(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
        .collect()
}

/// Prefix of API tokens, so a leaked one is recognisable (and greppable in logs).
pub const TOKEN_PREFIX: &str = "pp_";

/// A new API token: the prefix and 32 characters (≈ 158 bits).
pub fn generate_token() -> String {
    format!("{TOKEN_PREFIX}{}", generate_code(32).to_ascii_lowercase())
}

/// How a token is stored: SHA-256, hex. Tokens are long random strings, so a fast hash is
/// enough (no dictionary to attack), and lookups stay one indexed query.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_use_the_alphabet_and_length() {
        for len in [4, 6, 10] {
            let code = generate_code(len);
            assert_eq!(code.len(), len);
            assert!(code.bytes().all(|b| CODE_ALPHABET.contains(&b)), "{code}");
            assert_eq!(
                poste_proto::normalize_code(&code.to_lowercase()),
                Some(code)
            );
        }
    }

    #[test]
    fn codes_are_spread_over_the_whole_alphabet() {
        let mut seen = HashSet::new();
        let mut distinct = HashSet::new();
        for _ in 0..2000 {
            let code = generate_code(6);
            seen.extend(code.bytes());
            distinct.insert(code);
        }
        assert_eq!(seen.len(), CODE_ALPHABET.len());
        assert_eq!(
            distinct.len(),
            2000,
            "6-character codes should not collide in 2000 draws"
        );
    }

    #[test]
    fn tokens_hash_stably() {
        let token = generate_token();
        assert!(token.starts_with(TOKEN_PREFIX));
        assert_eq!(token.len(), TOKEN_PREFIX.len() + 32);
        assert_eq!(token_hash(&token), token_hash(&token));
        assert_ne!(token_hash(&token), token_hash(&generate_token()));
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
