//! Database, schema and alias of every node through the project's (or the
//! builtin) `generate_database_name`, `generate_schema_name` and
//! `generate_alias_name` macros, and the quoted relation names.

use std::collections::BTreeMap;

use hangar_graph::ResourceType;
use hangar_jinja::{NodeInput, Phase, Relation};
use hangar_project::Diagnostic;
use rayon::prelude::*;
use serde_json::{Map, Value, json};

use super::refs::ParseResolver;
use crate::node::{Node, SourceNode};
use crate::session::Session;

/// The node as a dict: the `model` / `node` value macros receive.
pub fn node_context(node: &Node) -> Value {
    json!({
        "unique_id": node.unique_id,
        "name": node.name,
        "resource_type": node.resource_type.to_string(),
        "package_name": node.package_name,
        "path": node.path,
        "original_file_path": node.original_file_path,
        "fqn": node.fqn,
        "alias": node.alias,
        "schema": node.schema,
        "database": node.database,
        "config": &*node.full_config(),
        "tags": node.tags,
        "meta": node.meta,
        "description": node.description,
        "columns": node.columns,
        "raw_code": &*node.raw_code,
        "raw_sql": &*node.raw_code,
        "version": node.version,
        "relation_name": node.relation_name,
        "depends_on": {"nodes": node.depends_on_nodes, "macros": node.depends_on_macros},
        "refs": node.refs.iter().map(|r| json!({"name": r.name, "package": r.package, "version": r.version})).collect::<Vec<_>>(),
        "sources": node.sources.iter().map(|(s, t)| json!([s, t])).collect::<Vec<_>>(),
    })
}

impl hangar_jinja::ModelSource for Node {
    fn model_json(&self) -> Value {
        node_context(self)
    }
}

/// The quoting policy of the project (`quoting:`), over the adapter's default.
pub fn quote_policy(session: &Session) -> hangar_jinja::Policy {
    let mut policy = Relation::default_quote_policy(session.adapter_type());
    let quoting = &session.root_package().config.quoting;
    let flag = |k: &str, d: bool| quoting.get(k).and_then(Value::as_bool).unwrap_or(d);
    policy.database = flag("database", policy.database);
    policy.schema = flag("schema", policy.schema);
    policy.identifier = flag("identifier", policy.identifier);
    policy
}

pub fn relation_for(
    session: &Session,
    database: Option<&str>,
    schema: &str,
    identifier: &str,
) -> Relation {
    let mut r = Relation::new(database, schema, identifier);
    r.quote_policy = quote_policy(session);
    r
}

pub fn assign_relations(
    session: &Session,
    nodes: &mut BTreeMap<String, Box<Node>>,
    sources: &mut BTreeMap<String, SourceNode>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let docs = BTreeMap::new();
    let resolver = ParseResolver::new(session, &docs);
    // Asked once per package rather than once per node: the answer only
    // depends on which macros the packages define.
    let default_naming: std::collections::HashMap<&str, bool> = session
        .project
        .packages
        .iter()
        .map(|p| (p.name.as_str(), uses_default_naming(session, &p.name)))
        .collect();
    // Names, quoted relation and write-back in one parallel pass per node.
    let problems: Vec<Diagnostic> = nodes
        .par_iter_mut()
        .filter_map(|(_, node)| {
            let native = default_naming
                .get(node.package_name.as_str())
                .copied()
                .unwrap_or(false);
            let (database, schema, alias) = match names_for(session, &resolver, node, native) {
                Ok(names) => names,
                Err(d) => return Some(d),
            };
            node.relation_name = has_relation(node)
                .then(|| relation_for(session, database.as_deref(), &schema, &alias).render());
            node.database = database;
            node.schema = schema;
            node.alias = alias;
            None
        })
        .collect();
    diagnostics.extend(problems);
    sources.par_iter_mut().for_each(|(_, source)| {
        source.relation_name = source_relation(session, source).render();
    });
}

/// (database, schema, alias) of a node.
type RelationNames = (Option<String>, String, String);

/// A source table's relation, quoted per the project and the source's `quoting:`.
pub fn source_relation(session: &Session, source: &SourceNode) -> Relation {
    let mut r = relation_for(
        session,
        source.database.as_deref(),
        &source.schema,
        &source.identifier,
    );
    let flag = |k: &str, d: bool| source.quoting.get(k).and_then(Value::as_bool).unwrap_or(d);
    r.quote_policy.database = flag("database", r.quote_policy.database);
    r.quote_policy.schema = flag("schema", r.quote_policy.schema);
    r.quote_policy.identifier = flag("identifier", r.quote_policy.identifier);
    r
}

fn has_relation(node: &Node) -> bool {
    match node.resource_type {
        ResourceType::Model => !node.is_ephemeral(),
        ResourceType::Seed | ResourceType::Snapshot => true,
        ResourceType::Test => node
            .config
            .get("store_failures")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        _ => false,
    }
}

/// dbt's default `generate_*_name` macros, computed natively. Used only when
/// the project overrides none of them (see `Jinja::is_builtin_only`), so the
/// result is the same as rendering them; it keeps parse fast on large projects.
fn default_names(session: &Session, node: &Node) -> RelationNames {
    let custom = |key: &str| {
        node.config_value(key).and_then(|v| match v {
            Value::Null => None,
            Value::String(s) => Some(s.trim().to_string()),
            other => Some(other.to_string()),
        })
    };
    let database = custom("database").or_else(|| session.profile.database.clone());
    let schema = match custom("schema") {
        Some(c) => [&session.profile.schema, "_", &c].concat(),
        None => session.profile.schema.clone(),
    };
    let alias = custom("alias")
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| match &node.version {
            Some(v) => format!("{}_v{}", node.name, v.replace('.', "_")),
            None => node.name.clone(),
        });
    (database, schema, alias)
}

fn uses_default_naming(session: &Session, package: &str) -> bool {
    [
        "generate_database_name",
        "generate_schema_name",
        "generate_alias_name",
    ]
    .iter()
    .all(|m| session.jinja.is_builtin_only(package, m))
}

/// `default_naming`: the package overrides none of the naming macros.
fn names_for(
    session: &Session,
    resolver: &ParseResolver<'_>,
    node: &Node,
    default_naming: bool,
) -> Result<RelationNames, Diagnostic> {
    let legacy_snapshot = node.resource_type == ResourceType::Snapshot
        && (node
            .config
            .get("target_schema")
            .is_some_and(|v| !v.is_null())
            || node
                .config
                .get("target_database")
                .is_some_and(|v| !v.is_null()));
    if !legacy_snapshot && default_naming {
        return Ok(default_names(session, node));
    }
    let model = node_context(node);
    let input = NodeInput {
        phase: Phase::Parse,
        unique_id: node.unique_id.clone(),
        package: node.package_name.clone(),
        name: node.name.clone(),
        resource_type: node.resource_type.to_string(),
        path: node.original_file_path.clone(),
        sql: "".into(),
        config: node.full_config(),
        this: None,
        is_incremental: false,
        model: hangar_jinja::ModelContext::Json(model.clone()),
        extra: Map::new(),
        overrides: Default::default(),
        generic_test_kwargs: None,
    };
    let call = |macro_name: &str, key: &str| -> Result<Value, Diagnostic> {
        let custom = node.config_value(key).unwrap_or(Value::Null);
        session.jinja.call_macro(
            macro_name,
            vec![custom, model.clone()],
            Map::new(),
            &input,
            resolver,
            None,
        )
    };
    // Legacy snapshot configs name the exact schema and database.
    let legacy = |key: &str| {
        (node.resource_type == ResourceType::Snapshot)
            .then(|| {
                node.config
                    .get(key)
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .flatten()
    };
    let database = match legacy("target_database") {
        Some(db) => Some(db),
        None => text(call("generate_database_name", "database")?),
    };
    let schema = match legacy("target_schema") {
        Some(s) => s,
        None => text(call("generate_schema_name", "schema")?).unwrap_or_default(),
    };
    let alias = text(call("generate_alias_name", "alias")?).unwrap_or_else(|| node.name.clone());
    Ok((database, schema, alias))
}

/// A macro's value as trimmed text (`none` → `None`).
fn text(v: Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => {
            let t = s.trim();
            (!t.is_empty() && t != "None").then(|| t.to_string())
        }
        other => Some(other.to_string()),
    }
}
