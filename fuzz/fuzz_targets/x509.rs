//! Certificate and PKCS#7 parsing, the X.509 lints over raw DER, and issuer signature
//! checks, on arbitrary bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use trustmap_discover::x509;

fuzz_target!(|data: &[u8]| {
    let _ = x509::parse_certificate(data);
    let _ = trustmap_discover::lint::lint(data);
    if let Some(certs) = x509::pkcs7_certificates(data) {
        for c in certs {
            let _ = x509::parse_certificate(c);
        }
    }
    let (a, b) = data.split_at(data.len() / 2);
    let _ = x509::verify_issued_by(a, b);
});
