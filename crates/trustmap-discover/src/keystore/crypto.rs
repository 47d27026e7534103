//! The keystores' cryptography: digests, the RFC 7292 key derivation, CBC decryption, Sun's
//! PBEWithMD5AndTripleDES, and password-based decryption of encrypted bags and keys.

use super::*;

#[derive(Clone, Copy)]
pub(super) enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    pub(super) fn digest_alg(self) -> &'static digest::Algorithm {
        match self {
            Hash::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha256 => &digest::SHA256,
            Hash::Sha384 => &digest::SHA384,
            Hash::Sha512 => &digest::SHA512,
        }
    }
    pub(super) fn hmac_alg(self) -> ring::hmac::Algorithm {
        match self {
            Hash::Sha1 => ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha256 => ring::hmac::HMAC_SHA256,
            Hash::Sha384 => ring::hmac::HMAC_SHA384,
            Hash::Sha512 => ring::hmac::HMAC_SHA512,
        }
    }
    pub(super) fn pbkdf2_alg(self) -> ring::pbkdf2::Algorithm {
        match self {
            Hash::Sha1 => ring::pbkdf2::PBKDF2_HMAC_SHA1,
            Hash::Sha256 => ring::pbkdf2::PBKDF2_HMAC_SHA256,
            Hash::Sha384 => ring::pbkdf2::PBKDF2_HMAC_SHA384,
            Hash::Sha512 => ring::pbkdf2::PBKDF2_HMAC_SHA512,
        }
    }
    /// From a digest OID (for MACs) or an HMAC OID (for PBKDF2's PRF).
    pub(super) fn from_oid(oid: &str) -> Option<Hash> {
        Some(match oid {
            "1.3.14.3.2.26" | "1.2.840.113549.2.7" => Hash::Sha1,
            "2.16.840.1.101.3.4.2.1" | "1.2.840.113549.2.9" => Hash::Sha256,
            "2.16.840.1.101.3.4.2.2" | "1.2.840.113549.2.10" => Hash::Sha384,
            "2.16.840.1.101.3.4.2.3" | "1.2.840.113549.2.11" => Hash::Sha512,
            _ => return None,
        })
    }
}

pub(super) fn hash(h: Hash, parts: &[&[u8]]) -> Vec<u8> {
    let mut ctx = digest::Context::new(h.digest_alg());
    for p in parts {
        ctx.update(p);
    }
    ctx.finish().as_ref().to_vec()
}

/// Small unsigned INTEGER contents (iteration counts).
pub(super) fn small_uint(t: &Tlv<'_>) -> Option<u32> {
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
pub(super) fn bmp_password(password: &str, terminated: bool) -> Vec<u8> {
    let mut out: Vec<u8> = password.encode_utf16().flat_map(u16::to_be_bytes).collect();
    if terminated {
        out.extend([0, 0]);
    }
    out
}

/// RFC 7292 appendix B.2 key derivation. `id`: 1 key, 2 IV, 3 MAC key.
pub(super) fn pkcs12_kdf(
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
pub(super) enum Cipher {
    Aes128,
    Aes192,
    Aes256,
    TripleDes,
    Des,
    /// RC2 with this many effective key bits.
    Rc2(usize),
}

pub(super) fn cbc_decrypt(cipher: Cipher, key: &[u8], iv: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    pub(super) fn run<C: BlockDecryptMut + cbc::cipher::BlockCipher>(
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
pub(super) fn sun_md5_3des(
    password: &str,
    salt: &[u8],
    iterations: u32,
) -> Option<(Vec<u8>, Vec<u8>)> {
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
pub(super) fn pbe_decrypt(
    alg: &Tlv<'_>,
    data: &[u8],
    password: &str,
    budget: &KdfBudget,
) -> Option<Vec<u8>> {
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
            let blocks = usize::div_ceil(key_len, prf.digest_alg().output_len()) as u64;
            if !budget.charge(u64::from(iter) * blocks) {
                return None;
            }
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
                // Key and IV: two KDF runs of one SHA-1 block each.
                if !budget.charge(2 * u64::from(iter)) {
                    return None;
                }
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
            if !budget.charge(2 * u64::from(iter)) {
                return None;
            }
            let (key, iv) = sun_md5_3des(password, salt, iter)?;
            cbc_decrypt(Cipher::TripleDes, &key, &iv, data)
        }
        _ => None,
    }
}

/// Decrypts an EncryptedPrivateKeyInfo (DER) with `password`; returns the PrivateKeyInfo DER.
pub(super) fn decrypt_epki(epki: &[u8], password: &str, budget: &KdfBudget) -> Option<Vec<u8>> {
    let (seq, _) = der::read(epki).filter(|(t, _)| t.tag == 0x30)?;
    let mut f = der::children(seq.content);
    let alg = f.next().filter(|t| t.tag == 0x30)?;
    let data = f.next().filter(|t| t.tag == 0x04)?;
    let plain = pbe_decrypt(&alg, data.content, password, budget)?;
    // A wrong password that happens to leave valid padding is caught here.
    der::is_single_sequence(&plain).then_some(plain)
}

/// The encryption AlgorithmIdentifier of an EncryptedPrivateKeyInfo, described.
pub(super) fn epki_encryption(epki: &[u8]) -> Option<String> {
    let (seq, _) = der::read(epki)?;
    der::children(seq.content)
        .next()
        .filter(|t| t.tag == 0x30)
        .map(|alg| describe_encryption(&alg))
}
