//! The throwaway cluster, exercised whether or not DATABASE_URL is set.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use std::process::Command;

use diesel::prelude::*;
use diesel::sql_types::Text;
use plumb_pg::{DatabaseUrl, ThrowawayCluster, sweep_leftover_clusters};

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

fn setting(url: &DatabaseUrl, name: &str) -> String {
    let mut conn = url.connect().unwrap();
    diesel::sql_query("SELECT current_setting($1) AS value")
        .bind::<Text, _>(name)
        .get_result::<Setting>(&mut conn)
        .unwrap()
        .value
}

/// The pid of a process that has exited.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn starts_serves_on_a_private_socket_and_leaves_nothing_when_dropped() {
    let cluster = ThrowawayCluster::start().unwrap();
    let root = cluster.root().to_path_buf();
    let url = cluster.url().clone();
    assert!(cluster.data_dir().join("PG_VERSION").is_file());
    assert_eq!(setting(&url, "fsync"), "off");
    assert_eq!(
        setting(&url, "listen_addresses"),
        "",
        "no TCP: only the private socket"
    );
    assert_eq!(
        setting(&url, "unix_socket_directories"),
        root.to_string_lossy()
    );
    assert_eq!(setting(&url, "port"), cluster.port().to_string());

    drop(cluster);
    assert!(!root.exists(), "the cluster's directory is removed");
    assert!(url.connect().is_err(), "the server is stopped");
}

#[test]
fn a_panic_still_stops_and_removes_the_cluster() {
    let mut seen = None;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let cluster = ThrowawayCluster::start().unwrap();
        seen = Some((cluster.root().to_path_buf(), cluster.url().clone()));
        panic!("a test failing half-way");
    }));
    assert!(outcome.is_err());
    let (root, url) = seen.unwrap();
    assert!(!root.exists());
    assert!(url.connect().is_err());
}

#[test]
fn a_cluster_whose_process_was_killed_is_swept_by_the_next_one() {
    let cluster = ThrowawayCluster::start().unwrap();
    let root = cluster.root().to_path_buf();
    let url = cluster.url().clone();
    // What a killed test run leaves: a running server whose owner no longer exists.
    std::fs::write(root.join("owner.pid"), format!("{}\n", dead_pid())).unwrap();
    std::mem::forget(cluster);
    assert!(url.connect().is_ok(), "still running before the sweep");

    // Starting the next cluster sweeps (so may a test running beside this one).
    let alive = ThrowawayCluster::start().unwrap();
    assert!(!root.exists());
    assert!(url.connect().is_err(), "the leftover server was stopped");
    // A cluster of a live process (this one) survives any sweep.
    sweep_leftover_clusters();
    assert!(alive.root().exists());
    assert!(alive.url().connect().is_ok());
}
