//! The model reader: structs deriving diesel's traits, in diesel 1.x and 2.x forms.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plumb_fuzz::on_plumb_stack;

fuzz_target!(|data: &[u8]| {
    on_plumb_stack(|| {
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = plumb_check::input::models::parse_models(
                text,
                std::path::Path::new("src/models.rs"),
            );
        }
    });
});
