//! X.509 certificates (DER, from PEM or found by content) and PKCS#7 certificate bundles.

use crate::{Detail, Found, ParseError, der, keys};
use trustmap_core::{AssetKind, CertificateInfo, Occurrence, fingerprint};
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

/// Signature algorithm OID -> (name, hash).
pub fn signature_algorithm(oid: &str) -> (String, Option<&'static str>) {
    let (name, hash) = match oid {
        "1.2.840.113549.1.1.2" => ("md2WithRSAEncryption", Some("MD2")),
        "1.2.840.113549.1.1.4" => ("md5WithRSAEncryption", Some("MD5")),
        "1.2.840.113549.1.1.5" => ("sha1WithRSAEncryption", Some("SHA-1")),
        "1.2.840.113549.1.1.14" => ("sha224WithRSAEncryption", Some("SHA-224")),
        "1.2.840.113549.1.1.11" => ("sha256WithRSAEncryption", Some("SHA-256")),
        "1.2.840.113549.1.1.12" => ("sha384WithRSAEncryption", Some("SHA-384")),
        "1.2.840.113549.1.1.13" => ("sha512WithRSAEncryption", Some("SHA-512")),
        "1.2.840.113549.1.1.10" => ("rsassa-pss", None),
        "1.2.840.10045.4.1" => ("ecdsa-with-SHA1", Some("SHA-1")),
        "1.2.840.10045.4.3.1" => ("ecdsa-with-SHA224", Some("SHA-224")),
        "1.2.840.10045.4.3.2" => ("ecdsa-with-SHA256", Some("SHA-256")),
        "1.2.840.10045.4.3.3" => ("ecdsa-with-SHA384", Some("SHA-384")),
        "1.2.840.10045.4.3.4" => ("ecdsa-with-SHA512", Some("SHA-512")),
        "1.2.840.10040.4.3" => ("dsa-with-sha1", Some("SHA-1")),
        "2.16.840.1.101.3.4.3.1" => ("dsa-with-sha224", Some("SHA-224")),
        "2.16.840.1.101.3.4.3.2" => ("dsa-with-sha256", Some("SHA-256")),
        "1.3.101.112" => ("ed25519", None),
        "1.3.101.113" => ("ed448", None),
        "1.2.156.10197.1.501" => ("sm2sign-with-sm3", Some("SM3")),
        other => {
            let name = keys::algorithm_name(other);
            let name = if name == other {
                other.to_string()
            } else {
                name.to_ascii_lowercase()
            };
            return (name, None);
        }
    };
    (name.to_string(), hash)
}

/// Hash of an RSASSA-PSS signature from its parameters (default SHA-1 per RFC 4055).
fn pss_hash(params: Option<&[u8]>) -> &'static str {
    let Some(p) = params else { return "SHA-1" };
    // RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] AlgorithmIdentifier, ... }
    for field in der::children(p) {
        if field.tag != 0xa0 {
            continue;
        }
        let oid = der::read(field.content).and_then(|(alg, _)| der::children(alg.content).next());
        if let Some(oid) = oid {
            return match oid.content {
                [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01] => "SHA-256",
                [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02] => "SHA-384",
                [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03] => "SHA-512",
                [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04] => "SHA-224",
                _ => "SHA-1",
            };
        }
    }
    "SHA-1"
}

/// Parses one DER certificate into the contract's fields.
pub fn parse_certificate(der_bytes: &[u8]) -> Result<CertificateInfo, ParseError> {
    let (_, cert) = X509Certificate::from_der(der_bytes)
        .map_err(|e| ParseError::new(format!("invalid X.509 certificate: {e}")))?;
    Ok(info(&cert))
}

fn hex_colonless(b: &[u8]) -> String {
    hex::encode(b)
}

fn info(cert: &X509Certificate<'_>) -> CertificateInfo {
    let tbs = &cert.tbs_certificate;
    let sig_oid = cert.signature_algorithm.algorithm.to_id_string();
    let (mut signature_algorithm, hash) = signature_algorithm(&sig_oid);
    let mut signature_hash = hash.map(str::to_string);
    if sig_oid == "1.2.840.113549.1.1.10" {
        let h = pss_hash(cert.signature_algorithm.parameters.as_ref().map(|p| p.data));
        signature_hash = Some(h.to_string());
        signature_algorithm = format!("rsassa-pss-{}", h.to_ascii_lowercase().replace('-', ""));
    }
    let mut out = CertificateInfo {
        subject: tbs.subject.to_string(),
        issuer: tbs.issuer.to_string(),
        serial: hex_colonless(tbs.raw_serial()),
        not_before: tbs.validity.not_before.to_datetime().into(),
        not_after: tbs.validity.not_after.to_datetime().into(),
        signature_algorithm,
        signature_algorithm_oid: sig_oid,
        signature_hash,
        public_key: keys::spki_info_parsed(&tbs.subject_pki),
        version: tbs.version.0 + 1,
        subject_cn: tbs
            .subject
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_string),
        ..CertificateInfo::default()
    };
    out.public_key.format = Some("x509".into());
    for ext in tbs.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => {
                for name in &san.general_names {
                    out.sans.push(general_name(name));
                }
            }
            ParsedExtension::BasicConstraints(bc) => {
                out.is_ca = bc.ca;
                out.path_len = bc.path_len_constraint;
            }
            ParsedExtension::KeyUsage(ku) => {
                out.key_usage = ku
                    .to_string()
                    .split(", ")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
            }
            ParsedExtension::ExtendedKeyUsage(eku) => {
                let mut v = Vec::new();
                if eku.any {
                    v.push("any".to_string())
                }
                if eku.server_auth {
                    v.push("serverAuth".to_string())
                }
                if eku.client_auth {
                    v.push("clientAuth".to_string())
                }
                if eku.code_signing {
                    v.push("codeSigning".to_string())
                }
                if eku.email_protection {
                    v.push("emailProtection".to_string())
                }
                if eku.time_stamping {
                    v.push("timeStamping".to_string())
                }
                if eku.ocsp_signing {
                    v.push("OCSPSigning".to_string())
                }
                v.extend(eku.other.iter().map(|o| o.to_id_string()));
                out.extended_key_usage = v;
            }
            ParsedExtension::SubjectKeyIdentifier(ski) => out.ski = Some(hex::encode(ski.0)),
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                out.aki = aki.key_identifier.as_ref().map(|k| hex::encode(k.0));
            }
            ParsedExtension::AuthorityInfoAccess(aia) => {
                for ad in &aia.accessdescs {
                    if let GeneralName::URI(u) = &ad.access_location {
                        match ad.access_method.to_id_string().as_str() {
                            "1.3.6.1.5.5.7.48.1" => out.ocsp_urls.push(u.to_string()),
                            "1.3.6.1.5.5.7.48.2" => out.ca_issuer_urls.push(u.to_string()),
                            _ => {}
                        }
                    }
                }
            }
            ParsedExtension::CRLDistributionPoints(cdp) => {
                for p in cdp.iter() {
                    if let Some(x509_parser::extensions::DistributionPointName::FullName(names)) =
                        &p.distribution_point
                    {
                        for n in names {
                            if let GeneralName::URI(u) = n {
                                out.crl_urls.push(u.to_string());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out.self_signed =
        tbs.subject.as_raw() == tbs.issuer.as_raw() && cert.verify_signature(None).is_ok();
    let lints = crate::lint::lint_parsed(cert);
    out.lints = lints.into_iter().map(str::to_string).collect();
    out
}

fn general_name(n: &GeneralName<'_>) -> String {
    match n {
        GeneralName::DNSName(d) => format!("DNS:{d}"),
        GeneralName::RFC822Name(e) => format!("email:{e}"),
        GeneralName::URI(u) => format!("URI:{u}"),
        GeneralName::IPAddress(ip) => match ip.len() {
            4 => format!("IP:{}", std::net::Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3])),
            16 => {
                let mut a = [0u8; 16];
                a.copy_from_slice(ip);
                format!("IP:{}", std::net::Ipv6Addr::from(a))
            }
            _ => format!("IP:{}", hex::encode(ip)),
        },
        GeneralName::DirectoryName(d) => format!("DirName:{d}"),
        other => format!("{other}"),
    }
}

/// True when `issuer_der`'s key verifies `child_der`'s signature (and the names chain).
pub fn verify_issued_by(child_der: &[u8], issuer_der: &[u8]) -> bool {
    let (Ok((_, child)), Ok((_, issuer))) = (
        X509Certificate::from_der(child_der),
        X509Certificate::from_der(issuer_der),
    ) else {
        return false;
    };
    child.issuer().as_raw() == issuer.subject().as_raw()
        && child.verify_signature(Some(issuer.public_key())).is_ok()
}

/// Raw subject and issuer name DER of a certificate, for chain building.
pub fn names(der_bytes: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (_, c) = X509Certificate::from_der(der_bytes).ok()?;
    Some((c.subject().as_raw().to_vec(), c.issuer().as_raw().to_vec()))
}

/// A certificate [`Found`] from DER.
pub fn found(der_bytes: &[u8], occurrence: Occurrence) -> Result<Found, ParseError> {
    let info = parse_certificate(der_bytes)?;
    Ok(Found::new(
        AssetKind::Certificate,
        fingerprint(der_bytes),
        Detail::Certificate(Box::new(info), der_bytes.to_vec()),
        occurrence,
    ))
}

/// The certificates of a PKCS#7 SignedData (`.p7b`, `.p7c`), DER. `None` if it is not one.
pub fn pkcs7_certificates(data: &[u8]) -> Option<Vec<&[u8]>> {
    const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
    let (ci, _) = der::read(data)?;
    if ci.tag != 0x30 {
        return None;
    }
    let mut it = der::children(ci.content);
    let oid = it.next()?;
    if oid.tag != 0x06 || oid.content != SIGNED_DATA {
        return None;
    }
    let explicit = it.next()?;
    let (sd, _) = der::read(explicit.content)?;
    let certs = der::children(sd.content).find(|t| t.tag == 0xa0)?;
    Some(
        der::children(certs.content)
            .filter(|t| t.tag == 0x30)
            .map(|t| t.raw)
            .collect(),
    )
}
