//! `unit_tests:` entries of property files → `unit_test` nodes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use hangar_graph::ResourceType;
use hangar_project::config::merge_config;
use hangar_project::properties::PropertyFile;
use hangar_project::{Diagnostic, Package, codes, suggest};
use regex::Regex;
use serde_json::{Map, Value};

use super::{FixtureRows, InputRef, UnitInput, UnitTestData};
use crate::node::Node;
use crate::parse::drafts::{folder_configs, path_string};
use crate::session::Session;

/// Every unit test of every package; problems go to `diagnostics`.
pub(crate) fn unit_test_nodes<'n>(
    session: &Session,
    files: &[&PropertyFile],
    nodes: impl Iterator<Item = &'n Node>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Node> {
    let models: HashMap<(&str, &str), &Node> = nodes
        .filter(|n| n.resource_type == ResourceType::Model)
        .map(|n| ((n.package_name.as_str(), n.name.as_str()), n))
        .collect();
    let root = session.root_package();
    let mut out = Vec::new();
    for file in files {
        let Some(package) = session.project.package(&file.package) else {
            continue;
        };
        for entry in &file.unit_tests {
            let place = Place { file, package };
            match unit_test_node(&place, root, entry, &models) {
                Ok(node) => out.push(node),
                Err(d) => diagnostics.push(*d),
            }
        }
    }
    out
}

struct Place<'a> {
    file: &'a PropertyFile,
    package: &'a Package,
}

impl Place<'_> {
    /// An error located at the line naming the test (or the file's start).
    fn error(&self, test: &str, message: String) -> Box<Diagnostic> {
        let line = line_of(&self.file.contents, test);
        Box::new(
            Diagnostic::error(codes::YAML_SCHEMA, message)
                .at(self.file.path.clone(), line, 1)
                .with_source(self.file.contents.clone(), 0),
        )
    }
}

/// 1-based line of `name: <test>` in the file, 1 when not found.
fn line_of(contents: &str, test: &str) -> usize {
    contents
        .lines()
        .position(|l| {
            let l = l.trim_start().trim_start_matches("- ").trim();
            l.strip_prefix("name:")
                .is_some_and(|v| v.trim().trim_matches(['"', '\'']) == test)
        })
        .map_or(1, |i| i + 1)
}

fn unit_test_node(
    place: &Place<'_>,
    root: &Package,
    entry: &Value,
    models: &HashMap<(&str, &str), &Node>,
) -> Result<Node, Box<Diagnostic>> {
    let Some(map) = entry.as_object() else {
        return Err(place.error("", "each unit_tests entry must be a mapping".into()));
    };
    let name = map
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| place.error("", "a unit test needs a `name`".into()))?;
    let model_name = map
        .get("model")
        .and_then(Value::as_str)
        .ok_or_else(|| place.error(name, format!("unit test `{name}` needs a `model`")))?;
    let package = place.package.name.as_str();
    let Some(model) = models.get(&(package, model_name)) else {
        let candidates = models
            .keys()
            .filter(|(p, _)| *p == package)
            .map(|(_, n)| *n);
        let mut d = place.error(
            name,
            format!("unit test `{name}` names model `{model_name}`, which does not exist in package `{package}`"),
        );
        if let Some(near) = suggest(model_name, candidates) {
            d = Box::new(d.with_hint(format!("did you mean `{near}`?")));
        }
        return Err(d);
    };
    let test_dirs = fixture_dirs(place.package);
    let given = match map.get("given") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|g| given_input(g, &test_dirs).map_err(|m| place.error(name, m)))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(place.error(name, "`given` must be a list of inputs".into())),
    };
    let expect = match map.get("expect") {
        Some(Value::Object(e)) => {
            fixture_rows(e, &test_dirs).map_err(|m| place.error(name, format!("`expect`: {m}")))?
        }
        _ => return Err(place.error(name, format!("unit test `{name}` needs `expect` with rows"))),
    };
    let overrides = overrides(map.get("overrides")).map_err(|m| place.error(name, m))?;

    let mut fqn = model.fqn.clone();
    fqn.push(name.to_string());
    let folder = folder_configs(ResourceType::UnitTest, place.package, root, &fqn);
    let mut config = folder.config;
    let mut unrendered = folder.unrendered;
    if let Some(own) = map.get("config").and_then(Value::as_object) {
        merge_config(&mut config, own);
        merge_config(&mut unrendered, own);
    }
    let original = path_string(&place.file.path);
    let mut node = Node {
        unique_id: format!("unit_test.{package}.{model_name}.{name}"),
        original_file_path: original.clone(),
        path: crate::parse::drafts::yaml_path_in_folder(&original, &place.package.config)
            .to_string(),
        fqn,
        description: map
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        depends_on_nodes: vec![model.unique_id.clone()],
        abs_path: place.package.root.join(&place.file.path),
        ..Node::new(ResourceType::UnitTest, package, name, config)
    };
    node.unrendered_config = crate::node::share_config(unrendered);
    crate::parse::finish_node_config(&mut node);
    node.unit = Some(Box::new(UnitTestData {
        model_id: model.unique_id.clone(),
        given,
        expect,
        overrides,
        definition: entry.clone(),
    }));
    Ok(node)
}

/// Where `fixture: name` files live: `<test-path>/fixtures/`.
fn fixture_dirs(package: &Package) -> Vec<PathBuf> {
    package
        .config
        .test_paths
        .iter()
        .map(|p| package.root.join(p).join("fixtures"))
        .collect()
}

static REF_CALL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^ref\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?(?:,\s*v(?:ersion)?\s*=\s*['"]?[^)]*)?\)$"#)
        .expect("valid regex")
});
static SOURCE_CALL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^source\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)$"#).expect("valid regex")
});

/// `ref('a')`, `ref('pkg', 'a')`, `source('s', 't')` or `this`.
pub(super) fn parse_input(text: &str) -> Option<InputRef> {
    let text = text.trim();
    if text == "this" {
        return Some(InputRef::This);
    }
    if let Some(c) = REF_CALL.captures(text) {
        let first = c.get(1)?.as_str().to_string();
        return Some(match c.get(2) {
            Some(second) => InputRef::Ref {
                package: Some(first),
                name: second.as_str().to_string(),
            },
            None => InputRef::Ref {
                package: None,
                name: first,
            },
        });
    }
    SOURCE_CALL.captures(text).map(|c| InputRef::Source {
        source: c[1].to_string(),
        table: c[2].to_string(),
    })
}

fn given_input(entry: &Value, dirs: &[PathBuf]) -> Result<UnitInput, String> {
    let map = entry
        .as_object()
        .ok_or("each `given` entry must be a mapping with `input` and `rows`")?;
    let written = map
        .get("input")
        .and_then(Value::as_str)
        .ok_or("a `given` entry needs `input: ref('…')` or `source('…', '…')`")?;
    let input = parse_input(written).ok_or_else(|| {
        format!("`input: {written}` is not `ref('…')`, `source('…', '…')` or `this`")
    })?;
    let rows = fixture_rows(map, dirs).map_err(|m| format!("input `{written}`: {m}"))?;
    Ok(UnitInput {
        input,
        written: written.to_string(),
        rows,
    })
}

/// `format` + `rows` or `fixture` → rows or SQL.
fn fixture_rows(map: &Map<String, Value>, dirs: &[PathBuf]) -> Result<FixtureRows, String> {
    let format = map.get("format").and_then(Value::as_str).unwrap_or("dict");
    let inline = map.get("rows").filter(|v| !v.is_null());
    let text = |ext: &str| -> Result<String, String> {
        match (inline, map.get("fixture").and_then(Value::as_str)) {
            (Some(Value::String(s)), _) => Ok(s.clone()),
            (Some(_), _) => Err(format!("`rows` must be a string for format `{format}`")),
            (None, Some(name)) => read_fixture(dirs, name, ext),
            (None, None) => Err("give `rows` or `fixture`".into()),
        }
    };
    match format {
        "dict" => match inline {
            Some(Value::Array(rows)) => rows
                .iter()
                .map(|r| {
                    r.as_object()
                        .cloned()
                        .ok_or_else(|| "each row of format `dict` must be a mapping".to_string())
                })
                .collect::<Result<_, _>>()
                .map(FixtureRows::Rows),
            None if map.contains_key("fixture") => Err(
                "format `dict` takes rows inline; use format `csv` or `sql` with `fixture`".into(),
            ),
            None => Ok(FixtureRows::Rows(Vec::new())),
            Some(_) => Err("rows of format `dict` must be a list of mappings".into()),
        },
        "csv" => csv_rows(&text("csv")?).map(FixtureRows::Rows),
        "sql" => Ok(FixtureRows::Sql(text("sql")?)),
        other => Err(format!(
            "unknown format `{other}` (expected dict, csv or sql)"
        )),
    }
}

fn read_fixture(dirs: &[PathBuf], name: &str, ext: &str) -> Result<String, String> {
    let file = format!("{name}.{ext}");
    dirs.iter()
        .map(|d| d.join(&file))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            let looked: Vec<String> = dirs.iter().map(|d| display(&d.join(&file))).collect();
            format!(
                "fixture `{name}` not found (looked for {})",
                looked.join(", ")
            )
        })
        .and_then(|p| std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", display(&p))))
}

fn display(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// CSV text with a header → rows of strings; an empty field is NULL.
pub(super) fn csv_rows(text: &str) -> Result<Vec<Map<String, Value>>, String> {
    let trimmed: String = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(trimmed.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("csv header: {e}"))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("csv row {}: {e}", i + 1))?;
        let row = header
            .iter()
            .zip(record.iter())
            .map(|(k, v)| {
                let value = if v.is_empty() {
                    Value::Null
                } else {
                    Value::String(v.to_string())
                };
                (k.clone(), value)
            })
            .collect();
        rows.push(row);
    }
    Ok(rows)
}

fn overrides(value: Option<&Value>) -> Result<hangar_jinja::Overrides, String> {
    let Some(map) = value.filter(|v| !v.is_null()) else {
        return Ok(Default::default());
    };
    let map = map
        .as_object()
        .ok_or("`overrides` must be a mapping of macros, vars and env_vars")?;
    let section = |key: &str| -> Result<Map<String, Value>, String> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(Map::new()),
            Some(Value::Object(m)) => Ok(m.clone()),
            Some(_) => Err(format!("`overrides.{key}` must be a mapping")),
        }
    };
    if let Some(unknown) = map
        .keys()
        .find(|k| !matches!(k.as_str(), "macros" | "vars" | "env_vars"))
    {
        return Err(format!(
            "unknown key `overrides.{unknown}` (expected macros, vars or env_vars)"
        ));
    }
    Ok(hangar_jinja::Overrides {
        macros: section("macros")?,
        vars: section("vars")?,
        env_vars: section("env_vars")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn inputs_parse_in_every_form() {
        assert_eq!(
            parse_input("ref('stg_members')"),
            Some(InputRef::Ref {
                package: None,
                name: "stg_members".into()
            })
        );
        assert_eq!(
            parse_input(" ref(\"pkg\", \"m\") "),
            Some(InputRef::Ref {
                package: Some("pkg".into()),
                name: "m".into()
            })
        );
        assert_eq!(
            parse_input("ref('m', v=2)"),
            Some(InputRef::Ref {
                package: None,
                name: "m".into()
            })
        );
        assert_eq!(
            parse_input("source('gym_ops', 'members')"),
            Some(InputRef::Source {
                source: "gym_ops".into(),
                table: "members".into()
            })
        );
        assert_eq!(parse_input("this"), Some(InputRef::This));
        assert_eq!(parse_input("members"), None);
    }

    #[test]
    fn csv_rows_trim_and_null_empty_fields() {
        let rows = csv_rows("  id, name\n  1, gerda\n  2,\n").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["name"], json!("gerda"));
        assert_eq!(rows[1]["name"], Value::Null);
        assert_eq!(rows[1]["id"], json!("2"));
    }

    #[test]
    fn formats_and_their_errors() {
        let dirs = Vec::new();
        let dict = json!({"rows": [{"id": 1}]});
        assert_eq!(
            fixture_rows(dict.as_object().unwrap(), &dirs).unwrap(),
            FixtureRows::Rows(vec![json!({"id": 1}).as_object().unwrap().clone()])
        );
        let sql = json!({"format": "sql", "rows": "select 1 as id"});
        assert_eq!(
            fixture_rows(sql.as_object().unwrap(), &dirs).unwrap(),
            FixtureRows::Sql("select 1 as id".into())
        );
        let bad = json!({"format": "parquet", "rows": []});
        assert!(
            fixture_rows(bad.as_object().unwrap(), &dirs)
                .unwrap_err()
                .contains("unknown format `parquet`")
        );
        let missing = json!({"format": "csv", "fixture": "nope"});
        assert!(
            fixture_rows(missing.as_object().unwrap(), &dirs)
                .unwrap_err()
                .contains("fixture `nope` not found")
        );
    }

    #[test]
    fn overrides_reject_unknown_sections() {
        let ok = overrides(Some(
            &json!({"macros": {"is_incremental": true}, "vars": {"x": 1}}),
        ))
        .unwrap();
        assert_eq!(ok.macros["is_incremental"], json!(true));
        assert_eq!(ok.vars["x"], json!(1));
        assert!(
            overrides(Some(&json!({"macro": {}})))
                .unwrap_err()
                .contains("overrides.macro")
        );
    }

    #[test]
    fn test_line_is_found() {
        let text = "unit_tests:\n  - name: a\n    model: m\n  - name: \"b\"\n";
        assert_eq!(line_of(text, "b"), 4);
        assert_eq!(line_of(text, "zzz"), 1);
    }
}
