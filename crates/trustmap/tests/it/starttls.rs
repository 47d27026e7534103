//! STARTTLS endpoints against real servers on 127.0.0.1: SMTP, IMAP, POP3 and LDAP greetings
//! in front of Python's ssl module (OpenSSL) from `tests/starttls-server.py`, and a
//! throwaway PostgreSQL 15 instance with `ssl = on` and a certificate made here. Every
//! connection of a scan (handshake and probes) speaks the preamble first.

use crate::common::free_port;
use crate::tls::{NAME, Pki, endpoint, finding, hostile, rules, scan, served_leaf};
use serde_json::{Value, json};
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Waits until something listens on 127.0.0.1:`port`.
fn listening(port: u16, what: &str) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{what} did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `tests/starttls-server.py PROTO PORT chain.pem leaf.key EXTRA...`, killed when dropped.
struct Mail {
    child: Child,
    port: u16,
}

impl Mail {
    fn start(dir: &Path, proto: &str, extra: &[&str]) -> Mail {
        let chain = dir.join("chain.pem");
        if !chain.exists() {
            let mut pem = std::fs::read_to_string(dir.join("leaf.pem")).unwrap();
            pem.push_str(&std::fs::read_to_string(dir.join("inter.pem")).unwrap());
            std::fs::write(&chain, pem).unwrap();
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/starttls-server.py");
        let port = free_port();
        let child = Command::new("python3")
            .arg(script)
            .args([proto, &port.to_string(), "chain.pem", "leaf.key"])
            .args(extra)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 is installed (scripts/test)");
        listening(port, proto);
        Mail { child, port }
    }

    fn url(&self, proto: &str) -> String {
        format!("{proto}://127.0.0.1:{}?sni={NAME}", self.port)
    }

    fn place(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Mail {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn smtp_imap_pop3_and_ldap_starttls_endpoints_are_scanned_with_their_probes() {
    let dir = tempfile::tempdir().unwrap();
    Pki::valid(dir.path());
    let smtp = Mail::start(dir.path(), "smtp", &[]);
    let imap = Mail::start(dir.path(), "imap", &[]);
    let pop3 = Mail::start(dir.path(), "pop3", &["--tls1_2"]);
    let ldap = Mail::start(dir.path(), "ldap", &[]);
    let r = scan(
        dir.path(),
        &[
            "--tls-enumerate",
            &smtp.url("smtp"),
            &imap.url("imap"),
            &pop3.url("pop3"),
            &ldap.url("ldap"),
        ],
    );
    assert_eq!(r["errors"], json!([]), "{r:#}");
    for (m, proto, version) in [
        (&smtp, "smtp", "TLSv1.3"),
        (&imap, "imap", "TLSv1.3"),
        (&pop3, "pop3", "TLSv1.2"),
        (&ldap, "ldap", "TLSv1.3"),
    ] {
        let e = endpoint(&r, &m.place());
        let facts = &e["endpoint"];
        assert_eq!(facts["starttls"], proto, "{facts:#}");
        assert_eq!(facts["protocol"], version, "{proto}: {facts:#}");
        assert_eq!(facts["chain_length"], 2, "{proto}");
        assert_eq!(
            facts["verification"],
            json!({"trusted": true, "hostname_match": true, "chain_complete": true}),
            "{proto}"
        );
        let leaf = served_leaf(&r, e);
        assert_eq!(leaf["certificate"]["subject"], format!("CN={NAME}"));
        // The probes spoke the preamble too: versions, groups and suites were learned.
        assert_eq!(facts["legacy_protocols"], json!([]), "{proto}");
        let suites = &facts["accepted_suites"];
        if version == "TLSv1.3" {
            assert!(
                facts["groups_offered"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("X25519")),
                "{proto}: {facts:#}"
            );
            let mut v13: Vec<&str> = suites["TLSv1.3"]
                .as_array()
                .unwrap_or_else(|| panic!("{proto}: {facts:#}"))
                .iter()
                .map(|s| s.as_str().unwrap())
                .collect();
            v13.sort();
            assert_eq!(
                v13,
                [
                    "TLS_AES_128_GCM_SHA256",
                    "TLS_AES_256_GCM_SHA384",
                    "TLS_CHACHA20_POLY1305_SHA256"
                ],
                "{proto}"
            );
        } else {
            // TLS 1.2 only: no TLS 1.3 group, and the ECDHE suites of an ECDSA leaf.
            assert_eq!(facts["groups_offered"], json!([]), "{proto}");
            assert_eq!(facts["pq_key_exchange"], "none");
            assert!(
                suites["TLSv1.2"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384")),
                "{proto}: {facts:#}"
            );
        }
        assert!(
            facts["groups_tls12"]
                .as_array()
                .is_some_and(|g| g.contains(&json!("X25519"))),
            "{proto}: {facts:#}"
        );
        assert!(rules(&r, e).contains(&"endpoint-no-pq-key-exchange".to_string()));
        // A STARTTLS endpoint is its own endpoint: its URL keeps the protocol.
        assert_eq!(e["occurrences"][0]["path"], m.place());
    }
}

#[test]
fn a_server_that_refuses_starttls_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    Pki::valid(dir.path());
    let smtp = Mail::start(dir.path(), "smtp", &["--refuse"]);
    let imap = Mail::start(dir.path(), "imap", &["--refuse"]);
    let pop3 = Mail::start(dir.path(), "pop3", &["--refuse"]);
    let ldap = Mail::start(dir.path(), "ldap", &["--refuse"]);
    // A TLS server spoken to as SMTP: no greeting comes (it waits for a ClientHello).
    let tls = crate::common::Server::start(dir.path(), &["-cert_chain", "inter.pem"]);
    let r = scan(
        dir.path(),
        &[
            "--tls-timeout",
            "1",
            &smtp.url("smtp"),
            &imap.url("imap"),
            &pop3.url("pop3"),
            &ldap.url("ldap"),
            &format!("smtp://127.0.0.1:{}", tls.port),
        ],
    );
    let error = |place: String| -> String {
        let e: Vec<&Value> = r["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["path"] == place)
            .collect();
        assert_eq!(e.len(), 1, "{place}: {:#}", r["errors"]);
        e[0]["error"].as_str().unwrap().to_string()
    };
    let p = format!("TLS (sni {NAME}): STARTTLS");
    assert_eq!(
        error(smtp.place()),
        format!(
            "{p} (smtp): the server refused STARTTLS (its EHLO does not offer it): \"502 5.5.1 STARTTLS not available\""
        )
    );
    assert_eq!(
        error(imap.place()),
        format!("{p} (imap): the server refused STARTTLS: \"tm1 BAD STARTTLS not supported\"")
    );
    assert_eq!(
        error(pop3.place()),
        format!("{p} (pop3): the server refused STLS: \"-ERR STLS not supported\"")
    );
    assert_eq!(
        error(ldap.place()),
        format!(
            "{p} (ldap): the server refused StartTLS: LDAP resultCode 2 (protocolError: StartTLS not supported)"
        )
    );
    assert_eq!(
        error(format!("127.0.0.1:{}", tls.port)),
        "TLS: STARTTLS (smtp): timed out before the server was ready for TLS (0 bytes received)"
    );
    let endpoints = r["assets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "endpoint")
        .count();
    assert_eq!(endpoints, 0);
}

#[test]
fn a_starttls_greeting_that_never_ends_stops_at_its_bounds_within_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    Pki::valid(dir.path());
    // Continuation lines, one every 50 ms: never a final line.
    let lines = hostile(|mut s| {
        for _ in 0..1000 {
            if s.write_all(b"220-still greeting\r\n").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    // 16 MB without a line end, as fast as it is read.
    let long = hostile(|mut s| {
        let chunk = vec![b'x'; 64 << 10];
        for _ in 0..256 {
            if s.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    // A byte a second.
    let drip = hostile(|mut s| {
        for b in b"220 mail ESMTP\r\n".iter().cycle().take(60) {
            if s.write_all(&[*b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    let start = Instant::now();
    let r = scan(
        dir.path(),
        &[
            "--tls-timeout",
            "5",
            &format!("smtp://127.0.0.1:{lines}"),
            &format!("imap://127.0.0.1:{long}"),
            &format!("pop3://127.0.0.1:{drip}"),
        ],
    );
    let took = start.elapsed();
    assert!(took < Duration::from_secs(9), "took {took:?}");
    let errors: Vec<(String, String)> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_string(),
                e["error"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(errors.len(), 3, "{errors:#?}");
    let of = |port: u16| {
        errors
            .iter()
            .find(|e| e.0 == format!("127.0.0.1:{port}"))
            .map(|e| e.1.clone())
            .unwrap()
    };
    // 64 lines arrive in 3.2 s, within the 5 s.
    assert_eq!(
        of(lines),
        "TLS: STARTTLS (smtp): the server sent more than 64 lines before it was ready for TLS"
    );
    assert_eq!(
        of(long),
        "TLS: STARTTLS (imap): the server sent a line longer than 1024 bytes"
    );
    assert!(
        of(drip)
            .starts_with("TLS: STARTTLS (pop3): timed out before the server was ready for TLS ("),
        "{}",
        of(drip)
    );
}

/// A throwaway PostgreSQL instance in `dir/pg` on 127.0.0.1:`port`, run as the `postgres`
/// user when the tests run as root (PostgreSQL refuses to run as root); stopped when
/// dropped.
struct Postgres {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    bin: PathBuf,
}

/// The newest installed PostgreSQL's bin directory (Debian: /usr/lib/postgresql/N/bin).
fn pg_bin() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (scripts/test installs postgresql)")
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("no PostgreSQL server under /usr/lib/postgresql")
        .1
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// `cmd` as the postgres user when root.
fn as_pg(bin: &Path, exe: &str) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(exe));
        c
    } else {
        Command::new(bin.join(exe))
    }
}

impl Postgres {
    fn init(dir: &Path) -> Postgres {
        let bin = pg_bin();
        let pg = dir.join("pg");
        std::fs::create_dir(&pg).unwrap();
        let mut chain = std::fs::read_to_string(dir.join("leaf.pem")).unwrap();
        chain.push_str(&std::fs::read_to_string(dir.join("inter.pem")).unwrap());
        std::fs::write(pg.join("server.crt"), chain).unwrap();
        std::fs::copy(dir.join("leaf.key"), pg.join("server.key")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            pg.join("server.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        if is_root() {
            let st = Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(&pg)
                .status()
                .unwrap();
            assert!(st.success());
            // The temporary directory itself must let the postgres user through.
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o711)).unwrap();
        }
        let out = as_pg(&bin, "initdb")
            .args(["-D"])
            .arg(pg.join("data"))
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "--no-instructions",
            ])
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Postgres {
            child: None,
            port: free_port(),
            dir: pg,
            bin,
        }
    }

    fn start(&mut self, ssl: bool) {
        let d = self.dir.to_str().unwrap().to_string();
        let child = as_pg(&self.bin, "postgres")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-p", &self.port.to_string(), "-k", &d])
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .args(["-c", &format!("ssl={}", if ssl { "on" } else { "off" })])
            .args(["-c", &format!("ssl_cert_file={d}/server.crt")])
            .args(["-c", &format!("ssl_key_file={d}/server.key")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run postgres");
        self.child = Some(child);
        listening(self.port, "postgres");
    }

    /// A fast shutdown (SIGINT to the postmaster, named by its pid file: `runuser` does
    /// not pass signals on), waited for.
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let pid = std::fs::read_to_string(self.dir.join("data/postmaster.pid"))
                .ok()
                .and_then(|t| t.lines().next().map(str::to_string))
                .unwrap_or_else(|| c.id().to_string());
            let _ = Command::new("kill").args(["-INT", &pid]).status();
            let start = Instant::now();
            while c.try_wait().ok().flatten().is_none() {
                if start.elapsed() > Duration::from_secs(20) {
                    let _ = c.kill();
                    let _ = c.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

#[test]
fn postgresql_with_ssl_on_serves_its_chain_after_the_ssl_request() {
    let dir = tempfile::tempdir().unwrap();
    Pki::valid(dir.path());
    let mut pg = Postgres::init(dir.path());
    pg.start(true);
    let url = format!("postgres://127.0.0.1:{}?sni={NAME}", pg.port);
    let r = scan(dir.path(), &["--tls-enumerate", &url]);
    assert_eq!(r["errors"], json!([]), "{r:#}");
    let e = endpoint(&r, &format!("127.0.0.1:{}", pg.port));
    let facts = &e["endpoint"];
    assert_eq!(facts["starttls"], "postgres");
    assert_eq!(facts["protocol"], "TLSv1.3");
    assert_eq!(facts["chain_length"], 2);
    assert_eq!(
        facts["verification"],
        json!({"trusted": true, "hostname_match": true, "chain_complete": true})
    );
    assert_eq!(
        served_leaf(&r, e)["certificate"]["subject"],
        format!("CN={NAME}")
    );
    // PostgreSQL 15 sets ssl_min_protocol_version = TLSv1.2 and one ECDH curve
    // (ssl_ecdh_curve = prime256v1) for TLS 1.2 and 1.3 alike.
    assert_eq!(facts["legacy_protocols"], json!([]));
    assert_eq!(facts["key_exchange_group"], "secp256r1", "{facts:#}");
    assert_eq!(facts["groups_offered"], json!(["secp256r1"]), "{facts:#}");
    assert_eq!(facts["groups_tls12"], json!(["secp256r1"]), "{facts:#}");
    let f = finding(&r, e, "endpoint-no-pq-key-exchange");
    assert_eq!(f["evidence"]["negotiated"], "secp256r1");

    // ssl = off: the SSLRequest is answered N, a clear error.
    pg.stop();
    pg.start(false);
    let r = scan(dir.path(), &[&url]);
    assert_eq!(
        r["errors"],
        json!([{"path": format!("127.0.0.1:{}", pg.port),
            "error": format!("TLS (sni {NAME}): STARTTLS (postgres): the server refused SSL (answered N to the SSLRequest: ssl is off)")}])
    );
}
