//! Unit tests and model contracts, end to end on DuckDB: the real binary on
//! the `gym_quality` fixture, with the warehouse and artifacts checked.

mod support;

use std::path::Path;

use serde_json::Value;
use support::{copy_fixture, run_in, text, write};

fn db(project: &Path) -> duckdb::Connection {
    duckdb::Connection::open(project.join("target/gym.duckdb")).expect("open warehouse")
}

fn count(project: &Path, relation: &str) -> i64 {
    db(project)
        .query_row(&format!("select count(*) from {relation}"), [], |r| {
            r.get(0)
        })
        .unwrap_or_else(|e| panic!("count {relation}: {e}"))
}

fn json(project: &Path, artifact: &str) -> Value {
    let path = project.join("target").join(artifact);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("artifact")).expect("json")
}

fn assert_exit(out: &std::process::Output, code: i32) -> String {
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    stdout
}

/// (unique_id, status, failures) of every result, sorted.
fn results(project: &Path) -> Vec<(String, String, Option<u64>)> {
    let run_results = json(project, "run_results.json");
    let mut out: Vec<_> = run_results["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["unique_id"].as_str().unwrap_or_default().to_string(),
                r["status"].as_str().unwrap_or_default().to_string(),
                r["failures"].as_u64(),
            )
        })
        .collect();
    out.sort();
    out
}

const UNIT_TESTS: [&str; 6] = [
    "unit_test.gym_quality.active_member_count.counts_active_members_from_sql",
    "unit_test.gym_quality.member_tiers.tiers_follow_vars_and_env",
    "unit_test.gym_quality.member_visits.counts_visits_from_csv",
    "unit_test.gym_quality.member_visits.counts_visits_per_member",
    "unit_test.gym_quality.stg_visits.staging_drops_empty_visits",
    "unit_test.gym_quality.visits_incremental.incremental_keeps_only_new_visits",
];

#[test]
fn build_runs_unit_tests_before_their_models_and_enforces_contracts() {
    let (_tmp, project) = copy_fixture("gym_quality");
    // Twice: the second run types fixtures from existing relations and runs
    // the incremental model's incremental branch.
    for _ in 0..2 {
        let stdout = assert_exit(&run_in(&project, &["build"]), 0);
        assert!(
            stdout.contains("PASS member_visits::counts_visits_per_member"),
            "{stdout}"
        );
        let unit_line = stdout
            .find("member_visits::counts_visits_per_member")
            .expect("unit test line");
        let model_line = stdout.find("model main.member_visits").expect("model line");
        assert!(
            unit_line < model_line,
            "unit test must run first:\n{stdout}"
        );
    }
    let results = results(&project);
    for id in UNIT_TESTS {
        assert!(
            results.contains(&(id.to_string(), "pass".into(), Some(0))),
            "{id} in {results:?}"
        );
    }
    assert_eq!(count(&project, "main.member_visits"), 3);

    // The contract's not_null and primary key constraints are in the table.
    let conn = db(&project);
    let nullable: String = conn
        .query_row(
            "select is_nullable from information_schema.columns where table_name = 'member_visits' and column_name = 'member_id'",
            [],
            |r| r.get(0),
        )
        .expect("column");
    assert_eq!(nullable, "NO");
    let constraints: Vec<String> = conn
        .prepare("select constraint_type from duckdb_constraints() where table_name = 'member_visits' order by 1")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect();
    assert!(
        constraints.contains(&"PRIMARY KEY".to_string()),
        "{constraints:?}"
    );
    assert!(
        constraints.contains(&"CHECK".to_string()),
        "{constraints:?}"
    );
    assert!(
        constraints.contains(&"NOT NULL".to_string()),
        "{constraints:?}"
    );
}

#[test]
fn unit_tests_are_selected_by_test_type_and_need_no_upstream_data() {
    let (_tmp, project) = copy_fixture("gym_quality");
    // Nothing built yet: fixtures are typed from their literals.
    let out = run_in(&project, &["test", "--select", "test_type:unit"]);
    assert_exit(&out, 0);
    let ids: Vec<String> = results(&project).into_iter().map(|r| r.0).collect();
    assert_eq!(ids, UNIT_TESTS);

    let out = run_in(
        &project,
        &["ls", "--select", "tag:fast", "--output", "name"],
    );
    let stdout = assert_exit(&out, 0);
    assert!(stdout.contains("counts_visits_per_member"), "{stdout}");
}

#[test]
fn a_failing_unit_test_shows_rows_side_by_side_and_skips_its_model() {
    let (_tmp, project) = copy_fixture("gym_quality");
    assert_exit(&run_in(&project, &["build"]), 0);
    write(
        &project,
        "models/marts/wrong.yml",
        "version: 2\nunit_tests:\n  - name: wrong_minutes\n    model: member_visits\n    given:\n      - input: ref('stg_members')\n        rows: [{member_id: 1, first_name: Ada}]\n      - input: ref('stg_visits')\n        rows: [{visit_id: 1, member_id: 1, minutes: 30}]\n    expect:\n      rows: [{member_id: 1, minutes: 31}]\n",
    );
    let stdout = assert_exit(&run_in(&project, &["build"]), 1);
    assert!(
        stdout.contains("FAIL 2 member_visits::wrong_minutes"),
        "{stdout}"
    );
    assert!(stdout.contains("actual differs from expected"), "{stdout}");
    assert!(
        stdout.contains("≠ 1         | 31      ‖ 1         | 30"),
        "{stdout}"
    );
    assert!(
        stdout.contains("SKIP relation main.member_visits"),
        "{stdout}"
    );
    assert!(
        stdout.contains("SKIP relation main.member_tiers"),
        "{stdout}"
    );
    // The previous table is still there.
    assert_eq!(count(&project, "main.member_visits"), 3);

    let stdout = assert_exit(
        &run_in(
            &project,
            &["test", "--select", "member_visits,test_type:unit"],
        ),
        1,
    );
    assert!(
        stdout.contains("PASS member_visits::counts_visits_per_member"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FAIL 2 member_visits::wrong_minutes"),
        "{stdout}"
    );
}

#[test]
fn a_unit_test_missing_an_input_names_it() {
    let (_tmp, project) = copy_fixture("gym_quality");
    write(
        &project,
        "models/marts/missing.yml",
        "version: 2\nunit_tests:\n  - name: forgot_visits\n    model: member_visits\n    given:\n      - input: ref('stg_members')\n        rows: [{member_id: 1, first_name: Ada}]\n    expect:\n      rows: [{member_id: 1}]\n",
    );
    let stdout = assert_exit(
        &run_in(
            &project,
            &["test", "--select", "member_visits,test_type:unit"],
        ),
        1,
    );
    assert!(
        stdout.contains("refs `stg_visits`, which is not among the test's `given` inputs"),
        "{stdout}"
    );
}

#[test]
fn a_contract_mismatch_fails_with_a_column_table_and_keeps_the_table() {
    let (_tmp, project) = copy_fixture("gym_quality");
    assert_exit(&run_in(&project, &["build"]), 0);
    let yml = std::fs::read_to_string(project.join("models/marts/marts.yml")).expect("yml");
    write(
        &project,
        "models/marts/marts.yml",
        &yml.replace("data_type: bigint", "data_type: varchar")
            .replace("      - name: minutes\n        data_type: hugeint\n", ""),
    );
    let stdout = assert_exit(&run_in(&project, &["run", "--select", "member_visits"]), 1);
    assert!(
        stdout.contains("This model has an enforced contract that failed."),
        "{stdout}"
    );
    assert!(
        stdout.contains("| visits      | BIGINT          | varchar       | data type mismatch  |"),
        "{stdout}"
    );
    assert!(
        stdout.contains("| minutes     | HUGEINT         |               | missing in contract |"),
        "{stdout}"
    );
    assert_eq!(count(&project, "main.member_visits"), 3);
}

#[test]
fn a_constraint_violation_keeps_the_previous_table() {
    let (_tmp, project) = copy_fixture("gym_quality");
    assert_exit(&run_in(&project, &["build"]), 0);
    let sql = std::fs::read_to_string(project.join("models/marts/member_visits.sql")).expect("sql");
    // A row with a NULL member_id breaks the not_null constraint.
    write(
        &project,
        "models/marts/member_visits.sql",
        &format!(
            "{sql}\nunion all\nselect cast(null as integer), 'Nobody', cast(0 as bigint), cast(0 as hugeint)\n"
        ),
    );
    let stdout = assert_exit(&run_in(&project, &["run", "--select", "member_visits"]), 1);
    assert!(
        stdout.contains("ERROR creating sql table model main.member_visits"),
        "{stdout}"
    );
    assert!(stdout.to_lowercase().contains("not null"), "{stdout}");
    assert_eq!(count(&project, "main.member_visits"), 3);
}

#[test]
fn manifest_and_run_results_record_unit_tests() {
    let (_tmp, project) = copy_fixture("gym_quality");
    assert_exit(&run_in(&project, &["build"]), 0);
    let manifest = json(&project, "manifest.json");
    let mut unit =
        manifest["unit_tests"]["unit_test.gym_quality.member_visits.counts_visits_per_member"]
            .clone();
    assert!(unit.is_object(), "unit test missing from manifest");
    unit["created_at"] = Value::String("[created_at]".into());
    insta::assert_json_snapshot!("manifest_unit_test", unit);
    assert_eq!(
        manifest["child_map"]["model.gym_quality.member_visits"]
            .as_array()
            .map(|c| c
                .iter()
                .any(|id| id == "unit_test.gym_quality.member_visits.counts_visits_per_member")),
        Some(true)
    );
    assert!(
        manifest["nodes"]
            .as_object()
            .is_some_and(|n| n.keys().all(|k| !k.starts_with("unit_test."))),
        "unit tests belong in `unit_tests`, not `nodes`"
    );
    let contract = &manifest["nodes"]["model.gym_quality.member_visits"]["contract"];
    assert_eq!(contract["enforced"], Value::Bool(true));

    // Statuses and failures of every node, timings left out.
    let run_results = json(&project, "run_results.json");
    let mut summary: Vec<Value> = run_results["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            serde_json::json!({
                "unique_id": r["unique_id"],
                "status": r["status"],
                "failures": r["failures"],
            })
        })
        .collect();
    summary.sort_by_key(|r| r["unique_id"].as_str().unwrap_or_default().to_string());
    insta::assert_json_snapshot!("run_results_statuses", summary);
}

#[test]
fn store_failures_as_view_keeps_failing_rows_in_a_view() {
    let (_tmp, project) = copy_fixture("gym_quality");
    write(
        &project,
        "models/staging/staging.yml",
        "version: 2\nmodels:\n  - name: stg_visits\n    columns:\n      - name: gym\n        data_tests:\n          - accepted_values:\n              arguments:\n                values: [north]\n              config:\n                store_failures_as: view\n                severity: warn\n      - name: minutes\n        data_tests:\n          - not_null:\n              config:\n                store_failures: true\n                store_failures_as: ephemeral\n",
    );
    // The source reads the seed's table, which the DAG does not know: seed first.
    assert_exit(&run_in(&project, &["seed"]), 0);
    let stdout = assert_exit(&run_in(&project, &["build", "--select", "stg_visits"]), 0);
    assert!(
        stdout.contains("WARN 1 accepted_values_stg_visits_gym__north"),
        "{stdout}"
    );
    let conn = db(&project);
    let kind: String = conn
        .query_row(
            "select table_type from information_schema.tables where table_schema = 'main_dbt_test__audit' and table_name = 'accepted_values_stg_visits_gym__north'",
            [],
            |r| r.get(0),
        )
        .expect("stored failures relation");
    assert_eq!(kind, "VIEW");
    // `ephemeral` wins over `store_failures: true`: nothing is stored.
    let stored: i64 = conn
        .query_row(
            "select count(*) from information_schema.tables where table_name = 'not_null_stg_visits_minutes'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(stored, 0);
}

#[test]
fn limit_and_fail_calc_shape_the_failure_count() {
    let (_tmp, project) = copy_fixture("gym_quality");
    assert_exit(&run_in(&project, &["seed"]), 0);
    write(
        &project,
        "models/staging/staging.yml",
        "version: 2\nmodels:\n  - name: stg_visits\n    columns:\n      - name: member_id\n        data_tests:\n          - accepted_values:\n              name: only_member_3_limited\n              arguments:\n                values: [3]\n                quote: false\n              config:\n                limit: 1\n          - accepted_values:\n              name: only_member_3_by_visits\n              arguments:\n                values: [3]\n                quote: false\n              config:\n                fail_calc: sum(n_records)\n                warn_if: \">= 1\"\n                error_if: \">= 10\"\n",
    );
    let stdout = assert_exit(&run_in(&project, &["build", "--select", "stg_visits"]), 1);
    // Members 1 and 2 are not accepted: two failing values, one kept by the limit.
    assert!(stdout.contains("FAIL 1 only_member_3_limited"), "{stdout}");
    // Their 5 visits, summed by fail_calc: a warning (>= 1) short of an error (>= 10).
    assert!(
        stdout.contains("WARN 5 only_member_3_by_visits"),
        "{stdout}"
    );
    let results = results(&project);
    assert!(results.iter().all(|r| !r.0.contains("switched_off")));
    let manifest = json(&project, "manifest.json");
    assert!(
        manifest["disabled"]["unit_test.gym_quality.member_visits.switched_off"].is_array(),
        "a disabled unit test is listed under `disabled`"
    );
}
