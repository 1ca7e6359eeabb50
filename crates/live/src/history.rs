//! Which migrations are history: production has applied them already, so the live stage
//! applies them as they are, quickly, and judges only the others.

use std::collections::BTreeSet;

use plumb_check::{Released, Settings};
use plumb_pg::MigrationFolder;

/// The migrations the live stage applies without observing them: those the base has, and
/// those older than `skip-before`.
#[derive(Debug, Clone, Default)]
pub struct History {
    released: BTreeSet<String>,
    skip_before: Option<String>,
    /// What history is, for the summary: `the base abc123`, `skip-before 2024...`.
    pub described: Vec<String>,
}

impl History {
    pub fn new(settings: &Settings, released: &Released) -> History {
        let mut history = History {
            skip_before: settings.skip_before.clone(),
            ..History::default()
        };
        if let Released::At { rev, folders } = released {
            let short: String = rev.chars().take(12).collect();
            history.described.push(format!("in the base {short}"));
            history.released = folders.clone();
        }
        if let Some(before) = &history.skip_before {
            history
                .described
                .push(format!("before skip-before {before}"));
        }
        history
    }

    pub fn covers(&self, folder: &MigrationFolder) -> bool {
        self.released.contains(&folder.name)
            || self
                .skip_before
                .as_deref()
                .is_some_and(|before| folder.version.as_str() < before)
    }
}
