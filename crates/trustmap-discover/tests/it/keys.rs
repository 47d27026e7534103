//! Private and public keys in every format, generated at test time with openssl, ssh-keygen
//! and puttygen; checked against OpenSSL's own SPKI for the same key.

use crate::support::*;
use trustmap_discover::keys::{parse_der_key, parse_jwk, parse_pem_key};
use trustmap_discover::ssh::{find_public_keys, parse_openssh_private, parse_putty};

#[test]
fn pkcs8_rsa_ec_ed25519_match_openssl_spki() {
    if !have("openssl") {
        return;
    }
    let d = TempDir::new("pkcs8");
    run(
        &d,
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "rsa.pem",
        ],
    );
    run(
        &d,
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-out",
            "ec.pem",
        ],
    );
    run(
        &d,
        "openssl",
        &["genpkey", "-algorithm", "ED25519", "-out", "ed.pem"],
    );
    for (file, alg, bits, curve) in [
        ("rsa.pem", "RSA", 2048, None),
        ("ec.pem", "EC", 384, Some("P-384")),
        ("ed.pem", "Ed25519", 256, None),
    ] {
        let k = pem_key(&d, file);
        assert!(k.private);
        assert_eq!(k.info.algorithm, alg, "{file}");
        assert_eq!(k.info.bits, Some(bits), "{file}");
        assert_eq!(k.info.curve.as_deref(), curve, "{file}");
        assert_eq!(k.info.format.as_deref(), Some("pkcs8"));
        assert_eq!(k.info.encrypted, Some(false));
        assert_identity_is_spki(&k);
        assert_eq!(
            k.info.spki_sha256.unwrap(),
            openssl_spki_sha256(&d, file, None),
            "{file}"
        );
    }
    let rsa = pem_key(&d, "rsa.pem");
    assert_eq!(rsa.info.rsa_exponent, Some(65537));

    // RSASSA-PSS keys keep their restricted algorithm identifier in the SPKI.
    run(
        &d,
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "RSA-PSS",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-pkeyopt",
            "rsa_pss_keygen_md:sha256",
            "-out",
            "pss.pem",
        ],
    );
    let pss = pem_key(&d, "pss.pem");
    assert_eq!(
        (pss.info.algorithm.as_str(), pss.info.bits),
        ("RSASSA-PSS", Some(2048))
    );
    assert_eq!(
        pss.info.spki_sha256.unwrap(),
        openssl_spki_sha256(&d, "pss.pem", None)
    );
}

#[test]
fn pkcs1_sec1_dsa_traditional_forms() {
    if !have("openssl") {
        return;
    }
    let d = TempDir::new("trad");
    run(
        &d,
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:1024",
            "-out",
            "rsa8.pem",
        ],
    );
    run(
        &d,
        "openssl",
        &["rsa", "-in", "rsa8.pem", "-traditional", "-out", "rsa1.pem"],
    );
    run(
        &d,
        "openssl",
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "ec.pem",
        ],
    );
    run(&d, "openssl", &["dsaparam", "-out", "dsap.pem", "1024"]);
    run(&d, "openssl", &["gendsa", "-out", "dsa8.pem", "dsap.pem"]);
    run(
        &d,
        "openssl",
        &["pkey", "-in", "dsa8.pem", "-traditional", "-out", "dsa.pem"],
    );

    let k = pem_key(&d, "rsa1.pem");
    assert_eq!(
        (
            k.info.algorithm.as_str(),
            k.info.bits,
            k.info.format.as_deref()
        ),
        ("RSA", Some(1024), Some("pkcs1"))
    );
    assert_eq!(
        k.info.spki_sha256.clone().unwrap(),
        openssl_spki_sha256(&d, "rsa1.pem", None)
    );
    // The same key as PKCS#8 has the same identity.
    assert_eq!(k.identity, pem_key(&d, "rsa8.pem").identity);

    let k = pem_key(&d, "ec.pem");
    assert_eq!(
        (
            k.info.algorithm.as_str(),
            k.info.curve.as_deref(),
            k.info.format.as_deref()
        ),
        ("EC", Some("P-256"), Some("sec1"))
    );
    assert_eq!(
        k.info.spki_sha256.clone().unwrap(),
        openssl_spki_sha256(&d, "ec.pem", None)
    );

    let k = pem_key(&d, "dsa.pem");
    assert_eq!(
        (
            k.info.algorithm.as_str(),
            k.info.bits,
            k.info.format.as_deref()
        ),
        ("DSA", Some(1024), Some("dsa"))
    );
    let want = openssl_spki_sha256(&d, "dsa.pem", None);
    assert_eq!(k.info.spki_sha256.clone().unwrap(), want);
    // PKCS#8 DSA carries only x: y = g^x mod p is derived.
    let k8 = pem_key(&d, "dsa8.pem");
    assert_eq!(k8.info.format.as_deref(), Some("pkcs8"));
    assert_eq!(k8.info.spki_sha256.unwrap(), want);
}

#[test]
fn encrypted_pkcs8_and_legacy_pem() {
    if !have("openssl") {
        return;
    }
    let d = TempDir::new("enc");
    run(
        &d,
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:1024",
            "-out",
            "rsa.pem",
        ],
    );
    run(
        &d,
        "openssl",
        &[
            "pkcs8",
            "-topk8",
            "-in",
            "rsa.pem",
            "-v2",
            "aes-256-cbc",
            "-v2prf",
            "hmacWithSHA256",
            "-passout",
            "pass:secret",
            "-out",
            "enc.pem",
        ],
    );
    run(
        &d,
        "openssl",
        &[
            "pkcs8",
            "-topk8",
            "-in",
            "rsa.pem",
            "-v1",
            "PBE-SHA1-3DES",
            "-passout",
            "pass:secret",
            "-out",
            "enc1.pem",
        ],
    );
    run(
        &d,
        "openssl",
        &[
            "rsa",
            "-in",
            "rsa.pem",
            "-traditional",
            "-aes128",
            "-passout",
            "pass:secret",
            "-out",
            "legacy.pem",
        ],
    );

    let k = pem_key(&d, "enc.pem");
    assert!(k.private);
    assert_eq!(k.info.format.as_deref(), Some("pkcs8-encrypted"));
    assert_eq!(k.info.encrypted, Some(true));
    assert_eq!(
        k.info.encryption.as_deref(),
        Some("PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC)")
    );
    assert_eq!(k.info.spki_sha256, None);
    let (_, _, der) = first_pem(&d.read("enc.pem"));
    assert_eq!(k.identity, der);

    let k = pem_key(&d, "enc1.pem");
    assert_eq!(
        k.info.encryption.as_deref(),
        Some("pbeWithSHAAnd3-KeyTripleDES-CBC")
    );

    let k = pem_key(&d, "legacy.pem");
    assert_eq!(k.info.algorithm, "RSA");
    assert_eq!(k.info.encrypted, Some(true));
    assert_eq!(
        k.info.encryption.as_deref(),
        Some("AES-128-CBC (OpenSSL legacy)")
    );
    assert_eq!(k.info.spki_sha256, None);
}

#[test]
fn public_keys_and_der_files() {
    if !have("openssl") {
        return;
    }
    let d = TempDir::new("pub");
    run(
        &d,
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "rsa.pem",
        ],
    );
    run(
        &d,
        "openssl",
        &["pkey", "-in", "rsa.pem", "-pubout", "-out", "pub.pem"],
    );
    run(
        &d,
        "openssl",
        &[
            "rsa",
            "-in",
            "rsa.pem",
            "-RSAPublicKey_out",
            "-out",
            "rsapub.pem",
        ],
    );
    let want = openssl_spki_sha256(&d, "rsa.pem", None);
    for file in ["pub.pem", "rsapub.pem"] {
        let k = pem_key(&d, file);
        assert!(!k.private);
        assert_eq!(k.info.encrypted, None);
        assert_eq!(k.info.bits, Some(2048));
        assert_eq!(k.info.spki_sha256.as_deref(), Some(want.as_str()), "{file}");
    }
    assert_eq!(pem_key(&d, "pub.pem").info.format.as_deref(), Some("spki"));
    assert_eq!(
        pem_key(&d, "rsapub.pem").info.format.as_deref(),
        Some("pkcs1")
    );

    // Binary DER of each format, found by content.
    run(
        &d,
        "openssl",
        &[
            "pkcs8", "-topk8", "-nocrypt", "-in", "rsa.pem", "-outform", "DER", "-out", "k8.der",
        ],
    );
    run(
        &d,
        "openssl",
        &[
            "rsa",
            "-in",
            "rsa.pem",
            "-traditional",
            "-outform",
            "DER",
            "-out",
            "k1.der",
        ],
    );
    run(
        &d,
        "openssl",
        &[
            "pkey", "-in", "rsa.pem", "-pubout", "-outform", "DER", "-out", "spki.der",
        ],
    );
    run(
        &d,
        "openssl",
        &[
            "pkcs8", "-topk8", "-in", "rsa.pem", "-outform", "DER", "-passout", "pass:x", "-out",
            "enc.der",
        ],
    );
    run(
        &d,
        "openssl",
        &[
            "ecparam",
            "-name",
            "secp384r1",
            "-genkey",
            "-noout",
            "-outform",
            "DER",
            "-out",
            "ec.der",
        ],
    );
    for (file, format) in [
        ("k8.der", "pkcs8"),
        ("k1.der", "pkcs1"),
        ("spki.der", "spki"),
    ] {
        let k = parse_der_key(&d.read(file)).unwrap_or_else(|| panic!("{file}"));
        assert_eq!(k.info.format.as_deref(), Some(format));
        assert_eq!(k.info.spki_sha256.as_deref(), Some(want.as_str()), "{file}");
    }
    let k = parse_der_key(&d.read("enc.der")).unwrap();
    assert_eq!(k.info.format.as_deref(), Some("pkcs8-encrypted"));
    let k = parse_der_key(&d.read("ec.der")).unwrap();
    assert_eq!(
        (k.info.format.as_deref(), k.info.curve.as_deref()),
        (Some("sec1"), Some("P-384"))
    );

    // A certificate is not a key.
    run(
        &d,
        "openssl",
        &[
            "req", "-x509", "-key", "rsa.pem", "-subj", "/CN=t", "-days", "1", "-outform", "DER",
            "-out", "cert.der",
        ],
    );
    assert!(parse_der_key(&d.read("cert.der")).is_none());
    assert!(parse_pem_key("CERTIFICATE", &d.read("cert.der"), &[]).is_none());
}

#[test]
fn openssh_keys_share_identity_with_their_pem_export() {
    if !have("ssh-keygen") || !have("openssl") {
        return;
    }
    let d = TempDir::new("ssh");
    for (t, bits, alg, kbits, curve) in [
        ("rsa", "2048", "RSA", 2048, None),
        ("ecdsa", "256", "EC", 256, Some("P-256")),
        ("ed25519", "", "Ed25519", 256, None),
    ] {
        let mut args = vec!["-q", "-t", t, "-N", "", "-C", "me@host", "-f", t];
        if !bits.is_empty() {
            args.extend(["-b", bits]);
        }
        run(&d, "ssh-keygen", &args);
        let k = pem_key(&d, t);
        assert_eq!(k.info.format.as_deref(), Some("openssh"), "{t}");
        assert_eq!(
            (
                k.info.algorithm.as_str(),
                k.info.bits,
                k.info.curve.as_deref()
            ),
            (alg, Some(kbits), curve)
        );
        assert_eq!(k.info.encrypted, Some(false));
        assert_eq!(k.info.comment.as_deref(), Some("me@host"));
        assert_identity_is_spki(&k);

        // The .pub line is the same key.
        let pubs = find_public_keys(&d.read(&format!("{t}.pub")));
        assert_eq!(pubs.len(), 1);
        assert_eq!(pubs[0].0, 0);
        let p = pubs[0].1.as_ref().unwrap();
        assert_eq!(p.identity, k.identity);
        assert_eq!(p.info.format.as_deref(), Some("ssh"));
        assert!(!p.private);

        // Exported to PEM (ssh-keygen rewrites the file in place), OpenSSL agrees on the SPKI.
        if t != "ed25519" {
            std::fs::copy(d.path(t), d.path("pem")).unwrap();
            run(
                &d,
                "ssh-keygen",
                &["-q", "-p", "-N", "", "-m", "PEM", "-f", "pem"],
            );
            let pem = pem_key(&d, "pem");
            assert_eq!(pem.identity, k.identity, "{t}");
            assert_eq!(
                k.info.spki_sha256.clone().unwrap(),
                openssl_spki_sha256(&d, "pem", None)
            );
        }
    }

    // Encrypted: algorithm and public key still readable, comment is not.
    run(
        &d,
        "ssh-keygen",
        &[
            "-q", "-t", "ed25519", "-N", "hunter22", "-C", "c", "-f", "enc",
        ],
    );
    let k = pem_key(&d, "enc");
    assert_eq!(k.info.encrypted, Some(true));
    assert_eq!(k.info.encryption.as_deref(), Some("aes256-ctr, bcrypt"));
    assert_eq!(k.info.algorithm, "Ed25519");
    assert_eq!(k.info.comment, None);
    let p = find_public_keys(&d.read("enc.pub")).remove(0).1.unwrap();
    assert_eq!(p.identity, k.identity);
}

#[test]
fn ssh_public_key_lines_in_every_shape() {
    if !have("ssh-keygen") {
        return;
    }
    let d = TempDir::new("sshpub");
    run(
        &d,
        "ssh-keygen",
        &["-q", "-t", "ed25519", "-N", "", "-f", "ed"],
    );
    run(
        &d,
        "ssh-keygen",
        &["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", "rsa"],
    );
    run(
        &d,
        "ssh-keygen",
        &["-q", "-t", "ed25519", "-N", "", "-f", "ca"],
    );
    run(
        &d,
        "ssh-keygen",
        &["-q", "-s", "ca", "-I", "id", "-n", "alice", "rsa.pub"],
    );
    let ed = String::from_utf8(d.read("ed.pub")).unwrap();
    let ed = ed.trim();
    let rsa = String::from_utf8(d.read("rsa.pub")).unwrap();
    let rsa_body: Vec<&str> = rsa.split_whitespace().collect();
    let cert = String::from_utf8(d.read("rsa-cert.pub")).unwrap();
    let rfc4716 = run(&d, "ssh-keygen", &["-e", "-f", "rsa.pub"]);
    let rfc4716 = String::from_utf8(rfc4716).unwrap();

    let text = format!(
        "# authorized_keys\n\
         from=\"10.0.0.0/8,host ssh-rsa x\",no-pty,command=\"ssh-agent -k\" {ed}\n\
         ssh-rsa {} deploy key\n\
         |1|F1E1KeoE/eEWhi10WpGv4OdiO6Y=|3988QV0VE8wmZL7suNrYQLITLCg= {}\n\
         @cert-authority *.example.com {ed}\n\
         @revoked * {}\n\
         {cert}\
         {rfc4716}\
         prose mentions ssh-ed25519 without a key\n",
        rsa_body[1],
        rsa.trim(),
        rsa.trim()
    );
    let found = find_public_keys(text.as_bytes());
    let ok: Vec<_> = found
        .iter()
        .map(|(o, r)| (*o, r.as_ref().unwrap()))
        .collect();
    assert_eq!(
        ok.len(),
        7,
        "{:?}",
        found.iter().map(|f| f.0).collect::<Vec<_>>()
    );
    let ed_id = &ok[0].1.identity;
    let rsa_id = &ok[1].1.identity;
    assert_eq!(ok[0].1.info.algorithm, "Ed25519");
    assert_eq!(ok[1].1.info.algorithm, "RSA");
    assert_eq!(ok[1].1.info.bits, Some(2048));
    assert_eq!(ok[1].1.info.comment.as_deref(), Some("deploy key"));
    assert_eq!(&ok[2].1.identity, rsa_id);
    assert_eq!(&ok[3].1.identity, ed_id);
    assert_eq!(&ok[4].1.identity, rsa_id);
    // The certificate's key is the RSA key it certifies.
    assert_eq!(&ok[5].1.identity, rsa_id);
    assert_eq!(&ok[6].1.identity, rsa_id);
    // Offsets point at the key type (or the BEGIN line).
    for (offset, _) in &ok[..6] {
        let at = &text.as_bytes()[*offset..];
        assert!(
            at.starts_with(b"ssh-"),
            "{}",
            String::from_utf8_lossy(&at[..20])
        );
    }
    assert!(text[ok[6].0..].starts_with("---- BEGIN SSH2 PUBLIC KEY ----"));
}

#[test]
fn putty_keys_v2_v3() {
    if !have("puttygen") || !have("ssh-keygen") {
        return;
    }
    let d = TempDir::new("ppk");
    run(
        &d,
        "ssh-keygen",
        &["-q", "-t", "ed25519", "-N", "", "-C", "pc", "-f", "ed"],
    );
    let want = pem_key(&d, "ed").identity;
    run(&d, "puttygen", &["ed", "-O", "private", "-o", "v3.ppk"]);
    run(
        &d,
        "puttygen",
        &[
            "ed",
            "-O",
            "private",
            "--ppk-param",
            "version=2",
            "-o",
            "v2.ppk",
        ],
    );
    std::fs::write(d.path("pw"), "hunter22\n").unwrap();
    run(
        &d,
        "puttygen",
        &[
            "ed",
            "-O",
            "private",
            "--new-passphrase",
            "pw",
            "-o",
            "enc3.ppk",
        ],
    );
    run(
        &d,
        "puttygen",
        &[
            "ed",
            "-O",
            "private",
            "--ppk-param",
            "version=2",
            "--new-passphrase",
            "pw",
            "-o",
            "enc2.ppk",
        ],
    );
    for (file, enc) in [
        ("v3.ppk", None),
        ("v2.ppk", None),
        ("enc3.ppk", Some("aes256-cbc, Argon2id")),
        ("enc2.ppk", Some("aes256-cbc, SHA-1")),
    ] {
        let k = parse_putty(&d.read(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(k.private);
        assert_eq!(k.info.format.as_deref(), Some("putty"));
        assert_eq!(k.info.algorithm, "Ed25519");
        assert_eq!(k.info.encrypted, Some(enc.is_some()), "{file}");
        assert_eq!(k.info.encryption.as_deref(), enc, "{file}");
        assert_eq!(k.info.comment.as_deref(), Some("pc"));
        assert_eq!(k.identity, want, "{file}");
    }
    run(
        &d,
        "ssh-keygen",
        &["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", "rsa"],
    );
    run(&d, "puttygen", &["rsa", "-O", "private", "-o", "rsa.ppk"]);
    let k = parse_putty(&d.read("rsa.ppk")).unwrap();
    assert_eq!(
        (k.info.algorithm.as_str(), k.info.bits),
        ("RSA", Some(2048))
    );
    assert_eq!(k.identity, pem_key(&d, "rsa").identity);
}

#[test]
fn jwk_public_and_private() {
    let rsa = serde_json::json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "d": "X4cTteJY_gn4FYPsXB8rdXix5vwsg1FLN5E3EaG6RJoVH-HLLKD9M7dx5oo7GURknchnrRweUkC7hT5fJLM0WbFAKNLWY2vv7B6NqXSzUvxT0_YSfqijwp3RTzlBaCxWp4doFk5N2o8Gy_nHNKroADIkJ46pRUohsXywbReAdYaMwFs9tv8d_cPVY3i07a3t8MN6TNwm0dSawm9v47UiCl3Sk5ZiG7xojPLu4sbg1U2jx4IBTNBznbJSzFHK66jT8bgkuqsk0GjskDJk19Z4qwjwbsnn4j2WBii3RL-Us2lGVkY8fkFzme1z0HbIkfz0Y6mqnOYtqc0X4jfcKoAC8Q"
    });
    let k = parse_jwk(&rsa).unwrap();
    assert!(k.private);
    assert_eq!(k.info.encrypted, Some(false));
    assert_eq!(
        (k.info.algorithm.as_str(), k.info.bits, k.info.rsa_exponent),
        ("RSA", Some(2048), Some(65537))
    );
    assert_eq!(k.info.format.as_deref(), Some("jwk"));
    assert_identity_is_spki(&k);

    // An EC JWK has the same identity as the same key in PEM.
    if !have("openssl") {
        return;
    }
    let d = TempDir::new("jwk");
    run(
        &d,
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "ec.pem",
        ],
    );
    let pem = pem_key(&d, "ec.pem");
    let spki = run(
        &d,
        "openssl",
        &["pkey", "-in", "ec.pem", "-pubout", "-outform", "DER"],
    );
    let point = &spki[spki.len() - 65..];
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let jwk = serde_json::json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..])});
    let k = parse_jwk(&jwk).unwrap();
    assert!(!k.private);
    assert_eq!(k.info.encrypted, None);
    assert_eq!(k.info.curve.as_deref(), Some("P-256"));
    assert_eq!(k.identity, pem.identity);
    assert!(parse_jwk(&serde_json::json!({"kty": "EC", "crv": "P-256", "x": "AA"})).is_none());
    assert!(parse_jwk(&serde_json::json!({"hello": "world"})).is_none());
}

#[test]
fn truncated_and_garbage_inputs_are_errors() {
    if !have("ssh-keygen") || !have("openssl") {
        return;
    }
    let d = TempDir::new("trunc");
    run(
        &d,
        "ssh-keygen",
        &["-q", "-t", "ecdsa", "-N", "pw12345", "-f", "ec"],
    );
    run(
        &d,
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:1024",
            "-outform",
            "DER",
            "-out",
            "rsa.der",
        ],
    );
    let (_, _, body) = first_pem(&d.read("ec"));
    for len in 0..body.len() {
        assert!(
            parse_openssh_private(&body[..len]).is_err(),
            "openssh truncated at {len}"
        );
    }
    let der = d.read("rsa.der");
    for len in 0..der.len() {
        assert!(
            parse_der_key(&der[..len]).is_none(),
            "der truncated at {len}"
        );
        for label in [
            "PRIVATE KEY",
            "RSA PRIVATE KEY",
            "EC PRIVATE KEY",
            "PUBLIC KEY",
            "ENCRYPTED PRIVATE KEY",
        ] {
            assert!(parse_pem_key(label, &der[..len], &[]).unwrap().is_err());
        }
    }
    if have("puttygen") {
        run(
            &d,
            "ssh-keygen",
            &["-q", "-t", "rsa", "-b", "1024", "-N", "", "-f", "plain"],
        );
        run(&d, "puttygen", &["plain", "-O", "private", "-o", "k.ppk"]);
    }
    let ppk = std::fs::read(d.path("k.ppk")).unwrap_or_default();
    for len in 0..ppk.len() {
        // Truncation inside the private lines still leaves a readable public key; never a panic.
        let _ = parse_putty(&ppk[..len]);
    }
    let pubs = d.read("ec.pub");
    for len in 0..pubs.len() {
        let _ = find_public_keys(&pubs[..len]);
    }
}

/// SSH wire `string`.
fn ssh_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend((s.len() as u32).to_be_bytes());
    out.extend(s);
}

#[test]
fn security_key_public_keys_share_identity_with_the_plain_key() {
    // sk- keys need a FIDO token to generate, so their public lines are assembled here from a
    // plain key's public half: the identity is the underlying Ed25519/P-256 key.
    if !have("ssh-keygen") {
        return;
    }
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let d = TempDir::new("sk");
    run(
        &d,
        "ssh-keygen",
        &["-q", "-t", "ed25519", "-N", "", "-f", "ed"],
    );
    run(
        &d,
        "ssh-keygen",
        &["-q", "-t", "ecdsa", "-b", "256", "-N", "", "-f", "ec"],
    );
    let plain = |file: &str| {
        let text = d.read(file);
        let key = find_public_keys(&text).remove(0).1.unwrap();
        let line = String::from_utf8(text).unwrap();
        let blob = b64.decode(line.split_whitespace().nth(1).unwrap()).unwrap();
        (key, blob)
    };
    let (ed, ed_blob) = plain("ed.pub");
    let (ec, ec_blob) = plain("ec.pub");

    // ssh-ed25519 blob: string type, string pk(32)
    let mut sk = Vec::new();
    ssh_string(&mut sk, b"sk-ssh-ed25519@openssh.com");
    sk.extend(&ed_blob[4 + 11..]);
    ssh_string(&mut sk, b"ssh:");
    // ecdsa blob: string type, string curve, string point
    let mut sk_ec = Vec::new();
    ssh_string(&mut sk_ec, b"sk-ecdsa-sha2-nistp256@openssh.com");
    sk_ec.extend(&ec_blob[4 + 19..]);
    ssh_string(&mut sk_ec, b"ssh:");
    let text = format!(
        "sk-ssh-ed25519@openssh.com {} yubikey\nno-touch-required sk-ecdsa-sha2-nistp256@openssh.com {}\n",
        b64.encode(&sk),
        b64.encode(&sk_ec)
    );
    let found = find_public_keys(text.as_bytes());
    assert_eq!(found.len(), 2);
    let k = found[0].1.as_ref().unwrap();
    assert_eq!(k.identity, ed.identity);
    assert_eq!(k.info.algorithm, "Ed25519");
    assert_eq!(k.info.comment.as_deref(), Some("yubikey"));
    let k = found[1].1.as_ref().unwrap();
    assert_eq!(k.identity, ec.identity);
    assert_eq!(k.info.curve.as_deref(), Some("P-256"));
    assert!(text[found[1].0..].starts_with("sk-ecdsa-"));
}

#[test]
fn openssh_key_with_a_nonstandard_private_section_still_yields_its_public_identity() {
    if !have("ssh-keygen") {
        return;
    }
    let d = TempDir::new("ssh-lenient");
    run(
        &d,
        "ssh-keygen",
        &["-q", "-t", "ecdsa", "-N", "", "-f", "k"],
    );
    let (_, _, body) = first_pem(&d.read("k"));
    let good = parse_openssh_private(&body).unwrap();
    // Break the private section's check padding (1, 2, 3, ...), which ssh-key verifies and
    // OpenSSH tolerates in files written by other libraries.
    let mut bad = body.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x55;
    let k = parse_openssh_private(&bad).expect("falls back to the clear header");
    assert_eq!(k.info.spki_sha256, good.info.spki_sha256);
    assert_eq!(
        (k.info.algorithm.as_str(), k.info.curve.as_deref()),
        ("EC", Some("P-256"))
    );
    assert_eq!((k.private, k.info.encrypted), (true, Some(false)));
    assert_eq!(k.info.format.as_deref(), Some("openssh"));
}

#[test]
fn ec_keys_without_their_public_point_still_get_their_spki() {
    if !have("openssl") {
        return;
    }
    let d = TempDir::new("ec-nopub");
    for curve in ["prime256v1", "secp384r1", "secp521r1", "secp256k1"] {
        run(
            &d,
            "openssl",
            &[
                "ecparam", "-name", curve, "-genkey", "-noout", "-out", "full.pem",
            ],
        );
        let want = openssl_spki_sha256(&d, "full.pem", None);
        run(
            &d,
            "openssl",
            &["ec", "-in", "full.pem", "-no_public", "-out", "sec1.pem"],
        );
        run(
            &d,
            "openssl",
            &[
                "pkcs8", "-topk8", "-nocrypt", "-in", "sec1.pem", "-out", "p8.pem",
            ],
        );
        for (file, format) in [("sec1.pem", "sec1"), ("p8.pem", "pkcs8")] {
            let k = pem_key(&d, file);
            assert_eq!(k.info.format.as_deref(), Some(format), "{curve} {file}");
            assert_eq!(
                k.info.spki_sha256.as_deref(),
                Some(want.as_str()),
                "{curve} {file}"
            );
        }
    }
}

#[test]
fn an_encrypted_pkcs8_key_opens_with_its_password_within_the_kdf_budget() {
    use trustmap_discover::keystore::{MAX_KDF_WORK, open_encrypted_key};
    use trustmap_discover::unlock::open_sealed;
    let d = TempDir::new("pkcs8-open");
    let pw = "fake-test-password-123";
    let pass = format!("pass:{pw}");
    run(
        &d,
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "plain.pem",
        ],
    );
    for (out, iter) in [("enc.pem", "2048"), ("slow.pem", "200000")] {
        run(
            &d,
            "openssl",
            &[
                "pkcs8",
                "-topk8",
                "-v2",
                "aes-256-cbc",
                "-iter",
                iter,
                "-in",
                "plain.pem",
                "-out",
                out,
                "-passout",
                &pass,
            ],
        );
    }
    let sealed = pem_key(&d, "enc.pem");
    assert_eq!(sealed.info.algorithm, "unknown");
    assert_eq!(sealed.info.spki_sha256, None);
    let (_, _, der) = first_pem(&d.read("enc.pem"));

    let (info, i) = open_sealed(&der, &sealed.info, None, &["wrong", pw]).expect("opens");
    assert_eq!(i, 1);
    assert_eq!(info.algorithm, "EC");
    assert_eq!(info.bits, Some(256));
    assert_eq!(info.curve.as_deref(), Some("P-256"));
    assert_eq!(
        info.spki_sha256,
        Some(openssl_spki_sha256(&d, "plain.pem", None))
    );
    assert_eq!(info.format.as_deref(), Some("pkcs8-encrypted"));
    assert_eq!(info.encrypted, Some(true));
    assert_eq!(info.encryption, sealed.info.encryption);
    assert!(open_sealed(&der, &sealed.info, None, &["wrong", "also-wrong"]).is_none());

    // 200,000 PBKDF2 iterations a try: MAX_KDF_WORK pays for exactly 20 tries of this key.
    assert_eq!(MAX_KDF_WORK / 200_000, 20);
    let (_, _, slow) = first_pem(&d.read("slow.pem"));
    let wrong: Vec<String> = (0..20).map(|i| format!("wrong-{i}")).collect();
    let mut tries: Vec<&str> = wrong.iter().map(String::as_str).collect();
    tries.push(pw);
    assert!(
        open_encrypted_key(&slow, &tries).is_none(),
        "the 21st try is beyond the budget"
    );
    assert_eq!(
        open_encrypted_key(&slow, &tries[1..]).map(|o| o.1),
        Some(19)
    );
}

#[test]
fn a_legacy_encrypted_pem_key_opens_with_its_password_for_each_cipher() {
    use trustmap_discover::unlock::open_sealed;
    let d = TempDir::new("legacy-open");
    let pw = "fake-legacy-password-123";
    let pass = format!("pass:{pw}");
    run(&d, "openssl", &["genrsa", "-out", "rsa.plain", "2048"]);
    run(
        &d,
        "openssl",
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "ec.plain",
        ],
    );
    // (source, openssl command, cipher flag, label, algorithm, bits)
    for (src, cmd, cipher, dek, alg, bits) in [
        ("rsa.plain", "rsa", "-aes128", "AES-128-CBC", "RSA", 2048),
        ("rsa.plain", "rsa", "-des3", "DES-EDE3-CBC", "RSA", 2048),
        ("ec.plain", "ec", "-aes256", "AES-256-CBC", "EC", 256),
        ("ec.plain", "ec", "-aes192", "AES-192-CBC", "EC", 256),
    ] {
        let out = format!("{cmd}{cipher}.pem");
        let mut args = vec![cmd, "-in", src, cipher, "-passout", &pass, "-out", &out];
        if cmd == "rsa" {
            args.push("-traditional");
        }
        run(&d, "openssl", &args);
        let (label, headers, der) = first_pem(&d.read(&out));
        assert!(
            headers
                .iter()
                .any(|(k, v)| k == "DEK-Info" && v.starts_with(dek)),
            "{headers:?}"
        );
        let sealed = pem_key(&d, &out);
        assert_eq!(
            sealed.info.spki_sha256, None,
            "{out}: sealed without the password"
        );
        let dek_info = &headers.iter().find(|(k, _)| k == "DEK-Info").unwrap().1;
        let legacy = Some((label.as_str(), dek_info.as_str()));
        let (info, i) = open_sealed(&der, &sealed.info, legacy, &["wrong", "also wrong", pw])
            .unwrap_or_else(|| panic!("{out} opens"));
        assert_eq!(i, 2, "{out}");
        assert_eq!(info.algorithm, alg, "{out}");
        assert_eq!(info.bits, Some(bits), "{out}");
        assert_eq!(
            info.spki_sha256,
            Some(openssl_spki_sha256(&d, src, None)),
            "{out}: the key inside is the one encrypted"
        );
        assert_eq!(info.encrypted, Some(true));
        assert_eq!(info.encryption, sealed.info.encryption);
        assert!(
            open_sealed(&der, &sealed.info, legacy, &["wrong"]).is_none(),
            "{out}"
        );
    }
}
