//! Keystore parsers (PKCS#12, JKS, JCEKS) on arbitrary bytes: they may reject anything, but
//! never panic, and their work stays bounded (iteration counts and sizes are capped).

#![no_main]

use libfuzzer_sys::fuzz_target;
use trustmap_discover::keystore::{looks_like_pkcs12, parse_jks, parse_pkcs12};

fuzz_target!(|data: &[u8]| {
    let _ = looks_like_pkcs12(data);
    let _ = parse_pkcs12(data);
    let _ = parse_jks(data);
});
