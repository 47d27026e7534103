//! TLS endpoints, continued: what the raw ClientHello probes find for the legacy versions
//! (checked against what `openssl ciphers` says the server accepts), a hand-made SSL 3.0
//! server (OpenSSL 3 here is built without SSL 3.0), TLS 1.2 curves behind an ECDSA leaf,
//! ALPN and a stapled OCSP response, the progress line, and a served certificate in the
//! inventory (`show`, `diff`). Only loopback is ever reached.

use crate::common::{Server, backends, free_port, on_db_ok};
use crate::tls::{Lab, NAME, NOW, endpoint, finding, scan_command, served_leaf};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Every suite OpenSSL has, NULL ones included, at security level 0 (TLS 1.0 and 1.1,
/// SHA-1 signatures, small DH).
const EVERYTHING: &str = "ALL:COMPLEMENTOFALL:@SECLEVEL=0";

/// The suites OpenSSL accepts at `version` (`-tls1`, `-tls1_1`, `-tls1_2`) for the cipher
/// string `cipher` with a certificate whose key signs as `au` (`ECDSA`, `RSA`), as
/// `openssl ciphers -s` lists them, by IANA name: the suites that key authenticates and
/// the anonymous ones. PSK, SRP and DSS suites need what s_server is not given.
fn openssl_accepts(version: &str, cipher: &str, au: &str) -> BTreeSet<String> {
    let out = Command::new("openssl")
        .args(["ciphers", "-stdname", "-V", "-s", version, cipher])
        .output()
        .expect("openssl is installed");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    // `0xC0,0x0A - TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA - ECDHE-ECDSA-AES256-SHA TLSv1
    // Kx=ECDH Au=ECDSA Enc=AES(256) Mac=SHA1`
    let got: BTreeSet<String> = text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let field = |k: &str| f.iter().find_map(|x| x.strip_prefix(k)).unwrap_or("");
            let kx = field("Kx=");
            let a = field("Au=");
            ((a == au || a == "None") && !kx.contains("PSK") && !kx.contains("SRP"))
                .then(|| f[2].to_string())
        })
        .collect();
    assert!(got.len() >= 8, "{version} {cipher} {au}: {text}");
    got
}

/// The suites trustmap found accepted at `version` (`TLSv1.0`...), as a set.
fn accepted(facts: &Value, version: &str) -> BTreeSet<String> {
    facts["accepted_suites"][version]
        .as_array()
        .unwrap_or_else(|| panic!("no {version} suites: {facts:#}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// An RSA leaf for [`NAME`], self-signed by openssl (`rsa.pem`, `rsa.key` in `dir`).
fn rsa_leaf(dir: &Path) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "rsa.key",
            "-out",
            "rsa.pem",
            "-days",
            "30",
            "-subj",
            &format!("/CN={NAME}"),
            "-addext",
            &format!("subjectAltName=DNS:{NAME}"),
        ])
        .output()
        .expect("openssl is installed");
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn the_suites_of_tls_1_0_and_1_1_are_enumerated_as_openssl_is_configured() {
    let lab = Lab::valid();
    rsa_leaf(lab.path());
    // The lab's leaf is ECDSA: TLS 1.0 alone, every suite, client preference.
    let tls10 = lab.serve(&["-tls1", "-cipher", EVERYTHING]);
    // An RSA leaf: TLS 1.1 and 1.2, every suite, the server's preference.
    let rsa = Server::serving(
        lab.path(),
        "rsa.pem",
        "rsa.key",
        &[
            "-min_protocol",
            "TLSv1.1",
            "-max_protocol",
            "TLSv1.2",
            "-serverpref",
            "-cipher",
            EVERYTHING,
        ],
    );
    let r = lab.scan(&[
        "--tls-enumerate",
        &tls10.url(Some(NAME)),
        &rsa.url(Some(NAME)),
    ]);
    assert_eq!(r["errors"], serde_json::json!([]), "{r:#}");

    let e = endpoint(&r, &tls10.place());
    let facts = &e["endpoint"];
    assert_eq!(facts["protocol"], "TLSv1.0");
    assert_eq!(facts["legacy_protocols"], serde_json::json!(["TLSv1.0"]));
    let want = openssl_accepts("-tls1", EVERYTHING, "ECDSA");
    assert_eq!(accepted(facts, "TLSv1.0"), want);
    // NULL and anonymous ones among them, and no other version.
    assert!(want.contains("TLS_ECDHE_ECDSA_WITH_NULL_SHA"), "{want:?}");
    assert!(
        want.contains("TLS_DH_anon_WITH_AES_128_CBC_SHA"),
        "{want:?}"
    );
    let versions: Vec<&String> = facts["accepted_suites"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(versions, vec!["TLSv1.0"]);
    // s_server follows the client's order unless told otherwise.
    assert_eq!(facts["server_preference"], false);
    let weak = finding(&r, e, "endpoint-weak-cipher");
    assert_eq!(weak["severity"], "high");
    let evidence = weak["evidence"]["weak"].as_str().unwrap();
    assert!(
        evidence.contains("TLS_ECDHE_ECDSA_WITH_NULL_SHA (NULL, TLSv1.0)"),
        "{evidence}"
    );
    assert!(
        evidence.contains("TLS_DH_anon_WITH_AES_128_CBC_SHA (anonymous, TLSv1.0)"),
        "{evidence}"
    );
    assert_eq!(
        finding(&r, e, "endpoint-legacy-protocol")["evidence"]["accepted"],
        "TLSv1.0"
    );

    let e = endpoint(&r, &rsa.place());
    let facts = &e["endpoint"];
    assert_eq!(facts["protocol"], "TLSv1.2");
    assert_eq!(facts["legacy_protocols"], serde_json::json!(["TLSv1.1"]));
    let want11 = openssl_accepts("-tls1_1", EVERYTHING, "RSA");
    let want12 = openssl_accepts("-tls1_2", EVERYTHING, "RSA");
    assert_eq!(accepted(facts, "TLSv1.1"), want11);
    assert_eq!(accepted(facts, "TLSv1.2"), want12);
    // Plain RSA key transport with NULL and MD5 at TLS 1.1; GCM only at TLS 1.2.
    assert!(want11.contains("TLS_RSA_WITH_NULL_MD5"), "{want11:?}");
    assert!(!want11.contains("TLS_RSA_WITH_AES_128_GCM_SHA256"));
    assert!(want12.contains("TLS_RSA_WITH_AES_128_GCM_SHA256"));
    assert_eq!(facts["server_preference"], true);
}

/// A loopback listener answering each connection with `serve` on its own thread.
fn listen(serve: impl Fn(TcpStream) + Send + Sync + Clone + 'static) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let serve = serve.clone();
            std::thread::spawn(move || serve(s));
        }
    });
    port
}

/// The DER of each certificate in a PEM file.
fn pem_ders(path: &Path) -> Vec<Vec<u8>> {
    use base64::Engine;
    let text = std::fs::read_to_string(path).unwrap();
    text.split("-----BEGIN CERTIFICATE-----")
        .skip(1)
        .map(|b| {
            let body: String = b
                .split("-----END CERTIFICATE-----")
                .next()
                .unwrap()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            base64::engine::general_purpose::STANDARD
                .decode(body)
                .unwrap()
        })
        .collect()
}

/// The suites the hand-made SSL 3.0 server takes, in its own order of preference: RC4,
/// 3DES and EXPORT (none of which OpenSSL 3 here can serve).
const SSL3_SUITES: [u16; 3] = [0x0005, 0x000a, 0x0003];

/// An SSL 3.0 server, hand-made because OpenSSL 3 here is built without SSL 3.0: a
/// ClientHello of version 3.0 or later is answered as an SSL 3.0 server answers it, with
/// an SSL 3.0 ServerHello choosing the first of [`SSL3_SUITES`] the client offered (its
/// own preference), its certificates and ServerHelloDone; a hello offering neither suite
/// with a handshake_failure alert. It never finishes a handshake: trustmap reads no
/// further than that first flight.
fn ssl3_server(chain: Vec<Vec<u8>>) -> u16 {
    listen(move |mut s: TcpStream| {
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let mut head = [0u8; 5];
        if s.read_exact(&mut head).is_err() || head[0] != 0x16 {
            return;
        }
        let mut hello = vec![0u8; u16::from_be_bytes([head[3], head[4]]) as usize];
        if s.read_exact(&mut hello).is_err() || hello.len() < 39 || hello[0] != 1 {
            return;
        }
        // type, length (3), client_version (2), random (32), session id
        let sid = hello[38] as usize;
        let at = 39 + sid;
        let Some(n) = hello.get(at..at + 2) else {
            return;
        };
        let n = u16::from_be_bytes([n[0], n[1]]) as usize;
        let Some(list) = hello.get(at + 2..at + 2 + n) else {
            return;
        };
        let offered: Vec<u16> = list
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        let version = u16::from_be_bytes([hello[4], hello[5]]);
        let Some(suite) = SSL3_SUITES.iter().find(|c| offered.contains(c)) else {
            let _ = s.write_all(&[0x15, 0x03, 0x00, 0x00, 0x02, 0x02, 0x28]);
            return;
        };
        if version < 0x0300 {
            return;
        }
        let mut msgs = Vec::new();
        let mut server_hello = vec![0x03, 0x00];
        server_hello.extend_from_slice(&[0x42; 32]);
        server_hello.push(0);
        server_hello.extend_from_slice(&suite.to_be_bytes());
        server_hello.push(0);
        handshake_message(&mut msgs, 2, &server_hello);
        let mut list = Vec::new();
        for der in &chain {
            list.extend_from_slice(&(der.len() as u32).to_be_bytes()[1..]);
            list.extend_from_slice(der);
        }
        let mut certificate = (list.len() as u32).to_be_bytes()[1..].to_vec();
        certificate.extend_from_slice(&list);
        handshake_message(&mut msgs, 11, &certificate);
        handshake_message(&mut msgs, 14, &[]);
        let mut record = vec![0x16, 0x03, 0x00];
        record.extend_from_slice(&(msgs.len() as u16).to_be_bytes());
        record.extend_from_slice(&msgs);
        let _ = s.write_all(&record);
        // Until the client closes (bounded by the read timeout).
        let _ = s.read(&mut [0u8; 1024]);
    })
}

fn handshake_message(out: &mut Vec<u8>, kind: u8, body: &[u8]) {
    out.push(kind);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(body);
}

#[test]
fn an_ssl_3_0_server_is_reported_with_its_suites_and_the_legacy_protocol() {
    let lab = Lab::valid();
    let mut chain = pem_ders(&lab.path().join("leaf.pem"));
    chain.extend(pem_ders(&lab.path().join("inter.pem")));
    let port = ssl3_server(chain);
    let place = format!("127.0.0.1:{port}");
    let url = format!("tls://{place}?sni={NAME}");
    let r = lab.scan(&["--tls-enumerate", &url]);
    assert_eq!(r["errors"], serde_json::json!([]), "{r:#}");
    let e = endpoint(&r, &place);
    let facts = &e["endpoint"];
    // rustls cannot speak SSL 3.0: the endpoint is read from the raw first flight.
    assert_eq!(facts["protocol"], "SSLv3", "{facts:#}");
    assert_eq!(facts["cipher_suite"], "TLS_RSA_WITH_RC4_128_SHA");
    assert!(
        facts["handshake_error"]
            .as_str()
            .unwrap()
            .starts_with("handshake failed:"),
        "{facts:#}"
    );
    assert_eq!(facts["chain_length"], 2);
    assert_eq!(
        served_leaf(&r, e)["certificate"]["subject"],
        format!("CN={NAME}")
    );
    // A TLS 1.0 or 1.1 hello is answered with SSL 3.0, which is not accepting them.
    assert_eq!(facts["legacy_protocols"], serde_json::json!(["SSLv3"]));
    assert_eq!(
        facts["accepted_suites"],
        serde_json::json!({"SSLv3": [
            "TLS_RSA_WITH_RC4_128_SHA",
            "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
            "TLS_RSA_EXPORT_WITH_RC4_40_MD5"
        ]})
    );
    assert_eq!(facts["server_preference"], true);
    assert_eq!(facts["pq_key_exchange"], "none");
    let l = finding(&r, e, "endpoint-legacy-protocol");
    assert_eq!(l["severity"], "high");
    assert_eq!(l["evidence"]["accepted"], "SSLv3");
    assert_eq!(
        finding(&r, e, "endpoint-weak-cipher")["evidence"]["weak"],
        "TLS_RSA_WITH_RC4_128_SHA (RC4, SSLv3),TLS_RSA_WITH_3DES_EDE_CBC_SHA (DES/3DES, SSLv3),\
         TLS_RSA_EXPORT_WITH_RC4_40_MD5 (EXPORT, SSLv3)"
    );
}

#[test]
fn alpn_and_a_stapled_ocsp_response_are_recorded() {
    let lab = Lab::valid();
    // An OCSP response for the leaf, signed by the issuing CA (status unknown: the
    // responder's index is empty; what is checked is that it is stapled).
    let dir = lab.path();
    std::fs::write(dir.join("index.txt"), "").unwrap();
    let ocsp = |args: &[&str]| {
        let out = Command::new("openssl")
            .current_dir(dir)
            .arg("ocsp")
            .args(args)
            .output()
            .expect("openssl is installed");
        assert!(out.status.success(), "{out:?}");
    };
    ocsp(&[
        "-issuer",
        "inter.pem",
        "-cert",
        "leaf.pem",
        "-reqout",
        "req.der",
        "-no_nonce",
    ]);
    ocsp(&[
        "-index",
        "index.txt",
        "-rsigner",
        "inter.pem",
        "-rkey",
        "inter.key",
        "-CA",
        "inter.pem",
        "-reqin",
        "req.der",
        "-respout",
        "ocsp.der",
        "-ndays",
        "1",
    ]);
    let stapling = lab.serve(&["-alpn", "h2", "-status_file", "ocsp.der"]);
    let plain = lab.serve(&[]);
    let r = lab.scan(&[&stapling.url(Some(NAME)), &plain.url(Some(NAME))]);
    let facts = &endpoint(&r, &stapling.place())["endpoint"];
    assert_eq!(facts["alpn"], "h2");
    assert_eq!(facts["ocsp_stapled"], true);
    let facts = &endpoint(&r, &plain.place())["endpoint"];
    assert_eq!(facts["alpn"], Value::Null);
    assert_eq!(facts["ocsp_stapled"], false);
}

#[test]
fn tls12_curves_behind_an_ecdsa_leaf_are_found_whatever_the_server_prefers() {
    let lab = Lab::valid();
    rsa_leaf(lab.path());
    // The lab's leaf is ECDSA P-256, and a TLS 1.2 client must list P-256 for the server
    // to use it (RFC 8422 5.1). Each server prefers its own order, P-256 before the rest.
    // With an RSA certificate too, each curve can be offered alone (ECDHE-RSA).
    let dual = lab.serve(&[
        "-tls1_2",
        "-serverpref",
        "-groups",
        "P-256:X25519:P-384:P-521",
        "-dcert",
        "rsa.pem",
        "-dkey",
        "rsa.key",
    ]);
    // ECDSA alone: a curve the server puts before P-256 is found next to P-256; one it
    // puts after is never given to a TLS 1.2 client, so it is not reported.
    let ecdsa = lab.serve(&["-tls1_2", "-serverpref", "-groups", "X25519:P-256:P-384"]);
    let r = lab.scan(&[
        "--tls-enumerate",
        &dual.url(Some(NAME)),
        &ecdsa.url(Some(NAME)),
    ]);
    let facts = &endpoint(&r, &dual.place())["endpoint"];
    assert_eq!(
        facts["groups_tls12"],
        serde_json::json!(["X25519", "secp256r1", "secp384r1", "secp521r1"]),
        "{facts:#}"
    );
    let facts = &endpoint(&r, &ecdsa.place())["endpoint"];
    assert_eq!(
        facts["groups_tls12"],
        serde_json::json!(["X25519", "secp256r1"]),
        "{facts:#}"
    );
}

#[test]
fn progress_on_a_terminal_counts_the_endpoints() {
    let lab = Lab::valid();
    let good = lab.serve(&[]);
    // Accepts and never answers: the scan lasts the 2 s timeout, long enough for the bar.
    let silent = listen(|s: TcpStream| {
        std::thread::sleep(Duration::from_secs(10));
        drop(s);
    });
    let policy = lab.path().join("trustmap.toml");
    let silent_url = format!("tls://127.0.0.1:{silent}");
    // A terminal for trustmap's stderr: Python's pty module runs it and copies what it
    // writes to stdout.
    let out = Command::new("python3")
        .args([
            "-c",
            "import pty, sys; pty.spawn(sys.argv[1:])",
            env!("CARGO_BIN_EXE_trustmap"),
            "scan",
            "--no-store",
            "--now",
            NOW,
            "--policy",
            policy.to_str().unwrap(),
            "--tls-timeout",
            "2",
            "--format",
            "json",
            &good.url(Some(NAME)),
            &silent_url,
        ])
        .output()
        .expect("python3 is installed");
    let text = String::from_utf8_lossy(&out.stdout);
    // One endpoint done while the other waits out its timeout.
    assert!(text.contains("1 of 2 endpoints"), "{text}");
}

#[test]
fn a_served_certificate_is_shown_where_deployed_and_a_new_one_served_is_a_rotation() {
    use rcgen::{CertificateParams, DnType, KeyPair};
    for db in backends("tls", "rotation") {
        let lab = Lab::valid();
        let tree = lab.path().join("etc");
        std::fs::create_dir(&tree).unwrap();
        std::fs::copy(lab.path().join("leaf.pem"), tree.join("tls.crt")).unwrap();
        let policy = lab.path().join("trustmap.toml");
        let port = free_port();
        let place = format!("127.0.0.1:{port}");
        let url = format!("tls://{place}?sni={NAME}");
        let scan = || -> Value {
            let out = on_db_ok(
                &db,
                0,
                &[
                    "scan",
                    "--now",
                    NOW,
                    "--policy",
                    policy.to_str().unwrap(),
                    "--quiet",
                    "--format",
                    "json",
                    tree.to_str().unwrap(),
                    &url,
                ],
            );
            serde_json::from_str(&out).unwrap()
        };
        let server = Server::serving_on(
            port,
            lab.path(),
            "leaf.pem",
            "leaf.key",
            &["-cert_chain", "inter.pem"],
        );
        let r = scan();
        let old = served_leaf(&r, endpoint(&r, &place))["id"]
            .as_str()
            .unwrap()
            .to_string();
        // Where is it deployed: on disk and on the endpoint.
        let shown = on_db_ok(&db, 0, &["show", &old]);
        assert!(shown.contains("tls.crt"), "[{}] {shown}", db.name);
        assert!(shown.contains(&place), "[{}] {shown}", db.name);
        drop(server);

        // The endpoint now serves another certificate for the name.
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(vec![NAME.to_string()]).unwrap();
        p.distinguished_name.push(DnType::CommonName, NAME);
        p.not_before = rcgen::date_time_ymd(2026, 3, 1);
        p.not_after = rcgen::date_time_ymd(2026, 12, 31);
        std::fs::write(
            lab.path().join("next.pem"),
            p.self_signed(&key).unwrap().pem(),
        )
        .unwrap();
        std::fs::write(lab.path().join("next.key"), key.serialize_pem()).unwrap();
        let _server = Server::serving_on(port, lab.path(), "next.pem", "next.key", &[]);
        let r = scan();
        let new = served_leaf(&r, endpoint(&r, &place))["id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_ne!(new, old);
        let diff: Value =
            serde_json::from_str(&on_db_ok(&db, 0, &["diff", "--format", "json"])).unwrap();
        let rotated: Vec<&Value> = diff["rotated"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["path"] == place.as_str())
            .collect();
        assert_eq!(rotated.len(), 1, "[{}] {diff:#}", db.name);
        assert_eq!(rotated[0]["from"], old.as_str());
        assert_eq!(rotated[0]["to"], new.as_str());
        assert_eq!(rotated[0]["kind"], "certificate");
        // The one on disk is still there: not gone.
        assert!(
            !diff["gone"].as_array().unwrap().iter().any(|g| g == &old),
            "[{}] {diff:#}",
            db.name
        );
    }
}

#[test]
fn a_targets_file_cidr_block_with_ports_and_a_name_expands_to_every_endpoint() {
    let lab = Lab::valid();
    let a = lab.serve(&[]);
    let b = lab.serve(&[]);
    let closed = free_port();
    let file = lab.path().join("targets.txt");
    // One address with two ports and an SNI name; four loopback addresses on a port where
    // nothing listens.
    std::fs::write(
        &file,
        format!(
            "127.0.0.1/32:{},{} {NAME}\n127.0.0.4/30:{closed}\n",
            a.port, b.port
        ),
    )
    .unwrap();
    let r = lab.scan(&["--targets", file.to_str().unwrap()]);
    for s in [&a, &b] {
        let e = endpoint(&r, &s.place());
        assert_eq!(e["endpoint"]["sni"], NAME);
        assert_eq!(e["occurrences"][0]["container"], format!("sni {NAME}"));
        assert_eq!(e["endpoint"]["verification"]["hostname_match"], true);
    }
    let mut failed: Vec<&str> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    failed.sort();
    let want: Vec<String> = (4..8).map(|i| format!("127.0.0.{i}:{closed}")).collect();
    assert_eq!(failed, want);
}

#[test]
fn endpoints_are_scanned_tls_concurrency_at_a_time() {
    let lab = Lab::valid();
    // Eight listeners that accept and never answer: each handshake costs the 1 s timeout.
    let ports: Vec<u16> = (0..8)
        .map(|_| {
            listen(|s: TcpStream| {
                std::thread::sleep(Duration::from_secs(10));
                drop(s);
            })
        })
        .collect();
    let urls: Vec<String> = ports
        .iter()
        .map(|p| format!("tls://127.0.0.1:{p}"))
        .collect();
    let timed = |extra: &[&str]| {
        let mut args = vec!["--tls-timeout", "1"];
        args.extend_from_slice(extra);
        args.extend(urls.iter().map(String::as_str));
        let start = std::time::Instant::now();
        let r = lab.scan(&args);
        assert_eq!(r["errors"].as_array().unwrap().len(), 8, "{r:#}");
        start.elapsed()
    };
    // Two at a time: four rounds of one timeout each.
    let two = timed(&["--tls-concurrency", "2"]);
    assert!(two >= Duration::from_millis(3900), "{two:?}");
    // All at once (the default, 32): one round.
    let all = timed(&[]);
    assert!(all < Duration::from_millis(2900), "{all:?}");
}

#[test]
fn endpoints_are_judged_against_the_system_bundle_and_the_policys_roots() {
    use trustmap_engine::policy::{SYSTEM_BUNDLES, inputs_and_anchors};
    let lab = Lab::valid();
    let system = SYSTEM_BUNDLES
        .iter()
        .map(Path::new)
        .find(|p| p.is_file())
        .expect("a system CA bundle (Debian: ca-certificates)");
    let in_system = pem_ders(system);
    assert!(in_system.len() > 50, "{system:?}");
    let file = lab.path().join("trustmap.toml");
    let policy = trustmap_core::policy::Policy::from_toml(
        &std::fs::read_to_string(&file).unwrap(),
        "trustmap.toml",
    )
    .unwrap();
    // The anchors the engine hands the TLS source: the system's roots, then the policy's.
    let (_, anchors) = inputs_and_anchors(&policy, Some(&file), &[]).unwrap();
    assert_eq!(anchors.len(), in_system.len() + 1);
    assert_eq!(&anchors[..in_system.len()], &in_system[..]);
    assert_eq!(
        anchors.last().unwrap(),
        &pem_ders(&lab.path().join("root.pem"))[0]
    );
}

/// nginx on 127.0.0.1, stopped when dropped.
struct Nginx {
    child: std::process::Child,
    port: u16,
}

impl Drop for Nginx {
    /// SIGTERM to the master, which stops its worker (SIGKILL would leave it running).
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// nginx serving the lab's leaf and intermediate on a free loopback port, with `ssl`
/// directives added to the server block (its prefix, pid and logs in the lab).
fn nginx(lab: &Lab, ssl: &str) -> Nginx {
    let dir = lab.path();
    let chain = std::fs::read_to_string(dir.join("leaf.pem")).unwrap()
        + &std::fs::read_to_string(dir.join("inter.pem")).unwrap();
    std::fs::write(dir.join("chain.pem"), chain).unwrap();
    let port = free_port();
    let conf = format!(
        "worker_processes 1;\nerror_log {d}/error.log;\npid {d}/nginx.pid;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d};\n  proxy_temp_path {d};\n\
         fastcgi_temp_path {d};\n  uwsgi_temp_path {d};\n  scgi_temp_path {d};\n\
         server {{\n    listen 127.0.0.1:{port} ssl http2;\n    server_name {NAME};\n\
         ssl_certificate {d}/chain.pem;\n    ssl_certificate_key {d}/leaf.key;\n    {ssl}\n\
         return 204;\n  }}\n}}\n",
        d = dir.display()
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let child = Command::new("nginx")
        .args(["-p", dir.to_str().unwrap(), "-c", "nginx.conf"])
        .args(["-g", "daemon off;"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("nginx is installed");
    let start = std::time::Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "nginx did not listen: {log}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Nginx { child, port }
}

#[test]
fn an_nginx_server_is_scanned_with_its_suite_order_alpn_and_chain() {
    let lab = Lab::valid();
    let n = nginx(
        &lab,
        "ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_prefer_server_ciphers on;\n    \
         ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA;",
    );
    let place = format!("127.0.0.1:{}", n.port);
    let r = lab.scan(&["--tls-enumerate", &format!("tls://{place}?sni={NAME}")]);
    assert_eq!(r["errors"], serde_json::json!([]), "{r:#}");
    let e = endpoint(&r, &place);
    let facts = &e["endpoint"];
    assert_eq!(facts["protocol"], "TLSv1.3");
    assert_eq!(facts["alpn"], "h2");
    assert_eq!(facts["chain_length"], 2);
    assert_eq!(
        facts["verification"],
        serde_json::json!({"trusted": true, "hostname_match": true, "chain_complete": true})
    );
    assert_eq!(facts["legacy_protocols"], serde_json::json!([]));
    // The TLS 1.2 suites in nginx's order, which it imposes.
    assert_eq!(
        facts["accepted_suites"]["TLSv1.2"],
        serde_json::json!([
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"
        ])
    );
    assert_eq!(facts["server_preference"], true);
    assert_eq!(facts["pq_key_exchange"], "none");
    assert_eq!(finding(&r, e, "endpoint-weak-cipher")["severity"], "low");
    let mut endpoint_rules: Vec<String> = crate::tls::rules(&r, e)
        .into_iter()
        .filter(|x| x.starts_with("endpoint-"))
        .collect();
    endpoint_rules.sort();
    assert_eq!(
        endpoint_rules,
        vec!["endpoint-no-pq-key-exchange", "endpoint-weak-cipher"]
    );
}

/// `tests/pq-server.py PORT chain.pem leaf.key` in `dir`: OpenSSL 3.5 or later (bundled by
/// pyOpenSSL's `cryptography`), killed when dropped; its stdout lines (the OpenSSL version,
/// then `group NAME` per handshake) collected as they come.
struct PqServer {
    child: std::process::Child,
    port: u16,
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl PqServer {
    fn start(dir: &Path) -> PqServer {
        PqServer::start_with(dir, &[])
    }

    fn start_with(dir: &Path, extra: &[&str]) -> PqServer {
        let mut pem = std::fs::read_to_string(dir.join("leaf.pem")).unwrap();
        pem.push_str(&std::fs::read_to_string(dir.join("inter.pem")).unwrap());
        std::fs::write(dir.join("chain.pem"), pem).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pq-server.py");
        let port = free_port();
        let mut child = Command::new("python3")
            .arg(script)
            .args([&port.to_string(), "chain.pem", "leaf.key"])
            .args(extra)
            .current_dir(dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 is installed (scripts/test)");
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let out = child.stdout.take().unwrap();
        let sink = lines.clone();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(l);
            }
        });
        let start = std::time::Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "pq-server.py did not listen (is pyOpenSSL installed? scripts/test installs it)"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        PqServer { child, port, lines }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

impl Drop for PqServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_hybrid_post_quantum_group_is_negotiated_with_a_server_that_offers_it() {
    let lab = Lab::valid();
    let s = PqServer::start(lab.path());
    let place = format!("127.0.0.1:{}", s.port);
    let r = lab.scan(&[&format!("tls://{place}?sni={NAME}")]);
    assert_eq!(r["errors"], serde_json::json!([]), "{r:#}");
    // The server is OpenSSL 3.5 or later (4.x from the cryptography wheel), which has ML-KEM.
    let version = s.lines().first().cloned().unwrap_or_default();
    let numbers: Vec<u32> = version
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .split('.')
        .filter_map(|n| n.parse().ok())
        .collect();
    assert!(
        numbers.len() >= 2 && (numbers[0], numbers[1]) >= (3, 5),
        "the test server's OpenSSL has no ML-KEM: {version:?}"
    );
    let e = endpoint(&r, &place);
    let facts = &e["endpoint"];
    // trustmap's own handshake negotiated the hybrid group...
    assert_eq!(facts["protocol"], "TLSv1.3");
    assert_eq!(facts["key_exchange_group"], "X25519MLKEM768", "{facts:#}");
    assert_eq!(facts["verification"]["trusted"], true);
    // ...and the server agrees: its first completed handshake (trustmap's) used it. The
    // probes never complete one.
    let groups: Vec<String> = s
        .lines()
        .iter()
        .filter_map(|l| l.strip_prefix("group ").map(str::to_string))
        .collect();
    assert_eq!(
        groups,
        vec!["X25519MLKEM768".to_string()],
        "{:?}",
        s.lines()
    );
    // The probes find the post-quantum groups OpenSSL accepts, the hybrids first.
    let offered: Vec<&str> = facts["groups_offered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap())
        .collect();
    for g in ["X25519MLKEM768", "SecP256r1MLKEM768", "X25519"] {
        assert!(offered.contains(&g), "{g} not in {offered:?}");
    }
    assert_eq!(facts["pq_key_exchange"], "hybrid");
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"] != "endpoint-no-pq-key-exchange"),
        "{:#}",
        r["findings"]
    );
}

#[test]
fn a_server_that_floods_after_the_handshake_is_left_within_the_close_bounds() {
    // After a completed handshake trustmap reads what the server still sends for at most
    // 250 ms and 64 KiB (`handshake.rs`, `close_politely`); this server never stops sending.
    let lab = Lab::valid();
    let s = PqServer::start_with(lab.path(), &["--flood"]);
    let place = format!("127.0.0.1:{}", s.port);
    let target = format!("tls://{place}?sni={NAME}");
    let mut child = scan_command(lab.path(), &[&target])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Read as it comes, so a full pipe never holds the scan up.
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        stdout.read_to_string(&mut out).map(|_| out)
    });
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("the scan did not end within 60 s of a flooding server");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.code().is_some());
    let out = reader.join().unwrap().unwrap();
    let r: Value = serde_json::from_str(&out).unwrap();
    // The handshake completed: the endpoint is reported, with no error.
    assert_eq!(r["errors"], serde_json::json!([]), "{r:#}");
    let e = endpoint(&r, &place);
    assert_eq!(e["endpoint"]["key_exchange_group"], "X25519MLKEM768");
    assert_eq!(e["endpoint"].get("handshake_error"), None);
}
