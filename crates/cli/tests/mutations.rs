//! The mutation suite: the reference workspace copied into a git repository of its own (its
//! first commit is the base, the release that is live), one mistake made in the work tree,
//! and `plumb check --base HEAD` must name it with the exact rule. The unmutated copy is clean.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn reference() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=plumb",
            "-c",
            "user.email=plumb@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

/// The reference workspace's checked parts, committed as the base.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = reference();
    for part in ["migrations", "schemas", "crates/model/src"] {
        copy_dir(&root.join(part), &dir.path().join(part));
    }
    for file in ["diesel.toml", "plumb.toml"] {
        if root.join(file).is_file() {
            fs::copy(root.join(file), dir.path().join(file)).unwrap();
        }
    }
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "-A"]);
    git(
        dir.path(),
        &["commit", "-q", "-m", "the release that is live"],
    );
    dir
}

/// `plumb check --base HEAD --format json`: exit code and the findings' codes.
fn check(dir: &Path) -> (i32, Vec<String>, Value) {
    check_with(dir, &["--base", "HEAD"])
}

/// `plumb check --format json` with these arguments.
fn check_with(dir: &Path, args: &[&str]) -> (i32, Vec<String>, Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args(["check", "--format", "json"])
        .args(args)
        .arg(dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let value: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}{}", String::from_utf8_lossy(&output.stderr)));
    let codes = value["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings: {value}"))
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect();
    (output.status.code().unwrap(), codes, value)
}

fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn migration(dir: &Path, name: &str, up: &str, down: &str) {
    let folder = dir.join("migrations").join(name);
    fs::create_dir_all(&folder).unwrap();
    fs::write(folder.join("up.sql"), up).unwrap();
    fs::write(folder.join("down.sql"), down).unwrap();
}

// Later than any migration a repository following the walkthrough gains.
const NEXT: &str = "2099-05-01-000000-0000_change";

fn json_edit(dir: &Path, file: &str, change: impl FnOnce(&mut Value)) {
    let path = dir.join(file);
    let mut value: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    change(&mut value);
    fs::write(path, serde_json::to_string_pretty(&value).unwrap()).unwrap();
}

type Mutation = (&'static str, &'static str, fn(&Path));

const MUTATIONS: &[Mutation] = &[
    (
        "S002",
        "a column in a migration but not in schema.rs",
        |d| {
            migration(
                d,
                NEXT,
                "SET lock_timeout = '20ms';\nALTER TABLE accounts ADD COLUMN probe_tier text;\n",
                "ALTER TABLE accounts DROP COLUMN probe_tier;\n",
            );
        },
    ),
    (
        "S005",
        "nullability differs between schema.rs and the migrations",
        |d| {
            edit(
                d,
                "crates/model/src/schema.rs",
                "        email -> Text,",
                "        email -> Nullable<Text>,",
            );
        },
    ),
    (
        "S007",
        "a struct reads a nullable column into a non-Option field",
        |d| {
            edit(
                d,
                "crates/model/src/api_key.rs",
                "pub revoked_at: Option<DateTime<Utc>>,",
                "pub revoked_at: DateTime<Utc>,",
            );
        },
    ),
    (
        "S009",
        "an insertable struct omits a required column",
        |d| {
            edit(
                d,
                "crates/model/src/api_key.rs",
                "    pub label: &'a str,\n",
                "",
            );
        },
    ),
    ("S006", "a model field with no column", |d| {
        edit(
            d,
            "crates/model/src/api_key.rs",
            "    pub label: String,\n",
            "    pub label: String,\n    pub probe_nickname: String,\n",
        );
    }),
    ("S004", "schema.rs gives a column another type", |d| {
        edit(
            d,
            "crates/model/src/schema.rs",
            "        label -> Text,",
            "        label -> Int4,",
        );
    }),
    (
        "S003",
        "schema.rs declares a column no migration creates",
        |d| {
            edit(
                d,
                "crates/model/src/schema.rs",
                "        email -> Text,",
                "        email -> Text,\n        ghost -> Text,",
            );
        },
    ),
    ("S008", "a model field of the wrong Rust type", |d| {
        edit(
            d,
            "crates/model/src/api_key.rs",
            "    pub account_id: i64,\n    /// What it is for, to tell keys apart.\n    pub label: String,",
            "    pub account_id: i32,\n    /// What it is for, to tell keys apart.\n    pub label: String,",
        );
    }),
    (
        "A001",
        "a required request field added to a published version",
        |d| {
            json_edit(d, "schemas/v1/CreateAccountRequest.request.json", |v| {
                v["properties"]["probe_tier"] = serde_json::json!({ "type": "string" });
                v["required"]
                    .as_array_mut()
                    .unwrap()
                    .push("probe_tier".into());
            });
        },
    ),
    ("A002", "a response field removed", |d| {
        json_edit(d, "schemas/v1/Account.response.json", |v| {
            v["properties"].as_object_mut().unwrap().remove("email");
            v["required"]
                .as_array_mut()
                .unwrap()
                .retain(|f| f != "email");
        });
    }),
    ("A003", "a response field made optional", |d| {
        json_edit(d, "schemas/v1/Account.response.json", |v| {
            v["required"]
                .as_array_mut()
                .unwrap()
                .retain(|f| f != "email");
        });
    }),
    ("A004", "a response field made nullable", |d| {
        json_edit(d, "schemas/v1/Account.response.json", |v| {
            v["properties"]["email"]["type"] = serde_json::json!(["string", "null"]);
        });
    }),
    ("A005", "a field's type changed", |d| {
        json_edit(d, "schemas/v1/Account.response.json", |v| {
            v["properties"]["id"] = serde_json::json!({ "type": "string" });
        });
    }),
    ("A006", "a response enum that may send a new value", |d| {
        json_edit(d, "schemas/v1/Account.response.json", |v| {
            v["$defs"]["AccountStatus"]["enum"]
                .as_array_mut()
                .unwrap()
                .push("frozen".into());
        });
    }),
    ("A007", "a published schema edited compatibly", |d| {
        json_edit(d, "schemas/v1/Account.response.json", |v| {
            v["properties"]["probe_tier"] = serde_json::json!({ "type": "string" });
        });
    }),
    ("A008", "a published version removed", |d| {
        fs::remove_dir_all(d.join("schemas/v1")).unwrap();
    }),
    (
        "M001",
        "a NOT NULL column without default in a pre-deploy migration",
        |d| {
            migration(
                d,
                NEXT,
                "SET lock_timeout = '20ms';\nALTER TABLE accounts ADD COLUMN probe_tier text NOT NULL;\n",
                "ALTER TABLE accounts DROP COLUMN probe_tier;\n",
            );
        },
    ),
    (
        "D001",
        "a column dropped that the base still selects",
        |d| {
            migration(
                d,
                NEXT,
                "SET lock_timeout = '20ms';\nALTER TABLE api_keys DROP COLUMN label;\n",
                "ALTER TABLE api_keys ADD COLUMN label text;\n",
            );
        },
    ),
    (
        "D001",
        "a column dropped that the base still selects, with schema.rs regenerated",
        |d| {
            migration(
                d,
                NEXT,
                "SET lock_timeout = '20ms';\nALTER TABLE api_keys DROP COLUMN label;\n",
                "ALTER TABLE api_keys ADD COLUMN label text;\n",
            );
            edit(
                d,
                "crates/model/src/schema.rs",
                "        label -> Text,\n",
                "",
            );
        },
    ),
    ("D002", "a column renamed that the base still uses", |d| {
        migration(
            d,
            NEXT,
            "SET lock_timeout = '20ms';\nALTER TABLE api_keys RENAME COLUMN label TO name;\n",
            "ALTER TABLE api_keys RENAME COLUMN name TO label;\n",
        );
    }),
    (
        "D003",
        "a column's type changed that the base still uses",
        |d| {
            migration(
                d,
                NEXT,
                "SET lock_timeout = '20ms';\nALTER TABLE api_keys ALTER COLUMN account_id TYPE integer;\n",
                "ALTER TABLE api_keys ALTER COLUMN account_id TYPE bigint;\n",
            );
        },
    ),
    (
        "D004",
        "a column made required that the base's inserts omit",
        |d| {
            migration(
                d,
                NEXT,
                "SET lock_timeout = '20ms';\nALTER TABLE api_keys ALTER COLUMN revoked_at SET NOT NULL;\n",
                "ALTER TABLE api_keys ALTER COLUMN revoked_at DROP NOT NULL;\n",
            );
        },
    ),
    (
        "D007",
        "a column the base reads as NOT NULL made nullable before the rollout",
        |d| {
            migration(
                d,
                NEXT,
                "SET lock_timeout = '20ms';\nALTER TABLE api_keys ALTER COLUMN label DROP NOT NULL;\n",
                "ALTER TABLE api_keys ALTER COLUMN label SET NOT NULL;\n",
            );
            edit(
                d,
                "crates/model/src/schema.rs",
                "        label -> Text,",
                "        label -> Nullable<Text>,",
            );
        },
    ),
    (
        "D008",
        "a column the new code declares that only a post-deploy migration adds",
        |d| {
            migration(
                d,
                NEXT,
                "-- plumb: post-deploy\nSET lock_timeout = '20ms';\nALTER TABLE api_keys ADD COLUMN note text;\n",
                "ALTER TABLE api_keys DROP COLUMN note;\n",
            );
            edit(
                d,
                "crates/model/src/schema.rs",
                "        revoked_at -> Nullable<Timestamptz>,",
                "        revoked_at -> Nullable<Timestamptz>,\n        note -> Nullable<Text>,",
            );
        },
    ),
    (
        "D009",
        "an insert without a column only a post-deploy migration stops requiring",
        |d| {
            migration(
                d,
                NEXT,
                "-- plumb: post-deploy\nSET lock_timeout = '20ms';\nALTER TABLE api_keys ALTER COLUMN label DROP NOT NULL;\n",
                "ALTER TABLE api_keys ALTER COLUMN label SET NOT NULL;\n",
            );
            edit(
                d,
                "crates/model/src/api_key.rs",
                "    pub label: &'a str,\n",
                "",
            );
        },
    ),
    (
        "D010",
        "a value the new code writes that only a post-deploy migration allows",
        |d| {
            migration(
                d,
                NEXT,
                "-- plumb: post-deploy\nSET lock_timeout = '20ms';\nALTER TABLE accounts DROP CONSTRAINT accounts_status_check;\nALTER TABLE accounts ADD CONSTRAINT accounts_status_check CHECK (status IN ('active', 'suspended', 'closed', 'archived')) NOT VALID;\n",
                "ALTER TABLE accounts DROP CONSTRAINT accounts_status_check;\nALTER TABLE accounts ADD CONSTRAINT accounts_status_check CHECK (status IN ('active', 'suspended', 'closed'));\n",
            );
            let path = d.join("crates/model/src/account.rs");
            let mut text = fs::read_to_string(&path).unwrap();
            text.push_str("\npub fn archive_all(conn: &mut PgConnection) -> QueryResult<usize> {\n    diesel::update(accounts::table)\n        .set(accounts::status.eq(\"archived\"))\n        .execute(conn)\n}\n");
            fs::write(path, text).unwrap();
        },
    ),
    (
        "D004",
        "a default the base's inserts rely on dropped (its upsert call omits the column)",
        |d| {
            migration(
                d,
                NEXT,
                "ALTER TABLE feature_flags ALTER COLUMN updated_at DROP DEFAULT;\n",
                "ALTER TABLE feature_flags ALTER COLUMN updated_at SET DEFAULT now();\n",
            );
        },
    ),
    (
        "D004",
        "a NOT VALID CHECK (c IS NOT NULL) on a column the base's inserts omit",
        |d| {
            migration(
                d,
                NEXT,
                "ALTER TABLE api_keys ADD CONSTRAINT api_keys_revoked_at_present CHECK (revoked_at IS NOT NULL) NOT VALID;\n",
                "ALTER TABLE api_keys DROP CONSTRAINT api_keys_revoked_at_present;\n",
            );
        },
    ),
    (
        "D011",
        "the key a live upsert names as its ON CONFLICT target dropped before the rollout",
        |d| {
            migration(
                d,
                NEXT,
                "ALTER TABLE feature_flags DROP CONSTRAINT feature_flags_pkey;\n",
                "ALTER TABLE feature_flags ADD PRIMARY KEY (name);\n",
            );
        },
    ),
    ("D005", "an edited released migration", |d| {
        edit(
            d,
            "migrations/2026-02-02-100000-0000_add_accounts_display_name/up.sql",
            "display_name TEXT",
            "display_name varchar(100)",
        );
    }),
    (
        "D006",
        "a new migration ordered before a released one",
        |d| {
            migration(
                d,
                "2026-01-20-000000-0000_early",
                "CREATE TABLE notes (id bigint PRIMARY KEY);\n",
                "DROP TABLE notes;\n",
            );
        },
    ),
    ("C001", "an unregistered column", |d| {
        migration(
            d,
            NEXT,
            "SET lock_timeout = '20ms';\nALTER TABLE accounts ADD COLUMN probe_tier text;\n",
            "ALTER TABLE accounts DROP COLUMN probe_tier;\n",
        );
        edit(
            d,
            "crates/model/src/schema.rs",
            "        display_name -> Text,",
            "        display_name -> Text,\n        probe_tier -> Nullable<Text>,",
        );
    }),
    (
        "C002",
        "a registry entry for a column that does not exist",
        |d| {
            edit(
                d,
                "plumb.toml",
                "[columns.feature_flags]\n",
                "[columns.feature_flags]\nowner = \"internal\"\n",
            );
        },
    ),
    (
        "C003",
        "an exposed field whose JSON type does not fit its column",
        |d| {
            edit(
                d,
                "plumb.toml",
                "id = \"Account.id\"",
                "id = \"Account.email\"",
            );
        },
    ),
    ("C004", "a sensitive column exposed in a response", |d| {
        json_edit(d, "schemas/v2/ApiKey.response.json", |v| {
            v["properties"]["token_hash"] = serde_json::json!({ "type": "string" });
        });
    }),
    ("M004", "an index built without CONCURRENTLY", |d| {
        migration(
            d,
            NEXT,
            "SET lock_timeout = '20ms';\nCREATE INDEX api_keys_label_idx ON api_keys (label);\n",
            "DROP INDEX api_keys_label_idx;\n",
        );
    }),
];

#[test]
fn the_unmutated_reference_workspace_passes_clean() {
    let dir = workspace();
    let (code, codes, value) = check(dir.path());
    assert_eq!((code, codes.len()), (0, 0), "{value}");
    assert!(
        value["base"].as_str().unwrap().starts_with("base: "),
        "{value}"
    );
    assert_eq!(value["changes"], serde_json::json!([]));
}

#[test]
fn each_mutation_is_named_by_its_rule() {
    assert!(MUTATIONS.len() >= 20);
    let mut missed = Vec::new();
    for (code, what, mutate) in MUTATIONS {
        let dir = workspace();
        mutate(dir.path());
        let (exit, codes, value) = check(dir.path());
        let severity = plumb_check::RULES
            .iter()
            .find(|r| r.code == *code)
            .unwrap()
            .severity;
        let expected_exit = if severity == plumb_check::Severity::Error {
            1
        } else {
            0
        };
        if !codes.iter().any(|c| c == code) || exit != expected_exit {
            missed.push(format!(
                "{code} ({what}): exit {exit}, found {codes:?}: {value}"
            ));
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}

/// Each deploy mutation's finding is at the offending place: the migration for what the live
/// code meets, the new code for what it starts on.
#[test]
fn each_deploy_mutation_points_at_the_offending_place() {
    let places = [
        ("D004", "migrations/"),
        ("D007", "migrations/"),
        ("D008", "crates/model/src/schema.rs"),
        ("D009", "crates/model/src/api_key.rs"),
        ("D010", "crates/model/src/account.rs"),
        ("D011", "migrations/"),
    ];
    for (code, what, mutate) in MUTATIONS
        .iter()
        .filter(|(c, ..)| places.iter().any(|(p, _)| p == c))
    {
        let dir = workspace();
        mutate(dir.path());
        let (_, _, value) = check(dir.path());
        let expected = places.iter().find(|(c, _)| c == code).unwrap().1;
        let found: Vec<&str> = value["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == *code)
            .filter_map(|f| f["file"].as_str())
            .collect();
        let inside = dir.path().to_string_lossy().into_owned() + "/";
        assert!(
            !found.is_empty()
                && found
                    .iter()
                    .all(|f| f.strip_prefix(&inside).unwrap_or(f).starts_with(expected)),
            "{code} ({what}): {found:?}"
        );
    }
}

/// Changes made the safe way (as a `Mutation`: the change listed since the base, what, how):
/// no error.
const SAFE: &[Mutation] = &[
    (
        "db: accounts.probe_nickname added: Nullable<Text>",
        "a nullable column with schema.rs and the registry",
        |d| {
            migration(
                d,
                NEXT,
                "SET lock_timeout = '20ms';\nALTER TABLE accounts ADD COLUMN probe_nickname text;\n",
                "ALTER TABLE accounts DROP COLUMN probe_nickname;\n",
            );
            edit(
                d,
                "crates/model/src/schema.rs",
                "        display_name -> Text,",
                "        display_name -> Text,\n        probe_nickname -> Nullable<Text>,",
            );
            edit(
                d,
                "plumb.toml",
                "[columns.accounts]\n",
                "[columns.accounts]\nprobe_nickname = \"internal\"\n",
            );
        },
    ),
    (
        "db: accounts.probe_tier added: Text with a default",
        "a NOT NULL column with a constant default, with schema.rs and the registry",
        |d| {
            migration(
                d,
                NEXT,
                "ALTER TABLE accounts ADD COLUMN probe_tier text NOT NULL DEFAULT 'free';\n",
                "ALTER TABLE accounts DROP COLUMN probe_tier;\n",
            );
            edit(
                d,
                "crates/model/src/schema.rs",
                "        display_name -> Text,",
                "        display_name -> Text,\n        probe_tier -> Text,",
            );
            edit(
                d,
                "plumb.toml",
                "[columns.accounts]\n",
                "[columns.accounts]\nprobe_tier = \"internal\"\n",
            );
        },
    ),
    (
        "db: feature_flags.enabled removed",
        "a column dropped in a post-deploy migration once the code stopped using it",
        |d| {
            migration(
                d,
                NEXT,
                "-- plumb: post-deploy\nALTER TABLE feature_flags DROP COLUMN enabled;\n",
                "ALTER TABLE feature_flags ADD COLUMN enabled boolean NOT NULL DEFAULT false;\n",
            );
            edit(
                d,
                "crates/model/src/schema.rs",
                "        enabled -> Bool,\n",
                "",
            );
            edit(d, "plumb.toml", "enabled = \"internal\"\n", "");
            let model = "crates/model/src/feature_flag.rs";
            edit(d, model, "    pub enabled: bool,\n", "");
            edit(
                d,
                model,
                "            feature_flags::enabled.eq(enabled),\n",
                "",
            );
            edit(
                d,
                model,
                "            feature_flags::enabled.eq(excluded(feature_flags::enabled)),\n",
                "",
            );
        },
    ),
    (
        "api v3: new version",
        "a new version whose request requires a new field",
        |d| {
            copy_dir(&d.join("schemas/v2"), &d.join("schemas/v3"));
            json_edit(d, "schemas/v3/CreateAccountRequest.request.json", |v| {
                v["properties"]["probe_tier"] = serde_json::json!({ "type": "string" });
                v["required"]
                    .as_array_mut()
                    .unwrap()
                    .push("probe_tier".into());
            });
        },
    ),
    (
        "api v1 CreateAccountRequest request: probe_tier added (string, optional)",
        "an optional request field in a published version",
        |d| {
            json_edit(d, "schemas/v1/CreateAccountRequest.request.json", |v| {
                v["properties"]["probe_tier"] = serde_json::json!({ "type": "string" });
            });
        },
    ),
];

#[test]
fn safe_changes_raise_no_error_and_are_listed_as_changes() {
    for (change, what, mutate) in SAFE {
        let dir = workspace();
        mutate(dir.path());
        let (exit, codes, value) = check(dir.path());
        let errors: Vec<&String> = codes.iter().filter(|c| c.as_str() != "A007").collect();
        assert!(exit == 0 && errors.is_empty(), "{what}: {value}");
        let changes: Vec<&str> = value["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c.as_str())
            .collect();
        assert!(changes.contains(change), "{what}: {changes:?}");
    }
}

/// A deploy rule suppressed in SQL before the statement it fires on: silenced, listed for the
/// reviewer with its reason; a suppression of a deploy rule that covers nothing is reported;
/// without a base, where the deploy rules do not run, it is not judged at all.
#[test]
fn a_deploy_rule_suppressed_before_its_statement_is_silenced_and_shown_for_review() {
    let dir = workspace();
    let reason = "a trigger fills revoked_at on every insert";
    migration(
        dir.path(),
        NEXT,
        &format!(
            "SET lock_timeout = '20ms';\n-- plumb: allow D004 {reason}\nALTER TABLE api_keys ALTER COLUMN revoked_at SET NOT NULL;\n-- plumb: allow deploy-drop-used-column nothing here drops a column\nCREATE TABLE notes (id bigint PRIMARY KEY);\n"
        ),
        "DROP TABLE notes;\nALTER TABLE api_keys ALTER COLUMN revoked_at DROP NOT NULL;\n",
    );
    let (_, codes, value) = check(dir.path());
    assert!(!codes.iter().any(|c| c == "D004"), "{value}");
    let unused: Vec<u64> = value["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "M901")
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(unused, [4], "{value}");
    let silenced = value["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "D004")
        .unwrap_or_else(|| panic!("{value}"));
    assert_eq!(silenced["reason"], reason);
    let up = format!("migrations/{NEXT}/up.sql");
    let listed = value["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .find(|c| c.starts_with("suppressed: D004"))
        .unwrap_or_else(|| panic!("{value}"));
    assert!(
        listed.contains(&format!("{up}:3")) && listed.ends_with(reason),
        "{listed}"
    );

    let (_, codes, value) = check_with(dir.path(), &["--no-base"]);
    assert!(!codes.iter().any(|c| c == "M901" || c == "D004"), "{value}");
}

/// On the new release's code, a deploy rule is suppressed in Rust above the field it fires on;
/// one that covers nothing is reported.
#[test]
fn a_deploy_rule_on_the_new_code_is_suppressed_above_its_field() {
    let dir = workspace();
    migration(
        dir.path(),
        NEXT,
        "-- plumb: post-deploy\nSET lock_timeout = '20ms';\nALTER TABLE api_keys ADD COLUMN note text;\n",
        "ALTER TABLE api_keys DROP COLUMN note;\n",
    );
    edit(
        dir.path(),
        "crates/model/src/schema.rs",
        "        revoked_at -> Nullable<Timestamptz>,",
        "        revoked_at -> Nullable<Timestamptz>,\n        note -> Nullable<Text>,",
    );
    edit(
        dir.path(),
        "crates/model/src/api_key.rs",
        "    pub revoked_at: Option<DateTime<Utc>>,\n",
        "    pub revoked_at: Option<DateTime<Utc>>,\n    // plumb: allow deploy-code-before-schema no query reads note before the next release\n    pub note: Option<String>,\n",
    );
    edit(
        dir.path(),
        "crates/model/src/api_key.rs",
        "    pub label: &'a str,\n",
        "    // plumb: allow D009 api_keys.label nothing here is relaxed later\n    pub label: &'a str,\n",
    );
    let (_, codes, value) = check(dir.path());
    assert!(!codes.iter().any(|c| c == "D008"), "{value}");
    // The reviewer sees it among the changes, with its reason.
    assert!(
        value["changes"].as_array().unwrap().iter().any(|c| c
            .as_str()
            .is_some_and(|c| c.starts_with("suppressed: D008")
                && c.ends_with("no query reads note before the next release"))),
        "{value}"
    );
    let models = dir.path().join("crates/model/src/api_key.rs");
    let unused: Vec<(String, u64)> = value["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "M901")
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let text = fs::read_to_string(&models).unwrap();
    let line = text.lines().position(|l| l.contains("allow D009")).unwrap() + 1;
    assert_eq!(
        unused,
        [(models.to_string_lossy().into_owned(), line as u64)],
        "{value}"
    );
}
