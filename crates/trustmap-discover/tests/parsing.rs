//! Detection and parsing as real estates break it (issue 13): self-signed certificates whose
//! signature cannot be verified, validity times OpenSSL reads but RFC 5280 forbids,
//! distinguished names with separators inside values. Fixtures are generated at test time
//! (rcgen, openssl) and compared with what openssl says.

mod support;

use support::{TempDir, have, run};
use trustmap_discover::der;
use trustmap_discover::keys::encode_tlv;
use trustmap_discover::x509::parse_certificate;

/// A self-signed ECDSA P-256 certificate from rcgen, its key as PKCS#8.
fn rcgen_self_signed(cn: &str) -> (Vec<u8>, Vec<u8>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::new(vec!["svc.example.test".into()]).unwrap();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, cn.to_string());
    p.not_before = rcgen::date_time_ymd(2026, 1, 1);
    p.not_after = rcgen::date_time_ymd(2036, 1, 1);
    let cert = p.self_signed(&key).unwrap();
    (cert.der().to_vec(), key.serialize_der())
}

/// `der` with its notAfter replaced by a time of `tag` holding `text`, re-signed with
/// `pkcs8` (ECDSA P-256, SHA-256) so the signature is valid over the bytes as written.
fn with_not_after(der_bytes: &[u8], tag: u8, text: &str, pkcs8: &[u8]) -> Vec<u8> {
    let (cert, _) = der::read(der_bytes).unwrap();
    let mut top = der::children(cert.content);
    let (tbs, alg) = (top.next().unwrap(), top.next().unwrap());
    let fields: Vec<_> = der::children(tbs.content).collect();
    assert_eq!(fields[0].tag, 0xa0, "a v3 certificate");
    let mut tbs_content = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        if i == 4 {
            let not_before = der::children(f.content).next().unwrap();
            let mut v = not_before.raw.to_vec();
            v.extend(encode_tlv(tag, text.as_bytes()));
            tbs_content.extend(encode_tlv(0x30, &v));
        } else {
            tbs_content.extend_from_slice(f.raw);
        }
    }
    let new_tbs = encode_tlv(0x30, &tbs_content);
    let rng = ring::rand::SystemRandom::new();
    let pair = ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        pkcs8,
        &rng,
    )
    .unwrap();
    let sig = pair.sign(&rng, &new_tbs).unwrap();
    let mut bits = vec![0u8];
    bits.extend_from_slice(sig.as_ref());
    let mut content = new_tbs;
    content.extend_from_slice(alg.raw);
    content.extend(encode_tlv(0x03, &bits));
    encode_tlv(0x30, &content)
}

/// openssl's reading of a DER certificate's notAfter, as RFC 3339 UTC (fractions dropped),
/// or `None` when openssl prints "Bad time value".
fn openssl_not_after(dir: &TempDir, der_bytes: &[u8]) -> Option<String> {
    std::fs::write(dir.path("c.der"), der_bytes).unwrap();
    let out = run(
        dir,
        "openssl",
        &[
            "x509", "-inform", "DER", "-in", "c.der", "-noout", "-enddate",
        ],
    );
    let text = String::from_utf8(out).unwrap();
    let v = text.trim().strip_prefix("notAfter=").unwrap();
    if v == "Bad time value" {
        return None;
    }
    // "Nov 30 05:05:27.5 2036 GMT"
    let parts: Vec<&str> = v.split_whitespace().collect();
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == parts[0])
    .unwrap()
        + 1;
    let hms = parts[2].split('.').next().unwrap();
    Some(format!(
        "{}-{month:02}-{:02}T{hms}Z",
        parts[3],
        parts[1].parse::<u32>().unwrap()
    ))
}

#[test]
fn lenient_validity_times_are_read_as_openssl_reads_them_and_linted() {
    if !have("openssl") {
        return;
    }
    let dir = TempDir::new("lenient-time");
    let (der_bytes, pkcs8) = rcgen_self_signed("lenient");
    // (tag, encoding, the instant openssl prints; None where openssl says "Bad time value"
    // but still reads the certificate, and trustmap reads the time as UTC).
    let cases: &[(u8, &str, &str)] = &[
        (0x18, "20361130050527", "2036-11-30T05:05:27Z"),
        (0x18, "203611300505Z", "2036-11-30T05:05:00Z"),
        (0x17, "3611300505Z", "2036-11-30T05:05:00Z"),
        (0x18, "20361130050527.5Z", "2036-11-30T05:05:27Z"),
        (0x17, "361130050527+0100", "2036-11-30T04:05:27Z"),
        (0x18, "20361130050527-0230", "2036-11-30T07:35:27Z"),
        (0x17, "361130050527", "2036-11-30T05:05:27Z"),
        // Conformant but after 2049: GeneralizedTime is right, and nothing to lint.
        (0x18, "20610101000000Z", "2061-01-01T00:00:00Z"),
    ];
    for &(tag, text, want) in cases {
        let patched = with_not_after(&der_bytes, tag, text, &pkcs8);
        let info = parse_certificate(&patched).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(info.not_after.to_string(), want, "{text}");
        match openssl_not_after(&dir, &patched) {
            Some(o) => assert_eq!(info.not_after.to_string(), o, "{text} vs openssl"),
            None => assert!(
                !text.ends_with('Z'),
                "openssl rejected only zone-less {text}"
            ),
        }
        let conformant = text.len() == 15 && text.ends_with('Z');
        assert_eq!(
            info.lints.iter().any(|l| l == "x509-time-format-invalid"),
            !conformant,
            "{text}: {:?}",
            info.lints
        );
        // The signature is checked over the bytes as found, not a normalised copy.
        assert_eq!(info.signature_verified, Some(true), "{text}");
        assert!(info.self_signed, "{text}");
        assert_eq!(info.subject_cn.as_deref(), Some("lenient"));
    }
    // A time no software reads is still an error, not a made-up date.
    let garbage = with_not_after(&der_bytes, 0x18, "2036113", &pkcs8);
    assert!(parse_certificate(&garbage).is_err());
}

#[test]
fn lenient_certificates_still_chain_by_signature() {
    // An issuer with a zone-less notAfter still verifies what it issued (and the other way).
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "Lenient CA");
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = p.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(p, &ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["leaf.example.test".into()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let ca_lenient = with_not_after(ca.der(), 0x18, "20401231235959", &ca_key.serialize_der());
    assert!(trustmap_discover::x509::verify_issued_by(
        leaf.der(),
        &ca_lenient
    ));
    let leaf_lenient = with_not_after(leaf.der(), 0x17, "4012312359Z", &ca_key.serialize_der());
    assert!(trustmap_discover::x509::verify_issued_by(
        &leaf_lenient,
        ca.der()
    ));
    assert!(trustmap_discover::x509::names(&leaf_lenient).is_some());
}

#[test]
fn self_signed_does_not_depend_on_a_verifiable_signature() {
    if !have("openssl") {
        return;
    }
    let dir = TempDir::new("self-signed");
    // MD5 with RSA and DSA: algorithms the verifier does not support.
    run(
        &dir,
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-md5",
            "-nodes",
            "-keyout",
            "m.key",
            "-out",
            "m.pem",
            "-subj",
            "/CN=md5 leaf",
            "-days",
            "30",
        ],
    );
    run(
        &dir,
        "openssl",
        &[
            "genpkey",
            "-genparam",
            "-algorithm",
            "DSA",
            "-pkeyopt",
            "dsa_paramgen_bits:1024",
            "-out",
            "dsap.pem",
        ],
    );
    run(
        &dir,
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "dsa:dsap.pem",
            "-nodes",
            "-keyout",
            "d.key",
            "-out",
            "d.pem",
            "-subj",
            "/CN=dsa leaf",
            "-days",
            "30",
        ],
    );
    for (file, alg) in [
        ("m.pem", "md5WithRSAEncryption"),
        ("d.pem", "dsa-with-sha256"),
    ] {
        let (_, _, der_bytes) = support::first_pem(&dir.read(file));
        let info = parse_certificate(&der_bytes).unwrap();
        assert_eq!(info.signature_algorithm, alg);
        assert!(info.self_signed, "{file}: issuer = subject, AKI = SKI");
        assert_eq!(info.signature_verified, None, "{file}: not verifiable here");
    }
    // A verifiable one says so.
    let (der_bytes, _) = rcgen_self_signed("ecdsa leaf");
    let info = parse_certificate(&der_bytes).unwrap();
    assert!(info.self_signed);
    assert_eq!(info.signature_verified, Some(true));
}

#[test]
fn same_name_signed_by_another_key_is_self_issued_not_self_signed() {
    let name = "Same Name";
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(rcgen::DnType::CommonName, name);
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    p.use_authority_key_identifier_extension = false;
    let issuer = rcgen::Issuer::new(p.clone(), &ca_key);
    // A re-keyed certificate of the same name, signed by the old key; no key identifiers,
    // so only the signature tells.
    let new_key = rcgen::KeyPair::generate().unwrap();
    p.is_ca = rcgen::IsCa::NoCa; // rcgen writes a subject key identifier only for CAs
    let rekeyed = p.signed_by(&new_key, &issuer).unwrap();
    let info = parse_certificate(rekeyed.der()).unwrap();
    assert_eq!(info.subject, info.issuer);
    assert_eq!((&info.aki, &info.ski), (&None, &None));
    assert_eq!(info.signature_verified, Some(false), "{info:?}");
    assert!(!info.self_signed);
}

#[test]
fn distinguished_names_escape_separators_inside_values_as_rfc_4514_says() {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(rcgen::DnType::CountryName, "TW");
    p.distinguished_name.push(
        rcgen::DnType::OrganizationName,
        "Chunghwa Telecom Co., Ltd.",
    );
    p.distinguished_name.push(
        rcgen::DnType::OrganizationalUnitName,
        " #1 + \"best\" <ca>;\\ ",
    );
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "ePKI Root");
    let cert = p.self_signed(&key).unwrap();
    let info = parse_certificate(cert.der()).unwrap();
    assert_eq!(
        info.subject,
        // rcgen's default name already holds a CN, which keeps its place in front.
        r#"CN=ePKI Root, C=TW, O=Chunghwa Telecom Co.\, Ltd., OU=\ #1 \+ \"best\" \<ca\>\;\\\ "#
    );
    assert_eq!(info.issuer, info.subject);
    if have("openssl") {
        // openssl's RFC 2253 form (reversed order, "," between RDNs) escapes values alike.
        let dir = TempDir::new("dn");
        std::fs::write(dir.path("c.der"), cert.der()).unwrap();
        let out = run(
            &dir,
            "openssl",
            &[
                "x509", "-inform", "DER", "-in", "c.der", "-noout", "-subject", "-nameopt",
                "RFC2253",
            ],
        );
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains(r"O=Chunghwa Telecom Co.\, Ltd."),
            "openssl: {out}"
        );
    }
}
