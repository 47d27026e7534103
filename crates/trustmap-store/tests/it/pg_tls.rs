//! PostgreSQL over TLS as `sslmode` says, against the server of `TRUSTMAP_TEST_PG_URL`
//! (skipped without it). The server is expected to have ssl on with Debian's snakeoil
//! certificate (`/etc/ssl/certs/ssl-cert-snakeoil.pem`), self-signed for one host name:
//! verify-ca accepts it under any name, verify-full only under its own.

use std::process::Command;
use trustmap_store::Store;

const SNAKEOIL: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";

/// `url` with `host` in place of its host and these parameters added.
fn url_with(url: &str, host: Option<&str>, params: &str) -> String {
    let mut url = url.to_string();
    if let Some(h) = host {
        let start = url
            .find('@')
            .map_or_else(|| url.find("://").unwrap() + 3, |a| a + 1);
        let end = url[start..]
            .find([':', '/', '?'])
            .map_or(url.len(), |e| start + e);
        url.replace_range(start..end, h);
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{params}")
}

/// Whether the connection `url` makes uses TLS (a fresh schema-less store: only reads).
fn uses_tls(url: &str) -> Result<bool, String> {
    let s = Store::open(url).map_err(|e| chain(&e))?;
    let rows = s
        .query_raw("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .map_err(|e| chain(&e))?;
    Ok(rows[0][0] == "1" || rows[0][0] == "true")
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

/// The schema of one test, so opening a store (which migrates) stays out of others' way.
fn base(test: &str) -> Option<(String, crate::common::Target)> {
    crate::common::pg_url()?;
    let t = crate::common::targets("tls", test).pop().unwrap();
    Some((t.url.clone(), t))
}

#[test]
fn sslmode_require_encrypts_and_disable_does_not() {
    let Some((url, _t)) = base("modes") else {
        eprintln!("TRUSTMAP_TEST_PG_URL is not set: skipped");
        return;
    };
    assert!(uses_tls(&url_with(&url, None, "sslmode=require")).unwrap());
    assert!(!uses_tls(&url_with(&url, None, "sslmode=disable")).unwrap());
    // prefer (the default): TLS when the server offers it, as this one does.
    assert!(uses_tls(&url).unwrap());
    assert!(uses_tls(&url_with(&url, None, "sslmode=prefer")).unwrap());
    let bad = Store::open(&url_with(&url, None, "sslmode=sometimes"))
        .err()
        .unwrap();
    assert_eq!(bad.kind(), trustmap_store::ErrorKind::InvalidInput, "{bad}");
}

/// The DNS names the snakeoil certificate holds (openssl reads them).
fn snakeoil_names() -> Option<Vec<String>> {
    let out = Command::new("openssl")
        .args(["x509", "-in", SNAKEOIL, "-noout", "-ext", "subjectAltName"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    Some(
        text.split([',', '\n', ' '])
            .filter_map(|w| w.trim().strip_prefix("DNS:").map(str::to_string))
            .collect(),
    )
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn resolves_to_loopback(host: &str) -> bool {
    use std::net::ToSocketAddrs;
    (host, 5432)
        .to_socket_addrs()
        .is_ok_and(|mut a| a.all(|a| a.ip().is_loopback()))
}

#[test]
fn verify_full_checks_the_host_name_and_verify_ca_does_not() {
    let Some((url, _t)) = base("verify") else {
        eprintln!("TRUSTMAP_TEST_PG_URL is not set: skipped");
        return;
    };
    if !std::path::Path::new(SNAKEOIL).exists() {
        eprintln!("{SNAKEOIL} missing: skipped");
        return;
    }
    let Some(names) = snakeoil_names().filter(|n| !n.is_empty()) else {
        eprintln!("cannot read the names in {SNAKEOIL}: skipped");
        return;
    };
    let root = format!("sslrootcert={SNAKEOIL}");
    let mut hosts = vec!["localhost".to_string(), "127.0.0.1".to_string(), hostname()];
    hosts.retain(|h| !h.is_empty() && resolves_to_loopback(h));
    hosts.dedup();
    let (mut accepted, mut refused) = (0, 0);
    for host in &hosts {
        let ca = url_with(&url, Some(host), &format!("sslmode=verify-ca&{root}"));
        assert!(
            uses_tls(&ca).unwrap_or_else(|e| panic!("verify-ca via {host}: {e}")),
            "{host}"
        );
        let full = url_with(&url, Some(host), &format!("sslmode=verify-full&{root}"));
        if names.contains(host) {
            assert!(uses_tls(&full).unwrap_or_else(|e| panic!("verify-full via {host}: {e}")));
            accepted += 1;
        } else {
            let err = uses_tls(&full).expect_err(&format!(
                "verify-full via {host} accepted a certificate for {names:?}"
            ));
            assert!(
                err.contains("certificate") && err.contains("not valid for name"),
                "verify-full via {host}: a clear host name error, got: {err}"
            );
            refused += 1;
        }
    }
    assert!(accepted >= 1 && refused >= 1, "{hosts:?} against {names:?}");

    // verify-full without sslrootcert checks against the system's roots (which, on Debian,
    // may include the snakeoil certificate itself: /etc/ssl/certs holds it): an IP address
    // is in neither case a name it was issued for.
    let system = url_with(&url, Some("127.0.0.1"), "sslmode=verify-full");
    let err = uses_tls(&system).expect_err("no certificate here names 127.0.0.1");
    assert!(err.contains("certificate"), "{err}");
    // And require with a root file verifies the chain as libpq does.
    let other_root = url_with(
        &url,
        None,
        "sslmode=require&sslrootcert=/etc/ssl/certs/ca-certificates.crt",
    );
    if std::path::Path::new("/etc/ssl/certs/ca-certificates.crt").exists() {
        assert!(
            uses_tls(&other_root).is_err(),
            "require + sslrootcert is verify-ca"
        );
    }
}
