//! The X.509 lint set (`trustmap_discover::lint`): the catalogue's shape, and for every lint a
//! certificate that violates it and one that does not, generated at test time.
//!
//! Most certificates come from rcgen (custom extensions, serials, key usages, criticality,
//! validity) and a few from the `openssl` CLI. Defects neither tool will produce (negative
//! serial, duplicate extensions, outer/inner signature algorithm mismatch, unique identifiers,
//! odd time encodings, a missing version, RSA keys with even or tiny exponents) are made by
//! editing a generated certificate's DER with the crate's DER reader and re-encoding it; the
//! signature no longer verifies, which linting does not care about.

use std::collections::HashSet;
use std::process::Command;

use crate::support::{TempDir, have};
use rcgen::{
    BasicConstraints, CertificateParams, CrlDistributionPoint, CustomExtension, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose as Eku, IsCa, Issuer, KeyPair, KeyUsagePurpose as Ku, SanType,
    SerialNumber,
};
use trustmap_core::Severity;
use trustmap_discover::der;
use trustmap_discover::lint::{LINTS, find, lint};

// ---- generation --------------------------------------------------------------------------

fn key() -> KeyPair {
    KeyPair::generate().expect("generate key")
}

fn dn(cn: &str) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::OrganizationName, "trustmap tests");
    d.push(DnType::CommonName, cn);
    d
}

fn ca_params() -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn("trustmap Test Root CA");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![Ku::KeyCertSign, Ku::CrlSign, Ku::DigitalSignature];
    p.not_before = rcgen::date_time_ymd(2026, 1, 1);
    p.not_after = rcgen::date_time_ymd(2036, 1, 1);
    p
}

/// A clean, modern TLS server leaf: CN among the SANs, SKI and AKI, keyUsage
/// digitalSignature, EKU serverAuth, 90 days.
fn leaf_params(name: &str) -> CertificateParams {
    let mut p = CertificateParams::new(vec![name.to_string()]).expect("params");
    p.distinguished_name = dn(name);
    p.is_ca = IsCa::ExplicitNoCa; // writes subjectKeyIdentifier and basicConstraints cA=false
    p.key_usages = vec![Ku::DigitalSignature];
    p.extended_key_usages = vec![Eku::ServerAuth];
    p.use_authority_key_identifier_extension = true;
    p.not_before = rcgen::date_time_ymd(2026, 11, 1);
    p.not_after = rcgen::date_time_ymd(2027, 1, 30);
    p
}

fn leaf() -> CertificateParams {
    leaf_params("svc.example.com")
}

/// `params` issued by a fresh CA built from `ca`.
fn issued_by(params: &CertificateParams, ca: CertificateParams) -> Vec<u8> {
    let issuer = Issuer::new(ca, key());
    params
        .signed_by(&key(), &issuer)
        .expect("sign")
        .der()
        .to_vec()
}

/// `params` issued by a fresh, clean CA.
fn issued(params: &CertificateParams) -> Vec<u8> {
    issued_by(params, ca_params())
}

fn self_signed(params: &CertificateParams) -> Vec<u8> {
    params.self_signed(&key()).expect("sign").der().to_vec()
}

fn ext(oid: &[u64], critical: bool, content: Vec<u8>) -> CustomExtension {
    let mut e = CustomExtension::from_oid_content(oid, content);
    e.set_criticality(critical);
    e
}

// ---- DER editing -------------------------------------------------------------------------

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// Rebuilds a certificate after `edit` changed its tbsCertificate fields (raw TLVs, in order:
/// version, serial, signature, issuer, validity, subject, spki, [extensions]) and possibly the
/// outer signatureAlgorithm.
fn edit(cert: &[u8], edit: impl FnOnce(&mut Vec<Vec<u8>>, &mut Vec<u8>)) -> Vec<u8> {
    let (c, _) = der::read(cert).expect("certificate");
    let top: Vec<_> = der::children(c.content).collect();
    let mut fields: Vec<Vec<u8>> = der::children(top[0].content)
        .map(|t| t.raw.to_vec())
        .collect();
    let mut alg = top[1].raw.to_vec();
    edit(&mut fields, &mut alg);
    let mut body = tlv(0x30, &fields.concat());
    body.extend(alg);
    body.extend_from_slice(top[2].raw);
    let out = tlv(0x30, &body);
    assert!(der::is_single_sequence(&out));
    out
}

/// Edits the list of encoded extensions of a certificate.
fn edit_extensions(cert: &[u8], f: impl FnOnce(&mut Vec<Vec<u8>>)) -> Vec<u8> {
    edit(cert, |fields, _| {
        let i = fields
            .iter()
            .position(|t| t[0] == 0xa3)
            .expect("extensions");
        let (explicit, _) = der::read(&fields[i]).unwrap();
        let (seq, _) = der::read(explicit.content).unwrap();
        let mut exts: Vec<Vec<u8>> = der::children(seq.content).map(|t| t.raw.to_vec()).collect();
        f(&mut exts);
        fields[i] = tlv(0xa3, &tlv(0x30, &exts.concat()));
    })
}

/// The OID contents (without tag and length) of an encoded extension.
fn ext_oid(ext: &[u8]) -> Vec<u8> {
    let (seq, _) = der::read(ext).unwrap();
    der::children(seq.content).next().unwrap().content.to_vec()
}

fn replace_time(cert: &[u8], index: usize, time: Vec<u8>) -> Vec<u8> {
    edit(cert, |fields, _| {
        let (validity, _) = der::read(&fields[4]).unwrap();
        let mut times: Vec<Vec<u8>> = der::children(validity.content)
            .map(|t| t.raw.to_vec())
            .collect();
        times[index] = time;
        fields[4] = tlv(0x30, &times.concat());
    })
}

/// An RSA SubjectPublicKeyInfo with a 2048-bit modulus and exponent `e`.
fn rsa_spki(e: &[u8]) -> Vec<u8> {
    let mut n = vec![0x00, 0xc5];
    n.extend((0..254).map(|i| (i * 37 + 11) as u8));
    n.push(0x01 | 0x8f);
    let rsa_public_key = tlv(0x30, &[tlv(0x02, &n), tlv(0x02, e)].concat());
    let mut bits = vec![0x00];
    bits.extend(rsa_public_key);
    let alg = tlv(
        0x30,
        &[
            tlv(
                0x06,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
            ),
            vec![0x05, 0x00],
        ]
        .concat(),
    );
    tlv(0x30, &[alg, tlv(0x03, &bits)].concat())
}

fn with_rsa_exponent(e: &[u8]) -> Vec<u8> {
    edit(&issued(&leaf()), |fields, _| fields[6] = rsa_spki(e))
}

// ---- assertions --------------------------------------------------------------------------

#[track_caller]
fn fires(cert: &[u8], id: &str) {
    assert!(find(id).is_some(), "{id} is not in the catalogue");
    let got = lint(cert);
    assert!(got.contains(&id), "expected {id}, got {got:?}");
}

#[track_caller]
fn silent(cert: &[u8], id: &str) {
    assert!(find(id).is_some(), "{id} is not in the catalogue");
    let got = lint(cert);
    assert!(!got.contains(&id), "did not expect {id}, got {got:?}");
}

// ---- the catalogue -----------------------------------------------------------------------

#[test]
fn catalogue_has_at_least_25_unique_cited_lints() {
    assert!(LINTS.len() >= 25, "{} lints", LINTS.len());
    let mut ids = HashSet::new();
    for l in LINTS {
        assert!(ids.insert(l.id), "duplicate id {}", l.id);
        assert!(l.id.starts_with("x509-"), "{}", l.id);
        assert!(
            l.id[5..]
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{} is not kebab-case",
            l.id
        );
        assert!(
            l.citation.starts_with("RFC 5280 ") || l.citation.starts_with("BR "),
            "{}: citation {:?}",
            l.id,
            l.citation
        );
        assert!(!l.description.is_empty() && !l.description.contains('\n'));
    }
    assert!(LINTS.iter().any(|l| l.severity == Severity::High));
}

#[test]
fn clean_modern_leaf_and_its_ca_have_no_lint() {
    let ca = ca_params();
    let ca_key = key();
    let ca_der = self_signed_with(&ca, &ca_key);
    let issuer = Issuer::new(ca, ca_key);
    let leaf_der = leaf().signed_by(&key(), &issuer).unwrap().der().to_vec();
    assert_eq!(lint(&leaf_der), Vec::<&str>::new());
    assert_eq!(lint(&ca_der), Vec::<&str>::new());
}

fn self_signed_with(p: &CertificateParams, k: &KeyPair) -> Vec<u8> {
    p.self_signed(k).unwrap().der().to_vec()
}

#[test]
fn not_a_certificate_yields_nothing_and_never_panics() {
    let good = issued(&leaf());
    assert!(lint(b"").is_empty());
    assert!(lint(b"-----BEGIN CERTIFICATE-----").is_empty());
    // every truncation and many single-byte corruptions of a real certificate
    for n in 0..good.len() {
        let _ = lint(&good[..n]);
    }
    for i in 0..good.len() {
        for v in [0x00, 0x80, 0xff] {
            let mut bad = good.clone();
            bad[i] = v;
            let _ = lint(&bad);
        }
    }
    // and random multi-byte mutations of a CA, a leaf and an RSA leaf (deterministic xorshift)
    let seeds = [self_signed(&ca_params()), good, with_rsa_exponent(&[0x03])];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for seed in &seeds {
        for _ in 0..2000 {
            let mut bad = seed.clone();
            for _ in 0..1 + next() % 4 {
                let i = (next() % bad.len() as u64) as usize;
                bad[i] = next() as u8;
            }
            let _ = lint(&bad);
        }
    }
}

#[test]
fn parsed_certificates_carry_their_lints() {
    let mut p = leaf();
    p.extended_key_usages = vec![Eku::Any];
    let info = trustmap_discover::x509::parse_certificate(&issued(&p)).unwrap();
    assert_eq!(info.lints, ["x509-eku-any-in-leaf"]);
    let clean = trustmap_discover::x509::parse_certificate(&issued(&leaf())).unwrap();
    assert!(clean.lints.is_empty());
}

// ---- serial number -----------------------------------------------------------------------

fn with_serial(bytes: &[u8]) -> Vec<u8> {
    let mut p = leaf();
    p.serial_number = Some(SerialNumber::from_slice(bytes));
    issued(&p)
}

#[test]
fn serial_zero() {
    fires(&with_serial(&[0]), "x509-serial-zero");
    silent(&issued(&leaf()), "x509-serial-zero");
}

#[test]
fn serial_negative() {
    // rcgen always encodes a positive serial: set the sign bit by editing the DER.
    let neg = edit(&issued(&leaf()), |f, _| f[1] = tlv(0x02, &[0x85; 16]));
    fires(&neg, "x509-serial-negative");
    // a positive serial whose first octet has the high bit set gets a 0x00 pad: not negative
    let pos = with_serial(&[0x85; 16]);
    silent(&pos, "x509-serial-negative");
}

#[test]
fn serial_too_long() {
    fires(&with_serial(&[0x11; 21]), "x509-serial-too-long");
    silent(&with_serial(&[0x11; 20]), "x509-serial-too-long");
}

#[test]
fn serial_low_entropy() {
    fires(
        &with_serial(&[0x01, 0x02, 0x03, 0x04]),
        "x509-serial-low-entropy",
    );
    silent(&with_serial(&[0x01; 8]), "x509-serial-low-entropy");
}

// ---- structure ---------------------------------------------------------------------------

#[test]
fn version_not_v3_with_extensions() {
    // rcgen always writes v3: drop the version field (v1) but keep the extensions.
    let v1 = edit(&issued(&leaf()), |f, _| {
        f.remove(0);
    });
    fires(&v1, "x509-version-not-v3-with-extensions");
    // a v1 certificate without extensions is fine for this lint
    let plain_v1 = edit(&issued(&leaf()), |f, _| {
        f.remove(7);
        f.remove(0);
    });
    silent(&plain_v1, "x509-version-not-v3-with-extensions");
    silent(&issued(&leaf()), "x509-version-not-v3-with-extensions");
}

#[test]
fn unique_identifier_present() {
    // No generator writes subjectUniqueID any more: insert [2] before the extensions.
    let uid = edit(&issued(&leaf()), |f, _| {
        f.insert(7, tlv(0x82, &[0x00, 0xde, 0xad]))
    });
    fires(&uid, "x509-unique-identifier-present");
    silent(&issued(&leaf()), "x509-unique-identifier-present");
}

#[test]
fn signature_algorithm_mismatch() {
    // Outer ecdsa-with-SHA256, inner ecdsa-with-SHA384: only by editing the DER.
    let sha384 = tlv(
        0x30,
        &tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03]),
    );
    let bad = edit(&issued(&leaf()), |f, _| f[2] = sha384);
    fires(&bad, "x509-signature-algorithm-mismatch");
    silent(&issued(&leaf()), "x509-signature-algorithm-mismatch");
}

#[test]
fn issuer_empty() {
    let mut ca = ca_params();
    ca.distinguished_name = DistinguishedName::new();
    fires(&issued_by(&leaf(), ca), "x509-issuer-empty");
    silent(&issued(&leaf()), "x509-issuer-empty");
}

// ---- validity ----------------------------------------------------------------------------

#[test]
fn validity_inverted() {
    let mut p = leaf();
    p.not_before = rcgen::date_time_ymd(2027, 1, 1);
    p.not_after = rcgen::date_time_ymd(2026, 12, 31);
    fires(&issued(&p), "x509-validity-inverted");
    // across encodings: UTCTime 2049 before GeneralizedTime 2050 is in order
    let mut p = leaf();
    p.not_before = rcgen::date_time_ymd(2049, 12, 31);
    p.not_after = rcgen::date_time_ymd(2050, 1, 1);
    silent(&issued(&p), "x509-validity-inverted");
    silent(&issued(&leaf()), "x509-validity-inverted");
}

#[test]
fn generalizedtime_before_2050() {
    // rcgen (rightly) writes 2026 as UTCTime; re-encode notBefore as GeneralizedTime.
    let bad = replace_time(&issued(&leaf()), 0, tlv(0x18, b"20261101000000Z"));
    fires(&bad, "x509-generalizedtime-before-2050");
    // 2050 and later, and before 1950, must be GeneralizedTime
    let mut p = leaf();
    p.not_before = rcgen::date_time_ymd(1949, 6, 1);
    p.not_after = rcgen::date_time_ymd(2051, 1, 1);
    let ok = issued(&p);
    silent(&ok, "x509-generalizedtime-before-2050");
    silent(&ok, "x509-time-format-invalid");
}

#[test]
fn time_format_invalid() {
    // UTCTime without seconds and with an offset: only by editing the DER.
    let no_seconds = replace_time(&issued(&leaf()), 0, tlv(0x17, b"2611010000Z"));
    fires(&no_seconds, "x509-time-format-invalid");
    let offset = replace_time(&issued(&leaf()), 1, tlv(0x17, b"270130000000+0100"));
    fires(&offset, "x509-time-format-invalid");
    let fraction = replace_time(&issued(&leaf()), 1, tlv(0x18, b"20510130000000.5Z"));
    fires(&fraction, "x509-time-format-invalid");
    silent(&issued(&leaf()), "x509-time-format-invalid");
}

// ---- extensions in general ---------------------------------------------------------------

#[test]
fn unknown_critical_extension() {
    let oid = [1, 3, 6, 1, 4, 1, 55555, 1];
    let mut p = leaf();
    p.custom_extensions = vec![ext(&oid, true, vec![0x05, 0x00])];
    fires(&issued(&p), "x509-unknown-critical-extension");
    p.custom_extensions = vec![ext(&oid, false, vec![0x05, 0x00])];
    silent(&issued(&p), "x509-unknown-critical-extension");
    // known critical extensions (basicConstraints, keyUsage) are fine
    silent(&issued(&leaf()), "x509-unknown-critical-extension");
}

#[test]
fn duplicate_extension() {
    // rcgen writes each extension once: copy the EKU extension in the DER.
    let eku_oid = [0x55, 0x1d, 0x25];
    let dup = edit_extensions(&issued(&leaf()), |exts| {
        let eku = exts.iter().find(|e| ext_oid(e) == eku_oid).unwrap().clone();
        exts.push(eku);
    });
    fires(&dup, "x509-duplicate-extension");
    silent(&issued(&leaf()), "x509-duplicate-extension");
}

// ---- CA certificates ---------------------------------------------------------------------

/// A CA without rcgen's basicConstraints (and so without its SKI), `bc_critical` saying how
/// the hand-written basicConstraints cA=TRUE is marked.
fn ca_with_custom_bc(bc_critical: bool) -> CertificateParams {
    let mut p = ca_params();
    p.is_ca = IsCa::NoCa;
    p.custom_extensions = vec![ext(
        &[2, 5, 29, 19],
        bc_critical,
        vec![0x30, 0x03, 0x01, 0x01, 0xff],
    )];
    p
}

#[test]
fn basic_constraints_not_critical() {
    fires(
        &self_signed(&ca_with_custom_bc(false)),
        "x509-basic-constraints-not-critical",
    );
    silent(
        &self_signed(&ca_with_custom_bc(true)),
        "x509-basic-constraints-not-critical",
    );
    silent(
        &self_signed(&ca_params()),
        "x509-basic-constraints-not-critical",
    );
}

#[test]
fn ca_missing_key_usage() {
    let mut p = ca_params();
    p.key_usages.clear();
    fires(&self_signed(&p), "x509-ca-missing-key-usage");
    silent(&self_signed(&ca_params()), "x509-ca-missing-key-usage");
    // a leaf without keyUsage is not this lint's business
    let mut l = leaf();
    l.key_usages.clear();
    silent(&issued(&l), "x509-ca-missing-key-usage");
}

#[test]
fn openssl_default_self_signed_is_a_ca_without_key_usage() {
    if !have("openssl") {
        return;
    }
    // `openssl req -x509` applies v3_ca: basicConstraints critical CA:TRUE, SKI, AKI, no keyUsage.
    let dir = TempDir::new("x509lint");
    let out = dir.path("ca.der");
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-keyout"])
        .arg(dir.path("ca.key"))
        .args([
            "-subj",
            "/CN=openssl test CA",
            "-days",
            "30",
            "-outform",
            "DER",
            "-out",
        ])
        .arg(&out)
        .status()
        .expect("run openssl");
    assert!(status.success());
    let der = dir.read("ca.der");
    fires(&der, "x509-ca-missing-key-usage");
    silent(&der, "x509-basic-constraints-not-critical");
    silent(&der, "x509-missing-ski");
}

#[test]
fn ca_without_keycertsign() {
    let mut p = ca_params();
    p.key_usages = vec![Ku::DigitalSignature, Ku::CrlSign];
    fires(&self_signed(&p), "x509-ca-without-keycertsign");
    silent(&self_signed(&ca_params()), "x509-ca-without-keycertsign");
}

#[test]
fn keyusage_not_critical_on_ca() {
    let mut p = ca_params();
    p.key_usages.clear();
    // keyCertSign (bit 5) and cRLSign (bit 6), non-critical
    p.custom_extensions = vec![ext(&[2, 5, 29, 15], false, vec![0x03, 0x02, 0x01, 0x06])];
    let der = self_signed(&p);
    fires(&der, "x509-keyusage-not-critical-on-ca");
    silent(&der, "x509-ca-without-keycertsign");
    silent(
        &self_signed(&ca_params()),
        "x509-keyusage-not-critical-on-ca",
    );
}

#[test]
fn key_usage_empty() {
    let mut p = leaf();
    p.key_usages.clear();
    p.custom_extensions = vec![ext(&[2, 5, 29, 15], true, vec![0x03, 0x01, 0x00])];
    fires(&issued(&p), "x509-key-usage-empty");
    silent(&issued(&leaf()), "x509-key-usage-empty");
}

#[test]
fn missing_ski() {
    // rcgen adds an SKI to every CA; a hand-written basicConstraints avoids it.
    fires(&self_signed(&ca_with_custom_bc(true)), "x509-missing-ski");
    silent(&self_signed(&ca_params()), "x509-missing-ski");
    // leaves need no SKI under RFC 5280
    let mut l = leaf();
    l.is_ca = IsCa::NoCa;
    silent(&issued(&l), "x509-missing-ski");
}

#[test]
fn ski_critical() {
    let mut p = leaf();
    p.is_ca = IsCa::NoCa;
    let mut ski = vec![0x04, 0x14];
    ski.extend([0x5a; 20]);
    p.custom_extensions = vec![ext(&[2, 5, 29, 14], true, ski)];
    fires(&issued(&p), "x509-ski-critical");
    silent(&issued(&leaf()), "x509-ski-critical");
}

// ---- authority key identifier ------------------------------------------------------------

#[test]
fn missing_aki() {
    let mut p = leaf();
    p.use_authority_key_identifier_extension = false;
    fires(&issued(&p), "x509-missing-aki");
    silent(&issued(&leaf()), "x509-missing-aki");
    // self-issued certificates may omit it
    silent(&self_signed(&p), "x509-missing-aki");
}

#[test]
fn aki_without_key_id() {
    let mut p = leaf();
    p.use_authority_key_identifier_extension = false;
    // AuthorityKeyIdentifier with only authorityCertSerialNumber [2]
    p.custom_extensions = vec![ext(
        &[2, 5, 29, 35],
        false,
        vec![0x30, 0x03, 0x82, 0x01, 0x07],
    )];
    fires(&issued(&p), "x509-aki-without-key-id");
    silent(&issued(&leaf()), "x509-aki-without-key-id");
}

#[test]
fn aki_critical() {
    let mut p = leaf();
    p.use_authority_key_identifier_extension = false;
    let mut aki = vec![0x30, 0x16, 0x80, 0x14];
    aki.extend([0x3c; 20]);
    p.custom_extensions = vec![ext(&[2, 5, 29, 35], true, aki.clone())];
    fires(&issued(&p), "x509-aki-critical");
    p.custom_extensions = vec![ext(&[2, 5, 29, 35], false, aki)];
    let ok = issued(&p);
    silent(&ok, "x509-aki-critical");
    silent(&ok, "x509-aki-without-key-id");
}

// ---- leaves ------------------------------------------------------------------------------

#[test]
fn leaf_with_keycertsign() {
    let mut p = leaf();
    p.key_usages = vec![Ku::DigitalSignature, Ku::KeyCertSign];
    fires(&issued(&p), "x509-leaf-with-keycertsign");
    silent(&issued(&leaf()), "x509-leaf-with-keycertsign");
    silent(&self_signed(&ca_params()), "x509-leaf-with-keycertsign");
}

#[test]
fn ca_pathlen_on_leaf() {
    let mut p = leaf();
    p.is_ca = IsCa::NoCa;
    // basicConstraints { pathLenConstraint 0 } without cA
    p.custom_extensions = vec![ext(
        &[2, 5, 29, 19],
        true,
        vec![0x30, 0x03, 0x02, 0x01, 0x00],
    )];
    fires(&issued(&p), "x509-ca-pathlen-on-leaf");
    silent(&issued(&leaf()), "x509-ca-pathlen-on-leaf");
    let mut ca = ca_params();
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    silent(&self_signed(&ca), "x509-ca-pathlen-on-leaf");
}

#[test]
fn eku_any_in_leaf() {
    let mut p = leaf();
    p.extended_key_usages = vec![Eku::ServerAuth, Eku::Any];
    fires(&issued(&p), "x509-eku-any-in-leaf");
    silent(&issued(&leaf()), "x509-eku-any-in-leaf");
}

#[test]
fn server_auth_missing() {
    let mut p = leaf();
    p.extended_key_usages.clear();
    fires(&issued(&p), "x509-server-auth-missing");
    p.extended_key_usages = vec![Eku::CodeSigning];
    fires(&issued(&p), "x509-server-auth-missing");
    silent(&issued(&leaf()), "x509-server-auth-missing");
    // an mTLS client certificate with a DNS name is exempt
    p.extended_key_usages = vec![Eku::ClientAuth];
    silent(&issued(&p), "x509-server-auth-missing");
}

// ---- names -------------------------------------------------------------------------------

fn with_sans(sans: Vec<SanType>) -> Vec<u8> {
    let mut p = leaf();
    p.subject_alt_names = sans;
    p.distinguished_name = dn("trustmap test leaf");
    p.distinguished_name.remove(DnType::CommonName);
    issued(&p)
}

fn dns(name: &str) -> SanType {
    SanType::DnsName(name.try_into().expect("IA5"))
}

/// subjectAltName content: a SEQUENCE of one dNSName.
fn san_der(name: &str) -> Vec<u8> {
    tlv(0x30, &tlv(0x82, name.as_bytes()))
}

#[test]
fn empty_subject_without_san() {
    let mut p = leaf();
    p.distinguished_name = DistinguishedName::new();
    p.subject_alt_names.clear();
    fires(&issued(&p), "x509-empty-subject-without-san");
    // rcgen marks the SAN critical when the subject is empty
    let mut p = leaf();
    p.distinguished_name = DistinguishedName::new();
    let ok = issued(&p);
    silent(&ok, "x509-empty-subject-without-san");
    silent(&ok, "x509-empty-subject-san-not-critical");
}

#[test]
fn empty_subject_san_not_critical() {
    let mut p = leaf();
    p.distinguished_name = DistinguishedName::new();
    p.subject_alt_names.clear();
    p.custom_extensions = vec![ext(&[2, 5, 29, 17], false, san_der("svc.example.com"))];
    fires(&issued(&p), "x509-empty-subject-san-not-critical");
    p.custom_extensions = vec![ext(&[2, 5, 29, 17], true, san_der("svc.example.com"))];
    silent(&issued(&p), "x509-empty-subject-san-not-critical");
}

#[test]
fn san_critical_with_subject() {
    let mut p = leaf();
    p.subject_alt_names.clear();
    p.custom_extensions = vec![ext(&[2, 5, 29, 17], true, san_der("svc.example.com"))];
    fires(&issued(&p), "x509-san-critical-with-subject");
    silent(&issued(&leaf()), "x509-san-critical-with-subject");
}

#[test]
fn cn_not_in_san() {
    let mut p = leaf();
    p.distinguished_name = dn("other.example.com");
    fires(&issued(&p), "x509-cn-not-in-san");
    silent(&issued(&leaf()), "x509-cn-not-in-san");
    // case-insensitive, and an IP common name matches an iPAddress SAN
    p.distinguished_name = dn("SVC.Example.COM");
    silent(&issued(&p), "x509-cn-not-in-san");
    let mut ip = leaf_params("192.0.2.7");
    ip.distinguished_name = dn("192.0.2.7");
    silent(&issued(&ip), "x509-cn-not-in-san");
    // CAs are not named by DNS: exempt
    silent(&self_signed(&ca_params()), "x509-cn-not-in-san");
}

#[test]
fn san_empty() {
    let mut p = leaf();
    p.subject_alt_names.clear();
    p.custom_extensions = vec![ext(&[2, 5, 29, 17], false, vec![0x30, 0x00])];
    fires(&issued(&p), "x509-san-empty");
    silent(&issued(&leaf()), "x509-san-empty");
}

#[test]
fn san_ip_in_dns() {
    fires(&with_sans(vec![dns("192.0.2.10")]), "x509-san-ip-in-dns");
    fires(&with_sans(vec![dns("2001:db8::1")]), "x509-san-ip-in-dns");
    let ok = with_sans(vec![SanType::IpAddress("192.0.2.10".parse().unwrap())]);
    silent(&ok, "x509-san-ip-in-dns");
}

#[test]
fn dns_name_invalid() {
    for bad in [
        "under_score.example.com",
        "trailing.example.com.",
        "double..example.com",
        "-lead.example.com",
        "sp ace.example.com",
        "",
    ] {
        fires(&with_sans(vec![dns(bad)]), "x509-dns-name-invalid");
    }
    let long_label = format!("{}.example.com", "a".repeat(64));
    fires(&with_sans(vec![dns(&long_label)]), "x509-dns-name-invalid");
    let ok = with_sans(vec![
        dns("a-b.example.com"),
        dns("*.example.com"),
        dns("xn--bcher-kva.example"),
    ]);
    silent(&ok, "x509-dns-name-invalid");
}

#[test]
fn wildcard_not_leftmost() {
    for bad in ["api.*.example.com", "f*o.example.com", "*.*.example.com"] {
        fires(&with_sans(vec![dns(bad)]), "x509-wildcard-not-leftmost");
    }
    silent(
        &with_sans(vec![dns("*.example.com")]),
        "x509-wildcard-not-leftmost",
    );
}

// ---- keys --------------------------------------------------------------------------------

#[test]
fn rsa_exponent_invalid() {
    // No key generator makes these keys: put a hand-built RSA SPKI into the certificate.
    fires(&with_rsa_exponent(&[0x01]), "x509-rsa-exponent-invalid");
    fires(
        &with_rsa_exponent(&[0x01, 0x00, 0x00]),
        "x509-rsa-exponent-invalid",
    );
    silent(
        &with_rsa_exponent(&[0x01, 0x00, 0x01]),
        "x509-rsa-exponent-invalid",
    );
    silent(&with_rsa_exponent(&[0x03]), "x509-rsa-exponent-invalid");
}

#[test]
fn rsa_exponent_small() {
    fires(&with_rsa_exponent(&[0x03]), "x509-rsa-exponent-small");
    silent(
        &with_rsa_exponent(&[0x01, 0x00, 0x01]),
        "x509-rsa-exponent-small",
    );
    // and from a real key: openssl generates e = 3 on request
    if !have("openssl") {
        return;
    }
    let dir = TempDir::new("x509lint");
    let ok = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ])
        .args(["-pkeyopt", "rsa_keygen_pubexp:3", "-out"])
        .arg(dir.path("k.pem"))
        .status()
        .expect("run openssl")
        .success();
    assert!(ok);
    let ok = Command::new("openssl")
        .args(["req", "-x509", "-new", "-key"])
        .arg(dir.path("k.pem"))
        .args(["-subj", "/CN=svc.example.com", "-days", "30"])
        .args(["-addext", "subjectAltName=DNS:svc.example.com"])
        .args(["-outform", "DER", "-out"])
        .arg(dir.path("c.der"))
        .status()
        .expect("run openssl")
        .success();
    assert!(ok);
    let der = dir.read("c.der");
    fires(&der, "x509-rsa-exponent-small");
    silent(&der, "x509-rsa-exponent-invalid");
}

// ---- revocation and URLs -----------------------------------------------------------------

/// certificatePolicies with the CA/B Forum domain-validated policy OID 2.23.140.1.2.1.
fn cabf_dv_policy() -> CustomExtension {
    let oid = tlv(0x06, &[0x67, 0x81, 0x0c, 0x01, 0x02, 0x01]);
    ext(&[2, 5, 29, 32], false, tlv(0x30, &tlv(0x30, &oid)))
}

/// authorityInfoAccess with one OCSP URI.
fn aia_ocsp(uri: &str) -> CustomExtension {
    let ocsp = tlv(0x06, &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01]);
    let desc = tlv(0x30, &[ocsp, tlv(0x86, uri.as_bytes())].concat());
    ext(&[1, 3, 6, 1, 5, 5, 7, 1, 1], false, tlv(0x30, &desc))
}

#[test]
fn revocation_info_missing() {
    let mut p = leaf();
    p.custom_extensions = vec![cabf_dv_policy()];
    fires(&issued(&p), "x509-revocation-info-missing");
    // with a CRL distribution point, or an OCSP URL, it is fine
    let mut crl = p.clone();
    crl.crl_distribution_points = vec![CrlDistributionPoint {
        uris: vec!["http://crl.example.com/ca.crl".into()],
    }];
    silent(&issued(&crl), "x509-revocation-info-missing");
    let mut ocsp = p.clone();
    ocsp.custom_extensions
        .push(aia_ocsp("http://ocsp.example.com"));
    silent(&issued(&ocsp), "x509-revocation-info-missing");
    // private PKI (no CA/B policy OID) is out of scope
    silent(&issued(&leaf()), "x509-revocation-info-missing");
}

#[test]
fn crl_dp_not_http() {
    let mut p = leaf();
    p.crl_distribution_points = vec![CrlDistributionPoint {
        uris: vec!["ldap://ldap.example.com/cn=CA,dc=example?certificateRevocationList".into()],
    }];
    fires(&issued(&p), "x509-crl-dp-not-http");
    p.crl_distribution_points = vec![CrlDistributionPoint {
        uris: vec!["http://crl.example.com/ca.crl".into()],
    }];
    silent(&issued(&p), "x509-crl-dp-not-http");
}

#[test]
fn aia_not_http() {
    let mut p = leaf();
    p.custom_extensions = vec![aia_ocsp("https://ocsp.example.com")];
    fires(&issued(&p), "x509-aia-not-http");
    p.custom_extensions = vec![aia_ocsp("http://ocsp.example.com")];
    silent(&issued(&p), "x509-aia-not-http");
}

/// Every lint in the catalogue has a positive test above; this keeps that true when a lint is
/// added without one.
#[test]
fn every_lint_has_a_test() {
    let src = include_str!("x509_lints.rs");
    for l in LINTS {
        let quoted = format!("\"{}\"", l.id);
        assert!(
            src.matches(&quoted).count() >= 2,
            "{} needs a positive and a negative test",
            l.id
        );
    }
}
