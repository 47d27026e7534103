//! Helpers shared by the CLI tests: run the real binary, make fixtures with openssl, make
//! tokens that are generated, never real.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn trustmap(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_trustmap"))
        .args(args)
        .output()
        .expect("run trustmap");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `trustmap scan DIR --format json --no-store EXTRA...`, which must exit 0: the report.
pub fn scan_json(dir: &Path, extra: &[&str]) -> serde_json::Value {
    scan_json_output(dir, extra).0
}

/// [`scan_json`], with everything the run printed (stdout, then stderr) for checks that no
/// secret shows anywhere.
pub fn scan_json_output(dir: &Path, extra: &[&str]) -> (serde_json::Value, String) {
    let mut args = vec![
        "scan",
        dir.to_str().unwrap(),
        "--format",
        "json",
        "--no-store",
    ];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = trustmap(&args);
    assert_eq!(code, 0, "{args:?}: {stderr}");
    let report = serde_json::from_str(&stdout).expect("valid JSON");
    (report, format!("{stdout}\n{stderr}"))
}

pub fn openssl(dir: &Path, args: &[&str]) {
    let st = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl is installed");
    assert!(
        st.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&st.stderr)
    );
}

/// A self-signed EC certificate and its key, `name.crt` and `name.key`, in `dir`.
pub fn ec_cert(dir: &Path, name: &str, days: &str) {
    ec_cert_as(
        dir,
        name,
        days,
        &format!("/CN={name}.example.test"),
        &[
            "-addext",
            &format!("subjectAltName=DNS:{name}.example.test"),
        ],
    );
}

/// A self-signed P-256 certificate `{name}.crt` and its key `{name}.key` with subject `subj`
/// (openssl's `/CN=...` form) and `extra` arguments.
pub fn ec_cert_as(dir: &Path, name: &str, days: &str, subj: &str, extra: &[&str]) {
    let (key, crt) = (format!("{name}.key"), format!("{name}.crt"));
    let mut args = vec![
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &key,
        "-out",
        &crt,
        "-days",
        days,
        "-subj",
        subj,
    ];
    args.extend_from_slice(extra);
    openssl(dir, &args);
}

/// A token made at test time: random enough for entropy checks, never a real credential.
pub fn generated_token(len: usize) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            alphabet[(x % alphabet.len() as u64) as usize] as char
        })
        .collect()
}

/// One inventory backend a store test runs against.
pub struct Db {
    pub name: &'static str,
    /// `--db` / `TRUSTMAP_DB` value: a SQLite path or a PostgreSQL URL.
    pub target: String,
    _dir: Option<tempfile::TempDir>,
    /// (server URL, schema) to drop afterwards, on PostgreSQL.
    pg: Option<(String, String)>,
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some((url, schema)) = &self.pg
            && !std::thread::panicking()
        {
            let _ = trustmap_store::drop_pg_schema(url, schema);
        }
    }
}

/// SQLite always; PostgreSQL too when `TRUSTMAP_TEST_PG_URL` is set, in a fresh schema named
/// `{prefix}_{test}_{pid}` (a prefix per test binary keeps parallel binaries apart).
pub fn backends(prefix: &str, test: &str) -> Vec<Db> {
    let dir = tempfile::tempdir().unwrap();
    let target = dir
        .path()
        .join("inventory.db")
        .to_string_lossy()
        .into_owned();
    let mut v = vec![Db {
        name: "sqlite",
        target,
        _dir: Some(dir),
        pg: None,
    }];
    if let Ok(url) = std::env::var("TRUSTMAP_TEST_PG_URL")
        && !url.is_empty()
    {
        let schema = format!("{prefix}_{test}_{}", std::process::id());
        let target = trustmap_store::fresh_pg_schema(&url, &schema)
            .unwrap_or_else(|e| panic!("TRUSTMAP_TEST_PG_URL is set but unusable: {e}"));
        v.push(Db {
            name: "postgres",
            target,
            _dir: None,
            pg: Some((url, schema)),
        });
    }
    v
}

/// Runs trustmap with the inventory given through `TRUSTMAP_DB` (as a CI job would):
/// (exit code, stdout, stderr).
pub fn on_db(db: &Db, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_trustmap"))
        .args(args)
        .env("TRUSTMAP_DB", &db.target)
        .output()
        .expect("run trustmap");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// [`on_db`], which must exit `code`: stdout.
pub fn on_db_ok(db: &Db, code: i32, args: &[&str]) -> String {
    let (c, out, err) = on_db(db, args);
    assert_eq!(
        c, code,
        "[{}] trustmap {args:?}\nstdout: {out}\nstderr: {err}",
        db.name
    );
    out
}

/// Runs raw SQL against the inventory (the attacker with write access to the database).
pub fn raw_sql(db: &Db, sql: &str) {
    let s = trustmap_store::Store::open_existing(&db.target).unwrap();
    s.execute_raw(sql).unwrap();
}

/// A free loopback port: bound, then released for the server to take.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `openssl s_server` on 127.0.0.1, killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
}

impl Server {
    /// Serves `leaf.pem` with `leaf.key` from `dir`, with extra flags (`-cert_chain
    /// inter.pem`, `-tls1_3`...).
    pub fn start(dir: &Path, extra: &[&str]) -> Server {
        Server::serving(dir, "leaf.pem", "leaf.key", extra)
    }

    /// Serves `cert` with `key` (files in `dir`), with extra flags.
    pub fn serving(dir: &Path, cert: &str, key: &str, extra: &[&str]) -> Server {
        Server::serving_on(free_port(), dir, cert, key, extra)
    }

    /// As [`Server::serving`], on `port` (one a server stopped before listened on).
    pub fn serving_on(port: u16, dir: &Path, cert: &str, key: &str, extra: &[&str]) -> Server {
        let accept = format!("127.0.0.1:{port}");
        let mut args = vec![
            "s_server", "-accept", &accept, "-cert", cert, "-key", key, "-quiet",
        ];
        args.extend_from_slice(extra);
        let child = Command::new("openssl")
            .current_dir(dir)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl is installed");
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "s_server did not listen"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Server { child, port }
    }

    pub fn url(&self, sni: Option<&str>) -> String {
        match sni {
            Some(n) => format!("tls://127.0.0.1:{}?sni={n}", self.port),
            None => format!("tls://127.0.0.1:{}", self.port),
        }
    }

    pub fn place(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Id of the asset of `kind` seen at `path` in a scan report.
pub fn id_at(report: &serde_json::Value, kind: &str, path: &str) -> String {
    report["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["kind"] == kind
                && a["occurrences"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|o| o["path"] == path)
        })
        .unwrap_or_else(|| panic!("no {kind} at {path}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Runs `script` (in `tests/browser`, which drives Debian's chromium with playwright-core)
/// with `args`; the JSON it prints. A missing node, chromium or playwright-core fails.
pub fn browser_script(script: &str, args: &[&std::ffi::OsStr]) -> serde_json::Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "playwright-core is not installed in {}: run scripts/test (or npm ci there)",
        dir.display()
    );
    let run = Command::new("node")
        .current_dir(&dir)
        .arg(script)
        .args(args)
        .output()
        .expect("node runs (scripts/test installs nodejs, npm, chromium and playwright-core)");
    assert!(
        run.status.success(),
        "chromium via playwright-core failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_slice(&run.stdout).unwrap_or_else(|e| panic!("{script} prints JSON: {e}"))
}
