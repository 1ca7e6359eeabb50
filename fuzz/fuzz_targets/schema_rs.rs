//! The `schema.rs` reader: `table!` and `joinable!` bodies, as diesel's macros read them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plumb_fuzz::on_plumb_stack;

fuzz_target!(|data: &[u8]| {
    on_plumb_stack(|| {
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = plumb_schema_rs::parse(text);
        }
    });
});
