//! Java KeyStore (JKS, 0xFEEDFEED) and JCEKS (0xCECECECE): a bounds-checked reader of their
//! length-prefixed fields, Sun's key protection, and JCEKS sealed secret keys.

use super::crypto::*;
use super::java::*;
use super::*;

pub(super) const JKS_MAGIC: u32 = 0xFEED_FEED;
pub(super) const JCEKS_MAGIC: u32 = 0xCECE_CECE;
pub(super) const JKS_KEY_PROTECTOR: &str = "1.3.6.1.4.1.42.2.17.1.1";

pub(super) enum JksEntry<'a> {
    Key {
        protected: &'a [u8],
        chain: Vec<Vec<u8>>,
    },
    Cert(Vec<u8>),
    Secret(Option<JavaObject>),
}

/// Sun's JKS key protection: salt(20) | ciphertext | check(20), keystream SHA-1(pw || prev).
pub(super) fn jks_unprotect(encrypted: &[u8], password: &str) -> Option<Vec<u8>> {
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
pub(super) fn java_key_unprotect(
    protected: &[u8],
    password: &str,
    budget: &KdfBudget,
) -> Option<Vec<u8>> {
    let (seq, _) = der::read(protected)?;
    let mut f = der::children(seq.content);
    let alg = f.next()?;
    let data = f.next().filter(|t| t.tag == 0x04)?;
    let oid = der::children(alg.content).next()?;
    if oid_string(oid.content) == JKS_KEY_PROTECTOR {
        jks_unprotect(data.content, password)
    } else {
        decrypt_epki(protected, password, budget)
    }
}

/// Parses a JKS (0xFEEDFEED) or JCEKS (0xCECECECE) keystore.
pub fn parse_jks(data: &[u8]) -> Result<ParsedKeystore, ParseError> {
    parse_jks_with(data, &[])
}

/// [`parse_jks`], trying `extra` passwords after the defaults (at most [`MAX_EXTRA`] of
/// them); [`ParsedKeystore::opened_by`] says which one opened it.
pub fn parse_jks_with(data: &[u8], extra: &[&str]) -> Result<ParsedKeystore, ParseError> {
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
    let budget = KdfBudget::new(MAX_KDF_WORK);
    let signed = &data[..r.pos];
    let digest = r.bytes(20)?;
    let opened = candidates(extra).find(|(_, pw)| {
        let pw: Vec<u8> = pw.encode_utf16().flat_map(u16::to_be_bytes).collect();
        hash(Hash::Sha1, &[&pw, b"Mighty Aphrodite", signed]) == digest
    });
    let opened_with = opened.map(|(_, pw)| pw);
    let opened_by = opened.and_then(|(i, _)| i);

    let protection = if format == "jks" {
        "JKS KeyProtector (SHA-1 keystream)"
    } else {
        "PBEWithMD5AndTripleDES"
    };
    // The password that opened one key entry goes first for the next ones.
    let mut last_key_pw: Option<&str> = None;
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
                let first = last_key_pw;
                let plain = first
                    .into_iter()
                    .chain(key_passwords(format, opened_with).filter(move |p| Some(*p) != first))
                    .find_map(|pw| {
                        java_key_unprotect(protected, pw, &budget).inspect(|_| {
                            last_key_pw = Some(pw);
                        })
                    });
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
                        .find_map(|pw| unseal_secret_algorithm(&o, pw, &budget))
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
        info: keystore_info(
            format,
            opened_with.filter(|_| opened_by.is_none()),
            opened_with.is_none(),
            &entries,
            Some(protection.to_string()),
        ),
        entries,
        opened_by,
        cut_short: budget.cut_short(),
        kdf_work: budget.spent(),
    })
}

/// Passwords to try on a JKS/JCEKS key entry. Key passwords usually equal the store password,
/// so it goes first. JKS's key protection costs one SHA-1 per 20 bytes, so every default is
/// tried too; JCEKS's costs 2 x 200,000 MD5 rounds per password, so only the store password is.
pub(super) fn key_passwords<'p>(
    format: &str,
    store: Option<&'p str>,
) -> impl Iterator<Item = &'p str> {
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
pub(super) fn unseal_secret_algorithm(
    sealed: &JavaObject,
    password: &str,
    budget: &KdfBudget,
) -> Option<String> {
    let params = sealed.bytes("encodedParams")?;
    let content = sealed.bytes("encryptedContent")?;
    // PBEParameter ::= SEQUENCE { salt OCTET STRING, iterationCount INTEGER }
    let (seq, _) = der::read(params)?;
    let mut f = der::children(seq.content);
    let salt = f.next().filter(|t| t.tag == 0x04)?.content;
    let iter = small_uint(&f.next()?)?;
    if iter == 0 || iter > MAX_ITERATIONS || !budget.charge(2 * u64::from(iter)) {
        return None;
    }
    let (key, iv) = sun_md5_3des(password, salt, iter)?;
    let plain = cbc_decrypt(Cipher::TripleDes, &key, &iv, content)?;
    let inner = JavaReader::new(&plain).read_stream().ok()?;
    inner.string("algorithm").map(str::to_string)
}
