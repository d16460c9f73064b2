//! The per-run relation cache: which relations exist, filled by one
//! `list_relations` per schema and kept current by the engine as it creates,
//! drops and renames. Keys are lower-cased, as in dbt's cache.
//!
//! Where dropping cascades (Postgres), the cache also knows which views read which
//! relations (one `list_dependencies` per schema, as dbt-postgres links its cache), so
//! forgetting a dropped relation forgets the views the drop took with it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, RwLock};

use crate::{AdapterError, Connection, RelationInfo, RelationKind, RelationRef};

type SchemaKey = (Option<String>, String);
type RelationKey = (Option<String>, String, String);

#[derive(Debug, Default)]
pub struct RelationCache {
    inner: RwLock<Inner>,
    /// Held while a schema is listed, so workers needing the same schema at the same
    /// moment wait for one listing instead of each running their own.
    listing: Mutex<()>,
}

#[derive(Debug, Default)]
struct Inner {
    schemas: HashMap<SchemaKey, BTreeMap<String, RelationInfo>>,
    /// Relation → the views that read it.
    dependents: HashMap<RelationKey, Vec<RelationRef>>,
}

fn schema_key(database: Option<&str>, schema: &str) -> SchemaKey {
    (database.map(str::to_lowercase), schema.to_lowercase())
}

fn relation_key(r: &RelationRef) -> RelationKey {
    (
        r.database.as_deref().map(str::to_lowercase),
        r.schema.to_lowercase(),
        r.identifier.to_lowercase(),
    )
}

impl RelationCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the schema has been listed (or marked as created) in this run.
    pub fn is_schema_cached(&self, database: Option<&str>, schema: &str) -> bool {
        self.read()
            .schemas
            .contains_key(&schema_key(database, schema))
    }

    /// Replaces what is known about one schema with a fresh listing.
    pub fn fill_schema(&self, database: Option<&str>, schema: &str, relations: Vec<RelationInfo>) {
        let entries = relations
            .into_iter()
            .map(|info| (info.relation.identifier.to_lowercase(), info))
            .collect();
        self.write()
            .schemas
            .insert(schema_key(database, schema), entries);
    }

    /// Records `(referenced, dependent)` pairs: `dependent` is a view reading `referenced`.
    pub fn add_dependencies(&self, links: Vec<(RelationRef, RelationRef)>) {
        let mut inner = self.write();
        for (referenced, dependent) in links {
            let dependents = inner
                .dependents
                .entry(relation_key(&referenced))
                .or_default();
            if !dependents
                .iter()
                .any(|d| relation_key(d) == relation_key(&dependent))
            {
                dependents.push(dependent);
            }
        }
    }

    /// Lists the schema and its views' dependencies through `conn` unless it is
    /// already cached: two queries per schema and run, never one per relation.
    pub fn ensure_schema(
        &self,
        conn: &mut dyn Connection,
        database: Option<&str>,
        schema: &str,
    ) -> Result<(), AdapterError> {
        if self.is_schema_cached(database, schema) {
            return Ok(());
        }
        let _listing = self.listing.lock().unwrap_or_else(|e| e.into_inner());
        if !self.is_schema_cached(database, schema) {
            let relations = conn.list_relations(database, schema)?;
            let links = conn.list_dependencies(database, schema)?;
            self.fill_schema(database, schema, relations);
            self.add_dependencies(links);
        }
        Ok(())
    }

    /// Runs `f` (a drop and its cache update) while no schema is being
    /// listed: a listing that started before a `drop … cascade` could
    /// otherwise record views the drop has just removed, after the cache has
    /// already forgotten them.
    pub fn between_listings<T>(&self, f: impl FnOnce() -> T) -> T {
        let _listing = self.listing.lock().unwrap_or_else(|e| e.into_inner());
        f()
    }

    /// Records a schema the engine just created (it is empty).
    pub fn add_schema(&self, database: Option<&str>, schema: &str) {
        self.write()
            .schemas
            .entry(schema_key(database, schema))
            .or_default();
    }

    /// The cached relation, if its schema was listed and it exists.
    pub fn get(&self, r: &RelationRef) -> Option<RelationInfo> {
        self.read()
            .schemas
            .get(&schema_key(r.database.as_deref(), &r.schema))
            .and_then(|relations| relations.get(&r.identifier.to_lowercase()))
            .cloned()
    }

    /// All cached relations of one schema, sorted by identifier.
    pub fn relations_in(&self, database: Option<&str>, schema: &str) -> Vec<RelationInfo> {
        self.read()
            .schemas
            .get(&schema_key(database, schema))
            .map(|relations| relations.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Every cached relation of every schema.
    pub fn all_relations(&self) -> Vec<RelationInfo> {
        self.read()
            .schemas
            .values()
            .flat_map(|relations| relations.values().cloned())
            .collect()
    }

    /// Records a created (or replaced) relation.
    pub fn add(&self, relation: RelationRef, kind: RelationKind) {
        let key = schema_key(relation.database.as_deref(), &relation.schema);
        let identifier = relation.identifier.to_lowercase();
        self.write()
            .schemas
            .entry(key)
            .or_default()
            .insert(identifier, RelationInfo { relation, kind });
    }

    /// Records a dropped relation, and the views that depended on it (a cascading
    /// drop took them along; where drops do not cascade, no dependencies are known).
    pub fn remove(&self, r: &RelationRef) {
        let mut inner = self.write();
        let mut pending = vec![r.clone()];
        let mut seen = Vec::new();
        while let Some(next) = pending.pop() {
            let key = relation_key(&next);
            if seen.contains(&key) {
                continue;
            }
            if let Some(relations) = inner
                .schemas
                .get_mut(&schema_key(next.database.as_deref(), &next.schema))
            {
                relations.remove(&next.identifier.to_lowercase());
            }
            pending.extend(inner.dependents.remove(&key).unwrap_or_default());
            seen.push(key);
        }
    }

    /// Records a rename within the schema; the kind and the dependencies are kept.
    pub fn rename(&self, from: &RelationRef, to_identifier: &str) {
        let to = from.with_identifier(to_identifier);
        let mut inner = self.write();
        let Some(relations) = inner
            .schemas
            .get_mut(&schema_key(from.database.as_deref(), &from.schema))
        else {
            return;
        };
        if let Some(info) = relations.remove(&from.identifier.to_lowercase()) {
            let renamed = RelationInfo {
                relation: to.clone(),
                kind: info.kind,
            };
            relations.insert(to_identifier.to_lowercase(), renamed);
        }
        let from_key = relation_key(from);
        if let Some(dependents) = inner.dependents.remove(&from_key) {
            inner.dependents.insert(relation_key(&to), dependents);
        }
        for dependents in inner.dependents.values_mut() {
            for d in dependents.iter_mut() {
                if relation_key(d) == from_key {
                    *d = to.clone();
                }
            }
        }
    }

    // A poisoned lock only means another worker panicked; the map itself is still consistent.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(identifier: &str) -> RelationRef {
        RelationRef::new(Some("db"), "Analytics", identifier)
    }

    #[test]
    fn tracks_create_rename_and_drop() {
        let cache = RelationCache::new();
        assert!(!cache.is_schema_cached(Some("db"), "analytics"));
        cache.fill_schema(
            Some("db"),
            "analytics",
            vec![RelationInfo {
                relation: rel("orders"),
                kind: RelationKind::Table,
            }],
        );
        assert!(cache.is_schema_cached(Some("DB"), "ANALYTICS"));
        assert_eq!(
            cache.get(&rel("ORDERS")).map(|i| i.kind),
            Some(RelationKind::Table)
        );

        cache.add(rel("orders__tmp"), RelationKind::View);
        cache.rename(&rel("orders__tmp"), "customers");
        assert!(cache.get(&rel("orders__tmp")).is_none());
        let renamed = cache.get(&rel("customers"));
        assert_eq!(renamed.as_ref().map(|i| i.kind), Some(RelationKind::View));
        assert_eq!(
            renamed.map(|i| i.relation.identifier),
            Some("customers".to_string())
        );

        cache.remove(&rel("orders"));
        let names: Vec<String> = cache
            .relations_in(Some("db"), "analytics")
            .into_iter()
            .map(|i| i.relation.identifier)
            .collect();
        assert_eq!(names, vec!["customers".to_string()]);
    }

    #[test]
    fn unknown_schema_is_not_cached() {
        let cache = RelationCache::new();
        assert!(cache.get(&rel("orders")).is_none());
        cache.add_schema(None, "fresh");
        assert!(cache.is_schema_cached(None, "fresh"));
        assert!(cache.relations_in(None, "fresh").is_empty());
    }

    #[test]
    fn dropping_a_relation_forgets_the_views_that_read_it() {
        let cache = RelationCache::new();
        let table = |name: &str| RelationInfo {
            relation: rel(name),
            kind: RelationKind::Table,
        };
        let view = |name: &str| RelationInfo {
            relation: rel(name),
            kind: RelationKind::View,
        };
        cache.fill_schema(
            Some("db"),
            "analytics",
            vec![
                table("orders"),
                view("v_orders"),
                view("v_v_orders"),
                view("v_other"),
            ],
        );
        cache.add_dependencies(vec![
            (rel("orders"), rel("v_orders")),
            (rel("v_orders"), rel("V_V_ORDERS")),
        ]);
        // A swap: the old table moves aside (its views follow it) and is dropped.
        cache.rename(&rel("orders"), "orders__backup");
        cache.add(rel("orders"), RelationKind::Table);
        assert!(cache.get(&rel("v_orders")).is_some());
        cache.remove(&rel("orders__backup"));
        let names: Vec<String> = cache
            .relations_in(Some("db"), "analytics")
            .into_iter()
            .map(|i| i.relation.identifier)
            .collect();
        assert_eq!(names, vec!["orders".to_string(), "v_other".to_string()]);
        // The new table has no dependents yet: dropping it forgets nothing else.
        cache.add(rel("v_orders"), RelationKind::View);
        cache.remove(&rel("orders"));
        assert!(cache.get(&rel("v_orders")).is_some());
    }

    #[test]
    fn a_renamed_view_keeps_its_link() {
        let cache = RelationCache::new();
        cache.add(rel("orders"), RelationKind::Table);
        cache.add(rel("v_orders__tmp"), RelationKind::View);
        cache.add_dependencies(vec![(rel("orders"), rel("v_orders__tmp"))]);
        cache.rename(&rel("v_orders__tmp"), "v_orders");
        cache.remove(&rel("orders"));
        assert!(cache.get(&rel("v_orders")).is_none());
    }

    /// Counts listings; every other call is outside what the cache uses.
    struct CountingConnection(std::sync::Arc<std::sync::atomic::AtomicUsize>);

    struct NoCancel;

    impl crate::CancelHandle for NoCancel {
        fn cancel(&self) {}
    }

    impl Connection for CountingConnection {
        fn execute(&mut self, _sql: &str) -> Result<Option<u64>, AdapterError> {
            Err(AdapterError::Unsupported("not used by the cache".into()))
        }
        fn query(
            &mut self,
            _sql: &str,
            _params: &[serde_json::Value],
        ) -> Result<crate::QueryResult, AdapterError> {
            Err(AdapterError::Unsupported("not used by the cache".into()))
        }
        fn list_relations(
            &mut self,
            database: Option<&str>,
            schema: &str,
        ) -> Result<Vec<RelationInfo>, AdapterError> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            // Long enough for the other worker to arrive while this one lists.
            std::thread::sleep(std::time::Duration::from_millis(50));
            Ok(vec![RelationInfo {
                relation: RelationRef::new(database, schema, "orders"),
                kind: RelationKind::Table,
            }])
        }
        fn list_schemas(&mut self, _database: Option<&str>) -> Result<Vec<String>, AdapterError> {
            Err(AdapterError::Unsupported("not used by the cache".into()))
        }
        fn get_columns(
            &mut self,
            _r: &RelationRef,
        ) -> Result<Vec<crate::ColumnInfo>, AdapterError> {
            Err(AdapterError::Unsupported("not used by the cache".into()))
        }
        fn begin(&mut self) -> Result<(), AdapterError> {
            Err(AdapterError::Unsupported("not used by the cache".into()))
        }
        fn commit(&mut self) -> Result<(), AdapterError> {
            Err(AdapterError::Unsupported("not used by the cache".into()))
        }
        fn rollback(&mut self) -> Result<(), AdapterError> {
            Err(AdapterError::Unsupported("not used by the cache".into()))
        }
        fn cancel_handle(&self) -> Box<dyn crate::CancelHandle> {
            Box::new(NoCancel)
        }
        fn bulk_load(
            &mut self,
            _r: &RelationRef,
            _columns: &[crate::ColumnInfo],
            _rows: &mut dyn Iterator<Item = Vec<Option<String>>>,
        ) -> Result<u64, AdapterError> {
            Err(AdapterError::Unsupported("not used by the cache".into()))
        }
    }

    #[test]
    fn workers_needing_one_schema_at_once_list_it_once() {
        let cache = RelationCache::new();
        let listings = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        std::thread::scope(|scope| {
            for _ in 0..4 {
                let mut conn = CountingConnection(std::sync::Arc::clone(&listings));
                let cache = &cache;
                scope.spawn(move || {
                    cache
                        .ensure_schema(&mut conn, Some("db"), "analytics")
                        .expect("listing");
                    assert!(cache.get(&rel("orders")).is_some());
                });
            }
        });
        assert_eq!(listings.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
