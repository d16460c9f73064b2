//! The Snowflake adapter against the local emulator (fakesnow behind the
//! test shim; see tests/snowflake_emulator/): sessions, bound parameters,
//! metadata, seed loading and cancellation.

#![cfg(feature = "snowflake")]

#[path = "../../../tests/snowflake_emulator/emulator.rs"]
mod emulator;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use emulator::{Emulator, unique_database};
use hangar_adapter::{
    Adapter, AdapterError, ColumnInfo, Connection, RelationKind, RelationRef, adapter_from_profile,
};
use serde_json::{Value, json};

fn adapter(emulator: &Emulator, database: &str) -> Arc<dyn Adapter> {
    match adapter_from_profile(
        "snowflake",
        "emulator",
        &emulator.settings(database, "work"),
        Path::new("."),
    ) {
        Ok(a) => a,
        Err(e) => panic!("profile: {e}"),
    }
}

fn connect(emulator: &Emulator, a: &dyn Adapter) -> Box<dyn Connection> {
    match a.connect() {
        Ok(c) => c,
        Err(e) => panic!("connect: {e}\n{}", emulator.log_tail()),
    }
}

fn run(emulator: &Emulator, conn: &mut dyn Connection, sql: &str) -> Option<u64> {
    match conn.execute(sql) {
        Ok(n) => n,
        Err(e) => panic!("{sql}: {e}\n{}", emulator.log_tail()),
    }
}

fn rows(
    emulator: &Emulator,
    conn: &mut dyn Connection,
    sql: &str,
    params: &[Value],
) -> Vec<Vec<Value>> {
    match conn.query(sql, params) {
        Ok(r) => r.rows,
        Err(e) => panic!("{sql}: {e}\n{}", emulator.log_tail()),
    }
}

#[test]
fn queries_bind_values_and_read_snowflake_types() {
    let emulator = Emulator::shared();
    let db = unique_database("types");
    let a = adapter(&emulator, &db);
    let mut conn = connect(&emulator, a.as_ref());
    let result = match conn.query(
        "select $2 as label, $1 as n, $1 + 1 as next, cast('2024-02-29' as date) as d, \
         cast('2024-02-29 13:01:02.5' as timestamp_ntz) as ts, cast(12.30 as number(10,2)) as amount, \
         true as flag, null as nothing, 'it''s' as quoted",
        &[json!(41), json!("a ' quote")],
    ) {
        Ok(r) => r,
        Err(e) => panic!("query: {e}\n{}", emulator.log_tail()),
    };
    let names: Vec<&str> = result.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "LABEL", "N", "NEXT", "D", "TS", "AMOUNT", "FLAG", "NOTHING", "QUOTED"
        ]
    );
    assert_eq!(
        result.rows,
        vec![vec![
            json!("a ' quote"),
            json!(41),
            json!(42),
            json!("2024-02-29"),
            json!("2024-02-29T13:01:02.500"),
            json!(12.3),
            json!(true),
            Value::Null,
            json!("it's"),
        ]]
    );
    assert_eq!(result.columns[5].data_type, "NUMBER(10,2)");
}

#[test]
fn scripts_run_statement_by_statement_and_report_rows() {
    let emulator = Emulator::shared();
    let db = unique_database("script");
    let a = adapter(&emulator, &db);
    let mut conn = connect(&emulator, a.as_ref());
    run(
        &emulator,
        conn.as_mut(),
        &a.sql_create_schema(Some(&db), "work"),
    );
    let t = a.render_relation(&RelationRef::new(Some(&db), "work", "t"));
    // Two statements and a comment in one call: sent one by one.
    let inserted = run(
        &emulator,
        conn.as_mut(),
        &format!(
            "create or replace table {t} (id int, note varchar); -- a; comment\ninsert into {t} values (1, 'a;b'), (2, 'c')"
        ),
    );
    assert_eq!(inserted, Some(2));
    let merged = run(
        &emulator,
        conn.as_mut(),
        &format!(
            "merge into {t} as d using (select 2 as id, 'z' as note union all select 3, 'y') as s on d.id = s.id \
             when matched then update set note = s.note when not matched then insert (id, note) values (s.id, s.note)"
        ),
    );
    assert_eq!(merged, Some(2), "one row updated, one inserted");
    let last = rows(
        &emulator,
        conn.as_mut(),
        &format!("select count(*) from {t}; select note from {t} where id = 2"),
        &[],
    );
    assert_eq!(
        last,
        vec![vec![json!("z")]],
        "a script gives its last result"
    );
}

#[test]
fn metadata_is_read_per_schema_with_folded_names() {
    let emulator = Emulator::shared();
    let db = unique_database("meta");
    let a = adapter(&emulator, &db);
    let mut conn = connect(&emulator, a.as_ref());
    run(
        &emulator,
        conn.as_mut(),
        &a.sql_create_schema(Some(&db), "work"),
    );
    let table = RelationRef::new(Some(&db), "work", "orders");
    let view = RelationRef::new(Some(&db), "work", "recent_orders");
    run(
        &emulator,
        conn.as_mut(),
        &a.sql_create_or_replace_table_as(
            &table,
            "select 1 as order_id, 'x' as \"Mixed Case\", 2.5 as amount",
        ),
    );
    run(
        &emulator,
        conn.as_mut(),
        &a.sql_create_or_replace_view(
            &view,
            &format!("select * from {}", a.render_relation(&table)),
        ),
    );
    let listed = match conn.list_relations(Some(&db), "work") {
        Ok(l) => l,
        Err(e) => panic!("list_relations: {e}"),
    };
    let found: Vec<(String, RelationKind)> = listed
        .iter()
        .map(|i| (i.relation.identifier.clone(), i.kind))
        .collect();
    assert_eq!(
        found,
        [
            ("ORDERS".to_string(), RelationKind::Table),
            ("RECENT_ORDERS".to_string(), RelationKind::View)
        ]
    );
    let schemas = conn.list_schemas(Some(&db)).unwrap_or_default();
    assert!(schemas.iter().any(|s| s == "WORK"), "{schemas:?}");
    let columns = conn.get_columns(&table).unwrap_or_default();
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["ORDER_ID", "Mixed Case", "AMOUNT"]);
    assert!(
        conn.get_columns(&RelationRef::new(Some(&db), "work", "missing"))
            .is_ok_and(|c| c.is_empty())
    );
    // A rename stays in the relation's schema although the session's is another.
    run(
        &emulator,
        conn.as_mut(),
        &a.sql_rename(&table, "orders__hangar_backup", RelationKind::Table),
    );
    let after = conn.list_relations(Some(&db), "work").unwrap_or_default();
    assert!(
        after
            .iter()
            .any(|i| i.relation.identifier == "ORDERS__HANGAR_BACKUP"),
        "{after:?}"
    );
}

#[test]
fn seeds_load_in_bound_batches_with_row_errors() {
    let emulator = Emulator::shared();
    let db = unique_database("seed");
    let a = adapter(&emulator, &db);
    let mut conn = connect(&emulator, a.as_ref());
    run(
        &emulator,
        conn.as_mut(),
        &a.sql_create_schema(Some(&db), "work"),
    );
    let seed = RelationRef::new(Some(&db), "work", "raw_members");
    run(
        &emulator,
        conn.as_mut(),
        &format!(
            "create table {} (member_id integer, name varchar, joined date, seen timestamp_ntz, fee number(10,2), active boolean, score float)",
            a.render_relation(&seed)
        ),
    );
    let columns: Vec<ColumnInfo> = [
        ("member_id", "INTEGER"),
        ("name", "VARCHAR"),
        ("joined", "DATE"),
        ("seen", "TIMESTAMP_NTZ"),
        ("fee", "NUMBER(10,2)"),
        ("active", "BOOLEAN"),
        ("score", "FLOAT"),
    ]
    .iter()
    .map(|(n, t)| ColumnInfo::new(n, t))
    .collect();
    let total = 2_500;
    let mut source = (1..=total).map(|i| {
        vec![
            Some(i.to_string()),
            Some(if i == 7 {
                "O'Brien \\ \"q\"".to_string()
            } else {
                format!("m{i}")
            }),
            Some("2024-01-03".to_string()),
            Some("2024-01-03 10:00:00".to_string()),
            Some("45.50".to_string()),
            Some(if i % 2 == 0 { "true" } else { "false" }.to_string()),
            if i == 3 {
                None
            } else {
                Some("1.5".to_string())
            },
        ]
    });
    let loaded = conn.bulk_load(&seed, &columns, &mut source);
    assert_eq!(loaded.ok(), Some(total as u64), "{}", emulator.log_tail());
    let name = a.render_relation(&seed);
    let sums: Vec<f64> = rows(
        &emulator,
        conn.as_mut(),
        &format!("select count(*), sum(member_id), sum(fee) from {name}"),
        &[],
    )
    .concat()
    .iter()
    .filter_map(Value::as_f64)
    .collect();
    // The emulator sums into floats where Snowflake keeps NUMBER: compare values.
    assert_eq!(sums, [2500.0, 3_126_250.0, 113_750.0]);
    assert_eq!(
        rows(
            &emulator,
            conn.as_mut(),
            &format!(
                "select name, joined, seen, active, score from {name} where member_id in ($1, $2) order by member_id"
            ),
            &[json!(3), json!(7)],
        ),
        vec![
            vec![
                json!("m3"),
                json!("2024-01-03"),
                json!("2024-01-03T10:00:00"),
                json!(false),
                Value::Null
            ],
            vec![
                json!("O'Brien \\ \"q\""),
                json!("2024-01-03"),
                json!("2024-01-03T10:00:00"),
                json!(false),
                json!(1.5)
            ],
        ]
    );
    let mut bad = vec![vec![
        Some("x1".to_string()),
        None,
        None,
        None,
        None,
        None,
        None,
    ]]
    .into_iter();
    match conn.bulk_load(&seed, &columns, &mut bad) {
        Err(AdapterError::BadValue { row, column, .. }) => {
            assert_eq!((row, column.as_str()), (1, "member_id"));
        }
        other => panic!("expected a bad value, got {other:?}"),
    }
}

#[test]
fn a_cancel_handle_interrupts_or_is_a_no_op() {
    let emulator = Emulator::shared();
    let db = unique_database("cancel");
    let a = adapter(&emulator, &db);
    let mut conn = connect(&emulator, a.as_ref());
    let handle = conn.cancel_handle();
    // Nothing runs: cancelling must neither fail nor disturb the next statement.
    handle.cancel();
    let started = Instant::now();
    assert_eq!(
        rows(&emulator, conn.as_mut(), "select 1 as one", &[]),
        vec![vec![json!(1)]]
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn a_failing_statement_names_the_object_and_keeps_the_session() {
    let emulator = Emulator::shared();
    let db = unique_database("errors");
    let a = adapter(&emulator, &db);
    let mut conn = connect(&emulator, a.as_ref());
    let missing = a.render_relation(&RelationRef::new(Some(&db), "work", "no_such_table"));
    let err = match conn.query(&format!("select * from {missing}"), &[]) {
        Ok(_) => panic!("the table does not exist"),
        Err(e) => e.to_string(),
    };
    assert!(err.starts_with("database error: "), "{err}");
    assert!(err.to_uppercase().contains("NO_SUCH_TABLE"), "{err}");
    assert_eq!(
        rows(&emulator, conn.as_mut(), "select 2 as two", &[]),
        vec![vec![json!(2)]]
    );
}
