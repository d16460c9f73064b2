//! The warehouse as the Jinja layer sees it (`run_query`, `statement`,
//! `adapter.get_relation`…): one worker's connection behind a lock.

use std::sync::Mutex;

use hangar_adapter::{Adapter, Connection, RelationCache, RelationKind, RelationRef};
use hangar_jinja::{AdapterHandle, QueryResult, Relation};

pub struct JinjaAdapter<'w> {
    pub adapter: &'w dyn Adapter,
    pub conn: &'w Mutex<Box<dyn Connection>>,
    pub cache: &'w RelationCache,
    pub quote_policy: hangar_jinja::Policy,
}

impl JinjaAdapter<'_> {
    fn with_conn<T>(
        &self,
        f: impl FnOnce(&mut dyn Connection) -> Result<T, hangar_adapter::AdapterError>,
    ) -> Result<T, String> {
        let mut guard = self
            .conn
            .lock()
            .map_err(|_| "connection lock poisoned".to_string())?;
        f(guard.as_mut()).map_err(|e| e.to_string())
    }

    fn to_jinja(&self, r: &RelationRef, kind: RelationKind) -> Relation {
        let mut rel = Relation::new(r.database.as_deref(), &r.schema, &r.identifier);
        rel.quote_policy = self.quote_policy;
        rel.kind = Some(kind_name(kind).to_string());
        rel
    }
}

pub fn kind_name(kind: RelationKind) -> &'static str {
    match kind {
        RelationKind::Table => "table",
        RelationKind::View => "view",
        RelationKind::External => "external",
        _ => "table",
    }
}

fn relation_ref(database: Option<&str>, schema: &str, identifier: &str) -> RelationRef {
    RelationRef {
        database: database.map(str::to_string),
        schema: schema.to_string(),
        identifier: identifier.to_string(),
    }
}

impl AdapterHandle for JinjaAdapter<'_> {
    fn adapter_type(&self) -> &str {
        self.adapter.adapter_type()
    }

    fn quote(&self, identifier: &str) -> String {
        self.adapter.quote(identifier)
    }

    fn execute(&self, sql: &str, fetch: bool) -> Result<QueryResult, String> {
        self.with_conn(|conn| {
            if fetch {
                let r = conn.query(sql, &[])?;
                Ok(QueryResult {
                    columns: r.columns.iter().map(|c| c.name.clone()).collect(),
                    column_types: r.columns.iter().map(|c| c.data_type.clone()).collect(),
                    rows_affected: r.rows_affected.or(Some(r.rows.len() as u64)),
                    rows: r.rows,
                    message: "OK".into(),
                })
            } else {
                let n = conn.execute(sql)?;
                Ok(QueryResult {
                    rows_affected: n,
                    message: "OK".into(),
                    ..Default::default()
                })
            }
        })
    }

    fn get_relation(
        &self,
        database: Option<&str>,
        schema: &str,
        identifier: &str,
    ) -> Result<Option<Relation>, String> {
        let wanted = relation_ref(database, schema, identifier);
        self.with_conn(|conn| self.cache.ensure_schema(conn, database, schema))?;
        Ok(self
            .cache
            .get(&wanted)
            .map(|info| self.to_jinja(&info.relation, info.kind)))
    }

    fn get_columns(&self, relation: &Relation) -> Result<Vec<(String, String)>, String> {
        let r = relation_ref(
            relation.database.as_deref(),
            &relation.schema,
            &relation.identifier,
        );
        self.with_conn(|conn| conn.get_columns(&r))
            .map(|cols| cols.into_iter().map(|c| (c.name, c.data_type)).collect())
    }

    fn list_relations(
        &self,
        database: Option<&str>,
        schema: &str,
    ) -> Result<Vec<Relation>, String> {
        let infos = self.with_conn(|conn| conn.list_relations(database, schema))?;
        Ok(infos
            .iter()
            .map(|i| self.to_jinja(&i.relation, i.kind))
            .collect())
    }
}
