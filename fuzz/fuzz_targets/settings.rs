//! The settings: `plumb.toml` and `diesel.toml` (the input split at the first NUL byte),
//! written into a fresh workspace and loaded as `plumb check` loads them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plumb_fuzz::on_plumb_stack;

fuzz_target!(|data: &[u8]| {
    on_plumb_stack(|| {
        let (plumb, diesel) = match data.iter().position(|b| *b == 0) {
            Some(at) => (&data[..at], Some(&data[at + 1..])),
            None => (data, None),
        };
        let root = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(root.path().join("plumb.toml"), plumb).expect("writing plumb.toml");
        if let Some(diesel) = diesel {
            std::fs::write(root.path().join("diesel.toml"), diesel).expect("writing diesel.toml");
        }
        if let Ok(settings) = plumb_check::Settings::load(root.path()) {
            for path in settings.read_paths() {
                let _ = settings.is_excluded(&path);
            }
        }
    });
});
