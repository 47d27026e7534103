//! Locked keystores: reported in `errors` until a password opens them; passwords the user
//! gives (`--keystore-password`, `--keystore-password-file`), and passwords found in plaintext
//! in a configuration next to the keystore (`key-password-exposed`). No password is ever
//! printed.

use crate::common::*;
use serde_json::Value;
use std::path::Path;

const LOCKED: &str = "locked: no known password opens it; pass --keystore-password";

/// `dir/name.p12`: an EC key and self-signed certificate sealed with `password`.
fn p12(dir: &Path, name: &str, password: &str) {
    ec_cert(dir, name, "365");
    openssl(
        dir,
        &[
            "pkcs12",
            "-export",
            "-name",
            name,
            "-inkey",
            &format!("{name}.key"),
            "-in",
            &format!("{name}.crt"),
            "-out",
            &format!("{name}.p12"),
            "-passout",
            &format!("pass:{password}"),
        ],
    );
    // Only the keystore stays: its key and certificate must come from opening it.
    std::fs::remove_file(dir.join(format!("{name}.key"))).unwrap();
    std::fs::remove_file(dir.join(format!("{name}.crt"))).unwrap();
}

fn keystore<'a>(r: &'a Value, path: &str) -> &'a Value {
    r["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "keystore" && a["occurrences"][0]["path"] == path)
        .unwrap_or_else(|| panic!("no keystore at {path}: {r}"))
}

fn errors_at(r: &Value, path: &str) -> Vec<String> {
    r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["path"] == path)
        .map(|e| e["error"].as_str().unwrap().to_string())
        .collect()
}

fn private_keys(r: &Value) -> usize {
    r["assets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "private-key")
        .count()
}

fn findings<'a>(r: &'a Value, rule: &str) -> Vec<&'a Value> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

#[test]
fn a_locked_keystore_is_an_error_until_a_given_password_opens_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let password = generated_token(24);
    p12(dir, "client", &password);

    let (r, _) = scan_json_output(dir, &[]);
    let ks = keystore(&r, "client.p12");
    assert_eq!(ks["keystore"]["locked"], true);
    let errors = errors_at(&r, "client.p12");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains(LOCKED), "{errors:?}");
    assert_eq!(private_keys(&r), 0);

    // On the command line.
    let (r, all) = scan_json_output(
        dir,
        &[
            "--keystore-password",
            "wrong-one",
            "--keystore-password",
            &password,
        ],
    );
    let ks = keystore(&r, "client.p12");
    assert_eq!(ks["keystore"]["locked"], false);
    assert_eq!(ks["keystore"]["opened_with"], Value::Null);
    assert!(ks["keystore"].get("password_in").is_none(), "{ks}");
    assert!(errors_at(&r, "client.p12").is_empty(), "{}", r["errors"]);
    assert_eq!(private_keys(&r), 1, "the key inside is listed once opened");
    assert!(findings(&r, "keystore-default-password").is_empty());
    assert!(findings(&r, "key-password-exposed").is_empty());
    assert!(!all.contains(&password), "the given password was printed");

    // In a file, one a line (CRLF line ends too).
    let pwfile = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(pwfile.path(), format!("first\r\n\n{password}\r\n")).unwrap();
    let (r, all) = scan_json_output(
        dir,
        &["--keystore-password-file", pwfile.path().to_str().unwrap()],
    );
    assert_eq!(keystore(&r, "client.p12")["keystore"]["locked"], false);
    assert!(errors_at(&r, "client.p12").is_empty());
    assert!(!all.contains(&password));

    // `baseline` takes them too, and does not write them.
    let out = tmp.path().join("baseline.json");
    let (code, stdout, stderr) = trustmap(&[
        "baseline",
        dir.to_str().unwrap(),
        "--no-store",
        "--keystore-password",
        &password,
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(!written.contains(&password) && !stdout.contains(&password));
    assert!(!stderr.contains(&password));
}

#[test]
fn bad_keystore_password_inputs_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, stderr) = trustmap(&[
        "scan",
        tmp.path().to_str().unwrap(),
        "--no-store",
        "--keystore-password-file",
        tmp.path().join("missing.txt").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("keystore password file"), "{stderr}");

    let mut args = vec![
        "scan".to_string(),
        tmp.path().to_str().unwrap().to_string(),
        "--no-store".into(),
    ];
    for i in 0..65 {
        args.push("--keystore-password".into());
        args.push(format!("candidate-{i}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, stderr) = trustmap(&args);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("at most 64"), "{stderr}");
    assert!(!stderr.contains("candidate-"), "{stderr}");
}

#[test]
fn a_password_in_the_config_next_to_a_keystore_opens_it_and_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let res = tmp.path().join("src/main/resources");
    std::fs::create_dir_all(&res).unwrap();
    let password = format!("Kx{}", generated_token(18));
    p12(&res, "keystore", &password);
    std::fs::write(
        res.join("application.properties"),
        format!(
            "server.port=8443\nserver.ssl.key-store=classpath:keystore.p12\nserver.ssl.key-store-password={password}\n"
        ),
    )
    .unwrap();

    let (r, all) = scan_json_output(tmp.path(), &[]);
    let ks = keystore(&r, "src/main/resources/keystore.p12");
    assert_eq!(ks["keystore"]["locked"], false, "{ks}");
    assert_eq!(ks["keystore"]["opened_with"], Value::Null);
    assert_eq!(
        ks["keystore"]["password_in"],
        "src/main/resources/application.properties:3"
    );
    assert!(errors_at(&r, "src/main/resources/keystore.p12").is_empty());
    assert_eq!(private_keys(&r), 1);
    let exposed = findings(&r, "key-password-exposed");
    assert_eq!(exposed.len(), 1, "{}", r["findings"]);
    assert_eq!(exposed[0]["severity"], "high");
    assert_eq!(exposed[0]["asset"], ks["id"]);
    assert_eq!(exposed[0]["path"], "src/main/resources/keystore.p12");
    let msg = exposed[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("src/main/resources/application.properties:3"),
        "{msg}"
    );
    // The password itself is a secret of the config, reported by its rule.
    let secret = r["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "secret")
        .expect("the password is a secret asset");
    assert_eq!(secret["secret"]["rule"], "keystore-password");
    assert_eq!(secret["occurrences"][0]["line"], 3);
    assert!(!all.contains(&password), "the password was printed");
}

#[test]
fn a_jks_named_by_a_config_elsewhere_is_opened_but_unrelated_configs_are_not_tried() {
    let tmp = tempfile::tempdir().unwrap();
    let certs = tmp.path().join("certs");
    let conf = tmp.path().join("conf");
    let other = tmp.path().join("other");
    for d in [&certs, &conf, &other] {
        std::fs::create_dir_all(d).unwrap();
    }
    let password = format!("Jq{}", generated_token(16));
    // A JKS made from a PKCS#12 by keytool.
    p12(&certs, "server", &password);
    let st = std::process::Command::new("keytool")
        .current_dir(&certs)
        .args([
            "-importkeystore",
            "-noprompt",
            "-srckeystore",
            "server.p12",
            "-srcstoretype",
            "PKCS12",
            "-srcstorepass",
            &password,
            "-destkeystore",
            "server.jks",
            "-deststoretype",
            "JKS",
            "-deststorepass",
            &password,
            "-destkeypass",
            &password,
        ])
        .output()
        .expect("keytool is installed");
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    std::fs::remove_file(certs.join("server.p12")).unwrap();
    // A second keystore nobody names, with another password that sits in an unrelated config.
    let unrelated = format!("Uz{}", generated_token(16));
    p12(&other, "lonely", &format!("Lw{}", generated_token(16)));
    std::fs::write(
        conf.join("app.yml"),
        format!("tls:\n  keystore: ../certs/server.jks\n  keystore-password: \"{password}\"\n"),
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("db.properties"),
        format!("db.password={unrelated}\n"),
    )
    .unwrap();

    let (r, all) = scan_json_output(tmp.path(), &[]);
    let ks = keystore(&r, "certs/server.jks");
    assert_eq!(ks["keystore"]["format"], "jks");
    assert_eq!(ks["keystore"]["locked"], false, "{ks}");
    assert_eq!(ks["keystore"]["password_in"], "conf/app.yml:3");
    assert_eq!(findings(&r, "key-password-exposed").len(), 1);
    assert_eq!(private_keys(&r), 1, "the JKS key entry is opened too");

    let lonely = keystore(&r, "other/lonely.p12");
    assert_eq!(lonely["keystore"]["locked"], true);
    let errors = errors_at(&r, "other/lonely.p12");
    assert!(
        errors.len() == 1 && errors[0].contains(LOCKED),
        "{errors:?}"
    );
    assert!(!all.contains(&password) && !all.contains(&unrelated));
}

/// `dir/name.key`: a private key made by `genpkey` (`-algorithm`, `-pkeyopt`) turned into an
/// encrypted PKCS#8 (`openssl pkcs8 -topk8 -v2 aes-256-cbc`) under `password`.
fn encrypted_key(dir: &Path, name: &str, algorithm: &str, opt: &str, password: &str) {
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            algorithm,
            "-pkeyopt",
            opt,
            "-out",
            &format!("{name}.plain"),
        ],
    );
    openssl(
        dir,
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-in",
            &format!("{name}.plain"),
            "-out",
            &format!("{name}.key"),
            "-passout",
            &format!("pass:{password}"),
        ],
    );
}

fn key_at<'a>(r: &'a Value, path: &str) -> &'a Value {
    r["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "private-key" && a["occurrences"][0]["path"] == path)
        .unwrap_or_else(|| panic!("no private key at {path}: {r}"))
}

/// Whether `key` has a `key-of` relation to an asset of `kind` at `path`.
fn key_of(r: &Value, key: &Value, kind: &str, path: &str) -> bool {
    let Some(to) = r["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == kind && a["occurrences"][0]["path"] == path)
    else {
        return false;
    };
    r["relations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|rel| rel["type"] == "key-of" && rel["from"] == key["id"] && rel["to"] == to["id"])
}

#[test]
fn an_encrypted_key_whose_password_sits_in_a_config_is_opened_and_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let app = root.join("app");
    let keys = root.join("keys");
    let conf = root.join("conf");
    let lone = root.join("lone");
    for d in [&app, &keys, &conf, &lone] {
        std::fs::create_dir_all(d).unwrap();
    }
    // An EC certificate whose key is sealed; the password in the .env beside it.
    let ec_password = "fake-test-password-123";
    openssl(
        &app,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "tls.plain",
            "-out",
            "tls.crt",
            "-days",
            "30",
            "-subj",
            "/CN=tls",
        ],
    );
    openssl(
        &app,
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-in",
            "tls.plain",
            "-out",
            "tls.key",
            "-passout",
            &format!("pass:{ec_password}"),
        ],
    );
    std::fs::write(
        app.join(".env"),
        format!("PORT=8443\nTLS_KEY_PASSWORD={ec_password}\n"),
    )
    .unwrap();
    // An RSA key with its public key beside it, named by a Spring config elsewhere.
    let rsa_password = "fake-signing-password-456";
    encrypted_key(
        &keys,
        "signing",
        "RSA",
        "rsa_keygen_bits:2048",
        rsa_password,
    );
    openssl(
        &keys,
        &[
            "pkey",
            "-in",
            "signing.plain",
            "-pubout",
            "-out",
            "signing-public.pem",
        ],
    );
    std::fs::write(
        conf.join("application.properties"),
        format!(
            "server.port=8443\napp.signing.key=file:/srv/keys/signing.key\napp.signing.key-password={rsa_password}\n"
        ),
    )
    .unwrap();
    // A key whose password is nowhere.
    let lone_password = "fake-lone-password-789";
    encrypted_key(&lone, "alone", "RSA", "rsa_keygen_bits:2048", lone_password);
    for d in [&app, &keys, &lone] {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "plain") {
                std::fs::remove_file(p).unwrap();
            }
        }
    }
    let passwords = [ec_password, rsa_password, lone_password];

    let store_dir = tempfile::tempdir().unwrap();
    let db = store_dir.path().join("inventory.db");
    let db = db.to_str().unwrap();
    let scan_root = |extra: &[&str]| {
        let mut args = vec!["scan", root.to_str().unwrap(), "--db", db];
        args.extend_from_slice(extra);
        trustmap(&args)
    };
    let (code, stdout, stderr) = scan_root(&["--format", "json"]);
    assert!(code == 0 || code == 1, "{stderr}");
    let r: Value = serde_json::from_str(&stdout).unwrap();

    let ec = key_at(&r, "app/tls.key");
    assert_eq!(ec["key"]["algorithm"], "EC", "{ec}");
    assert_eq!(ec["key"]["bits"], 256);
    assert_eq!(ec["key"]["curve"], "P-256");
    assert_eq!(ec["key"]["encrypted"], true);
    assert_eq!(ec["key"]["format"], "pkcs8-encrypted");
    assert_eq!(ec["key"]["password_in"], "app/.env:2");
    assert!(
        key_of(&r, ec, "certificate", "app/tls.crt"),
        "{}",
        r["relations"]
    );

    let rsa = key_at(&r, "keys/signing.key");
    assert_eq!(rsa["key"]["algorithm"], "RSA", "{rsa}");
    assert_eq!(rsa["key"]["bits"], 2048);
    assert_eq!(rsa["key"]["password_in"], "conf/application.properties:3");
    assert!(key_of(&r, rsa, "public-key", "keys/signing-public.pem"));

    let exposed = findings(&r, "key-password-exposed");
    let mut places: Vec<(&str, &str)> = exposed
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap(),
                f["evidence"]["password_in"].as_str().unwrap(),
            )
        })
        .collect();
    places.sort();
    assert_eq!(
        places,
        [
            ("app/tls.key", "app/.env:2"),
            ("keys/signing.key", "conf/application.properties:3")
        ],
        "{exposed:?}"
    );
    assert!(
        exposed
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("at app/.env:2"))
    );

    // Its password nowhere: sealed and unknown, as before, and no finding.
    let alone = key_at(&r, "lone/alone.key");
    assert_eq!(alone["key"]["algorithm"], "unknown");
    assert_eq!(alone["key"]["bits"], Value::Null);
    assert_eq!(alone["key"]["spki_sha256"], Value::Null);
    assert!(alone["key"].get("password_in").is_none());

    // The summary, and everything printed, show no password; nor does the store's file.
    let (_, summary, summary_err) = scan_root(&[]);
    assert!(summary.contains("key-password-exposed"), "{summary}");
    let printed = format!("{stdout}\n{stderr}\n{summary}\n{summary_err}");
    for pw in passwords {
        assert!(!printed.contains(pw), "a password was printed");
    }
    for e in std::fs::read_dir(store_dir.path()).unwrap() {
        let bytes = std::fs::read(e.unwrap().path()).unwrap();
        for pw in passwords {
            assert!(
                memchr_find(&bytes, pw.as_bytes()).is_none(),
                "a password is in the store's files"
            );
        }
    }

    // The user's --keystore-password opens an encrypted key during the walk; it is no
    // exposure (nothing says which password, or where it came from).
    let (r, all) = scan_json_output(root, &["--keystore-password", lone_password]);
    let alone = key_at(&r, "lone/alone.key");
    assert_eq!(alone["key"]["algorithm"], "RSA", "{alone}");
    assert_eq!(alone["key"]["bits"], 2048);
    assert!(alone["key"]["spki_sha256"].is_string());
    assert!(alone["key"].get("password_in").is_none());
    assert!(
        !findings(&r, "key-password-exposed")
            .iter()
            .any(|f| f["path"] == "lone/alone.key")
    );
    assert!(!all.contains(lone_password));
}

fn memchr_find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn legacy_pem_and_der_pkcs8_keys_are_opened_by_the_password_beside_them_or_a_given_one() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let svc = root.join("svc");
    let other = root.join("other");
    std::fs::create_dir_all(&svc).unwrap();
    std::fs::create_dir_all(&other).unwrap();
    // OpenSSL's traditional encryption (`Proc-Type: 4,ENCRYPTED`, AES-128-CBC), the
    // certificate beside it and the password in the service's .env.
    let password = "fake-legacy-password-321";
    openssl(
        &svc,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "tls.plain",
            "-out",
            "tls.crt",
            "-days",
            "30",
            "-subj",
            "/CN=legacy",
        ],
    );
    let pass = format!("pass:{password}");
    openssl(
        &svc,
        &[
            "rsa",
            "-in",
            "tls.plain",
            "-aes128",
            "-traditional",
            "-passout",
            &pass,
            "-out",
            "tls.key",
        ],
    );
    // An encrypted PKCS#8 key in DER (a `.p8`) under the same password.
    openssl(
        &svc,
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-in",
            "tls.plain",
            "-outform",
            "DER",
            "-passout",
            &pass,
            "-out",
            "signing.p8",
        ],
    );
    std::fs::remove_file(svc.join("tls.plain")).unwrap();
    std::fs::write(svc.join(".env"), format!("TLS_KEY_PASSWORD={password}\n")).unwrap();
    // A triple-DES one with no password anywhere in the tree.
    let given = "fake-given-password-654";
    openssl(&other, &["genrsa", "-out", "k.plain", "2048"]);
    openssl(
        &other,
        &[
            "rsa",
            "-in",
            "k.plain",
            "-des3",
            "-traditional",
            "-passout",
            &format!("pass:{given}"),
            "-out",
            "k.key",
        ],
    );
    std::fs::remove_file(other.join("k.plain")).unwrap();
    assert!(
        String::from_utf8(std::fs::read(svc.join("tls.key")).unwrap())
            .unwrap()
            .contains("DEK-Info: AES-128-CBC,")
    );

    let (r, all) = scan_json_output(root, &[]);
    let key = key_at(&r, "svc/tls.key");
    assert_eq!(key["key"]["algorithm"], "RSA", "{key}");
    assert_eq!(key["key"]["bits"], 2048);
    assert_eq!(key["key"]["format"], "pkcs1");
    assert_eq!(key["key"]["encrypted"], true);
    assert_eq!(key["key"]["password_in"], "svc/.env:1");
    assert!(
        key_of(&r, key, "certificate", "svc/tls.crt"),
        "{}",
        r["relations"]
    );
    let p8 = key_at(&r, "svc/signing.p8");
    assert_eq!(p8["key"]["format"], "pkcs8-encrypted", "{p8}");
    assert_eq!(
        p8["key"]["spki_sha256"], key["key"]["spki_sha256"],
        "the same key inside"
    );
    assert_eq!(p8["key"]["password_in"], "svc/.env:1");
    let exposed = findings(&r, "key-password-exposed");
    let mut paths: Vec<&str> = exposed
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    paths.sort();
    assert_eq!(paths, ["svc/signing.p8", "svc/tls.key"], "{exposed:?}");
    let sealed = key_at(&r, "other/k.key");
    assert_eq!(sealed["key"]["algorithm"], "RSA", "the label says RSA");
    assert_eq!(
        sealed["key"]["spki_sha256"],
        Value::Null,
        "sealed: {sealed}"
    );
    assert!(!all.contains(password));

    let (r, all) = scan_json_output(root, &["--keystore-password", given]);
    let opened = key_at(&r, "other/k.key");
    assert_eq!(opened["key"]["bits"], 2048, "{opened}");
    assert!(opened["key"]["spki_sha256"].is_string());
    assert!(opened["key"].get("password_in").is_none());
    assert!(!all.contains(given) && !all.contains(password));
}
