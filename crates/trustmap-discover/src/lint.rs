//! X.509 certificate lints: the RFC 5280 profile and CA/Browser Forum Baseline Requirements
//! (BR) checks that go beyond the policy engine's basics (expiry, weak hash or key, self-signed
//! leaf, wildcard, missing SAN, validity length live in `trustmap_core::policy`).
//!
//! This module owns the lint catalogue ([`LINTS`]: id, severity, description, citation, as
//! data) and the checker ([`lint`]), which returns the ids a certificate violates, in catalogue
//! order. The checker reads the certificate twice: once with the crate's tiny DER reader
//! ([`crate::der`]) for what x509-parser normalises away (the serial's sign and length, the
//! time encodings, duplicate extensions, the two signature algorithm identifiers, unique
//! identifiers), and once with x509-parser for the extension semantics. It never panics: input
//! that is not a certificate yields no lint.
//!
//! Terms used in the descriptions:
//! - *CA*: basicConstraints present with cA asserted; every other certificate is a *leaf*.
//! - *self-issued*: subject and issuer names are byte-identical (RFC 5280 6.1 defines it by
//!   DN matching; byte equality is the stricter form); the signature is not checked, so a
//!   lint result never depends on a key.
//! - *publicly-trusted-looking*: a leaf that is not self-issued and asserts a CA/Browser Forum
//!   reserved policy OID (2.23.140.1.*) in certificatePolicies. Only the BR revocation lint is
//!   scoped to these; private PKI has no such policy OIDs.
//!
//! Two checks one might expect are deliberately absent. "AIA without an OCSP URL" is no longer
//! a BR violation (ballot SC-063 made OCSP optional for subscriber certificates), so
//! `x509-revocation-info-missing` asks for OCSP *or* a CRL distribution point instead. "UTCTime
//! after 2049" cannot be expressed (a two-digit year of 50 or more means 19xx); the encoding
//! rule is enforced the other way round by `x509-generalizedtime-before-2050`.
//!
//! Citations: "RFC 5280 x.y" is a section of RFC 5280; "BR x.y" is a section of the CA/Browser
//! Forum TLS Baseline Requirements in the 2.x "certificate profiles" layout (ballot SC-062,
//! BR 2.0.0). The BR section numbers were checked against the text of `docs/BR.md` in
//! cabforum/servercert at version 2.0.4 (ballot SC-065, adopted 2024-03-15, effective
//! 2024-05-15; the copy read also carries the then-pending SC-067 edit, labelled "2.0.X"),
//! and 6.3.2 (policy rule cert-validity-too-long) against its SC-081v3 text (BR 2.1.5). The
//! adopted text of later versions (latest seen in a revision table: 2.3.0, effective
//! 2026-09-07) was not available; SC-092 (2.1.8) sunset Precertificate Signing CAs without
//! removing 7.1.2.4 as of 2026-04. A draft seen in a copy labelled 2.3.0, with `$DATE`
//! placeholders, regroups 7.1.2 into 7.1.2.1 CA, 7.1.2.2 subscriber and 7.1.2.3 OCSP
//! responder profiles: if that is adopted, every 7.1.2.x citation here must be remapped.
//! Since BR 2.0.0 the serialNumber rule sits in each profile's table (7.1.2.1 to 7.1.2.8)
//! rather than in 7.1, and the criticality of a CA's basicConstraints and keyUsage is stated
//! in the CA extension tables (7.1.2.1.2, 7.1.2.2.3, 7.1.2.3.1, 7.1.2.4.1, 7.1.2.5.1,
//! 7.1.2.6.1), while 7.1.2.10.4 and 7.1.2.10.7 define their contents.
//!
//! Results reach the inventory as `CertificateInfo::lints` (set by [`crate::x509`]); the
//! catalogue gives each id its severity, description and citation.

use std::collections::HashSet;
use std::net::IpAddr;

use trustmap_core::Severity;
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

use crate::der::{self, Tlv};

/// One certificate lint: a stable id and what it checks, with its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lint {
    /// Stable kebab-case id prefixed `x509-`; public and never reused.
    pub id: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// One line: what is wrong.
    pub description: &'static str,
    /// Where the requirement comes from: an RFC 5280 section or a BR section.
    pub citation: &'static str,
}

const fn l(
    id: &'static str,
    severity: Severity,
    description: &'static str,
    citation: &'static str,
) -> Lint {
    Lint {
        id,
        severity,
        description,
        citation,
    }
}

use Severity::{Critical, High, Info, Low, Medium};

/// The lint catalogue, in the order [`lint`] reports.
pub static LINTS: &[Lint] = &[
    l(
        "x509-serial-zero",
        Medium,
        "The serial number is zero; it must be a positive integer.",
        "RFC 5280 4.1.2.2; BR 7.1.2.1-7.1.2.8 (serialNumber row of each profile)",
    ),
    l(
        "x509-serial-negative",
        Medium,
        "The serial number is negative (its DER INTEGER has the sign bit set).",
        "RFC 5280 4.1.2.2",
    ),
    l(
        "x509-serial-too-long",
        Medium,
        "The serial number is longer than 20 octets.",
        "RFC 5280 4.1.2.2",
    ),
    l(
        "x509-serial-low-entropy",
        Low,
        "The serial number is shorter than 8 octets, so it cannot hold 64 bits of CSPRNG output.",
        "BR 7.1.2.1-7.1.2.8 (serialNumber row of each profile)",
    ),
    l(
        "x509-version-not-v3-with-extensions",
        Medium,
        "The certificate has extensions but its version is not v3.",
        "RFC 5280 4.1.2.1",
    ),
    l(
        "x509-unique-identifier-present",
        Low,
        "The certificate carries issuerUniqueID or subjectUniqueID, which conforming CAs must not generate.",
        "RFC 5280 4.1.2.8",
    ),
    l(
        "x509-signature-algorithm-mismatch",
        High,
        "The outer signatureAlgorithm differs from the signature field inside tbsCertificate.",
        "RFC 5280 4.1.1.2",
    ),
    l(
        "x509-issuer-empty",
        High,
        "The issuer distinguished name is empty.",
        "RFC 5280 4.1.2.4",
    ),
    l(
        "x509-empty-subject-without-san",
        High,
        "The subject is empty and there is no subjectAltName extension: the certificate names nobody.",
        "RFC 5280 4.1.2.6",
    ),
    l(
        "x509-empty-subject-san-not-critical",
        Medium,
        "The subject is empty but the subjectAltName extension is not marked critical.",
        "RFC 5280 4.2.1.6",
    ),
    l(
        "x509-san-critical-with-subject",
        Info,
        "The subjectAltName extension is critical although the subject is not empty.",
        "RFC 5280 4.2.1.6",
    ),
    l(
        "x509-cn-not-in-san",
        Medium,
        "A leaf with DNS or IP subjectAltNames has a subject common name that is none of them.",
        "BR 7.1.4.3",
    ),
    l(
        "x509-validity-inverted",
        High,
        "notAfter is before notBefore: the certificate is never valid.",
        "RFC 5280 4.1.2.5",
    ),
    l(
        "x509-generalizedtime-before-2050",
        Low,
        "A validity date between 1950 and 2049 is encoded as GeneralizedTime instead of UTCTime.",
        "RFC 5280 4.1.2.5",
    ),
    l(
        "x509-time-format-invalid",
        Medium,
        "A validity time is not YYMMDDHHMMSSZ (UTCTime) or YYYYMMDDHHMMSSZ (GeneralizedTime).",
        "RFC 5280 4.1.2.5.1, 4.1.2.5.2",
    ),
    l(
        "x509-unknown-critical-extension",
        High,
        "A critical extension is not one that relying parties know; they must reject the certificate.",
        "RFC 5280 4.2",
    ),
    l(
        "x509-duplicate-extension",
        High,
        "The same extension appears more than once.",
        "RFC 5280 4.2",
    ),
    l(
        "x509-basic-constraints-not-critical",
        Medium,
        "A CA certificate's basicConstraints extension is not marked critical.",
        "RFC 5280 4.2.1.9; BR 7.1.2.1.2, 7.1.2.2.3, 7.1.2.3.1, 7.1.2.4.1, 7.1.2.5.1, 7.1.2.6.1",
    ),
    l(
        "x509-ca-missing-key-usage",
        Medium,
        "A CA certificate has no keyUsage extension.",
        "RFC 5280 4.2.1.3; BR 7.1.2.1.2, 7.1.2.2.3, 7.1.2.3.1, 7.1.2.4.1, 7.1.2.5.1, 7.1.2.6.1",
    ),
    l(
        "x509-ca-without-keycertsign",
        High,
        "A CA certificate's keyUsage does not assert keyCertSign.",
        "RFC 5280 4.2.1.3; BR 7.1.2.10.7",
    ),
    l(
        "x509-keyusage-not-critical-on-ca",
        Low,
        "A CA certificate's keyUsage extension is not marked critical.",
        "RFC 5280 4.2.1.3; BR 7.1.2.1.2, 7.1.2.2.3, 7.1.2.3.1, 7.1.2.4.1, 7.1.2.5.1, 7.1.2.6.1",
    ),
    l(
        "x509-key-usage-empty",
        Medium,
        "The keyUsage extension asserts no bit at all.",
        "RFC 5280 4.2.1.3",
    ),
    l(
        "x509-missing-ski",
        Low,
        "A CA certificate has no subjectKeyIdentifier extension.",
        "RFC 5280 4.2.1.2",
    ),
    l(
        "x509-ski-critical",
        Medium,
        "The subjectKeyIdentifier extension is marked critical.",
        "RFC 5280 4.2.1.2",
    ),
    l(
        "x509-missing-aki",
        Low,
        "A certificate that is not self-issued has no authorityKeyIdentifier extension.",
        "RFC 5280 4.2.1.1",
    ),
    l(
        "x509-aki-without-key-id",
        Low,
        "The authorityKeyIdentifier of a certificate that is not self-issued has no keyIdentifier.",
        "RFC 5280 4.2.1.1",
    ),
    l(
        "x509-aki-critical",
        Medium,
        "The authorityKeyIdentifier extension is marked critical.",
        "RFC 5280 4.2.1.1",
    ),
    l(
        "x509-leaf-with-keycertsign",
        High,
        "A certificate that is not a CA asserts keyCertSign in keyUsage.",
        "RFC 5280 4.2.1.3",
    ),
    l(
        "x509-ca-pathlen-on-leaf",
        Medium,
        "basicConstraints carries pathLenConstraint without asserting cA.",
        "RFC 5280 4.2.1.9",
    ),
    l(
        "x509-eku-any-in-leaf",
        Medium,
        "A leaf certificate asserts anyExtendedKeyUsage.",
        "BR 7.1.2.7.10",
    ),
    l(
        "x509-server-auth-missing",
        Low,
        "A leaf with DNS subjectAltNames has no extendedKeyUsage, or one without serverAuth (clientAuth-only certificates are exempt).",
        "BR 7.1.2.7.6, 7.1.2.7.10",
    ),
    l(
        "x509-san-empty",
        High,
        "The subjectAltName extension contains no name.",
        "RFC 5280 4.2.1.6",
    ),
    l(
        "x509-san-ip-in-dns",
        Medium,
        "A dNSName subjectAltName holds an IP address (use an iPAddress entry).",
        "BR 7.1.2.7.12",
    ),
    l(
        "x509-dns-name-invalid",
        Medium,
        "A dNSName is not in preferred name syntax: empty label, trailing dot, underscore or other character, leading or trailing hyphen, or too long.",
        "RFC 5280 4.2.1.6; BR 7.1.2.7.12",
    ),
    l(
        "x509-wildcard-not-leftmost",
        Medium,
        "A dNSName has a wildcard that is not the entire leftmost label.",
        "BR 1.6.1 (Wildcard Domain Name), 7.1.2.7.12",
    ),
    l(
        "x509-rsa-exponent-invalid",
        Critical,
        "The RSA public exponent is even or less than 3: not a usable RSA key.",
        "BR 6.1.6",
    ),
    l(
        "x509-rsa-exponent-small",
        Low,
        "The RSA public exponent is odd but below 65537 (BR: SHOULD be at least 2^16+1).",
        "BR 6.1.6",
    ),
    l(
        "x509-revocation-info-missing",
        Medium,
        "A publicly-trusted-looking leaf has neither an OCSP URL in authorityInfoAccess nor a CRL distribution point.",
        "BR 7.1.2.7.7, 7.1.2.11.2",
    ),
    l(
        "x509-crl-dp-not-http",
        Low,
        "A CRL distribution point URI does not use the http scheme (LDAP, HTTPS, file...).",
        "BR 7.1.2.11.2",
    ),
    l(
        "x509-aia-not-http",
        Low,
        "An authorityInfoAccess URI (OCSP or caIssuers) does not use the http scheme.",
        "BR 7.1.2.7.7, 7.1.2.10.3",
    ),
];

/// Extensions a relying party can be expected to understand; a critical extension outside
/// this list is "unknown" for `x509-unknown-critical-extension`.
const KNOWN_EXTENSIONS: &[&str] = &[
    "2.5.29.9",                // subjectDirectoryAttributes
    "2.5.29.14",               // subjectKeyIdentifier
    "2.5.29.15",               // keyUsage
    "2.5.29.16",               // privateKeyUsagePeriod
    "2.5.29.17",               // subjectAltName
    "2.5.29.18",               // issuerAltName
    "2.5.29.19",               // basicConstraints
    "2.5.29.30",               // nameConstraints
    "2.5.29.31",               // cRLDistributionPoints
    "2.5.29.32",               // certificatePolicies
    "2.5.29.33",               // policyMappings
    "2.5.29.35",               // authorityKeyIdentifier
    "2.5.29.36",               // policyConstraints
    "2.5.29.37",               // extKeyUsage
    "2.5.29.46",               // freshestCRL
    "2.5.29.54",               // inhibitAnyPolicy
    "1.3.6.1.5.5.7.1.1",       // authorityInfoAccess
    "1.3.6.1.5.5.7.1.3",       // qcStatements
    "1.3.6.1.5.5.7.1.11",      // subjectInfoAccess
    "1.3.6.1.5.5.7.1.24",      // TLS feature (must-staple)
    "1.3.6.1.4.1.11129.2.4.2", // CT SCT list
    "1.3.6.1.4.1.11129.2.4.3", // CT precertificate poison (critical by design)
    "1.3.6.1.5.5.7.48.1.5",    // OCSP no-check
    "2.16.840.1.113730.1.1",   // Netscape certificate type
];

const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];
const OID_KU: &[u8] = &[0x55, 0x1d, 0x0f];
const OID_AKI: &[u8] = &[0x55, 0x1d, 0x23];
const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const CABF_POLICY_PREFIX: &str = "2.23.140.1.";

/// The ids of the lints `der_bytes` violates, in [`LINTS`] order. Input that is not a DER
/// certificate yields an empty vec; this never panics.
pub fn lint(der_bytes: &[u8]) -> Vec<&'static str> {
    match X509Certificate::from_der(der_bytes) {
        Ok((_, cert)) => lint_parsed(&cert),
        // x509-parser refused it: the encoding-level lints may still apply.
        Err(_) => run(der_bytes, None),
    }
}

/// [`lint`] for a certificate the caller has already parsed (saves parsing it again).
pub fn lint_parsed(cert: &X509Certificate<'_>) -> Vec<&'static str> {
    run(cert.as_raw(), Some(cert))
}

/// [`lint_parsed`] with the encoding checks on `der_bytes`, the certificate as found, when
/// `cert` was read from a normalised copy of it (lenient validity times).
pub fn lint_raw(der_bytes: &[u8], cert: &X509Certificate<'_>) -> Vec<&'static str> {
    run(der_bytes, Some(cert))
}

fn run(der_bytes: &[u8], cert: Option<&X509Certificate<'_>>) -> Vec<&'static str> {
    let Some(raw) = Raw::read(der_bytes) else {
        return Vec::new();
    };
    let mut hits = HashSet::new();
    raw.check(&mut hits);
    if let Some(cert) = cert {
        check_parsed(cert, &raw, &mut hits);
    }
    LINTS
        .iter()
        .map(|l| l.id)
        .filter(|id| hits.contains(id))
        .collect()
}

/// The catalogue entry for `id`.
pub fn find(id: &str) -> Option<&'static Lint> {
    LINTS.iter().find(|l| l.id == id)
}

/// The fields of a certificate as encoded, before any normalisation.
struct Raw<'a> {
    /// Contents of the version INTEGER, when the [0] field is present.
    version: Option<&'a [u8]>,
    /// Contents of the serialNumber INTEGER.
    serial: &'a [u8],
    tbs_signature: &'a [u8],
    outer_signature: &'a [u8],
    issuer: Tlv<'a>,
    subject: Tlv<'a>,
    validity: Tlv<'a>,
    unique_ids: bool,
    /// Extensions as encoded, in order; `None` without the [3] field.
    extensions: Option<Vec<RawExtension<'a>>>,
}

struct RawExtension<'a> {
    oid: &'a [u8],
    value: &'a [u8],
}

impl<'a> Raw<'a> {
    fn read(data: &'a [u8]) -> Option<Raw<'a>> {
        let (cert, _) = der::read(data)?;
        if cert.tag != 0x30 {
            return None;
        }
        let mut top = der::children(cert.content);
        let tbs = top.next().filter(|t| t.tag == 0x30)?;
        let outer = top.next().filter(|t| t.tag == 0x30)?;
        top.next().filter(|t| t.tag == 0x03)?;

        let mut fields = der::children(tbs.content).peekable();
        let mut version = None;
        if fields.peek().is_some_and(|t| t.tag == 0xa0) {
            let v = fields.next()?;
            let (int, _) = der::read(v.content)?;
            if int.tag != 0x02 {
                return None;
            }
            version = Some(int.content);
        }
        let serial = fields.next().filter(|t| t.tag == 0x02)?;
        let tbs_signature = fields.next().filter(|t| t.tag == 0x30)?;
        let issuer = fields.next().filter(|t| t.tag == 0x30)?;
        let validity = fields.next().filter(|t| t.tag == 0x30)?;
        let subject = fields.next().filter(|t| t.tag == 0x30)?;
        fields.next().filter(|t| t.tag == 0x30)?; // subjectPublicKeyInfo
        let mut unique_ids = false;
        let mut extensions = None;
        for f in fields {
            match f.tag {
                0x81 | 0x82 | 0xa1 | 0xa2 => unique_ids = true,
                0xa3 => extensions = Some(raw_extensions(f.content)),
                _ => {}
            }
        }
        Some(Raw {
            version,
            serial: serial.content,
            tbs_signature: tbs_signature.raw,
            outer_signature: outer.raw,
            issuer,
            subject,
            validity,
            unique_ids,
            extensions,
        })
    }

    fn extension(&self, oid: &[u8]) -> Option<&RawExtension<'a>> {
        self.extensions.as_ref()?.iter().find(|e| e.oid == oid)
    }

    fn self_issued(&self) -> bool {
        self.subject.raw == self.issuer.raw
    }

    fn check(&self, hits: &mut HashSet<&'static str>) {
        // Serial number.
        let s = self.serial;
        if !s.is_empty() {
            let negative = s[0] & 0x80 != 0;
            let zero = s.iter().all(|&b| b == 0);
            if zero {
                hits.insert("x509-serial-zero");
            }
            if negative {
                hits.insert("x509-serial-negative");
            }
            if s.len() > 20 {
                hits.insert("x509-serial-too-long");
            }
            let significant = s.iter().skip_while(|&&b| b == 0).count();
            if !zero && !negative && significant < 8 {
                hits.insert("x509-serial-low-entropy");
            }
        }
        // Version and the fields that depend on it.
        let v3 = self.version == Some(&[2u8][..]);
        if self.extensions.is_some() && !v3 {
            hits.insert("x509-version-not-v3-with-extensions");
        }
        if self.unique_ids {
            hits.insert("x509-unique-identifier-present");
        }
        if self.tbs_signature != self.outer_signature {
            hits.insert("x509-signature-algorithm-mismatch");
        }
        if self.issuer.content.is_empty() {
            hits.insert("x509-issuer-empty");
        }
        // Validity encodings.
        let times: Vec<Tlv<'_>> = der::children(self.validity.content).collect();
        let mut parsed = Vec::new();
        for t in &times {
            match time_digits(t) {
                Some(full) => {
                    let year: u32 = full[..4].parse().unwrap_or(0);
                    if t.tag == 0x18 && (1950..=2049).contains(&year) {
                        hits.insert("x509-generalizedtime-before-2050");
                    }
                    parsed.push(full);
                }
                None => {
                    hits.insert("x509-time-format-invalid");
                }
            }
        }
        if times.len() != 2 {
            hits.insert("x509-time-format-invalid");
        }
        if let [not_before, not_after] = parsed.as_slice()
            && times.len() == 2
            && not_after < not_before
        {
            hits.insert("x509-validity-inverted");
        }
        // Duplicate extensions.
        if let Some(exts) = &self.extensions {
            let mut seen = HashSet::new();
            if exts.iter().any(|e| !seen.insert(e.oid)) {
                hits.insert("x509-duplicate-extension");
            }
        }
    }
}

fn raw_extensions(explicit: &[u8]) -> Vec<RawExtension<'_>> {
    let Some((seq, _)) = der::read(explicit) else {
        return Vec::new();
    };
    der::children(seq.content)
        .filter_map(|ext| {
            let mut parts = der::children(ext.content);
            let oid = parts.next().filter(|t| t.tag == 0x06)?;
            let value = parts.find(|t| t.tag == 0x04)?;
            Some(RawExtension {
                oid: oid.content,
                value: value.content,
            })
        })
        .collect()
}

/// A validity time as `YYYYMMDDHHMMSS` (comparable as a string), when it has the one form
/// RFC 5280 allows for its type.
fn time_digits(t: &Tlv<'_>) -> Option<String> {
    let s = std::str::from_utf8(t.content).ok()?;
    let digits = s.strip_suffix('Z')?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match (t.tag, digits.len()) {
        (0x17, 12) => {
            let yy: u32 = digits[..2].parse().ok()?;
            let century = if yy >= 50 { "19" } else { "20" };
            Some(format!("{century}{digits}"))
        }
        (0x18, 14) => Some(digits.to_string()),
        _ => None,
    }
}

/// The semantic lints, over x509-parser's view of the extensions.
fn check_parsed(cert: &X509Certificate<'_>, raw: &Raw<'_>, hits: &mut HashSet<&'static str>) {
    let tbs = &cert.tbs_certificate;
    let mut bc = None;
    let mut ku = None;
    let mut eku = None;
    let mut san = None;
    let mut ski = None;
    let mut aki_critical = None;
    let mut public_policy = false;
    let mut ocsp = false;
    let mut crl_dp = false;
    let mut seen = HashSet::new();
    for ext in tbs.extensions() {
        let oid = ext.oid.to_id_string();
        if ext.critical && !KNOWN_EXTENSIONS.contains(&oid.as_str()) {
            hits.insert("x509-unknown-critical-extension");
        }
        if !seen.insert(oid) {
            continue; // duplicates: the first one counts, the raw pass reports the rest
        }
        match ext.parsed_extension() {
            ParsedExtension::BasicConstraints(b) => {
                bc = Some((b.ca, b.path_len_constraint, ext.critical))
            }
            ParsedExtension::KeyUsage(k) => ku = Some((k.key_cert_sign(), ext.critical)),
            ParsedExtension::ExtendedKeyUsage(e) => {
                eku = Some((e.any, e.server_auth, e.client_auth));
            }
            ParsedExtension::SubjectAlternativeName(s) => {
                san = Some((s.general_names.clone(), ext.critical));
            }
            ParsedExtension::SubjectKeyIdentifier(_) => ski = Some(ext.critical),
            ParsedExtension::AuthorityKeyIdentifier(_) => aki_critical = Some(ext.critical),
            ParsedExtension::CertificatePolicies(p) => {
                public_policy = p
                    .iter()
                    .any(|pi| pi.policy_id.to_id_string().starts_with(CABF_POLICY_PREFIX));
            }
            ParsedExtension::AuthorityInfoAccess(aia) => {
                for ad in &aia.accessdescs {
                    if ad.access_method.to_id_string() == "1.3.6.1.5.5.7.48.1" {
                        ocsp = true;
                    }
                    if let GeneralName::URI(u) = &ad.access_location
                        && !is_http(u)
                    {
                        hits.insert("x509-aia-not-http");
                    }
                }
            }
            ParsedExtension::CRLDistributionPoints(cdp) => {
                for p in cdp.iter() {
                    crl_dp = true;
                    if let Some(DistributionPointName::FullName(names)) = &p.distribution_point {
                        for n in names {
                            if let GeneralName::URI(u) = n
                                && !is_http(u)
                            {
                                hits.insert("x509-crl-dp-not-http");
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    // Extensions x509-parser may refuse to deep-parse when malformed: read them raw.
    if let Some(e) = raw.extension(OID_SAN) {
        let empty = der::read(e.value).is_some_and(|(t, _)| t.tag == 0x30 && t.content.is_empty());
        if empty {
            hits.insert("x509-san-empty");
        }
    }
    if let Some(e) = raw.extension(OID_KU) {
        let empty = der::read(e.value)
            .is_some_and(|(t, _)| t.tag == 0x03 && t.content.iter().skip(1).all(|&b| b == 0));
        if empty {
            hits.insert("x509-key-usage-empty");
        }
    }
    let self_issued = raw.self_issued();
    match raw.extension(OID_AKI) {
        None if !self_issued => {
            hits.insert("x509-missing-aki");
        }
        Some(e) if !self_issued => {
            let has_key_id = der::read(e.value)
                .is_some_and(|(t, _)| der::children(t.content).any(|c| c.tag == 0x80));
            if !has_key_id {
                hits.insert("x509-aki-without-key-id");
            }
        }
        _ => {}
    }
    if aki_critical == Some(true) {
        hits.insert("x509-aki-critical");
    }
    if ski == Some(true) {
        hits.insert("x509-ski-critical");
    }

    let is_ca = matches!(bc, Some((true, _, _)));
    if is_ca {
        if matches!(bc, Some((_, _, false))) {
            hits.insert("x509-basic-constraints-not-critical");
        }
        match ku {
            None => {
                hits.insert("x509-ca-missing-key-usage");
            }
            Some((cert_sign, critical)) => {
                if !cert_sign {
                    hits.insert("x509-ca-without-keycertsign");
                }
                if !critical {
                    hits.insert("x509-keyusage-not-critical-on-ca");
                }
            }
        }
        if ski.is_none() {
            hits.insert("x509-missing-ski");
        }
    } else {
        if matches!(ku, Some((true, _))) {
            hits.insert("x509-leaf-with-keycertsign");
        }
        if matches!(bc, Some((_, Some(_), _))) {
            hits.insert("x509-ca-pathlen-on-leaf");
        }
        if matches!(eku, Some((true, _, _))) {
            hits.insert("x509-eku-any-in-leaf");
        }
    }

    // Names.
    let subject_empty = raw.subject.content.is_empty();
    match &san {
        None if subject_empty && raw.extension(OID_SAN).is_none() => {
            hits.insert("x509-empty-subject-without-san");
        }
        Some((_, critical)) if subject_empty && !critical => {
            hits.insert("x509-empty-subject-san-not-critical");
        }
        Some((_, true)) if !subject_empty => {
            hits.insert("x509-san-critical-with-subject");
        }
        _ => {}
    }
    let names: &[GeneralName<'_>] = san.as_ref().map(|(n, _)| n.as_slice()).unwrap_or(&[]);
    let dns: Vec<&str> = names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DNSName(d) => Some(*d),
            _ => None,
        })
        .collect();
    let ips: Vec<IpAddr> = names
        .iter()
        .filter_map(|n| match n {
            GeneralName::IPAddress(b) => ip_from_bytes(b),
            _ => None,
        })
        .collect();
    for d in &dns {
        if d.parse::<IpAddr>().is_ok() {
            hits.insert("x509-san-ip-in-dns");
        } else if !dns_name_valid(d) {
            hits.insert("x509-dns-name-invalid");
        }
        if !wildcard_ok(d) {
            hits.insert("x509-wildcard-not-leftmost");
        }
    }
    if !is_ca && (!dns.is_empty() || !ips.is_empty()) {
        for cn in tbs.subject.iter_common_name() {
            let Ok(cn) = cn.as_str() else { continue };
            let in_dns = dns.iter().any(|d| d.eq_ignore_ascii_case(cn));
            let in_ip = cn.parse::<IpAddr>().is_ok_and(|ip| ips.contains(&ip));
            if !in_dns && !in_ip {
                hits.insert("x509-cn-not-in-san");
            }
        }
    }
    if !is_ca && !dns.is_empty() {
        let tls_ok = match eku {
            None => false,
            Some((any, server, client)) => any || server || client,
        };
        if !tls_ok {
            hits.insert("x509-server-auth-missing");
        }
    }

    // RSA public exponent.
    if tbs.subject_pki.algorithm.algorithm.to_id_string() == RSA_ENCRYPTION
        && let Ok(PublicKey::RSA(rsa)) = tbs.subject_pki.parsed()
    {
        let e = rsa.exponent;
        let significant: Vec<u8> = e.iter().copied().skip_while(|&b| b == 0).collect();
        let even = significant.last().is_none_or(|&b| b & 1 == 0);
        let value = if significant.len() > 8 {
            u64::MAX
        } else {
            significant
                .iter()
                .fold(0u64, |v, &b| (v << 8) | u64::from(b))
        };
        if even || value < 3 {
            hits.insert("x509-rsa-exponent-invalid");
        } else if value < 65537 {
            hits.insert("x509-rsa-exponent-small");
        }
    }

    // Revocation, for leaves that look publicly trusted.
    if !is_ca && !self_issued && public_policy && !ocsp && !crl_dp {
        hits.insert("x509-revocation-info-missing");
    }
}

fn is_http(uri: &str) -> bool {
    uri.get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("http://"))
}

fn ip_from_bytes(b: &[u8]) -> Option<IpAddr> {
    if let Ok(a) = <[u8; 4]>::try_from(b) {
        return Some(IpAddr::from(a));
    }
    <[u8; 16]>::try_from(b).ok().map(IpAddr::from)
}

/// Preferred name syntax (RFC 1034 3.5 as RFC 5280 4.2.1.6 requires), allowing `*` characters
/// (their placement is `x509-wildcard-not-leftmost`'s business).
fn dns_name_valid(name: &str) -> bool {
    if name.is_empty() || name.len() > 253 || name.ends_with('.') {
        return false;
    }
    name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'*')
    })
}

/// False when a `*` appears anywhere but as the whole leftmost label.
fn wildcard_ok(name: &str) -> bool {
    let mut labels = name.split('.');
    let first = labels.next().unwrap_or("");
    (first == "*" || !first.contains('*')) && labels.all(|l| !l.contains('*'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_yields_nothing() {
        assert!(lint(&[]).is_empty());
        assert!(lint(&[0x30, 0x03, 0x02, 0x01, 0x00]).is_empty());
        assert!(lint(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_empty());
    }

    #[test]
    fn dns_syntax() {
        assert!(dns_name_valid("a-b.example.com"));
        assert!(dns_name_valid("*.example.com"));
        for bad in [
            "",
            "a..b",
            ".a",
            "a.",
            "a_b.example",
            "-a.example",
            "a b.example",
        ] {
            assert!(!dns_name_valid(bad), "{bad}");
        }
        assert!(wildcard_ok("*.example.com") && wildcard_ok("x.example.com"));
        for bad in ["f*o.example.com", "a.*.example.com", "*.*.example.com"] {
            assert!(!wildcard_ok(bad), "{bad}");
        }
    }

    #[test]
    fn time_forms() {
        let t = |tag, s: &'static str| Tlv {
            tag,
            content: s.as_bytes(),
            raw: &[],
        };
        assert_eq!(
            time_digits(&t(0x17, "491231235959Z")).unwrap(),
            "20491231235959"
        );
        assert_eq!(
            time_digits(&t(0x17, "500101000000Z")).unwrap(),
            "19500101000000"
        );
        assert!(time_digits(&t(0x17, "4912312359Z")).is_none());
        assert!(time_digits(&t(0x17, "491231235959+0100")).is_none());
        assert!(time_digits(&t(0x18, "20501231235959.5Z")).is_none());
    }
}
