//! A log's identity: an ed25519 key pair.
//!
//! The public key, in hex, is the log id; the secret key stays in the
//! database and signs every node the log writes (the signature covers the
//! node's key, which covers everything the node says). So a peer that relays
//! another log's nodes cannot change them or invent new ones: it would need
//! that log's secret key.

use anyhow::{Context, Result, anyhow, bail};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

/// The key pair of this database's own log.
pub struct Identity {
    secret: SigningKey,
}

impl Identity {
    /// A new key pair from 32 random bytes.
    pub fn generate() -> Result<Identity> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| anyhow!("cannot get random bytes: {e}"))?;
        Ok(Identity::from_seed(seed))
    }

    pub fn from_seed(seed: [u8; 32]) -> Identity {
        Identity {
            secret: SigningKey::from_bytes(&seed),
        }
    }

    /// The 32 bytes to store, from which [`Identity::from_seed`] rebuilds it.
    pub fn seed(&self) -> [u8; 32] {
        self.secret.to_bytes()
    }

    /// The log id: the public key in lowercase hex (64 digits).
    pub fn log_id(&self) -> String {
        hex::encode(self.secret.verifying_key().as_bytes())
    }

    /// Signs a node's key (its 32 bytes, not its hex text); hex, 128 digits.
    pub fn sign(&self, key: &str) -> Result<String> {
        let bytes = hex::decode(key).context("a node key is hex")?;
        Ok(hex::encode(self.secret.sign(&bytes).to_bytes()))
    }
}

/// Checks that `sig` is the signature of the node key `key` by the log `log`.
pub fn verify(log: &str, key: &str, sig: &str) -> Result<()> {
    let public: [u8; 32] = decode(log, "log id")?;
    let public = VerifyingKey::from_bytes(&public)
        .map_err(|_| anyhow!("the log id {log} is not an ed25519 public key"))?;
    let signature = Signature::from_bytes(&decode::<64>(sig, "signature")?);
    let key: [u8; 32] = decode(key, "key")?;
    if public.verify(&key, &signature).is_err() {
        bail!(
            "bad signature: node {key} was not signed by its log {log}",
            key = hex::encode(key)
        );
    }
    Ok(())
}

fn decode<const N: usize>(text: &str, what: &str) -> Result<[u8; N]> {
    let bytes = hex::decode(text).map_err(|_| anyhow!("the {what} {text:?} is not hex"))?;
    bytes
        .try_into()
        .map_err(|_| anyhow!("the {what} {text:?} is not {} hex digits", N * 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_under_its_log_only() -> Result<()> {
        let (alice, mallory) = (Identity::from_seed([1; 32]), Identity::from_seed([2; 32]));
        let key = "ab".repeat(32);
        let sig = alice.sign(&key)?;
        verify(&alice.log_id(), &key, &sig)?;
        assert!(verify(&mallory.log_id(), &key, &sig).is_err());
        assert!(verify(&alice.log_id(), &"cd".repeat(32), &sig).is_err());
        Ok(())
    }
}
