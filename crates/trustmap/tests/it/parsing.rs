//! What real use broke in detection and parsing (issue 13), through the CLI: a self-signed
//! MD5 leaf, exclude patterns (and a tree's own), encrypted keys in `pqc`, Kubernetes
//! Lists, and control characters from scanned files in human output.

use crate::common::{openssl, scan_json, trustmap};
use serde_json::Value;

#[test]
fn a_self_signed_md5_leaf_is_reported_as_one() {
    let dir = tempfile::tempdir().unwrap();
    openssl(
        dir.path(),
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-md5",
            "-nodes",
            "-keyout",
            "old.key",
            "-out",
            "old.crt",
            "-subj",
            "/CN=old.example.test",
            "-days",
            "30",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ],
    );
    let r = scan_json(dir.path(), &[]);
    let cert = r["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "certificate")
        .unwrap();
    assert_eq!(cert["certificate"]["self_signed"], true);
    assert_eq!(cert["certificate"]["signature_verified"], Value::Null);
    let rules: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["asset"] == cert["id"])
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"cert-self-signed-leaf"), "{rules:?}");
}

#[test]
fn excludes_from_the_command_line_and_the_tree_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("vendor")).unwrap();
    crate::common::ec_cert(d, "app", "300");
    crate::common::ec_cert(&d.join("vendor"), "lib", "300");
    crate::common::ec_cert(d, "hidden", "300");
    let count = |r: &Value| r["assets"].as_array().unwrap().len();
    let all = scan_json(d, &[]);
    assert_eq!(all["scan"]["excluded"], 0);
    let r = scan_json(d, &["--exclude", "vendor/", "--exclude", "hidden.*"]);
    assert_eq!(
        r["scan"]["excluded"], 3,
        "vendor/ and hidden.crt, hidden.key"
    );
    assert_eq!(
        (count(&all), count(&r)),
        (6, 2),
        "app's certificate and key are left"
    );
    // A tree's own trustmap.toml cannot hide its files: its exclude is ignored, and said so.
    let policy = d.join("trustmap.toml");
    std::fs::write(&policy, "exclude = [\"hidden.*\"]\n").unwrap();
    let r = scan_json(d, &[]);
    assert_eq!(r["scan"]["excluded"], 0);
    assert_eq!(count(&r), 6);
    assert_eq!(r["scan"]["policy_ignored"][0], "exclude \"hidden.*\"");
    // Chosen with --policy, it applies, and the result counts what it excluded.
    let r = scan_json(d, &["--policy", policy.to_str().unwrap()]);
    assert_eq!(r["scan"]["excluded"], 2);
    assert_eq!(r["scan"]["policy_ignored"], serde_json::json!([]));
    let (code, text, _) = trustmap(&[
        "scan",
        d.to_str().unwrap(),
        "--no-store",
        "--policy",
        policy.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert!(
        text.contains("2 paths excluded by --exclude or the policy's exclude patterns"),
        "{text}"
    );
    // A bad pattern is a usage error.
    let (code, _, err) = trustmap(&["scan", d.to_str().unwrap(), "--no-store", "--exclude", "/"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("exclude pattern"), "{err}");
}

#[test]
fn pqc_counts_an_encrypted_key_nothing_tells_about_as_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    crate::common::ec_cert(d, "svc", "300");
    openssl(
        d,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "p",
        ],
    );
    openssl(
        d,
        &[
            "pkcs8",
            "-topk8",
            "-in",
            "p",
            "-out",
            "sealed.key",
            "-passout",
            "pass:not-a-real-secret",
        ],
    );
    std::fs::remove_file(d.join("p")).unwrap();
    let (code, out, err) = trustmap(&["pqc", d.to_str().unwrap(), "--no-store", "-f", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    // svc.crt and svc.key (EC, vulnerable) and the sealed key (unknown, never safe).
    assert_eq!(v["quantum_vulnerable"]["vulnerable"], 2, "{v:#}");
    assert_eq!(v["quantum_vulnerable"]["unknown"], 1, "{v:#}");
    assert_eq!(v["quantum_vulnerable"]["total"], 3, "{v:#}");
    let (_, text, _) = trustmap(&["pqc", d.to_str().unwrap(), "--no-store"]);
    assert!(
        text.contains("2 of 3") && text.contains("1 unknown"),
        "{text}"
    );
}

#[test]
fn a_secret_in_a_kubernetes_list_is_at_the_line_of_its_tls_crt() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    crate::common::ec_cert(d, "k", "300");
    use base64::Engine as _;
    let b64 =
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(d.join("k.crt")).unwrap());
    let list = format!(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: other\n  data:\n    a: b\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: tls\n  type: kubernetes.io/tls\n  data:\n    tls.crt: {b64}\n"
    );
    let m = d.join("m");
    std::fs::create_dir(&m).unwrap();
    std::fs::write(m.join("list.yaml"), list).unwrap();
    let r = scan_json(&m, &[]);
    let cert = &r["assets"].as_array().unwrap()[0];
    assert_eq!(cert["kind"], "certificate");
    assert_eq!(cert["occurrences"][0]["line"], 16, "{cert:#}");
    // The route names the Secret (namespace `default` when unset) before its entry.
    assert_eq!(
        cert["occurrences"][0]["container"],
        "Secret default/tls data.tls.crt, base64"
    );
}

#[test]
fn control_characters_from_scanned_files_do_not_reach_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A subject whose CN clears the screen; and a file name with an escape in it.
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "e.key",
            "-out",
            "e.crt",
            "-days",
            "3",
            "-subj",
            "/CN=evil\x1b[2J\x1b]0;pwned\x07",
            "-utf8",
        ],
    );
    std::fs::rename(d.join("e.crt"), d.join("e\x1b[31m.crt")).unwrap();
    let (code, text, _) = trustmap(&["scan", d.to_str().unwrap(), "--no-store"]);
    assert_eq!(code, 0);
    assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
    assert!(text.contains("e\\x1b[31m.crt"), "{text}");
    // JSON keeps the exact value (RFC 4514 escapes the `;`, not control characters).
    let r = scan_json(d, &[]);
    let subjects: Vec<&str> = r["assets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["certificate"]["subject"].as_str())
        .collect();
    assert_eq!(subjects, ["CN=evil\x1b[2J\x1b]0\\;pwned\x07"]);
}
