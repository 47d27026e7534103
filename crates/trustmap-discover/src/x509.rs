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
///
/// Validity times that real software reads but RFC 5280 forbids (no seconds, fractional
/// seconds, a `+hhmm` offset, no `Z`: see [`lenient_time`]) do not lose the certificate: it
/// is read with the times normalised, its signature checked over the bytes as found, and the
/// lint `x509-time-format-invalid` says the encoding is not conformant.
pub fn parse_certificate(der_bytes: &[u8]) -> Result<CertificateInfo, ParseError> {
    match X509Certificate::from_der(der_bytes) {
        Ok((_, cert)) => Ok(info(&cert, der_bytes)),
        Err(e) => {
            let invalid = || ParseError::new(format!("invalid X.509 certificate: {e}"));
            let patched = normalise_validity(der_bytes).ok_or_else(invalid)?;
            let (_, cert) = X509Certificate::from_der(&patched).map_err(|_| invalid())?;
            Ok(info(&cert, der_bytes))
        }
    }
}

/// A validity time read the way OpenSSL reads it: UTCTime `YYMMDDHHMM[SS]` or
/// GeneralizedTime `YYYYMMDDHHMM[SS[.fff]]`, then `Z`, a `+hhmm`/`-hhmm` offset, or nothing
/// (read as UTC; OpenSSL reads such a certificate but prints "Bad time value"). Returns the
/// instant in UTC (fractions of a second dropped) and whether the encoding is the one RFC
/// 5280 allows (`YYMMDDHHMMSSZ`, `YYYYMMDDHHMMSSZ`).
pub fn lenient_time(tag: u8, content: &[u8]) -> Option<(time::OffsetDateTime, bool)> {
    let s = std::str::from_utf8(content).ok()?;
    if !s.is_ascii() {
        return None;
    }
    let (year, rest) = match tag {
        0x17 => {
            let yy: i32 = digits(s.get(..2)?)?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &s[2..])
        }
        0x18 => (digits(s.get(..4)?)?, &s[4..]),
        _ => return None,
    };
    let two = |i: usize| rest.get(i..i + 2).and_then(digits::<u8>);
    let (month, day, hour, minute) = (two(0)?, two(2)?, two(4)?, two(6)?);
    let mut rest = &rest[8..];
    let mut second = 0u8;
    if rest.len() >= 2 && rest.as_bytes()[..2].iter().all(u8::is_ascii_digit) {
        second = digits(&rest[..2])?;
        rest = &rest[2..];
    }
    let mut conformant_digits = s.len() - rest.len() == if tag == 0x17 { 12 } else { 14 };
    if tag == 0x18
        && let Some(frac) = rest.strip_prefix('.')
    {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
        // RFC 5280 4.1.2.5.2: GeneralizedTime MUST NOT include fractional seconds.
        conformant_digits = false;
    }
    let zone = rest.len() - rest.trim_start_matches(['Z', '+', '-']).len();
    let offset_secs: i32 = match rest {
        "Z" | "" => 0,
        _ if zone == 1 && rest.len() == 5 => {
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            let hh: i32 = digits(&rest[1..3])?;
            let mm: i32 = digits(&rest[3..5])?;
            if hh > 23 || mm > 59 {
                return None;
            }
            sign * (hh * 3600 + mm * 60)
        }
        _ => return None,
    };
    let date =
        time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    let t = time::Time::from_hms(hour, minute, second.min(59)).ok()?;
    let local = time::PrimitiveDateTime::new(date, t);
    let offset = time::UtcOffset::from_whole_seconds(offset_secs).ok()?;
    let utc = trustmap_core::timestamp::utc(local.assume_offset(offset));
    Some((utc, conformant_digits && rest == "Z"))
}

fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The certificate re-encoded with its non-conformant validity times in the RFC 5280 form
/// (UTCTime for 1950-2049, GeneralizedTime otherwise), for a parser that reads only that
/// form. `None` when nothing needed rewriting or a time is unreadable even leniently.
fn normalise_validity(der_bytes: &[u8]) -> Option<Vec<u8>> {
    use keys::encode_tlv;
    let (cert, _) = der::read(der_bytes)?;
    let mut top = der::children(cert.content);
    let tbs = top.next()?;
    let rest_of_cert = &cert.content[tbs.raw.len()..];
    let fields: Vec<der::Tlv<'_>> = der::children(tbs.content).take(16).collect();
    // version [0] is optional: validity is the 4th field after it (serial, sig, issuer).
    let vi = if fields.first()?.tag == 0xa0 { 4 } else { 3 };
    let validity = fields.get(vi).filter(|t| t.tag == 0x30)?;
    let mut times = Vec::new();
    let mut changed = false;
    for t in der::children(validity.content).take(3) {
        let (dt, conformant) = lenient_time(t.tag, t.content)?;
        if conformant {
            times.extend_from_slice(t.raw);
            continue;
        }
        changed = true;
        let utc = (1950..2050).contains(&dt.year());
        let text = if utc {
            format!("{:02}", dt.year() % 100)
        } else {
            format!("{:04}", dt.year())
        } + &format!(
            "{:02}{:02}{:02}{:02}{:02}Z",
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        );
        times.extend(encode_tlv(if utc { 0x17 } else { 0x18 }, text.as_bytes()));
    }
    if !changed {
        return None;
    }
    let mut tbs_content = Vec::with_capacity(tbs.content.len() + 4);
    for (i, f) in fields.iter().enumerate() {
        if i == vi {
            tbs_content.extend(encode_tlv(0x30, &times));
        } else {
            tbs_content.extend_from_slice(f.raw);
        }
    }
    let mut cert_content = encode_tlv(0x30, &tbs_content);
    cert_content.extend_from_slice(rest_of_cert);
    Some(encode_tlv(0x30, &cert_content))
}

fn hex_colonless(b: &[u8]) -> String {
    hex::encode(b)
}

/// Facts of `cert`, parsed from `original` (the bytes as found: `cert` may have been read
/// from a normalised copy, so lints and the signature look at `original`).
fn info(cert: &X509Certificate<'_>, original: &[u8]) -> CertificateInfo {
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
        subject: dn_string(&tbs.subject),
        issuer: dn_string(&tbs.issuer),
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
    // Self-signed is decided as OpenSSL decides it (names, then key identifiers); the
    // signature is checked when it can be, and reported on its own.
    let self_issued = tbs.subject.as_raw() == tbs.issuer.as_raw();
    if self_issued {
        let ids_match = match (&out.aki, &out.ski) {
            (Some(a), Some(s)) => a == s,
            _ => true,
        };
        let tbs_raw = der::read(original)
            .and_then(|(c, _)| der::children(c.content).next())
            .map_or(&[][..], |t| t.raw);
        out.signature_verified = match x509_parser::verify::verify_signature(
            &tbs.subject_pki,
            &cert.signature_algorithm,
            &cert.signature_value,
            tbs_raw,
        ) {
            Ok(()) => Some(true),
            Err(x509_parser::error::X509Error::SignatureVerificationError) => Some(false),
            Err(_) => None,
        };
        // Another key with the same name (the key identifiers differ, or the signature fails
        // with the certificate's own key): self-issued, not self-signed.
        out.self_signed = ids_match && out.signature_verified != Some(false);
    }
    let lints = crate::lint::lint_raw(original, cert);
    out.lints = lints.into_iter().map(str::to_string).collect();
    out
}

/// A distinguished name as `C=TW, O=Chunghwa Telecom Co.\, Ltd., CN=...`: the RDNs in
/// encoded order, `, ` between them and ` + ` inside a multi-valued one, each value escaped as
/// RFC 4514 section 2.4 says (`,` `+` `"` `\` `<` `>` `;`, a leading `#` or space, a trailing
/// space, NUL), so a comma inside a value cannot be read as a separator. Values that are not
/// strings are `#` and the hex of their encoding.
pub fn dn_string(name: &x509_parser::x509::X509Name<'_>) -> String {
    use x509_parser::der_parser::asn1_rs::ToDer;
    let registry = x509_parser::objects::oid_registry();
    let mut out = String::new();
    for (i, rdn) in name.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        for (j, attr) in rdn.iter().enumerate() {
            if j > 0 {
                out.push_str(" + ");
            }
            let oid = attr.attr_type();
            match x509_parser::objects::oid2abbrev(oid, registry) {
                Ok(a) => out.push_str(a),
                Err(_) => out.push_str(&oid.to_id_string()),
            }
            out.push('=');
            match attr.as_str() {
                Ok(v) => out.push_str(&escape_dn_value(v)),
                Err(_) => {
                    let raw = attr.attr_value().to_der_vec().unwrap_or_default();
                    out.push('#');
                    out.push_str(&hex::encode(raw));
                }
            }
        }
    }
    out
}

/// RFC 4514 section 2.4 escaping of one attribute value.
pub fn escape_dn_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let last = v.chars().count().saturating_sub(1);
    for (i, c) in v.chars().enumerate() {
        match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => {
                out.push('\\');
                out.push(c);
            }
            '#' | ' ' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            ' ' if i == last => out.push_str("\\ "),
            '\0' => out.push_str("\\00"),
            _ => out.push(c),
        }
    }
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
        GeneralName::DirectoryName(d) => format!("DirName:{}", dn_string(d)),
        other => format!("{other}"),
    }
}

/// A certificate parsed once for chain building: its names, and what a signature check
/// needs. Issuer linking checks thousands of (certificate, candidate) pairs; parsing both
/// certificates for each check (and once more each to see whether they needed normalising)
/// cost 10-20% of linking on the real-repository tree (BENCHMARKS.md).
pub struct ChainCert<'a> {
    cert: X509Certificate<'a>,
    /// The tbsCertificate as found: the signature covers these bytes, not a normalised copy.
    tbs_raw: &'a [u8],
}

impl<'a> ChainCert<'a> {
    /// Parses `der` (the bytes as found). A certificate whose validity times need
    /// normalising (see [`parse_certificate`]) is read from a normalised copy kept in `slot`.
    pub fn parse(der: &'a [u8], slot: &'a mut Option<Vec<u8>>) -> Option<ChainCert<'a>> {
        let tbs_raw = der::read(der).and_then(|(c, _)| der::children(c.content).next())?;
        let cert = match X509Certificate::from_der(der) {
            Ok((_, c)) => c,
            Err(_) => {
                let fixed: &'a [u8] = slot.insert(normalise_validity(der)?);
                X509Certificate::from_der(fixed).ok()?.1
            }
        };
        Some(ChainCert {
            cert,
            tbs_raw: tbs_raw.raw,
        })
    }

    /// The subject name's DER.
    pub fn subject_raw(&self) -> &[u8] {
        self.cert.subject().as_raw()
    }

    /// The issuer name's DER.
    pub fn issuer_raw(&self) -> &[u8] {
        self.cert.issuer().as_raw()
    }

    /// True when `issuer`'s key verifies this certificate's signature (and the names chain).
    pub fn issued_by(&self, issuer: &ChainCert<'_>) -> bool {
        self.issuer_raw() == issuer.subject_raw()
            && x509_parser::verify::verify_signature(
                issuer.cert.public_key(),
                &self.cert.signature_algorithm,
                &self.cert.signature_value,
                self.tbs_raw,
            )
            .is_ok()
    }
}

/// True when `issuer_der`'s key verifies `child_der`'s signature (and the names chain).
pub fn verify_issued_by(child_der: &[u8], issuer_der: &[u8]) -> bool {
    let (mut a, mut b) = (None, None);
    match (
        ChainCert::parse(child_der, &mut a),
        ChainCert::parse(issuer_der, &mut b),
    ) {
        (Some(child), Some(issuer)) => child.issued_by(&issuer),
        _ => false,
    }
}

/// The SubjectPublicKeyInfo DER of a certificate.
pub fn spki_der(der_bytes: &[u8]) -> Option<Vec<u8>> {
    let mut slot = None;
    let c = ChainCert::parse(der_bytes, &mut slot)?;
    Some(c.cert.public_key().raw.to_vec())
}

/// Raw subject and issuer name DER of a certificate, for chain building.
pub fn names(der_bytes: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut slot = None;
    let c = ChainCert::parse(der_bytes, &mut slot)?;
    Some((c.subject_raw().to_vec(), c.issuer_raw().to_vec()))
}

/// A certificate [`Found`] from DER.
pub fn found(der_bytes: &[u8], occurrence: Occurrence) -> Result<Found, ParseError> {
    let info = parse_certificate(der_bytes)?;
    Ok(Found::new(
        AssetKind::Certificate,
        fingerprint(der_bytes),
        Detail::Certificate(std::sync::Arc::new(info), der_bytes.into()),
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

#[cfg(test)]
mod tests {
    use super::lenient_time;

    #[test]
    fn lenient_times_at_the_edge_of_the_calendar_do_not_panic() {
        // 9999-12-31 23:59 at -23:59 is past the last instant `time` holds in UTC: clamped.
        let (t, conformant) = lenient_time(0x18, b"99991231235959-2359").unwrap();
        assert_eq!((t.year(), conformant), (9999, false));
        let (t, _) = lenient_time(0x18, b"00000101000000+2359").unwrap();
        assert_eq!(t.year(), -1);
        assert_eq!(lenient_time(0x18, b"2026013112"), None);
        assert_eq!(lenient_time(0x17, "26013112005\u{e9}Z".as_bytes()), None);
        // A long fraction is read in one pass and dropped.
        let long = format!("20260131120000.{}Z", "9".repeat(100_000));
        let (t, conformant) = lenient_time(0x18, long.as_bytes()).unwrap();
        assert_eq!((t.hour(), t.second(), conformant), (12, 0, false));
    }
}
