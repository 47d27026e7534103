//! `scan --push --ca-file`: a server whose certificate comes from a private CA is trusted
//! through that CA alone; without it, the push is refused by the scanner before anything is
//! sent, and a CA file with no certificate is an error before the scan.

use crate::common::{backends, ec_cert, on_db_ok};
use crate::serve::Serve;
use std::path::Path;

/// A private root and a server certificate for 127.0.0.1 issued by it.
fn private_pki(dir: &Path) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
    let root_key = KeyPair::generate().unwrap();
    let mut root = CertificateParams::new(Vec::<String>::new()).unwrap();
    root.distinguished_name
        .push(DnType::CommonName, "Private Test Root");
    root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    root.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign];
    let root_cert = root.self_signed(&root_key).unwrap();
    let issuer = Issuer::from_params(&root, &root_key);
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf.subject_alt_names = vec![SanType::IpAddress([127, 0, 0, 1].into())];
    leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_cert = leaf.signed_by(&key, &issuer).unwrap();
    std::fs::write(dir.join("root.pem"), root_cert.pem()).unwrap();
    std::fs::write(dir.join("server.pem"), leaf_cert.pem()).unwrap();
    std::fs::write(dir.join("server.key"), key.serialize_pem()).unwrap();
}

#[test]
fn a_push_trusts_a_private_ca_given_with_ca_file_and_nothing_else() {
    let db = backends("pushca", "ca").remove(0);
    let pki = tempfile::tempdir().unwrap();
    private_pki(pki.path());
    let tree = tempfile::tempdir().unwrap();
    ec_cert(tree.path(), "web", "30");
    let p = |f: &str| pki.path().join(f).to_string_lossy().into_owned();
    // `serve` creates the inventory.
    let server = Serve::start(
        &db,
        &[
            "--tls-cert",
            &p("server.pem"),
            "--tls-key",
            &p("server.key"),
        ],
    );
    let token = on_db_ok(
        &db,
        0,
        &["token", "create", "--role", "scanner", "--name", "s1"],
    );
    let token_file = pki.path().join("token");
    std::fs::write(&token_file, token.trim()).unwrap();
    let scanner = tempfile::tempdir().unwrap();
    let push = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            tree.path().to_str().unwrap(),
            "--push",
            server.base(),
            "--token-file",
            token_file.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        // The scanner's own (empty) inventory: a push records nothing locally.
        std::process::Command::new(env!("CARGO_BIN_EXE_trustmap"))
            .args(&args)
            .env("TRUSTMAP_DB", scanner.path().join("unused.db"))
            .env("TRUSTMAP_PUSH_RETRY_MS", "10")
            .output()
            .unwrap()
    };
    // Without the CA: the web PKI roots do not know it; nothing is recorded.
    let refused = push(&[]);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{err}");
    assert!(
        err.contains("pushing to") && err.to_lowercase().contains("certificate"),
        "{err}"
    );
    let listed = |db| on_db_ok(db, 0, &["scans", "--format", "json"]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&listed(&db))
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // A file with no certificate in it: an error before the scan.
    let bad = push(&["--ca-file", &p("server.key")]);
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2), "{err}");
    assert!(err.contains("holds no CERTIFICATE block"), "{err}");
    // With it: recorded.
    let ok = push(&["--ca-file", &p("root.pem")]);
    let said = String::from_utf8_lossy(&ok.stderr);
    assert_eq!(ok.status.code(), Some(0), "{said}");
    assert!(said.contains("pushed scan_"), "{said}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&listed(&db))
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(!Path::new(&scanner.path().join("unused.db")).exists());
}
