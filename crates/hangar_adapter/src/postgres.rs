//! PostgreSQL through the synchronous `postgres` crate, one client per worker thread.
//!
//! Parameters are sent in text format so the server parses them for whatever type it
//! inferred; results are decoded from the binary format into JSON values.

mod cells;
mod tls;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use postgres::error::SqlState;
use postgres::types::{Format, IsNull, ToSql, Type};
use postgres::{CancelToken, Client, NoTls, SimpleQueryMessage};
use serde_json::Value;
use tokio_postgres_rustls::MakeRustlsConnect;

use self::tls::{SslMode, TlsFiles};
use crate::profile::Settings;
use crate::text_values::ColumnClass;
use crate::{
    Adapter, AdapterError, CancelHandle, Capabilities, ColumnInfo, Connection, QueryResult,
    RelationInfo, RelationKind, RelationRef,
};

/// A dbt-postgres target. The password is kept only to open connections.
#[derive(Clone)]
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
    sslmode: SslMode,
    /// Whether `sslmode` was written in the profile (then it is named in errors).
    sslmode_set: bool,
    /// Built once from `sslmode` and the certificate files; `None` for `disable`.
    tls: Option<MakeRustlsConnect>,
    application_name: String,
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
        let sslmode_text = s.string("sslmode")?;
        let sslmode = SslMode::parse(sslmode_text.as_deref()).map_err(|e| s.config_error(e))?;
        let files = TlsFiles {
            root_cert: s.string("sslrootcert")?,
            client_cert: s.string("sslcert")?,
            client_key: s.string("sslkey")?,
        };
        let tls = if sslmode.uses_tls() {
            Some(tls::connector(sslmode, &files).map_err(|e| s.config_error(e))?)
        } else {
            None
        };
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
            sslmode,
            sslmode_set: sslmode_text.is_some(),
            tls,
            application_name: s
                .string("application_name")?
                .unwrap_or_else(|| "hangar".to_string()),
        })
    }

    /// Builds an adapter from explicit connection settings (tests and tools); no TLS.
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
            sslmode: SslMode::Disable,
            sslmode_set: false,
            tls: None,
            application_name: "hangar".to_string(),
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
            .ssl_mode(self.sslmode.driver_mode())
            // pg_stat_activity shows which sessions are hangar's.
            .application_name(&self.application_name);
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
        let sslmode = if self.sslmode_set {
            format!(", sslmode '{}'", self.sslmode.as_str())
        } else {
            String::new()
        };
        format!(
            "postgres at {}:{} (database '{}', user '{}'{sslmode})",
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
        let mut config = self.client_config();
        let mut attempt = 0;
        loop {
            attempt += 1;
            match connect_within(&config, self.tls.clone(), self.connect_timeout) {
                Ok(Ok(client)) => return Ok(client),
                // libpq's `allow`: a server that refuses the plain login gets a TLS one.
                Ok(Err(e))
                    if e.as_db_error().is_some()
                        && self.sslmode == SslMode::Allow
                        && config.get_ssl_mode() == postgres::config::SslMode::Disable =>
                {
                    config.ssl_mode(postgres::config::SslMode::Require);
                }
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

    /// A logged-in session with the profile's `role` set.
    fn open_session(&self) -> Result<Client, AdapterError> {
        let mut client = self.open_client()?;
        if let Some(role) = &self.role {
            client
                .batch_execute(&format!("set role {}", self.quote(role)))
                .map_err(|e| pg_error(&e))?;
        }
        Ok(client)
    }
}

struct TimedOut;

/// Connects with a deadline on the whole handshake. The driver's own `connect_timeout`
/// covers only the TCP connect, so a server that accepts and then stays silent would
/// hang the run; the abandoned attempt ends with its thread when the socket closes.
fn connect_within(
    config: &postgres::Config,
    tls: Option<MakeRustlsConnect>,
    timeout: Duration,
) -> Result<Result<Client, postgres::Error>, TimedOut> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let config = config.clone();
    std::thread::spawn(move || {
        let client = match tls {
            Some(tls) => config.connect(tls),
            None => config.connect(NoTls),
        };
        let _ = sender.send(client);
    });
    // A little slack so the driver's own TCP timeout, with its clearer message, wins.
    receiver
        .recv_timeout(timeout + Duration::from_millis(500))
        .map_err(|_| TimedOut)
}

impl Adapter for PostgresAdapter {
    fn adapter_type(&self) -> &'static str {
        "postgres"
    }

    fn target_name(&self) -> &str {
        &self.target
    }

    fn connect(&self) -> Result<Box<dyn Connection>, AdapterError> {
        let client = self.open_session()?;
        let cancel = Arc::new(Mutex::new(client.cancel_token()));
        Ok(Box::new(PostgresConnection {
            client,
            adapter: Arc::new(self.clone()),
            in_transaction: false,
            cancel,
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

    fn supports_grants(&self) -> bool {
        true
    }

    /// dbt-postgres: a relation built aside and renamed in starts without grants.
    fn copy_grants(&self, _configured: bool) -> bool {
        false
    }
}

/// One session on a Postgres database. When the server ends the session (a restart,
/// `pg_terminate_backend`), the statement running fails and the next one outside a
/// transaction opens a new session, so one lost connection fails one node, not the
/// rest of the worker's nodes.
pub struct PostgresConnection {
    client: Client,
    adapter: Arc<PostgresAdapter>,
    in_transaction: bool,
    /// Shared with the cancel handles given out, so they follow a reopened session.
    cancel: Arc<Mutex<CancelToken>>,
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
    /// The client, reopened first if the server ended the session between statements.
    fn live(&mut self) -> Result<&mut Client, AdapterError> {
        if self.client.is_closed() {
            if self.in_transaction {
                return Err(self.lost());
            }
            self.client = self.adapter.open_session()?;
            if let Ok(mut token) = self.cancel.lock() {
                *token = self.client.cancel_token();
            }
        }
        Ok(&mut self.client)
    }

    fn lost(&self) -> AdapterError {
        AdapterError::database(format!(
            "the connection to {} was closed by the server during a transaction",
            self.adapter.describe_endpoint()
        ))
    }

    /// Like [`pg_error`], naming the server when the session itself was lost.
    fn error(&self, e: &postgres::Error) -> AdapterError {
        if e.as_db_error().is_none() && self.client.is_closed() {
            return AdapterError::database(format!(
                "the connection to {} was lost: {}",
                self.adapter.describe_endpoint(),
                describe(e)
            ));
        }
        pg_error(e)
    }

    fn rows(&mut self, sql: &str, params: &[&str]) -> Result<Vec<Vec<Value>>, AdapterError> {
        let values: Vec<Value> = params.iter().map(|p| Value::from(*p)).collect();
        Ok(self.query(sql, &values)?.rows)
    }

    fn database_for(&self, database: Option<&str>) -> String {
        database.map_or_else(|| self.adapter.dbname.clone(), str::to_string)
    }
}

impl Connection for PostgresConnection {
    fn execute(&mut self, sql: &str) -> Result<Option<u64>, AdapterError> {
        let result = self.live()?.simple_query(sql);
        let messages = result.map_err(|e| self.error(&e))?;
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
        let prepared = self.live()?.prepare(sql);
        let statement = prepared.map_err(|e| self.error(&e))?;
        let bound: Vec<Option<TextParam>> = params.iter().map(text_param).collect();
        let refs: Vec<&(dyn ToSql + Sync)> =
            bound.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let result = self.client.query(&statement, &refs);
        let rows = result.map_err(|e| self.error(&e))?;
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

    /// What dbt-postgres reads to link its cache: a view's rewrite rule depends on
    /// every relation the view reads (pg_rewrite → pg_depend → pg_class).
    fn list_dependencies(
        &mut self,
        database: Option<&str>,
        schema: &str,
    ) -> Result<Vec<(RelationRef, RelationRef)>, AdapterError> {
        let database = self.database_for(database);
        let rows = self.rows(
            "select distinct ref_ns.nspname::text, ref.relname::text, view.relname::text \
             from pg_catalog.pg_rewrite rule \
             join pg_catalog.pg_class view on view.oid = rule.ev_class \
             join pg_catalog.pg_namespace view_ns on view_ns.oid = view.relnamespace \
             join pg_catalog.pg_depend dep on dep.objid = rule.oid \
               and dep.classid = 'pg_catalog.pg_rewrite'::regclass \
               and dep.refclassid = 'pg_catalog.pg_class'::regclass \
             join pg_catalog.pg_class ref on ref.oid = dep.refobjid \
             join pg_catalog.pg_namespace ref_ns on ref_ns.oid = ref.relnamespace \
             where view_ns.nspname = $1 and ref.oid <> view.oid \
               and ref.relkind in ('r', 'p', 'v', 'm', 'f')",
            &[schema],
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let text = |i: usize| row.get(i)?.as_str().map(str::to_string);
                let referenced = RelationRef::new(Some(&database), &text(0)?, &text(1)?);
                let dependent = RelationRef::new(Some(&database), schema, &text(2)?);
                Some((referenced, dependent))
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
        let result = self.live()?.batch_execute("begin");
        result.map_err(|e| self.error(&e))?;
        self.in_transaction = true;
        Ok(())
    }

    fn commit(&mut self) -> Result<(), AdapterError> {
        if self.client.is_closed() {
            self.in_transaction = false;
            return Err(self.lost());
        }
        let result = self.client.batch_execute("commit");
        self.in_transaction = false;
        result.map_err(|e| self.error(&e))
    }

    fn rollback(&mut self) -> Result<(), AdapterError> {
        self.in_transaction = false;
        // A closed session has nothing left to roll back: the server did it.
        if self.client.is_closed() {
            return Ok(());
        }
        let result = self.client.batch_execute("rollback");
        result.map_err(|e| self.error(&e))
    }

    fn cancel_handle(&self) -> Box<dyn CancelHandle> {
        Box::new(PostgresCancel {
            token: Arc::clone(&self.cancel),
            tls: self.adapter.tls.clone(),
        })
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
        let started = self.live()?.copy_in(&copy);
        let mut writer = started.map_err(|e| pg_error(&e))?;
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

/// Cancel requests travel like the session did, so they need its TLS connector.
struct PostgresCancel {
    token: Arc<Mutex<CancelToken>>,
    tls: Option<MakeRustlsConnect>,
}

impl CancelHandle for PostgresCancel {
    fn cancel(&self) {
        let Ok(token) = self.token.lock().map(|t| t.clone()) else {
            return;
        };
        // Best effort: if the cancel request cannot be sent, the statement simply runs on.
        let _ = match &self.tls {
            Some(tls) => token.cancel_query(tls.clone()),
            None => token.cancel_query(NoTls),
        };
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
    fn grant_statements_quote_relations_and_grantees() {
        let a = adapter();
        let r = RelationRef::new(Some("warehouse"), "Marts", "dim \"x\"");
        let grantees: Vec<String> = ["Reporter", "\"BI Team\"", "PUBLIC"]
            .iter()
            .map(|g| a.grantee_sql(g))
            .collect();
        assert_eq!(grantees, ["\"reporter\"", "\"BI Team\"", "public"]);
        assert_eq!(
            a.sql_grant(&r, RelationKind::View, "select", &grantees),
            "grant select on \"warehouse\".\"Marts\".\"dim \"\"x\"\"\" to \"reporter\", \"BI Team\", public"
        );
        assert_eq!(
            a.sql_revoke(&r, RelationKind::Table, "SELECT", &grantees[..1]),
            "revoke SELECT on \"warehouse\".\"Marts\".\"dim \"\"x\"\"\" from \"reporter\""
        );
        let (sql, params) = a.sql_show_grants(&r);
        assert!(
            sql.contains("information_schema.role_table_grants"),
            "{sql}"
        );
        assert_eq!(params, vec![Value::from("Marts"), Value::from("dim \"x\"")]);
        let rows = QueryResult {
            columns: vec![
                ColumnInfo::new("grantee", "text"),
                ColumnInfo::new("privilege_type", "text"),
            ],
            rows: vec![vec!["reporter".into(), "SELECT".into()]],
            rows_affected: None,
        };
        assert_eq!(
            a.grants_from_rows(&rows),
            vec![("SELECT".to_string(), "reporter".to_string())]
        );
        assert!(a.supports_grants() && !a.copy_grants(true));
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

    fn settings(value: serde_json::Value) -> serde_json::Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    fn from_profile(value: serde_json::Value) -> Result<PostgresAdapter, String> {
        let map = settings(value);
        let s = Settings {
            target: "prod",
            map: &map,
        };
        PostgresAdapter::from_settings(&s).map_err(|e| e.to_string())
    }

    #[test]
    fn sslmode_is_read_from_the_profile_and_named_in_errors() {
        let base = serde_json::json!({
            "host": "db.example.com", "user": "me", "password": "pw",
            "dbname": "warehouse", "schema": "analytics"
        });
        let default = from_profile(base.clone()).expect("default profile");
        assert_eq!(default.sslmode, SslMode::Prefer);
        assert!(default.tls.is_some());
        assert!(!default.describe_endpoint().contains("sslmode"));

        let mut with_mode = base.clone();
        with_mode["sslmode"] = "require".into();
        let require = from_profile(with_mode).expect("require profile");
        assert_eq!(require.sslmode, SslMode::Require);
        let error = require
            .connection_error("server does not support TLS")
            .to_string();
        assert!(error.contains("target 'prod'"), "{error}");
        assert!(error.contains("db.example.com:5432"), "{error}");
        assert!(error.contains("sslmode 'require'"), "{error}");

        let mut disabled = base.clone();
        disabled["sslmode"] = "disable".into();
        assert!(from_profile(disabled).expect("disable").tls.is_none());

        let mut bad = base;
        bad["sslmode"] = "on".into();
        let err = from_profile(bad).err().unwrap_or_default();
        assert!(
            err.starts_with("invalid profile for target 'prod': sslmode 'on' is not one of"),
            "{err}"
        );
    }

    #[test]
    fn application_name_defaults_to_hangar() {
        let base = serde_json::json!({
            "host": "h", "user": "u", "dbname": "d", "schema": "s"
        });
        assert_eq!(
            from_profile(base.clone())
                .expect("adapter")
                .application_name,
            "hangar"
        );
        let mut named = base;
        named["application_name"] = "nightly".into();
        assert_eq!(
            from_profile(named).expect("adapter").application_name,
            "nightly"
        );
    }
}
