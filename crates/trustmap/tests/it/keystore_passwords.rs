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
