//! The real binary on fixture projects, with the DuckDB warehouse checked
//! afterwards: relations, rows and columns.

mod support;

use std::path::Path;

use support::{copy_fixture, run_in, text, write};

fn db(project: &Path) -> duckdb::Connection {
    duckdb::Connection::open(project.join("target/gym.duckdb")).expect("open warehouse")
}

fn count(conn: &duckdb::Connection, relation: &str) -> i64 {
    conn.query_row(&format!("select count(*) from {relation}"), [], |r| {
        r.get(0)
    })
    .unwrap_or_else(|e| panic!("count {relation}: {e}"))
}

fn relation_type(conn: &duckdb::Connection, schema: &str, name: &str) -> Option<String> {
    conn.query_row(
        "select table_type from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
        |r| r.get(0),
    )
    .ok()
}

fn columns(conn: &duckdb::Connection, schema: &str, name: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare("select column_name from information_schema.columns where table_schema = ? and table_name = ? order by ordinal_position")
        .expect("prepare");
    stmt.query_map([schema, name], |r| r.get::<_, String>(0))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect()
}

fn assert_success(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "hangar failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn build_materializes_every_kind_and_runs_tests() {
    let (_tmp, project) = copy_fixture("gym_mini");
    let out = run_in(&project, &["build"]);
    assert_success(&out);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Done. PASS="), "{stdout}");
    assert!(stdout.contains("ERROR=0"), "{stdout}");

    let conn = db(&project);
    assert_eq!(
        relation_type(&conn, "main_raw", "raw_members").as_deref(),
        Some("BASE TABLE")
    );
    assert_eq!(
        relation_type(&conn, "main_staging", "stg_members").as_deref(),
        Some("VIEW")
    );
    assert_eq!(
        relation_type(&conn, "main_marts", "dim_members").as_deref(),
        Some("BASE TABLE")
    );
    assert_eq!(
        relation_type(&conn, "main_marts", "int_visits_enriched"),
        None,
        "ephemeral models make no relation"
    );
    assert_eq!(count(&conn, "main_raw.raw_visits"), 6);
    assert_eq!(count(&conn, "main_marts.dim_members"), 5);
    assert_eq!(count(&conn, "main_marts.fct_visits"), 6);
    assert_eq!(count(&conn, "main_marts.gym_daily"), 5);
    assert_eq!(count(&conn, "snapshots.members_snapshot"), 5);
    let visits_of_ada: i64 = conn
        .query_row(
            "select visit_count from main_marts.dim_members where member_id = 1",
            [],
            |r| r.get(0),
        )
        .expect("ada");
    assert_eq!(visits_of_ada, 2);
    let no_tmp: i64 = conn
        .query_row(
            "select count(*) from information_schema.tables where table_name like '%__hangar_%'",
            [],
            |r| r.get(0),
        )
        .expect("tmp");
    assert_eq!(no_tmp, 0, "no temporary relations stay behind");

    let results: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(project.join("target/run_results.json")).expect("run_results"),
    )
    .expect("json");
    let statuses: Vec<&str> = results["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["status"].as_str().expect("status"))
        .collect();
    assert!(
        statuses.contains(&"pass") && statuses.contains(&"success"),
        "{statuses:?}"
    );
    assert!(project.join("target/manifest.json").is_file());
}

#[test]
fn incremental_models_add_rows_on_the_second_run() {
    let (_tmp, project) = copy_fixture("gym_mini");
    assert_success(&run_in(&project, &["build"]));
    let seed = project.join("seeds/raw_visits.csv");
    let mut rows = std::fs::read_to_string(&seed).expect("seed");
    rows.push_str("7,2,south,2024-03-04,50\n8,1,north,2024-03-04,65\n");
    std::fs::write(&seed, rows).expect("write seed");
    assert_success(&run_in(&project, &["build"]));
    {
        let conn = db(&project);
        assert_eq!(count(&conn, "main_marts.fct_visits"), 8);
        assert_eq!(count(&conn, "main_marts.visits_appended"), 8);
        assert_eq!(count(&conn, "main_marts.visits_merged"), 8);
    }
    // Appending the same rows again duplicates only the append model's filter-free rows.
    assert_success(&run_in(
        &project,
        &["run", "--select", "visits_merged", "fct_visits"],
    ));
    {
        let conn = db(&project);
        assert_eq!(
            count(&conn, "main_marts.visits_merged"),
            8,
            "merge updates matched keys"
        );
        assert_eq!(count(&conn, "main_marts.fct_visits"), 8);
    }
    assert_success(&run_in(
        &project,
        &["run", "--full-refresh", "--select", "visits_appended"],
    ));
    assert_eq!(count(&db(&project), "main_marts.visits_appended"), 8);
}

#[test]
fn incremental_schema_change_appends_new_columns() {
    let (_tmp, project) = copy_fixture("gym_mini");
    assert_success(&run_in(&project, &["build"]));
    write(
        &project,
        "models/marts/fct_visits.sql",
        "{{ config(materialized='incremental', unique_key='visit_id', incremental_strategy='delete+insert', on_schema_change='append_new_columns') }}\nselect visit_id, member_id, gym, visited_on, minutes, minutes * 60 as seconds from {{ ref('stg_visits') }}\n",
    );
    assert_success(&run_in(&project, &["run", "--select", "fct_visits"]));
    let conn = db(&project);
    assert_eq!(
        columns(&conn, "main_marts", "fct_visits"),
        vec![
            "visit_id",
            "member_id",
            "gym",
            "visited_on",
            "minutes",
            "seconds"
        ]
    );
    assert_eq!(count(&conn, "main_marts.fct_visits"), 6);
}

#[test]
fn a_failing_model_leaves_the_previous_relation_intact() {
    let (_tmp, project) = copy_fixture("gym_mini");
    assert_success(&run_in(&project, &["build"]));
    write(
        &project,
        "models/marts/dim_members.sql",
        "select member_id, 1/0 as broken, no_such_column from {{ ref('stg_members') }}\n",
    );
    let out = run_in(&project, &["run", "--select", "dim_members+"]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("ERROR creating"), "{stdout}");
    assert!(stdout.contains("models/marts/dim_members.sql"), "{stdout}");
    let conn = db(&project);
    assert_eq!(
        count(&conn, "main_marts.dim_members"),
        5,
        "previous rows are kept"
    );
    assert_eq!(
        columns(&conn, "main_marts", "dim_members"),
        vec!["member_id", "first_name", "plan", "visit_count"]
    );
}

#[test]
fn a_failure_skips_descendants() {
    let (_tmp, project) = copy_fixture("gym_mini");
    assert_success(&run_in(&project, &["seed"]));
    write(
        &project,
        "models/staging/stg_visits.sql",
        "select * from no_such_table\n",
    );
    let out = run_in(&project, &["run"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("SKIP relation main_marts.fct_visits"),
        "{stdout}"
    );
    assert!(
        stdout.contains("OK created sql view model main_staging.stg_members"),
        "{stdout}"
    );
}

#[test]
fn a_malformed_seed_gives_a_located_error() {
    let (_tmp, project) = copy_fixture("gym_mini");
    write(
        &project,
        "seeds/raw_members.csv",
        "member_id,first_name\n1,Ada\n2\n",
    );
    let out = run_in(&project, &["seed"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("seeds/raw_members.csv:3"), "{stdout}");
    assert!(stdout.contains("1 fields but the header has 2"), "{stdout}");
}

#[test]
fn a_locked_database_file_gives_a_clear_error() {
    let (_tmp, project) = copy_fixture("gym_mini");
    assert_success(&run_in(&project, &["seed"]));
    // Hold the file open for writing from another process.
    let holder = duckdb::Connection::open(project.join("target/gym.duckdb")).expect("hold lock");
    let out = run_in(&project, &["run"]);
    drop(holder);
    assert_eq!(out.status.code(), Some(2), "stdout: {}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("gym.duckdb"), "{stderr}");
    assert!(stderr.to_lowercase().contains("lock"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn ctrl_c_cancels_and_leaves_no_temporary_relation() {
    let (_tmp, project) = copy_fixture("gym_mini");
    assert_success(&run_in(&project, &["seed"]));
    write(
        &project,
        "models/marts/slow.sql",
        "select count(*) as n from range(100000000000) a\n",
    );
    let child = support::hangar()
        .args(["run", "--select", "slow", "--project-dir"])
        .arg(&project)
        .arg("--profiles-dir")
        .arg(&project)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_secs(3));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(130),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let conn = db(&project);
    let leftovers: i64 = conn
        .query_row(
            "select count(*) from information_schema.tables where table_name like 'slow%'",
            [],
            |r| r.get(0),
        )
        .expect("query");
    assert_eq!(leftovers, 0, "no half-built relation");
}

#[test]
fn compile_writes_sql_with_ephemeral_ctes_and_a_manifest() {
    let (_tmp, project) = copy_fixture("gym_mini");
    let out = run_in(&project, &["compile"]);
    assert_success(&out);
    let sql = std::fs::read_to_string(
        project.join("target/compiled/gym_mini/models/marts/dim_members.sql"),
    )
    .expect("compiled");
    assert!(
        sql.contains("with __dbt__cte__int_visits_enriched as ("),
        "{sql}"
    );
    assert!(
        sql.contains(r#""gym"."main_staging"."stg_members""#),
        "{sql}"
    );
    let manifest = support::read_manifest(&project);
    let node = &manifest["nodes"]["model.gym_mini.dim_members"];
    assert_eq!(node["schema"], "main_marts");
    assert_eq!(node["config"]["materialized"], "table");
    assert_eq!(
        manifest["metadata"]["dbt_schema_version"],
        "https://schemas.getdbt.com/dbt/manifest/v12.json"
    );
    let test_ids: Vec<&String> = manifest["nodes"]
        .as_object()
        .expect("nodes")
        .keys()
        .filter(|k| k.starts_with("test."))
        .collect();
    assert!(
        test_ids.iter().any(|k| k.starts_with(
            "test.gym_mini.relationships_fct_visits_member_id__member_id__ref_stg_members_."
        )),
        "{test_ids:?}"
    );
}

#[test]
fn show_previews_rows() {
    let (_tmp, project) = copy_fixture("gym_mini");
    assert_success(&run_in(&project, &["seed"]));
    let out = run_in(
        &project,
        &[
            "show",
            "--inline",
            "select * from {{ ref('raw_members') }} order by member_id",
            "--limit",
            "2",
        ],
    );
    assert_success(&out);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("Ada") && stdout.contains("Grace") && !stdout.contains("Linus"),
        "{stdout}"
    );
}

#[test]
fn json_logs_carry_dbt_event_names() {
    let (_tmp, project) = copy_fixture("gym_mini");
    let out = run_in(&project, &["--log-format", "json", "seed"]);
    assert_success(&out);
    let names: Vec<String> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("one JSON object per line"))
        .map(|v| v["info"]["name"].as_str().unwrap_or_default().to_string())
        .collect();
    for expected in [
        "MainReportVersion",
        "NodeStart",
        "LogSeedResult",
        "NodeFinished",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
}

#[test]
fn compile_queries_the_warehouse_when_a_model_asks() {
    let (_tmp, project) = copy_fixture("gym_mini");
    write(
        &project,
        "models/marts/answer.sql",
        "{% set r = run_query('select 41 + 1 as n') %}\nselect {{ r.rows[0][0] if execute else 0 }} as answer\n",
    );
    assert_success(&run_in(
        &project,
        &["compile", "--select", "answer", "fct_visits"],
    ));
    let compiled = |f: &str| {
        std::fs::read_to_string(
            project
                .join("target/compiled/gym_mini/models/marts")
                .join(f),
        )
        .expect("compiled")
    };
    assert!(
        compiled("answer.sql").contains("select 42 as answer"),
        "{}",
        compiled("answer.sql")
    );
    assert!(
        !compiled("fct_visits.sql").contains("where visit_id >"),
        "no table yet: full build"
    );

    assert_success(&run_in(&project, &["build"]));
    assert_success(&run_in(&project, &["compile", "--select", "fct_visits"]));
    assert!(
        compiled("fct_visits.sql").contains("where visit_id >"),
        "the table exists: incremental branch"
    );
}

#[test]
fn hooks_and_persist_docs_run() {
    let (_tmp, project) = copy_fixture("gym_mini");
    write(
        &project,
        "models/marts/hooked.sql",
        "{{ config(materialized='table', pre_hook=\"create table if not exists main.hook_log (msg varchar)\", post_hook=\"insert into main.hook_log values ('post {{ this.name }}')\", persist_docs={'relation': true, 'columns': true}) }}\nselect 1 as id\n",
    );
    write(
        &project,
        "models/marts/hooked.yml",
        "version: 2\nmodels:\n  - name: hooked\n    description: A model with hooks.\n    columns:\n      - name: id\n        description: The only column.\n",
    );
    let mut project_file =
        std::fs::read_to_string(project.join("dbt_project.yml")).expect("project");
    project_file.push_str("\non-run-end:\n  - \"create or replace table main.run_log as select {{ results | length }} as n\"\n");
    write(&project, "dbt_project.yml", &project_file);
    assert_success(&run_in(&project, &["build"]));
    let conn = db(&project);
    let msg: String = conn
        .query_row("select msg from main.hook_log", [], |r| r.get(0))
        .expect("post-hook row");
    assert_eq!(msg, "post hooked");
    let comment: String = conn
        .query_row(
            "select comment from duckdb_tables() where table_name = 'hooked'",
            [],
            |r| r.get(0),
        )
        .expect("table comment");
    assert_eq!(comment, "A model with hooks.");
    let column_comment: String = conn
        .query_row("select comment from duckdb_columns() where table_name = 'hooked' and column_name = 'id'", [], |r| r.get(0))
        .expect("column comment");
    assert_eq!(column_comment, "The only column.");
    let results: i64 = conn
        .query_row("select n from main.run_log", [], |r| r.get(0))
        .expect("on-run-end ran");
    assert_eq!(results, 19, "on-run-end sees every node's result");
}

#[test]
fn incremental_schema_change_can_fail_or_sync() {
    let (_tmp, project) = copy_fixture("gym_mini");
    assert_success(&run_in(&project, &["build"]));
    let model = |policy: &str, cols: &str| {
        format!(
            "{{{{ config(materialized='incremental', unique_key='visit_id', on_schema_change='{policy}') }}}}\nselect {cols} from {{{{ ref('stg_visits') }}}}\n"
        )
    };
    write(
        &project,
        "models/marts/fct_visits.sql",
        &model("fail", "visit_id, gym"),
    );
    let out = run_in(&project, &["run", "--select", "fct_visits"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("out of sync"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        columns(&db(&project), "main_marts", "fct_visits").len(),
        5,
        "unchanged after the failure"
    );

    write(
        &project,
        "models/marts/fct_visits.sql",
        &model(
            "sync_all_columns",
            "visit_id, gym, minutes * 2 as double_minutes",
        ),
    );
    assert_success(&run_in(&project, &["run", "--select", "fct_visits"]));
    assert_eq!(
        columns(&db(&project), "main_marts", "fct_visits"),
        vec!["visit_id", "gym", "double_minutes"]
    );
}

#[test]
fn installed_packages_load_with_their_own_models_macros_and_vars() {
    let (_tmp, project) = copy_fixture("with_package");
    let out = run_in(&project, &["build"]);
    assert_success(&out);
    let conn = duckdb::Connection::open(project.join("target/climbing.duckdb")).expect("open");
    // The root project's `gym_utils: +schema: utils` wins over the package's own config.
    assert_eq!(
        relation_type(&conn, "main_utils", "numbers").as_deref(),
        Some("VIEW")
    );
    let rows: Vec<(i64, i64, String)> = conn
        .prepare("select grade, doubled, label from main.route_grades order by grade")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect();
    // The root's vars for the package override the package's own (offset 10),
    // and dispatch finds the root's `duckdb__label` first.
    assert_eq!(
        rows,
        vec![
            (10, 20, "V10".to_string()),
            (11, 22, "V11".into()),
            (12, 24, "V12".into())
        ]
    );
    let manifest = support::read_manifest(&project);
    assert_eq!(
        manifest["nodes"]["model.gym_utils.numbers"]["package_name"],
        "gym_utils"
    );
    assert_eq!(
        manifest["nodes"]["model.gym_utils.numbers"]["fqn"],
        serde_json::json!(["gym_utils", "numbers"])
    );
}

#[test]
fn failing_tests_warn_or_fail_and_store_their_failures() {
    let (_tmp, project) = copy_fixture("gym_mini");
    write(
        &project,
        "models/failing_tests.yml",
        "version: 2\nmodels:\n  - name: stg_visits\n    columns:\n      - name: minutes\n        data_tests:\n          - accepted_values:\n              values: [90, 60]\n              quote: false\n              config:\n                store_failures: true\n                severity: warn\n          - accepted_values:\n              name: minutes_are_round_hours\n              values: [60, 120]\n              quote: false\n              config:\n                where: \"gym = 'north'\"\n",
    );
    let out = run_in(
        &project,
        &["build", "--select", "stg_visits+", "raw_visits"],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    // 4 of the 6 visits are neither 90 nor 60 minutes: a warning, stored.
    assert!(
        stdout.contains("WARN 4 accepted_values_stg_visits_minutes__False__90__60"),
        "{stdout}"
    );
    // The north gym's 90, 45 and 75 minute visits break the second test.
    assert!(
        stdout.contains("FAIL 3 minutes_are_round_hours"),
        "{stdout}"
    );
    // The failing error-severity test gates what is built on stg_visits.
    assert!(
        stdout.contains("SKIP relation main_marts.fct_visits"),
        "{stdout}"
    );
    let conn = db(&project);
    assert_eq!(
        count(
            &conn,
            "main_dbt_test__audit.accepted_values_stg_visits_minutes__False__90__60"
        ),
        4
    );
}

#[test]
fn project_file_values_are_rendered() {
    let (_tmp, project) = copy_fixture("gym_mini");
    let text_of = std::fs::read_to_string(project.join("dbt_project.yml")).expect("project");
    let rendered = text_of
        .replace(
            "+schema: marts",
            "+schema: \"{{ env_var('HANGAR_TEST_MART_SCHEMA', 'marts') }}\"",
        )
        .replace(
            "min_visit_minutes: 0",
            "min_visit_minutes: \"{{ env_var('HANGAR_TEST_MIN_MINUTES', '0') }}\"",
        )
        .replace(
            "      +materialized: ephemeral",
            "      +materialized: ephemeral\n      +enabled: \"{{ target.name == 'dev' }}\"",
        );
    write(&project, "dbt_project.yml", &rendered);
    let out = support::hangar()
        .args(["parse", "--project-dir"])
        .arg(&project)
        .arg("--profiles-dir")
        .arg(&project)
        .env("HANGAR_TEST_MART_SCHEMA", "gold")
        .env("HANGAR_TEST_MIN_MINUTES", "50")
        .output()
        .expect("run");
    assert_success(&out);
    let manifest = support::read_manifest(&project);
    let node = &manifest["nodes"]["model.gym_mini.dim_members"];
    assert_eq!(node["schema"], "main_gold");
    assert_eq!(
        manifest["nodes"]["model.gym_mini.int_visits_enriched"]["config"]["enabled"],
        true
    );
    // The project var comes from the environment through env_var().
    let compiled = support::hangar()
        .args(["compile", "--select", "stg_visits", "--project-dir"])
        .arg(&project)
        .arg("--profiles-dir")
        .arg(&project)
        .env("HANGAR_TEST_MIN_MINUTES", "50")
        .output()
        .expect("run");
    assert_success(&compiled);
    let sql = std::fs::read_to_string(
        project.join("target/compiled/gym_mini/models/staging/stg_visits.sql"),
    )
    .expect("sql");
    assert!(sql.contains("minutes >= 50"), "{sql}");

    // Project vars may use `target` too, as in dbt.
    let with_target = std::fs::read_to_string(project.join("dbt_project.yml"))
        .expect("project")
        .replace(
            "vars:\n",
            "vars:\n  built_for: \"{{ target.name }} on {{ target.type }}\"\n",
        );
    write(&project, "dbt_project.yml", &with_target);
    let out = run_in(
        &project,
        &[
            "compile",
            "--inline",
            "select '{{ var(\"built_for\") }}' as built_for",
        ],
    );
    assert_success(&out);
    assert!(
        text(&out.stdout).contains("select 'dev on duckdb' as built_for"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn incremental_predicates_limit_what_is_replaced() {
    let (_tmp, project) = copy_fixture("gym_mini");
    write(
        &project,
        "models/marts/recent_visits.sql",
        "{{ config(materialized='incremental', unique_key='visit_id', incremental_strategy='delete+insert', incremental_predicates=[\"DBT_INTERNAL_DEST.visited_on > cast('2024-03-02' as date)\"]) }}\nselect visit_id, visited_on, minutes from {{ ref('stg_visits') }}\n",
    );
    assert_success(&run_in(&project, &["build", "--select", "+recent_visits"]));
    // Every visit comes again; only rows after 2024-03-02 may be replaced, so
    // the four older ones are kept and inserted a second time.
    assert_success(&run_in(&project, &["run", "--select", "recent_visits"]));
    let conn = db(&project);
    assert_eq!(count(&conn, "main_marts.recent_visits"), 6 + 4);
    let copies_of_first: i64 = conn
        .query_row(
            "select count(*) from main_marts.recent_visits where visit_id = 1",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(copies_of_first, 2);
}

#[test]
fn ls_init_debug_and_clean() {
    let (tmp, project) = copy_fixture("gym_mini");
    let lines = |out: std::process::Output| -> Vec<String> {
        assert_success(&out);
        text(&out.stdout).lines().map(str::to_string).collect()
    };
    let models = lines(run_in(
        &project,
        &[
            "ls",
            "--resource-type",
            "model",
            "--select",
            "marts",
            "--output",
            "name",
        ],
    ));
    assert_eq!(
        models,
        vec![
            "dim_members",
            "fct_visits",
            "gym_daily",
            "visits_appended",
            "visits_merged"
        ]
    );
    let paths = lines(run_in(
        &project,
        &[
            "ls",
            "--select",
            "+dim_members",
            "--exclude",
            "resource_type:test",
            "--output",
            "path",
        ],
    ));
    assert!(
        paths.contains(&"seeds/raw_members.csv".to_string())
            && paths.contains(&"models/marts/dim_members.sql".to_string()),
        "{paths:?}"
    );
    let json = lines(run_in(
        &project,
        &[
            "ls",
            "--select",
            "stg_members",
            "--resource-type",
            "model",
            "--output",
            "json",
            "--output-keys",
            "name",
            "unique_id",
        ],
    ));
    assert_eq!(
        json,
        vec![r#"{"name":"stg_members","unique_id":"model.gym_mini.stg_members"}"#]
    );
    let selectors = lines(run_in(&project, &["ls", "--select", "test_type:singular"]));
    assert_eq!(selectors, vec!["gym_mini.singular.no_negative_minutes"]);

    let debug = run_in(&project, &["debug"]);
    assert_success(&debug);
    assert!(
        text(&debug.stdout).contains("All checks passed!"),
        "{}",
        text(&debug.stdout)
    );

    assert!(project.join("target").is_dir());
    assert_success(&run_in(&project, &["clean"]));
    assert!(!project.join("target").exists());

    let init = support::hangar()
        .args(["init", "new_gym", "--project-dir"])
        .arg(tmp.path())
        .output()
        .expect("init");
    assert_success(&init);
    let new_project = tmp.path().join("new_gym");
    assert_success(&run_in(&new_project, &["build"]));
}

#[test]
fn identifiers_with_spaces_quotes_and_mixed_case_work() {
    // The same fixture runs on Postgres in e2e_postgres.rs.
    let (_tmp, project) = copy_fixture("identifiers_odd");
    let out = run_in(&project, &["build"]);
    assert_success(&out);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("ERROR=0"), "{stdout}");
    let conn = duckdb::Connection::open(project.join("target/identifiers.duckdb"))
        .expect("open warehouse");
    assert_eq!(count(&conn, "main_raw.odd_people"), 3);
    assert_eq!(count(&conn, r#"main."Odd ""Model"" Name""#), 3);
    assert_eq!(count(&conn, r#"main."Odd View""#), 1);
    assert_eq!(
        columns(&conn, "main", "Odd \"Model\" Name"),
        ["id", "Full Name", "Say \"Hi\"", "status", "UPPER Name"]
    );
    let quoted: String = conn
        .query_row(
            r#"select "Say ""Hi""" from main."Odd ""Model"" Name" where id = 2"#,
            [],
            |r| r.get(0),
        )
        .expect("row 2");
    assert_eq!(quoted, "it's \"quoted\"");

    // An accepted value with a quote matches, and a row outside the list still fails.
    write(
        &project,
        "seeds/odd_people.csv",
        "id,Full Name,\"Say \"\"Hi\"\"\",status\n1,Ada Lovelace,hello,active\n2,Conan O'Brien,\"it's \"\"quoted\"\"\",it's odd\n3,Grace Hopper,hey,it's new\n",
    );
    drop(conn);
    let out = run_in(&project, &["build", "--select", "odd_people"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("accepted_values_odd_people_status"),
        "{}",
        text(&out.stdout)
    );
}
