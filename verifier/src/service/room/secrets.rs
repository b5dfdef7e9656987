//! The room's secrets: a short join code said aloud in class, a token per learner that
//! never crosses the wire again after `join`, and a MAC that proves each later message
//! comes from the token's holder. A nonce in every message makes a replay detectable.
//!
//! These come from the operating system's randomness, not from a seed: a seed replays
//! a run, and a secret that replays is no secret.

use sha2::{Digest, Sha256};

/// Letters that cannot be mistaken for one another when read off a projector.
const CODE_ALPHABET: &[u8] = b"ACDEFGHJKMNPQRTUVWXY34679";

/// How many characters a join code has.
pub const CODE_LENGTH: usize = 6;

/// `n` random bytes from the operating system.
fn random_bytes<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness from the system: {e}"))?;
    Ok(bytes)
}

/// A fresh join code, e.g. `K7TQ3M`.
pub fn join_code() -> anyhow::Result<String> {
    let bytes: [u8; CODE_LENGTH] = random_bytes()?;
    Ok(bytes
        .iter()
        .map(|b| CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()] as char)
        .collect())
}

/// A fresh secret token (128 bits, hex).
pub fn token() -> anyhow::Result<String> {
    Ok(hex::encode(random_bytes::<16>()?))
}

/// A fresh nonce for one message.
pub fn nonce() -> anyhow::Result<u64> {
    Ok(u64::from_le_bytes(random_bytes()?))
}

/// The MAC of a message: HMAC-SHA256 of `learner`, `nonce` and the message's own text,
/// keyed by the learner's token.
pub fn mac(token: &str, learner: u32, nonce: u64, text: &str) -> String {
    hmac_sha256(token.as_bytes(), format!("{learner}\n{nonce}\n{text}").as_bytes())
}

/// HMAC-SHA256 (RFC 2104), hex.
fn hmac_sha256(secret: &[u8], data: &[u8]) -> String {
    const BLOCK: usize = 64;
    let mut key = [0u8; BLOCK];
    match secret.len() > BLOCK {
        true => key[..32].copy_from_slice(&Sha256::digest(secret)),
        false => key[..secret.len()].copy_from_slice(secret),
    }
    let pad = |byte: u8| key.iter().map(|k| k ^ byte).collect::<Vec<u8>>();
    let mut inner = Sha256::new();
    inner.update(pad(0x36));
    inner.update(data);
    let mut outer = Sha256::new();
    outer.update(pad(0x5c));
    outer.update(inner.finalize());
    hex::encode(outer.finalize())
}

/// Compares two MACs in time that does not depend on where they differ.
pub fn same_mac(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_only_unambiguous_letters() -> anyhow::Result<()> {
        let code = join_code()?;
        assert_eq!(code.len(), CODE_LENGTH);
        assert!(code.bytes().all(|c| CODE_ALPHABET.contains(&c)), "{code}");
        Ok(())
    }

    #[test]
    fn the_mac_is_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            hmac_sha256(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let a = mac("Jefe", 1, 2, "x");
        assert_eq!(a.len(), 64);
        assert_ne!(a, mac("Jefe", 1, 3, "x"), "the nonce is covered");
        assert_ne!(a, mac("Jefe", 2, 2, "x"), "the learner is covered");
        assert_ne!(a, mac("Jeff", 1, 2, "x"), "the key matters");
        assert!(same_mac(&a, &mac("Jefe", 1, 2, "x")));
        assert!(!same_mac(&a, &mac("Jefe", 1, 2, "y")));
    }
}
