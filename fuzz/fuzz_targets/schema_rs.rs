//! The `schema.rs` reader: `table!` and `joinable!` bodies, as diesel's macros read them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = plumb_schema_rs::parse(text);
    }
});
