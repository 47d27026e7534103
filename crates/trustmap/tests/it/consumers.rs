//! Consumers and blast radius: nginx and HAProxy configurations that the programs themselves
//! accept (`nginx -t`, `haproxy -c`) are scanned with the PKI they load; every `uses` edge and
//! every `impact` answer is compared with the wiring the test built, and a configuration
//! that nginx rejects for a missing file is the one trustmap flags.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::common::{backends, id_at, on_db_ok, openssl};

/// root CA -> intermediate -> leaves `api` and `shop`, each with its key, in `dir/pki`.
pub(crate) fn pki(dir: &Path) {
    let p = dir.join("pki");
    std::fs::create_dir_all(&p).unwrap();
    let ext = p.join("ca.ext");
    std::fs::write(
        &ext,
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n",
    )
    .unwrap();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut root = vec!["req", "-x509"];
    root.extend(ec);
    root.extend([
        "-keyout",
        "root.key",
        "-out",
        "root.crt",
        "-days",
        "3650",
        "-subj",
        "/CN=Test Root CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(&p, &root);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "int.key",
        "-out",
        "int.csr",
        "-subj",
        "/CN=Test Issuing CA",
    ]);
    openssl(&p, &csr);
    openssl(
        &p,
        &[
            "x509",
            "-req",
            "-in",
            "int.csr",
            "-CA",
            "root.crt",
            "-CAkey",
            "root.key",
            "-CAcreateserial",
            "-out",
            "int.crt",
            "-days",
            "1825",
            "-extfile",
            "ca.ext",
        ],
    );
    for leaf in ["api", "shop"] {
        let mut csr = vec!["req".to_string()];
        csr.extend(ec.iter().map(|s| s.to_string()));
        csr.extend([
            "-keyout".into(),
            format!("{leaf}.key"),
            "-out".into(),
            format!("{leaf}.csr"),
            "-subj".into(),
            format!("/CN={leaf}.example.test"),
        ]);
        let args: Vec<&str> = csr.iter().map(String::as_str).collect();
        openssl(&p, &args);
        std::fs::write(
            p.join(format!("{leaf}.ext")),
            format!("subjectAltName=DNS:{leaf}.example.test\n"),
        )
        .unwrap();
        openssl(
            &p,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{leaf}.csr"),
                "-CA",
                "int.crt",
                "-CAkey",
                "int.key",
                "-CAcreateserial",
                "-out",
                &format!("{leaf}.crt"),
                "-days",
                "90",
                "-extfile",
                &format!("{leaf}.ext"),
            ],
        );
        // HAProxy wants certificate, chain and key in one file.
        let bundle = [
            format!("{leaf}.crt"),
            "int.crt".into(),
            format!("{leaf}.key"),
        ]
        .iter()
        .map(|f| std::fs::read_to_string(p.join(f)).unwrap())
        .collect::<String>();
        std::fs::write(p.join(format!("{leaf}.pem")), bundle).unwrap();
    }
    for f in [
        "int.csr", "api.csr", "shop.csr", "root.srl", "int.srl", "ca.ext", "api.ext", "shop.ext",
    ] {
        let _ = std::fs::remove_file(p.join(f));
    }
}

fn nginx_t(conf: &Path, prefix: &Path) -> bool {
    let out = Command::new("nginx")
        .args(["-t", "-e", "stderr", "-p"])
        .arg(prefix)
        .arg("-c")
        .arg(conf)
        .args(["-g", &format!("pid {}/nginx.pid;", prefix.display())])
        .output()
        .expect("nginx is installed (scripts/test installs it)");
    out.status.success()
}

fn haproxy_c(conf: &Path) -> bool {
    Command::new("haproxy")
        .arg("-c")
        .arg("-f")
        .arg(conf)
        .output()
        .expect("haproxy is installed (scripts/test installs it)")
        .status
        .success()
}

#[test]
fn configurations_link_services_to_their_material_and_impact_walks_the_chain() {
    for db in backends("cons", "impact") {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        pki(&root);
        let pk = root.join("pki");
        std::fs::create_dir_all(root.join("nginx")).unwrap();
        std::fs::create_dir_all(root.join("haproxy")).unwrap();
        // nginx: `api` by absolute path (this host's file), its key relative to the prefix.
        let nginx = root.join("nginx/nginx.conf");
        std::fs::write(&nginx, format!(
            "events {{}}\nhttp {{\n  server {{\n    listen 127.0.0.1:18443 ssl;\n    server_name api.example.test;\n    ssl_certificate {}/api.crt;\n    ssl_certificate_key ../pki/api.key;\n  }}\n}}\n",
            pk.display()
        )).unwrap();
        assert!(
            nginx_t(&nginx, &root.join("nginx")),
            "nginx accepts the good configuration"
        );
        // nginx again, naming a key that is not there: nginx rejects it, trustmap flags it.
        let broken = root.join("nginx/broken.conf");
        std::fs::write(&broken, format!(
            "events {{}}\nhttp {{\n  server {{\n    listen 127.0.0.1:18444 ssl;\n    server_name old.example.test;\n    ssl_certificate {0}/api.crt;\n    ssl_certificate_key {0}/old.key;\n  }}\n}}\n",
            pk.display()
        )).unwrap();
        assert!(
            !nginx_t(&broken, &root.join("nginx")),
            "nginx rejects the missing key"
        );
        // HAProxy: `shop` as one PEM, the intermediate as CA file.
        let hap = root.join("haproxy/haproxy.cfg");
        std::fs::write(&hap, format!(
            "global\n    log stdout format raw local0\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend fe_shop\n    bind 127.0.0.1:18445 ssl crt {0}/shop.pem ca-file {0}/int.crt verify optional\n    default_backend be\nbackend be\n    server s1 127.0.0.1:18080\n",
            pk.display()
        )).unwrap();
        assert!(haproxy_c(&hap), "haproxy accepts its configuration");

        let out = on_db_ok(
            &db,
            0,
            &["scan", root.to_str().unwrap(), "-f", "json", "-q"],
        );
        let report: Value = serde_json::from_str(&out).unwrap();
        let id = |kind: &str, path: &str| id_at(&report, kind, path);
        let (root_crt, int_crt, int_key) = (
            id("certificate", "pki/root.crt"),
            id("certificate", "pki/int.crt"),
            id("private-key", "pki/int.key"),
        );
        let (api_crt, api_key, shop_crt) = (
            id("certificate", "pki/api.crt"),
            id("private-key", "pki/api.key"),
            id("certificate", "pki/shop.crt"),
        );
        let api_srv = id("consumer", "nginx/nginx.conf");
        let old_srv = id("consumer", "nginx/broken.conf");
        let shop_fe = id("consumer", "haproxy/haproxy.cfg");
        // Every `uses` edge is one the configurations wired, and every wired one is there.
        let uses: BTreeSet<(String, String)> = report["relations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["type"] == "uses")
            .map(|r| {
                (
                    r["from"].as_str().unwrap().to_string(),
                    r["to"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let shop_key = id("private-key", "pki/shop.pem");
        let expected: BTreeSet<(String, String)> = [
            (&api_srv, &api_crt),
            (&api_srv, &api_key),
            (&old_srv, &api_crt),
            (&shop_fe, &shop_crt),
            (&shop_fe, &int_crt),
            (&shop_fe, &shop_key),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(uses, expected, "[{}]", db.name);
        // How each reference resolved.
        let refs = |c: &str| -> Vec<(String, String)> {
            let a = report["assets"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["id"] == c)
                .unwrap();
            a["consumer"]["references"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["directive"].as_str().unwrap().into(),
                        r["resolution"].as_str().unwrap().into(),
                    )
                })
                .collect()
        };
        assert_eq!(
            refs(&api_srv),
            [
                ("ssl_certificate".into(), "path".into()),
                ("ssl_certificate_key".into(), "relative".into())
            ]
        );
        assert_eq!(
            refs(&old_srv)[1],
            ("ssl_certificate_key".into(), "missing".into())
        );
        // The one finding of the kind is on the configuration nginx rejected, at its line.
        let missing: Vec<&Value> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "config-reference-missing")
            .collect();
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert_eq!(missing[0]["path"], "nginx/broken.conf");
        assert_eq!(missing[0]["line"], 7);
        assert_eq!(missing[0]["severity"], "high");

        // Blast radius of the issuing CA's key: its certificate, the leaves it issued, the
        // bundle holding one of them, and every service using any of these.
        let impact: Value =
            serde_json::from_str(&on_db_ok(&db, 0, &["impact", &int_key, "-f", "json"])).unwrap();
        let broken: BTreeSet<String> = impact["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_string())
            .collect();
        for must in [&int_crt, &api_crt, &shop_crt, &api_srv, &old_srv, &shop_fe] {
            assert!(
                broken.contains(must),
                "[{}] {must} breaks with the issuing key: {impact}",
                db.name
            );
        }
        assert!(
            !broken.contains(&root_crt),
            "the root does not depend on the intermediate"
        );
        assert!(
            !broken.contains(&api_key),
            "a leaf key does not depend on its issuer"
        );
        assert_eq!(impact["by_kind"]["consumer"], 3);
        assert_eq!(impact["total"].as_u64().unwrap() as usize, broken.len());
        // Of the api key: its certificate and the two nginx servers; not the HAProxy one.
        let api: Value =
            serde_json::from_str(&on_db_ok(&db, 0, &["impact", &api_key, "-f", "json"])).unwrap();
        let of_api: BTreeSet<&str> = api["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            of_api,
            BTreeSet::from([api_crt.as_str(), api_srv.as_str(), old_srv.as_str()])
        );
        // `show` says who uses a certificate; the table and graph formats name the same.
        let show = on_db_ok(&db, 0, &["show", &api_crt]);
        assert!(
            show.contains(&format!(
                "used by\n  {api_srv} nginx server api.example.test (listen 127.0.0.1:18443) (uses)"
            )),
            "{show}"
        );
        let table = on_db_ok(&db, 0, &["impact", &api_key]);
        assert!(table.starts_with(&format!("If {api_key} (private-key EC P-256) fails, 3 assets break: 1 certificate, 2 consumer")), "{table}");
        let mermaid = on_db_ok(&db, 0, &["impact", &api_key, "-f", "mermaid"]);
        assert!(
            mermaid.contains(&format!("{api_key} -->|uses| {api_srv}")),
            "{mermaid}"
        );
        let dot = on_db_ok(&db, 0, &["impact", &api_key, "-f", "dot"]);
        assert!(
            dot.contains(&format!(
                "\"{api_key}\" -> \"{api_crt}\" [label=\"key-of\"]"
            )),
            "{dot}"
        );
        // Scanned again with every blast radius kept (the test hook that lowers the store's
        // threshold from 1,000 dependants to 1): the kept answers are the walked ones.
        let again = std::process::Command::new(env!("CARGO_BIN_EXE_trustmap"))
            .args(["scan", root.to_str().unwrap(), "-f", "json", "-q"])
            .env("TRUSTMAP_DB", &db.target)
            .env("TRUSTMAP_TEST_REACH_MIN", "1")
            .output()
            .unwrap();
        assert!(
            again.status.success(),
            "{}",
            String::from_utf8_lossy(&again.stderr)
        );
        let kept_rows = trustmap_store::Store::open_existing(&db.target)
            .unwrap()
            .query_raw("SELECT COUNT(*) FROM reach")
            .unwrap();
        assert!(
            kept_rows[0][0].parse::<u64>().unwrap() > 0,
            "[{}] no blast radius kept",
            db.name
        );
        for (id, walked) in [(&int_key, &impact), (&api_key, &api)] {
            let kept: Value =
                serde_json::from_str(&on_db_ok(&db, 0, &["impact", id, "-f", "json"])).unwrap();
            assert_eq!(
                &kept, walked,
                "[{}] impact of {id}, kept and walked",
                db.name
            );
        }
    }
}

#[test]
fn references_outside_the_scanned_roots_are_errors_not_findings() {
    let t = tempfile::tempdir().unwrap();
    // A sites-enabled file: a `server` at the top level (nginx includes it inside `http`).
    std::fs::write(
        t.path().join("site.conf"),
        "server {\n  listen 443 ssl;\n  ssl_certificate /nonexistent-dir/x.crt;\n}\n",
    )
    .unwrap();
    std::fs::write(
        t.path().join("http.conf"),
        "http {\n server { ssl_certificate a.crt; }\n",
    )
    .unwrap();
    let r = crate::common::scan_json(t.path(), &[]);
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"] != "config-reference-missing"),
        "{r}"
    );
    let consumers: Vec<&Value> = r["assets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "consumer")
        .collect();
    assert_eq!(consumers.len(), 1, "the broken file yields no consumer");
    assert_eq!(
        consumers[0]["consumer"]["references"][0]["resolution"],
        "outside"
    );
    let errors: Vec<String> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}: {}",
                e["path"].as_str().unwrap(),
                e["error"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        errors.iter().any(|e| e.starts_with("http.conf: line 1: nginx configuration: a block is not closed")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.starts_with(
            "site.conf: line 3: ssl_certificate /nonexistent-dir/x.crt is outside the scanned roots"
        )),
        "{errors:?}"
    );
}

/// A certificate `pay` (and its key) that `servers` nginx servers load, one nginx
/// configuration nginx accepts, an `old` certificate nobody loads, and `policy` as the
/// tree's own trustmap.toml; scanned 20 days before `pay` expires. The report.
fn payments_estate(servers: usize, policy: Option<&str>) -> Value {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().canonicalize().unwrap();
    let pk = root.join("pki");
    std::fs::create_dir_all(&pk).unwrap();
    std::fs::create_dir_all(root.join("nginx")).unwrap();
    crate::common::ec_cert(&pk, "pay", "365");
    crate::common::ec_cert(&pk, "old", "365");
    let mut conf = String::from("events {}\nhttp {\n");
    for i in 0..servers {
        conf.push_str(&format!(
            "  server {{\n    listen 127.0.0.1:{} ssl;\n    server_name pay{i}.example.test;\n    ssl_certificate {1}/pay.crt;\n    ssl_certificate_key {1}/pay.key;\n  }}\n",
            18500 + i,
            pk.display()
        ));
    }
    conf.push_str("}\n");
    let nginx = root.join("nginx/nginx.conf");
    std::fs::write(&nginx, conf).unwrap();
    assert!(nginx_t(&nginx, &root.join("nginx")), "nginx accepts it");
    if let Some(p) = policy {
        std::fs::write(root.join("trustmap.toml"), p).unwrap();
    }
    // 20 days before notAfter: cert-expiring's medium window (30 days).
    let first = crate::common::scan_json(&root, &[]);
    let not_after = first["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["certificate"]["subject"] == "CN=pay.example.test")
        .unwrap()["certificate"]["not_after"]
        .as_str()
        .unwrap()
        .to_string();
    let fmt = time::format_description::well_known::Rfc3339;
    let now = time::OffsetDateTime::parse(&not_after, &fmt).unwrap() - time::Duration::days(20);
    crate::common::scan_json(&root, &["--now", &now.format(&fmt).unwrap()])
}

/// The findings of `rule` on the certificate with subject CN `cn`.
fn findings_on<'a>(report: &'a Value, rule: &str, cn: &str) -> Vec<&'a Value> {
    let id = report["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["certificate"]["subject"] == format!("CN={cn}"))
        .unwrap()["id"]
        .clone();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule && f["asset"] == id)
        .collect()
}

#[test]
fn the_same_expiring_certificate_is_more_severe_the_more_services_load_it() {
    // One server: medium, and the finding says who uses it.
    let r = payments_estate(1, None);
    let f = findings_on(&r, "cert-expiring", "pay.example.test");
    assert_eq!(f.len(), 1, "{r}");
    assert_eq!(f[0]["severity"], "medium");
    assert_eq!(f[0]["evidence"]["used_by"], "1");
    assert!(
        f[0]["message"].as_str().unwrap().ends_with(
            " (used by 1 consumer: nginx server pay0.example.test (listen 127.0.0.1:18500))"
        ),
        "{}",
        f[0]["message"]
    );
    // The certificate nobody loads is a candidate for clean-up; the used one is not.
    let unused = findings_on(&r, "asset-unused", "old.example.test");
    assert_eq!(unused.len(), 1, "{r}");
    assert_eq!(unused[0]["severity"], "info");
    assert!(findings_on(&r, "asset-unused", "pay.example.test").is_empty());

    // Three servers: one step up (the default raise_by_one_at = 3).
    let r = payments_estate(3, None);
    let f = findings_on(&r, "cert-expiring", "pay.example.test");
    assert_eq!(f[0]["severity"], "high", "{}", f[0]);
    assert_eq!(f[0]["evidence"]["severity_before_impact"], "medium");
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("(used by 3 consumers: nginx server pay0.example.test (listen 127.0.0.1:18500), nginx server pay1"),
        "{}",
        f[0]["message"]
    );

    // Ten servers: critical (raise_to_critical_at = 10), at most three names listed.
    let r = payments_estate(10, None);
    let f = findings_on(&r, "cert-expiring", "pay.example.test");
    assert_eq!(f[0]["severity"], "critical", "{}", f[0]);
    assert_eq!(f[0]["evidence"]["used_by"], "10");
    assert!(
        f[0]["message"].as_str().unwrap().ends_with(", ...)"),
        "{}",
        f[0]["message"]
    );

    // The tree's own trustmap.toml may lower the thresholds...
    let r = payments_estate(3, Some("[impact]\nraise_to_critical_at = 3\n"));
    let f = findings_on(&r, "cert-expiring", "pay.example.test");
    assert_eq!(f[0]["severity"], "critical", "{}", f[0]);
    // ... but not switch the raise off or raise the thresholds.
    let r = payments_estate(
        3,
        Some("[impact]\nenabled = false\nraise_by_one_at = 5\nraise_to_critical_at = 50\n"),
    );
    let f = findings_on(&r, "cert-expiring", "pay.example.test");
    assert_eq!(f[0]["severity"], "high", "{}", f[0]);
    let ignored = r["scan"]["policy_ignored"].to_string();
    assert!(
        ignored.contains("impact.enabled = false")
            && ignored.contains("impact.raise_by_one_at = 5 (higher than 3)"),
        "{ignored}"
    );
}
