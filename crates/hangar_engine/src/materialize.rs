//! Materializations with dbt's semantics, built from the adapter's SQL
//! builders. Every relation is built aside under a temporary name and swapped
//! in, so a failure leaves the previous relation and its rows intact.

use hangar_adapter::{
    Adapter, AdapterError, ColumnInfo, Connection, RelationCache, RelationKind, RelationRef,
};

use crate::seed_file::{SeedTable, SeedType};

/// Suffixes of relations that exist only while a node is being built.
pub const TMP_SUFFIX: &str = "__hangar_tmp";
pub const BACKUP_SUFFIX: &str = "__hangar_backup";

/// What a materialization did, for results and logs.
#[derive(Debug, Clone, Default)]
pub struct Materialized {
    pub rows_affected: Option<u64>,
    /// dbt-style adapter message, e.g. `CREATE TABLE (1200)` or `OK`.
    pub message: String,
}

/// Everything a materialization needs about one node.
pub struct Target<'a> {
    pub adapter: &'a dyn Adapter,
    pub cache: &'a RelationCache,
    pub relation: RelationRef,
    /// An enforced contract: tables are created from its columns and constraints.
    pub contract: Option<&'a crate::contracts::Contract>,
    /// The `transient` config: `Some(false)` asks for a permanent table where
    /// tables are transient by default (Snowflake).
    pub transient: Option<bool>,
}

impl Target<'_> {
    fn with_suffix(&self, suffix: &str) -> RelationRef {
        RelationRef {
            database: self.relation.database.clone(),
            schema: self.relation.schema.clone(),
            identifier: format!("{}{suffix}", self.relation.identifier),
        }
    }

    pub fn existing(&self) -> Option<RelationKind> {
        self.cache.get(&self.relation).map(|i| i.kind)
    }
}

/// Drop `relation` if the cache knows it, and forget it.
fn drop_if_exists(
    t: &Target<'_>,
    conn: &mut dyn Connection,
    relation: &RelationRef,
) -> Result<(), AdapterError> {
    if let Some(kind) = t.cache.get(relation).map(|i| i.kind) {
        t.cache.between_listings(|| {
            conn.execute(&t.adapter.sql_drop(relation, kind))?;
            t.cache.remove(relation);
            Ok::<_, AdapterError>(())
        })?;
    }
    Ok(())
}

/// Swap the freshly built `tmp` relation in place of the target, atomically
/// where the warehouse has transactional DDL.
fn swap_in(
    t: &Target<'_>,
    conn: &mut dyn Connection,
    tmp: &RelationRef,
    tmp_kind: RelationKind,
) -> Result<(), AdapterError> {
    let backup = t.with_suffix(BACKUP_SUFFIX);
    drop_if_exists(t, conn, &backup)?;
    // Where dropping cascades (Postgres), replacing a parent earlier in the run
    // also dropped the views built on it; the cache forgets them then, as it
    // knows which views read which relations, and drops never overlap a
    // schema's first listing. Should an entry still be stale (a view dropped
    // by something outside this run), forget it and retry rather than fail.
    let existing = t.existing();
    match rename_into_place(t, conn, tmp, tmp_kind, existing, &backup) {
        Err(e) if existing.is_some() && e.sql_state() == Some(UNDEFINED_TABLE) => {
            t.cache.remove(&t.relation);
            rename_into_place(t, conn, tmp, tmp_kind, None, &backup)?;
        }
        other => other?,
    }
    t.cache.remove(tmp);
    if let Some(kind) = existing.filter(|_| t.cache.get(&t.relation).is_some()) {
        t.cache.remove(&t.relation);
        t.cache.add(backup.clone(), kind);
        drop_if_exists(t, conn, &backup)?;
    }
    t.cache.add(t.relation.clone(), tmp_kind);
    Ok(())
}

/// SQLSTATE of "relation does not exist".
const UNDEFINED_TABLE: &str = "42P01";

/// Move the existing relation (if any) to `backup` and `tmp` to the target
/// name, in one transaction where the warehouse has transactional DDL.
fn rename_into_place(
    t: &Target<'_>,
    conn: &mut dyn Connection,
    tmp: &RelationRef,
    tmp_kind: RelationKind,
    existing: Option<RelationKind>,
    backup: &RelationRef,
) -> Result<(), AdapterError> {
    let transactional = t.adapter.capabilities().transactional_ddl;
    if transactional {
        conn.begin()?;
    }
    let result = (|| {
        if let Some(kind) = existing {
            conn.execute(&t.adapter.sql_rename(&t.relation, &backup.identifier, kind))?;
        }
        conn.execute(&t.adapter.sql_rename(tmp, &t.relation.identifier, tmp_kind))?;
        Ok(())
    })();
    match result {
        Ok(()) if transactional => conn.commit(),
        Ok(()) => Ok(()),
        Err(e) => {
            if transactional {
                let _ = conn.rollback();
            }
            Err(e)
        }
    }
}

fn build_table_aside(
    t: &Target<'_>,
    conn: &mut dyn Connection,
    sql: &str,
) -> Result<(RelationRef, Option<u64>), AdapterError> {
    let tmp = t.with_suffix(TMP_SUFFIX);
    drop_if_exists(t, conn, &tmp)?;
    let created = match t.contract {
        None if t.transient == Some(false) => conn.execute(
            &t.adapter
                .sql_create_or_replace_permanent_table_as(&tmp, sql),
        ),
        None => conn.execute(&t.adapter.sql_create_table_as(&tmp, sql, false)),
        Some(contract) => {
            let ddl = crate::contracts::table_ddl(t.adapter, &tmp, contract, sql);
            conn.execute(&ddl.create).and_then(|_| {
                t.cache.add(tmp.clone(), RelationKind::Table);
                conn.execute(&ddl.insert)
            })
        }
    };
    t.cache.add(tmp.clone(), RelationKind::Table);
    if let Err(e) = created {
        let _ = drop_if_exists(t, conn, &tmp);
        return Err(e);
    }
    let rows = count_rows(t, conn, &tmp)
        .ok()
        .flatten()
        .or(created.ok().flatten());
    Ok((tmp, rows))
}

fn count_rows(
    t: &Target<'_>,
    conn: &mut dyn Connection,
    relation: &RelationRef,
) -> Result<Option<u64>, AdapterError> {
    let sql = format!(
        "select count(*) from {}",
        t.adapter.render_relation(relation)
    );
    let result = conn.query(&sql, &[])?;
    Ok(result.rows.first().and_then(|r| r.first()).and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    }))
}

pub fn table(
    t: &Target<'_>,
    conn: &mut dyn Connection,
    sql: &str,
) -> Result<Materialized, AdapterError> {
    // Where the warehouse replaces a table in one atomic statement (Snowflake,
    // DuckDB), that is the build: a failure leaves the previous table as it
    // was. A view in the way, or a contract's explicit DDL, goes aside instead.
    let replace_in_place = t.adapter.capabilities().create_or_replace_table
        && t.contract.is_none()
        && matches!(t.existing(), None | Some(RelationKind::Table));
    let rows = if replace_in_place {
        let ddl = if t.transient == Some(false) {
            t.adapter
                .sql_create_or_replace_permanent_table_as(&t.relation, sql)
        } else {
            t.adapter.sql_create_or_replace_table_as(&t.relation, sql)
        };
        let created = conn.execute(&ddl)?;
        t.cache.add(t.relation.clone(), RelationKind::Table);
        count_rows(t, conn, &t.relation).ok().flatten().or(created)
    } else {
        let (tmp, rows) = build_table_aside(t, conn, sql)?;
        swap_in(t, conn, &tmp, RelationKind::Table)?;
        rows
    };
    Ok(Materialized {
        rows_affected: rows,
        message: format!("CREATE TABLE ({})", rows.unwrap_or(0)),
    })
}

pub fn view(
    t: &Target<'_>,
    conn: &mut dyn Connection,
    sql: &str,
) -> Result<Materialized, AdapterError> {
    let caps = t.adapter.capabilities();
    let existing = t.existing();
    if caps.create_or_replace_view && matches!(existing, None | Some(RelationKind::View)) {
        conn.execute(&t.adapter.sql_create_or_replace_view(&t.relation, sql))?;
        t.cache.add(t.relation.clone(), RelationKind::View);
    } else {
        let tmp = t.with_suffix(TMP_SUFFIX);
        drop_if_exists(t, conn, &tmp)?;
        conn.execute(&t.adapter.sql_create_view_as(&tmp, sql))?;
        t.cache.add(tmp.clone(), RelationKind::View);
        swap_in(t, conn, &tmp, RelationKind::View)?;
    }
    Ok(Materialized {
        rows_affected: None,
        message: "CREATE VIEW".into(),
    })
}

/// Incremental settings read from the node's config.
#[derive(Debug, Clone)]
pub struct IncrementalConfig {
    pub strategy: String,
    pub unique_key: Vec<String>,
    pub on_schema_change: String,
    pub predicates: Vec<String>,
}

/// The incremental path: `sql` was rendered with `is_incremental()` true.
pub fn incremental(
    t: &Target<'_>,
    conn: &mut dyn Connection,
    sql: &str,
    cfg: &IncrementalConfig,
) -> Result<Materialized, AdapterError> {
    let (tmp, _) = build_table_aside(t, conn, sql)?;
    let outcome = (|| {
        let columns = sync_schema(t, conn, &tmp, &cfg.on_schema_change)?;
        apply_strategy(t, conn, &tmp, &columns, cfg)
    })();
    let _ = drop_if_exists(t, conn, &tmp);
    outcome
}

/// Compare the new rows' columns with the target's and act on
/// `on_schema_change`; returns the columns to insert.
fn sync_schema(
    t: &Target<'_>,
    conn: &mut dyn Connection,
    tmp: &RelationRef,
    on_schema_change: &str,
) -> Result<Vec<ColumnInfo>, AdapterError> {
    let source = conn.get_columns(tmp)?;
    let target = conn.get_columns(&t.relation)?;
    let same = |a: &ColumnInfo, b: &ColumnInfo| a.name.eq_ignore_ascii_case(&b.name);
    let added: Vec<&ColumnInfo> = source
        .iter()
        .filter(|s| !target.iter().any(|d| same(s, d)))
        .collect();
    let removed: Vec<&ColumnInfo> = target
        .iter()
        .filter(|d| !source.iter().any(|s| same(s, d)))
        .collect();
    let target_ref = t.adapter.render_relation(&t.relation);
    match on_schema_change {
        _ if added.is_empty() && removed.is_empty() => {}
        "fail" => {
            return Err(AdapterError::Database {
                message: format!(
                    "The source and target schemas on this incremental model are out of sync. \
                     Added: [{}], removed: [{}]. Set on_schema_change to append_new_columns or \
                     sync_all_columns, or run with --full-refresh.",
                    names(&added),
                    names(&removed)
                ),
                sql_state: None,
            });
        }
        "append_new_columns" | "sync_all_columns" => {
            for col in &added {
                conn.execute(&format!(
                    "alter table {target_ref} add column {} {}",
                    t.adapter.quote(&col.name),
                    col.data_type
                ))?;
            }
            if on_schema_change == "sync_all_columns" {
                for col in &removed {
                    conn.execute(&format!(
                        "alter table {target_ref} drop column {}",
                        t.adapter.quote(&col.name)
                    ))?;
                }
            }
        }
        _ => {}
    }
    let target_now = conn.get_columns(&t.relation)?;
    Ok(source
        .into_iter()
        .filter(|s| target_now.iter().any(|d| same(s, d)))
        .collect())
}

fn names(cols: &[&ColumnInfo]) -> String {
    cols.iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A column named in config (`unique_key`, `check_cols`, `updated_at`): dbt
/// pastes these into SQL as written, so a plain name folds the way the
/// warehouse folds unquoted names (upper case on Snowflake). It is quoted
/// after folding; anything else (already quoted, an expression) is kept.
pub(crate) fn config_column(a: &dyn Adapter, name: &str) -> String {
    if hangar_adapter::is_plain_identifier(name) {
        a.quote(&a.normalize_identifier(name))
    } else {
        name.to_string()
    }
}

fn apply_strategy(
    t: &Target<'_>,
    conn: &mut dyn Connection,
    tmp: &RelationRef,
    columns: &[ColumnInfo],
    cfg: &IncrementalConfig,
) -> Result<Materialized, AdapterError> {
    let a = t.adapter;
    let dest = a.render_relation(&t.relation);
    let src = a.render_relation(tmp);
    let col_list = columns
        .iter()
        .map(|c| a.quote(&c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let insert = format!("insert into {dest} ({col_list}) select {col_list} from {src}");
    let predicates = |alias: &str| -> String {
        cfg.predicates
            .iter()
            .map(|p| format!(" and ({})", p.replace("DBT_INTERNAL_DEST", alias)))
            .collect()
    };
    let strategy = if cfg.unique_key.is_empty() && cfg.strategy != "append" {
        // dbt: merge and delete+insert without a unique key just insert.
        "append"
    } else {
        cfg.strategy.as_str()
    };
    let rows = match strategy {
        "append" => conn.execute(&insert)?,
        "delete+insert" => {
            let keys = cfg
                .unique_key
                .iter()
                .map(|k| config_column(a, k))
                .collect::<Vec<_>>();
            let matches = keys
                .iter()
                .map(|k| format!("{dest}.{k} = DBT_INTERNAL_SOURCE.{k}"))
                .collect::<Vec<_>>()
                .join(" and ");
            let delete = format!(
                "delete from {dest} where exists (select 1 from {src} as DBT_INTERNAL_SOURCE where {matches}){}",
                predicates(&dest)
            );
            in_transaction(t, conn, |conn| {
                conn.execute(&delete)?;
                conn.execute(&insert)
            })?
        }
        "merge" => {
            if !a.capabilities().merge {
                return Err(AdapterError::Database {
                    message: format!(
                        "incremental_strategy 'merge' is not supported on {}; use delete+insert",
                        a.adapter_type()
                    ),
                    sql_state: None,
                });
            }
            conn.execute(&merge_sql(t, tmp, columns, cfg))?
        }
        other => {
            return Err(AdapterError::Database {
                message: format!(
                    "unknown incremental_strategy '{other}' (expected append, merge or delete+insert)"
                ),
                sql_state: None,
            });
        }
    };
    Ok(Materialized {
        rows_affected: rows,
        message: format!("INSERT {}", rows.unwrap_or(0)),
    })
}

fn merge_sql(
    t: &Target<'_>,
    tmp: &RelationRef,
    columns: &[ColumnInfo],
    cfg: &IncrementalConfig,
) -> String {
    let a = t.adapter;
    let q = |c: &str| a.quote(c);
    let on = cfg
        .unique_key
        .iter()
        .map(|k| config_column(a, k))
        .map(|k| format!("DBT_INTERNAL_SOURCE.{k} = DBT_INTERNAL_DEST.{k}"))
        .chain(cfg.predicates.iter().map(|p| format!("({p})")))
        .collect::<Vec<_>>()
        .join(" and ");
    let set = columns
        .iter()
        .map(|c| format!("{} = DBT_INTERNAL_SOURCE.{}", q(&c.name), q(&c.name)))
        .collect::<Vec<_>>()
        .join(", ");
    let cols = columns.iter().map(|c| q(&c.name)).collect::<Vec<_>>();
    let values = cols
        .iter()
        .map(|c| format!("DBT_INTERNAL_SOURCE.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "merge into {} as DBT_INTERNAL_DEST using {} as DBT_INTERNAL_SOURCE on {on} \
         when matched then update set {set} \
         when not matched then insert ({}) values ({values})",
        a.render_relation(&t.relation),
        a.render_relation(tmp),
        cols.join(", ")
    )
}

fn in_transaction<T>(
    t: &Target<'_>,
    conn: &mut dyn Connection,
    body: impl FnOnce(&mut dyn Connection) -> Result<T, AdapterError>,
) -> Result<T, AdapterError> {
    conn.begin()?;
    match body(conn) {
        Ok(v) => {
            conn.commit()?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.rollback();
            let _ = t;
            Err(e)
        }
    }
}

/// Load a seed: create the table aside with the seed's column types, bulk
/// load it through the adapter, then swap it in.
pub fn seed(
    t: &Target<'_>,
    conn: &mut dyn Connection,
    table: &SeedTable,
    column_types: &[String],
    quote_columns: bool,
) -> Result<Materialized, AdapterError> {
    let tmp = t.with_suffix(TMP_SUFFIX);
    drop_if_exists(t, conn, &tmp)?;
    let a = t.adapter;
    let column_sql = table
        .columns
        .iter()
        .zip(column_types)
        .map(|(name, ty)| {
            // Unquoted columns fold like any unquoted name; a header that is
            // not a plain name (spaces, quotes) can only be created quoted.
            let ident = if quote_columns || !hangar_adapter::is_plain_identifier(name) {
                a.quote(name)
            } else {
                name.clone()
            };
            format!("{ident} {ty}")
        })
        .collect::<Vec<_>>()
        .join(", ");
    conn.execute(&format!(
        "create table {} ({column_sql})",
        a.render_relation(&tmp)
    ))?;
    t.cache.add(tmp.clone(), RelationKind::Table);
    let columns: Vec<ColumnInfo> = table
        .columns
        .iter()
        .zip(column_types)
        .map(|(name, ty)| ColumnInfo {
            name: name.clone(),
            data_type: ty.clone(),
        })
        .collect();
    let mut rows = table.rows.iter().cloned();
    let loaded = match conn.bulk_load(&tmp, &columns, &mut rows) {
        Ok(n) => n,
        Err(e) => {
            let _ = drop_if_exists(t, conn, &tmp);
            return Err(e);
        }
    };
    swap_in(t, conn, &tmp, RelationKind::Table)?;
    Ok(Materialized {
        rows_affected: Some(loaded),
        message: format!("INSERT {loaded}"),
    })
}

/// The adapter type names for a seed's columns, with `column_types` overrides.
pub fn seed_column_types(
    adapter: &dyn Adapter,
    table: &SeedTable,
    overrides: &serde_json::Map<String, serde_json::Value>,
) -> Vec<String> {
    table
        .columns
        .iter()
        .zip(&table.types)
        .map(|(name, ty)| {
            overrides
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.as_str().map(str::to_string))
                .unwrap_or_else(|| adapter.type_name(seed_logical_type(*ty)))
        })
        .collect()
}

fn seed_logical_type(t: SeedType) -> hangar_adapter::LogicalType {
    use hangar_adapter::LogicalType as L;
    match t {
        SeedType::Boolean => L::Boolean,
        SeedType::Integer => L::Int,
        SeedType::BigInt => L::BigInt,
        SeedType::Number => L::Float,
        SeedType::Date => L::Date,
        SeedType::DateTime => L::Timestamp,
        SeedType::Text => L::String,
    }
}
