//! Private/public key parsers (PKCS#8, encrypted PKCS#8, PKCS#1, SEC1, DSA, SPKI, JWK) on
//! arbitrary bytes: they may reject anything, but never panic or hang.

#![no_main]

use libfuzzer_sys::fuzz_target;
use trustmap_discover::keys::{parse_der_key, parse_jwk, parse_pem_key};

const LABELS: &[&str] = &[
    "PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
    "RSA PRIVATE KEY",
    "EC PRIVATE KEY",
    "DSA PRIVATE KEY",
    "PUBLIC KEY",
    "RSA PUBLIC KEY",
    "OPENSSH PRIVATE KEY",
];

fuzz_target!(|data: &[u8]| {
    let _ = parse_der_key(data);
    for label in LABELS {
        let _ = parse_pem_key(label, data, &[]);
    }
    let legacy = [
        ("Proc-Type".to_string(), "4,ENCRYPTED".to_string()),
        ("DEK-Info".to_string(), "AES-128-CBC,00".to_string()),
    ];
    let _ = parse_pem_key("RSA PRIVATE KEY", data, &legacy);
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = parse_jwk(&json);
    }
});
