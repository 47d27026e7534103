//! PEM armour extraction on arbitrary bytes: every block is decoded or reported as an
//! error, never a panic, and scanning always moves forward.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut last = 0;
    for r in trustmap_discover::pem::blocks(data) {
        let start = match &r {
            Ok(b) => b.start,
            Err(e) => e.start,
        };
        assert!(start >= last, "blocks must come in order");
        last = start;
    }
});
