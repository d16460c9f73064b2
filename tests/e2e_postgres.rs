//! The real binary on a fixture project against the local PostgreSQL
//! (127.0.0.1:5432, trust auth). Each test creates its own database and
//! drops it afterwards.

mod support;

use std::path::Path;

use support::{copy_fixture, run_in, text, write};

/// A fresh database, dropped when the guard goes out of scope.
struct TestDatabase {
    name: String,
}

impl TestDatabase {
    fn create(label: &str) -> TestDatabase {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let name = format!("hangar_e2e_{label}_{}_{nanos}", std::process::id());
        admin()
            .batch_execute(&format!("create database {name}"))
            .expect("create database");
        TestDatabase { name }
    }

    fn client(&self) -> postgres::Client {
        postgres::Client::connect(
            &format!(
                "host=127.0.0.1 port=5432 user=postgres dbname={}",
                self.name
            ),
            postgres::NoTls,
        )
        .expect("connect to test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = admin().batch_execute(&format!(
            "drop database if exists {} with (force)",
            self.name
        ));
    }
}

fn admin() -> postgres::Client {
    postgres::Client::connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=postgres",
        postgres::NoTls,
    )
    .expect("PostgreSQL must run on 127.0.0.1:5432 (scripts/test starts it)")
}

fn use_postgres(project: &Path, db: &TestDatabase) {
    write(
        project,
        "profiles.yml",
        &format!(
            "gym_mini:\n  target: ci\n  outputs:\n    ci:\n      type: postgres\n      host: 127.0.0.1\n      port: 5432\n      user: postgres\n      password: ''\n      dbname: {}\n      schema: ci\n      threads: 2\n",
            db.name
        ),
    );
}

fn count(client: &mut postgres::Client, relation: &str) -> i64 {
    client
        .query_one(&format!("select count(*) from {relation}"), &[])
        .unwrap_or_else(|e| panic!("count {relation}: {e}"))
        .get(0)
}

fn assert_success(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn builds_twice_with_the_same_results() {
    let db = TestDatabase::create("build");
    let (_tmp, project) = copy_fixture("gym_mini");
    use_postgres(&project, &db);
    for _ in 0..2 {
        let out = run_in(&project, &["build"]);
        assert_success(&out);
        assert!(text(&out.stdout).contains("ERROR=0"));
    }
    let mut c = db.client();
    assert_eq!(count(&mut c, "ci_raw.raw_visits"), 6);
    assert_eq!(count(&mut c, "ci_marts.dim_members"), 5);
    assert_eq!(
        count(&mut c, "ci_marts.fct_visits"),
        6,
        "delete+insert keeps one row per key"
    );
    assert_eq!(
        count(&mut c, "ci_marts.visits_merged"),
        6,
        "merge keeps one row per key"
    );
    assert_eq!(
        count(&mut c, "ci_marts.visits_appended"),
        6,
        "the is_incremental() filter appends nothing new"
    );
    assert_eq!(count(&mut c, "snapshots.members_snapshot"), 5);
    let kind: String = c
        .query_one("select table_type from information_schema.tables where table_schema = 'ci_staging' and table_name = 'stg_members'", &[])
        .expect("stg_members")
        .get(0);
    assert_eq!(kind, "VIEW");
}

#[test]
fn a_failing_model_leaves_the_previous_table() {
    let db = TestDatabase::create("fail");
    let (_tmp, project) = copy_fixture("gym_mini");
    use_postgres(&project, &db);
    assert_success(&run_in(&project, &["build"]));
    write(
        &project,
        "models/marts/dim_members.sql",
        "select member_id, no_such_column from {{ ref('stg_members') }}\n",
    );
    let out = run_in(&project, &["run", "--select", "dim_members"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("no_such_column"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(count(&mut db.client(), "ci_marts.dim_members"), 5);
}

#[test]
fn a_wrong_host_names_the_target_and_hides_the_password() {
    let (_tmp, project) = copy_fixture("gym_mini");
    write(
        &project,
        "profiles.yml",
        "gym_mini:\n  target: ci\n  outputs:\n    ci:\n      type: postgres\n      host: 127.0.0.1\n      port: 1\n      user: postgres\n      password: hunter2-very-secret\n      dbname: nowhere\n      schema: ci\n      connect_timeout: 2\n",
    );
    let out = run_in(&project, &["run"]);
    assert_eq!(out.status.code(), Some(2));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(all.contains("ci") && all.contains("127.0.0.1"), "{all}");
    assert!(
        !all.contains("hunter2-very-secret"),
        "password leaked: {all}"
    );
}
