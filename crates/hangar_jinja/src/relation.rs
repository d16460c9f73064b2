//! dbt's `Relation`: a database object name that renders as SQL.

use std::fmt;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, Value};
use minijinja::{Error, ErrorKind, State};

use crate::context::split_args;

/// Which parts of a relation name are quoted (or included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub database: bool,
    pub schema: bool,
    pub identifier: bool,
}

impl Policy {
    pub const ALL: Policy = Policy {
        database: true,
        schema: true,
        identifier: true,
    };
    pub const NONE: Policy = Policy {
        database: false,
        schema: false,
        identifier: false,
    };
}

/// A warehouse relation. Renders as `"db"."schema"."ident"`, quoted per
/// `quote_policy`, with the parts in `include_policy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub database: Option<String>,
    pub schema: String,
    pub identifier: String,
    /// table | view | cte | materialized_view | external …
    pub kind: Option<String>,
    pub quote_policy: Policy,
    pub include_policy: Policy,
    pub quote_char: char,
}

impl Relation {
    /// A relation quoted like dbt-postgres / dbt-duckdb (all parts quoted).
    pub fn new(database: Option<&str>, schema: &str, identifier: &str) -> Relation {
        Relation {
            database: database.map(str::to_string),
            schema: schema.to_string(),
            identifier: identifier.to_string(),
            kind: None,
            quote_policy: Policy::ALL,
            include_policy: Policy::ALL,
            quote_char: '"',
        }
    }

    /// The default quote policy of an adapter type (Snowflake quotes nothing).
    pub fn default_quote_policy(adapter_type: &str) -> Policy {
        if adapter_type == "snowflake" {
            Policy::NONE
        } else {
            Policy::ALL
        }
    }

    pub fn with_kind(mut self, kind: &str) -> Relation {
        self.kind = Some(kind.to_string());
        self
    }

    /// A part is quoted when the policy says so, and also when it is not a
    /// plain name: unquoted, `Odd View` or `a"b` is not SQL on any warehouse.
    fn push_part(&self, out: &mut String, part: &str, quote: bool) {
        if !out.is_empty() {
            out.push('.');
        }
        if quote || !is_plain_name(part) {
            let q = self.quote_char;
            out.push(q);
            for c in part.chars() {
                if c == q {
                    out.push(q);
                }
                out.push(c);
            }
            out.push(q);
        } else {
            out.push_str(part);
        }
    }

    /// The SQL text for this relation. Built in one string: every ref and
    /// source of every node renders one, hundreds of thousands in a large
    /// project.
    pub fn render(&self) -> String {
        let database = self.database.as_deref().unwrap_or_default();
        let mut out =
            String::with_capacity(database.len() + self.schema.len() + self.identifier.len() + 8);
        if !database.is_empty() && self.include_policy.database {
            self.push_part(&mut out, database, self.quote_policy.database);
        }
        if self.include_policy.schema && !self.schema.is_empty() {
            self.push_part(&mut out, &self.schema, self.quote_policy.schema);
        }
        if self.include_policy.identifier && !self.identifier.is_empty() {
            self.push_part(&mut out, &self.identifier, self.quote_policy.identifier);
        }
        out
    }
}

fn is_plain_name(part: &str) -> bool {
    part.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// The Jinja face of a [`Relation`].
#[derive(Debug)]
pub(crate) struct RelationObject(pub Relation);

impl RelationObject {
    pub fn value(relation: Relation) -> Value {
        Value::from_object(RelationObject(relation))
    }
}

fn opt_str(v: &Option<String>) -> Value {
    v.as_deref().map(Value::from).unwrap_or(Value::from(()))
}

/// Reads `database=`, `schema=`, `identifier=` style flags into a policy.
fn policy_from_kwargs(base: Policy, kwargs: &[(String, Value)]) -> Policy {
    let mut p = base;
    for (k, v) in kwargs {
        match k.as_str() {
            "database" => p.database = v.is_true(),
            "schema" => p.schema = v.is_true(),
            "identifier" => p.identifier = v.is_true(),
            _ => {}
        }
    }
    p
}

fn value_to_opt_string(v: &Value) -> Option<String> {
    if v.is_none() || v.is_undefined() {
        None
    } else {
        Some(
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string()),
        )
    }
}

impl Object for RelationObject {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let r = &self.0;
        Some(match key.as_str()? {
            "database" => opt_str(&r.database),
            "schema" => Value::from(r.schema.as_str()),
            "identifier" | "name" | "table" => Value::from(r.identifier.as_str()),
            "type" => opt_str(&r.kind),
            "is_table" => Value::from(r.kind.as_deref() == Some("table")),
            "is_view" => Value::from(r.kind.as_deref() == Some("view")),
            "is_cte" => Value::from(r.kind.as_deref() == Some("cte")),
            "is_materialized_view" => Value::from(r.kind.as_deref() == Some("materialized_view")),
            "quote_character" => Value::from(r.quote_char.to_string()),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["database", "schema", "identifier", "type"])
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let (positional, kwargs) = split_args(args);
        let mut r = self.0.clone();
        match method {
            "render" => return Ok(Value::from(r.render())),
            "include" => r.include_policy = policy_from_kwargs(r.include_policy, &kwargs),
            "quote" => r.quote_policy = policy_from_kwargs(r.quote_policy, &kwargs),
            "without_identifier" => r.include_policy.identifier = false,
            "replace_path" | "incorporate" => {
                for (k, v) in &kwargs {
                    match k.as_str() {
                        "type" => r.kind = value_to_opt_string(v),
                        "path" => apply_path(&mut r, v),
                        "database" => r.database = value_to_opt_string(v),
                        "schema" => r.schema = value_to_opt_string(v).unwrap_or_default(),
                        "identifier" => r.identifier = value_to_opt_string(v).unwrap_or_default(),
                        _ => {}
                    }
                }
                if let Some(p) = positional.first() {
                    apply_path(&mut r, p);
                }
            }
            _ => return Err(Error::from(ErrorKind::UnknownMethod)),
        }
        Ok(RelationObject::value(r))
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.render())
    }
}

/// `incorporate(path={"identifier": "x"})`
fn apply_path(r: &mut Relation, path: &Value) {
    for key in ["database", "schema", "identifier"] {
        if let Ok(v) = path.get_attr(key) {
            if v.is_undefined() {
                continue;
            }
            match key {
                "database" => r.database = value_to_opt_string(&v),
                "schema" => r.schema = value_to_opt_string(&v).unwrap_or_default(),
                _ => r.identifier = value_to_opt_string(&v).unwrap_or_default(),
            }
        }
    }
}

/// `api.Relation.create(database=, schema=, identifier=, type=)`
pub(crate) fn create_relation(args: &[Value], quote_policy: Policy) -> Value {
    let (positional, kwargs) = split_args(args);
    let get = |name: &str, idx: usize| -> Option<String> {
        kwargs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .or_else(|| positional.get(idx).cloned())
            .and_then(|v| value_to_opt_string(&v))
    };
    let mut r = Relation::new(
        get("database", 0).as_deref(),
        &get("schema", 1).unwrap_or_default(),
        &get("identifier", 2).unwrap_or_default(),
    );
    r.kind = get("type", 3);
    r.quote_policy = quote_policy;
    RelationObject::value(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_that_are_not_plain_names_are_quoted_whatever_the_policy() {
        let mut r = Relation::new(Some("DB"), "ci", "Odd \"Model\" Name");
        r.quote_policy = Policy::NONE;
        assert_eq!(r.render(), "DB.ci.\"Odd \"\"Model\"\" Name\"");
    }

    #[test]
    fn renders_quoted_parts() {
        let r = Relation::new(Some("db"), "main", "my \"t\"");
        assert_eq!(r.render(), r#""db"."main"."my ""t""""#);
    }

    #[test]
    fn snowflake_policy_does_not_quote_and_skips_empty_database() {
        let mut r = Relation::new(None, "S", "T");
        r.quote_policy = Relation::default_quote_policy("snowflake");
        assert_eq!(r.render(), "S.T");
    }
}
