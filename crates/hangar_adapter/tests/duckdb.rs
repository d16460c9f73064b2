//! The DuckDB adapter on real databases, in memory and in temporary files.
#![cfg(feature = "duckdb")]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hangar_adapter::duckdb::DuckDbAdapter;
use hangar_adapter::{
    Adapter, AdapterError, ColumnInfo, Connection, RelationCache, RelationKind, RelationRef,
    adapter_from_profile,
};
use serde_json::{Value, json};

fn memory() -> DuckDbAdapter {
    DuckDbAdapter::open("dev", None, Vec::new()).expect("in-memory database")
}

fn profile(settings: Value, root: &Path) -> Result<Arc<dyn Adapter>, AdapterError> {
    let map = settings.as_object().cloned().unwrap_or_default();
    adapter_from_profile("duckdb", "dev", &map, root)
}

#[test]
fn query_returns_typed_values_with_bound_parameters() {
    let adapter = memory();
    let mut conn = adapter.connect().expect("connect");
    let result = conn
        .query(
            "select 1::integer as i, 9007199254740993::bigint as b, 1.25::double as f, \
             12.30::decimal(6,2) as n, 'x''y' as t, true as ok, date '2024-02-29' as d, \
             timestamp '2024-02-29 13:01:02.5' as ts, null::integer as nothing, \
             ?::integer + 1 as param_int, ? as param_text, [1, 2] as list",
            &[json!(41), json!("it's bound")],
        )
        .expect("query");
    let columns: Vec<(&str, &str)> = result
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.data_type.as_str()))
        .collect();
    assert_eq!(
        &columns[..4],
        &[
            ("i", "INTEGER"),
            ("b", "BIGINT"),
            ("f", "DOUBLE"),
            ("n", "DECIMAL(6,2)")
        ]
    );
    assert_eq!(
        result.rows,
        vec![vec![
            json!(1),
            json!(9007199254740993_i64),
            json!(1.25),
            json!(12.3),
            json!("x'y"),
            json!(true),
            json!("2024-02-29"),
            json!("2024-02-29T13:01:02.500"),
            Value::Null,
            json!(42),
            json!("it's bound"),
            json!([1, 2]),
        ]]
    );
}

#[test]
fn execute_reports_rows_affected_and_accepts_blank_sql() {
    let adapter = memory();
    let mut conn = adapter.connect().expect("connect");
    conn.execute("create table t (id integer); insert into t values (1)")
        .expect("multi-statement execute");
    assert_eq!(
        conn.execute("insert into t values (2), (3)")
            .expect("insert"),
        Some(2)
    );
    assert_eq!(conn.execute("-- nothing to do\n;").expect("blank"), None);
    let err = conn
        .execute("select * from missing_table")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("missing_table"), "{err}");
}

#[test]
fn worker_connections_share_the_database() {
    let adapter = memory();
    let mut first = adapter.connect().expect("connect");
    let mut second = adapter.connect().expect("connect");
    first
        .execute("create table shared as select 7 as n")
        .expect("create");
    let result = second.query("select n from shared", &[]).expect("query");
    assert_eq!(result.rows, vec![vec![json!(7)]]);
}

#[test]
fn relations_are_listed_described_renamed_and_dropped_in_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let adapter = profile(
        json!({"path": "dev.duckdb", "schema": "analytics"}),
        dir.path(),
    )
    .expect("open file database");
    assert_eq!(adapter.default_database().as_deref(), Some("dev"));
    assert_eq!(adapter.default_schema(), "analytics");
    let rel = |name: &str| RelationRef::new(Some("dev"), "analytics", name);
    {
        let mut conn = adapter.connect().expect("connect");
        conn.execute(&adapter.sql_create_schema(Some("dev"), "analytics"))
            .expect("schema");
        conn.execute(&adapter.sql_create_table_as(
            &rel("orders__tmp"),
            "select 1::integer as id, 'a'::varchar as code, 1.5::decimal(10,2) as amount",
            false,
        ))
        .expect("create table");
        conn.execute(&adapter.sql_rename(&rel("orders__tmp"), "orders", RelationKind::Table))
            .expect("rename");
        conn.execute(
            &adapter.sql_create_view_as(&rel("orders_v"), "select id from dev.analytics.orders"),
        )
        .expect("create view");
        let comment = adapter
            .sql_comment(&rel("orders"), RelationKind::Table, None, "it's documented")
            .expect("duckdb has comments");
        conn.execute(&comment).expect("comment");
        let comment = adapter
            .sql_comment(&rel("orders"), RelationKind::Table, Some("id"), "the id")
            .expect("duckdb has column comments");
        conn.execute(&comment).expect("column comment");

        let cache = RelationCache::new();
        cache
            .ensure_schema(conn.as_mut(), Some("dev"), "analytics")
            .expect("list");
        assert_eq!(
            cache.get(&rel("orders")).map(|info| info.kind),
            Some(RelationKind::Table)
        );
        assert_eq!(
            cache.get(&rel("orders_v")).map(|info| info.kind),
            Some(RelationKind::View)
        );
        assert!(cache.get(&rel("orders__tmp")).is_none());
        assert_eq!(
            conn.get_columns(&rel("orders")).expect("columns"),
            vec![
                ColumnInfo::new("id", "INTEGER"),
                ColumnInfo::new("code", "VARCHAR"),
                ColumnInfo::new("amount", "DECIMAL(10,2)"),
            ]
        );
        let schemas = conn.list_schemas(None).expect("schemas");
        assert!(schemas.contains(&"analytics".to_string()), "{schemas:?}");
        conn.execute(&adapter.sql_drop(&rel("orders_v"), RelationKind::View))
            .expect("drop view");
    }
    drop(adapter);

    // Reopened, the file still holds the table but not the dropped view.
    let adapter = profile(json!({"path": "dev.duckdb"}), dir.path()).expect("reopen");
    let mut conn = adapter.connect().expect("connect");
    let listed: Vec<String> = conn
        .list_relations(None, "analytics")
        .expect("list")
        .into_iter()
        .map(|info| info.relation.identifier)
        .collect();
    assert_eq!(listed, vec!["orders".to_string()]);
}

#[test]
fn rollback_undoes_ddl() {
    let adapter = memory();
    let mut conn = adapter.connect().expect("connect");
    conn.begin().expect("begin");
    conn.execute("create table scratch (id integer)")
        .expect("create");
    conn.rollback().expect("rollback");
    assert!(conn.list_relations(None, "main").expect("list").is_empty());
    conn.begin().expect("begin");
    conn.execute("create table kept (id integer)")
        .expect("create");
    conn.commit().expect("commit");
    assert_eq!(conn.list_relations(None, "main").expect("list").len(), 1);
}

fn seed_table(conn: &mut dyn Connection) -> Vec<ColumnInfo> {
    conn.execute(
        "create table seed (id integer, name varchar, amount decimal(8,2), ratio double, \
         ok boolean, day date, loaded_at timestamp)",
    )
    .expect("create");
    conn.get_columns(&RelationRef::new(None, "main", "seed"))
        .expect("columns")
}

fn cells(values: &[&str]) -> Vec<Option<String>> {
    values
        .iter()
        .map(|v| (*v != "NULL").then(|| v.to_string()))
        .collect()
}

#[test]
fn bulk_load_types_values_by_column() {
    let adapter = memory();
    let mut conn = adapter.connect().expect("connect");
    let columns = seed_table(conn.as_mut());
    let rows = vec![
        cells(&[
            "1",
            "a, \"quoted\"",
            "1.50",
            "0.5",
            "true",
            "2024-01-31",
            "2024-01-31 08:00:00",
        ]),
        cells(&["2", "", "", "", "NULL", "NULL", "NULL"]),
    ];
    let loaded = conn
        .bulk_load(
            &RelationRef::new(None, "main", "seed"),
            &columns,
            &mut rows.into_iter(),
        )
        .expect("load");
    assert_eq!(loaded, 2);
    let result = conn
        .query("select * from seed order by id", &[])
        .expect("query");
    assert_eq!(
        result.rows,
        vec![
            vec![
                json!(1),
                json!("a, \"quoted\""),
                json!(1.5),
                json!(0.5),
                json!(true),
                json!("2024-01-31"),
                json!("2024-01-31T08:00:00")
            ],
            vec![
                json!(2),
                json!(""),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null
            ],
        ]
    );
}

#[test]
fn bulk_load_bad_value_names_row_and_column() {
    let adapter = memory();
    let mut conn = adapter.connect().expect("connect");
    let columns = seed_table(conn.as_mut());
    let rows = vec![
        cells(&["1", "a", "1", "1", "true", "2024-01-31", "NULL"]),
        cells(&["2", "b", "1", "1", "maybe", "2024-01-31", "NULL"]),
    ];
    let err = conn
        .bulk_load(
            &RelationRef::new(None, "main", "seed"),
            &columns,
            &mut rows.into_iter(),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        err,
        "cannot load \"memory\".\"main\".\"seed\": row 2, column 'ok': 'maybe' is not a boolean (true/false)"
    );
}

#[test]
fn a_running_query_can_be_cancelled_from_another_thread() {
    let adapter = memory();
    let mut conn = adapter.connect().expect("connect");
    let handle = conn.cancel_handle();
    let started = Instant::now();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        handle.cancel();
    });
    let result = conn.query("select sum(hash(i)) from range(100000000000) t(i)", &[]);
    canceller.join().expect("cancel thread");
    assert!(matches!(result, Err(AdapterError::Cancelled)), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(20));
    let again = conn
        .query("select 1 as one", &[])
        .expect("query after cancel");
    assert_eq!(again.rows, vec![vec![json!(1)]]);
}

#[test]
fn profile_settings_are_applied_and_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let adapter = profile(
        json!({"settings": {"default_null_order": "nulls_first"}}),
        dir.path(),
    )
    .expect("in-memory by default");
    assert_eq!(adapter.default_database().as_deref(), Some("memory"));
    assert_eq!(adapter.default_schema(), "main");
    let mut conn = adapter.connect().expect("connect");
    let result = conn
        .query("select current_setting('default_null_order') as v", &[])
        .expect("query");
    assert_eq!(result.rows, vec![vec![json!("NULLS_FIRST")]]);

    let err = profile(json!({"path": "a.duckdb", "database": "b"}), dir.path())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("'database' is 'b'"), "{err}");

    let err = profile(json!({"extensions": ["hangar_missing_ext"]}), dir.path())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.starts_with("could not load DuckDB extension 'hangar_missing_ext'"),
        "{err}"
    );
}

const HOLDER_ENV: &str = "HANGAR_TEST_DUCKDB_LOCK_HOLDER";
const READY: &str = "HANGAR_LOCK_HELD";

/// The child side: open the file, say so, and keep it open until stdin closes.
fn hold_lock(path: &str) {
    let _held = DuckDbAdapter::open("holder", Some(Path::new(path)), Vec::new())
        .expect("child opens the database");
    println!("{READY}");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

#[test]
fn locked_database_file_is_reported_with_its_path() {
    if let Ok(path) = std::env::var(HOLDER_ENV) {
        hold_lock(&path);
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("locked.duckdb");
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "locked_database_file_is_reported_with_its_path",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(HOLDER_ENV, &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn lock holder");
    // The reader lives until the child is gone, so the child never writes to a closed pipe.
    let mut reader = BufReader::new(child.stdout.take().expect("child stdout"));
    let mut line = String::new();
    let ready = loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break false,
            Ok(_) if line.contains(READY) => break true,
            Ok(_) => {}
        }
    };
    let result = ready.then(|| DuckDbAdapter::open("dev", Some(&path), Vec::new()));
    drop(child.stdin.take()); // lets the child exit
    let _ = child.wait();
    drop(reader);
    let Some(result) = result else {
        panic!("the lock holder never opened the database");
    };
    match result {
        Err(err @ AdapterError::Locked { .. }) => {
            let text = err.to_string();
            assert!(text.contains(&path.display().to_string()), "{text}");
            assert!(text.contains("locked by another process"), "{text}");
        }
        Err(other) => panic!("expected a lock error, got {other}"),
        Ok(_) => panic!("a second process opened a locked database"),
    }
}

#[test]
fn temporary_tables_are_created_unqualified_and_private_to_the_connection() {
    let adapter = memory();
    let mut conn = adapter.connect().expect("connect");
    let tmp = RelationRef::new(Some("memory"), "main", "model__dbt_tmp");
    conn.execute(&adapter.sql_create_table_as(&tmp, "select 1 as id", true))
        .expect("create temporary table");
    let result = conn
        .query("select id from model__dbt_tmp", &[])
        .expect("query");
    assert_eq!(result.rows, vec![vec![json!(1)]]);
    let mut other = adapter.connect().expect("connect");
    assert!(other.query("select id from model__dbt_tmp", &[]).is_err());
}
