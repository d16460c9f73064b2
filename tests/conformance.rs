//! The conformance suite: one fixture project (`tests/fixtures/conformance`:
//! seeds, views, a table, an ephemeral model, the three incremental
//! strategies, a snapshot, hooks, data tests, unit tests, a contract) built by
//! the real binary on every adapter — DuckDB, PostgreSQL (127.0.0.1:5432) and
//! Snowflake (the local emulator) — with `build`, then `build --vars '{batch:
//! 2}'`. What each warehouse holds afterwards is read back through the adapter
//! crate and compared with DuckDB's: the same relations, column names, type
//! families and rows (in a canonical text form), and the same run_results
//! statuses. A difference an adapter is allowed is an entry of [`ALLOWED`] with
//! its reason, and every entry must still be needed.

mod support;

#[path = "snowflake_emulator/emulator.rs"]
mod emulator;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use emulator::{Emulator, unique_database};
use hangar_adapter::{RelationKind, adapter_from_profile};
use serde_json::{Map, Value, json};
use support::{copy_fixture, run_in, text, write};

/// The profile's schema; the project writes to `ci` and `ci_<suffix>` schemas.
const SCHEMA: &str = "ci";

/// The type families compared across warehouses (precision and length aside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Integer,
    Numeric,
    Float,
    Text,
    Date,
    Timestamp,
    TimestampTz,
    Boolean,
    Other,
}

/// The family of a column type as an adapter's `get_columns` spells it.
fn family(data_type: &str) -> Family {
    let lower = data_type.trim().to_ascii_lowercase();
    let (base, args) = match lower.split_once('(') {
        Some((base, args)) => (base.trim(), args.trim_end_matches(')')),
        None => (lower.as_str(), ""),
    };
    match base {
        // Snowflake spells every integer type NUMBER(38,0).
        "number" if args.is_empty() || args.split(',').nth(1).map(str::trim) == Some("0") => {
            Family::Integer
        }
        "number" | "numeric" | "decimal" => Family::Numeric,
        "tinyint" | "smallint" | "integer" | "int" | "bigint" | "hugeint" | "int2" | "int4"
        | "int8" | "int128" | "utinyint" | "usmallint" | "uinteger" | "ubigint" => Family::Integer,
        "double" | "double precision" | "float" | "float4" | "float8" | "real" => Family::Float,
        "varchar" | "text" | "string" | "char" | "character" | "character varying" | "bpchar" => {
            Family::Text
        }
        "date" => Family::Date,
        "timestamp" | "timestamp without time zone" | "timestamp_ntz" | "datetime" => {
            Family::Timestamp
        }
        "timestamptz" | "timestamp with time zone" | "timestamp_tz" | "timestamp_ltz" => {
            Family::TimestampTz
        }
        "boolean" | "bool" => Family::Boolean,
        _ => Family::Other,
    }
}

/// One cell as canonical text: numbers without trailing zeros, floats to nine
/// decimals, dates as `YYYY-MM-DD`, timestamps as `YYYY-MM-DD HH:MM:SS[.f]`,
/// booleans as `true` / `false`, NULL as `NULL`.
fn canonical(value: &Value, family: Family) -> String {
    let raw = match value {
        Value::Null => return "NULL".to_string(),
        Value::Bool(b) => return b.to_string(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => return other.to_string(),
    };
    match family {
        Family::Integer | Family::Numeric => decimal_text(&raw),
        Family::Float => raw
            .parse::<f64>()
            .map_or(raw.clone(), |f| decimal_text(&format!("{f:.9}"))),
        Family::Date => match raw.get(10..) {
            Some(rest) if is_midnight(rest) => raw[..10].to_string(),
            _ => raw,
        },
        Family::Timestamp | Family::TimestampTz => timestamp_text(&raw),
        Family::Boolean => match raw.to_ascii_lowercase().as_str() {
            "t" | "true" | "1" => "true".to_string(),
            "f" | "false" | "0" => "false".to_string(),
            _ => raw,
        },
        Family::Text | Family::Other => raw,
    }
}

/// `12.50` → `12.5`, `3.000` → `3`, `-0` → `0`.
fn decimal_text(raw: &str) -> String {
    let trimmed = raw.trim();
    let text = if trimmed.contains('.') && !trimmed.contains(['e', 'E']) {
        trimmed.trim_end_matches('0').trim_end_matches('.')
    } else {
        trimmed
    };
    match text {
        "-0" | "" => "0".to_string(),
        other => other.to_string(),
    }
}

fn is_midnight(rest: &str) -> bool {
    let time = rest.trim_start_matches(['T', ' ']);
    !time.is_empty() && time.chars().all(|c| matches!(c, '0' | ':' | '.'))
}

/// `2024-01-05T09:30:00.000` → `2024-01-05 09:30:00`; a zero offset is `+00:00`.
fn timestamp_text(raw: &str) -> String {
    let mut text = raw.trim().replacen('T', " ", 1);
    let mut offset = String::new();
    if let Some(stripped) = text.strip_suffix('Z') {
        text = stripped.to_string();
        offset = "+00:00".to_string();
    } else if let Some(at) = text.get(19..).and_then(|t| t.find(['+', '-'])) {
        offset = text.split_off(19 + at);
        if offset == "+00" || offset == "+0000" {
            offset = "+00:00".to_string();
        }
    }
    if let Some((whole, fraction)) = text.split_once('.') {
        let fraction = fraction.trim_end_matches('0');
        text = if fraction.is_empty() {
            whole.to_string()
        } else {
            format!("{whole}.{fraction}")
        };
    }
    format!("{text}{offset}")
}

#[derive(Debug, Clone)]
struct Column {
    /// Case-folded (Snowflake upper-cases unquoted names).
    name: String,
    data_type: String,
    family: Family,
}

#[derive(Debug, Clone)]
struct Relation {
    kind: RelationKind,
    columns: Vec<Column>,
    rows: Vec<Vec<String>>,
}

/// What one adapter's warehouse holds after the two builds.
#[derive(Debug)]
struct Built {
    adapter: &'static str,
    /// `schema.identifier`, case-folded.
    relations: BTreeMap<String, Relation>,
    /// `unique_id` → status, one map per build.
    statuses: Vec<BTreeMap<String, String>>,
}

/// Runs the two builds in `project` (whose profiles.yml points at the warehouse).
fn build_twice(project: &Path, logs: &dyn Fn() -> String) -> Vec<BTreeMap<String, String>> {
    let mut statuses = Vec::new();
    for args in [&["build"][..], &["build", "--vars", "{batch: 2}"][..]] {
        let out = run_in(project, args);
        assert!(
            out.status.success(),
            "hangar {}\nstdout:\n{}\nstderr:\n{}\n{}",
            args.join(" "),
            text(&out.stdout),
            text(&out.stderr),
            logs()
        );
        let path = project.join("target/run_results.json");
        let results: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_default())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let by_id = results["results"]
            .as_array()
            .unwrap_or_else(|| panic!("no results in {}", path.display()))
            .iter()
            .map(|r| {
                let field = |k: &str| r[k].as_str().unwrap_or_default().to_string();
                (field("unique_id"), field("status"))
            })
            .collect();
        statuses.push(by_id);
    }
    statuses
}

/// Every relation of the project's schemas, read through the adapter crate.
fn read_warehouse(
    adapter_type: &str,
    settings: &Map<String, Value>,
    project: &Path,
    logs: &dyn Fn() -> String,
) -> BTreeMap<String, Relation> {
    let adapter = adapter_from_profile(adapter_type, "check", settings, project)
        .unwrap_or_else(|e| panic!("{adapter_type} profile: {e}"));
    let mut conn = adapter
        .connect()
        .unwrap_or_else(|e| panic!("{adapter_type} connect: {e}"));
    let database = adapter.default_database();
    let schemas = conn
        .list_schemas(database.as_deref())
        .unwrap_or_else(|e| panic!("{adapter_type} schemas: {e}"));
    let mut relations = BTreeMap::new();
    let ours = |s: &str| {
        let s = s.to_ascii_lowercase();
        s == SCHEMA || s.starts_with(&format!("{SCHEMA}_"))
    };
    for schema in schemas.iter().filter(|s| ours(s)) {
        let listed = conn
            .list_relations(database.as_deref(), schema)
            .unwrap_or_else(|e| panic!("{adapter_type} list {schema}: {e}"));
        for info in listed {
            let r = &info.relation;
            let name = format!("{}.{}", r.schema, r.identifier).to_ascii_lowercase();
            let columns: Vec<Column> = conn
                .get_columns(r)
                .unwrap_or_else(|e| panic!("{adapter_type} columns of {name}: {e}"))
                .into_iter()
                .map(|c| Column {
                    name: c.name.to_ascii_lowercase(),
                    family: family(&c.data_type),
                    data_type: c.data_type,
                })
                .collect();
            let sql = format!("select * from {}", adapter.render_relation(r));
            let result = conn
                .query(&sql, &[])
                .unwrap_or_else(|e| panic!("{adapter_type} {sql}: {e}\n{}", logs()));
            assert_eq!(
                result.columns.len(),
                columns.len(),
                "{adapter_type} {name}: the query's columns are not get_columns'"
            );
            let rows = result
                .rows
                .iter()
                .map(|row| {
                    row.iter()
                        .zip(&columns)
                        .map(|(v, c)| canonical(v, c.family))
                        .collect()
                })
                .collect();
            relations.insert(
                name,
                Relation {
                    kind: info.kind,
                    columns,
                    rows,
                },
            );
        }
    }
    relations
}

fn build_on_duckdb() -> Built {
    let (_tmp, project) = copy_fixture("conformance");
    let path = project.join("target/conformance.duckdb");
    write(
        &project,
        "profiles.yml",
        &format!(
            "conformance:\n  target: ci\n  outputs:\n    ci:\n      type: duckdb\n      path: '{}'\n      schema: {SCHEMA}\n      threads: 2\n",
            path.display()
        ),
    );
    let statuses = build_twice(&project, &String::new);
    let settings = json!({"path": path.display().to_string(), "schema": SCHEMA});
    let relations = read_warehouse(
        "duckdb",
        settings.as_object().unwrap_or(&Map::new()),
        &project,
        &String::new,
    );
    Built {
        adapter: "duckdb",
        relations,
        statuses,
    }
}

/// The DuckDB build every other adapter is compared with, made once.
fn reference() -> &'static Built {
    static DUCKDB: OnceLock<Built> = OnceLock::new();
    DUCKDB.get_or_init(build_on_duckdb)
}

/// A PostgreSQL database of its own, dropped afterwards.
struct PgDatabase(String);

impl PgDatabase {
    fn create() -> PgDatabase {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let name = format!("hangar_conformance_{}_{nanos}", std::process::id());
        pg_admin()
            .batch_execute(&format!("create database {name}"))
            .expect("create database");
        PgDatabase(name)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ =
            pg_admin().batch_execute(&format!("drop database if exists {} with (force)", self.0));
    }
}

fn pg_admin() -> postgres::Client {
    postgres::Client::connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=postgres",
        postgres::NoTls,
    )
    .expect("PostgreSQL must run on 127.0.0.1:5432 (scripts/test starts it)")
}

fn build_on_postgres() -> Built {
    let db = PgDatabase::create();
    let (_tmp, project) = copy_fixture("conformance");
    write(
        &project,
        "profiles.yml",
        &format!(
            "conformance:\n  target: ci\n  outputs:\n    ci:\n      type: postgres\n      host: 127.0.0.1\n      port: 5432\n      user: postgres\n      password: ''\n      dbname: {}\n      schema: {SCHEMA}\n      threads: 2\n",
            db.0
        ),
    );
    let statuses = build_twice(&project, &String::new);
    let settings = json!({
        "host": "127.0.0.1", "port": 5432, "user": "postgres", "password": "",
        "dbname": db.0, "schema": SCHEMA,
    });
    let relations = read_warehouse(
        "postgres",
        settings.as_object().unwrap_or(&Map::new()),
        &project,
        &String::new,
    );
    Built {
        adapter: "postgres",
        relations,
        statuses,
    }
}

fn build_on_snowflake_emulator() -> Built {
    let emulator = Emulator::shared();
    let database = unique_database("conformance");
    let (_tmp, project) = copy_fixture("conformance");
    write(
        &project,
        "profiles.yml",
        &format!(
            "conformance:\n  target: ci\n  outputs:\n    ci:\n{}",
            emulator.profile_yaml(&database, SCHEMA, 2)
        ),
    );
    let statuses = build_twice(&project, &|| emulator.log_tail());
    let relations = read_warehouse(
        "snowflake",
        &emulator.settings(&database, SCHEMA),
        &project,
        &|| emulator.log_tail(),
    );
    Built {
        adapter: "snowflake",
        relations,
        statuses,
    }
}

/// What part of a column may differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aspect {
    /// The type family (the values are still compared).
    Family,
    /// The values (the column is left out of the row comparison).
    Values,
}

/// A documented difference: on `adapter`, `relation.column` may differ in `aspect`.
struct Allowed {
    adapter: &'static str,
    relation: &'static str,
    column: &'static str,
    aspect: Aspect,
    reason: &'static str,
}

/// Every difference the suite accepts. Each must still occur (a stale entry fails).
const ALLOWED: &[Allowed] = &[Allowed {
    adapter: "snowflake",
    relation: "ci_marts.customer_orders",
    column: "total_amount",
    aspect: Aspect::Family,
    reason: "the emulator's sum() over NUMBER gives FLOAT (COMPATIBILITY.md, Snowflake); \
             Snowflake gives NUMBER(38,2)",
}];

/// The differences between `other` and the reference, after the allowed ones;
/// `used` collects the allowed entries that applied.
fn differences(reference: &Built, other: &Built, used: &mut BTreeSet<usize>) -> Vec<String> {
    let mut found = Vec::new();
    let who = other.adapter;
    let names = |b: &Built| b.relations.keys().cloned().collect::<BTreeSet<_>>();
    let (ours, theirs) = (names(reference), names(other));
    for missing in ours.difference(&theirs) {
        found.push(format!("{who}: no relation {missing}"));
    }
    for extra in theirs.difference(&ours) {
        found.push(format!("{who}: an extra relation {extra}"));
    }
    let mut allowed = |relation: &str, column: &str, aspect: Aspect| {
        let hit = ALLOWED.iter().position(|a| {
            a.adapter == who && a.relation == relation && a.column == column && a.aspect == aspect
        });
        if let Some(i) = hit {
            used.insert(i);
        }
        hit.is_some()
    };
    for (name, expected) in &reference.relations {
        let Some(actual) = other.relations.get(name) else {
            continue;
        };
        if expected.kind != actual.kind {
            found.push(format!(
                "{who}: {name} is a {:?}, not a {:?}",
                actual.kind, expected.kind
            ));
        }
        let column_names =
            |r: &Relation| r.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        if column_names(expected) != column_names(actual) {
            found.push(format!(
                "{who}: {name} has columns {:?}, not {:?}",
                column_names(actual),
                column_names(expected)
            ));
            continue;
        }
        let mut compared = Vec::new();
        for (i, (e, a)) in expected.columns.iter().zip(&actual.columns).enumerate() {
            if e.family != a.family && !allowed(name, &e.name, Aspect::Family) {
                found.push(format!(
                    "{who}: {name}.{} is {} ({:?}), not {} ({:?})",
                    e.name, a.data_type, a.family, e.data_type, e.family
                ));
            }
            let values = |r: &Relation| r.rows.iter().map(|row| row[i].clone()).collect::<Vec<_>>();
            if values(expected) != values(actual) && allowed(name, &e.name, Aspect::Values) {
                continue;
            }
            compared.push(i);
        }
        let rows = |r: &Relation| {
            let mut rows: Vec<Vec<String>> = r
                .rows
                .iter()
                .map(|row| compared.iter().map(|&i| row[i].clone()).collect())
                .collect();
            rows.sort();
            rows
        };
        let (want, got) = (rows(expected), rows(actual));
        if want != got {
            found.push(format!(
                "{who}: {name} rows differ\n  {}: {want:?}\n  {who}: {got:?}",
                reference.adapter
            ));
        }
    }
    for (build, (want, got)) in reference.statuses.iter().zip(&other.statuses).enumerate() {
        if want != got {
            found.push(format!(
                "{who}: build {} statuses differ\n  {}: {want:?}\n  {who}: {got:?}",
                build + 1,
                reference.adapter
            ));
        }
    }
    found
}

/// Compares `other` with DuckDB's build and fails on any difference not in
/// [`ALLOWED`], and on any entry of [`ALLOWED`] for `other` that no longer applies.
fn assert_conforms(other: &Built) {
    let mut used = BTreeSet::new();
    let found = differences(reference(), other, &mut used);
    let stale: Vec<String> = ALLOWED
        .iter()
        .enumerate()
        .filter(|(i, a)| a.adapter == other.adapter && !used.contains(i))
        .map(|(_, a)| format!("{}.{} ({:?}): {}", a.relation, a.column, a.aspect, a.reason))
        .collect();
    assert!(
        found.is_empty() && stale.is_empty(),
        "{} differs from duckdb:\n{}\nallowed differences that no longer occur:\n{}",
        other.adapter,
        found.join("\n"),
        stale.join("\n")
    );
}

#[test]
fn the_reference_build_shows_every_strategy() {
    let built = reference();
    let rows = |name: &str| -> &Vec<Vec<String>> {
        &built
            .relations
            .get(name)
            .unwrap_or_else(|| panic!("no {name} in {:?}", built.relations.keys()))
            .rows
    };
    let sorted = |name: &str| {
        let mut r = rows(name).clone();
        r.sort();
        r
    };
    // order_id 3 is restated in batch 2 and order 5 is new: append keeps both
    // statements, delete+insert, merge and the adapter's default keep the latest.
    assert_eq!(rows("ci_marts.orders_append").len(), 6);
    for model in [
        "ci_marts.orders_delete_insert",
        "ci_marts.orders_merge",
        "ci_marts.orders_default_strategy",
    ] {
        let statuses: Vec<(String, String)> = sorted(model)
            .iter()
            .map(|r| (r[0].clone(), r[r.len() - 2].clone()))
            .collect();
        assert_eq!(
            statuses,
            [
                ("1", "shipped"),
                ("2", "shipped"),
                ("3", "returned"),
                ("4", "it's complicated"),
                ("5", "placed"),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string())),
            "{model}"
        );
    }
    // Customer 2 changed in batch 2: the snapshot closed its first version.
    let closed: Vec<Vec<String>> = sorted("ci_snapshots.customers_snapshot")
        .into_iter()
        .filter(|r| r.last().is_some_and(|v| v != "NULL"))
        .collect();
    assert_eq!(closed.len(), 1, "{closed:?}");
    assert_eq!(closed[0][0], "2");
    assert_eq!(
        closed[0].last().map(String::as_str),
        Some("2024-04-01 12:00:00")
    );
    assert_eq!(rows("ci_snapshots.customers_snapshot").len(), 5);
    // The pre-hook, post-hook and on-run-end hook ran once per build.
    assert_eq!(
        sorted("ci_audit.hook_log"),
        [
            ["on-run-end", "run", "1"],
            ["on-run-end", "run", "2"],
            ["post-hook", "customer_orders", "1"],
            ["post-hook", "customer_orders", "2"],
            ["pre-hook", "customer_orders", "1"],
            ["pre-hook", "customer_orders", "2"],
        ]
        .map(|r| r.map(str::to_string).to_vec())
    );
    // Seeds keep their date, decimal, boolean, timestamp and quoted text.
    let customers = &built.relations["ci_raw.raw_customers"];
    let families: Vec<Family> = customers.columns.iter().map(|c| c.family).collect();
    assert_eq!(
        families,
        [
            Family::Integer,
            Family::Text,
            Family::Text,
            Family::Date,
            Family::Boolean,
            Family::Float,
            Family::Timestamp,
            Family::Integer
        ]
    );
    assert!(
        sorted("ci_raw.raw_customers").contains(
            &[
                "2",
                "Seán O'Brien",
                "silver",
                "2024-02-29",
                "false",
                "0.25",
                "2024-02-29 18:00:00",
                "1"
            ]
            .map(str::to_string)
            .to_vec()
        ),
        "{:?}",
        rows("ci_raw.raw_customers")
    );
    // The ephemeral model is not a relation; every model, seed, test and unit
    // test passed in both builds.
    assert!(
        !built
            .relations
            .keys()
            .any(|k| k.contains("int_customer_totals"))
    );
    for statuses in &built.statuses {
        assert_eq!(statuses.len(), 25, "{statuses:?}");
        assert!(
            statuses.values().all(|s| s == "success" || s == "pass"),
            "{statuses:?}"
        );
        assert_eq!(
            statuses
                .keys()
                .filter(|id| id.starts_with("unit_test."))
                .count(),
            2
        );
    }
}

#[test]
fn postgres_builds_what_duckdb_builds() {
    assert_conforms(&build_on_postgres());
}

#[test]
fn the_snowflake_emulator_builds_what_duckdb_builds() {
    assert_conforms(&build_on_snowflake_emulator());
}

#[test]
fn types_fall_into_the_same_family_on_every_adapter() {
    for (spellings, expected) in [
        (
            &[
                "INTEGER",
                "integer",
                "BIGINT",
                "HUGEINT",
                "NUMBER(38,0)",
                "NUMBER",
                "int4",
            ][..],
            Family::Integer,
        ),
        (
            &["DECIMAL(38,2)", "numeric(10,2)", "numeric", "NUMBER(10,2)"][..],
            Family::Numeric,
        ),
        (&["DOUBLE", "double precision", "FLOAT"][..], Family::Float),
        (
            &[
                "VARCHAR",
                "text",
                "character varying(100)",
                "VARCHAR(16777216)",
            ][..],
            Family::Text,
        ),
        (
            &["TIMESTAMP", "timestamp without time zone", "TIMESTAMP_NTZ"][..],
            Family::Timestamp,
        ),
        (
            &["TIMESTAMP WITH TIME ZONE", "timestamptz", "TIMESTAMP_TZ"][..],
            Family::TimestampTz,
        ),
        (&["BOOLEAN", "boolean"][..], Family::Boolean),
        (&["DATE", "date"][..], Family::Date),
        (&["INTERVAL", "jsonb"][..], Family::Other),
    ] {
        for spelling in spellings {
            assert_eq!(family(spelling), expected, "{spelling}");
        }
    }
}

#[test]
fn cells_have_one_canonical_text_whatever_the_adapter() {
    let cases: &[(Value, Family, &str)] = &[
        (json!(12.5), Family::Numeric, "12.5"),
        (json!("12.50"), Family::Numeric, "12.5"),
        (json!(3), Family::Numeric, "3"),
        (json!("3.000"), Family::Numeric, "3"),
        (json!(-0.0), Family::Numeric, "0"),
        (
            json!("9223372036854775808"),
            Family::Integer,
            "9223372036854775808",
        ),
        (json!(0.1 + 0.2), Family::Float, "0.3"),
        (json!(8), Family::Float, "8"),
        (json!("2024-02-29"), Family::Date, "2024-02-29"),
        (json!("2024-02-29T00:00:00"), Family::Date, "2024-02-29"),
        (
            json!("2024-01-05T09:30:00"),
            Family::Timestamp,
            "2024-01-05 09:30:00",
        ),
        (
            json!("2024-01-05T09:30:00.000"),
            Family::Timestamp,
            "2024-01-05 09:30:00",
        ),
        (
            json!("2024-01-05 09:30:00.250000"),
            Family::Timestamp,
            "2024-01-05 09:30:00.25",
        ),
        (
            json!("2024-01-05T09:30:00Z"),
            Family::TimestampTz,
            "2024-01-05 09:30:00+00:00",
        ),
        (
            json!("2024-01-05T09:30:00.000+00:00"),
            Family::TimestampTz,
            "2024-01-05 09:30:00+00:00",
        ),
        (json!(true), Family::Boolean, "true"),
        (json!("f"), Family::Boolean, "false"),
        (json!(null), Family::Text, "NULL"),
        (json!("it's 3.0"), Family::Text, "it's 3.0"),
    ];
    for (value, family, expected) in cases {
        assert_eq!(
            canonical(value, *family),
            *expected,
            "{value} as {family:?}"
        );
    }
}

fn relation(columns: &[(&str, &str)], rows: &[&[&str]]) -> Relation {
    Relation {
        kind: RelationKind::Table,
        columns: columns
            .iter()
            .map(|(name, data_type)| Column {
                name: name.to_string(),
                data_type: data_type.to_string(),
                family: family(data_type),
            })
            .collect(),
        rows: rows
            .iter()
            .map(|r| r.iter().map(|v| v.to_string()).collect())
            .collect(),
    }
}

#[test]
fn the_comparison_reports_each_kind_of_difference() {
    let statuses = |status: &str| {
        vec![BTreeMap::from([(
            "model.conformance.customer_orders".to_string(),
            status.to_string(),
        )])]
    };
    let reference = Built {
        adapter: "duckdb",
        relations: BTreeMap::from([
            (
                "ci_marts.customer_orders".to_string(),
                relation(
                    &[
                        ("customer_id", "INTEGER"),
                        ("total_amount", "DECIMAL(38,2)"),
                    ],
                    &[&["1", "24.99"], &["2", "99.95"]],
                ),
            ),
            (
                "ci_marts.orders".to_string(),
                relation(&[("order_id", "INTEGER")], &[&["1"]]),
            ),
        ]),
        statuses: statuses("success"),
    };
    // The same rows in another order, with Snowflake's spelling of the types
    // and the emulator's documented FLOAT: no difference.
    let same = Built {
        adapter: "snowflake",
        relations: BTreeMap::from([
            (
                "ci_marts.customer_orders".to_string(),
                relation(
                    &[("customer_id", "NUMBER(38,0)"), ("total_amount", "FLOAT")],
                    &[&["2", "99.95"], &["1", "24.99"]],
                ),
            ),
            (
                "ci_marts.orders".to_string(),
                relation(&[("order_id", "NUMBER(38,0)")], &[&["1"]]),
            ),
        ]),
        statuses: statuses("success"),
    };
    let mut used = BTreeSet::new();
    assert_eq!(
        differences(&reference, &same, &mut used),
        Vec::<String>::new()
    );
    assert_eq!(used, BTreeSet::from([0]), "the allowed FLOAT was recorded");

    // On Postgres nothing is allowed: a family, a row, a relation and a status differ.
    let other = Built {
        adapter: "postgres",
        relations: BTreeMap::from([
            (
                "ci_marts.customer_orders".to_string(),
                relation(
                    &[
                        ("customer_id", "integer"),
                        ("total_amount", "double precision"),
                    ],
                    &[&["1", "24.99"], &["2", "99.9"]],
                ),
            ),
            (
                "ci_marts.orders__hangar_tmp".to_string(),
                relation(&[("order_id", "integer")], &[&["1"]]),
            ),
        ]),
        statuses: statuses("error"),
    };
    let mut used = BTreeSet::new();
    let found = differences(&reference, &other, &mut used);
    assert!(used.is_empty());
    let expected = [
        "postgres: no relation ci_marts.orders",
        "postgres: an extra relation ci_marts.orders__hangar_tmp",
        "postgres: ci_marts.customer_orders.total_amount is double precision (Float), not DECIMAL(38,2) (Numeric)",
        "postgres: ci_marts.customer_orders rows differ",
        "postgres: build 1 statuses differ",
    ];
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    for (message, start) in found.iter().zip(expected) {
        assert!(message.starts_with(start), "{message}");
    }
}
