//! PKCS#12 (PFX): the sniff, the authSafe and its bags, the MAC check, and pairing keys with
//! their certificates into entries.

use super::crypto::*;
use super::*;

pub(super) const OID_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
pub(super) const OID_ENCRYPTED_DATA: &[u8] =
    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x06];

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
pub(super) fn explicit_octets(t: &Tlv<'_>) -> Option<Vec<u8>> {
    let (inner, _) = der::read(t.content)?;
    octets(&inner)
}

pub(super) fn octets(t: &Tlv<'_>) -> Option<Vec<u8>> {
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

pub(super) struct Bag {
    name: Option<String>,
    local_id: Option<Vec<u8>>,
    kind: BagKind,
}

#[allow(clippy::large_enum_variant)] // a few bags per store; boxing buys nothing
pub(super) enum BagKind {
    Key(ParsedKey),
    Cert(Vec<u8>),
    Secret(String),
}

/// friendlyName and localKeyId of a bag's attributes.
pub(super) fn bag_attributes(attrs: Option<&Tlv<'_>>) -> (Option<String>, Option<Vec<u8>>) {
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
pub(super) fn secret_algorithm(oid: &str) -> String {
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
pub(super) fn read_bags(
    data: &[u8],
    password: Option<&str>,
    depth: u8,
    bags: &mut Vec<Bag>,
    schemes: &mut Vec<String>,
    budget: &KdfBudget,
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
                let plain = password.and_then(|pw| decrypt_epki(value.raw, pw, budget));
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
                    .and_then(|(epki, pw)| decrypt_epki(epki, pw, budget))
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
                    read_bags(value.raw, password, depth + 1, bags, schemes, budget);
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
pub(super) fn verify_mac(
    mac: &Tlv<'_>,
    content: &[u8],
    password: &str,
    budget: &KdfBudget,
) -> bool {
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
        let blocks = out_len.div_ceil(h.digest_alg().output_len()) as u64;
        if !budget.charge(u64::from(iterations) * blocks) {
            return false;
        }
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
    parse_pkcs12_with(data, &[])
}

/// [`parse_pkcs12`], trying `extra` passwords after the defaults (at most [`MAX_EXTRA`] of
/// them); [`ParsedKeystore::opened_by`] says which one opened it.
pub fn parse_pkcs12_with(data: &[u8], extra: &[&str]) -> Result<ParsedKeystore, ParseError> {
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

    let budget = KdfBudget::new(MAX_KDF_WORK);
    let opened = candidates(extra).find(|(_, pw)| match &mac {
        Some(mac) => verify_mac(mac, &content, pw, &budget),
        None => parts.iter().all(|(alg, octs)| match alg {
            None => true,
            Some(alg) => {
                pbe_decrypt(alg, octs, pw, &budget).is_some_and(|p| der::is_single_sequence(&p))
            }
        }),
    });
    let opened_with = opened.map(|(_, pw)| pw);

    let mut bags = Vec::new();
    let mut schemes = Vec::new();
    for (alg, octs) in &parts {
        match alg {
            None => read_bags(octs, opened_with, 0, &mut bags, &mut schemes, &budget),
            Some(alg) => {
                schemes.push(format!("certificates: {}", describe_encryption(alg)));
                if let Some(plain) = opened_with.and_then(|pw| pbe_decrypt(alg, octs, pw, &budget))
                {
                    read_bags(&plain, opened_with, 0, &mut bags, &mut schemes, &budget);
                }
            }
        }
    }
    let entries = pkcs12_entries(bags);
    let opened_by = opened.and_then(|(i, _)| i);
    Ok(ParsedKeystore {
        info: keystore_info(
            "pkcs12",
            opened_with.filter(|_| opened_by.is_none()),
            opened_with.is_none(),
            &entries,
            summarize(schemes),
        ),
        entries,
        opened_by,
        cut_short: budget.cut_short(),
        kdf_work: budget.spent(),
    })
}

/// "PBES2 (...)" when every part uses one scheme, else "certificates: ...; keys: ...".
pub(super) fn summarize(mut schemes: Vec<String>) -> Option<String> {
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

/// Pairs PKCS#12 keys with their certificates (by localKeyId, else by name) and builds chains.
pub(super) fn pkcs12_entries(bags: Vec<Bag>) -> Vec<KeystoreEntry> {
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

pub(super) fn cert_der(bag: &Bag) -> Option<&Vec<u8>> {
    match &bag.kind {
        BagKind::Cert(der) => Some(der),
        _ => None,
    }
}
