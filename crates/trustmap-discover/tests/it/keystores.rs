//! Keystores made at test time with keytool and openssl: JKS, JCEKS and PKCS#12, opened with a
//! default password, locked with a random one, truncated at every length.

use crate::support::*;
use trustmap_discover::keystore::{ParsedKeystore, looks_like_pkcs12, parse_jks, parse_pkcs12};

fn keytool(d: &TempDir, args: &[&str]) {
    let mut all = args.to_vec();
    all.extend(["-noprompt"]);
    run(d, "keytool", &all);
}

fn genkeypair(d: &TempDir, store: &str, storetype: &str, pass: &str, alias: &str, alg: &[&str]) {
    let mut args = vec![
        "-genkeypair",
        "-alias",
        alias,
        "-dname",
        "CN=trustmap test",
        "-validity",
        "30",
        "-storetype",
        storetype,
        "-keystore",
        store,
        "-storepass",
        pass,
        "-keypass",
        pass,
    ];
    args.extend(alg);
    keytool(d, &args);
}

/// A CA certificate (PEM, "ca.pem") and its key made with openssl.
fn make_ca(d: &TempDir) {
    run(
        d,
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-subj",
            "/CN=Test CA",
            "-days",
            "30",
            "-out",
            "ca.pem",
        ],
    );
}

fn entry<'a>(
    ks: &'a ParsedKeystore,
    alias: &str,
) -> &'a trustmap_discover::keystore::KeystoreEntry {
    ks.entries
        .iter()
        .find(|e| e.alias == alias)
        .unwrap_or_else(|| panic!("no entry {alias} in {:?}", ks.info.aliases))
}

fn cert_spki_sha256(d: &TempDir, cert_der: &[u8]) -> String {
    std::fs::write(d.path("c.der"), cert_der).unwrap();
    let pem = run(
        d,
        "openssl",
        &[
            "x509", "-inform", "DER", "-in", "c.der", "-pubkey", "-noout",
        ],
    );
    std::fs::write(d.path("c.pub"), pem).unwrap();
    let der = run(
        d,
        "openssl",
        &["pkey", "-pubin", "-in", "c.pub", "-outform", "DER"],
    );
    trustmap_core::sha256_hex(&der)
}

#[test]
fn jks_with_changeit_opens_and_decrypts_keys() {
    if !have("keytool") || !have("openssl") {
        return;
    }
    let d = TempDir::new("jks");
    make_ca(&d);
    genkeypair(
        &d,
        "s.jks",
        "JKS",
        "changeit",
        "server",
        &["-keyalg", "RSA", "-keysize", "2048"],
    );
    genkeypair(
        &d,
        "s.jks",
        "JKS",
        "changeit",
        "ecserver",
        &["-keyalg", "EC", "-groupname", "secp384r1"],
    );
    keytool(
        &d,
        &[
            "-importcert",
            "-alias",
            "myca",
            "-file",
            "ca.pem",
            "-storetype",
            "JKS",
            "-keystore",
            "s.jks",
            "-storepass",
            "changeit",
        ],
    );
    let data = d.read("s.jks");
    assert!(!looks_like_pkcs12(&data));
    let ks = parse_jks(&data).unwrap();
    assert_eq!(ks.info.format, "jks");
    assert_eq!(ks.info.opened_with.as_deref(), Some("changeit"));
    assert!(!ks.info.locked);
    assert_eq!(ks.info.entries, 3);
    let mut aliases = ks.info.aliases.clone();
    aliases.sort();
    assert_eq!(aliases, ["ecserver", "myca", "server"]);

    let server = entry(&ks, "server");
    let key = server.key.as_ref().unwrap();
    assert_eq!(
        (key.info.algorithm.as_str(), key.info.bits),
        ("RSA", Some(2048))
    );
    assert_eq!(key.info.format.as_deref(), Some("jks"));
    assert_eq!(key.info.encrypted, Some(true));
    assert_eq!(server.certificates.len(), 1);
    // The decrypted key's public half is the certificate's.
    assert_eq!(
        key.info.spki_sha256.clone().unwrap(),
        cert_spki_sha256(&d, &server.certificates[0])
    );

    let ec = entry(&ks, "ecserver").key.as_ref().unwrap();
    assert_eq!(
        (ec.info.algorithm.as_str(), ec.info.curve.as_deref()),
        ("EC", Some("P-384"))
    );
    assert!(ec.info.spki_sha256.is_some());

    let ca = entry(&ks, "myca");
    assert!(ca.key.is_none());
    assert_eq!(ca.certificates.len(), 1);
}

#[test]
fn jks_with_unknown_password_is_locked_but_listed() {
    if !have("keytool") || !have("openssl") {
        return;
    }
    let d = TempDir::new("jkslocked");
    make_ca(&d);
    let pw = random_password();
    genkeypair(
        &d,
        "s.jks",
        "JKS",
        &pw,
        "app",
        &["-keyalg", "RSA", "-keysize", "2048"],
    );
    keytool(
        &d,
        &[
            "-importcert",
            "-alias",
            "root",
            "-file",
            "ca.pem",
            "-storetype",
            "JKS",
            "-keystore",
            "s.jks",
            "-storepass",
            &pw,
        ],
    );
    let ks = parse_jks(&d.read("s.jks")).unwrap();
    assert!(ks.info.locked);
    assert_eq!(ks.info.opened_with, None);
    assert_eq!(ks.info.entries, 2);
    let app = entry(&ks, "app");
    assert_eq!(app.certificates.len(), 1);
    // The key is described by its certificate's public key.
    let key = app.key.as_ref().unwrap();
    assert_eq!(key.info.algorithm, "RSA");
    assert_eq!(key.info.encrypted, Some(true));
    assert_eq!(
        key.info.spki_sha256.clone().unwrap(),
        cert_spki_sha256(&d, &app.certificates[0])
    );
    assert_eq!(entry(&ks, "root").certificates.len(), 1);
}

#[test]
fn jceks_with_secret_keys() {
    if !have("keytool") {
        return;
    }
    let d = TempDir::new("jceks");
    genkeypair(
        &d,
        "s.jceks",
        "JCEKS",
        "changeit",
        "signer",
        &["-keyalg", "EC", "-groupname", "secp256r1"],
    );
    keytool(
        &d,
        &[
            "-genseckey",
            "-alias",
            "aeskey",
            "-keyalg",
            "AES",
            "-keysize",
            "256",
            "-storetype",
            "JCEKS",
            "-keystore",
            "s.jceks",
            "-storepass",
            "changeit",
            "-keypass",
            "changeit",
        ],
    );
    keytool(
        &d,
        &[
            "-genseckey",
            "-alias",
            "mac",
            "-keyalg",
            "HmacSHA256",
            "-keysize",
            "256",
            "-storetype",
            "JCEKS",
            "-keystore",
            "s.jceks",
            "-storepass",
            "changeit",
            "-keypass",
            "changeit",
        ],
    );
    let ks = parse_jks(&d.read("s.jceks")).unwrap();
    assert_eq!(ks.info.format, "jceks");
    assert_eq!(ks.info.opened_with.as_deref(), Some("changeit"));
    assert_eq!(ks.info.entries, 3);
    assert_eq!(entry(&ks, "aeskey").secret_key.as_deref(), Some("AES"));
    assert_eq!(entry(&ks, "mac").secret_key.as_deref(), Some("HmacSHA256"));
    let key = entry(&ks, "signer").key.as_ref().unwrap();
    assert_eq!(
        (key.info.algorithm.as_str(), key.info.curve.as_deref()),
        ("EC", Some("P-256"))
    );
    assert_eq!(key.info.format.as_deref(), Some("jceks"));
    assert!(key.info.spki_sha256.is_some());

    // Locked JCEKS: secret entries listed, their algorithm unknown.
    let pw = random_password();
    keytool(
        &d,
        &[
            "-genseckey",
            "-alias",
            "k",
            "-keyalg",
            "AES",
            "-keysize",
            "128",
            "-storetype",
            "JCEKS",
            "-keystore",
            "l.jceks",
            "-storepass",
            &pw,
            "-keypass",
            &pw,
        ],
    );
    let ks = parse_jks(&d.read("l.jceks")).unwrap();
    assert!(ks.info.locked);
    assert_eq!(entry(&ks, "k").secret_key.as_deref(), Some("unknown"));
}

#[test]
fn pkcs12_from_keytool() {
    if !have("keytool") {
        return;
    }
    let d = TempDir::new("p12kt");
    genkeypair(
        &d,
        "s.p12",
        "PKCS12",
        "changeit",
        "web",
        &["-keyalg", "RSA", "-keysize", "3072"],
    );
    keytool(
        &d,
        &[
            "-genseckey",
            "-alias",
            "sym",
            "-keyalg",
            "AES",
            "-keysize",
            "128",
            "-storetype",
            "PKCS12",
            "-keystore",
            "s.p12",
            "-storepass",
            "changeit",
        ],
    );
    let data = d.read("s.p12");
    assert!(looks_like_pkcs12(&data));
    let ks = parse_pkcs12(&data).unwrap();
    assert_eq!(ks.info.format, "pkcs12");
    assert_eq!(ks.info.opened_with.as_deref(), Some("changeit"));
    let web = entry(&ks, "web");
    let key = web.key.as_ref().unwrap();
    assert_eq!(
        (key.info.algorithm.as_str(), key.info.bits),
        ("RSA", Some(3072))
    );
    assert_eq!(key.info.format.as_deref(), Some("pkcs12"));
    assert_eq!(web.certificates.len(), 1);
    assert_eq!(entry(&ks, "sym").secret_key.as_deref(), Some("AES"));
    assert!(
        ks.info
            .encryption
            .as_deref()
            .unwrap()
            .contains("PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC)")
    );
}

#[test]
fn pkcs12_from_openssl_modern_legacy_empty_and_locked() {
    if !have("openssl") {
        return;
    }
    let d = TempDir::new("p12ossl");
    make_ca(&d);
    run(
        &d,
        "openssl",
        &[
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-subj", "/CN=leaf",
            "-out", "leaf.csr",
        ],
    );
    run(
        &d,
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "30",
            "-out",
            "leaf.pem",
        ],
    );
    let want = openssl_spki_sha256(&d, "leaf.key", None);
    let export = |out: &str, pass: &str, extra: &[&str]| {
        let passout = format!("pass:{pass}");
        let mut args = vec![
            "pkcs12",
            "-export",
            "-inkey",
            "leaf.key",
            "-in",
            "leaf.pem",
            "-certfile",
            "ca.pem",
            "-name",
            "web",
            "-passout",
            &passout,
            "-out",
            out,
        ];
        args.extend(extra);
        run(&d, "openssl", &args);
    };
    export("modern.p12", "changeit", &[]);
    export(
        "tdes.p12",
        "password",
        &[
            "-keypbe",
            "PBE-SHA1-3DES",
            "-certpbe",
            "PBE-SHA1-3DES",
            "-macalg",
            "sha1",
        ],
    );
    export("empty.p12", "", &[]);
    let pw = random_password();
    export("locked.p12", &pw, &[]);
    export("plaincerts.p12", &pw, &["-certpbe", "NONE"]);

    let ks = parse_pkcs12(&d.read("modern.p12")).unwrap();
    assert_eq!(ks.info.opened_with.as_deref(), Some("changeit"));
    assert_eq!(
        ks.info.encryption.as_deref(),
        Some("PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC)")
    );
    assert_eq!(ks.info.aliases, ["web"]);
    let web = entry(&ks, "web");
    assert_eq!(web.certificates.len(), 2, "leaf and CA");
    let key = web.key.as_ref().unwrap();
    assert_eq!(key.info.spki_sha256.as_deref(), Some(want.as_str()));
    assert_eq!(key.info.format.as_deref(), Some("pkcs12"));
    assert_eq!(key.info.encrypted, Some(true));

    let ks = parse_pkcs12(&d.read("tdes.p12")).unwrap();
    assert_eq!(ks.info.opened_with.as_deref(), Some("password"));
    assert_eq!(
        ks.info.encryption.as_deref(),
        Some("pbeWithSHAAnd3-KeyTripleDES-CBC")
    );
    assert_eq!(
        entry(&ks, "web")
            .key
            .as_ref()
            .unwrap()
            .info
            .spki_sha256
            .as_deref(),
        Some(want.as_str())
    );

    let ks = parse_pkcs12(&d.read("empty.p12")).unwrap();
    assert_eq!(ks.info.opened_with.as_deref(), Some(""));

    let ks = parse_pkcs12(&d.read("locked.p12")).unwrap();
    assert!(ks.info.locked);
    assert_eq!(ks.info.opened_with, None);
    // The shrouded key bag sits in a plain part: its name is readable, the key is not.
    let web = entry(&ks, "web");
    let key = web.key.as_ref().unwrap();
    assert_eq!(key.info.encrypted, Some(true));
    assert_eq!(key.info.spki_sha256, None);
    assert!(web.certificates.is_empty());

    // Certificates outside any encrypted part are listed even when locked; the key is then
    // described by its certificate.
    let ks = parse_pkcs12(&d.read("plaincerts.p12")).unwrap();
    assert!(ks.info.locked);
    let web = entry(&ks, "web");
    assert_eq!(web.certificates.len(), 2);
    assert_eq!(
        web.key.as_ref().unwrap().info.spki_sha256.as_deref(),
        Some(want.as_str())
    );
    assert_eq!(web.key.as_ref().unwrap().info.encrypted, Some(true));

    // RC2-40 (openssl -legacy) when the legacy provider is there.
    let legacy = std::process::Command::new("openssl")
        .args([
            "pkcs12",
            "-export",
            "-legacy",
            "-inkey",
            "leaf.key",
            "-in",
            "leaf.pem",
            "-passout",
            "pass:changeit",
            "-out",
            "legacy.p12",
        ])
        .current_dir(d.path(""))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if legacy {
        let ks = parse_pkcs12(&d.read("legacy.p12")).unwrap();
        assert_eq!(ks.info.opened_with.as_deref(), Some("changeit"));
        assert_eq!(
            ks.info.encryption.as_deref(),
            Some("certificates: pbeWithSHAAnd40BitRC2-CBC; keys: pbeWithSHAAnd3-KeyTripleDES-CBC")
        );
        assert_eq!(ks.entries[0].certificates.len(), 1);
    } else {
        eprintln!("note: openssl -legacy unavailable, RC2-40 PKCS#12 not tested");
    }
}

#[test]
fn truncated_keystores_are_errors() {
    if !have("keytool") {
        return;
    }
    let d = TempDir::new("ktrunc");
    genkeypair(
        &d,
        "s.jks",
        "JKS",
        "changeit",
        "a",
        &["-keyalg", "EC", "-groupname", "secp256r1"],
    );
    genkeypair(
        &d,
        "s.jceks",
        "JCEKS",
        "changeit",
        "a",
        &["-keyalg", "EC", "-groupname", "secp256r1"],
    );
    keytool(
        &d,
        &[
            "-genseckey",
            "-alias",
            "s",
            "-keyalg",
            "AES",
            "-keysize",
            "128",
            "-storetype",
            "JCEKS",
            "-keystore",
            "s.jceks",
            "-storepass",
            "changeit",
            "-keypass",
            "changeit",
        ],
    );
    genkeypair(
        &d,
        "s.p12",
        "PKCS12",
        "changeit",
        "a",
        &["-keyalg", "EC", "-groupname", "secp256r1"],
    );
    for file in ["s.jks", "s.jceks"] {
        let data = d.read(file);
        assert!(parse_jks(&data).is_ok());
        for len in 0..data.len() {
            assert!(
                parse_jks(&data[..len]).is_err(),
                "{file} truncated at {len}"
            );
        }
    }
    let data = d.read("s.p12");
    assert!(parse_pkcs12(&data).is_ok());
    for len in 0..data.len() {
        assert!(
            parse_pkcs12(&data[..len]).is_err(),
            "p12 truncated at {len}"
        );
        let _ = looks_like_pkcs12(&data[..len]);
    }
    // Flipped bytes never panic.
    let mut data = d.read("s.jceks");
    for i in 0..data.len() {
        data[i] ^= 0x5a;
        let _ = parse_jks(&data);
        data[i] ^= 0x5a;
    }
}
