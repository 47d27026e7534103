//! Helpers shared by the CLI tests: run the real binary, make fixtures with openssl, make
//! tokens that are generated, never real.

#![allow(dead_code)] // each test binary uses a different subset

use std::path::Path;
use std::process::Command;

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
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
            "-days",
            days,
            "-subj",
            &format!("/CN={name}.example.test"),
            "-addext",
            &format!("subjectAltName=DNS:{name}.example.test"),
        ],
    );
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
