//! Fixture helpers for the integration tests: a temporary directory, running the real key tools
//! (openssl, ssh-keygen, keytool, puttygen) to generate fresh material at test time, and reading
//! what they wrote. No key material is committed.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use trustmap_discover::ParsedKey;

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "trustmap-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// True when `tool` runs; prints why a test is skipped when it does not.
pub fn have(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg(if tool == "keytool" {
            "-help"
        } else {
            "--version"
        })
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    // In CI (.ci/run installs every tool) a missing tool is a failure, never a silent skip.
    assert!(
        ok || std::env::var_os("CI").is_none(),
        "`{tool}` is not installed, and CI must run every fixture test"
    );
    if !ok {
        eprintln!("SKIPPED: `{tool}` is not installed (apt-get install the package providing it)");
    }
    ok
}

/// Runs `tool args...` in `dir`, with optional stdin; panics with its stderr on failure.
pub fn run_in(dir: &Path, tool: &str, args: &[&str], stdin: Option<&[u8]>) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {tool}: {e}"));
    {
        let mut input = child.stdin.take().expect("stdin");
        if let Some(data) = stdin {
            input.write_all(data).expect("write stdin");
        }
    }
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs a tool in the temp dir.
pub fn run(dir: &TempDir, tool: &str, args: &[&str]) -> Vec<u8> {
    run_in(&dir.0, tool, args, None)
}

/// Lowercase hex SHA-256 of the SPKI DER of the key in `file`, as OpenSSL computes it.
pub fn openssl_spki_sha256(dir: &TempDir, file: &str, passin: Option<&str>) -> String {
    let mut args = vec!["pkey", "-in", file, "-pubout", "-outform", "DER"];
    let pass;
    if let Some(p) = passin {
        pass = format!("pass:{p}");
        args.extend(["-passin", &pass]);
    }
    let der = run(dir, "openssl", &args);
    trustmap_core::sha256_hex(&der)
}

/// The first PEM block of `data`: label, headers and DER. Decoded here rather than with the
/// crate's PEM reader so these tests exercise the key parsers alone.
pub fn first_pem(data: &[u8]) -> (String, Vec<(String, String)>, Vec<u8>) {
    use base64::Engine;
    let text = std::str::from_utf8(data).expect("PEM is text");
    let begin = text.find("-----BEGIN ").expect("a BEGIN line");
    let rest = &text[begin + 11..];
    let label = rest[..rest.find("-----").expect("armour")].to_string();
    let end = rest
        .find(&format!("-----END {label}-----"))
        .expect("an END line");
    let mut headers = Vec::new();
    let mut b64 = String::new();
    for line in rest[..end].lines().skip(1) {
        match line.split_once(": ") {
            Some((k, v)) => headers.push((k.to_string(), v.trim().to_string())),
            None => b64.push_str(line.trim()),
        }
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("PEM base64");
    (label, headers, der)
}

/// Parses the first PEM block of a file as a key.
pub fn pem_key(dir: &TempDir, file: &str) -> ParsedKey {
    let (label, headers, der) = first_pem(&dir.read(file));
    trustmap_discover::keys::parse_pem_key(&label, &der, &headers)
        .unwrap_or_else(|| panic!("{label} is not a key label"))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Checks the identity/fingerprint invariants every derivable key must hold.
pub fn assert_identity_is_spki(k: &ParsedKey) {
    let spki = k.info.spki_sha256.as_deref().expect("spki_sha256");
    assert_eq!(spki, trustmap_core::sha256_hex(&k.identity));
}

/// A random password nobody would guess.
pub fn random_password() -> String {
    use std::hash::{BuildHasher, RandomState};
    format!("r{:016x}", RandomState::new().hash_one(std::process::id()))
}
