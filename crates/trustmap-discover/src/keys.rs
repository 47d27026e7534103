//! Keys: SubjectPublicKeyInfo facts shared by certificates and keys, and the private and
//! public key formats (PKCS#8 plain and encrypted, PKCS#1, SEC1, legacy DSA, PEM public keys,
//! JWK).
//!
//! The structures are read with the crate's own TLV reader ([`der`]): each format is a handful
//! of fields, rejecting a non-key costs a few byte comparisons, and nothing here needs the typed
//! ASN.1 models of a full framework. Every private key yields the SPKI DER of its public half
//! when it is derivable, so a key, its certificate and its SSH form share one identity.

use crate::{ParseError, ParsedKey, der};
use trustmap_core::{KeyInfo, sha256_hex};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

/// Name of a public key algorithm OID; the dotted OID itself when unknown.
pub fn algorithm_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.1" => "RSA",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        "1.2.840.10045.2.1" => "EC",
        "1.2.840.10040.4.1" => "DSA",
        "1.2.840.10046.2.1" => "DH",
        "1.3.101.110" => "X25519",
        "1.3.101.111" => "X448",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "2.16.840.1.101.3.4.3.17" => "ML-DSA-44",
        "2.16.840.1.101.3.4.3.18" => "ML-DSA-65",
        "2.16.840.1.101.3.4.3.19" => "ML-DSA-87",
        "2.16.840.1.101.3.4.3.20" => "SLH-DSA-SHA2-128s",
        "2.16.840.1.101.3.4.3.21" => "SLH-DSA-SHA2-128f",
        "2.16.840.1.101.3.4.3.22" => "SLH-DSA-SHA2-192s",
        "2.16.840.1.101.3.4.3.23" => "SLH-DSA-SHA2-192f",
        "2.16.840.1.101.3.4.3.24" => "SLH-DSA-SHA2-256s",
        "2.16.840.1.101.3.4.3.25" => "SLH-DSA-SHA2-256f",
        "2.16.840.1.101.3.4.3.26" => "SLH-DSA-SHAKE-128s",
        "2.16.840.1.101.3.4.3.27" => "SLH-DSA-SHAKE-128f",
        "2.16.840.1.101.3.4.3.28" => "SLH-DSA-SHAKE-192s",
        "2.16.840.1.101.3.4.3.29" => "SLH-DSA-SHAKE-192f",
        "2.16.840.1.101.3.4.3.30" => "SLH-DSA-SHAKE-256s",
        "2.16.840.1.101.3.4.3.31" => "SLH-DSA-SHAKE-256f",
        "2.16.840.1.101.3.4.4.1" => "ML-KEM-512",
        "2.16.840.1.101.3.4.4.2" => "ML-KEM-768",
        "2.16.840.1.101.3.4.4.3" => "ML-KEM-1024",
        other => return other.to_string(),
    }
    .to_string()
}

/// Named curve and its field size in bits, from the curve OID.
pub fn curve_name(oid: &str) -> Option<(&'static str, u32)> {
    Some(match oid {
        "1.2.840.10045.3.1.1" => ("P-192", 192),
        "1.3.132.0.33" => ("P-224", 224),
        "1.2.840.10045.3.1.7" => ("P-256", 256),
        "1.3.132.0.34" => ("P-384", 384),
        "1.3.132.0.35" => ("P-521", 521),
        "1.3.132.0.10" => ("secp256k1", 256),
        "1.3.36.3.3.2.8.1.1.7" => ("brainpoolP256r1", 256),
        "1.3.36.3.3.2.8.1.1.11" => ("brainpoolP384r1", 384),
        "1.3.36.3.3.2.8.1.1.13" => ("brainpoolP512r1", 512),
        "1.2.156.10197.1.301" => ("SM2", 256),
        _ => return None,
    })
}

/// Facts about a public key from its SubjectPublicKeyInfo DER: algorithm, size, curve and
/// `spki_sha256`. Unknown algorithms (including post-quantum ones) are named by OID.
pub fn spki_info(spki_der: &[u8]) -> Result<KeyInfo, ParseError> {
    let (_, spki) = SubjectPublicKeyInfo::from_der(spki_der)
        .map_err(|e| ParseError::new(format!("invalid SubjectPublicKeyInfo: {e}")))?;
    Ok(spki_info_parsed(&spki))
}

/// [`spki_info`] for an SPKI already parsed by x509-parser.
pub fn spki_info_parsed(spki: &SubjectPublicKeyInfo<'_>) -> KeyInfo {
    let oid = spki.algorithm.algorithm.to_id_string();
    let mut info = KeyInfo {
        algorithm: algorithm_name(&oid),
        spki_sha256: Some(sha256_hex(spki.raw)),
        ..KeyInfo::default()
    };
    match oid.as_str() {
        "1.3.101.112" | "1.3.101.110" => info.bits = Some(256),
        "1.3.101.113" => info.bits = Some(448),
        "1.3.101.111" => info.bits = Some(448),
        _ => {}
    }
    let params_oid = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string());
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            info.bits = Some(der::integer_bits(rsa.modulus));
            info.rsa_exponent = rsa.try_exponent().ok();
        }
        Ok(PublicKey::EC(point)) => {
            if let Some((name, bits)) = params_oid.as_deref().and_then(curve_name) {
                info.curve = Some(name.to_string());
                info.bits = Some(bits);
            } else {
                info.curve = params_oid.clone();
                info.bits = Some(point.key_size() as u32);
            }
        }
        Ok(PublicKey::DSA(_)) => {
            // Dss-Parms ::= SEQUENCE { p, q, g }: the strength is p's size.
            info.bits = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| der::children(p.data).next())
                .map(|p| der::integer_bits(p.content));
        }
        _ if oid == "1.2.840.113549.1.1.10" => {
            // RSASSA-PSS keys hold a plain RSAPublicKey that x509-parser does not decode.
            if let Some((key, _)) = der::read(&spki.subject_public_key.data) {
                let mut f = der::children(key.content);
                if let (Some(n), Some(e)) = (f.next(), f.next()) {
                    info.bits = Some(der::integer_bits(n.content));
                    let e = &e.content[e.content.iter().position(|&b| b != 0).unwrap_or(0)..];
                    if e.len() <= 8 {
                        info.rsa_exponent =
                            Some(e.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b)));
                    }
                }
            }
        }
        _ => {}
    }
    info
}

/// Builds the DER of a SubjectPublicKeyInfo from an algorithm identifier (its full DER) and
/// the public key bytes.
pub fn build_spki(algorithm_identifier: &[u8], public_key: &[u8]) -> Vec<u8> {
    let mut bitstring = Vec::with_capacity(public_key.len() + 1);
    bitstring.push(0);
    bitstring.extend_from_slice(public_key);
    let mut content = algorithm_identifier.to_vec();
    content.extend(encode_tlv(0x03, &bitstring));
    encode_tlv(0x30, &content)
}

/// DER-encodes one element.
pub fn encode_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(bytes.len() - 1);
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

// ---------------------------------------------------------------------------------------------
// Object identifiers (DER contents) and their names.

pub(crate) const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
pub(crate) const OID_RSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
pub(crate) const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
pub(crate) const OID_DSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01];
pub(crate) const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
pub(crate) const OID_ED448: &[u8] = &[0x2b, 0x65, 0x71];
pub(crate) const OID_X25519: &[u8] = &[0x2b, 0x65, 0x6e];
pub(crate) const OID_X448: &[u8] = &[0x2b, 0x65, 0x6f];
pub(crate) const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
pub(crate) const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
pub(crate) const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
pub(crate) const OID_SECP256K1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x0a];
const OID_PBES2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d];
const OID_PBKDF2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c];
const OID_SCRYPT: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x04, 0x0b];

/// Dotted form of an OBJECT IDENTIFIER's contents ("" when malformed).
pub fn oid_string(content: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    for (i, &b) in content.iter().enumerate() {
        if value > (u64::MAX >> 7) {
            return String::new();
        }
        value = (value << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
        } else if i + 1 == content.len() {
            return String::new();
        }
    }
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// Name of a password-based encryption scheme OID (PKCS#5 PBES1, PKCS#12 PBE).
fn pbe1_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.2.840.113549.1.5.1" => "pbeWithMD2AndDES-CBC",
        "1.2.840.113549.1.5.3" => "pbeWithMD5AndDES-CBC",
        "1.2.840.113549.1.5.4" => "pbeWithMD2AndRC2-CBC",
        "1.2.840.113549.1.5.6" => "pbeWithMD5AndRC2-CBC",
        "1.2.840.113549.1.5.10" => "pbeWithSHA1AndDES-CBC",
        "1.2.840.113549.1.5.11" => "pbeWithSHA1AndRC2-CBC",
        "1.2.840.113549.1.12.1.1" => "pbeWithSHAAnd128BitRC4",
        "1.2.840.113549.1.12.1.2" => "pbeWithSHAAnd40BitRC4",
        "1.2.840.113549.1.12.1.3" => "pbeWithSHAAnd3-KeyTripleDES-CBC",
        "1.2.840.113549.1.12.1.4" => "pbeWithSHAAnd2-KeyTripleDES-CBC",
        "1.2.840.113549.1.12.1.5" => "pbeWithSHAAnd128BitRC2-CBC",
        "1.2.840.113549.1.12.1.6" => "pbeWithSHAAnd40BitRC2-CBC",
        // JCEKS and Sun's PBE
        "1.3.6.1.4.1.42.2.19.1" => "PBEWithMD5AndTripleDES",
        _ => return None,
    })
}

/// Name of an HMAC PRF OID used by PBKDF2.
pub(crate) fn prf_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.2.840.113549.2.7" => "SHA1",
        "1.2.840.113549.2.8" => "SHA224",
        "1.2.840.113549.2.9" => "SHA256",
        "1.2.840.113549.2.10" => "SHA384",
        "1.2.840.113549.2.11" => "SHA512",
        "1.2.840.113549.2.12" => "SHA512-224",
        "1.2.840.113549.2.13" => "SHA512-256",
        _ => return None,
    })
}

/// Name of a content-encryption cipher OID used by PBES2.
fn cipher_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.16.840.1.101.3.4.1.2" => "AES-128-CBC",
        "2.16.840.1.101.3.4.1.22" => "AES-192-CBC",
        "2.16.840.1.101.3.4.1.42" => "AES-256-CBC",
        "2.16.840.1.101.3.4.1.6" => "AES-128-GCM",
        "2.16.840.1.101.3.4.1.26" => "AES-192-GCM",
        "2.16.840.1.101.3.4.1.46" => "AES-256-GCM",
        "1.2.840.113549.3.7" => "DES-EDE3-CBC",
        "1.3.14.3.2.7" => "DES-CBC",
        "1.2.840.113549.3.2" => "RC2-CBC",
        "1.2.410.200004.1.4" => "SEED-CBC",
        "1.2.156.10197.1.104.2" => "SM4-CBC",
        _ => return None,
    })
}

/// True when `alg` (an AlgorithmIdentifier TLV) names a password-based encryption scheme.
pub(crate) fn is_pbe(alg: &der::Tlv<'_>) -> bool {
    let Some(oid) = der::children(alg.content).next().filter(|t| t.tag == 0x06) else {
        return false;
    };
    oid.content == OID_PBES2 || pbe1_name(&oid_string(oid.content)).is_some()
}

/// Describes a password-based encryption AlgorithmIdentifier (its TLV): e.g.
/// "PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC)" or "pbeWithSHAAnd40BitRC2-CBC".
pub fn describe_encryption(alg: &der::Tlv<'_>) -> String {
    let mut fields = der::children(alg.content);
    let Some(oid) = fields.next().filter(|t| t.tag == 0x06) else {
        return "unknown".to_string();
    };
    let oid_s = oid_string(oid.content);
    if oid.content != OID_PBES2 {
        return pbe1_name(&oid_s).map_or(oid_s, str::to_string);
    }
    // PBES2-params ::= SEQUENCE { keyDerivationFunc AlgorithmIdentifier, encryptionScheme AlgorithmIdentifier }
    let params: Vec<_> = fields
        .next()
        .map(|p| der::children(p.content).collect())
        .unwrap_or_default();
    let kdf = params.first().map(|kdf| {
        let mut k = der::children(kdf.content);
        match k.next() {
            Some(o) if o.content == OID_PBKDF2 => {
                // PBKDF2-params ::= SEQUENCE { salt, iterationCount, keyLength OPTIONAL, prf DEFAULT hmacWithSHA1 }
                let prf = k
                    .next()
                    .and_then(|p| der::children(p.content).find(|f| f.tag == 0x30))
                    .and_then(|prf| der::children(prf.content).next())
                    .map(|o| oid_string(o.content));
                let prf = match prf {
                    None => "SHA1".to_string(),
                    Some(o) => prf_name(&o).map_or(o, str::to_string),
                };
                format!("PBKDF2-HMAC-{prf}")
            }
            Some(o) if o.content == OID_SCRYPT => "scrypt".to_string(),
            Some(o) => oid_string(o.content),
            None => "unknown KDF".to_string(),
        }
    });
    let cipher = params
        .get(1)
        .and_then(|c| der::children(c.content).next())
        .map(|o| {
            let s = oid_string(o.content);
            cipher_name(&s).map_or(s, str::to_string)
        });
    format!(
        "PBES2 ({}, {})",
        kdf.as_deref().unwrap_or("unknown KDF"),
        cipher.as_deref().unwrap_or("unknown cipher")
    )
}

// ---------------------------------------------------------------------------------------------
// Building keys.

fn err(msg: &str) -> ParseError {
    ParseError::new(msg)
}

/// DER INTEGER from unsigned big-endian bytes.
pub(crate) fn der_uint(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let s = &bytes[start..];
    let mut content = Vec::with_capacity(s.len() + 1);
    if s.first().is_none_or(|&b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(s);
    encode_tlv(0x02, &content)
}

/// AlgorithmIdentifier for rsaEncryption (with its NULL parameters, as OpenSSL writes it).
pub(crate) fn rsa_algorithm() -> Vec<u8> {
    let mut c = encode_tlv(0x06, OID_RSA);
    c.extend([0x05, 0x00]);
    encode_tlv(0x30, &c)
}

/// AlgorithmIdentifier for an EC key on the named curve `curve_oid` (OID contents).
pub(crate) fn ec_algorithm(curve_oid: &[u8]) -> Vec<u8> {
    let mut c = encode_tlv(0x06, OID_EC);
    c.extend(encode_tlv(0x06, curve_oid));
    encode_tlv(0x30, &c)
}

/// AlgorithmIdentifier with an OID and absent parameters (Ed25519, X25519, ...).
pub(crate) fn bare_algorithm(oid: &[u8]) -> Vec<u8> {
    encode_tlv(0x30, &encode_tlv(0x06, oid))
}

/// SPKI of an RSA public key from the DER INTEGER encodings (whole TLVs) of n and e.
pub(crate) fn rsa_spki(n_tlv: &[u8], e_tlv: &[u8]) -> Vec<u8> {
    let mut c = n_tlv.to_vec();
    c.extend_from_slice(e_tlv);
    build_spki(&rsa_algorithm(), &encode_tlv(0x30, &c))
}

/// SPKI of an Ed25519 key from its 32-byte private seed.
pub(crate) fn ed25519_spki_from_seed(seed: &[u8]) -> Option<Vec<u8>> {
    use ring::signature::KeyPair;
    let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed).ok()?;
    Some(build_spki(
        &bare_algorithm(OID_ED25519),
        pair.public_key().as_ref(),
    ))
}

/// A key whose public half is known: facts from the SPKI, identity = the SPKI.
pub(crate) fn key_from_spki(
    spki: Vec<u8>,
    format: &str,
    private: bool,
    encrypted: bool,
) -> Result<ParsedKey, ParseError> {
    let mut info = spki_info(&spki)?;
    info.format = Some(format.to_string());
    info.encrypted = private.then_some(encrypted);
    Ok(ParsedKey {
        info,
        identity: spki,
        private,
    })
}

/// A key whose public half is not derivable: identity = its encoded bytes.
pub(crate) fn opaque_key(
    encoded: &[u8],
    algorithm: &str,
    bits: Option<u32>,
    format: &str,
    private: bool,
    encrypted: bool,
) -> ParsedKey {
    ParsedKey {
        info: KeyInfo {
            algorithm: algorithm.to_string(),
            bits,
            format: Some(format.to_string()),
            encrypted: private.then_some(encrypted),
            ..KeyInfo::default()
        },
        identity: encoded.to_vec(),
        private,
    }
}

/// Reads `data` as exactly one SEQUENCE (trailing newlines/NULs tolerated) and returns its fields.
fn sequence_fields(data: &[u8]) -> Option<Vec<der::Tlv<'_>>> {
    if !der::is_single_sequence(data) {
        return None;
    }
    let (seq, _) = der::read(data)?;
    // No key structure has more than 10 top-level fields: refuse big SEQUENCEs early.
    let fields: Vec<_> = der::children(seq.content).take(17).collect();
    (fields.len() <= 16).then_some(fields)
}

fn is_int(t: Option<&der::Tlv<'_>>, value: u8) -> bool {
    matches!(t, Some(t) if t.tag == 0x02 && t.content == [value])
}

// ---------------------------------------------------------------------------------------------
// Formats.

/// PKCS#8 PrivateKeyInfo / OneAsymmetricKey (RFC 5208, RFC 5958).
pub fn parse_pkcs8(data: &[u8], format: &str) -> Result<ParsedKey, ParseError> {
    let f = sequence_fields(data).ok_or_else(|| err("PKCS#8: not a DER SEQUENCE"))?;
    if !(is_int(f.first(), 0) || is_int(f.first(), 1)) {
        return Err(err("PKCS#8: bad version"));
    }
    let alg = f
        .get(1)
        .filter(|t| t.tag == 0x30)
        .ok_or_else(|| err("PKCS#8: missing algorithm"))?;
    let key = f
        .get(2)
        .filter(|t| t.tag == 0x04)
        .ok_or_else(|| err("PKCS#8: missing privateKey"))?;
    // [1] IMPLICIT BIT STRING publicKey (v2 only)
    let public = f[3..]
        .iter()
        .find(|t| t.tag == 0x81 || t.tag == 0xa1)
        .and_then(|t| t.content.split_first())
        .map(|(_, bits)| bits);
    let mut alg_fields = der::children(alg.content);
    let oid = alg_fields
        .next()
        .filter(|t| t.tag == 0x06)
        .ok_or_else(|| err("PKCS#8: missing algorithm OID"))?;
    let params = alg_fields.next();
    let spki = match oid.content {
        OID_RSA | OID_RSA_PSS => {
            let rsa =
                sequence_fields(key.content).ok_or_else(|| err("PKCS#8: bad RSAPrivateKey"))?;
            let (n, e) = rsa_private_ne(&rsa).ok_or_else(|| err("PKCS#8: bad RSAPrivateKey"))?;
            let alg_id = if oid.content == OID_RSA {
                rsa_algorithm()
            } else {
                alg.raw.to_vec()
            };
            let mut c = n.raw.to_vec();
            c.extend_from_slice(e.raw);
            Some(build_spki(&alg_id, &encode_tlv(0x30, &c)))
        }
        OID_EC => {
            let curve = params
                .filter(|p| p.tag == 0x06)
                .ok_or_else(|| err("PKCS#8: EC key without a named curve"))?;
            let sec1 =
                sequence_fields(key.content).ok_or_else(|| err("PKCS#8: bad ECPrivateKey"))?;
            sec1_public(&sec1)
                .or(public)
                .map(<[u8]>::to_vec)
                .or_else(|| ec_public_from_scalar(curve.content, sec1_scalar(&sec1)?))
                .map(|point| build_spki(&ec_algorithm(curve.content), &point))
        }
        OID_ED25519 => {
            let seed = der::read(key.content)
                .filter(|(t, _)| t.tag == 0x04 && t.content.len() == 32)
                .ok_or_else(|| err("PKCS#8: bad Ed25519 key"))?
                .0;
            match public {
                Some(p) => Some(build_spki(&bare_algorithm(OID_ED25519), p)),
                None => ed25519_spki_from_seed(seed.content),
            }
        }
        OID_DSA => {
            let x = der::read(key.content)
                .filter(|(t, _)| t.tag == 0x02)
                .ok_or_else(|| err("PKCS#8: bad DSA key"))?
                .0;
            let pqg: Vec<_> = params
                .map(|p| der::children(p.content).collect())
                .unwrap_or_default();
            let y = match (public, pqg.as_slice()) {
                (Some(p), _) => Some(p.to_vec()),
                (None, [p, _q, g]) => dsa_public(p.content, g.content, x.content),
                _ => None,
            };
            y.map(|y| build_spki(alg.raw, &y))
        }
        _ => public.map(|p| build_spki(alg.raw, p)),
    };
    match spki {
        Some(spki) => key_from_spki(spki, format, true, false),
        None => {
            let oid_s = oid_string(oid.content);
            let bits = match oid.content {
                OID_ED25519 | OID_X25519 => Some(256),
                OID_ED448 | OID_X448 => Some(448),
                _ => None,
            };
            let mut k = opaque_key(data, &algorithm_name(&oid_s), bits, format, true, false);
            if oid.content == OID_EC {
                let curve = params.map(|p| oid_string(p.content)).unwrap_or_default();
                if let Some((name, bits)) = curve_name(&curve) {
                    k.info.curve = Some(name.to_string());
                    k.info.bits = Some(bits);
                }
            }
            Ok(k)
        }
    }
}

/// n and e of an RSAPrivateKey's fields (version, n, e, d, p, q, dp, dq, qinv).
fn rsa_private_ne<'a>(f: &[der::Tlv<'a>]) -> Option<(der::Tlv<'a>, der::Tlv<'a>)> {
    if f.len() < 9 || !(is_int(f.first(), 0) || is_int(f.first(), 1)) {
        return None;
    }
    if f[..9].iter().any(|t| t.tag != 0x02) {
        return None;
    }
    Some((f[1], f[2]))
}

/// The uncompressed public point for a private scalar on a named curve (P-256, P-384,
/// P-521, secp256k1); `None` for other curves or an invalid scalar.
fn ec_public_from_scalar(curve_oid: &[u8], scalar: &[u8]) -> Option<Vec<u8>> {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    Some(match curve_oid {
        OID_P256 => p256::SecretKey::from_slice(scalar)
            .ok()?
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec(),
        OID_P384 => p384::SecretKey::from_slice(scalar)
            .ok()?
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec(),
        OID_P521 => p521::SecretKey::from_slice(scalar)
            .ok()?
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec(),
        OID_SECP256K1 => k256::SecretKey::from_slice(scalar)
            .ok()?
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec(),
        _ => return None,
    })
}

/// The private scalar of an ECPrivateKey's fields.
fn sec1_scalar<'a>(f: &[der::Tlv<'a>]) -> Option<&'a [u8]> {
    f.get(1).filter(|t| t.tag == 0x04).map(|t| t.content)
}

/// The public point of an ECPrivateKey's fields, when its optional [1] publicKey is present.
fn sec1_public<'a>(f: &[der::Tlv<'a>]) -> Option<&'a [u8]> {
    let bits = f.iter().find(|t| t.tag == 0xa1)?;
    let (bs, _) = der::read(bits.content).filter(|(t, _)| t.tag == 0x03)?;
    bs.content
        .split_first()
        .map(|(_, p)| p)
        .filter(|p| !p.is_empty())
}

/// y = g^x mod p as a DER INTEGER (bounded sizes: this runs on untrusted input).
fn dsa_public(p: &[u8], g: &[u8], x: &[u8]) -> Option<Vec<u8>> {
    use num_bigint::BigUint;
    if der::integer_bits(p) > 4096 || der::integer_bits(x) > 512 || der::integer_bits(p) < 2 {
        return None;
    }
    let p = BigUint::from_bytes_be(p);
    let y = BigUint::from_bytes_be(g).modpow(&BigUint::from_bytes_be(x), &p);
    Some(der_uint(&y.to_bytes_be()))
}

/// PKCS#8 EncryptedPrivateKeyInfo: the algorithm is unreadable without the password, so it
/// is "unknown" until a public half found elsewhere (a `.pub` beside it, the certificate in
/// the same file or keystore entry) tells it: see the inventory.
pub fn parse_pkcs8_encrypted(data: &[u8]) -> Result<ParsedKey, ParseError> {
    let f = sequence_fields(data).ok_or_else(|| err("encrypted PKCS#8: not a DER SEQUENCE"))?;
    match f.as_slice() {
        [alg, blob] if alg.tag == 0x30 && blob.tag == 0x04 && is_pbe(alg) => {
            let mut k = opaque_key(data, "unknown", None, "pkcs8-encrypted", true, true);
            k.info.encryption = Some(describe_encryption(alg));
            Ok(k)
        }
        _ => Err(err("encrypted PKCS#8: bad EncryptedPrivateKeyInfo")),
    }
}

/// PKCS#1 RSAPrivateKey.
pub fn parse_pkcs1_private(data: &[u8]) -> Result<ParsedKey, ParseError> {
    let f = sequence_fields(data).ok_or_else(|| err("PKCS#1: not a DER SEQUENCE"))?;
    let (n, e) = rsa_private_ne(&f).ok_or_else(|| err("PKCS#1: bad RSAPrivateKey"))?;
    key_from_spki(rsa_spki(n.raw, e.raw), "pkcs1", true, false)
}

/// PKCS#1 RSAPublicKey.
pub fn parse_pkcs1_public(data: &[u8]) -> Result<ParsedKey, ParseError> {
    let f = sequence_fields(data).ok_or_else(|| err("PKCS#1: not a DER SEQUENCE"))?;
    match f.as_slice() {
        [n, e] if n.tag == 0x02 && e.tag == 0x02 => {
            key_from_spki(rsa_spki(n.raw, e.raw), "pkcs1", false, false)
        }
        _ => Err(err("PKCS#1: bad RSAPublicKey")),
    }
}

/// SEC1 ECPrivateKey (RFC 5915), with the curve in its [0] parameters.
pub fn parse_sec1(data: &[u8]) -> Result<ParsedKey, ParseError> {
    let f = sequence_fields(data).ok_or_else(|| err("SEC1: not a DER SEQUENCE"))?;
    if !is_int(f.first(), 1) || f.get(1).is_none_or(|t| t.tag != 0x04) {
        return Err(err("SEC1: bad ECPrivateKey"));
    }
    let curve = f
        .iter()
        .find(|t| t.tag == 0xa0)
        .and_then(|p| der::read(p.content))
        .filter(|(t, _)| t.tag == 0x06)
        .map(|(t, _)| t.content);
    let point = sec1_public(&f)
        .map(<[u8]>::to_vec)
        .or_else(|| ec_public_from_scalar(curve?, sec1_scalar(&f)?));
    match (curve, point) {
        (Some(curve), Some(point)) => key_from_spki(
            build_spki(&ec_algorithm(curve), &point),
            "sec1",
            true,
            false,
        ),
        _ => {
            let mut k = opaque_key(data, "EC", None, "sec1", true, false);
            if let Some((name, bits)) = curve.and_then(|c| curve_name(&oid_string(c))) {
                k.info.curve = Some(name.to_string());
                k.info.bits = Some(bits);
            }
            Ok(k)
        }
    }
}

/// OpenSSL's legacy DSA private key: SEQUENCE { 0, p, q, g, y, x }.
pub fn parse_dsa_private(data: &[u8]) -> Result<ParsedKey, ParseError> {
    let f = sequence_fields(data).ok_or_else(|| err("DSA: not a DER SEQUENCE"))?;
    match f.as_slice() {
        [v, p, q, g, y, x]
            if is_int(Some(v), 0) && [p, q, g, y, x].iter().all(|t| t.tag == 0x02) =>
        {
            let mut params = p.raw.to_vec();
            params.extend_from_slice(q.raw);
            params.extend_from_slice(g.raw);
            let mut alg = encode_tlv(0x06, OID_DSA);
            alg.extend(encode_tlv(0x30, &params));
            key_from_spki(
                build_spki(&encode_tlv(0x30, &alg), y.raw),
                "dsa",
                true,
                false,
            )
        }
        _ => Err(err("DSA: bad DSAPrivateKey")),
    }
}

/// SubjectPublicKeyInfo.
pub fn parse_spki(data: &[u8]) -> Result<ParsedKey, ParseError> {
    let f = sequence_fields(data).ok_or_else(|| err("SPKI: not a DER SEQUENCE"))?;
    match f.as_slice() {
        [alg, bits] if alg.tag == 0x30 && bits.tag == 0x03 => {
            let end = data.len() - der::read(data).map_or(0, |(_, rest)| rest.len());
            key_from_spki(data[..end].to_vec(), "spki", false, false)
        }
        _ => Err(err("SPKI: bad SubjectPublicKeyInfo")),
    }
}

/// A PEM key whose body is encrypted with OpenSSL's legacy Proc-Type/DEK-Info scheme.
fn legacy_encrypted(label: &str, der: &[u8], dek_info: &str) -> ParsedKey {
    let algorithm = label.split(' ').next().unwrap_or("unknown");
    let algorithm = if algorithm == "EC" || algorithm == "DSA" || algorithm == "RSA" {
        algorithm
    } else {
        "unknown"
    };
    let format = match algorithm {
        "RSA" => "pkcs1",
        "EC" => "sec1",
        "DSA" => "dsa",
        _ => "unknown",
    };
    let cipher = dek_info.split(',').next().unwrap_or("").trim();
    let mut k = opaque_key(der, algorithm, None, format, true, true);
    k.info.encryption = Some(format!("{cipher} (OpenSSL legacy)"));
    k
}

/// Parses a PEM-armoured key by label. Returns `None` when the label is not a key label.
pub fn parse_pem_key(
    label: &str,
    der: &[u8],
    headers: &[(String, String)],
) -> Option<Result<ParsedKey, ParseError>> {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let legacy = header("Proc-Type").is_some_and(|v| v.to_ascii_uppercase().contains("ENCRYPTED"));
    Some(match label {
        "PRIVATE KEY" => parse_pkcs8(der, "pkcs8"),
        "ENCRYPTED PRIVATE KEY" => parse_pkcs8_encrypted(der),
        "RSA PRIVATE KEY" | "EC PRIVATE KEY" | "DSA PRIVATE KEY" if legacy => Ok(legacy_encrypted(
            label,
            der,
            header("DEK-Info").unwrap_or("unknown"),
        )),
        "RSA PRIVATE KEY" => parse_pkcs1_private(der),
        "EC PRIVATE KEY" => parse_sec1(der),
        "DSA PRIVATE KEY" => parse_dsa_private(der),
        "PUBLIC KEY" => parse_spki(der),
        "RSA PUBLIC KEY" => parse_pkcs1_public(der),
        "OPENSSH PRIVATE KEY" => crate::ssh::parse_openssh_private(der),
        _ => return None,
    })
}

/// Tries to read `der` as a bare DER key (PKCS#8, PKCS#1, SEC1, SPKI) found by content.
pub fn parse_der_key(der: &[u8]) -> Option<ParsedKey> {
    if der.first() != Some(&0x30) {
        return None;
    }
    let f = sequence_fields(der)?;
    let tags: Vec<u8> = f.iter().take(4).map(|t| t.tag).collect();
    match tags.as_slice() {
        // PKCS#8: version, AlgorithmIdentifier, OCTET STRING
        [0x02, 0x30, 0x04, ..] => parse_pkcs8(der, "pkcs8").ok(),
        // SEC1: 1, OCTET STRING, ...
        [0x02, 0x04, ..] => parse_sec1(der).ok(),
        // EncryptedPrivateKeyInfo or SPKI: exactly two fields
        [0x30, 0x04] => parse_pkcs8_encrypted(der).ok(),
        [0x30, 0x03] => parse_spki(der).ok(),
        [0x02, 0x02, 0x02, ..] => {
            if f.len() == 6 {
                parse_dsa_private(der).ok()
            } else if f.len() >= 9 {
                parse_pkcs1_private(der).ok()
            } else if f.len() == 2
                && der::integer_bits(f[0].content) >= 512
                && f[1].content.len() <= 8
            {
                parse_pkcs1_public(der).ok()
            } else {
                None
            }
        }
        [0x02, 0x02] if der::integer_bits(f[0].content) >= 512 && f[1].content.len() <= 8 => {
            parse_pkcs1_public(der).ok()
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// JWK (RFC 7517, 7518, 8037).

/// Reads a JSON Web Key: kty RSA, EC or OKP; private when it has "d".
pub fn parse_jwk(json: &serde_json::Value) -> Option<ParsedKey> {
    use base64::Engine;
    let obj = json.as_object()?;
    let field = |name: &str| -> Option<Vec<u8>> {
        let s = obj.get(name)?.as_str()?;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s.trim_end_matches('='))
            .ok()
    };
    let private = obj.contains_key("d");
    let spki = match obj.get("kty")?.as_str()? {
        "RSA" => {
            let (n, e) = (field("n")?, field("e")?);
            if n.is_empty() || e.is_empty() {
                return None;
            }
            rsa_spki(&der_uint(&n), &der_uint(&e))
        }
        "EC" => {
            let curve = match obj.get("crv")?.as_str()? {
                "P-256" => OID_P256,
                "P-384" => OID_P384,
                "P-521" => OID_P521,
                "secp256k1" => OID_SECP256K1,
                _ => return None,
            };
            let (x, y) = (field("x")?, field("y")?);
            if x.is_empty() || x.len() != y.len() {
                return None;
            }
            let mut point = vec![0x04];
            point.extend(x);
            point.extend(y);
            build_spki(&ec_algorithm(curve), &point)
        }
        "OKP" => {
            let (oid, len) = match obj.get("crv")?.as_str()? {
                "Ed25519" => (OID_ED25519, 32),
                "X25519" => (OID_X25519, 32),
                "Ed448" => (OID_ED448, 57),
                "X448" => (OID_X448, 56),
                _ => return None,
            };
            let x = field("x")?;
            if x.len() != len {
                return None;
            }
            build_spki(&bare_algorithm(oid), &x)
        }
        _ => return None,
    };
    key_from_spki(spki, "jwk", private, false).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DER of an OID from its dotted form (enough for the test OIDs here).
    fn oid_der(dotted: &str) -> Vec<u8> {
        let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().unwrap()).collect();
        let mut body = vec![(arcs[0] * 40 + arcs[1]) as u8];
        for &arc in &arcs[2..] {
            let mut chunk = vec![(arc & 0x7f) as u8];
            let mut v = arc >> 7;
            while v > 0 {
                chunk.push(0x80 | (v & 0x7f) as u8);
                v >>= 7;
            }
            chunk.reverse();
            body.extend(chunk);
        }
        encode_tlv(0x06, &body)
    }

    #[test]
    fn post_quantum_and_unknown_algorithms_are_named_by_oid() {
        for (oid, name, len) in [
            ("2.16.840.1.101.3.4.3.17", "ML-DSA-44", 1312),
            ("2.16.840.1.101.3.4.3.18", "ML-DSA-65", 1952),
            ("2.16.840.1.101.3.4.3.19", "ML-DSA-87", 2592),
            ("2.16.840.1.101.3.4.3.20", "SLH-DSA-SHA2-128s", 32),
            ("2.16.840.1.101.3.4.3.31", "SLH-DSA-SHAKE-256f", 64),
            ("2.16.840.1.101.3.4.4.2", "ML-KEM-768", 1184),
            ("1.3.6.1.4.1.99999.1", "1.3.6.1.4.1.99999.1", 40),
        ] {
            let alg = encode_tlv(0x30, &oid_der(oid));
            let spki = build_spki(&alg, &vec![0x5a; len]);
            let info = spki_info(&spki).unwrap();
            assert_eq!(info.algorithm, name, "{oid}");
            assert_eq!(
                info.spki_sha256.as_deref(),
                Some(sha256_hex(&spki).as_str())
            );
        }
    }

    #[test]
    fn oid_strings() {
        assert_eq!(oid_string(OID_RSA), "1.2.840.113549.1.1.1");
        assert_eq!(oid_string(OID_P384), "1.3.132.0.34");
        assert_eq!(oid_string(OID_ED25519), "1.3.101.112");
        assert_eq!(oid_string(&[0x2a, 0x86]), "");
    }

    #[test]
    fn der_uint_is_minimal() {
        assert_eq!(der_uint(&[0, 0, 1]), vec![2, 1, 1]);
        assert_eq!(der_uint(&[0x80]), vec![2, 2, 0, 0x80]);
        assert_eq!(der_uint(&[]), vec![2, 1, 0]);
    }

    #[test]
    fn rejects_non_keys_cheaply() {
        assert!(parse_der_key(b"hello").is_none());
        assert!(parse_der_key(&[0x30, 0x03, 0x02, 0x01, 0x00]).is_none());
        assert!(parse_pem_key("CERTIFICATE", b"", &[]).is_none());
        assert!(
            parse_pem_key("PRIVATE KEY", b"\x30\x00", &[])
                .unwrap()
                .is_err()
        );
    }

    #[test]
    fn jwk_okp_public() {
        let jwk = serde_json::json!({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        let k = parse_jwk(&jwk).unwrap();
        assert_eq!(k.info.algorithm, "Ed25519");
        assert_eq!(k.info.format.as_deref(), Some("jwk"));
        assert!(!k.private);
        assert_eq!(k.info.encrypted, None);
        assert!(parse_jwk(&serde_json::json!({"kty":"oct","k":"AAAA"})).is_none());
    }
}
