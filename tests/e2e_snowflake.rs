//! The real binary on a fixture project against Snowflake: the local emulator
//! (fakesnow behind tests/snowflake_emulator/shim.py, installed and started by
//! the tests themselves), and a live account when its credentials are in the
//! environment. Each test builds into a database (or schemas) of its own.

mod support;

#[path = "snowflake_emulator/emulator.rs"]
mod emulator;

use std::path::Path;
use std::process::Output;
use std::sync::Arc;

use emulator::{Emulator, unique_database};
use hangar_adapter::{Adapter, Connection, RelationKind, RelationRef, adapter_from_profile};
use serde_json::{Map, Value, json};
use support::{copy_fixture, run_in, text, write};

/// A session on the warehouse the project was built into, for checking it.
struct Warehouse {
    adapter: Arc<dyn Adapter>,
    conn: Box<dyn Connection>,
    database: String,
}

impl Warehouse {
    fn open(settings: &Map<String, Value>) -> Warehouse {
        let adapter = adapter_from_profile("snowflake", "check", settings, Path::new("."))
            .unwrap_or_else(|e| panic!("profile: {e}"));
        let conn = adapter.connect().unwrap_or_else(|e| panic!("connect: {e}"));
        let database = adapter.default_database().unwrap_or_default();
        Warehouse {
            adapter,
            conn,
            database,
        }
    }

    fn relation(&self, schema: &str, name: &str) -> RelationRef {
        RelationRef::new(Some(&self.database), schema, name)
    }

    fn rows(&mut self, sql: &str) -> Vec<Vec<Value>> {
        self.conn
            .query(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .rows
    }

    fn count(&mut self, schema: &str, name: &str) -> i64 {
        let relation = self.adapter.render_relation(&self.relation(schema, name));
        self.rows(&format!("select count(*) from {relation}"))
            .first()
            .and_then(|r| r.first())
            .and_then(Value::as_i64)
            .unwrap_or(-1)
    }

    fn kind(&mut self, schema: &str, name: &str) -> Option<RelationKind> {
        let database = self.database.clone();
        let listed = self
            .conn
            .list_relations(Some(&database), schema)
            .unwrap_or_else(|e| panic!("list {schema}: {e}"));
        listed
            .into_iter()
            .find(|i| i.relation.identifier.eq_ignore_ascii_case(name))
            .map(|i| i.kind)
    }
}

/// gym_mini's project file plus hooks of two statements and persist_docs.
const PROJECT_WITH_HOOKS_AND_DOCS: &str = r#"name: gym_mini
version: "1.0.0"
config-version: 2
profile: gym_mini

on-run-start:
  - "create schema if not exists {{ target.database }}.audit; create or replace table {{ target.database }}.audit.runs (note varchar)"

models:
  gym_mini:
    +persist_docs: {relation: true, columns: true}
    staging:
      +materialized: view
      +schema: staging
    intermediate:
      +materialized: ephemeral
    marts:
      +materialized: table
      +schema: marts
      +post-hook: "insert into {{ target.database }}.audit.runs values ('{{ this.name }}'); -- one; two\ninsert into {{ target.database }}.audit.runs values ('{{ this.name }} again')"

seeds:
  gym_mini:
    +schema: raw

vars:
  min_visit_minutes: 0
"#;

fn use_emulator(project: &Path, emulator: &Emulator, database: &str) {
    write(
        project,
        "profiles.yml",
        &format!(
            "gym_mini:\n  target: ci\n  outputs:\n    ci:\n{}",
            emulator.profile_yaml(database, "ci", 2)
        ),
    );
}

fn assert_success(out: &Output, emulator: Option<&Emulator>) {
    assert!(
        out.status.success(),
        "stdout:\n{}\nstderr:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr),
        emulator.map(Emulator::log_tail).unwrap_or_default()
    );
}

#[test]
fn builds_seeds_views_tables_merges_and_tests_on_the_emulator() {
    let emulator = Emulator::shared();
    let database = unique_database("build");
    let (_tmp, project) = copy_fixture("gym_mini");
    use_emulator(&project, &emulator, &database);
    write(&project, "dbt_project.yml", PROJECT_WITH_HOOKS_AND_DOCS);
    let properties = std::fs::read_to_string(project.join("models/schema.yml")).unwrap_or_default();
    write(
        &project,
        "models/schema.yml",
        &properties.replace(
            "    description: One row per visit.\n",
            "    description: One row per visit; a fact table.\n",
        ),
    );
    let out = run_in(&project, &["build"]);
    assert_success(&out, Some(&emulator));
    assert!(
        text(&out.stdout).contains("ERROR=0"),
        "{}",
        text(&out.stdout)
    );

    let mut wh = Warehouse::open(&emulator.settings(&database, "ci"));
    // Each hook of two statements ran both, one request each.
    let audit = wh.adapter.render_relation(&wh.relation("audit", "runs"));
    assert_eq!(
        wh.rows(&format!(
            "select note from {audit} where note like 'dim_members%' order by note"
        )),
        vec![vec![json!("dim_members")], vec![json!("dim_members again")]]
    );
    let info = format!("\"{database}\".information_schema");
    assert_eq!(
        wh.rows(&format!(
            "select comment from {info}.tables where table_schema = 'CI_MARTS' and table_name = 'FCT_VISITS'"
        )),
        vec![vec![json!("One row per visit; a fact table.")]]
    );
    // Column comments are sent too, but the emulator drops them, and it cannot
    // store a comment with a quote in it (COMPATIBILITY.md).
    assert_eq!(wh.count("ci_raw", "raw_visits"), 6);
    assert_eq!(wh.count("ci_marts", "dim_members"), 5);
    assert_eq!(wh.count("ci_marts", "fct_visits"), 6);
    assert_eq!(wh.count("ci_marts", "visits_merged"), 6);
    assert_eq!(wh.count("snapshots", "members_snapshot"), 5);
    assert_eq!(
        wh.kind("ci_staging", "stg_members"),
        Some(RelationKind::View)
    );
    assert_eq!(
        wh.kind("ci_marts", "dim_members"),
        Some(RelationKind::Table)
    );
    // Unquoted names are folded as Snowflake folds them, seed columns included.
    let columns = wh
        .conn
        .get_columns(&wh.relation("ci_raw", "raw_members"))
        .unwrap_or_default();
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["MEMBER_ID", "FIRST_NAME", "PLAN", "JOINED_ON", "FEE_CENTS"]
    );

    // A changed and a new visit: the merge updates one row and inserts one;
    // the second build also replaces every table in place.
    write(
        &project,
        "seeds/raw_visits.csv",
        "visit_id,member_id,gym,visited_on,minutes\n1,1,north,2024-03-01,90\n2,2,north,2024-03-01,65\n3,1,south,2024-03-02,120\n4,3,north,2024-03-02,45\n5,4,south,2024-03-03,30\n6,5,north,2024-03-03,75\n7,2,south,2024-03-04,50\n",
    );
    let out = run_in(&project, &["build"]);
    assert_success(&out, Some(&emulator));
    assert!(
        text(&out.stdout).contains("ERROR=0"),
        "{}",
        text(&out.stdout)
    );
    let merged = wh
        .adapter
        .render_relation(&wh.relation("ci_marts", "visits_merged"));
    assert_eq!(
        wh.rows(&format!(
            "select visit_id, minutes from {merged} where visit_id in (2, 7) order by visit_id"
        )),
        vec![vec![json!(2), json!(65)], vec![json!(7), json!(50)]]
    );
    assert_eq!(wh.count("ci_marts", "visits_merged"), 7);
    assert_eq!(wh.count("ci_marts", "fct_visits"), 7);
    assert_eq!(wh.count("ci_marts", "visits_appended"), 7);
    assert_eq!(wh.count("ci_marts", "dim_members"), 5);
}

#[test]
fn a_failing_model_leaves_the_previous_table_on_the_emulator() {
    let emulator = Emulator::shared();
    let database = unique_database("fail");
    let (_tmp, project) = copy_fixture("gym_mini");
    use_emulator(&project, &emulator, &database);
    assert_success(&run_in(&project, &["build"]), Some(&emulator));
    write(
        &project,
        "models/marts/dim_members.sql",
        "select member_id, no_such_column from {{ ref('stg_members') }}\n",
    );
    let out = run_in(&project, &["run", "--select", "dim_members"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).to_lowercase().contains("no_such_column"),
        "{}",
        text(&out.stdout)
    );
    let mut wh = Warehouse::open(&emulator.settings(&database, "ci"));
    assert_eq!(wh.count("ci_marts", "dim_members"), 5);
}

#[test]
fn an_unreachable_host_names_the_target_and_hides_the_password() {
    let (_tmp, project) = copy_fixture("gym_mini");
    write(
        &project,
        "profiles.yml",
        "gym_mini:\n  target: prod\n  outputs:\n    prod:\n      type: snowflake\n      account: xy12345\n      user: loader\n      password: hunter2-very-secret\n      database: analytics\n      schema: ci\n      host: 127.0.0.1\n      port: 1\n      protocol: http\n      connect_timeout: 5\n      connect_retries: 0\n",
    );
    let out = run_in(&project, &["run"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(all.contains("prod") && all.contains("127.0.0.1:1"), "{all}");
    assert!(
        !all.contains("hunter2-very-secret"),
        "password leaked: {all}"
    );
}

/// Against a real account: only with `SNOWFLAKE_ACCOUNT`, `SNOWFLAKE_USER` and
/// `SNOWFLAKE_PASSWORD` or `SNOWFLAKE_PRIVATE_KEY_PATH` set (plus optionally
/// `SNOWFLAKE_PRIVATE_KEY_PASSPHRASE`, `SNOWFLAKE_ROLE`, `SNOWFLAKE_WAREHOUSE`,
/// `SNOWFLAKE_DATABASE`). Builds into fresh schemas and drops them afterwards.
#[test]
fn live_snowflake_build_when_credentials_are_set() {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let (Some(_), Some(_)) = (env("SNOWFLAKE_ACCOUNT"), env("SNOWFLAKE_USER")) else {
        println!(
            "skipped: set SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER and SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY_PATH to run against a live account"
        );
        return;
    };
    let secret = if env("SNOWFLAKE_PRIVATE_KEY_PATH").is_some() {
        let mut lines =
            "      private_key_path: \"{{ env_var('SNOWFLAKE_PRIVATE_KEY_PATH') }}\"\n".to_string();
        if env("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE").is_some() {
            lines.push_str("      private_key_passphrase: \"{{ env_var('SNOWFLAKE_PRIVATE_KEY_PASSPHRASE') }}\"\n");
        }
        lines
    } else if env("SNOWFLAKE_PASSWORD").is_some() {
        "      password: \"{{ env_var('SNOWFLAKE_PASSWORD') }}\"\n".to_string()
    } else {
        println!("skipped: SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY_PATH is not set");
        return;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let schema = format!("hangar_live_{}_{nanos}", std::process::id());
    let database = env("SNOWFLAKE_DATABASE").unwrap_or_else(|| "ANALYTICS".to_string());
    let (_tmp, project) = copy_fixture("gym_mini");
    // The fixture's snapshot writes to a shared `snapshots` schema: not on a real account.
    let _ = std::fs::remove_dir_all(project.join("snapshots"));
    let optional = |key: &str, var: &str| {
        env(var)
            .map(|_| format!("      {key}: \"{{{{ env_var('{var}') }}}}\"\n"))
            .unwrap_or_default()
    };
    write(
        &project,
        "profiles.yml",
        &format!(
            "gym_mini:\n  target: live\n  outputs:\n    live:\n      type: snowflake\n      \
             account: \"{{{{ env_var('SNOWFLAKE_ACCOUNT') }}}}\"\n      user: \"{{{{ env_var('SNOWFLAKE_USER') }}}}\"\n{secret}{}{}      \
             database: {database}\n      schema: {schema}\n      threads: 4\n      query_tag: hangar_e2e\n",
            optional("role", "SNOWFLAKE_ROLE"),
            optional("warehouse", "SNOWFLAKE_WAREHOUSE"),
        ),
    );
    let out = run_in(&project, &["build"]);
    let mut settings = Map::new();
    for (key, var) in [
        ("account", "SNOWFLAKE_ACCOUNT"),
        ("user", "SNOWFLAKE_USER"),
        ("password", "SNOWFLAKE_PASSWORD"),
        ("private_key_path", "SNOWFLAKE_PRIVATE_KEY_PATH"),
        ("private_key_passphrase", "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"),
        ("role", "SNOWFLAKE_ROLE"),
        ("warehouse", "SNOWFLAKE_WAREHOUSE"),
    ] {
        if let Some(v) = env(var) {
            settings.insert(key.to_string(), Value::from(v));
        }
    }
    settings.insert("database".into(), Value::from(database.as_str()));
    settings.insert("schema".into(), Value::from(schema.as_str()));
    let mut wh = Warehouse::open(&settings);
    let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        assert_success(&out, None);
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        if let Some(password) = env("SNOWFLAKE_PASSWORD") {
            assert!(!all.contains(&password), "password leaked");
        }
        assert_eq!(wh.count(&format!("{schema}_raw"), "raw_visits"), 6);
        assert_eq!(wh.count(&format!("{schema}_marts"), "dim_members"), 5);
        assert_eq!(wh.count(&format!("{schema}_marts"), "visits_merged"), 6);
        assert_eq!(
            wh.kind(&format!("{schema}_staging"), "stg_members"),
            Some(RelationKind::View)
        );
    }));
    for suffix in ["", "_raw", "_staging", "_marts"] {
        let name = wh
            .adapter
            .render_relation(&wh.relation(&format!("{schema}{suffix}"), "x"));
        let schema_name = name
            .rsplit_once('.')
            .map_or(name.as_str(), |(s, _)| s)
            .to_string();
        let _ = wh
            .conn
            .execute(&format!("drop schema if exists {schema_name}"));
    }
    if let Err(panic) = checked {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn identifiers_with_spaces_quotes_and_mixed_case_work_on_the_emulator() {
    let emulator = Emulator::shared();
    let database = unique_database("identifiers");
    let (_tmp, project) = copy_fixture("identifiers_odd");
    write(
        &project,
        "profiles.yml",
        &format!(
            "identifiers_odd:\n  target: ci\n  outputs:\n    ci:\n{}",
            emulator.profile_yaml(&database, "ci", 2)
        ),
    );
    let out = run_in(&project, &["build"]);
    assert_success(&out, Some(&emulator));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("ERROR=0") && stdout.contains("PASS="),
        "{stdout}"
    );

    let mut wh = Warehouse::open(&emulator.settings(&database, "ci"));
    // Plain names fold to upper case; the others keep their spaces, quotes and case.
    assert_eq!(wh.count("CI_RAW", "ODD_PEOPLE"), 3);
    assert_eq!(wh.count("CI", "Odd \"Model\" Name"), 3);
    assert_eq!(wh.count("CI", "Odd View"), 1);
    let model = wh
        .adapter
        .render_relation(&wh.relation("CI", "Odd \"Model\" Name"));
    assert_eq!(
        wh.rows(&format!(r#"select "Say ""Hi""" from {model} where id = 2"#)),
        vec![vec![json!("it's \"quoted\"")]]
    );
}
