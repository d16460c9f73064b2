//! dbt's `grants:` config on models, seeds and snapshots: once a node's relation is
//! built, its grants are made to match the config, as dbt's `apply_grants` does.
//!
//! Whether earlier grants can still be on the relation decides the work (dbt's
//! `should_revoke`): a new relation, or one rebuilt on a warehouse that does not copy
//! grants to a replacement (Postgres: built aside and renamed in), only gets the
//! configured grants; a relation updated in place (an incremental run, a snapshot
//! update) or replaced where grants are copied has its current grants read in one
//! query, and what the config lacks is revoked before what it adds is granted.
//! Privileges and grantees are compared case-insensitively, as dbt does.

use hangar_adapter::{Adapter, Connection, RelationKind, RelationRef};
use hangar_graph::ResourceType;
use serde_json::Value;

use crate::events::NodeStatus;
use crate::node::Node;
use crate::run::{Executed, NodeRunner, Worker};

/// One privilege and the grantees it goes to, in config order.
type Grants = Vec<(String, Vec<String>)>;

/// What [`GrantsStep::apply`] needs, read before the node builds.
pub(crate) struct GrantsStep(Option<Plan>);

struct Plan {
    config: Result<Grants, String>,
    relation: RelationRef,
    kind: RelationKind,
    should_revoke: bool,
}

impl GrantsStep {
    /// Reads the node's `grants` config and whether its relation exists now (from the
    /// run's relation cache: one listing per schema). Nothing happens for nodes without
    /// grants or on warehouses without them.
    pub(crate) fn before(runner: &NodeRunner<'_>, worker: &Worker, node: &Node) -> GrantsStep {
        let builds_relation = match node.resource_type {
            ResourceType::Model => !node.is_ephemeral(),
            ResourceType::Seed | ResourceType::Snapshot => true,
            _ => false,
        };
        let configured = node
            .config
            .get("grants")
            .is_some_and(|g| !g.is_null() && g.as_object().is_none_or(|m| !m.is_empty()));
        if !builds_relation || !configured || !runner.adapter().supports_grants() {
            return GrantsStep(None);
        }
        let relation = NodeRunner::relation_ref(node);
        let existing = worker.conn_lock().ok().and_then(|mut conn| {
            runner
                .cache()
                .ensure_schema(
                    conn.as_mut(),
                    relation.database.as_deref(),
                    &relation.schema,
                )
                .ok()?;
            runner.cache().get(&relation).map(|info| info.kind)
        });
        let in_place = match node.resource_type {
            ResourceType::Snapshot => existing.is_some(),
            _ => {
                node.materialized() == "incremental"
                    && existing == Some(RelationKind::Table)
                    && !runner.full_refresh_for(node)
            }
        };
        let copy_grants = node
            .config
            .get("copy_grants")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let should_revoke = should_revoke(
            existing.is_some(),
            in_place,
            runner.adapter().copy_grants(copy_grants),
        );
        let kind = if node.resource_type == ResourceType::Model && node.materialized() == "view" {
            RelationKind::View
        } else {
            RelationKind::Table
        };
        GrantsStep(Some(Plan {
            config: parse_grants(node.config.get("grants")),
            relation,
            kind,
            should_revoke,
        }))
    }

    /// Applies the grants once the node built successfully; a failure fails the node.
    pub(crate) fn apply(
        self,
        runner: &NodeRunner<'_>,
        worker: &Worker,
        executed: Executed,
    ) -> Executed {
        let Some(plan) = self.0 else {
            return executed;
        };
        if executed.status != NodeStatus::Success {
            return executed;
        }
        let adapter = runner.adapter();
        let outcome = plan.config.and_then(|config| {
            let mut conn = worker.conn_lock()?;
            let statements = plan_statements(
                adapter,
                conn.as_mut(),
                &plan.relation,
                plan.kind,
                &config,
                plan.should_revoke,
            )?;
            for sql in statements {
                conn.execute(&sql).map_err(|e| e.to_string())?;
            }
            Ok(())
        });
        match outcome {
            Ok(()) => executed,
            Err(e) => Executed::error(
                format!(
                    "applying grants on {} failed: {e}",
                    adapter.render_relation(&plan.relation)
                ),
                executed.compiled_code,
            ),
        }
    }
}

/// dbt's `should_revoke`: only where grants from before the build can still be there.
fn should_revoke(existed: bool, in_place: bool, replacement_keeps_grants: bool) -> bool {
    existed && (in_place || replacement_keeps_grants)
}

/// The revokes, then the grants, that bring the relation to `config`.
fn plan_statements(
    adapter: &dyn Adapter,
    conn: &mut dyn Connection,
    relation: &RelationRef,
    kind: RelationKind,
    config: &Grants,
    should_revoke: bool,
) -> Result<Vec<String>, String> {
    let (to_revoke, to_grant) = if should_revoke {
        let (sql, params) = adapter.sql_show_grants(relation);
        let rows = conn.query(&sql, &params).map_err(|e| e.to_string())?;
        let current = group(adapter.grants_from_rows(&rows));
        (difference(&current, config), difference(config, &current))
    } else {
        (Vec::new(), config.clone())
    };
    let mut statements = Vec::new();
    for (privilege, grantees) in &to_revoke {
        // Current grantees are catalog names: quoted exactly as they are.
        let names: Vec<String> = grantees
            .iter()
            .map(|g| {
                if g.eq_ignore_ascii_case("public") {
                    "public".to_string()
                } else {
                    adapter.quote(g)
                }
            })
            .collect();
        check_privilege(privilege)?;
        statements.push(adapter.sql_revoke(relation, kind, privilege, &names));
    }
    for (privilege, grantees) in &to_grant {
        if grantees.is_empty() {
            continue;
        }
        let names: Vec<String> = grantees.iter().map(|g| adapter.grantee_sql(g)).collect();
        statements.push(adapter.sql_grant(relation, kind, privilege, &names));
    }
    Ok(statements)
}

/// The `grants` config: privilege → grantee or list of grantees. A `+privilege` key
/// left over from project config merging counts as `privilege`.
fn parse_grants(value: Option<&Value>) -> Result<Grants, String> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let Value::Object(map) = value else {
        return Err(format!(
            "the grants config must map privileges to lists of grantees, got {value}"
        ));
    };
    let mut grants: Grants = Vec::new();
    for (key, grantees) in map {
        let privilege = key.strip_prefix('+').unwrap_or(key).trim();
        check_privilege(privilege)?;
        let names: Vec<String> = match grantees {
            Value::Null => Vec::new(),
            Value::String(one) => vec![one.clone()],
            Value::Array(items) => items
                .iter()
                .map(|item| match item {
                    Value::String(name) if !name.trim().is_empty() => Ok(name.trim().to_string()),
                    other => Err(format!(
                        "grantees of '{privilege}' must be role names, got {other}"
                    )),
                })
                .collect::<Result<_, _>>()?,
            other => {
                return Err(format!(
                    "grantees of '{privilege}' must be a list of role names, got {other}"
                ));
            }
        };
        match grants
            .iter_mut()
            .find(|(p, _)| p.eq_ignore_ascii_case(privilege))
        {
            Some((_, existing)) => existing.extend(names),
            None => grants.push((privilege.to_string(), names)),
        }
    }
    Ok(grants)
}

/// Privileges are pasted into DCL as keywords, so only keyword characters pass.
fn check_privilege(privilege: &str) -> Result<(), String> {
    let ok = !privilege.is_empty()
        && privilege
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == '_' || c == ' ');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{privilege}' is not a privilege name (expected e.g. select, insert)"
        ))
    }
}

/// `(privilege, grantee)` rows grouped by privilege, in first-seen order.
fn group(pairs: Vec<(String, String)>) -> Grants {
    let mut grants: Grants = Vec::new();
    for (privilege, grantee) in pairs {
        match grants
            .iter_mut()
            .find(|(p, _)| p.eq_ignore_ascii_case(&privilege))
        {
            Some((_, names)) => names.push(grantee),
            None => grants.push((privilege, vec![grantee])),
        }
    }
    grants
}

/// How a grantee is compared: unquoted and case-folded (dbt's `diff_of_two_dicts`).
fn grantee_key(name: &str) -> String {
    let name = name.trim();
    name.strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .map_or(name.to_string(), |inner| inner.replace("\"\"", "\""))
        .to_lowercase()
}

/// dbt's `diff_of_two_dicts`: what `a` has that `b` lacks, keeping `a`'s spelling.
fn difference(a: &Grants, b: &Grants) -> Grants {
    a.iter()
        .filter_map(|(privilege, grantees)| {
            let others: Vec<String> = b
                .iter()
                .filter(|(p, _)| p.eq_ignore_ascii_case(privilege))
                .flat_map(|(_, names)| names.iter().map(|n| grantee_key(n)))
                .collect();
            let missing: Vec<String> = grantees
                .iter()
                .filter(|g| !others.contains(&grantee_key(g)))
                .cloned()
                .collect();
            (!missing.is_empty()).then(|| (privilege.clone(), missing))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn grants(value: Value) -> Grants {
        parse_grants(Some(&value)).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn config_takes_lists_strings_and_merged_plus_keys() {
        let mut parsed = grants(json!({"select": ["a", "B"], "+select": "c", "insert": null}));
        parsed.sort();
        for (_, names) in &mut parsed {
            names.sort();
        }
        assert_eq!(
            parsed,
            vec![
                ("insert".to_string(), vec![]),
                (
                    "select".to_string(),
                    vec!["B".into(), "a".into(), "c".into()]
                ),
            ]
        );
        assert!(grants(json!({})).is_empty());
        assert!(parse_grants(None).is_ok_and(|g| g.is_empty()));
    }

    #[test]
    fn bad_config_is_a_clear_error() {
        let err = |v: Value| parse_grants(Some(&v)).err().unwrap_or_default();
        assert!(err(json!(["select"])).contains("must map privileges"));
        assert!(err(json!({"select": [1]})).contains("must be role names, got 1"));
        assert!(err(json!({"select; drop table x": ["a"]})).contains("is not a privilege name"));
        assert!(err(json!({"select": {"a": 1}})).contains("must be a list of role names"));
    }

    #[test]
    fn revoking_happens_only_where_old_grants_can_remain() {
        // A new relation has no old grants.
        assert!(!should_revoke(false, false, true));
        // Updated in place (incremental run, snapshot update): grants stay.
        assert!(should_revoke(true, true, false));
        // Rebuilt: only where the warehouse copies grants to the replacement.
        assert!(!should_revoke(true, false, false));
        assert!(should_revoke(true, false, true));
    }

    #[test]
    fn difference_ignores_case_and_quotes_as_dbt_does() {
        let config = grants(json!({"select": ["Reporter", "\"bi\"", "new_role"]}));
        let current = group(vec![
            ("SELECT".into(), "reporter".into()),
            ("SELECT".into(), "bi".into()),
            ("SELECT".into(), "old_role".into()),
            ("INSERT".into(), "loader".into()),
        ]);
        assert_eq!(
            difference(&config, &current),
            vec![("select".to_string(), vec!["new_role".to_string()])]
        );
        assert_eq!(
            difference(&current, &config),
            vec![
                ("SELECT".to_string(), vec!["old_role".to_string()]),
                ("INSERT".to_string(), vec!["loader".to_string()]),
            ]
        );
        assert!(difference(&config, &config).is_empty());
    }
}
