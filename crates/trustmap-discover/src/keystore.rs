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
/// Nesting and size bounds for untrusted containers.
const MAX_ENTRIES: usize = 100_000;
const MAX_CHAIN: usize = 16;

/// A keystore and its entries.
#[derive(Debug, Clone)]
pub struct ParsedKeystore {
    pub info: KeystoreInfo,
    pub entries: Vec<KeystoreEntry>,
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

// ---------------------------------------------------------------------------------------------
// Crypto helpers.

#[derive(Clone, Copy)]
enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn digest_alg(self) -> &'static digest::Algorithm {
        match self {
            Hash::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha256 => &digest::SHA256,
            Hash::Sha384 => &digest::SHA384,
            Hash::Sha512 => &digest::SHA512,
        }
    }
    fn hmac_alg(self) -> ring::hmac::Algorithm {
        match self {
            Hash::Sha1 => ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha256 => ring::hmac::HMAC_SHA256,
            Hash::Sha384 => ring::hmac::HMAC_SHA384,
            Hash::Sha512 => ring::hmac::HMAC_SHA512,
        }
    }
    fn pbkdf2_alg(self) -> ring::pbkdf2::Algorithm {
        match self {
            Hash::Sha1 => ring::pbkdf2::PBKDF2_HMAC_SHA1,
            Hash::Sha256 => ring::pbkdf2::PBKDF2_HMAC_SHA256,
            Hash::Sha384 => ring::pbkdf2::PBKDF2_HMAC_SHA384,
            Hash::Sha512 => ring::pbkdf2::PBKDF2_HMAC_SHA512,
        }
    }
    /// From a digest OID (for MACs) or an HMAC OID (for PBKDF2's PRF).
    fn from_oid(oid: &str) -> Option<Hash> {
        Some(match oid {
            "1.3.14.3.2.26" | "1.2.840.113549.2.7" => Hash::Sha1,
            "2.16.840.1.101.3.4.2.1" | "1.2.840.113549.2.9" => Hash::Sha256,
            "2.16.840.1.101.3.4.2.2" | "1.2.840.113549.2.10" => Hash::Sha384,
            "2.16.840.1.101.3.4.2.3" | "1.2.840.113549.2.11" => Hash::Sha512,
            _ => return None,
        })
    }
}

fn hash(h: Hash, parts: &[&[u8]]) -> Vec<u8> {
    let mut ctx = digest::Context::new(h.digest_alg());
    for p in parts {
        ctx.update(p);
    }
    ctx.finish().as_ref().to_vec()
}

/// Small unsigned INTEGER contents (iteration counts).
fn small_uint(t: &Tlv<'_>) -> Option<u32> {
    if t.tag != 0x02 || t.content.is_empty() || t.content[0] & 0x80 != 0 {
        return None;
    }
    let s = &t.content[t
        .content
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(t.content.len())..];
    if s.len() > 4 {
        return None;
    }
    Some(s.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)))
}

/// A password as PKCS#12 wants it: BMPString (UTF-16BE) with a two-byte NUL terminator.
fn bmp_password(password: &str, terminated: bool) -> Vec<u8> {
    let mut out: Vec<u8> = password.encode_utf16().flat_map(u16::to_be_bytes).collect();
    if terminated {
        out.extend([0, 0]);
    }
    out
}

/// RFC 7292 appendix B.2 key derivation. `id`: 1 key, 2 IV, 3 MAC key.
fn pkcs12_kdf(
    h: Hash,
    id: u8,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    len: usize,
) -> Vec<u8> {
    let v = h.digest_alg().block_len();
    let u = h.digest_alg().output_len();
    let fill = |s: &[u8]| -> Vec<u8> {
        if s.is_empty() {
            return Vec::new();
        }
        let n = v * s.len().div_ceil(v);
        s.iter().copied().cycle().take(n).collect()
    };
    let mut i_buf = fill(salt);
    i_buf.extend(fill(password));
    let d = vec![id; v];
    let mut out = Vec::with_capacity(len + u);
    while out.len() < len {
        let mut a = hash(h, &[&d, &i_buf]);
        for _ in 1..iterations {
            a = hash(h, &[&a]);
        }
        let b: Vec<u8> = a.iter().copied().cycle().take(v).collect();
        for chunk in i_buf.chunks_mut(v) {
            let mut carry = 1u16;
            for k in (0..chunk.len()).rev() {
                let sum = u16::from(chunk[k]) + u16::from(b[k]) + carry;
                chunk[k] = sum as u8;
                carry = sum >> 8;
            }
        }
        out.extend_from_slice(&a);
    }
    out.truncate(len);
    out
}

#[derive(Clone, Copy)]
enum Cipher {
    Aes128,
    Aes192,
    Aes256,
    TripleDes,
    Des,
    /// RC2 with this many effective key bits.
    Rc2(usize),
}

fn cbc_decrypt(cipher: Cipher, key: &[u8], iv: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    fn run<C: BlockDecryptMut + cbc::cipher::BlockCipher>(
        dec: cbc::Decryptor<C>,
        data: &[u8],
    ) -> Option<Vec<u8>> {
        let mut buf = data.to_vec();
        let n = dec.decrypt_padded_mut::<Pkcs7>(&mut buf).ok()?.len();
        buf.truncate(n);
        Some(buf)
    }
    if data.is_empty() || !data.len().is_multiple_of(8) {
        return None;
    }
    match cipher {
        Cipher::Aes128 => run(
            cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv).ok()?,
            data,
        ),
        Cipher::Aes192 => run(
            cbc::Decryptor::<aes::Aes192>::new_from_slices(key, iv).ok()?,
            data,
        ),
        Cipher::Aes256 => run(
            cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv).ok()?,
            data,
        ),
        Cipher::TripleDes => run(
            cbc::Decryptor::<des::TdesEde3>::new_from_slices(key, iv).ok()?,
            data,
        ),
        Cipher::Des => run(
            cbc::Decryptor::<des::Des>::new_from_slices(key, iv).ok()?,
            data,
        ),
        Cipher::Rc2(bits) => {
            let c = rc2::Rc2::new_with_eff_key_len(key, bits);
            run(cbc::Decryptor::inner_iv_slice_init(c, iv).ok()?, data)
        }
    }
}

/// Sun's PBEWithMD5AndTripleDES key and IV (JCEKS).
fn sun_md5_3des(password: &str, salt: &[u8], iterations: u32) -> Option<(Vec<u8>, Vec<u8>)> {
    use md5::{Digest, Md5};
    if salt.len() != 8 || !password.is_ascii() {
        return None;
    }
    let mut salt = salt.to_vec();
    if salt[..4] == salt[4..] {
        salt[..4].reverse();
    }
    let mut result = Vec::with_capacity(32);
    for half in salt.chunks(4) {
        let mut to_hash = half.to_vec();
        for _ in 0..iterations {
            let mut md = Md5::new();
            md.update(&to_hash);
            md.update(password.as_bytes());
            to_hash = md.finalize().to_vec();
        }
        result.extend(to_hash);
    }
    Some((result[..24].to_vec(), result[24..32].to_vec()))
}

/// Decrypts `data` encrypted under the password-based scheme `alg` (AlgorithmIdentifier TLV).
fn pbe_decrypt(alg: &Tlv<'_>, data: &[u8], password: &str) -> Option<Vec<u8>> {
    let mut f = der::children(alg.content);
    let oid = oid_string(f.next()?.content);
    let params = f.next()?;
    let salt_iter = || -> Option<(&[u8], u32)> {
        let mut p = der::children(params.content);
        let salt = p.next().filter(|t| t.tag == 0x04)?.content;
        let iter = small_uint(&p.next()?)?;
        (1..=MAX_ITERATIONS).contains(&iter).then_some((salt, iter))
    };
    match oid.as_str() {
        "1.2.840.113549.1.5.13" => {
            // PBES2: PBKDF2 + a CBC cipher
            let mut p = der::children(params.content);
            let (kdf, enc) = (p.next()?, p.next()?);
            let mut k = der::children(kdf.content);
            if oid_string(k.next()?.content) != "1.2.840.113549.1.5.12" {
                return None;
            }
            let mut kp = der::children(k.next()?.content);
            let salt = kp.next().filter(|t| t.tag == 0x04)?.content;
            let iter = small_uint(&kp.next()?)?;
            if iter == 0 || iter > MAX_ITERATIONS {
                return None;
            }
            let mut prf = Hash::Sha1;
            for t in kp {
                if t.tag == 0x30 {
                    prf = Hash::from_oid(&oid_string(der::children(t.content).next()?.content))?;
                }
            }
            let mut e = der::children(enc.content);
            let (cipher, key_len) = match oid_string(e.next()?.content).as_str() {
                "2.16.840.1.101.3.4.1.2" => (Cipher::Aes128, 16),
                "2.16.840.1.101.3.4.1.22" => (Cipher::Aes192, 24),
                "2.16.840.1.101.3.4.1.42" => (Cipher::Aes256, 32),
                "1.2.840.113549.3.7" => (Cipher::TripleDes, 24),
                "1.3.14.3.2.7" => (Cipher::Des, 8),
                _ => return None,
            };
            let iv = e.next().filter(|t| t.tag == 0x04)?.content;
            let mut key = vec![0u8; key_len];
            ring::pbkdf2::derive(
                prf.pbkdf2_alg(),
                NonZeroU32::new(iter)?,
                salt,
                password.as_bytes(),
                &mut key,
            );
            cbc_decrypt(cipher, &key, iv, data)
        }
        "1.2.840.113549.1.12.1.3"
        | "1.2.840.113549.1.12.1.4"
        | "1.2.840.113549.1.12.1.5"
        | "1.2.840.113549.1.12.1.6" => {
            let (salt, iter) = salt_iter()?;
            let (cipher, key_len) = match oid.as_str() {
                "1.2.840.113549.1.12.1.3" => (Cipher::TripleDes, 24),
                "1.2.840.113549.1.12.1.4" => (Cipher::TripleDes, 16),
                "1.2.840.113549.1.12.1.5" => (Cipher::Rc2(128), 16),
                _ => (Cipher::Rc2(40), 5),
            };
            // An empty password is encoded empty by some writers, "\0\0" by others.
            let encodings: &[bool] = if password.is_empty() {
                &[true, false]
            } else {
                &[true]
            };
            encodings.iter().find_map(|&term| {
                let pw = bmp_password(password, term);
                let mut key = pkcs12_kdf(Hash::Sha1, 1, &pw, salt, iter, key_len);
                if key_len == 16 && matches!(cipher, Cipher::TripleDes) {
                    let k1 = key[..8].to_vec();
                    key.extend(k1); // two-key 3DES: K1 K2 K1
                }
                let iv = pkcs12_kdf(Hash::Sha1, 2, &pw, salt, iter, 8);
                cbc_decrypt(cipher, &key, &iv, data)
            })
        }
        "1.3.6.1.4.1.42.2.19.1" => {
            let (salt, iter) = salt_iter()?;
            let (key, iv) = sun_md5_3des(password, salt, iter)?;
            cbc_decrypt(Cipher::TripleDes, &key, &iv, data)
        }
        _ => None,
    }
}

/// Decrypts an EncryptedPrivateKeyInfo (DER) with `password`; returns the PrivateKeyInfo DER.
fn decrypt_epki(epki: &[u8], password: &str) -> Option<Vec<u8>> {
    let (seq, _) = der::read(epki).filter(|(t, _)| t.tag == 0x30)?;
    let mut f = der::children(seq.content);
    let alg = f.next().filter(|t| t.tag == 0x30)?;
    let data = f.next().filter(|t| t.tag == 0x04)?;
    let plain = pbe_decrypt(&alg, data.content, password)?;
    // A wrong password that happens to leave valid padding is caught here.
    der::is_single_sequence(&plain).then_some(plain)
}

/// The encryption AlgorithmIdentifier of an EncryptedPrivateKeyInfo, described.
fn epki_encryption(epki: &[u8]) -> Option<String> {
    let (seq, _) = der::read(epki)?;
    der::children(seq.content)
        .next()
        .filter(|t| t.tag == 0x30)
        .map(|alg| describe_encryption(&alg))
}

// ---------------------------------------------------------------------------------------------
// Certificates.

/// Raw subject, raw issuer and SPKI DER of a certificate.
type CertNames = (Vec<u8>, Vec<u8>, Vec<u8>);

/// Reads [`CertNames`] from a certificate's DER.
fn cert_names(der: &[u8]) -> Option<CertNames> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let tbs = &cert.tbs_certificate;
    Some((
        tbs.subject.as_raw().to_vec(),
        tbs.issuer.as_raw().to_vec(),
        tbs.subject_pki.raw.to_vec(),
    ))
}

/// A key whose private part could not be read: described by its certificate's public key.
fn key_from_cert(leaf: Option<&Vec<u8>>, format: &str, encoded: &[u8]) -> ParsedKey {
    let spki = leaf.and_then(|c| cert_names(c)).map(|(_, _, spki)| spki);
    spki.and_then(|spki| keys::key_from_spki(spki, format, true, true).ok())
        .unwrap_or_else(|| keys::opaque_key(encoded, "encrypted", None, format, true, true))
}

/// Fills in the public half of `key` from the leaf certificate when the key did not carry it
/// (EC keys written without their public point, e.g. by Java).
fn complete_from_cert(key: ParsedKey, leaf: Option<&Vec<u8>>) -> ParsedKey {
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

// ---------------------------------------------------------------------------------------------
// PKCS#12.

const OID_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
const OID_ENCRYPTED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x06];

/// Cheap sniff: `SEQUENCE { INTEGER 3, SEQUENCE { OID pkcs7-data, ...`.
pub fn looks_like_pkcs12(data: &[u8]) -> bool {
    let Some((seq, _)) = der::read(data).filter(|(t, _)| t.tag == 0x30) else {
        return false;
    };
    let mut f = der::children(seq.content);
    let version_ok = f.next().is_some_and(|t| t.tag == 0x02 && t.content == [3]);
    version_ok
        && f.next().is_some_and(|ci| {
            ci.tag == 0x30
                && der::children(ci.content)
                    .next()
                    .is_some_and(|o| o.tag == 0x06 && o.content == OID_DATA)
        })
}

/// The contents of a ContentInfo's `[0] EXPLICIT OCTET STRING` (primitive or chunked).
fn explicit_octets(t: &Tlv<'_>) -> Option<Vec<u8>> {
    let (inner, _) = der::read(t.content)?;
    octets(&inner)
}

fn octets(t: &Tlv<'_>) -> Option<Vec<u8>> {
    match t.tag {
        0x04 | 0x80 => Some(t.content.to_vec()),
        0x24 | 0xa0 => {
            let mut out = Vec::new();
            for c in der::children(t.content) {
                out.extend(octets(&c)?);
            }
            Some(out)
        }
        _ => None,
    }
}

struct Bag {
    name: Option<String>,
    local_id: Option<Vec<u8>>,
    kind: BagKind,
}

enum BagKind {
    Key(ParsedKey),
    Cert(Vec<u8>),
    Secret(String),
}

/// friendlyName and localKeyId of a bag's attributes.
fn bag_attributes(attrs: Option<&Tlv<'_>>) -> (Option<String>, Option<Vec<u8>>) {
    let (mut name, mut id) = (None, None);
    for attr in attrs
        .map(|a| der::children(a.content))
        .into_iter()
        .flatten()
    {
        let mut f = der::children(attr.content);
        let (Some(oid), Some(values)) = (f.next(), f.next()) else {
            continue;
        };
        let Some(value) = der::children(values.content).next() else {
            continue;
        };
        match oid_string(oid.content).as_str() {
            "1.2.840.113549.1.9.20" if value.tag == 0x1e => {
                let units: Vec<u16> = value
                    .content
                    .chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect();
                name = Some(String::from_utf16_lossy(&units));
            }
            "1.2.840.113549.1.9.21" if value.tag == 0x04 => id = Some(value.content.to_vec()),
            _ => {}
        }
    }
    (name, id)
}

/// Name of a secret key's algorithm OID (Java stores secret keys as PKCS#8 with these).
fn secret_algorithm(oid: &str) -> String {
    match oid {
        "2.16.840.1.101.3.4.1" => "AES",
        "1.2.840.113549.3.7" => "DESede",
        "1.3.14.3.2.7" => "DES",
        "1.2.840.113549.2.7" => "HmacSHA1",
        "1.2.840.113549.2.9" => "HmacSHA256",
        "1.2.840.113549.2.10" => "HmacSHA384",
        "1.2.840.113549.2.11" => "HmacSHA512",
        "1.2.840.113549.1.5.12" => "PBKDF2",
        other => return other.to_string(),
    }
    .to_string()
}

/// Reads the bags of a SafeContents; `password` opens shrouded bags when known.
fn read_bags(
    data: &[u8],
    password: Option<&str>,
    depth: u8,
    bags: &mut Vec<Bag>,
    schemes: &mut Vec<String>,
) {
    let Some((seq, _)) = der::read(data).filter(|(t, _)| t.tag == 0x30) else {
        return;
    };
    for bag in der::children(seq.content) {
        if bags.len() >= MAX_ENTRIES {
            return;
        }
        let mut f = der::children(bag.content);
        let (Some(id), Some(value)) = (f.next(), f.next()) else {
            continue;
        };
        let Some((value, _)) = der::read(value.content) else {
            continue;
        };
        let (name, local_id) = bag_attributes(f.next().as_ref());
        let kind = match oid_string(id.content).as_str() {
            // keyBag: a plain PKCS#8 key
            "1.2.840.113549.1.12.10.1.1" => keys::parse_pkcs8(value.raw, "pkcs12")
                .ok()
                .map(BagKind::Key),
            // pkcs8ShroudedKeyBag
            "1.2.840.113549.1.12.10.1.2" => {
                let scheme = epki_encryption(value.raw);
                if let Some(s) = &scheme {
                    schemes.push(format!("keys: {s}"));
                }
                let plain = password.and_then(|pw| decrypt_epki(value.raw, pw));
                let mut key = plain
                    .and_then(|p| keys::parse_pkcs8(&p, "pkcs12").ok())
                    .unwrap_or_else(|| {
                        keys::opaque_key(value.raw, "encrypted", None, "pkcs12", true, true)
                    });
                key.info.encrypted = Some(true);
                key.info.encryption = scheme;
                Some(BagKind::Key(key))
            }
            // certBag: x509Certificate [0] EXPLICIT OCTET STRING
            "1.2.840.113549.1.12.10.1.3" => {
                let mut c = der::children(value.content);
                let cert_type = c.next();
                let cert = c.next().and_then(|t| explicit_octets(&t));
                match (cert_type, cert) {
                    (Some(t), Some(cert)) if oid_string(t.content) == "1.2.840.113549.1.9.22.1" => {
                        Some(BagKind::Cert(cert))
                    }
                    _ => None,
                }
            }
            // secretBag: Java wraps the key as an EncryptedPrivateKeyInfo
            "1.2.840.113549.1.12.10.1.5" => {
                let inner = der::children(value.content)
                    .nth(1)
                    .and_then(|t| explicit_octets(&t));
                let alg = inner
                    .as_deref()
                    .zip(password)
                    .and_then(|(epki, pw)| decrypt_epki(epki, pw))
                    .and_then(|p| {
                        let (seq, _) = der::read(&p)?;
                        let alg = der::children(seq.content).nth(1)?;
                        let oid = der::children(alg.content).next()?;
                        Some(secret_algorithm(&oid_string(oid.content)))
                    });
                Some(BagKind::Secret(
                    alg.unwrap_or_else(|| "unknown".to_string()),
                ))
            }
            // safeContentsBag: nested
            "1.2.840.113549.1.12.10.1.6" => {
                if depth < 4 {
                    read_bags(value.raw, password, depth + 1, bags, schemes);
                }
                None
            }
            _ => None,
        };
        if let Some(kind) = kind {
            bags.push(Bag {
                name,
                local_id,
                kind,
            });
        }
    }
}

/// Whether `password` verifies the PFX MAC. `mac` is the MacData TLV, `content` the authSafe octets.
fn verify_mac(mac: &Tlv<'_>, content: &[u8], password: &str) -> bool {
    let mut f = der::children(mac.content);
    let (Some(digest_info), Some(salt)) = (f.next(), f.next()) else {
        return false;
    };
    let iterations = f.next().and_then(|t| small_uint(&t)).unwrap_or(1);
    if iterations == 0 || iterations > MAX_ITERATIONS || salt.tag != 0x04 {
        return false;
    }
    let mut d = der::children(digest_info.content);
    let (Some(alg), Some(expected)) = (d.next(), d.next()) else {
        return false;
    };
    let Some(h) = der::children(alg.content)
        .next()
        .and_then(|o| Hash::from_oid(&oid_string(o.content)))
    else {
        return false;
    };
    let out_len = h.digest_alg().output_len();
    let encodings: &[bool] = if password.is_empty() {
        &[true, false]
    } else {
        &[true]
    };
    encodings.iter().any(|&term| {
        let key = pkcs12_kdf(
            h,
            3,
            &bmp_password(password, term),
            salt.content,
            iterations,
            out_len,
        );
        let key = ring::hmac::Key::new(h.hmac_alg(), &key);
        ring::hmac::verify(&key, content, expected.content).is_ok()
    })
}

/// Parses a PKCS#12 file, opening it with the first of [`DEFAULT_PASSWORDS`] that works.
pub fn parse_pkcs12(data: &[u8]) -> Result<ParsedKeystore, ParseError> {
    let (pfx, _) = der::read(data)
        .filter(|(t, _)| t.tag == 0x30)
        .ok_or_else(|| err("PKCS#12: not a DER SEQUENCE"))?;
    let mut f = der::children(pfx.content);
    if !f.next().is_some_and(|t| t.tag == 0x02 && t.content == [3]) {
        return Err(err("PKCS#12: not version 3"));
    }
    let auth_safe = f
        .next()
        .filter(|t| t.tag == 0x30)
        .ok_or_else(|| err("PKCS#12: missing authSafe"))?;
    let mac = f.next().filter(|t| t.tag == 0x30);
    let mut ci = der::children(auth_safe.content);
    if ci.next().is_none_or(|o| o.content != OID_DATA) {
        return Err(err(
            "PKCS#12: authSafe is not pkcs7-data (public-key integrity is not supported)",
        ));
    }
    let content = ci
        .next()
        .filter(|t| t.tag == 0xa0)
        .and_then(|t| explicit_octets(&t))
        .ok_or_else(|| err("PKCS#12: bad authSafe content"))?;
    let (safes, _) = der::read(&content)
        .filter(|(t, _)| t.tag == 0x30)
        .ok_or_else(|| err("PKCS#12: bad AuthenticatedSafe"))?;
    // Each ContentInfo: (plain SafeContents) or (encryption algorithm, ciphertext).
    let mut parts: Vec<(Option<Tlv<'_>>, Vec<u8>)> = Vec::new();
    for safe in der::children(safes.content) {
        let mut c = der::children(safe.content);
        let (Some(oid), Some(body)) = (c.next(), c.next()) else {
            return Err(err("PKCS#12: bad ContentInfo"));
        };
        if oid.content == OID_DATA {
            parts.push((
                None,
                explicit_octets(&body).ok_or_else(|| err("PKCS#12: bad data"))?,
            ));
        } else if oid.content == OID_ENCRYPTED_DATA {
            // EncryptedData ::= SEQUENCE { version, EncryptedContentInfo { type, alg, [0] IMPLICIT octets } }
            let enc = der::read(body.content)
                .and_then(|(ed, _)| der::children(ed.content).nth(1))
                .ok_or_else(|| err("PKCS#12: bad EncryptedData"))?;
            let mut e = der::children(enc.content);
            let alg = e.nth(1).filter(|t| t.tag == 0x30);
            let octs = e.next().and_then(|t| octets(&t)).unwrap_or_default();
            parts.push((
                Some(alg.ok_or_else(|| err("PKCS#12: bad EncryptedContentInfo"))?),
                octs,
            ));
        }
        // Enveloped data (public-key privacy mode) cannot be opened by password: skipped.
    }

    let opened_with = DEFAULT_PASSWORDS.iter().copied().find(|pw| match &mac {
        Some(mac) => verify_mac(mac, &content, pw),
        None => parts.iter().all(|(alg, octs)| match alg {
            None => true,
            Some(alg) => pbe_decrypt(alg, octs, pw).is_some_and(|p| der::is_single_sequence(&p)),
        }),
    });

    let mut bags = Vec::new();
    let mut schemes = Vec::new();
    for (alg, octs) in &parts {
        match alg {
            None => read_bags(octs, opened_with, 0, &mut bags, &mut schemes),
            Some(alg) => {
                schemes.push(format!("certificates: {}", describe_encryption(alg)));
                if let Some(plain) = opened_with.and_then(|pw| pbe_decrypt(alg, octs, pw)) {
                    read_bags(&plain, opened_with, 0, &mut bags, &mut schemes);
                }
            }
        }
    }
    let entries = pkcs12_entries(bags);
    Ok(ParsedKeystore {
        info: keystore_info("pkcs12", opened_with, &entries, summarize(schemes)),
        entries,
    })
}

/// "PBES2 (...)" when every part uses one scheme, else "certificates: ...; keys: ...".
fn summarize(mut schemes: Vec<String>) -> Option<String> {
    schemes.sort();
    schemes.dedup();
    let bare: Vec<&str> = schemes
        .iter()
        .map(|s| s.split_once(": ").map_or(s.as_str(), |(_, v)| v))
        .collect();
    match bare.first() {
        None => None,
        Some(first) if bare.iter().all(|s| s == first) => Some(first.to_string()),
        _ => Some(schemes.join("; ")),
    }
}

fn keystore_info(
    format: &str,
    opened_with: Option<&str>,
    entries: &[KeystoreEntry],
    encryption: Option<String>,
) -> KeystoreInfo {
    KeystoreInfo {
        format: format.to_string(),
        opened_with: opened_with.map(str::to_string),
        locked: opened_with.is_none(),
        entries: entries.len() as u32,
        aliases: entries.iter().map(|e| e.alias.clone()).collect(),
        encryption,
    }
}

/// Pairs PKCS#12 keys with their certificates (by localKeyId, else by name) and builds chains.
fn pkcs12_entries(bags: Vec<Bag>) -> Vec<KeystoreEntry> {
    let certs: Vec<(&Bag, Option<CertNames>)> = bags
        .iter()
        .filter_map(|b| match &b.kind {
            BagKind::Cert(der) => Some((b, cert_names(der))),
            _ => None,
        })
        .collect();
    let mut used = vec![false; certs.len()];
    let mut entries = Vec::new();
    let alias = |b: &Bag, n: usize| {
        b.name
            .clone()
            .or_else(|| b.local_id.as_ref().map(hex::encode))
            .unwrap_or_else(|| format!("entry-{n}"))
    };
    for (n, bag) in bags.iter().enumerate() {
        match &bag.kind {
            BagKind::Key(key) => {
                let leaf = certs.iter().position(|(c, _)| {
                    (bag.local_id.is_some() && c.local_id == bag.local_id)
                        || (bag.local_id.is_none() && bag.name.is_some() && c.name == bag.name)
                });
                let mut chain = Vec::new();
                if let Some(mut i) = leaf {
                    loop {
                        used[i] = true;
                        let BagKind::Cert(der) = &certs[i].0.kind else {
                            break;
                        };
                        chain.push(der.clone());
                        let Some((subject, issuer, _)) = &certs[i].1 else {
                            break;
                        };
                        if subject == issuer || chain.len() >= MAX_CHAIN {
                            break;
                        }
                        match certs.iter().position(|(_, names)| {
                            names.as_ref().is_some_and(|(s, _, _)| s == issuer)
                        }) {
                            Some(next)
                                if !chain.iter().any(|c| Some(c) == cert_der(certs[next].0)) =>
                            {
                                i = next
                            }
                            _ => break,
                        }
                    }
                }
                let key = complete_from_cert(key.clone(), chain.first());
                entries.push(KeystoreEntry {
                    alias: alias(bag, n),
                    certificates: chain,
                    key: Some(key),
                    secret_key: None,
                });
            }
            BagKind::Secret(alg) => entries.push(KeystoreEntry {
                alias: alias(bag, n),
                certificates: Vec::new(),
                key: None,
                secret_key: Some(alg.clone()),
            }),
            BagKind::Cert(_) => {}
        }
    }
    for (i, (bag, _)) in certs.iter().enumerate() {
        if !used[i] {
            entries.push(KeystoreEntry {
                alias: alias(bag, entries.len()),
                certificates: cert_der(bag).into_iter().cloned().collect(),
                key: None,
                secret_key: None,
            });
        }
    }
    entries
}

fn cert_der(bag: &Bag) -> Option<&Vec<u8>> {
    match &bag.kind {
        BagKind::Cert(der) => Some(der),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// JKS and JCEKS.

const JKS_MAGIC: u32 = 0xFEED_FEED;
const JCEKS_MAGIC: u32 = 0xCECE_CECE;
const JKS_KEY_PROTECTOR: &str = "1.3.6.1.4.1.42.2.17.1.1";

/// A bounds-checked big-endian reader.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], ParseError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        let end = end.ok_or_else(|| err("keystore: truncated"))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, ParseError> {
        Ok(self.bytes(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, ParseError> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, ParseError> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, ParseError> {
        let hi = u64::from(self.u32()?);
        Ok((hi << 32) | u64::from(self.u32()?))
    }
    /// Java's DataOutput.writeUTF: u16 length + modified UTF-8.
    fn utf(&mut self) -> Result<String, ParseError> {
        let n = self.u16()? as usize;
        Ok(String::from_utf8_lossy(self.bytes(n)?).into_owned())
    }
    /// u32 length + bytes.
    fn blob(&mut self) -> Result<&'a [u8], ParseError> {
        let n = self.u32()? as usize;
        self.bytes(n)
    }
}

enum JksEntry<'a> {
    Key {
        protected: &'a [u8],
        chain: Vec<Vec<u8>>,
    },
    Cert(Vec<u8>),
    Secret(Option<JavaObject>),
}

/// Sun's JKS key protection: salt(20) | ciphertext | check(20), keystream SHA-1(pw || prev).
fn jks_unprotect(encrypted: &[u8], password: &str) -> Option<Vec<u8>> {
    if encrypted.len() < 40 {
        return None;
    }
    let pw: Vec<u8> = password.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let (salt, rest) = encrypted.split_at(20);
    let (ct, check) = rest.split_at(rest.len() - 20);
    let mut digest = salt.to_vec();
    let mut plain = Vec::with_capacity(ct.len());
    for chunk in ct.chunks(20) {
        digest = hash(Hash::Sha1, &[&pw, &digest]);
        plain.extend(chunk.iter().zip(&digest).map(|(c, k)| c ^ k));
    }
    (hash(Hash::Sha1, &[&pw, &plain]) == check).then_some(plain)
}

/// Opens a JKS/JCEKS protected key (an EncryptedPrivateKeyInfo) with `password`.
fn java_key_unprotect(protected: &[u8], password: &str) -> Option<Vec<u8>> {
    let (seq, _) = der::read(protected)?;
    let mut f = der::children(seq.content);
    let alg = f.next()?;
    let data = f.next().filter(|t| t.tag == 0x04)?;
    let oid = der::children(alg.content).next()?;
    if oid_string(oid.content) == JKS_KEY_PROTECTOR {
        jks_unprotect(data.content, password)
    } else {
        decrypt_epki(protected, password)
    }
}

/// Parses a JKS (0xFEEDFEED) or JCEKS (0xCECECECE) keystore.
pub fn parse_jks(data: &[u8]) -> Result<ParsedKeystore, ParseError> {
    let mut r = Reader { data, pos: 0 };
    let magic = r.u32()?;
    let format = match magic {
        JKS_MAGIC => "jks",
        JCEKS_MAGIC => "jceks",
        _ => return Err(err("not a JKS/JCEKS keystore")),
    };
    let version = r.u32()?;
    if version != 1 && version != 2 {
        return Err(err(format!("{format}: unsupported version {version}")));
    }
    let count = r.u32()? as usize;
    if count > MAX_ENTRIES {
        return Err(err(format!("{format}: implausible entry count")));
    }
    let read_cert = |r: &mut Reader<'_>| -> Result<Vec<u8>, ParseError> {
        if version == 2 {
            r.utf()?; // certificate type, "X.509"
        }
        Ok(r.blob()?.to_vec())
    };
    let mut raw = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let tag = r.u32()?;
        let alias = r.utf()?;
        r.u64()?; // creation date
        let entry = match tag {
            1 => {
                let protected = r.blob()?;
                let n = r.u32()? as usize;
                if n > 1024 {
                    return Err(err(format!("{format}: implausible chain length")));
                }
                let mut chain = Vec::with_capacity(n);
                for _ in 0..n {
                    chain.push(read_cert(&mut r)?);
                }
                JksEntry::Key { protected, chain }
            }
            2 => JksEntry::Cert(read_cert(&mut r)?),
            3 if format == "jceks" => {
                let mut ser = JavaReader::new(&data[r.pos..]);
                let obj = ser.read_stream()?;
                r.pos += ser.r.pos;
                JksEntry::Secret(Some(obj))
            }
            t => return Err(err(format!("{format}: unknown entry tag {t}"))),
        };
        raw.push((alias, entry));
    }
    let signed = &data[..r.pos];
    let digest = r.bytes(20)?;
    let opened_with = DEFAULT_PASSWORDS.iter().copied().find(|pw| {
        let pw: Vec<u8> = pw.encode_utf16().flat_map(u16::to_be_bytes).collect();
        hash(Hash::Sha1, &[&pw, b"Mighty Aphrodite", signed]) == digest
    });

    let protection = if format == "jks" {
        "JKS KeyProtector (SHA-1 keystream)"
    } else {
        "PBEWithMD5AndTripleDES"
    };
    let entries: Vec<KeystoreEntry> = raw
        .into_iter()
        .map(|(alias, entry)| match entry {
            JksEntry::Cert(cert) => KeystoreEntry {
                alias,
                certificates: vec![cert],
                key: None,
                secret_key: None,
            },
            JksEntry::Key { protected, chain } => {
                let plain = key_passwords(format, opened_with)
                    .find_map(|pw| java_key_unprotect(protected, pw));
                let key = match plain.and_then(|p| keys::parse_pkcs8(&p, format).ok()) {
                    Some(k) => {
                        let mut k = complete_from_cert(k, chain.first());
                        k.info.encrypted = Some(true);
                        k
                    }
                    None => key_from_cert(chain.first(), format, protected),
                };
                let mut key = key;
                key.info.encryption = Some(protection.to_string());
                KeystoreEntry {
                    alias,
                    certificates: chain,
                    key: Some(key),
                    secret_key: None,
                }
            }
            JksEntry::Secret(obj) => {
                let alg = obj.and_then(|o| {
                    key_passwords(format, opened_with)
                        .find_map(|pw| unseal_secret_algorithm(&o, pw))
                });
                KeystoreEntry {
                    alias,
                    certificates: Vec::new(),
                    key: None,
                    secret_key: Some(alg.unwrap_or_else(|| "unknown".to_string())),
                }
            }
        })
        .collect();
    Ok(ParsedKeystore {
        info: keystore_info(format, opened_with, &entries, Some(protection.to_string())),
        entries,
    })
}

/// Passwords to try on a JKS/JCEKS key entry. Key passwords usually equal the store password,
/// so it goes first. JKS's key protection costs one SHA-1 per 20 bytes, so every default is
/// tried too; JCEKS's costs 2 x 200,000 MD5 rounds per password, so only the store password is.
fn key_passwords<'p>(format: &str, store: Option<&'p str>) -> impl Iterator<Item = &'p str> {
    let others: &'p [&'p str] = if format == "jks" {
        DEFAULT_PASSWORDS
    } else {
        &[]
    };
    store
        .into_iter()
        .chain(others.iter().copied().filter(move |p| Some(*p) != store))
}

/// The algorithm of a JCEKS sealed secret key, when `password` opens it.
fn unseal_secret_algorithm(sealed: &JavaObject, password: &str) -> Option<String> {
    let params = sealed.bytes("encodedParams")?;
    let content = sealed.bytes("encryptedContent")?;
    // PBEParameter ::= SEQUENCE { salt OCTET STRING, iterationCount INTEGER }
    let (seq, _) = der::read(params)?;
    let mut f = der::children(seq.content);
    let salt = f.next().filter(|t| t.tag == 0x04)?.content;
    let iter = small_uint(&f.next()?)?;
    if iter == 0 || iter > MAX_ITERATIONS {
        return None;
    }
    let (key, iv) = sun_md5_3des(password, salt, iter)?;
    let plain = cbc_decrypt(Cipher::TripleDes, &key, &iv, content)?;
    let inner = JavaReader::new(&plain).read_stream().ok()?;
    inner.string("algorithm").map(str::to_string)
}

// ---------------------------------------------------------------------------------------------
// Java object serialization: just enough to skip a JCEKS secret-key entry and collect the
// string and byte[] fields of the objects in it.

/// String and `byte[]` field values of a deserialized object graph, by field name.
#[derive(Debug, Default)]
struct JavaObject {
    strings: Vec<(String, String)>,
    bytes: Vec<(String, Vec<u8>)>,
}

impl JavaObject {
    fn string(&self, field: &str) -> Option<&str> {
        self.strings
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, v)| v.as_str())
    }
    fn bytes(&self, field: &str) -> Option<&[u8]> {
        self.bytes
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, v)| v.as_slice())
    }
}

struct ClassDesc {
    name: String,
    flags: u8,
    fields: Vec<(u8, String)>,
    superclass: Option<usize>,
}

enum Handle {
    Class(usize),
    Str,
    Other,
}

enum Value {
    Null,
    Str,
    Class(usize),
    End,
    Other,
}

struct JavaReader<'a> {
    r: Reader<'a>,
    classes: Vec<ClassDesc>,
    handles: Vec<Handle>,
    out: JavaObject,
    steps: usize,
}

impl<'a> JavaReader<'a> {
    fn new(data: &'a [u8]) -> Self {
        JavaReader {
            r: Reader { data, pos: 0 },
            classes: Vec::new(),
            handles: Vec::new(),
            out: JavaObject::default(),
            steps: 0,
        }
    }

    fn read_stream(&mut self) -> Result<JavaObject, ParseError> {
        if self.r.u16()? != 0xACED || self.r.u16()? != 5 {
            return Err(err("jceks: bad Java serialization header"));
        }
        self.content("", 0)?;
        Ok(std::mem::take(&mut self.out))
    }

    fn new_handle(&mut self, h: Handle) -> usize {
        self.handles.push(h);
        self.handles.len() - 1
    }

    fn content(&mut self, field: &str, depth: u8) -> Result<Value, ParseError> {
        self.steps += 1;
        if depth > 32 || self.steps > 100_000 {
            return Err(err("jceks: serialized object too deep"));
        }
        let tc = self.r.u8()?;
        Ok(match tc {
            0x70 => Value::Null,
            0x71 => {
                let h = self.r.u32()?.wrapping_sub(0x7E_0000) as usize;
                match self.handles.get(h) {
                    Some(Handle::Class(c)) => Value::Class(*c),
                    Some(Handle::Str) => Value::Str,
                    Some(Handle::Other) => Value::Other,
                    None => return Err(err("jceks: bad object reference")),
                }
            }
            0x74 | 0x7C => {
                let n = if tc == 0x74 {
                    self.r.u16()? as usize
                } else {
                    usize::try_from(self.r.u64()?).map_err(|_| err("jceks: string too long"))?
                };
                let s = String::from_utf8_lossy(self.r.bytes(n)?).into_owned();
                self.new_handle(Handle::Str);
                if !field.is_empty() {
                    self.out.strings.push((field.to_string(), s));
                }
                Value::Str
            }
            0x72 => Value::Class(self.class_desc(depth)?),
            0x73 => {
                let class = self.class_ref(depth)?;
                self.new_handle(Handle::Other);
                let mut chain = Vec::new();
                let mut c = Some(class);
                while let Some(i) = c {
                    if chain.len() > 64 {
                        return Err(err("jceks: class hierarchy too deep"));
                    }
                    chain.push(i);
                    c = self.classes[i].superclass;
                }
                for &i in chain.iter().rev() {
                    let flags = self.classes[i].flags;
                    if flags & 0x04 != 0 {
                        // Externalizable: block data only
                        if flags & 0x08 == 0 {
                            return Err(err("jceks: unsupported externalizable object"));
                        }
                        self.annotations(depth)?;
                        continue;
                    }
                    let fields = self.classes[i].fields.clone();
                    for (ty, name) in fields {
                        self.field_value(ty, &name, depth)?;
                    }
                    if flags & 0x01 != 0 {
                        self.annotations(depth)?;
                    }
                }
                Value::Other
            }
            0x75 => {
                let class = self.class_ref(depth)?;
                self.new_handle(Handle::Other);
                let n = self.r.u32()? as usize;
                let component = self.classes[class]
                    .name
                    .as_bytes()
                    .get(1)
                    .copied()
                    .unwrap_or(b'L');
                match prim_size(component) {
                    Some(size) => {
                        let data = self.r.bytes(
                            n.checked_mul(size)
                                .ok_or_else(|| err("jceks: array too large"))?,
                        )?;
                        if component == b'B' && !field.is_empty() {
                            self.out.bytes.push((field.to_string(), data.to_vec()));
                        }
                    }
                    None => {
                        for _ in 0..n {
                            self.content("", depth + 1)?;
                        }
                    }
                }
                Value::Other
            }
            0x7E => {
                self.class_ref(depth)?;
                self.new_handle(Handle::Other);
                self.content(field, depth + 1)?;
                Value::Other
            }
            0x76 => {
                self.class_ref(depth)?;
                self.new_handle(Handle::Other);
                Value::Other
            }
            0x77 => {
                let n = self.r.u8()? as usize;
                self.r.bytes(n)?;
                Value::Other
            }
            0x7A => {
                let n = self.r.u32()? as usize;
                self.r.bytes(n)?;
                Value::Other
            }
            0x78 => Value::End,
            t => return Err(err(format!("jceks: unsupported serialization tag {t:#x}"))),
        })
    }

    fn class_ref(&mut self, depth: u8) -> Result<usize, ParseError> {
        match self.content("", depth + 1)? {
            Value::Class(c) => Ok(c),
            _ => Err(err("jceks: expected a class descriptor")),
        }
    }

    fn annotations(&mut self, depth: u8) -> Result<(), ParseError> {
        loop {
            if let Value::End = self.content("", depth + 1)? {
                return Ok(());
            }
        }
    }

    fn class_desc(&mut self, depth: u8) -> Result<usize, ParseError> {
        let name = self.r.utf()?;
        self.r.u64()?; // serialVersionUID
        let idx = self.classes.len();
        self.classes.push(ClassDesc {
            name,
            flags: 0,
            fields: Vec::new(),
            superclass: None,
        });
        self.new_handle(Handle::Class(idx));
        let flags = self.r.u8()?;
        let n = self.r.u16()? as usize;
        let mut fields = Vec::with_capacity(n.min(256));
        for _ in 0..n {
            let ty = self.r.u8()?;
            let name = self.r.utf()?;
            if ty == b'L' || ty == b'[' {
                self.content("", depth + 1)?; // the field's class name
            } else if prim_size(ty).is_none() {
                return Err(err("jceks: bad field type"));
            }
            fields.push((ty, name));
        }
        self.annotations(depth)?;
        let superclass = match self.content("", depth + 1)? {
            Value::Class(c) if c != idx => Some(c),
            Value::Null => None,
            _ => return Err(err("jceks: bad superclass descriptor")),
        };
        let c = &mut self.classes[idx];
        c.flags = flags;
        c.fields = fields;
        c.superclass = superclass;
        Ok(idx)
    }

    fn field_value(&mut self, ty: u8, name: &str, depth: u8) -> Result<(), ParseError> {
        match prim_size(ty) {
            Some(n) => {
                self.r.bytes(n)?;
            }
            None => {
                self.content(name, depth + 1)?;
            }
        }
        Ok(())
    }
}

/// Size of a primitive field type code; None for objects and arrays.
fn prim_size(ty: u8) -> Option<usize> {
    Some(match ty {
        b'B' | b'Z' => 1,
        b'C' | b'S' => 2,
        b'I' | b'F' => 4,
        b'J' | b'D' => 8,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
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
