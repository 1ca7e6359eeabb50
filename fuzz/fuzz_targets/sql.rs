//! The SQL reader, the replay and every migration rule, on up to four migrations: the input is
//! split at NUL bytes, the first part is applied first. A panic anywhere aborts the run (the
//! fuzzer's panic hook runs before the checker's guard can catch it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use plumb_check::{Migration, Settings, check_migrations};
use plumb_fuzz::on_plumb_stack;

fuzz_target!(|data: &[u8]| {
    on_plumb_stack(|| {
        let text = String::from_utf8_lossy(data);
        let migrations: Vec<Migration> = text
            .split('\0')
            .take(4)
            .enumerate()
            .map(|(n, up)| Migration {
                name: format!("2026-01-0{}-000000_m", n + 1),
                version: format!("2026010{}000000", n + 1),
                dir: format!("/fuzz/{n}").into(),
                up: up.into(),
                down: (n % 2 == 0).then(|| up.into()),
                run_in_transaction: n != 1,
                post_deploy: n == 3,
            })
            .collect();
        let settings =
            Settings::load(std::path::Path::new("/nonexistent")).expect("default settings");
        let report = check_migrations(&migrations, &settings);
        for finding in &report.findings {
            assert!(
                finding.span.line >= 1 && finding.span.column >= 1,
                "{finding:?}"
            );
        }
    });
});
