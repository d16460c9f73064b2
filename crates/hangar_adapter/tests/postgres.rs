//! The Postgres adapter against the real server on 127.0.0.1:5432 (trust auth, user
//! postgres). Each test works in a database of its own, dropped afterwards.
#![cfg(feature = "postgres")]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hangar_adapter::postgres::PostgresAdapter;
use hangar_adapter::{
    Adapter, AdapterError, ColumnInfo, Connection, RelationCache, RelationKind, RelationRef,
    adapter_from_profile,
};
use serde_json::{Value, json};

const HOST: &str = "127.0.0.1";
const PORT: u16 = 5432;

/// A fresh database, dropped (with its connections) when the test ends.
struct TestDb {
    name: String,
    adapter: Arc<dyn Adapter>,
}

impl TestDb {
    fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!("hangar_test_{}_{}", std::process::id(), nanos);
        admin()
            .execute(&format!("create database {name}"))
            .expect("create test database");
        let settings = json!({
            "host": HOST, "port": PORT, "user": "postgres", "password": "not-used",
            "dbname": name, "schema": "analytics", "threads": 2, "connect_timeout": 5
        });
        let adapter = adapter_from_profile(
            "postgres",
            "ci",
            settings.as_object().expect("object"),
            std::path::Path::new("."),
        )
        .expect("adapter");
        Self { name, adapter }
    }

    fn connect(&self) -> Box<dyn Connection> {
        self.adapter.connect().expect("connect to test database")
    }

    fn rel(&self, identifier: &str) -> RelationRef {
        RelationRef::new(Some(&self.name), "analytics", identifier)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = admin().execute(&format!(
            "drop database if exists {} with (force)",
            self.name
        ));
    }
}

fn admin() -> Box<dyn Connection> {
    PostgresAdapter::new(
        "admin",
        HOST,
        PORT,
        "postgres",
        None,
        "postgres",
        "public",
        Duration::from_secs(5),
    )
    .connect()
    .expect("postgres must run on 127.0.0.1:5432")
}

fn create_schema(db: &TestDb, conn: &mut dyn Connection) {
    let sql = db.adapter.sql_create_schema(None, "analytics");
    conn.execute(&sql).expect("create schema");
}

#[test]
fn query_returns_typed_values_with_bound_parameters() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let result = conn
        .query(
            "select 1::int as i, 2::bigint as b, 1.25::float8 as f, 12.30::numeric(6,2) as n, \
             'x''y'::text as t, true as ok, date '2024-02-29' as d, \
             timestamp '2024-02-29 13:01:02.5' as ts, null::int as nothing, \
             $1::int + 1 as param_int, $2 as param_text",
            &[json!(41), json!("it's bound")],
        )
        .expect("query");
    let names: Vec<&str> = result.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "i",
            "b",
            "f",
            "n",
            "t",
            "ok",
            "d",
            "ts",
            "nothing",
            "param_int",
            "param_text"
        ]
    );
    assert_eq!(result.columns[3].data_type, "numeric");
    assert_eq!(
        result.rows,
        vec![vec![
            json!(1),
            json!(2),
            json!(1.25),
            json!(12.3),
            json!("x'y"),
            json!(true),
            json!("2024-02-29"),
            json!("2024-02-29T13:01:02.500"),
            Value::Null,
            json!(42),
            json!("it's bound"),
        ]]
    );
}

#[test]
fn execute_reports_rows_affected_and_errors_keep_sqlstate() {
    let db = TestDb::new();
    let mut conn = db.connect();
    create_schema(&db, conn.as_mut());
    conn.execute("create table analytics.t (id int)")
        .expect("create");
    let affected = conn
        .execute("insert into analytics.t values (1), (2), (3)")
        .expect("insert");
    assert_eq!(affected, Some(3));
    let err = conn.execute("select * from analytics.missing").err();
    assert_eq!(err.as_ref().and_then(|e| e.sql_state()), Some("42P01"));
    let text = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        text.contains("relation \"analytics.missing\" does not exist"),
        "{text}"
    );
}

#[test]
fn relations_are_listed_described_renamed_and_dropped() {
    let db = TestDb::new();
    let a = &db.adapter;
    let mut conn = db.connect();
    create_schema(&db, conn.as_mut());
    let table = db.rel("orders__tmp");
    conn.execute(&a.sql_create_table_as(
        &table,
        "select 1::int as id, 'a'::varchar(10) as code, 1.5::numeric(10,2) as amount",
        false,
    ))
    .expect("create table");
    conn.execute(
        &a.sql_create_view_as(&db.rel("orders_v"), "select id from analytics.orders__tmp"),
    )
    .expect("create view");
    conn.execute(&a.sql_rename(&table, "orders", RelationKind::Table))
        .expect("rename");
    if let Some(comment) = a.sql_comment(
        &db.rel("orders"),
        RelationKind::Table,
        Some("id"),
        "the 'id'",
    ) {
        conn.execute(&comment).expect("comment");
    }

    let cache = RelationCache::new();
    cache
        .ensure_schema(conn.as_mut(), Some(&db.name), "analytics")
        .expect("list");
    let listed: Vec<(String, RelationKind)> = cache
        .relations_in(Some(&db.name), "analytics")
        .into_iter()
        .map(|info| (info.relation.identifier, info.kind))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("orders".to_string(), RelationKind::Table),
            ("orders_v".to_string(), RelationKind::View)
        ]
    );
    assert_eq!(
        conn.get_columns(&db.rel("orders")).expect("columns"),
        vec![
            ColumnInfo::new("id", "integer"),
            ColumnInfo::new("code", "character varying(10)"),
            ColumnInfo::new("amount", "numeric(10,2)"),
        ]
    );
    let schemas = conn.list_schemas(None).expect("schemas");
    assert!(schemas.contains(&"analytics".to_string()), "{schemas:?}");

    // Dropping the table cascades to the view built on it.
    conn.execute(&a.sql_drop(&db.rel("orders"), RelationKind::Table))
        .expect("drop");
    assert!(
        conn.list_relations(None, "analytics")
            .expect("list")
            .is_empty()
    );
    assert!(
        conn.get_columns(&db.rel("orders"))
            .expect("columns")
            .is_empty()
    );
}

#[test]
fn view_dependencies_let_the_cache_forget_cascaded_views() {
    let db = TestDb::new();
    let a = &db.adapter;
    let mut conn = db.connect();
    create_schema(&db, conn.as_mut());
    conn.execute(
        "create schema reports; \
         create table analytics.orders as select 1 as id; \
         create view analytics.\"Orders V\" as select id from analytics.orders; \
         create view analytics.orders_vv as select id from analytics.\"Orders V\"; \
         create view reports.orders_r as select id from analytics.orders; \
         create view analytics.unrelated as select 1 as one",
    )
    .expect("relations");
    let mut links = conn
        .list_dependencies(None, "analytics")
        .expect("dependencies");
    links.sort_by(|x, y| {
        (&x.1.identifier, &x.0.identifier).cmp(&(&y.1.identifier, &y.0.identifier))
    });
    let names: Vec<(String, String)> = links
        .iter()
        .map(|(r, d)| {
            (
                format!("{}.{}", r.schema, r.identifier),
                d.identifier.clone(),
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            ("analytics.orders".to_string(), "Orders V".to_string()),
            ("analytics.Orders V".to_string(), "orders_vv".to_string()),
        ]
    );

    let cache = RelationCache::new();
    for schema in ["analytics", "reports"] {
        cache
            .ensure_schema(conn.as_mut(), Some(&db.name), schema)
            .expect("list");
    }
    let orders = db.rel("orders");
    conn.execute(&a.sql_drop(&orders, RelationKind::Table))
        .expect("drop cascades");
    cache.remove(&orders);
    let cached = |schema: &str| -> Vec<String> {
        cache
            .relations_in(Some(&db.name), schema)
            .into_iter()
            .map(|i| i.relation.identifier)
            .collect()
    };
    let listed = |conn: &mut dyn Connection, schema: &str| -> Vec<String> {
        conn.list_relations(None, schema)
            .expect("list")
            .into_iter()
            .map(|i| i.relation.identifier)
            .collect()
    };
    assert_eq!(cached("analytics"), listed(conn.as_mut(), "analytics"));
    assert_eq!(cached("analytics"), vec!["unrelated".to_string()]);
    assert_eq!(cached("reports"), listed(conn.as_mut(), "reports"));
    assert!(cached("reports").is_empty());
}

#[test]
fn rollback_undoes_ddl() {
    let db = TestDb::new();
    let mut conn = db.connect();
    create_schema(&db, conn.as_mut());
    conn.begin().expect("begin");
    conn.execute("create table analytics.scratch (id int)")
        .expect("create");
    conn.rollback().expect("rollback");
    assert!(
        conn.list_relations(None, "analytics")
            .expect("list")
            .is_empty()
    );
    conn.begin().expect("begin");
    conn.execute("create table analytics.kept (id int)")
        .expect("create");
    conn.commit().expect("commit");
    assert_eq!(
        conn.list_relations(None, "analytics").expect("list").len(),
        1
    );
}

#[test]
fn bulk_load_types_values_by_column() {
    let db = TestDb::new();
    let mut conn = db.connect();
    create_schema(&db, conn.as_mut());
    conn.execute(
        "create table analytics.seed (id int, name text, amount numeric(8,2), ok boolean, day date)",
    )
    .expect("create");
    let columns = conn.get_columns(&db.rel("seed")).expect("columns");
    let rows = vec![
        vec![
            Some("1".into()),
            Some("a, \"quoted\"".into()),
            Some("1.50".into()),
            Some("true".into()),
            Some("2024-01-31".into()),
        ],
        vec![
            Some("2".into()),
            Some(String::new()),
            Some(String::new()),
            None,
            None,
        ],
    ];
    let loaded = conn
        .bulk_load(&db.rel("seed"), &columns, &mut rows.into_iter())
        .expect("load");
    assert_eq!(loaded, 2);
    let result = conn
        .query(
            "select id, name, amount, ok, day from analytics.seed order by id",
            &[],
        )
        .expect("query");
    assert_eq!(
        result.rows,
        vec![
            vec![
                json!(1),
                json!("a, \"quoted\""),
                json!(1.5),
                json!(true),
                json!("2024-01-31")
            ],
            vec![json!(2), json!(""), Value::Null, Value::Null, Value::Null],
        ]
    );
}

#[test]
fn bulk_load_bad_value_names_row_and_column() {
    let db = TestDb::new();
    let mut conn = db.connect();
    create_schema(&db, conn.as_mut());
    conn.execute("create table analytics.seed (id int, name text)")
        .expect("create");
    let columns = conn.get_columns(&db.rel("seed")).expect("columns");
    let rows = vec![
        vec![Some("1".into()), Some("a".into())],
        vec![Some("2".into()), Some("b".into())],
        vec![Some("three".into()), Some("c".into())],
    ];
    let err = conn
        .bulk_load(&db.rel("seed"), &columns, &mut rows.into_iter())
        .err();
    match err {
        Some(AdapterError::BadValue {
            row,
            column,
            message,
            ..
        }) => {
            assert_eq!((row, column.as_str()), (3, "id"));
            assert!(message.contains("three"), "{message}");
        }
        other => panic!("expected a bad value error, got {other:?}"),
    }
}

#[test]
fn a_running_query_can_be_cancelled_from_another_thread() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let handle = conn.cancel_handle();
    let started = Instant::now();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        handle.cancel();
    });
    let result = conn.execute("select pg_sleep(30)");
    canceller.join().expect("cancel thread");
    assert!(matches!(result, Err(AdapterError::Cancelled)), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // The connection stays usable.
    let again = conn
        .query("select 1 as one", &[])
        .expect("query after cancel");
    assert_eq!(again.rows, vec![vec![json!(1)]]);
}

fn connect_error(port: u16, password: &str, timeout_secs: u64) -> String {
    let settings = json!({
        "host": HOST, "port": port, "user": "postgres", "password": password,
        "dbname": "postgres", "schema": "public", "connect_timeout": timeout_secs
    });
    let adapter = adapter_from_profile(
        "postgres",
        "prod",
        settings.as_object().expect("object"),
        std::path::Path::new("."),
    )
    .expect("adapter");
    match adapter.connect() {
        Ok(_) => panic!("connecting to port {port} should fail"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn unreachable_port_names_target_host_and_port_without_password() {
    // Bind then drop a listener to get a port where nothing listens.
    let port = TcpListener::bind((HOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let text = connect_error(port, "s3cret-pw", 2);
    assert!(text.contains("target 'prod'"), "{text}");
    assert!(text.contains(&format!("{HOST}:{port}")), "{text}");
    assert!(!text.contains("s3cret-pw"), "{text}");
    insta::assert_snapshot!(text.replace(&port.to_string(), "<port>"));
}

#[test]
fn silent_server_times_out_within_connect_timeout() {
    let listener = TcpListener::bind((HOST, 0)).expect("listener");
    let port = listener.local_addr().expect("addr").port();
    let started = Instant::now();
    let text = connect_error(port, "s3cret-pw", 1);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(text.contains(&format!("{HOST}:{port}")), "{text}");
    assert!(!text.contains("s3cret-pw"), "{text}");
    insta::assert_snapshot!(text.replace(&port.to_string(), "<port>"));
    drop(listener);
}

/// A minimal server speaking just enough of the protocol to ask for a password and
/// refuse it, as a real server with password auth does (the local one trusts everyone).
fn refuse_password_once(listener: TcpListener) {
    let Ok((mut stream, _)) = listener.accept() else {
        return;
    };
    let mut buf = [0u8; 1024];
    // sslmode defaults to prefer: an SSLRequest (8 bytes, code 80877103) comes first.
    if matches!(stream.read(&mut buf), Ok(8)) && buf[4..8] == [0x04, 0xd2, 0x16, 0x2f] {
        let _ = stream.write_all(b"N");
        let _ = stream.read(&mut buf); // startup message
    }
    // AuthenticationCleartextPassword
    let _ = stream.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3]);
    let _ = stream.read(&mut buf); // password message
    let mut body = Vec::new();
    for (field, value) in [
        (b'S', "FATAL"),
        (b'V', "FATAL"),
        (b'C', "28P01"),
        (b'M', "password authentication failed for user \"postgres\""),
    ] {
        body.push(field);
        body.extend_from_slice(value.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut message = vec![b'E'];
    message.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
    message.extend_from_slice(&body);
    let _ = stream.write_all(&message);
}

#[test]
fn wrong_password_names_target_and_hides_the_password() {
    let listener = TcpListener::bind((HOST, 0)).expect("listener");
    let port = listener.local_addr().expect("addr").port();
    let server = std::thread::spawn(move || refuse_password_once(listener));
    let text = connect_error(port, "wrong-pw-123", 5);
    server.join().expect("server thread");
    assert!(text.contains("password authentication failed"), "{text}");
    assert!(text.contains("target 'prod'"), "{text}");
    assert!(text.contains(&format!("{HOST}:{port}")), "{text}");
    assert!(!text.contains("wrong-pw-123"), "{text}");
    insta::assert_snapshot!(text.replace(&port.to_string(), "<port>"));
}

// --- sslmode -------------------------------------------------------------------------

/// The server's own self-signed certificate (CN and SAN `localhost`).
const SERVER_CERT: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";

fn adapter_with(port: u16, extra: Value) -> Arc<dyn Adapter> {
    let mut settings = json!({
        "host": HOST, "port": port, "user": "postgres", "password": "tls-secret-pw",
        "dbname": "postgres", "schema": "public", "connect_timeout": 5
    });
    if let (Some(map), Value::Object(more)) = (settings.as_object_mut(), extra) {
        map.extend(more);
    }
    adapter_from_profile(
        "postgres",
        "prod",
        settings.as_object().expect("object"),
        std::path::Path::new("."),
    )
    .expect("adapter")
}

/// Whether the session runs over TLS, as the server sees it.
fn session_uses_tls(conn: &mut dyn Connection) -> bool {
    let result = conn
        .query(
            "select ssl from pg_stat_ssl where pid = pg_backend_pid()",
            &[],
        )
        .expect("pg_stat_ssl");
    result.rows == vec![vec![json!(true)]]
}

/// A proxy in front of the local server that answers an SSLRequest with `N`, as a server
/// built or configured without TLS does, and then relays the plain session.
fn server_without_tls() -> u16 {
    use std::net::TcpStream;
    let listener = TcpListener::bind((HOST, 0)).expect("listener");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            std::thread::spawn(move || {
                let mut first = [0u8; 8];
                if client.read_exact(&mut first).is_err() {
                    return;
                }
                let Ok(mut upstream) = TcpStream::connect((HOST, PORT)) else {
                    return;
                };
                let relayed = if first[4..8] == [0x04, 0xd2, 0x16, 0x2f] {
                    client.write_all(b"N")
                } else {
                    upstream.write_all(&first)
                };
                let (Ok(mut client_in), Ok(mut upstream_out)) =
                    (client.try_clone(), upstream.try_clone())
                else {
                    return;
                };
                if relayed.is_err() {
                    return;
                }
                std::thread::spawn(move || std::io::copy(&mut client_in, &mut upstream_out));
                let _ = std::io::copy(&mut upstream, &mut client);
            });
        }
    });
    port
}

#[test]
fn sslmode_decides_whether_the_session_is_encrypted() {
    // The local server offers TLS with a self-signed certificate.
    for (mode, encrypted) in [
        ("disable", false),
        ("allow", false),
        ("prefer", true),
        ("require", true),
    ] {
        let adapter = adapter_with(PORT, json!({"sslmode": mode}));
        let mut conn = adapter
            .connect()
            .unwrap_or_else(|e| panic!("sslmode {mode}: {e}"));
        assert_eq!(session_uses_tls(conn.as_mut()), encrypted, "sslmode {mode}");
    }
    // Unset means libpq's default, prefer.
    let mut conn = adapter_with(PORT, json!({})).connect().expect("default");
    assert!(session_uses_tls(conn.as_mut()));
}

#[test]
fn verify_modes_check_the_certificate() {
    // Not signed by a public root: verify-full refuses it, naming target and host.
    let text = match adapter_with(PORT, json!({"sslmode": "verify-full"})).connect() {
        Ok(_) => panic!("a self-signed certificate must not pass verify-full"),
        Err(e) => e.to_string(),
    };
    assert!(text.contains("target 'prod'"), "{text}");
    assert!(text.contains(&format!("{HOST}:{PORT}")), "{text}");
    assert!(text.contains("sslmode 'verify-full'"), "{text}");
    assert!(text.to_lowercase().contains("certificate"), "{text}");
    assert!(!text.contains("tls-secret-pw"), "{text}");

    if std::fs::read(SERVER_CERT).is_err() {
        eprintln!("skipped the sslrootcert part: {SERVER_CERT} is not readable");
        return;
    }
    // Trusting the server's certificate: the chain passes, the name `127.0.0.1` does not.
    let trusted = json!({"sslmode": "verify-ca", "sslrootcert": SERVER_CERT});
    let mut conn = adapter_with(PORT, trusted).connect().expect("verify-ca");
    assert!(session_uses_tls(conn.as_mut()));
    let full = json!({"sslmode": "verify-full", "sslrootcert": SERVER_CERT});
    let text = adapter_with(PORT, full)
        .connect()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(text.contains("sslmode 'verify-full'"), "{text}");
}

#[test]
fn require_fails_clearly_and_prefer_falls_back_without_server_tls() {
    let port = server_without_tls();
    let text = match adapter_with(port, json!({"sslmode": "require"})).connect() {
        Ok(_) => panic!("sslmode require must not connect without TLS"),
        Err(e) => e.to_string(),
    };
    assert!(text.contains("target 'prod'"), "{text}");
    assert!(text.contains(&format!("{HOST}:{port}")), "{text}");
    assert!(text.contains("sslmode 'require'"), "{text}");
    assert!(text.contains("TLS"), "{text}");
    assert!(!text.contains("tls-secret-pw"), "{text}");
    insta::assert_snapshot!(text.replace(&port.to_string(), "<port>"));

    for mode in ["prefer", "allow"] {
        let adapter = adapter_with(port, json!({"sslmode": mode}));
        let mut conn = adapter
            .connect()
            .unwrap_or_else(|e| panic!("sslmode {mode} without server TLS: {e}"));
        assert!(!session_uses_tls(conn.as_mut()), "sslmode {mode}");
    }
}
