//! Snowflake through `snowflake-connector-rs`. The connector is async; each
//! connection owns one tokio current-thread runtime and blocks on it, so the
//! engine's worker threads see the same synchronous [`Connection`] as elsewhere.
//!
//! Names: dbt-snowflake leaves identifiers unquoted, so Snowflake upper-cases
//! them. hangar always quotes, so a plain name (`[A-Za-z_][A-Za-z0-9_$]*`) is
//! upper-cased before quoting (`my_model` → `"MY_MODEL"`, the relation dbt
//! would create); any other name is quoted exactly as written.

mod cells;
mod config;
mod sql_text;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use snowflake_connector_rs::bind::{BindType, Integer, RawBind, TimestampNtz};
use snowflake_connector_rs::{
    AuthConfig, Client, ClientConfig, DynamicRow, EndpointConfig, ErrorKind, KeyPairConfig,
    PositionalBinds, QueryCanceller, QueryConfig, Session, SessionConfig, Statement,
};

use crate::profile::Settings;
use crate::sql::is_plain_identifier;
use crate::text_values::{ColumnClass, TypedValue};
use crate::{
    Adapter, AdapterError, CancelHandle, Capabilities, ColumnInfo, Connection, ConstraintSupport,
    LogicalType, QueryResult, RelationInfo, RelationKind, RelationRef,
};
use config::{Credentials, SnowflakeConfig};

/// Values per `insert … values` statement of a seed load; Snowflake caps the
/// rows of one `values` list at 16,384 and large requests only slow it down.
const MAX_BINDS_PER_INSERT: usize = 10_000;
const MAX_ROWS_PER_INSERT: usize = 1_000;

/// A dbt-snowflake target. Credentials are kept only to open sessions.
pub struct SnowflakeAdapter {
    config: SnowflakeConfig,
}

impl std::fmt::Debug for SnowflakeAdapter {
    // Hand-written so that no secret can be printed, even in redacted form.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnowflakeAdapter")
            .field("target", &self.config.target)
            .field("endpoint", &self.config.describe_endpoint())
            .field("database", &self.config.database)
            .field("schema", &self.config.schema)
            .finish_non_exhaustive()
    }
}

impl SnowflakeAdapter {
    pub(crate) fn from_settings(
        s: &Settings<'_>,
        project_root: &Path,
    ) -> Result<Self, AdapterError> {
        Ok(Self {
            config: SnowflakeConfig::from_settings(s, project_root)?,
        })
    }

    fn connection_error(&self, cause: &str) -> AdapterError {
        AdapterError::Connection {
            target: self.config.target.clone(),
            message: self
                .config
                .scrub(&format!("{}: {cause}", self.config.describe_endpoint())),
        }
    }

    fn client(&self) -> Result<Client, AdapterError> {
        let c = &self.config;
        let auth = match &c.credentials {
            Credentials::Password(p) => AuthConfig::password(p.expose()),
            Credentials::OAuth(token) => AuthConfig::oauth(token.expose()),
            Credentials::KeyPair { pem, passphrase } => AuthConfig::key_pair(match passphrase {
                Some(phrase) => {
                    KeyPairConfig::from_encrypted_pem(pem.expose(), phrase.expose().as_bytes())
                }
                None => KeyPairConfig::from_pem(pem.expose()),
            }),
        };
        let mut session = SessionConfig::new()
            .with_database(&c.database)
            .with_schema(&c.schema);
        if let Some(role) = &c.role {
            session = session.with_role(role);
        }
        if let Some(warehouse) = &c.warehouse {
            session = session.with_warehouse(warehouse);
        }
        if let Some(tag) = &c.query_tag {
            session = session.with_session_parameter("QUERY_TAG", Value::from(tag.as_str()));
        }
        if c.client_session_keep_alive {
            session =
                session.with_session_parameter("CLIENT_SESSION_KEEP_ALIVE", Value::Bool(true));
        }
        let mut config = ClientConfig::new(&c.user, &c.account, auth)
            .with_session(session)
            .with_query(
                QueryConfig::new()
                    // dbt-snowflake waits for queries indefinitely; a day is the same in practice.
                    .with_query_response_timeout(Duration::from_secs(24 * 3600))
                    .with_query_cancel_request_timeout(Duration::from_secs(10)),
            );
        if let Some(url) = &c.base_url {
            let parsed = url
                .parse()
                .map_err(|e| self.connection_error(&format!("invalid host URL '{url}': {e}")))?;
            config = config.with_endpoint(EndpointConfig::custom_base_url(parsed));
        }
        Client::new(config).map_err(|e| self.connection_error(&describe(&e)))
    }

    /// Logs in within `connect_timeout`, retrying network failures `connect_retries` times.
    fn open_session(&self, runtime: &tokio::runtime::Runtime) -> Result<Session, AdapterError> {
        let client = self.client()?;
        let timeout = self.config.connect_timeout;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let login = runtime
                .block_on(async { tokio::time::timeout(timeout, client.create_session()).await });
            match login {
                Ok(Ok(session)) => return Ok(session),
                Ok(Err(e))
                    if matches!(e.kind(), ErrorKind::Network | ErrorKind::Timeout)
                        && attempt <= self.config.connect_retries => {}
                Ok(Err(e)) => return Err(self.connection_error(&describe(&e))),
                Err(_) => {
                    return Err(self.connection_error(&format!(
                        "no answer within connect_timeout ({} s)",
                        timeout.as_secs()
                    )));
                }
            }
        }
    }

    fn quote_folded(&self, name: &str) -> String {
        self.quote(&fold(name))
    }
}

/// A Snowflake string literal: backslashes are escapes there, so both they and quotes are doubled.
fn string_literal(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

impl Adapter for SnowflakeAdapter {
    fn adapter_type(&self) -> &'static str {
        "snowflake"
    }

    fn target_name(&self) -> &str {
        &self.config.target
    }

    fn connect(&self) -> Result<Box<dyn Connection>, AdapterError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| self.connection_error(&format!("cannot start the client runtime: {e}")))?;
        let session = self.open_session(&runtime)?;
        Ok(Box::new(SnowflakeConnection {
            runtime,
            session,
            database: self.config.database.clone(),
            running: Arc::new(Mutex::new(None)),
        }))
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            transactional_ddl: false,
            create_or_replace_table: true,
            create_or_replace_view: true,
            merge: true,
            comments: true,
            // Snowflake moves an unqualified rename target into the session's schema.
            rename_keeps_schema: false,
            cancel: true,
            drop_cascade: false,
            multi_statement_execute: false,
            max_identifier_length: Some(255),
            quote_seed_columns: false,
            default_incremental_strategy: "merge",
        }
    }

    fn default_database(&self) -> Option<String> {
        Some(self.config.database.clone())
    }

    fn default_schema(&self) -> String {
        self.config.schema.clone()
    }

    fn threads(&self) -> usize {
        self.config.threads
    }

    fn render_relation(&self, r: &RelationRef) -> String {
        let mut parts = Vec::with_capacity(3);
        if let Some(db) = &r.database {
            parts.push(self.quote_folded(db));
        }
        parts.push(self.quote_folded(&r.schema));
        parts.push(self.quote_folded(&r.identifier));
        parts.join(".")
    }

    fn normalize_identifier(&self, name: &str) -> String {
        name.to_uppercase()
    }

    /// dbt-snowflake's names for dbt's cross-database types.
    fn type_name(&self, logical: LogicalType) -> String {
        match logical {
            LogicalType::String => "VARCHAR",
            LogicalType::Int => "INTEGER",
            LogicalType::BigInt => "BIGINT",
            LogicalType::Numeric => "NUMBER(28,6)",
            LogicalType::Float => "FLOAT",
            LogicalType::Timestamp => "TIMESTAMP_NTZ",
            LogicalType::Boolean => "BOOLEAN",
            LogicalType::Date => "DATE",
        }
        .to_string()
    }

    /// Tables are transient, as dbt-snowflake makes them by default. Temporary
    /// tables live in the relation's own schema on Snowflake, so they are qualified.
    fn sql_create_table_as(&self, r: &RelationRef, select_sql: &str, temporary: bool) -> String {
        let kind = if temporary { "temporary" } else { "transient" };
        format!(
            "create or replace {kind} table {} as (\n{}\n)",
            self.render_relation(r),
            select_sql
        )
    }

    fn sql_create_or_replace_table_as(&self, r: &RelationRef, select_sql: &str) -> String {
        self.sql_create_table_as(r, select_sql, false)
    }

    fn sql_rename(&self, from: &RelationRef, to_identifier: &str, kind: RelationKind) -> String {
        format!(
            "alter {} {} rename to {}",
            kind.ddl_keyword(),
            self.render_relation(from),
            self.render_relation(&from.with_identifier(to_identifier))
        )
    }

    fn sql_create_schema(&self, database: Option<&str>, schema: &str) -> String {
        let name = match database {
            Some(db) => format!("{}.{}", self.quote_folded(db), self.quote_folded(schema)),
            None => self.quote_folded(schema),
        };
        format!("create schema if not exists {name}")
    }

    /// dbt-snowflake: only `not null` is checked; keys are kept as metadata.
    fn constraint_support(&self, kind: &str) -> ConstraintSupport {
        match kind {
            "not_null" | "custom" => ConstraintSupport::Enforced,
            "unique" | "primary_key" | "foreign_key" => ConstraintSupport::NotEnforced,
            _ => ConstraintSupport::NotSupported,
        }
    }

    fn supports_grants(&self) -> bool {
        true
    }

    /// dbt-snowflake: a replaced relation keeps its grants only with `copy_grants: true`.
    fn copy_grants(&self, configured: bool) -> bool {
        configured
    }

    fn sql_show_grants(&self, r: &RelationRef) -> (String, Vec<Value>) {
        (
            format!("show grants on {}", self.render_relation(r)),
            Vec::new(),
        )
    }

    /// dbt-snowflake's `standardize_grants_dict`: ownership and grants to
    /// shares or database roles are not managed through `grants:`.
    fn grants_from_rows(&self, result: &QueryResult) -> Vec<(String, String)> {
        let position = |name: &str| {
            result
                .columns
                .iter()
                .position(|c| c.name.eq_ignore_ascii_case(name))
        };
        let (Some(privilege), Some(granted_to), Some(grantee)) = (
            position("privilege"),
            position("granted_to"),
            position("grantee_name"),
        ) else {
            return Vec::new();
        };
        result
            .rows
            .iter()
            .filter_map(|row| {
                let text = |i: usize| row.get(i)?.as_str();
                let (privilege, grantee) = (text(privilege)?, text(grantee)?);
                let to = text(granted_to).unwrap_or_default();
                let managed = !privilege.eq_ignore_ascii_case("OWNERSHIP")
                    && !matches!(to, "SHARE" | "DATABASE_ROLE");
                managed.then(|| (privilege.to_string(), grantee.to_string()))
            })
            .collect()
    }

    /// Snowflake takes one grantee per statement; the statements are run one by one.
    fn sql_grant(
        &self,
        r: &RelationRef,
        kind: RelationKind,
        privilege: &str,
        grantees: &[String],
    ) -> String {
        let relation = self.render_relation(r);
        grantees
            .iter()
            .map(|g| {
                format!(
                    "grant {privilege} on {} {relation} to role {g}",
                    kind.ddl_keyword()
                )
            })
            .collect::<Vec<_>>()
            .join(";\n")
    }

    fn sql_revoke(
        &self,
        r: &RelationRef,
        kind: RelationKind,
        privilege: &str,
        grantees: &[String],
    ) -> String {
        let relation = self.render_relation(r);
        grantees
            .iter()
            .map(|g| {
                format!(
                    "revoke {privilege} on {} {relation} from role {g}",
                    kind.ddl_keyword()
                )
            })
            .collect::<Vec<_>>()
            .join(";\n")
    }

    /// Column names come from YAML, where dbt-snowflake leaves them unquoted.
    fn sql_comment(
        &self,
        r: &RelationRef,
        kind: RelationKind,
        column: Option<&str>,
        text: &str,
    ) -> Option<String> {
        let literal = string_literal(text);
        Some(match column {
            // dbt-snowflake's form; works for views too.
            Some(col) => format!(
                "alter {} {} alter column {} comment {literal}",
                kind.ddl_keyword(),
                self.render_relation(r),
                self.quote_folded(col)
            ),
            None => format!(
                "comment on {} {} is {literal}",
                kind.ddl_keyword(),
                self.render_relation(r)
            ),
        })
    }
}

/// One Snowflake session with its own runtime.
pub struct SnowflakeConnection {
    runtime: tokio::runtime::Runtime,
    session: Session,
    database: String,
    /// The canceller of the statement running now, for [`CancelHandle`]s.
    running: Arc<Mutex<Option<QueryCanceller>>>,
}

impl SnowflakeConnection {
    /// Runs one statement and collects its result.
    fn run(&mut self, statement: Statement<PositionalBinds>) -> Result<QueryResult, AdapterError> {
        let handle = self
            .session
            .query_handle(statement)
            .map_err(|e| sf_error(&e))?;
        // Registered before submitting: a cancel that comes first stops it unsent.
        *lock(&self.running) = Some(handle.canceller());
        let outcome = self.runtime.block_on(async {
            let cursor = handle.execute().await?;
            let columns = cells::columns(cursor.schema());
            let rows: Vec<DynamicRow> = cursor.collect().await?;
            Ok::<_, snowflake_connector_rs::Error>((columns, rows))
        });
        *lock(&self.running) = None;
        let (columns, rows) = outcome.map_err(|e| sf_error(&e))?;
        let rows = rows
            .into_iter()
            .map(|row| {
                let (_, values) = row.into_parts();
                values.into_vec().into_iter().map(cells::to_json).collect()
            })
            .collect();
        let mut result = QueryResult {
            columns,
            rows,
            rows_affected: None,
        };
        result.rows_affected = cells::rows_affected(&result);
        Ok(result)
    }

    fn run_text(&mut self, sql: &str) -> Result<QueryResult, AdapterError> {
        self.run(Statement::new_positional(sql.to_string()))
    }

    fn rows(&mut self, sql: String, params: &[&str]) -> Result<Vec<Vec<Value>>, AdapterError> {
        let mut statement = Statement::new_positional(sql);
        for p in params {
            statement = statement.bind(p.to_string());
        }
        Ok(self.run(statement)?.rows)
    }

    /// `"DB".information_schema` of `database`, or of the target's database.
    fn information_schema(&self, database: Option<&str>) -> String {
        let db = database.unwrap_or(&self.database);
        format!("{}.information_schema", crate::quote_with(&fold(db), '"'))
    }
}

/// A part of a relation name as the warehouse stores it (see the module docs).
fn fold(name: &str) -> String {
    if is_plain_identifier(name) {
        name.to_ascii_uppercase()
    } else {
        name.to_string()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means a panic elsewhere; the slot is still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A JSON parameter as a Snowflake bind.
fn bind_json(statement: Statement<PositionalBinds>, value: &Value) -> Statement<PositionalBinds> {
    match value {
        Value::Null => statement.bind(RawBind::null(BindType::Text)),
        Value::Bool(b) => statement.bind(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => statement.bind(i),
            (None, Some(u), _) => statement.bind(RawBind::new(BindType::Fixed, u.to_string())),
            (None, None, Some(f)) => statement.bind(f),
            _ => statement.bind(n.to_string()),
        },
        Value::String(s) => statement.bind(s.clone()),
        other => statement.bind(other.to_string()),
    }
}

/// One parsed seed cell as a bind. Decimals go as text, which Snowflake casts
/// to the column's NUMBER exactly.
fn bind_typed(
    statement: Statement<PositionalBinds>,
    value: TypedValue,
) -> Result<Statement<PositionalBinds>, String> {
    Ok(match value {
        TypedValue::Null => statement.bind(RawBind::null(BindType::Text)),
        TypedValue::Int(i) => statement
            .bind(Integer::try_from(i).map_err(|_| format!("{i} is too large for a NUMBER"))?),
        TypedValue::Float(f) => statement.bind(f),
        TypedValue::Decimal(text) | TypedValue::Text(text) => statement.bind(text),
        TypedValue::Bool(b) => statement.bind(b),
        TypedValue::Date(d) => statement.bind(d),
        TypedValue::Timestamp(t) => statement.bind(
            TimestampNtz::try_from(t).map_err(|_| format!("'{t}' is not a valid timestamp"))?,
        ),
    })
}

/// Snowflake's type names, on top of the ones every adapter shares.
fn column_class(data_type: &str) -> ColumnClass {
    let upper = data_type.trim().to_ascii_uppercase();
    if upper.starts_with("TIMESTAMP_NTZ") || upper.starts_with("TIMESTAMPNTZ") {
        return ColumnClass::Timestamp;
    }
    if matches!(upper.as_str(), "NUMBER(38,0)" | "NUMBER") {
        return ColumnClass::Integer;
    }
    ColumnClass::of(&upper)
}

impl Connection for SnowflakeConnection {
    /// Several statements are sent one by one, as dbt-snowflake does; the
    /// rows affected are the last statement's.
    fn execute(&mut self, sql: &str) -> Result<Option<u64>, AdapterError> {
        let mut affected = None;
        for statement in sql_text::split_statements(sql) {
            affected = self.run_text(statement)?.rows_affected;
        }
        Ok(affected)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<QueryResult, AdapterError> {
        if crate::sql::is_blank(sql) {
            return Ok(QueryResult::default());
        }
        if params.is_empty() {
            // Like dbt-snowflake, a script runs in order and gives its last result.
            let statements = sql_text::split_statements(sql);
            let Some((last, before)) = statements.split_last() else {
                return Ok(QueryResult::default());
            };
            for statement in before {
                self.run_text(statement)?;
            }
            return self.run_text(last);
        }
        let (text, order) =
            sql_text::positional_binds(sql, params.len()).map_err(AdapterError::database)?;
        let mut statement = Statement::new_positional(text);
        for index in order {
            statement = bind_json(statement, &params[index]);
        }
        self.run(statement)
    }

    fn list_relations(
        &mut self,
        database: Option<&str>,
        schema: &str,
    ) -> Result<Vec<RelationInfo>, AdapterError> {
        // Views are in `tables` on Snowflake but only in `views` on the
        // emulator; the union (a set) lists each relation once on both.
        let info = self.information_schema(database);
        let sql = format!(
            "select table_name, table_type from {info}.tables where table_schema = ? \
             union select table_name, 'VIEW' from {info}.views where table_schema = ? \
             order by 1"
        );
        let schema_name = fold(schema);
        let rows = self.rows(sql, &[&schema_name, &schema_name])?;
        let database = database.map_or_else(|| self.database.clone(), str::to_string);
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let name = row.first()?.as_str()?;
                let kind = match row.get(1)?.as_str()? {
                    "VIEW" => RelationKind::View,
                    "MATERIALIZED VIEW" => RelationKind::MaterializedView,
                    "EXTERNAL TABLE" => RelationKind::External,
                    "BASE TABLE" | "TEMPORARY TABLE" | "LOCAL TEMPORARY" | "TRANSIENT" => {
                        RelationKind::Table
                    }
                    _ => RelationKind::Unknown,
                };
                Some(RelationInfo {
                    relation: RelationRef::new(Some(&database), schema, name),
                    kind,
                })
            })
            .collect())
    }

    fn list_schemas(&mut self, database: Option<&str>) -> Result<Vec<String>, AdapterError> {
        let sql = format!(
            "select schema_name from {}.schemata order by schema_name",
            self.information_schema(database)
        );
        Ok(self
            .rows(sql, &[])?
            .into_iter()
            .filter_map(|row| row.first()?.as_str().map(str::to_string))
            .collect())
    }

    /// Types spelled as Snowflake's DDL takes them (`VARCHAR(16777216)`, `NUMBER(38,0)`).
    fn get_columns(&mut self, r: &RelationRef) -> Result<Vec<ColumnInfo>, AdapterError> {
        let sql = format!(
            "select column_name, data_type, character_maximum_length, numeric_precision, numeric_scale \
             from {}.columns where table_schema = ? and table_name = ? order by ordinal_position",
            self.information_schema(r.database.as_deref())
        );
        let rows = self.rows(sql, &[&fold(&r.schema), &fold(&r.identifier)])?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let number = |i: usize| {
                    row.get(i)
                        .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
                };
                let name = row.first()?.as_str()?;
                let data_type = match (row.get(1)?.as_str()?, number(2), number(3), number(4)) {
                    ("TEXT", Some(length), _, _) => format!("VARCHAR({length})"),
                    ("NUMBER", _, Some(p), s) => format!("NUMBER({p},{})", s.unwrap_or(0)),
                    (other, _, _, _) => other.to_string(),
                };
                Some(ColumnInfo::new(name, &data_type))
            })
            .collect())
    }

    fn begin(&mut self) -> Result<(), AdapterError> {
        self.run_text("begin").map(|_| ())
    }

    fn commit(&mut self) -> Result<(), AdapterError> {
        self.run_text("commit").map(|_| ())
    }

    fn rollback(&mut self) -> Result<(), AdapterError> {
        self.run_text("rollback").map(|_| ())
    }

    fn cancel_handle(&self) -> Box<dyn CancelHandle> {
        Box::new(SnowflakeCancel(Arc::clone(&self.running)))
    }

    /// Bound `insert … values (?, …), …` batches; the columns are given in
    /// table order, so the insert names none (seed columns may have been folded).
    fn bulk_load(
        &mut self,
        r: &RelationRef,
        columns: &[ColumnInfo],
        rows: &mut dyn Iterator<Item = Vec<Option<String>>>,
    ) -> Result<u64, AdapterError> {
        let relation = {
            let db = r.database.as_deref().unwrap_or(&self.database);
            [db, &r.schema, &r.identifier]
                .iter()
                .map(|part| crate::quote_with(&fold(part), '"'))
                .collect::<Vec<_>>()
                .join(".")
        };
        if columns.is_empty() {
            return Ok(0);
        }
        let classes: Vec<ColumnClass> =
            columns.iter().map(|c| column_class(&c.data_type)).collect();
        let per_insert = (MAX_BINDS_PER_INSERT / columns.len()).clamp(1, MAX_ROWS_PER_INSERT);
        let row_sql = format!("({})", vec!["?"; columns.len()].join(", "));
        let mut loaded = 0u64;
        let mut rows = rows.enumerate().peekable();
        while rows.peek().is_some() {
            let mut values = Vec::new();
            let mut count = 0;
            for (index, row) in rows.by_ref().take(per_insert) {
                let row_number = index as u64 + 1;
                let bad_value = |column: &str, message: String| AdapterError::BadValue {
                    relation: relation.clone(),
                    row: row_number,
                    column: column.to_string(),
                    message,
                };
                if row.len() != columns.len() {
                    let message = format!("expected {} values, got {}", columns.len(), row.len());
                    return Err(bad_value("", message));
                }
                for ((cell, class), column) in row.iter().zip(&classes).zip(columns) {
                    let value = class
                        .parse(cell.as_deref())
                        .map_err(|m| bad_value(&column.name, m))?;
                    values.push((value, column.name.as_str(), row_number));
                }
                count += 1;
            }
            let sql = format!(
                "insert into {relation} values {}",
                vec![row_sql.as_str(); count].join(", ")
            );
            let mut statement = Statement::new_positional(sql);
            for (value, column, row) in values {
                statement =
                    bind_typed(statement, value).map_err(|message| AdapterError::BadValue {
                        relation: relation.clone(),
                        row,
                        column: column.to_string(),
                        message,
                    })?;
            }
            self.run(statement)?;
            loaded += count as u64;
        }
        Ok(loaded)
    }
}

struct SnowflakeCancel(Arc<Mutex<Option<QueryCanceller>>>);

impl CancelHandle for SnowflakeCancel {
    fn cancel(&self) {
        let Some(canceller) = lock(&self.0).clone() else {
            return;
        };
        // The connection's runtime is busy running the statement; the abort
        // request gets a small runtime of its own. Best effort, as for Postgres.
        if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            let _ = runtime.block_on(canceller.cancel());
        }
    }
}

/// The connector's message with its causes (its own text omits them).
fn describe(e: &snowflake_connector_rs::Error) -> String {
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

fn sf_error(e: &snowflake_connector_rs::Error) -> AdapterError {
    if e.is_cancelled() {
        return AdapterError::Cancelled;
    }
    let message = match (e.snowflake_code(), e.snowflake_message()) {
        // Snowflake's message often starts with its code already (`002003 (42S02): …`).
        (Some(code), Some(message)) if !message.starts_with(code) => format!("{code}: {message}"),
        (_, Some(message)) => message.to_string(),
        _ => describe(e),
    };
    let message = match e.query_id() {
        Some(id) => format!("{message} (query id {id})"),
        None => message,
    };
    AdapterError::Database {
        message,
        sql_state: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn adapter(extra: Value) -> SnowflakeAdapter {
        let mut map =
            json!({"account": "xy12345", "user": "loader", "password": "hunter2-very-secret",
                             "database": "analytics", "schema": "dbt_me", "threads": 2})
            .as_object()
            .cloned()
            .unwrap_or_default();
        map.extend(extra.as_object().cloned().unwrap_or_default());
        let s = Settings {
            target: "prod",
            map: &map,
        };
        match SnowflakeAdapter::from_settings(&s, Path::new(".")) {
            Ok(a) => a,
            Err(e) => panic!("profile should be valid: {e}"),
        }
    }

    #[test]
    fn sql_builders_fold_plain_names_and_quote_the_rest() {
        let a = adapter(json!({}));
        let r = RelationRef::new(Some("analytics"), "dbt_me", "dim_members");
        let odd = RelationRef::new(Some("analytics"), "dbt_me", "My \"odd\" model");
        let builders = [
            a.sql_create_table_as(&r, "select 1 as id", false),
            a.sql_create_table_as(&r, "select 1 as id", true),
            a.sql_create_or_replace_table_as(&odd, "select 1 as id"),
            a.sql_create_or_replace_permanent_table_as(&r, "select 1 as id"),
            a.sql_create_view_as(&r, "select 1 as id"),
            a.sql_create_or_replace_view(&r, "select 1 as id"),
            a.sql_rename(&r, "dim_members__hangar_tmp", RelationKind::Table),
            a.sql_rename(&odd, "final", RelationKind::View),
            a.sql_drop(&r, RelationKind::View),
            a.sql_create_schema(Some("analytics"), "dbt_me_staging"),
            a.sql_comment(&r, RelationKind::Table, None, "it's a \\ table")
                .unwrap_or_default(),
            a.sql_comment(&r, RelationKind::View, Some("member_id"), "the id")
                .unwrap_or_default(),
        ];
        insta::assert_snapshot!(builders.join(";\n\n"));
    }

    #[test]
    fn names_types_and_capabilities_follow_dbt_snowflake() {
        let a = adapter(json!({}));
        assert_eq!(a.normalize_identifier("MyModel"), "MYMODEL");
        assert_eq!(a.quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(a.type_name(LogicalType::Timestamp), "TIMESTAMP_NTZ");
        assert_eq!(a.type_name(LogicalType::String), "VARCHAR");
        assert_eq!(a.threads(), 2);
        assert_eq!(a.default_database().as_deref(), Some("analytics"));
        let caps = a.capabilities();
        assert!(!caps.transactional_ddl && !caps.multi_statement_execute);
        assert!(caps.create_or_replace_table && caps.merge && caps.cancel);
        assert!(!caps.quote_seed_columns);
        assert_eq!(caps.default_incremental_strategy, "merge");
        assert!(
            is_plain_identifier("_a$1")
                && !is_plain_identifier("1a")
                && !is_plain_identifier("a b")
        );
    }

    #[test]
    fn grants_follow_dbt_snowflake() {
        let a = adapter(json!({}));
        let r = RelationRef::new(Some("analytics"), "dbt_me", "dim_members");
        assert!(a.supports_grants() && !a.copy_grants(false) && a.copy_grants(true));
        assert_eq!(
            a.sql_show_grants(&r).0,
            "show grants on \"ANALYTICS\".\"DBT_ME\".\"DIM_MEMBERS\""
        );
        let grantees = [a.grantee_sql("reporter"), a.grantee_sql("\"Mixed\"")];
        assert_eq!(
            a.sql_grant(&r, RelationKind::View, "select", &grantees),
            "grant select on view \"ANALYTICS\".\"DBT_ME\".\"DIM_MEMBERS\" to role \"REPORTER\";\n\
             grant select on view \"ANALYTICS\".\"DBT_ME\".\"DIM_MEMBERS\" to role \"Mixed\""
        );
        let shown = QueryResult {
            columns: [
                "created_on",
                "privilege",
                "granted_on",
                "name",
                "granted_to",
                "grantee_name",
            ]
            .iter()
            .map(|n| ColumnInfo::new(n, "VARCHAR"))
            .collect(),
            rows: vec![
                vec![
                    json!("t"),
                    json!("OWNERSHIP"),
                    json!("TABLE"),
                    json!("X"),
                    json!("ROLE"),
                    json!("TRANSFORMER"),
                ],
                vec![
                    json!("t"),
                    json!("SELECT"),
                    json!("TABLE"),
                    json!("X"),
                    json!("ROLE"),
                    json!("REPORTER"),
                ],
                vec![
                    json!("t"),
                    json!("SELECT"),
                    json!("TABLE"),
                    json!("X"),
                    json!("SHARE"),
                    json!("PARTNER"),
                ],
            ],
            rows_affected: None,
        };
        assert_eq!(
            a.grants_from_rows(&shown),
            vec![("SELECT".to_string(), "REPORTER".to_string())]
        );
        assert_eq!(
            a.constraint_support("not_null"),
            ConstraintSupport::Enforced
        );
        assert_eq!(
            a.constraint_support("primary_key"),
            ConstraintSupport::NotEnforced
        );
        assert_eq!(
            a.constraint_support("check"),
            ConstraintSupport::NotSupported
        );
    }

    #[test]
    fn seed_columns_are_classified_with_snowflake_names() {
        assert_eq!(column_class("TIMESTAMP_NTZ"), ColumnClass::Timestamp);
        assert_eq!(column_class("NUMBER(38,0)"), ColumnClass::Integer);
        assert_eq!(column_class("NUMBER(10,2)"), ColumnClass::Decimal);
        assert_eq!(column_class("VARCHAR(16777216)"), ColumnClass::Text);
        assert_eq!(column_class("FLOAT"), ColumnClass::Float);
    }

    #[test]
    fn debug_output_hides_every_secret() {
        let with_key = adapter(
            json!({"password": null, "private_key": "-----BEGIN ENCRYPTED PRIVATE KEY-----\nKEYMATERIAL\n-----END ENCRYPTED PRIVATE KEY-----", "private_key_passphrase": "sesame-42"}),
        );
        let with_token = adapter(json!({"authenticator": "oauth", "token": "tok-secret-9"}));
        let text = format!("{:?} {with_key:?} {with_token:?}", adapter(json!({})));
        for secret in [
            "hunter2-very-secret",
            "KEYMATERIAL",
            "sesame-42",
            "tok-secret-9",
        ] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert!(text.contains("xy12345"), "{text}");
    }

    #[test]
    fn an_unreachable_host_names_target_and_host_but_not_the_password() {
        // Port 1 on the loopback refuses at once; nothing leaves the machine.
        let a = adapter(
            json!({"host": "127.0.0.1", "port": 1, "protocol": "http", "connect_timeout": 5, "connect_retries": 0}),
        );
        let started = std::time::Instant::now();
        let err = match a.connect() {
            Ok(_) => panic!("nothing listens on port 1"),
            Err(e) => e.to_string(),
        };
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "took {:?}",
            started.elapsed()
        );
        assert!(
            err.starts_with("could not connect to target 'prod'"),
            "{err}"
        );
        assert!(
            err.contains("http://127.0.0.1:1") && err.contains("xy12345"),
            "{err}"
        );
        assert!(
            !err.contains("hunter2-very-secret"),
            "password leaked: {err}"
        );
    }
}
