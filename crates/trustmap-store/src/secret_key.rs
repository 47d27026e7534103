//! The inventory's secret-fingerprint key: created with the store (migration 9), kept in
//! it (`inventory_keys`), handed to the scanner through the engine, never in a report.
//! A secret's fingerprint is `sha256:` + hex of `HMAC-SHA256(key, SHA-256(value))`.

use crate::Store;
use crate::db::{Db, Val};
use crate::error::Error;

/// Length of the key in bytes.
pub const SECRET_KEY_LEN: usize = 32;

/// 32 bytes from the operating system's random source.
pub(crate) fn random() -> Result<[u8; SECRET_KEY_LEN], Error> {
    use ring::rand::SecureRandom;
    let mut k = [0u8; SECRET_KEY_LEN];
    ring::rand::SystemRandom::new()
        .fill(&mut k)
        .map_err(|_| Error::other("no random bytes for the secret-fingerprint key"))?;
    Ok(k)
}

/// The key, when the inventory has one.
pub(crate) fn read(db: &mut Db) -> Result<Option<[u8; SECRET_KEY_LEN]>, Error> {
    let Some(r) = db.query_one(
        "SELECT value FROM inventory_keys WHERE name = ?",
        &[Val::from(crate::migrate9::SECRET_KEY)],
    )?
    else {
        return Ok(None);
    };
    let bytes = hex::decode(r.text(0))
        .ok()
        .and_then(|b| <[u8; SECRET_KEY_LEN]>::try_from(b).ok())
        .ok_or_else(|| Error::corrupt("the inventory's secret-fingerprint key is malformed"))?;
    Ok(Some(bytes))
}

/// `sha256:` + hex of `HMAC-SHA256(key, digest)`, `digest` being the value's SHA-256.
pub(crate) fn keyed_fingerprint(key: &[u8], digest: &[u8]) -> String {
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    format!(
        "sha256:{}",
        hex::encode(ring::hmac::sign(&k, digest).as_ref())
    )
}

impl Store {
    /// The inventory's fingerprints of secrets whose values have SHA-256 `digests`, in
    /// order (a pushed scan's secrets arrive as digests; see the server's push).
    pub fn keyed_secret_fingerprints(&self, digests: &[[u8; 32]]) -> Result<Vec<String>, Error> {
        let key = self.secret_fingerprint_key()?;
        Ok(digests.iter().map(|d| keyed_fingerprint(&key, d)).collect())
    }

    /// The key secret fingerprints are made with in this inventory (see the module docs).
    /// Give it to the scanner only; it must never reach a report or a log.
    pub fn secret_fingerprint_key(&self) -> Result<[u8; SECRET_KEY_LEN], Error> {
        read(&mut *self.conn()?)?
            .ok_or_else(|| Error::corrupt("the inventory has no secret-fingerprint key"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn keyed_fingerprints_depend_on_the_key() {
        let d = [7u8; 32];
        let a = super::keyed_fingerprint(&[1; 32], &d);
        assert_eq!(a, super::keyed_fingerprint(&[1; 32], &d));
        assert_ne!(a, super::keyed_fingerprint(&[2; 32], &d));
        assert!(a.starts_with("sha256:") && a.len() == 7 + 64, "{a}");
    }
}
