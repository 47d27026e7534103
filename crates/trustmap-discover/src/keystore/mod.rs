//! Keystores: PKCS#12 (PFX), Java KeyStore (JKS) and JCEKS.
//!
//! Each container is opened with the well-known passwords in [`DEFAULT_PASSWORDS`]; the one
//! that verifies the container's integrity check is reported (`keystore-default-password`).
//! What is readable without a password is listed even when none works: JKS/JCEKS certificate
//! entries and private-key chains, PKCS#12 bags outside encrypted containers.
//!
//! Hand-written here, and why:
//! - JKS/JCEKS: no maintained Rust crate reads them; the format is a short sequence of
//!   length-prefixed fields, Sun's JKS key protection is a SHA-1 keystream, and JCEKS's
//!   PBEWithMD5AndTripleDES is MD5 + 3DES. JCEKS secret-key entries are Java-serialized
//!   `SealedObject`s, read by the small object-stream reader at the end of this file.
//! - PKCS#12: `p12-keystore` exists, but it builds chains without a cycle bound, drops bags it
//!   cannot pair, exposes neither the encryption schemes nor the bags readable without the
//!   password, and has no iteration cap (a crafted file could stall a scan). The structure is
//!   read with [`crate::der`]; the crypto is RustCrypto's block ciphers and `ring`'s digests,
//!   HMAC and PBKDF2. Only the RFC 7292 key derivation (30 lines) is written out.
//!
//! Layout: this module holds the shared types, the default passwords, the bounds and the
//! certificate helpers; `pkcs12` reads PFX files, `jks` JKS/JCEKS, `java` the Java
//! object-stream subset JCEKS needs, `reader` the bounds-checked reader both use, and
//! `crypto` every digest, KDF and cipher.

use std::num::NonZeroU32;

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, InnerIvInit, KeyIvInit};
use ring::digest;
use trustmap_core::KeystoreInfo;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::der::{self, Tlv};
use crate::keys::{self, describe_encryption, oid_string};
use crate::{ParseError, ParsedKey};

/// Passwords tried on every keystore, in this order: vendor defaults first.
pub const DEFAULT_PASSWORDS: &[&str] = &[
    "",
    "changeit",
    "changeme",
    "password",
    "secret",
    "keystore",
    "123456",
    "storepass",
    "keypass",
    "test",
    "1234",
    "12345678",
    "passw0rd",
    "Password1",
    "admin",
    "server",
    "client",
    "truststore",
    "default",
];

/// The largest iteration count we run a KDF for: Java and OpenSSL use 2048 to 10000.
const MAX_ITERATIONS: u32 = 200_000;

/// The key-derivation work one keystore may cost: the iteration counts of every KDF run
/// (PBKDF2, the PKCS#12 KDF, Sun's MD5 rounds; times the output blocks derived), summed over
/// every password tried on every part and entry. About 3 s on the reference machine. A
/// Java PKCS#12 (10,000 iterations) tried with every default and [`MAX_EXTRA`] given
/// passwords costs under 1,000,000; a crafted store with 100 entries at [`MAX_ITERATIONS`]
/// and 19 passwords would cost 380,000,000 (minutes). Once spent, no more passwords are
/// tried: what is still sealed stays sealed and the keystore is reported with
/// [`ParsedKeystore::cut_short`].
pub const MAX_KDF_WORK: u64 = 4_000_000;

/// The key-derivation work left for one keystore (see [`MAX_KDF_WORK`]).
#[derive(Debug)]
pub struct KdfBudget {
    limit: u64,
    spent: std::cell::Cell<u64>,
    exhausted: std::cell::Cell<bool>,
}

impl KdfBudget {
    /// A budget of `limit` iterations.
    pub fn new(limit: u64) -> KdfBudget {
        KdfBudget {
            limit,
            spent: std::cell::Cell::new(0),
            exhausted: std::cell::Cell::new(false),
        }
    }

    /// Iterations run so far.
    pub fn spent(&self) -> u64 {
        self.spent.get()
    }

    /// True once a KDF run was refused: from then on every run is.
    pub fn exhausted(&self) -> bool {
        self.exhausted.get()
    }

    /// Takes `iterations` from the budget; false (and exhausted for good) when they do not fit.
    pub(super) fn charge(&self, iterations: u64) -> bool {
        if self.exhausted.get() || self.spent.get().saturating_add(iterations) > self.limit {
            self.exhausted.set(true);
            return false;
        }
        self.spent.set(self.spent.get() + iterations);
        true
    }

    /// What [`ParsedKeystore::cut_short`] says when the budget ran out.
    fn cut_short(&self) -> Option<String> {
        self.exhausted().then(|| {
            format!(
                "key-derivation budget spent ({} of {} iterations, see MAX_KDF_WORK); \
                 stopped trying passwords, so entries may stay sealed",
                self.spent(),
                self.limit
            )
        })
    }
}
/// Nesting and size bounds for untrusted containers.
const MAX_ENTRIES: usize = 100_000;
const MAX_CHAIN: usize = 16;

/// The most extra passwords (given by the user, or found in configurations) tried on one
/// keystore beyond the defaults: each try of a PKCS#12 costs a KDF run.
pub const MAX_EXTRA: usize = 64;

/// A keystore and its entries.
#[derive(Debug, Clone)]
pub struct ParsedKeystore {
    pub info: KeystoreInfo,
    pub entries: Vec<KeystoreEntry>,
    /// Index of the extra password (not a default) that opened it, if one did. The info's
    /// `opened_with` names only default passwords, never an extra one.
    pub opened_by: Option<usize>,
    /// Set when the key-derivation budget ([`MAX_KDF_WORK`]) ran out: what was cut short.
    pub cut_short: Option<String>,
    /// Key-derivation iterations spent on it.
    pub kdf_work: u64,
}

/// The passwords to try, in order: the defaults (index `None`), then at most [`MAX_EXTRA`]
/// extra ones (their index) that are not defaults.
pub(super) fn candidates<'p>(
    extra: &'p [&'p str],
) -> impl Iterator<Item = (Option<usize>, &'p str)> {
    DEFAULT_PASSWORDS.iter().map(|p| (None, *p)).chain(
        extra
            .iter()
            .take(MAX_EXTRA)
            .enumerate()
            .filter(|(_, p)| !DEFAULT_PASSWORDS.contains(p))
            .map(|(i, p)| (Some(i), *p)),
    )
}

/// One entry of a keystore.
#[derive(Debug, Clone)]
pub struct KeystoreEntry {
    pub alias: String,
    /// Certificates as DER, leaf first.
    pub certificates: Vec<Vec<u8>>,
    pub key: Option<ParsedKey>,
    /// Algorithm of a secret-key entry ("AES", "HmacSHA256", "unknown" when locked).
    pub secret_key: Option<String>,
}

fn err(msg: impl Into<String>) -> ParseError {
    ParseError::new(msg)
}

mod crypto;
mod java;
mod jks;
mod pkcs12;
mod reader;

use reader::Reader;

pub use jks::{parse_jks, parse_jks_with};
pub use pkcs12::{looks_like_pkcs12, parse_pkcs12, parse_pkcs12_with};

/// Decrypts an encrypted PKCS#8 key (EncryptedPrivateKeyInfo DER: PBES2 or a PKCS#12 PBE
/// scheme, the same code that opens keystores' shrouded keys) with the first of `passwords`
/// that opens it. At most [`MAX_EXTRA`] passwords are tried, under one [`MAX_KDF_WORK`]
/// budget for the key. Returns the PrivateKeyInfo DER and the index of the password.
pub fn open_encrypted_key(epki: &[u8], passwords: &[&str]) -> Option<(Vec<u8>, usize)> {
    let budget = KdfBudget::new(MAX_KDF_WORK);
    for (i, pw) in passwords.iter().take(MAX_EXTRA).enumerate() {
        if let Some(plain) = crypto::decrypt_epki(epki, pw, &budget) {
            return Some((plain, i));
        }
        if budget.exhausted() {
            break;
        }
    }
    None
}

/// Decrypts the body of an OpenSSL legacy encrypted PEM key (`Proc-Type: 4,ENCRYPTED`,
/// `DEK-Info: CIPHER,IV`) with the first of `passwords` that gives well-padded plaintext
/// `accept` takes (the key's DER parses); returns it and the password's index. The key is
/// OpenSSL's `EVP_BytesToKey` (MD5, one round, salt = the first 8 bytes of the IV): cheap,
/// so only the number of passwords ([`MAX_EXTRA`]) bounds the work.
pub fn open_legacy_pem(
    dek_info: &str,
    body: &[u8],
    passwords: &[&str],
    accept: impl Fn(&[u8]) -> bool,
) -> Option<(Vec<u8>, usize)> {
    let (name, iv) = dek_info.split_once(',')?;
    let (cipher, key_len, iv_len) = match name.trim().to_ascii_uppercase().as_str() {
        "AES-128-CBC" => (crypto::Cipher::Aes128, 16, 16),
        "AES-192-CBC" => (crypto::Cipher::Aes192, 24, 16),
        "AES-256-CBC" => (crypto::Cipher::Aes256, 32, 16),
        "DES-EDE3-CBC" => (crypto::Cipher::TripleDes, 24, 8),
        "DES-CBC" => (crypto::Cipher::Des, 8, 8),
        _ => return None,
    };
    let iv = hex::decode(iv.trim())
        .ok()
        .filter(|iv| iv.len() == iv_len)?;
    for (i, pw) in passwords.iter().take(MAX_EXTRA).enumerate() {
        let key = evp_bytes_to_key(pw.as_bytes(), &iv[..8], key_len);
        if let Some(plain) = crypto::cbc_decrypt(cipher, &key, &iv, body)
            && accept(&plain)
        {
            return Some((plain, i));
        }
    }
    None
}

/// OpenSSL's `EVP_BytesToKey` with MD5 and one iteration: D_i = MD5(D_{i-1} || pass || salt).
fn evp_bytes_to_key(password: &[u8], salt: &[u8], len: usize) -> Vec<u8> {
    use md5::{Digest, Md5};
    let mut out: Vec<u8> = Vec::with_capacity(len + 16);
    let mut prev: Vec<u8> = Vec::new();
    while out.len() < len {
        let mut h = Md5::new();
        h.update(&prev);
        h.update(password);
        h.update(salt);
        prev = h.finalize().to_vec();
        out.extend_from_slice(&prev);
    }
    out.truncate(len);
    out
}

// Certificates.

/// Raw subject, raw issuer and SPKI DER of a certificate.
pub(super) type CertNames = (Vec<u8>, Vec<u8>, Vec<u8>);

/// Reads [`CertNames`] from a certificate's DER.
pub(super) fn cert_names(der: &[u8]) -> Option<CertNames> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let tbs = &cert.tbs_certificate;
    Some((
        tbs.subject.as_raw().to_vec(),
        tbs.issuer.as_raw().to_vec(),
        tbs.subject_pki.raw.to_vec(),
    ))
}

/// A key whose private part could not be read: described by its certificate's public key.
pub(super) fn key_from_cert(leaf: Option<&Vec<u8>>, format: &str, encoded: &[u8]) -> ParsedKey {
    let spki = leaf.and_then(|c| cert_names(c)).map(|(_, _, spki)| spki);
    spki.and_then(|spki| keys::key_from_spki(spki, format, true, true).ok())
        .unwrap_or_else(|| keys::opaque_key(encoded, "encrypted", None, format, true, true))
}

/// Fills in the public half of `key` from the leaf certificate when the key did not carry it
/// (EC keys written without their public point, e.g. by Java).
pub(super) fn complete_from_cert(key: ParsedKey, leaf: Option<&Vec<u8>>) -> ParsedKey {
    if key.info.spki_sha256.is_some() {
        return key;
    }
    let Some((_, _, spki)) = leaf.and_then(|c| cert_names(c)) else {
        return key;
    };
    match keys::key_from_spki(spki, key.info.format.as_deref().unwrap_or(""), true, false) {
        Ok(mut k) => {
            k.info.encrypted = key.info.encrypted;
            k.info.encryption = key.info.encryption;
            k
        }
        Err(_) => key,
    }
}

/// `opened_with` is a default password that opened it (never an extra one: those are not
/// to be shown or stored); `locked` says no password did.
pub(super) fn keystore_info(
    format: &str,
    opened_with: Option<&str>,
    locked: bool,
    entries: &[KeystoreEntry],
    encryption: Option<String>,
) -> KeystoreInfo {
    KeystoreInfo {
        format: format.to_string(),
        opened_with: opened_with.map(str::to_string),
        locked,
        entries: entries.len() as u32,
        aliases: entries.iter().map(|e| e.alias.clone()).collect(),
        encryption,
        password_in: None,
    }
}

#[cfg(test)]
mod tests {
    use super::crypto::*;
    use super::*;

    #[test]
    fn pkcs12_kdf_matches_known_vector() {
        // From the PKCS#12 test vectors used by OpenSSL/BouncyCastle: password "smeg",
        // salt 0A58CF64530D823F, ID 1, 1 iteration, 24 bytes.
        let out = pkcs12_kdf(
            Hash::Sha1,
            1,
            &bmp_password("smeg", true),
            &[0x0a, 0x58, 0xcf, 0x64, 0x53, 0x0d, 0x82, 0x3f],
            1,
            24,
        );
        assert_eq!(
            hex::encode(out),
            "8aaae6297b6cb04642ab5b077851284eb7128f1a2a7fbca3"
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_jks(b"").is_err());
        assert!(parse_jks(&[0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(parse_pkcs12(b"\x30\x03\x02\x01\x03").is_err());
        assert!(!looks_like_pkcs12(b"\x30\x03\x02\x01\x03"));
    }
}
