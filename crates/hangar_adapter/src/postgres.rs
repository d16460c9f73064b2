//! PostgreSQL through the synchronous `postgres` crate, one client per worker thread.
//!
//! Parameters are sent in text format so the server parses them for whatever type it
//! inferred; results are decoded from the binary format into JSON values.

mod cells;

use std::io::Write;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::types::{Format, IsNull, ToSql, Type};
use postgres::{CancelToken, Client, NoTls, SimpleQueryMessage};
use serde_json::Value;

use crate::profile::Settings;
use crate::text_values::ColumnClass;
use crate::{
    Adapter, AdapterError, CancelHandle, Capabilities, ColumnInfo, Connection, QueryResult,
    RelationInfo, RelationKind, RelationRef,
};

/// A dbt-postgres target. The password is kept only to open connections.
pub struct PostgresAdapter {
    target: String,
    host: String,
    port: u16,
    user: String,
    password: Option<String>,
    dbname: String,
    schema: String,
    threads: usize,
    connect_timeout: Duration,
    keepalives_idle: Option<Duration>,
    search_path: Option<String>,
    role: Option<String>,
    /// Extra connection attempts after a failure to reach the server.
    retries: u64,
}

impl std::fmt::Debug for PostgresAdapter {
    // Hand-written so the password can never be printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresAdapter")
            .field("target", &self.target)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("dbname", &self.dbname)
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl PostgresAdapter {
    pub(crate) fn from_settings(s: &Settings<'_>) -> Result<Self, AdapterError> {
        let required = |key: &str| -> Result<String, AdapterError> {
            s.string(key)?
                .ok_or_else(|| s.config_error(format!("'{key}' is required for postgres")))
        };
        let dbname = match s.string("dbname")? {
            Some(name) => name,
            None => s
                .string("database")?
                .ok_or_else(|| s.config_error("'dbname' is required for postgres"))?,
        };
        check_sslmode(s)?;
        let port = s.u64("port")?.unwrap_or(5432);
        Ok(Self {
            target: s.target.to_string(),
            host: required("host")?,
            port: u16::try_from(port)
                .map_err(|_| s.config_error(format!("'port' {port} is not a valid port")))?,
            user: required("user")?,
            password: s.string("password")?.or(s.string("pass")?),
            dbname,
            schema: required("schema")?,
            threads: s.threads()?,
            connect_timeout: Duration::from_secs(s.u64("connect_timeout")?.unwrap_or(10).max(1)),
            keepalives_idle: s
                .u64("keepalives_idle")?
                .filter(|&secs| secs > 0)
                .map(Duration::from_secs),
            search_path: s.string("search_path")?,
            role: s.string("role")?,
            retries: s.u64("retries")?.unwrap_or(1),
        })
    }

    /// Builds an adapter from explicit connection settings (tests and tools).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        target: &str,
        host: &str,
        port: u16,
        user: &str,
        password: Option<&str>,
        dbname: &str,
        schema: &str,
        connect_timeout: Duration,
    ) -> Self {
        Self {
            target: target.to_string(),
            host: host.to_string(),
            port,
            user: user.to_string(),
            password: password.map(str::to_string),
            dbname: dbname.to_string(),
            schema: schema.to_string(),
            threads: 1,
            connect_timeout,
            keepalives_idle: None,
            search_path: None,
            role: None,
            retries: 0,
        }
    }

    fn client_config(&self) -> postgres::Config {
        let mut config = postgres::Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .dbname(&self.dbname)
            .connect_timeout(self.connect_timeout)
            .application_name("hangar");
        if let Some(password) = &self.password {
            config.password(password);
        }
        if let Some(idle) = self.keepalives_idle {
            config.keepalives_idle(idle);
        }
        if let Some(path) = &self.search_path {
            // libpq options syntax: spaces inside a value are backslash-escaped.
            config.options(&format!("-c search_path={}", path.replace(' ', "\\ ")));
        }
        config
    }

    /// What the connection was for, without the password.
    fn describe_endpoint(&self) -> String {
        format!(
            "postgres at {}:{} (database '{}', user '{}')",
            self.host, self.port, self.dbname, self.user
        )
    }

    fn connection_error(&self, cause: &str) -> AdapterError {
        AdapterError::Connection {
            target: self.target.clone(),
            message: format!("{}: {cause}", self.describe_endpoint()),
        }
    }

    fn open_client(&self) -> Result<Client, AdapterError> {
        let config = self.client_config();
        let mut attempt = 0;
        loop {
            attempt += 1;
            match connect_within(&config, self.connect_timeout) {
                Ok(Ok(client)) => return Ok(client),
                // Refused logins are not retried: they will not get better.
                Ok(Err(e)) if e.as_db_error().is_none() && attempt <= self.retries => continue,
                Ok(Err(e)) => return Err(self.connection_error(&describe(&e))),
                Err(TimedOut) => {
                    return Err(self.connection_error(&format!(
                        "no answer from the server within connect_timeout ({} s)",
                        self.connect_timeout.as_secs()
                    )));
                }
            }
        }
    }
}

struct TimedOut;

/// Connects with a deadline on the whole handshake. The driver's own `connect_timeout`
/// covers only the TCP connect, so a server that accepts and then stays silent would
/// hang the run; the abandoned attempt ends with its thread when the socket closes.
fn connect_within(
    config: &postgres::Config,
    timeout: Duration,
) -> Result<Result<Client, postgres::Error>, TimedOut> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let config = config.clone();
    std::thread::spawn(move || {
        let _ = sender.send(config.connect(NoTls));
    });
    // A little slack so the driver's own TCP timeout, with its clearer message, wins.
    receiver
        .recv_timeout(timeout + Duration::from_millis(500))
        .map_err(|_| TimedOut)
}

fn check_sslmode(s: &Settings<'_>) -> Result<(), AdapterError> {
    match s.string("sslmode")?.as_deref() {
        None | Some("disable") | Some("allow") | Some("prefer") => Ok(()),
        Some(other) => Err(s.config_error(format!(
            "sslmode '{other}' is not supported yet (TLS is not built in); use 'disable' or 'prefer'"
        ))),
    }
}

impl Adapter for PostgresAdapter {
    fn adapter_type(&self) -> &'static str {
        "postgres"
    }

    fn target_name(&self) -> &str {
        &self.target
    }

    fn connect(&self) -> Result<Box<dyn Connection>, AdapterError> {
        let mut client = self.open_client()?;
        if let Some(role) = &self.role {
            client
                .batch_execute(&format!("set role {}", self.quote(role)))
                .map_err(|e| pg_error(&e))?;
        }
        Ok(Box::new(PostgresConnection {
            client,
            dbname: self.dbname.clone(),
        }))
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            transactional_ddl: true,
            create_or_replace_table: false,
            // `create or replace view` cannot drop or retype columns in
            // Postgres, so views are built aside and swapped like tables.
            create_or_replace_view: false,
            merge: true,
            comments: true,
            rename_keeps_schema: true,
            cancel: true,
            drop_cascade: true,
            multi_statement_execute: true,
            max_identifier_length: Some(63),
            quote_seed_columns: true,
            // dbt-postgres: delete+insert with a unique_key, append without.
            default_incremental_strategy: "delete+insert",
        }
    }

    fn default_database(&self) -> Option<String> {
        Some(self.dbname.clone())
    }

    fn default_schema(&self) -> String {
        self.schema.clone()
    }

    fn threads(&self) -> usize {
        self.threads
    }

    /// Postgres schemas cannot be qualified by a database: it is always the connected one.
    fn sql_create_schema(&self, _database: Option<&str>, schema: &str) -> String {
        format!("create schema if not exists {}", self.quote(schema))
    }
}

/// One session on a Postgres database.
pub struct PostgresConnection {
    client: Client,
    dbname: String,
}

/// A parameter sent in text format; the server parses it for the type it inferred.
#[derive(Debug)]
struct TextParam(String);

impl ToSql for TextParam {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        Format::Text
    }

    postgres::types::to_sql_checked!();
}

fn text_param(value: &Value) -> Option<TextParam> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(TextParam(s.clone())),
        other => Some(TextParam(other.to_string())),
    }
}

impl PostgresConnection {
    fn rows(&mut self, sql: &str, params: &[&str]) -> Result<Vec<Vec<Value>>, AdapterError> {
        let values: Vec<Value> = params.iter().map(|p| Value::from(*p)).collect();
        Ok(self.query(sql, &values)?.rows)
    }

    fn database_for(&self, database: Option<&str>) -> String {
        database.map_or_else(|| self.dbname.clone(), str::to_string)
    }
}

impl Connection for PostgresConnection {
    fn execute(&mut self, sql: &str) -> Result<Option<u64>, AdapterError> {
        let messages = self.client.simple_query(sql).map_err(|e| pg_error(&e))?;
        let affected = messages.iter().rev().find_map(|m| match m {
            SimpleQueryMessage::CommandComplete(n) => Some(*n),
            _ => None,
        });
        Ok(affected)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<QueryResult, AdapterError> {
        if crate::sql::is_blank(sql) {
            return Ok(QueryResult::default());
        }
        let statement = self.client.prepare(sql).map_err(|e| pg_error(&e))?;
        let bound: Vec<Option<TextParam>> = params.iter().map(text_param).collect();
        let refs: Vec<&(dyn ToSql + Sync)> =
            bound.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let rows = self
            .client
            .query(&statement, &refs)
            .map_err(|e| pg_error(&e))?;
        let columns = statement
            .columns()
            .iter()
            .map(|c| ColumnInfo::new(c.name(), c.type_().name()))
            .collect();
        let rows = rows
            .iter()
            .map(cells::row_values)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(QueryResult {
            columns,
            rows,
            rows_affected: None,
        })
    }

    fn list_relations(
        &mut self,
        database: Option<&str>,
        schema: &str,
    ) -> Result<Vec<RelationInfo>, AdapterError> {
        let database = self.database_for(database);
        let rows = self.rows(
            "select c.relname::text, c.relkind::text \
             from pg_catalog.pg_class c \
             join pg_catalog.pg_namespace n on n.oid = c.relnamespace \
             where n.nspname = $1 and c.relkind in ('r', 'p', 'v', 'm', 'f') \
             order by c.relname",
            &[schema],
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let name = row.first()?.as_str()?.to_string();
                let kind = relkind(row.get(1)?.as_str()?);
                Some(RelationInfo {
                    relation: RelationRef::new(Some(&database), schema, &name),
                    kind,
                })
            })
            .collect())
    }

    fn list_schemas(&mut self, _database: Option<&str>) -> Result<Vec<String>, AdapterError> {
        let rows = self.rows(
            "select nspname::text from pg_catalog.pg_namespace order by nspname",
            &[],
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|row| row.first()?.as_str().map(str::to_string))
            .collect())
    }

    fn get_columns(&mut self, r: &RelationRef) -> Result<Vec<ColumnInfo>, AdapterError> {
        // Same type spelling as dbt-postgres: lengths and precisions where declared.
        let rows = self.rows(
            "select column_name::text, \
               case \
                 when data_type in ('character varying', 'character') \
                      and character_maximum_length is not null \
                   then data_type || '(' || character_maximum_length || ')' \
                 when data_type = 'numeric' and numeric_precision is not null \
                   then 'numeric(' || numeric_precision || ',' || numeric_scale || ')' \
                 else data_type \
               end::text \
             from information_schema.columns \
             where table_schema = $1 and table_name = $2 \
             order by ordinal_position",
            &[&r.schema, &r.identifier],
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                Some(ColumnInfo::new(
                    row.first()?.as_str()?,
                    row.get(1)?.as_str()?,
                ))
            })
            .collect())
    }

    fn begin(&mut self) -> Result<(), AdapterError> {
        self.client.batch_execute("begin").map_err(|e| pg_error(&e))
    }

    fn commit(&mut self) -> Result<(), AdapterError> {
        self.client
            .batch_execute("commit")
            .map_err(|e| pg_error(&e))
    }

    fn rollback(&mut self) -> Result<(), AdapterError> {
        self.client
            .batch_execute("rollback")
            .map_err(|e| pg_error(&e))
    }

    fn cancel_handle(&self) -> Box<dyn CancelHandle> {
        Box::new(PostgresCancel(self.client.cancel_token()))
    }

    fn bulk_load(
        &mut self,
        r: &RelationRef,
        columns: &[ColumnInfo],
        rows: &mut dyn Iterator<Item = Vec<Option<String>>>,
    ) -> Result<u64, AdapterError> {
        let relation = render(r);
        let column_list = columns
            .iter()
            .map(|c| crate::quote_with(&c.name, '"'))
            .collect::<Vec<_>>()
            .join(", ");
        let copy = format!("copy {relation} ({column_list}) from stdin with (format csv)");
        let classes: Vec<ColumnClass> = columns
            .iter()
            .map(|c| ColumnClass::of(&c.data_type))
            .collect();
        let mut writer = self.client.copy_in(&copy).map_err(|e| pg_error(&e))?;
        let mut line = String::new();
        for (index, row) in rows.enumerate() {
            let row_number = index as u64 + 1;
            if row.len() != columns.len() {
                return Err(AdapterError::BadValue {
                    relation,
                    row: row_number,
                    column: String::new(),
                    message: format!("expected {} values, got {}", columns.len(), row.len()),
                });
            }
            line.clear();
            write_csv_line(&mut line, &row, &classes);
            writer
                .write_all(line.as_bytes())
                .map_err(|e| AdapterError::database(format!("COPY into {relation} failed: {e}")))?;
        }
        writer.finish().map_err(|e| copy_error(&relation, &e))
    }
}

fn render(r: &RelationRef) -> String {
    // Postgres cannot address another database; the schema-qualified name is enough.
    format!(
        "{}.{}",
        crate::quote_with(&r.schema, '"'),
        crate::quote_with(&r.identifier, '"')
    )
}

/// One CSV line for COPY: NULL is an unquoted empty field, every value is quoted.
/// Empty cells of non-text columns are NULL, as dbt reads seeds.
fn write_csv_line(line: &mut String, row: &[Option<String>], classes: &[ColumnClass]) {
    for (i, (cell, class)) in row.iter().zip(classes).enumerate() {
        if i > 0 {
            line.push(',');
        }
        match cell {
            Some(v) if !(v.trim().is_empty() && *class != ColumnClass::Text) => {
                line.push('"');
                line.push_str(&v.replace('"', "\"\""));
                line.push('"');
            }
            _ => {}
        }
    }
    line.push('\n');
}

/// Turns a COPY failure into a row/column error when Postgres says where it happened
/// (its context reads `COPY seed, line 3, column id: "abc"`).
fn copy_error(relation: &str, e: &postgres::Error) -> AdapterError {
    let Some(db) = e.as_db_error() else {
        return pg_error(e);
    };
    let location = db.where_().and_then(parse_copy_context);
    match location {
        Some((row, column)) => AdapterError::BadValue {
            relation: relation.to_string(),
            row,
            column,
            message: db.message().to_string(),
        },
        None => pg_error(e),
    }
}

fn parse_copy_context(context: &str) -> Option<(u64, String)> {
    let after_line = context.split(", line ").nth(1)?;
    let digits: String = after_line
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let row = digits.parse().ok()?;
    let column = after_line
        .split(", column ")
        .nth(1)
        .map(|rest| rest.split(':').next().unwrap_or(rest).to_string())
        .unwrap_or_default();
    Some((row, column))
}

fn relkind(code: &str) -> RelationKind {
    match code {
        "r" | "p" => RelationKind::Table,
        "v" => RelationKind::View,
        "m" => RelationKind::MaterializedView,
        "f" => RelationKind::External,
        _ => RelationKind::Unknown,
    }
}

struct PostgresCancel(CancelToken);

impl CancelHandle for PostgresCancel {
    fn cancel(&self) {
        // Best effort: if the cancel request cannot be sent, the statement simply runs on.
        let _ = self.0.cancel_query(NoTls);
    }
}

/// The server's message with detail and hint, or the client-side cause chain.
fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut text = format!("{}: {}", db.severity(), db.message());
        if let Some(detail) = db.detail() {
            text.push_str(&format!("\nDETAIL: {detail}"));
        }
        if let Some(hint) = db.hint() {
            text.push_str(&format!("\nHINT: {hint}"));
        }
        return text;
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(&format!(": {cause_text}"));
        }
        source = cause.source();
    }
    text
}

fn pg_error(e: &postgres::Error) -> AdapterError {
    match e.code() {
        Some(code) if *code == SqlState::QUERY_CANCELED => AdapterError::Cancelled,
        code => AdapterError::Database {
            message: describe(e),
            sql_state: code.map(|c| c.code().to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter() -> PostgresAdapter {
        PostgresAdapter::new(
            "dev",
            "localhost",
            5432,
            "me",
            Some("pw"),
            "warehouse",
            "analytics",
            Duration::from_secs(10),
        )
    }

    #[test]
    fn sql_builders_quote_and_qualify() {
        let a = adapter();
        let r = RelationRef::new(Some("warehouse"), "analytics", "my \"odd\" model");
        let builders = [
            a.sql_create_table_as(&r, "select 1 as id", false),
            a.sql_create_table_as(&r, "select 1 as id", true),
            a.sql_create_view_as(&r, "select 1 as id"),
            a.sql_rename(&r, "final", RelationKind::Table),
            a.sql_rename(&r, "final", RelationKind::View),
            a.sql_drop(&r, RelationKind::View),
            a.sql_drop(&r, RelationKind::MaterializedView),
            a.sql_create_schema(Some("warehouse"), "analytics"),
            a.sql_comment(&r, RelationKind::Table, None, "it's a table")
                .unwrap_or_default(),
            a.sql_comment(&r, RelationKind::View, Some("id"), "the id")
                .unwrap_or_default(),
        ];
        insta::assert_snapshot!(builders.join(";\n\n"));
    }

    #[test]
    fn names_and_types_follow_postgres() {
        let a = adapter();
        assert_eq!(a.quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(a.normalize_identifier("MyModel"), "mymodel");
        assert_eq!(a.type_name(crate::LogicalType::String), "text");
        assert_eq!(a.type_name(crate::LogicalType::Numeric), "numeric(28,6)");
        assert!(!format!("{a:?}").contains("pw"));
    }

    #[test]
    fn csv_lines_quote_values_and_leave_nulls_bare() {
        let mut line = String::new();
        let classes = [
            ColumnClass::Integer,
            ColumnClass::Text,
            ColumnClass::Text,
            ColumnClass::Integer,
        ];
        write_csv_line(
            &mut line,
            &[
                Some("1".into()),
                Some("say \"hi\",\nbye".into()),
                None,
                Some(String::new()),
            ],
            &classes,
        );
        assert_eq!(line, "\"1\",\"say \"\"hi\"\",\nbye\",,\n");
    }

    #[test]
    fn copy_context_gives_row_and_column() {
        assert_eq!(
            parse_copy_context("COPY seed, line 3, column id: \"abc\""),
            Some((3, "id".to_string()))
        );
        assert_eq!(
            parse_copy_context("COPY seed, line 7"),
            Some((7, String::new()))
        );
        assert_eq!(parse_copy_context("SQL function"), None);
    }

    #[test]
    fn sslmode_require_is_refused_clearly() {
        let map = serde_json::json!({"sslmode": "require"});
        let map = map.as_object().cloned().unwrap_or_default();
        let s = Settings {
            target: "prod",
            map: &map,
        };
        let err = check_sslmode(&s)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("sslmode 'require' is not supported yet"),
            "{err}"
        );
        assert!(err.contains("target 'prod'"), "{err}");
    }
}
