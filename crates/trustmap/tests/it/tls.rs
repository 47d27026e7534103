//! TLS endpoints: real `openssl s_server` instances on 127.0.0.1 with PKIs made here (a
//! root the test trusts through a policy bundle, an intermediate, leaves with chosen names
//! and dates), and tiny hostile listeners. Only loopback is ever reached.

use crate::common::{Server, free_port, trustmap};
use serde_json::Value;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const NAME: &str = "svc.example.test";
/// Every scan judges as of this instant (`--now`), so the verdicts do not depend on the day.
pub(crate) const NOW: &str = "2026-06-01";

/// A root, an intermediate and a leaf for [`NAME`], written into `dir` (`root.pem`,
/// `inter.pem`, `inter.key`, `leaf.pem`, `leaf.key`), with a policy that trusts the root
/// (`trustmap.toml`, `[trust] bundles`).
pub(crate) struct Pki;

impl Pki {
    pub(crate) fn write(dir: &Path, leaf_dates: ((i32, u8, u8), (i32, u8, u8))) {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca = |cn: &str| {
            let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
            p.distinguished_name.push(DnType::CommonName, cn);
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            p.key_usages = vec![
                rcgen::KeyUsagePurpose::KeyCertSign,
                rcgen::KeyUsagePurpose::CrlSign,
            ];
            p.not_before = rcgen::date_time_ymd(2025, 1, 1);
            p.not_after = rcgen::date_time_ymd(2035, 1, 1);
            p.use_authority_key_identifier_extension = true;
            p
        };
        let root_key = KeyPair::generate().unwrap();
        let root_params = ca("Test Root CA");
        let root = root_params.self_signed(&root_key).unwrap();
        let root_issuer = Issuer::from_params(&root_params, &root_key);
        let inter_key = KeyPair::generate().unwrap();
        let inter_params = ca("Test Issuing CA");
        let inter = inter_params.signed_by(&inter_key, &root_issuer).unwrap();
        let inter_issuer = Issuer::from_params(&inter_params, &inter_key);
        let leaf_key = KeyPair::generate().unwrap();
        let mut lp = CertificateParams::new(vec![NAME.to_string()]).unwrap();
        lp.distinguished_name.push(DnType::CommonName, NAME);
        let ((y0, m0, d0), (y1, m1, d1)) = leaf_dates;
        lp.not_before = rcgen::date_time_ymd(y0, m0, d0);
        lp.not_after = rcgen::date_time_ymd(y1, m1, d1);
        lp.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        lp.use_authority_key_identifier_extension = true;
        let leaf = lp.signed_by(&leaf_key, &inter_issuer).unwrap();
        std::fs::write(dir.join("root.pem"), root.pem()).unwrap();
        std::fs::write(dir.join("inter.pem"), inter.pem()).unwrap();
        std::fs::write(dir.join("leaf.pem"), leaf.pem()).unwrap();
        std::fs::write(dir.join("leaf.key"), leaf_key.serialize_pem()).unwrap();
        std::fs::write(dir.join("inter.key"), inter_key.serialize_pem()).unwrap();
        std::fs::write(
            dir.join("trustmap.toml"),
            "[trust]\nbundles = [\"root.pem\"]\n",
        )
        .unwrap();
    }

    /// A leaf valid at [`NOW`] for under a year (so no validity-length finding).
    pub(crate) fn valid(dir: &Path) {
        Pki::write(dir, ((2026, 1, 1), (2026, 12, 31)));
    }
}

/// A test PKI ([`Pki`]) in a temporary directory, and `openssl s_server` instances serving
/// its leaf: each test says only what its servers are configured with.
pub(crate) struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    /// A leaf valid at [`NOW`], its intermediate and root, the policy trusting the root.
    pub(crate) fn valid() -> Lab {
        let dir = tempfile::tempdir().unwrap();
        Pki::valid(dir.path());
        Lab { dir }
    }

    /// As [`Lab::valid`] with the leaf valid from the first date to the second.
    pub(crate) fn dated(leaf_dates: ((i32, u8, u8), (i32, u8, u8))) -> Lab {
        let dir = tempfile::tempdir().unwrap();
        Pki::write(dir.path(), leaf_dates);
        Lab { dir }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `openssl s_server` serving the leaf and the intermediate, with `flags` (`-tls1_2`,
    /// `-cipher ...`).
    pub(crate) fn serve(&self, flags: &[&str]) -> Server {
        let mut all = vec!["-cert_chain", "inter.pem"];
        all.extend_from_slice(flags);
        Server::start(self.path(), &all)
    }

    /// `openssl s_server` serving the leaf alone (the intermediate missing), with `flags`.
    pub(crate) fn serve_without_intermediate(&self, flags: &[&str]) -> Server {
        Server::start(self.path(), flags)
    }

    /// [`scan`] with this lab's policy.
    pub(crate) fn scan(&self, args: &[&str]) -> Value {
        scan(self.path(), args)
    }
}

/// `trustmap scan --format json --no-store --now NOW --policy DIR/trustmap.toml ARGS`, not
/// started yet.
pub(crate) fn scan_command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trustmap"));
    cmd.args([
        "scan",
        "--format",
        "json",
        "--no-store",
        "--now",
        NOW,
        "--policy",
    ])
    .arg(dir.join("trustmap.toml"))
    .args(args);
    cmd
}

/// [`scan_command`], which must exit 0: the report.
pub(crate) fn scan(dir: &Path, args: &[&str]) -> Value {
    let out = scan_command(dir, args).output().expect("run trustmap");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

pub(crate) fn endpoint<'a>(r: &'a Value, place: &str) -> &'a Value {
    r["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "endpoint" && a["occurrences"][0]["path"] == place)
        .unwrap_or_else(|| panic!("no endpoint {place}: {r:#}"))
}

pub(crate) fn findings<'a>(r: &'a Value, asset: &Value) -> Vec<&'a Value> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["asset"] == asset["id"])
        .collect()
}

pub(crate) fn rules(r: &Value, asset: &Value) -> Vec<String> {
    findings(r, asset)
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

pub(crate) fn served_leaf<'a>(r: &'a Value, ept: &Value) -> &'a Value {
    let rel = r["relations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["from"] == ept["id"] && x["type"] == "serves")
        .expect("a serves relation");
    r["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == rel["to"])
        .unwrap()
}

#[test]
fn a_trusted_chain_for_the_right_name_is_recorded_with_no_endpoint_finding() {
    let lab = Lab::valid();
    let s = lab.serve(&[]);
    let r = lab.scan(&[&s.url(Some(NAME))]);
    assert_eq!(r["errors"], serde_json::json!([]), "{r:#}");
    let e = endpoint(&r, &s.place());
    let facts = &e["endpoint"];
    assert_eq!(facts["host"], "127.0.0.1");
    assert_eq!(facts["sni"], NAME);
    assert_eq!(facts["protocol"], "TLSv1.3");
    assert!(
        facts["cipher_suite"]
            .as_str()
            .unwrap()
            .starts_with("TLS13_")
    );
    assert_eq!(facts["key_exchange_group"], "X25519");
    assert_eq!(facts["ocsp_stapled"], false);
    assert_eq!(facts["chain_length"], 2);
    // OpenSSL 3's default security level refuses TLS 1.0 and 1.1.
    assert_eq!(facts["legacy_protocols"], serde_json::json!([]));
    assert_eq!(
        facts["verification"],
        serde_json::json!({"trusted": true, "hostname_match": true, "chain_complete": true})
    );
    assert!(e["id"].as_str().unwrap().starts_with("ept_"));
    // The leaf, served at host:port, chain[0], linked by `serves`; the intermediate at
    // chain[1], linked to the leaf by `issued-by`.
    let leaf = served_leaf(&r, e);
    assert_eq!(leaf["certificate"]["subject"], format!("CN={NAME}"));
    assert_eq!(leaf["occurrences"][0]["path"], s.place());
    assert_eq!(
        leaf["occurrences"][0]["container"],
        format!("tls chain[0], sni {NAME}")
    );
    assert_eq!(leaf["occurrences"][0]["root"], "tls");
    let inter = r["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["certificate"]["subject"] == "CN=Test Issuing CA")
        .unwrap();
    assert_eq!(
        inter["occurrences"][0]["container"],
        format!("tls chain[1], sni {NAME}")
    );
    assert!(r["relations"].as_array().unwrap().contains(
        &serde_json::json!({"from": leaf["id"], "to": inter["id"], "type": "issued-by"})
    ));
    // Only the endpoint's ownership is open; nothing about the chain or the name.
    // OpenSSL 3.0 has no ML-KEM: the explicit "no post-quantum key exchange" result.
    assert_eq!(
        rules(&r, e),
        vec!["asset-unowned", "endpoint-no-pq-key-exchange"],
        "{:#}",
        r["findings"]
    );
    for f in r["findings"].as_array().unwrap() {
        let rule = f["rule"].as_str().unwrap();
        assert!(
            rule == "asset-unowned"
                || rule == "key-quantum-vulnerable"
                || rule == "endpoint-no-pq-key-exchange",
            "unexpected {f:#}"
        );
    }
}

#[test]
fn a_name_the_certificate_does_not_carry_is_a_hostname_mismatch() {
    let lab = Lab::valid();
    let s = lab.serve(&[]);
    let r = lab.scan(&[&s.url(Some("other.example.test"))]);
    let e = endpoint(&r, &s.place());
    assert_eq!(e["endpoint"]["verification"]["hostname_match"], false);
    assert_eq!(e["endpoint"]["verification"]["trusted"], true);
    assert_eq!(e["occurrences"][0]["container"], "sni other.example.test");
    let f = findings(&r, e);
    let m = f
        .iter()
        .find(|f| f["rule"] == "endpoint-hostname-mismatch")
        .unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!(m["severity"], "high");
    assert_eq!(m["evidence"]["name"], "other.example.test");
    assert_eq!(m["evidence"]["sans"], format!("DNS:{NAME}"));
    assert!(
        m["message"]
            .as_str()
            .unwrap()
            .contains("not valid for other.example.test"),
        "{m:#}"
    );
    assert!(!rules(&r, e).contains(&"endpoint-cert-invalid".to_string()));
}

#[test]
fn an_expired_leaf_is_an_invalid_chain_naming_the_expiry() {
    let lab = Lab::dated(((2024, 1, 1), (2025, 6, 1)));
    let s = lab.serve(&[]);
    let r = lab.scan(&[&s.url(Some(NAME))]);
    let e = endpoint(&r, &s.place());
    // Trust is judged apart from dates: the chain itself is sound.
    assert_eq!(e["endpoint"]["verification"]["trusted"], true);
    let f = findings(&r, e);
    let inv = f
        .iter()
        .find(|f| f["rule"] == "endpoint-cert-invalid")
        .unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!(inv["evidence"]["expired"], "2025-06-01T00:00:00Z");
    let msg = inv["message"].as_str().unwrap();
    assert!(
        msg.contains("expired") && msg.contains("2025-06-01"),
        "{msg}"
    );
    assert!(
        !msg.contains("untrusted") && !msg.contains("incomplete"),
        "{msg}"
    );
    assert!(!rules(&r, e).contains(&"endpoint-hostname-mismatch".to_string()));
    // The served leaf is a certificate like any other: cert-expired too.
    let leaf = served_leaf(&r, e);
    assert!(rules(&r, leaf).contains(&"cert-expired".to_string()));
}

#[test]
fn a_missing_intermediate_is_an_incomplete_chain() {
    let lab = Lab::valid();
    let s = lab.serve_without_intermediate(&[]);
    let r = lab.scan(&[&s.url(Some(NAME))]);
    let e = endpoint(&r, &s.place());
    let v = &e["endpoint"]["verification"];
    assert_eq!(v["chain_complete"], false);
    assert_eq!(v["trusted"], false);
    assert!(
        v["error"].as_str().unwrap().contains("unknown issuer"),
        "{v}"
    );
    assert_eq!(e["endpoint"]["chain_length"], 1);
    let f = findings(&r, e);
    let inv = f
        .iter()
        .find(|f| f["rule"] == "endpoint-cert-invalid")
        .unwrap_or_else(|| panic!("{f:#?}"));
    let msg = inv["message"].as_str().unwrap();
    assert!(
        msg.ends_with(
            "serves an invalid chain: incomplete chain: an intermediate is missing \
             (1 certificate served; nothing served or trusted is its issuer CN=Test Issuing CA)"
        ),
        "{msg}"
    );
    assert_eq!(inv["evidence"]["chain_complete"], "false");
    assert_eq!(inv["evidence"]["missing_issuer"], "CN=Test Issuing CA");
    assert_eq!(v["missing_issuer"], "CN=Test Issuing CA");
}

#[test]
fn an_untrusted_root_is_an_invalid_chain_without_the_policy_bundle() {
    let lab = Lab::valid();
    // The same complete chain, judged without the test root: no trust anchor.
    std::fs::write(lab.path().join("trustmap.toml"), "").unwrap();
    let s = lab.serve(&[]);
    let r = lab.scan(&[&s.url(Some(NAME))]);
    let e = endpoint(&r, &s.place());
    let v = &e["endpoint"]["verification"];
    // The intermediate was served: its issuer is a root the client must hold, so the chain
    // is complete, and untrusted.
    assert_eq!(
        (&v["trusted"], &v["chain_complete"]),
        (&Value::Bool(false), &Value::Bool(true))
    );
    let f = findings(&r, e);
    let inv = f
        .iter()
        .find(|f| f["rule"] == "endpoint-cert-invalid")
        .unwrap();
    let msg = inv["message"].as_str().unwrap();
    assert!(
        msg.ends_with(
            "serves an invalid chain: untrusted: unknown issuer: the served chain reaches no \
             trust anchor"
        ),
        "{msg}"
    );
}

#[test]
fn the_negotiated_version_is_recorded() {
    let lab = Lab::valid();
    let v13 = lab.serve(&["-tls1_3"]);
    let v12 = lab.serve(&["-tls1_2"]);
    let r = lab.scan(&[&v13.url(Some(NAME)), &v12.url(Some(NAME))]);
    let e13 = &endpoint(&r, &v13.place())["endpoint"];
    assert_eq!(e13["protocol"], "TLSv1.3");
    assert!(e13["cipher_suite"].as_str().unwrap().starts_with("TLS13_"));
    let e12 = &endpoint(&r, &v12.place())["endpoint"];
    assert_eq!(e12["protocol"], "TLSv1.2");
    assert!(
        e12["cipher_suite"]
            .as_str()
            .unwrap()
            .starts_with("TLS_ECDHE_ECDSA_WITH_"),
        "{e12}"
    );
}

#[test]
fn a_certificate_on_disk_and_served_is_one_asset_with_both_places() {
    let lab = Lab::valid();
    let tree = lab.path().join("etc");
    std::fs::create_dir(&tree).unwrap();
    std::fs::copy(lab.path().join("leaf.pem"), tree.join("tls.crt")).unwrap();
    let s = lab.serve(&[]);
    let r = lab.scan(&[tree.to_str().unwrap(), &s.url(Some(NAME))]);
    let e = endpoint(&r, &s.place());
    let leaf = served_leaf(&r, e);
    let places: Vec<(&str, &str)> = leaf["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["path"].as_str().unwrap(), o["root"].as_str().unwrap()))
        .collect();
    let root = tree.to_str().unwrap();
    assert!(
        places.contains(&("tls.crt", root)) || places.iter().any(|p| p.0.ends_with("tls.crt")),
        "{places:?}"
    );
    assert!(places.contains(&(s.place().as_str(), "tls")), "{places:?}");
    assert_eq!(places.len(), 2);
    let same_subject = r["assets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["certificate"]["subject"] == format!("CN={NAME}"))
        .count();
    assert_eq!(same_subject, 1);
}

#[test]
fn a_targets_file_names_endpoints_and_a_refused_one_is_an_error_the_run_survives() {
    let lab = Lab::valid();
    let s = lab.serve(&[]);
    let closed = free_port();
    let file = lab.path().join("targets.txt");
    std::fs::write(
        &file,
        format!(
            "# loopback only\n127.0.0.1:{} {NAME}\n127.0.0.1:{closed}   # nothing listens\n",
            s.port
        ),
    )
    .unwrap();
    let r = lab.scan(&["--targets", file.to_str().unwrap()]);
    let e = endpoint(&r, &s.place());
    assert_eq!(e["endpoint"]["verification"]["trusted"], true);
    let errors = r["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["path"], format!("127.0.0.1:{closed}"));
    assert!(
        errors[0]["error"].as_str().unwrap().contains("refused"),
        "{errors:#?}"
    );
    // Bad lines stop the scan before any connection, naming file and line.
    std::fs::write(&file, "127.0.0.1:1\n10.0.0.0/8\n").unwrap();
    let (code, _, stderr) = trustmap(&["scan", "--no-store", "--targets", file.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("targets.txt:2: more than 65536 endpoints"),
        "{stderr}"
    );
}

/// A loopback listener that treats every connection with `serve` on its own thread.
pub(crate) fn hostile(serve: fn(TcpStream)) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || serve(s));
        }
    });
    port
}

/// Waits for the ClientHello to arrive (without reading it).
pub(crate) fn client_hello_arrives(s: &TcpStream) {
    let mut b = [0u8; 1];
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = s.peek(&mut b);
}

/// Runs trustmap, sampling its peak resident memory (VmHWM) until it exits.
pub(crate) fn run_measured(args: &[&str]) -> (i32, String, String, u64) {
    let child = Command::new(env!("CARGO_BIN_EXE_trustmap"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampler = {
        let peak = peak.clone();
        std::thread::spawn(move || {
            while let Ok(s) = std::fs::read_to_string(&status) {
                if s.contains("State:\tZ") {
                    break;
                }
                if let Some(kb) = s
                    .lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
                {
                    peak.fetch_max(kb, std::sync::atomic::Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let out = child.wait_with_output().unwrap();
    let _ = sampler.join();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        peak.load(std::sync::atomic::Ordering::Relaxed),
    )
}

#[test]
fn hostile_peers_end_within_the_timeouts_as_errors_and_the_rest_is_scanned() {
    let lab = Lab::valid();
    let good = lab.serve(&[]);
    // Accepts and never answers.
    let silent = hostile(|s| {
        std::thread::sleep(Duration::from_secs(30));
        drop(s);
    });
    // Answers the ClientHello with text.
    let garbage = hostile(|mut s| {
        client_hello_arrives(&s);
        let _ = s.write_all(&b"HTTP/1.1 400 Bad Request\r\n\r\nnot TLS at all\r\n".repeat(64));
        std::thread::sleep(Duration::from_secs(30));
    });
    // Closes with the ClientHello unread: the kernel answers with a reset.
    let reset = hostile(|s| {
        client_hello_arrives(&s);
        drop(s);
    });
    // The start of a ServerHello record, one byte a second.
    let drip = hostile(|mut s| {
        client_hello_arrives(&s);
        for b in [
            0x16u8, 0x03, 0x03, 0x40, 0x00, 0x02, 0x00, 0x3f, 0xfc, 0x03, 0x03,
        ]
        .iter()
        .cycle()
        {
            if s.write_all(&[*b]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    // A Certificate handshake message that claims 16 MB, then streams it.
    let huge = hostile(|mut s| {
        client_hello_arrives(&s);
        let mut first = vec![0x16, 0x03, 0x03, 0x40, 0x00, 0x0b, 0xff, 0xff, 0xff];
        first.resize(5 + 0x4000, 0x30);
        if s.write_all(&first).is_err() {
            return;
        }
        let mut record = vec![0x16, 0x03, 0x03, 0x40, 0x00];
        record.resize(5 + 0x4000, 0x30);
        for _ in 0..1024 {
            if s.write_all(&record).is_err() {
                return;
            }
        }
    });
    let policy = lab.path().join("trustmap.toml");
    let urls: Vec<String> = [silent, garbage, reset, drip, huge]
        .iter()
        .map(|p| format!("tls://127.0.0.1:{p}"))
        .chain([good.url(Some(NAME))])
        .collect();
    let mut args = vec![
        "scan",
        "--format",
        "json",
        "--no-store",
        "--now",
        NOW,
        "--tls-timeout",
        "1",
        "--policy",
        policy.to_str().unwrap(),
    ];
    args.extend(urls.iter().map(String::as_str));
    let start = Instant::now();
    let (code, stdout, stderr, peak_kb) = run_measured(&args);
    let took = start.elapsed();
    assert_eq!(code, 0, "{stderr}");
    // Connect and handshake timeouts of 1 s each, all in flight at once.
    assert!(took < Duration::from_secs(8), "took {took:?}");
    let r: Value = serde_json::from_str(&stdout).unwrap();
    // The good endpoint is scanned in the same run.
    assert_eq!(
        endpoint(&r, &good.place())["endpoint"]["verification"]["trusted"],
        true
    );
    let error = |port: u16| -> String {
        let place = format!("127.0.0.1:{port}");
        let e: Vec<&Value> = r["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["path"] == place)
            .collect();
        assert_eq!(e.len(), 1, "{place}: {:#}", r["errors"]);
        e[0]["error"].as_str().unwrap().to_string()
    };
    let e = error(silent);
    assert!(
        e.contains("handshake timed out after 1.0 s (0 bytes received)"),
        "{e}"
    );
    let e = error(garbage);
    assert!(e.starts_with("TLS: handshake failed:"), "{e}");
    let e = error(reset);
    assert!(
        e.contains("connection reset during the handshake")
            || e.contains("closed the connection during the handshake"),
        "{e}"
    );
    let e = error(drip);
    assert!(e.contains("handshake timed out after 1.0 s"), "{e}");
    let e = error(huge);
    assert!(e.contains("a handshake message over 64 KiB"), "{e}");
    assert_eq!(r["errors"].as_array().unwrap().len(), 5);
    // No endpoint asset for a failed handshake.
    let endpoints = r["assets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "endpoint")
        .count();
    assert_eq!(endpoints, 1);
    // The 16 MB message was never buffered: rustls refuses a handshake message over 64 KiB
    // from its header, and each read is bounded. Memory is that of a run without the hostile
    // peers, within 12 MiB (allocator arenas of the worker threads vary by a few).
    let n = args.len() - urls.len();
    let mut alone = args[..n].to_vec();
    alone.push(urls.last().unwrap());
    let (code, _, stderr, alone_kb) = run_measured(&alone);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        peak_kb > 0 && peak_kb < alone_kb + 12 * 1024,
        "peak RSS {peak_kb} kB with the hostile peers, {alone_kb} kB without"
    );
    eprintln!("hostile peers: {took:?}, peak RSS {peak_kb} kB ({alone_kb} kB without them)");
}

#[test]
fn a_chain_longer_than_the_bound_is_an_error() {
    let lab = Lab::valid();
    let inter = std::fs::read_to_string(lab.path().join("inter.pem")).unwrap();
    std::fs::write(lab.path().join("long.pem"), inter.repeat(17)).unwrap();
    let s = lab.serve_without_intermediate(&["-cert_chain", "long.pem"]);
    let r = lab.scan(&[&s.url(Some(NAME))]);
    assert_eq!(
        r["errors"],
        serde_json::json!([{"path": s.place(),
            "error": format!("TLS (sni {NAME}): the server sent 18 certificates; more than 16 is not a chain")}])
    );
}

#[test]
fn legacy_versions_are_found_by_raw_client_hello_probes() {
    let lab = Lab::valid();
    // Security level 0 lets OpenSSL 3 accept TLS 1.0 and 1.1 next to 1.2 and 1.3 (it is
    // built without SSL 3.0).
    let old = lab.serve(&["-cipher", "DEFAULT:@SECLEVEL=0"]);
    let only11 = lab.serve(&["-cipher", "DEFAULT:@SECLEVEL=0", "-no_tls1"]);
    let r = lab.scan(&[&old.url(Some(NAME)), &only11.url(Some(NAME))]);
    let e = endpoint(&r, &old.place());
    assert_eq!(e["endpoint"]["protocol"], "TLSv1.3");
    assert_eq!(
        e["endpoint"]["legacy_protocols"],
        serde_json::json!(["TLSv1.0", "TLSv1.1"])
    );
    let f = findings(&r, e);
    let l = f
        .iter()
        .find(|f| f["rule"] == "endpoint-legacy-protocol")
        .unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!(l["severity"], "high");
    assert_eq!(l["evidence"]["accepted"], "TLSv1.0,TLSv1.1");
    assert!(
        l["message"]
            .as_str()
            .unwrap()
            .ends_with("accepts TLSv1.0, TLSv1.1 (negotiates TLSv1.3 with a current client)"),
        "{l:#}"
    );
    let e = endpoint(&r, &only11.place());
    assert_eq!(
        e["endpoint"]["legacy_protocols"],
        serde_json::json!(["TLSv1.1"])
    );
}

/// The finding of `rule` on `e`.
pub(crate) fn finding<'a>(r: &'a Value, e: &Value, rule: &str) -> &'a Value {
    let f = findings(r, e);
    f.into_iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule}: {:#}", r["findings"]))
}

#[test]
fn weak_suites_and_server_preference_are_enumerated_with_tls_enumerate() {
    let lab = Lab::valid();
    // The leaf is ECDSA. OpenSSL 3.0 here is built without RC4, DES, 3DES and EXPORT, so
    // the weak suites a real server can be made to accept are NULL and anonymous ones.
    let weak = lab.serve(&["-serverpref",
            "-cipher",
            "ECDHE-ECDSA-NULL-SHA:AECDH-AES128-SHA:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES128-GCM-SHA256:@SECLEVEL=0",
            "-ciphersuites",
            "TLS_AES_128_GCM_SHA256",
        ],
    );
    // CBC with SHA-1 next to AEAD, client preference.
    let sha1 = lab.serve(&[
        "-cipher",
        "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-GCM-SHA384",
    ]);
    // AEAD only.
    let clean = lab.serve(&["-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"]);
    let r = lab.scan(&[
        "--tls-enumerate",
        &weak.url(Some(NAME)),
        &sha1.url(Some(NAME)),
        &clean.url(Some(NAME)),
    ]);
    assert_eq!(r["errors"], serde_json::json!([]), "{r:#}");
    let e = endpoint(&r, &weak.place());
    // Security level 0 lets TLS 1.0 and 1.1 in too, with the suites they have (no GCM), in
    // the server's order.
    let legacy = serde_json::json!([
        "TLS_ECDHE_ECDSA_WITH_NULL_SHA",
        "TLS_ECDH_anon_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"
    ]);
    assert_eq!(
        e["endpoint"]["accepted_suites"],
        serde_json::json!({
            "TLSv1.0": legacy,
            "TLSv1.1": legacy,
            "TLSv1.2": [
                "TLS_ECDHE_ECDSA_WITH_NULL_SHA",
                "TLS_ECDH_anon_WITH_AES_128_CBC_SHA",
                "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
            ],
            "TLSv1.3": ["TLS_AES_128_GCM_SHA256"]
        })
    );
    assert_eq!(e["endpoint"]["server_preference"], true);
    let f = finding(&r, e, "endpoint-weak-cipher");
    assert_eq!(f["severity"], "high");
    let weak_in = |v: &str| {
        format!(
            "TLS_ECDHE_ECDSA_WITH_NULL_SHA (NULL, {v}),TLS_ECDH_anon_WITH_AES_128_CBC_SHA (anonymous, {v})"
        )
    };
    assert_eq!(
        f["evidence"]["weak"],
        ["TLSv1.0", "TLSv1.1", "TLSv1.2"].map(weak_in).join(",")
    );
    assert_eq!(
        f["evidence"]["cbc_sha1"],
        ["TLSv1.0", "TLSv1.1", "TLSv1.2"]
            .map(|v| format!("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA ({v})"))
            .join(",")
    );

    let e = endpoint(&r, &sha1.place());
    assert_eq!(
        e["endpoint"]["accepted_suites"]["TLSv1.2"],
        serde_json::json!([
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"
        ])
    );
    // s_server follows the client's order unless told otherwise.
    assert_eq!(e["endpoint"]["server_preference"], false);
    let f = finding(&r, e, "endpoint-weak-cipher");
    assert_eq!(f["severity"], "low");
    assert!(
        f["message"].as_str().unwrap().ends_with(
            "accepts CBC suites with SHA-1: TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA (TLSv1.2)"
        ),
        "{f:#}"
    );

    let e = endpoint(&r, &clean.place());
    assert_eq!(
        e["endpoint"]["accepted_suites"]["TLSv1.2"],
        serde_json::json!(["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"])
    );
    assert_eq!(e["endpoint"]["server_preference"], Value::Null);
    assert!(!rules(&r, e).contains(&"endpoint-weak-cipher".to_string()));

    // Without --tls-enumerate no suite is probed, and nothing is said about them.
    let r = lab.scan(&[&weak.url(Some(NAME))]);
    let e = endpoint(&r, &weak.place());
    assert_eq!(e["endpoint"].get("accepted_suites"), None);
    assert!(!rules(&r, e).contains(&"endpoint-weak-cipher".to_string()));
}

#[test]
fn the_groups_a_server_accepts_are_probed_and_no_pq_is_said_explicitly() {
    let lab = Lab::valid();
    let two = lab.serve(&["-groups", "P-384:X25519"]);
    let only12 = lab.serve(&["-tls1_2"]);
    let r = lab.scan(&[&two.url(Some(NAME)), &only12.url(Some(NAME))]);
    let e = endpoint(&r, &two.place());
    // Probed in trustmap's order, each alone; negotiated kept apart.
    assert_eq!(
        e["endpoint"]["groups_offered"],
        serde_json::json!(["X25519", "secp384r1"])
    );
    assert_eq!(e["endpoint"]["pq_key_exchange"], "none");
    let f = finding(&r, e, "endpoint-no-pq-key-exchange");
    assert_eq!(f["severity"], "low");
    assert_eq!(f["evidence"]["groups_offered"], "X25519,secp384r1");
    assert_eq!(f["evidence"]["negotiated"], "X25519");
    assert!(
        f["message"].as_str().unwrap().ends_with(
            ": no post-quantum key exchange (groups accepted: X25519, secp384r1; negotiated X25519)"
        ),
        "{f:#}"
    );
    // TLS 1.2 only: no TLS 1.3 group, so no post-quantum key exchange either.
    let e = endpoint(&r, &only12.place());
    assert_eq!(e["endpoint"]["groups_offered"], serde_json::json!([]));
    assert_eq!(e["endpoint"]["pq_key_exchange"], "none");
    let f = finding(&r, e, "endpoint-no-pq-key-exchange");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("groups accepted: none over TLS 1.3"),
        "{f:#}"
    );
}

#[test]
fn a_renewal_on_disk_that_the_endpoint_does_not_serve_is_a_stale_certificate() {
    use rcgen::{CertificateParams, DnType, KeyPair};
    let lab = Lab::valid();
    let tree = lab.path().join("etc");
    std::fs::create_dir(&tree).unwrap();
    // The old certificate (issued 2026-01-01) is served and on disk; the renewal for the
    // same name, issued 2026-05-01, valid at NOW, sits next to it and is served nowhere.
    std::fs::copy(lab.path().join("leaf.pem"), tree.join("svc-old.crt")).unwrap();
    let renewed = |nb: (i32, u8, u8), file: &str| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(vec![NAME.to_string()]).unwrap();
        p.distinguished_name.push(DnType::CommonName, NAME);
        p.not_before = rcgen::date_time_ymd(nb.0, nb.1, nb.2);
        p.not_after = rcgen::date_time_ymd(2027, 4, 1);
        std::fs::write(tree.join(file), p.self_signed(&key).unwrap().pem()).unwrap();
    };
    renewed((2026, 5, 1), "svc.crt");
    let s = lab.serve(&[]);
    let r = lab.scan(&[tree.to_str().unwrap(), &s.url(Some(NAME))]);
    let e = endpoint(&r, &s.place());
    let f = finding(&r, e, "endpoint-serves-stale-certificate");
    assert_eq!(f["severity"], "medium");
    assert_eq!(f["evidence"]["name"], NAME);
    assert_eq!(f["evidence"]["served"], served_leaf(&r, e)["id"]);
    assert_eq!(f["evidence"]["served_not_before"], "2026-01-01T00:00:00Z");
    assert_eq!(f["evidence"]["newer_not_before"], "2026-05-01T00:00:00Z");
    assert!(
        f["evidence"]["newer_at"]
            .as_str()
            .unwrap()
            .ends_with("svc.crt"),
        "{f:#}"
    );

    // A "renewal" not valid until after NOW is not one yet: silent.
    std::fs::remove_file(tree.join("svc.crt")).unwrap();
    renewed((2026, 7, 1), "svc-next.crt");
    let r = lab.scan(&[tree.to_str().unwrap(), &s.url(Some(NAME))]);
    let e = endpoint(&r, &s.place());
    assert!(
        !rules(&r, e).contains(&"endpoint-serves-stale-certificate".to_string()),
        "{:#}",
        r["findings"]
    );
}

#[test]
fn a_server_rustls_cannot_talk_to_is_still_reported_from_a_raw_handshake() {
    let lab = Lab::valid();
    // TLS 1.0 only (OpenSSL 3 is built without SSL 3.0, so this is the oldest testable).
    let tls10 = lab.serve(&["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"]);
    // TLS 1.2 with one CBC suite, which rustls does not implement.
    let cbc = lab.serve(&["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA"]);
    let r = lab.scan(&[
        "--tls-enumerate",
        &tls10.url(Some(NAME)),
        &cbc.url(Some(NAME)),
    ]);
    assert_eq!(r["errors"], serde_json::json!([]), "{r:#}");
    let e = endpoint(&r, &tls10.place());
    let facts = &e["endpoint"];
    assert_eq!(facts["protocol"], "TLSv1.0", "{facts:#}");
    assert_eq!(facts["legacy_protocols"], serde_json::json!(["TLSv1.0"]));
    assert!(
        facts["handshake_error"]
            .as_str()
            .unwrap()
            .starts_with("handshake failed:"),
        "{facts:#}"
    );
    // The chain was read from the plaintext first flight, and judged as any other.
    assert_eq!(facts["chain_length"], 2);
    assert_eq!(
        facts["verification"],
        serde_json::json!({"trusted": true, "hostname_match": true, "chain_complete": true})
    );
    assert_eq!(
        served_leaf(&r, e)["certificate"]["subject"],
        format!("CN={NAME}")
    );
    let l = finding(&r, e, "endpoint-legacy-protocol");
    assert_eq!(l["evidence"]["accepted"], "TLSv1.0");
    assert_eq!(facts["pq_key_exchange"], "none");

    let e = endpoint(&r, &cbc.place());
    let facts = &e["endpoint"];
    assert_eq!(facts["protocol"], "TLSv1.2");
    assert_eq!(
        facts["cipher_suite"],
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"
    );
    // Read from the ServerKeyExchange of the raw first flight.
    assert_eq!(facts["key_exchange_group"], "X25519");
    assert_eq!(
        facts["accepted_suites"]["TLSv1.2"],
        serde_json::json!(["TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"])
    );
    assert_eq!(finding(&r, e, "endpoint-weak-cipher")["severity"], "low");
    assert_eq!(facts["legacy_protocols"], serde_json::json!([]));
}

#[test]
fn tls12_ecdhe_curves_are_enumerated_each_alone() {
    let lab = Lab::valid();
    let s = lab.serve(&["-tls1_2", "-groups", "P-384:X25519:P-521"]);
    let r = lab.scan(&["--tls-enumerate", &s.url(Some(NAME))]);
    let facts = &endpoint(&r, &s.place())["endpoint"];
    assert_eq!(
        facts["groups_tls12"],
        serde_json::json!(["X25519", "secp384r1", "secp521r1"]),
        "{facts:#}"
    );
    // Over TLS 1.2 there is no TLS 1.3 group to offer.
    assert_eq!(facts["groups_offered"], serde_json::json!([]));
    // Without --tls-enumerate the curves are not probed.
    let r = lab.scan(&[&s.url(Some(NAME))]);
    assert_eq!(
        endpoint(&r, &s.place())["endpoint"].get("groups_tls12"),
        None
    );
}

/// A loopback listener on `ip` that records when each connection arrives and answers
/// with text (not TLS), so each target costs one connection.
fn counting(ip: &str, seen: std::sync::Arc<std::sync::Mutex<Vec<(u16, Instant)>>>) -> u16 {
    let l = TcpListener::bind((ip, 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            seen.lock().unwrap().push((port, Instant::now()));
            std::thread::spawn(move || {
                let mut s = s;
                client_hello_arrives(&s);
                let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
            });
        }
    });
    port
}

#[test]
fn the_per_host_rate_limit_spaces_connections_to_one_address() {
    let lab = Lab::valid();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let one: Vec<u16> = (0..6)
        .map(|_| counting("127.0.0.1", seen.clone()))
        .collect();
    // Another address of the loopback block: a host of its own.
    let other = counting("127.0.0.2", seen.clone());
    let mut urls: Vec<String> = one.iter().map(|p| format!("tls://127.0.0.1:{p}")).collect();
    urls.push(format!("tls://127.0.0.2:{other}"));
    let mut args = vec!["--tls-rate-per-host", "4"];
    args.extend(urls.iter().map(String::as_str));
    let start = Instant::now();
    let r = lab.scan(&args);
    let took = start.elapsed();
    assert_eq!(r["errors"].as_array().unwrap().len(), 7, "{r:#}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 7, "one connection per target: {seen:?}");
    // Six connections to 127.0.0.1 at 4 a second: slots 250 ms apart, the last at 1.25 s.
    let mut at: Vec<Instant> = seen
        .iter()
        .filter(|(p, _)| *p != other)
        .map(|s| s.1)
        .collect();
    at.sort();
    let span = at[5] - at[0];
    assert!(
        span >= Duration::from_millis(1150),
        "6 connections in {span:?}"
    );
    assert!(took >= Duration::from_millis(1250), "{took:?}");
    // 127.0.0.2 waited for nobody: its connection came within the first slot or two.
    let t_other = seen.iter().find(|(p, _)| *p == other).unwrap().1;
    assert!(
        t_other.saturating_duration_since(at[0]) < Duration::from_millis(400),
        "127.0.0.2 at {:?}",
        t_other.saturating_duration_since(at[0])
    );
    // Without the limit the same scan does not wait.
    let start = Instant::now();
    let _ = lab.scan(&urls.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(start.elapsed() < took, "{:?} vs {took:?}", start.elapsed());
}

#[test]
fn a_name_that_does_not_resolve_is_an_error_within_the_timeout() {
    let lab = Lab::valid();
    let good = lab.serve(&[]);
    let start = Instant::now();
    // `.invalid` is reserved: no resolver answers it with an address (RFC 6761).
    let r = lab.scan(&[
        "--tls-timeout",
        "1",
        "tls://no-such-host.invalid:443",
        &good.url(Some(NAME)),
    ]);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let errors = r["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["path"], "no-such-host.invalid:443");
    let e = errors[0]["error"].as_str().unwrap();
    // Either the resolver says so, or it does not answer within the 1 s.
    assert!(
        e.starts_with("TLS: cannot resolve no-such-host.invalid: "),
        "{e}"
    );
    assert_eq!(
        endpoint(&r, &good.place())["endpoint"]["verification"]["trusted"],
        true
    );
}

#[test]
fn a_renewal_the_store_holds_from_an_earlier_scan_makes_the_served_leaf_stale() {
    use crate::common::{backends, on_db_ok};
    use rcgen::{CertificateParams, DnType, KeyPair};
    for db in backends("tls", "stale_store") {
        let lab = Lab::valid();
        let tree = lab.path().join("etc");
        std::fs::create_dir(&tree).unwrap();
        // The renewal for NAME (issued 2026-05-01, after the served leaf's 2026-01-01),
        // on disk only.
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(vec![NAME.to_string()]).unwrap();
        p.distinguished_name.push(DnType::CommonName, NAME);
        p.not_before = rcgen::date_time_ymd(2026, 5, 1);
        p.not_after = rcgen::date_time_ymd(2027, 4, 1);
        std::fs::write(tree.join("svc.crt"), p.self_signed(&key).unwrap().pem()).unwrap();
        let policy = lab.path().join("trustmap.toml");
        let policy = policy.to_str().unwrap();
        let s = lab.serve(&[]);
        // First the tree into the store, then only the endpoint.
        on_db_ok(
            &db,
            0,
            &[
                "scan",
                "--now",
                NOW,
                "--policy",
                policy,
                "--quiet",
                tree.to_str().unwrap(),
            ],
        );
        let out = on_db_ok(
            &db,
            0,
            &[
                "scan",
                "--now",
                NOW,
                "--policy",
                policy,
                "--quiet",
                "--format",
                "json",
                &s.url(Some(NAME)),
            ],
        );
        let r: Value = serde_json::from_str(&out).unwrap();
        let e = endpoint(&r, &s.place());
        let f = finding(&r, e, "endpoint-serves-stale-certificate");
        assert_eq!(f["evidence"]["name"], NAME, "[{}]", db.name);
        assert_eq!(f["evidence"]["newer_not_before"], "2026-05-01T00:00:00Z");
        assert_eq!(f["evidence"]["newer_at"], "svc.crt", "[{}] {f:#}", db.name);
        // The newer certificate is the inventory's, not this scan's.
        let newer = f["evidence"]["newer"].as_str().unwrap();
        assert!(
            !r["assets"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["id"] == newer),
            "[{}]",
            db.name
        );
        // Once the renewal is gone from disk (scanned again), the store no longer holds it
        // as present: silent.
        std::fs::remove_file(tree.join("svc.crt")).unwrap();
        on_db_ok(
            &db,
            0,
            &[
                "scan",
                "--now",
                NOW,
                "--policy",
                policy,
                "--quiet",
                tree.to_str().unwrap(),
            ],
        );
        let out = on_db_ok(
            &db,
            0,
            &[
                "scan",
                "--now",
                NOW,
                "--policy",
                policy,
                "--quiet",
                "--format",
                "json",
                &s.url(Some(NAME)),
            ],
        );
        let r: Value = serde_json::from_str(&out).unwrap();
        let e = endpoint(&r, &s.place());
        assert!(
            !rules(&r, e).contains(&"endpoint-serves-stale-certificate".to_string()),
            "[{}] {:#}",
            db.name,
            r["findings"]
        );
    }
}
