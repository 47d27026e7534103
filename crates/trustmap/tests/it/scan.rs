//! End-to-end tests of `trustmap scan`: the real binary over trees generated here with
//! openssl, checked through the JSON contract.

use crate::common::*;
use serde_json::Value;
use std::process::Command;

fn assets_of<'a>(r: &'a Value, kind: &str) -> Vec<&'a Value> {
    r["assets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == kind)
        .collect()
}

/// Every key path of a JSON value with the type of its value, arrays folded to `[]`.
fn shape(v: &Value, prefix: &str, out: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                shape(v, &format!("{prefix}.{k}"), out);
            }
        }
        Value::Array(items) => {
            for i in items {
                shape(i, &format!("{prefix}[]"), out);
            }
            if items.is_empty() {
                out.insert(format!("{prefix}[]"));
            }
        }
        Value::String(_) => {
            out.insert(format!("{prefix}: string"));
        }
        Value::Number(_) => {
            out.insert(format!("{prefix}: number"));
        }
        Value::Bool(_) => {
            out.insert(format!("{prefix}: bool"));
        }
        Value::Null => {
            out.insert(format!("{prefix}: null"));
        }
    }
}

#[test]
fn key_and_certificate_link_and_dedup_across_places() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ec_cert(d, "web", "90");
    // The same certificate again, inside a YAML block and inside a JSON string.
    let pem = std::fs::read_to_string(d.join("web.crt")).unwrap();
    let yaml = format!(
        "tls:\n  cert: |\n    {}\n",
        pem.trim_end().replace('\n', "\n    ")
    );
    std::fs::create_dir(d.join("conf")).unwrap();
    std::fs::write(d.join("conf/app.yaml"), yaml).unwrap();
    let json = serde_json::json!({ "certificate": pem }).to_string();
    std::fs::write(d.join("conf/cert.json"), json).unwrap();

    let r = scan_json(d, &[]);
    let certs = assets_of(&r, "certificate");
    assert_eq!(certs.len(), 1, "one certificate, three places");
    let c = certs[0];
    let paths: Vec<&str> = c["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["conf/app.yaml", "conf/cert.json", "web.crt"]);
    let yaml_occ = &c["occurrences"][0];
    assert_eq!(yaml_occ["line"], 3);
    let info = &c["certificate"];
    assert_eq!(info["subject"], "CN=web.example.test");
    assert_eq!(info["sans"], serde_json::json!(["DNS:web.example.test"]));
    assert_eq!(info["self_signed"], true);
    assert_eq!(info["signature_algorithm"], "ecdsa-with-SHA256");
    assert_eq!(info["signature_hash"], "SHA-256");
    assert_eq!(info["public_key"]["algorithm"], "EC");
    assert_eq!(info["public_key"]["curve"], "P-256");
    assert_eq!(info["public_key"]["bits"], 256);

    let keys = assets_of(&r, "private-key");
    assert_eq!(keys.len(), 1);
    assert_eq!(
        keys[0]["key"]["spki_sha256"],
        info["public_key"]["spki_sha256"]
    );
    let rel = r["relations"].as_array().unwrap();
    assert!(
        rel.iter()
            .any(|x| x["type"] == "key-of" && x["from"] == keys[0]["id"] && x["to"] == c["id"])
    );
    assert!(c["fingerprint"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(c["fingerprint"].as_str().unwrap().len(), 7 + 64);
}

#[test]
fn issued_by_is_verified_across_files_and_der_found_by_content() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "365",
            "-subj",
            "/CN=Test Root CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=leaf.example.test",
        ],
    );
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.crt",
            "-days",
            "30",
            "-sha256",
        ],
    );
    // The leaf again as DER under a name that says nothing.
    openssl(
        d,
        &[
            "x509", "-in", "leaf.crt", "-outform", "DER", "-out", "blob.bin",
        ],
    );
    // An impostor with the CA's name but another key must not be linked.
    std::fs::create_dir(d.join("other")).unwrap();
    openssl(
        &d.join("other"),
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "fake.key",
            "-out",
            "fake-ca.crt",
            "-days",
            "365",
            "-subj",
            "/CN=Test Root CA",
        ],
    );
    for f in ["leaf.csr", "ca.srl"] {
        let _ = std::fs::remove_file(d.join(f));
    }
    let r = scan_json(d, &[]);
    let certs = assets_of(&r, "certificate");
    assert_eq!(certs.len(), 3);
    let by_cn = |cn: &str, path: &str| {
        certs
            .iter()
            .find(|c| {
                c["certificate"]["subject"] == format!("CN={cn}")
                    && c["occurrences"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|o| o["path"] == path)
            })
            .unwrap_or_else(|| panic!("{cn} at {path}"))["id"]
            .clone()
    };
    let leaf = by_cn("leaf.example.test", "blob.bin");
    let ca = by_cn("Test Root CA", "ca.crt");
    let fake = by_cn("Test Root CA", "other/fake-ca.crt");
    let rel = r["relations"].as_array().unwrap();
    let issued: Vec<_> = rel.iter().filter(|x| x["type"] == "issued-by").collect();
    assert_eq!(issued.len(), 1, "{issued:?}");
    assert_eq!((&issued[0]["from"], &issued[0]["to"]), (&leaf, &ca));
    assert_ne!(ca, fake);
    let leaf_asset = certs.iter().find(|c| c["id"] == leaf).unwrap();
    assert_eq!(leaf_asset["occurrences"].as_array().unwrap().len(), 2);
}

#[test]
fn broken_input_becomes_errors_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ec_cert(d, "good", "30");
    let pem = std::fs::read_to_string(d.join("good.crt")).unwrap();
    std::fs::write(d.join("truncated.pem"), &pem[..pem.len() / 2]).unwrap();
    // A DER SEQUENCE header claiming more bytes than there are, then garbage.
    std::fs::write(d.join("garbage.der"), [0x30, 0x82, 0x05, 0x00, 1, 2, 3]).unwrap();
    // A certificate block whose body is not a certificate.
    std::fs::write(
        d.join("bogus.crt"),
        "-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        std::fs::create_dir(d.join("loop")).unwrap();
        std::os::unix::fs::symlink("..", d.join("loop/up")).unwrap();
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9.pem");
        std::fs::write(d.join(name), &pem).unwrap();
    }
    let r = scan_json(d, &["--follow-symlinks"]);
    let errors = r["errors"].as_array().unwrap();
    let err_for = |p: &str| {
        errors
            .iter()
            .find(|e| e["path"] == p)
            .map(|e| e["error"].as_str().unwrap().to_string())
    };
    assert!(
        err_for("truncated.pem").unwrap().contains("truncated"),
        "{errors:?}"
    );
    assert!(
        err_for("bogus.crt").unwrap().contains("X.509"),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e["error"].as_str().unwrap().contains("loop")),
        "{errors:?}"
    );
    assert!(
        err_for("caf\u{fffd}.pem").unwrap().contains("UTF-8"),
        "{errors:?}"
    );
    // The good certificate is found in its own file and under the non-UTF-8 name.
    let certs = assets_of(&r, "certificate");
    assert_eq!(certs.len(), 1);
    assert_eq!(certs[0]["occurrences"].as_array().unwrap().len(), 2);
}

#[test]
fn json_contract_shape_is_stable() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A 100-day certificate judged with 5 days left: within the expiry windows (the
    // shorter of 7/14/30 days and 5/10/20% of its lifetime).
    ec_cert(d, "svc", "100");
    std::fs::write(d.join("broken.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n").unwrap();
    let now = (time::OffsetDateTime::now_utc() + time::Duration::days(95))
        .date()
        .to_string();
    // The same certificate served by an endpoint: the endpoint facts are in the contract.
    let server = crate::common::Server::serving(d, "svc.crt", "svc.key", &[]);
    let url = server.url(Some("svc.example.test"));
    let r = scan_json(d, &["--now", &now, &url]);
    let mut s = std::collections::BTreeSet::new();
    shape(&r, "", &mut s);
    let expected = [
        ".assets[].certificate.is_ca: bool",
        ".assets[].certificate.issuer: string",
        ".assets[].certificate.not_after: string",
        ".assets[].certificate.not_before: string",
        ".assets[].certificate.public_key.algorithm: string",
        ".assets[].certificate.public_key.bits: number",
        ".assets[].certificate.public_key.curve: string",
        ".assets[].certificate.public_key.spki_sha256: string",
        ".assets[].certificate.sans[]: string",
        ".assets[].certificate.self_signed: bool",
        ".assets[].certificate.serial: string",
        ".assets[].certificate.signature_algorithm: string",
        ".assets[].certificate.signature_hash: string",
        ".assets[].certificate.subject: string",
        ".assets[].endpoint.host: string",
        ".assets[].endpoint.port: number",
        ".assets[].endpoint.sni: string",
        ".assets[].endpoint.address: string",
        ".assets[].endpoint.protocol: string",
        ".assets[].endpoint.cipher_suite: string",
        ".assets[].endpoint.key_exchange_group: string",
        ".assets[].endpoint.alpn: null",
        ".assets[].endpoint.ocsp_stapled: bool",
        ".assets[].endpoint.chain_length: number",
        ".assets[].endpoint.verification.trusted: bool",
        ".assets[].endpoint.verification.hostname_match: bool",
        ".assets[].endpoint.verification.chain_complete: bool",
        ".assets[].fingerprint: string",
        ".assets[].id: string",
        ".assets[].key.algorithm: string",
        ".assets[].key.encrypted: bool",
        ".assets[].key.format: string",
        ".assets[].key.spki_sha256: string",
        ".assets[].kind: string",
        ".assets[].occurrences[].container: null",
        ".assets[].occurrences[].line: number",
        ".assets[].occurrences[].path: string",
        ".errors[].error: string",
        ".errors[].path: string",
        ".findings[].asset: string",
        ".findings[].frameworks[]: string",
        ".findings[].line: number",
        ".findings[].message: string",
        ".findings[].path: string",
        ".findings[].rule: string",
        ".findings[].severity: string",
        ".relations[].from: string",
        ".relations[].to: string",
        ".relations[].type: string",
        ".scan.bytes_scanned: number",
        ".scan.duration_ms: number",
        ".scan.files_scanned: number",
        ".scan.id: string",
        ".scan.roots[]: string",
        ".scan.started_at: string",
        ".tool.name: string",
        ".tool.version: string",
    ];
    for e in expected {
        assert!(s.contains(e), "contract field missing: {e}\nhave: {s:#?}");
    }
    // The whole shape, fields beyond the contract's minimum included, is a snapshot: any
    // change to the output is a reviewed change (`cargo insta review`).
    let text: Vec<&str> = s.iter().map(String::as_str).collect();
    insta::assert_snapshot!("json_contract_shape", text.join("\n"));
    let started = r["scan"]["started_at"].as_str().unwrap();
    assert!(started.ends_with('Z') && started.len() == 20, "{started}");
    assert_eq!(r["tool"]["name"], "trustmap");
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "cert-expiring")
    );
}

#[test]
fn summary_names_what_needs_attention_and_fail_on_sets_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A 100-day certificate with 4 days left: critical (under 7 days and 5% of its life).
    ec_cert(d, "soon", "100");
    let now = (time::OffsetDateTime::now_utc() + time::Duration::days(96))
        .date()
        .to_string();
    // The same key at a second place: its line says so, in the singular.
    std::fs::copy(d.join("soon.key"), d.join("z-copy.key")).unwrap();
    let (code, out, _) = trustmap(&["scan", d.to_str().unwrap(), "--no-store", "--now", &now]);
    assert_eq!(code, 0);
    assert!(
        out.contains("soon.key:1 (+1 more place)\n")
            && !out.contains("more places")
            && out.contains("(2 assets, 1 relation)")
            && out.contains("in 1 place\n"),
        "{out}"
    );
    assert!(
        out.contains("certificates") && out.contains("private keys"),
        "{out}"
    );
    assert!(
        out.contains("CRITICAL") && out.contains("cert-expiring") && out.contains("soon.crt:1"),
        "{out}"
    );
    assert!(
        out.contains("key-unprotected") && out.contains("soon.key:1"),
        "{out}"
    );
    let (code, _, _) = trustmap(&[
        "scan",
        d.to_str().unwrap(),
        "--no-store",
        "--fail-on",
        "high",
    ]);
    assert_eq!(code, 1);
    let (code, _, err) = trustmap(&["scan", "/nonexistent/trustmap-test", "--no-store"]);
    assert_eq!(code, 2);
    assert!(err.contains("no such file"), "{err}");
}

#[test]
fn huge_files_are_scanned_in_chunks_with_true_lines() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ec_cert(d, "big", "90");
    let pem = std::fs::read_to_string(d.join("big.crt")).unwrap();
    std::fs::remove_file(d.join("big.crt")).unwrap();
    std::fs::remove_file(d.join("big.key")).unwrap();
    // 40 MB of log lines with the certificate straddling the 32 MB chunk boundary.
    let line = "2026-11-23T10:00:00Z INFO request handled in 12ms path=/api/v1/things status=200\n";
    let mut text = String::with_capacity(41 << 20);
    let mut lines = 0u64;
    while text.len() + line.len() < (32 << 20) - pem.len() / 2 {
        text.push_str(line);
        lines += 1;
    }
    text.push_str(&pem);
    while text.len() < 40 << 20 {
        text.push_str(line);
    }
    std::fs::write(d.join("huge.log"), &text).unwrap();
    let r = scan_json(d, &[]);
    let certs = assets_of(&r, "certificate");
    assert_eq!(certs.len(), 1, "{r}");
    let occ = certs[0]["occurrences"].as_array().unwrap();
    assert_eq!(
        occ.len(),
        1,
        "seen once even though the chunks overlap: {occ:?}"
    );
    assert_eq!(occ[0]["line"], lines + 1);
    assert_eq!(r["scan"]["bytes_scanned"], text.len() as u64);
}

#[test]
fn hidden_and_ignored_files_are_scanned_by_default_but_git_internals_never() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let token = format!("ghp_{}", generated_token(36));
    std::fs::write(d.join(".gitignore"), ".env\n").unwrap();
    std::fs::write(d.join(".env"), format!("GITHUB_TOKEN={token}\n")).unwrap();
    std::fs::create_dir_all(d.join(".git/objects")).unwrap();
    std::fs::write(d.join(".git/objects/blob"), format!("token={token}\n")).unwrap();

    let r = scan_json(d, &[]);
    let secrets = assets_of(&r, "secret");
    assert_eq!(secrets.len(), 1, "{r}");
    assert_eq!(secrets[0]["secret"]["rule"], "github-pat-classic");
    let paths: Vec<_> = secrets[0]["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, [".env"], ".git/ internals are skipped");
    // The plaintext is nowhere in the report.
    assert!(!r.to_string().contains(&token));
    assert!(
        secrets[0]["secret"]["redacted"]
            .as_str()
            .unwrap()
            .starts_with("ghp_")
    );

    let r = scan_json(d, &["--respect-gitignore"]);
    assert!(assets_of(&r, "secret").is_empty(), "{r}");
}

#[test]
fn gitleaks_rules_files_add_custom_rules() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let value = generated_token(32);
    std::fs::write(
        d.join("app.conf"),
        format!("acme_internal_key = ACME-{value}\n"),
    )
    .unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "title = \"team rules\"\n\n[[rules]]\nid = \"acme-internal-key\"\ndescription = \"Acme internal API key\"\nregex = '''ACME-[A-Za-z0-9]{32}'''\nkeywords = [\"acme-\"]\n",
    )
    .unwrap();
    let r = scan_json(d, &[]);
    assert!(
        assets_of(&r, "secret").is_empty(),
        "no builtin rule knows this format: {r}"
    );
    let r = scan_json(d, &["--rules", rules.to_str().unwrap()]);
    let secrets = assets_of(&r, "secret");
    assert_eq!(secrets.len(), 1, "{r}");
    assert_eq!(secrets[0]["secret"]["rule"], "acme-internal-key");
    assert_eq!(secrets[0]["occurrences"][0]["line"], 1);

    // A broken rules file is an error that names the file, line and field; exit code 2.
    std::fs::write(&rules, "[[rules]]\nid = \"x\"\nregex = '''([a-z'''\n").unwrap();
    let (code, _, err) = trustmap(&[
        "scan",
        d.to_str().unwrap(),
        "--no-store",
        "--rules",
        rules.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("rules.toml:3") && err.contains("regex"),
        "{err}"
    );
}

#[test]
fn pkcs7_in_pem_and_base64_pem_in_env_values() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ec_cert(d, "a", "90");
    ec_cert(d, "b", "90");
    openssl(
        d,
        &[
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            "a.crt",
            "-certfile",
            "b.crt",
            "-out",
            "bundle.p7b",
        ],
    );
    assert!(
        std::fs::read_to_string(d.join("bundle.p7b"))
            .unwrap()
            .starts_with("-----BEGIN PKCS7-----")
    );
    use base64::Engine as _;
    let b64 =
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(d.join("b.crt")).unwrap());
    std::fs::write(
        d.join("app.env"),
        format!("# TLS for the b service\nB_TLS_CERT={b64}\n"),
    )
    .unwrap();
    for f in ["a.crt", "b.crt", "a.key", "b.key"] {
        std::fs::remove_file(d.join(f)).unwrap();
    }
    let r = scan_json(d, &[]);
    let certs = assets_of(&r, "certificate");
    assert_eq!(certs.len(), 2, "{r}");
    let b = certs
        .iter()
        .find(|c| c["certificate"]["subject"] == "CN=b.example.test")
        .unwrap();
    let places: Vec<(String, Value, Value)> = b["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["path"].as_str().unwrap().to_string(),
                o["line"].clone(),
                o["container"].clone(),
            )
        })
        .collect();
    assert_eq!(
        places,
        [
            ("app.env".to_string(), Value::from(2), Value::from("base64")),
            (
                "bundle.p7b".to_string(),
                Value::from(1),
                Value::from("PKCS#7 certificate 2")
            ),
        ]
    );
}

#[test]
fn base64_pem_found_at_every_byte_alignment() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ec_cert(d, "c", "90");
    let pem = std::fs::read(d.join("c.crt")).unwrap();
    std::fs::remove_file(d.join("c.crt")).unwrap();
    std::fs::remove_file(d.join("c.key")).unwrap();
    // The PEM preceded by 0, 1 and 2 bytes inside the encoded value, after a glued name.
    for (i, prefix) in [&b""[..], b"#", b"#\n"].iter().enumerate() {
        let mut blob = prefix.to_vec();
        blob.extend_from_slice(&pem);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&blob);
        std::fs::write(d.join(format!("v{i}.txt")), format!("value: CERT{b64}\n")).unwrap();
    }
    let r = scan_json(d, &[]);
    let certs = assets_of(&r, "certificate");
    assert_eq!(certs.len(), 1, "{r}");
    let paths: Vec<_> = certs[0]["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["v0.txt", "v1.txt", "v2.txt"]);
}

#[test]
fn archives_are_opened_and_their_members_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = d.join("src");
    std::fs::create_dir_all(src.join("tls")).unwrap();
    ec_cert(&src.join("tls"), "svc", "90");
    let token = format!("ghp_{}", generated_token(36));
    std::fs::write(src.join(".env"), format!("GITHUB_TOKEN={token}\n")).unwrap();
    let out = d.join("scan");
    std::fs::create_dir(&out).unwrap();
    // A deflated ZIP (as JARs are) and a .tar.gz of the same files.
    let py = format!(
        "import zipfile,os\nz=zipfile.ZipFile('{}', 'w', zipfile.ZIP_DEFLATED)\nfor f in ['tls/svc.crt','tls/svc.key','.env']: z.write(os.path.join('{}', f), f)\nz.close()",
        out.join("bundle.jar").display(),
        src.display()
    );
    let st = Command::new("python3").args(["-c", &py]).status().unwrap();
    assert!(st.success());
    let st = Command::new("tar")
        .args([
            "czf",
            out.join("release.tar.gz").to_str().unwrap(),
            "-C",
            src.to_str().unwrap(),
            "tls",
            ".env",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    // The raw bytes hold no PEM armour: only opening the archives finds anything.
    let jar = std::fs::read(out.join("bundle.jar")).unwrap();
    assert!(!String::from_utf8_lossy(&jar).contains("BEGIN CERTIFICATE"));

    let r = scan_json(&out, &[]);
    for kind in ["certificate", "private-key", "secret"] {
        let a = assets_of(&r, kind);
        assert_eq!(a.len(), 1, "{kind}: {r}");
        let places: Vec<(String, Value, String)> = a[0]["occurrences"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["path"].as_str().unwrap().to_string(),
                    o["line"].clone(),
                    o["container"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let member = match kind {
            "certificate" => "tls/svc.crt",
            "private-key" => "tls/svc.key",
            _ => ".env",
        };
        assert_eq!(
            places,
            [
                (
                    "bundle.jar".to_string(),
                    Value::Null,
                    format!("zip entry '{member}'")
                ),
                (
                    "release.tar.gz".to_string(),
                    Value::Null,
                    format!("tar.gz entry '{member}'")
                ),
            ],
            "{kind}"
        );
    }
    assert!(!r.to_string().contains(&token));
}

#[test]
fn kubernetes_secret_credentials_are_secrets_with_routes_and_owners() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let password = generated_token(20);
    let manifest = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  labels:\n    team: storage\ntype: Opaque\ndata:\n  username: {}\n  password: {}\n  db-host: {}\n  api-token: {}\n  old-password: {}\n",
        b64("admin"),
        b64(&password),
        b64("db.internal"),
        b64(&format!("tok-{}", generated_token(24))),
        b64("${OLD_PASSWORD}"),
    );
    std::fs::write(d.join("db-secret.yaml"), manifest).unwrap();
    let r = scan_json(d, &[]);
    let secrets = assets_of(&r, "secret");
    let mut got: Vec<(String, u64)> = secrets
        .iter()
        .map(|s| {
            let o = &s["occurrences"][0];
            (
                o["container"].as_str().unwrap().to_string(),
                o["line"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("Secret default/db data.api-token, base64".to_string(), 12),
            ("Secret default/db data.password, base64".to_string(), 10)
        ],
        "{r}"
    );
    for s in &secrets {
        assert_eq!(s["owners"][0]["name"], "storage");
    }
    assert!(!r.to_string().contains(&password));
}
