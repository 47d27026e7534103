//! SSH parsers (OpenSSH private keys, PuTTY keys, public key lines and RFC 4716 blocks) on
//! arbitrary bytes: they may reject anything, but never panic or hang.

#![no_main]

use libfuzzer_sys::fuzz_target;
use trustmap_discover::ssh::{
    find_public_keys, parse_openssh_private, parse_public_blob, parse_putty,
};

fuzz_target!(|data: &[u8]| {
    let _ = parse_openssh_private(data);
    let _ = parse_putty(data);
    let _ = parse_public_blob(data, "ssh");
    for (offset, _) in find_public_keys(data) {
        assert!(offset < data.len());
    }
});
