//! The per-run relation cache: which relations exist, filled by one
//! `list_relations` per schema and kept current by the engine as it creates,
//! drops and renames. Keys are lower-cased, as in dbt's cache.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use crate::{AdapterError, Connection, RelationInfo, RelationKind, RelationRef};

type SchemaKey = (Option<String>, String);

#[derive(Debug, Default)]
pub struct RelationCache {
    schemas: RwLock<HashMap<SchemaKey, BTreeMap<String, RelationInfo>>>,
}

fn schema_key(database: Option<&str>, schema: &str) -> SchemaKey {
    (database.map(str::to_lowercase), schema.to_lowercase())
}

impl RelationCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the schema has been listed (or marked as created) in this run.
    pub fn is_schema_cached(&self, database: Option<&str>, schema: &str) -> bool {
        self.read().contains_key(&schema_key(database, schema))
    }

    /// Replaces what is known about one schema with a fresh listing.
    pub fn fill_schema(&self, database: Option<&str>, schema: &str, relations: Vec<RelationInfo>) {
        let entries = relations
            .into_iter()
            .map(|info| (info.relation.identifier.to_lowercase(), info))
            .collect();
        self.write().insert(schema_key(database, schema), entries);
    }

    /// Lists the schema through `conn` unless it is already cached.
    pub fn ensure_schema(
        &self,
        conn: &mut dyn Connection,
        database: Option<&str>,
        schema: &str,
    ) -> Result<(), AdapterError> {
        if !self.is_schema_cached(database, schema) {
            let relations = conn.list_relations(database, schema)?;
            self.fill_schema(database, schema, relations);
        }
        Ok(())
    }

    /// Records a schema the engine just created (it is empty).
    pub fn add_schema(&self, database: Option<&str>, schema: &str) {
        self.write()
            .entry(schema_key(database, schema))
            .or_default();
    }

    /// The cached relation, if its schema was listed and it exists.
    pub fn get(&self, r: &RelationRef) -> Option<RelationInfo> {
        self.read()
            .get(&schema_key(r.database.as_deref(), &r.schema))
            .and_then(|relations| relations.get(&r.identifier.to_lowercase()))
            .cloned()
    }

    /// All cached relations of one schema, sorted by identifier.
    pub fn relations_in(&self, database: Option<&str>, schema: &str) -> Vec<RelationInfo> {
        self.read()
            .get(&schema_key(database, schema))
            .map(|relations| relations.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Every cached relation of every schema.
    pub fn all_relations(&self) -> Vec<RelationInfo> {
        self.read()
            .values()
            .flat_map(|relations| relations.values().cloned())
            .collect()
    }

    /// Records a created (or replaced) relation.
    pub fn add(&self, relation: RelationRef, kind: RelationKind) {
        let key = schema_key(relation.database.as_deref(), &relation.schema);
        let identifier = relation.identifier.to_lowercase();
        self.write()
            .entry(key)
            .or_default()
            .insert(identifier, RelationInfo { relation, kind });
    }

    /// Records a dropped relation.
    pub fn remove(&self, r: &RelationRef) {
        if let Some(relations) = self
            .write()
            .get_mut(&schema_key(r.database.as_deref(), &r.schema))
        {
            relations.remove(&r.identifier.to_lowercase());
        }
    }

    /// Records a rename within the schema; the kind is kept.
    pub fn rename(&self, from: &RelationRef, to_identifier: &str) {
        let mut schemas = self.write();
        let Some(relations) = schemas.get_mut(&schema_key(from.database.as_deref(), &from.schema))
        else {
            return;
        };
        if let Some(info) = relations.remove(&from.identifier.to_lowercase()) {
            let renamed = RelationInfo {
                relation: from.with_identifier(to_identifier),
                kind: info.kind,
            };
            relations.insert(to_identifier.to_lowercase(), renamed);
        }
    }

    // A poisoned lock only means another worker panicked; the map itself is still consistent.
    fn read(
        &self,
    ) -> std::sync::RwLockReadGuard<'_, HashMap<SchemaKey, BTreeMap<String, RelationInfo>>> {
        self.schemas.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(
        &self,
    ) -> std::sync::RwLockWriteGuard<'_, HashMap<SchemaKey, BTreeMap<String, RelationInfo>>> {
        self.schemas.write().unwrap_or_else(|e| e.into_inner())
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
}
