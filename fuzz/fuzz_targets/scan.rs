//! The whole per-file scanner (prefilter, PEM, DER, keystores, SSH, JWK, Kubernetes
//! manifests, secret rules) on arbitrary file contents under a few telling names.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use trustmap_discover::scan::Scanner;
use trustmap_discover::secrets::RuleSet;

static SCANNER: OnceLock<Scanner> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let scanner = SCANNER.get_or_init(|| Scanner::new(RuleSet::builtin()));
    for path in ["a.pem", "k8s/secret.yaml", ".env"] {
        let r = scanner.scan_file(path, data);
        for f in &r.found {
            assert_eq!(f.occurrence.path, path);
        }
    }
});
