//! Property YAML (`version: 2` files): models, seeds, snapshots, analyses,
//! sources, macros, exposures, unit tests.
//!
//! A file is parsed once into a JSON value and then read field by field, so a
//! wrong shape in one entry is reported (H103) while the rest is still used.
//! yaml_serde gives no spans for values: each entry's line is found by
//! searching for its `name: X` in the text, moving forward from the last match.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::diagnostic::{Diagnostic, codes};
use crate::files::SourceFile;
use crate::yaml::{self, FieldReader};

/// A parsed property file.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PropertyFile {
    pub package: String,
    /// Path relative to the package root.
    pub path: PathBuf,
    /// The file's text, for diagnostics' snippets.
    #[serde(skip)]
    pub contents: std::sync::Arc<str>,
    pub models: Vec<NodePatch>,
    pub seeds: Vec<NodePatch>,
    pub snapshots: Vec<NodePatch>,
    pub analyses: Vec<NodePatch>,
    pub sources: Vec<SourceDef>,
    pub macros: Vec<MacroPatch>,
    pub exposures: Vec<ExposureDef>,
    pub unit_tests: Vec<Value>,
    pub groups: Vec<Value>,
    pub metrics: Vec<Value>,
    pub semantic_models: Vec<Value>,
    pub saved_queries: Vec<Value>,
    /// Other top-level keys, kept as written.
    pub extra: Map<String, Value>,
}

impl PropertyFile {
    /// Drops the entries, keeping the file's package, path and text.
    pub fn release_entries(&mut self) {
        *self = PropertyFile {
            package: std::mem::take(&mut self.package),
            path: std::mem::take(&mut self.path),
            contents: self.contents.clone(),
            ..PropertyFile::default()
        };
    }
}

/// Properties of a model, seed, snapshot or analysis.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NodePatch {
    pub name: String,
    pub description: Option<String>,
    pub config: Map<String, Value>,
    pub columns: Vec<ColumnDef>,
    /// From both `tests:` and `data_tests:`.
    pub data_tests: Vec<TestDef>,
    pub docs: Map<String, Value>,
    pub meta: Map<String, Value>,
    pub tags: Vec<String>,
    pub constraints: Vec<Value>,
    /// Model versions as written.
    pub versions: Vec<Value>,
    pub latest_version: Option<Value>,
    pub access: Option<String>,
    pub group: Option<String>,
    /// 1-based line of the entry's `name:`.
    pub line: usize,
    /// Keys not typed above (e.g. `deprecation_date`, `time_spine`, `relation`).
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ColumnDef {
    pub name: String,
    pub description: Option<String>,
    pub data_type: Option<String>,
    pub meta: Map<String, Value>,
    pub tags: Vec<String>,
    pub quote: Option<bool>,
    pub constraints: Vec<Value>,
    pub data_tests: Vec<TestDef>,
    pub config: Map<String, Value>,
    pub line: usize,
    pub extra: Map<String, Value>,
}

/// A data test as written: `"unique"`, `{relationships: {to: …, field: …}}`,
/// `{accepted_values: {values: […], arguments: …}}`…
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestDef {
    pub raw: Value,
    pub line: usize,
}

impl TestDef {
    /// The test's name: the string, or the single key of the mapping.
    pub fn test_name(&self) -> Option<&str> {
        match &self.raw {
            Value::String(name) => Some(name),
            Value::Object(map) => map.keys().next().map(String::as_str),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SourceDef {
    pub name: String,
    pub description: Option<String>,
    pub database: Option<String>,
    /// Defaults to the source name.
    pub schema: String,
    pub loader: Option<String>,
    pub config: Map<String, Value>,
    pub meta: Map<String, Value>,
    pub tags: Vec<String>,
    pub quoting: Map<String, Value>,
    pub loaded_at_field: Option<String>,
    /// `Some(Null)` when written as `freshness: null` (which disables it).
    pub freshness: Option<Value>,
    pub overrides: Option<String>,
    pub tables: Vec<SourceTableDef>,
    pub line: usize,
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SourceTableDef {
    pub name: String,
    pub identifier: Option<String>,
    pub description: Option<String>,
    pub columns: Vec<ColumnDef>,
    pub data_tests: Vec<TestDef>,
    pub meta: Map<String, Value>,
    pub tags: Vec<String>,
    pub config: Map<String, Value>,
    pub quoting: Map<String, Value>,
    pub loaded_at_field: Option<String>,
    /// `Some(Null)` when written as `freshness: null`.
    pub freshness: Option<Value>,
    pub external: Option<Value>,
    pub line: usize,
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MacroPatch {
    pub name: String,
    pub description: Option<String>,
    pub arguments: Vec<Value>,
    pub docs: Map<String, Value>,
    pub meta: Map<String, Value>,
    pub config: Map<String, Value>,
    pub line: usize,
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExposureDef {
    pub name: String,
    /// `type:` (dashboard, notebook, analysis, ml, application).
    pub exposure_type: Option<String>,
    pub label: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    pub maturity: Option<String>,
    pub owner: Map<String, Value>,
    /// `ref(...)`/`source(...)` strings as written; the Jinja layer resolves them.
    pub depends_on: Vec<String>,
    pub meta: Map<String, Value>,
    pub tags: Vec<String>,
    pub config: Map<String, Value>,
    pub line: usize,
    pub extra: Map<String, Value>,
}

/// Parses many property files in parallel; results keep the input order.
pub fn parse_property_files(
    files: &[SourceFile],
    display_root: &Path,
) -> (Vec<PropertyFile>, Vec<Diagnostic>) {
    let parsed: Vec<(PropertyFile, Vec<Diagnostic>)> = files
        .par_iter()
        .map(|file| parse_property_file(file, &display_root.join(&file.path)))
        .collect();
    let mut diagnostics = Vec::new();
    let mut out = Vec::with_capacity(parsed.len());
    for (file, diags) in parsed {
        out.push(file);
        diagnostics.extend(diags);
    }
    (out, diagnostics)
}

/// Parses one property file; `display` is its path as shown to the user.
pub fn parse_property_file(file: &SourceFile, display: &Path) -> (PropertyFile, Vec<Diagnostic>) {
    let mut out = PropertyFile {
        package: file.package.clone(),
        path: file.path.clone(),
        contents: file.contents.clone(),
        ..PropertyFile::default()
    };
    let value = match yaml::parse(&file.contents) {
        Ok(value) => value,
        Err(err) => {
            return (
                out,
                vec![yaml::syntax_diagnostic(display, &file.contents, &err)],
            );
        }
    };
    let map = match value {
        Value::Null => return (out, Vec::new()),
        Value::Object(map) => map,
        other => {
            let diag = Diagnostic::error(
                codes::YAML_SCHEMA,
                format!(
                    "{} must be a mapping of keys to values, found {}",
                    display.display(),
                    yaml::describe(&other)
                ),
            )
            .at(display, 1, 1);
            return (out, vec![diag]);
        }
    };
    let mut r = FieldReader::new(display, &file.contents, codes::YAML_SCHEMA);
    check_version(&mut r, &map);
    out.models = read_entries(&mut r, &map, "models", read_node_patch);
    out.seeds = read_entries(&mut r, &map, "seeds", read_node_patch);
    out.snapshots = read_entries(&mut r, &map, "snapshots", read_node_patch);
    out.analyses = read_entries(&mut r, &map, "analyses", read_node_patch);
    out.sources = read_entries(&mut r, &map, "sources", read_source);
    out.macros = read_entries(&mut r, &map, "macros", read_macro_patch);
    out.exposures = read_entries(&mut r, &map, "exposures", read_exposure);
    out.unit_tests = r.list(&map, "unit_tests", 0, "").to_vec();
    out.groups = r.list(&map, "groups", 0, "").to_vec();
    out.metrics = r.list(&map, "metrics", 0, "").to_vec();
    out.semantic_models = r.list(&map, "semantic_models", 0, "").to_vec();
    out.saved_queries = r.list(&map, "saved_queries", 0, "").to_vec();
    out.extra = extra_keys(&map, TOP_LEVEL_KEYS);
    (out, r.diagnostics)
}

const TOP_LEVEL_KEYS: &[&str] = &[
    "version",
    "models",
    "seeds",
    "snapshots",
    "analyses",
    "sources",
    "macros",
    "exposures",
    "unit_tests",
    "groups",
    "metrics",
    "semantic_models",
    "saved_queries",
];

/// `version:` is optional, but when present it must be 2.
fn check_version(r: &mut FieldReader, map: &Map<String, Value>) {
    match map.get("version") {
        None | Some(Value::Null) => {}
        Some(v) if v.as_i64() == Some(2) || v.as_str() == Some("2") => {}
        Some(v) => r.wrong_shape(0, "version", "", "2", v),
    }
}

/// Reads the list under `key`, calling `read` on each mapping with a name.
fn read_entries<T>(
    r: &mut FieldReader,
    map: &Map<String, Value>,
    key: &str,
    read: fn(&mut FieldReader, &Map<String, Value>, Entry) -> T,
) -> Vec<T> {
    let section_start = r.locator.find_key(0, key).unwrap_or(0);
    let items = r.list(map, key, 0, "");
    let mut cursor = section_start;
    let mut out = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let list = EntryList {
            key,
            index,
            start: 0,
        };
        let Some(entry) = named_entry(r, item, list, cursor, "") else {
            continue;
        };
        let offset = r.locator.find_name(cursor, &entry.name).unwrap_or(cursor);
        cursor = offset.max(cursor);
        let entry = Entry {
            offset,
            line: r.locator.line_of(offset),
            ..entry
        };
        out.push(read(r, entry.map, entry));
    }
    out
}

/// One named mapping in a list, with where its `name:` is.
struct Entry<'v> {
    name: String,
    map: &'v Map<String, Value>,
    offset: usize,
    line: usize,
}

fn named_entry<'v>(
    r: &mut FieldReader,
    item: &'v Value,
    list: EntryList,
    from: usize,
    context: &str,
) -> Option<Entry<'v>> {
    let Value::Object(map) = item else {
        let context = format!(" (entry {} of `{}`){context}", list.index + 1, list.key);
        r.wrong_shape(
            list.start,
            list.key,
            &context,
            "a list of mappings with a `name`",
            item,
        );
        return None;
    };
    let Some(name) = r.string(map, "name", from, context) else {
        // Without a name there is nothing to search for: point at the list.
        let at = r
            .locator
            .find_key(list.start, list.key)
            .unwrap_or(list.start);
        let diag = Diagnostic::error(
            codes::YAML_SCHEMA,
            format!(
                "entry {} of `{}`{context} in {} has no `name`",
                list.index + 1,
                list.key,
                r.file.display()
            ),
        )
        .at(&r.file, r.locator.line_of(at), r.locator.column_of(at))
        .with_source(Arc::clone(&r.text), list.key.chars().count());
        r.diagnostics.push(diag);
        return None;
    };
    Some(Entry {
        name,
        map,
        offset: from,
        line: 0,
    })
}

/// Which list an entry is in, for messages: its key, the entry's index and
/// where to start looking for the key.
#[derive(Clone, Copy)]
struct EntryList<'k> {
    key: &'k str,
    index: usize,
    start: usize,
}

fn extra_keys(map: &Map<String, Value>, known: &[&str]) -> Map<String, Value> {
    map.iter()
        .filter(|(key, _)| !known.contains(&key.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

const NODE_KEYS: &[&str] = &[
    "name",
    "description",
    "config",
    "columns",
    "tests",
    "data_tests",
    "docs",
    "meta",
    "tags",
    "constraints",
    "versions",
    "latest_version",
    "access",
    "group",
];

fn read_node_patch(r: &mut FieldReader, map: &Map<String, Value>, e: Entry) -> NodePatch {
    let ctx = [" of `", &e.name, "`"].concat();
    NodePatch {
        description: r.string(map, "description", e.offset, &ctx),
        config: r.object(map, "config", e.offset, &ctx),
        columns: read_columns(r, map, e.offset, &ctx),
        data_tests: read_tests(r, map, e.offset, &ctx),
        docs: r.object(map, "docs", e.offset, &ctx),
        meta: r.object(map, "meta", e.offset, &ctx),
        tags: r.string_list(map, "tags", e.offset, &ctx),
        constraints: r.list(map, "constraints", e.offset, &ctx).to_vec(),
        versions: r.list(map, "versions", e.offset, &ctx).to_vec(),
        latest_version: map.get("latest_version").filter(|v| !v.is_null()).cloned(),
        access: r.string(map, "access", e.offset, &ctx),
        group: r.string(map, "group", e.offset, &ctx),
        line: e.line,
        extra: extra_keys(map, NODE_KEYS),
        name: e.name,
    }
}

const COLUMN_KEYS: &[&str] = &[
    "name",
    "description",
    "data_type",
    "meta",
    "tags",
    "quote",
    "constraints",
    "tests",
    "data_tests",
    "config",
];

fn read_columns(
    r: &mut FieldReader,
    map: &Map<String, Value>,
    from: usize,
    ctx: &str,
) -> Vec<ColumnDef> {
    let items = r.list(map, "columns", from, ctx);
    let mut cursor = from;
    let mut columns = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let list = EntryList {
            key: "columns",
            index,
            start: from,
        };
        let Some(e) = named_entry(r, item, list, cursor, ctx) else {
            continue;
        };
        let offset = r.locator.find_name(cursor, &e.name).unwrap_or(cursor);
        cursor = offset.max(cursor);
        let col_ctx = [" of column `", &e.name, "`", ctx].concat();
        columns.push(ColumnDef {
            description: r.string(e.map, "description", offset, &col_ctx),
            data_type: r.string(e.map, "data_type", offset, &col_ctx),
            meta: r.object(e.map, "meta", offset, &col_ctx),
            tags: r.string_list(e.map, "tags", offset, &col_ctx),
            quote: read_bool(r, e.map, "quote", offset, &col_ctx),
            constraints: r.list(e.map, "constraints", offset, &col_ctx).to_vec(),
            data_tests: read_tests(r, e.map, offset, &col_ctx),
            config: r.object(e.map, "config", offset, &col_ctx),
            line: r.locator.line_of(offset),
            extra: extra_keys(e.map, COLUMN_KEYS),
            name: e.name,
        });
    }
    columns
}

fn read_bool(
    r: &mut FieldReader,
    map: &Map<String, Value>,
    key: &str,
    from: usize,
    ctx: &str,
) -> Option<bool> {
    match map.get(key)? {
        Value::Null => None,
        Value::Bool(b) => Some(*b),
        other => {
            r.wrong_shape(from, key, ctx, "true or false", other);
            None
        }
    }
}

/// Tests from `data_tests:` then `tests:`, each located by its name.
fn read_tests(
    r: &mut FieldReader,
    map: &Map<String, Value>,
    from: usize,
    ctx: &str,
) -> Vec<TestDef> {
    let mut tests = Vec::new();
    for key in ["data_tests", "tests"] {
        let items = r.list(map, key, from, ctx);
        if items.is_empty() {
            // Searching for an absent key would scan the rest of the file.
            continue;
        }
        let mut cursor = r.locator.find_key(from, key).unwrap_or(from);
        for item in items {
            let name = match item {
                Value::String(name) => Some(name.as_str()),
                Value::Object(test) if !test.is_empty() => test.keys().next().map(String::as_str),
                other => {
                    r.wrong_shape(
                        from,
                        key,
                        ctx,
                        "a list of test names or test mappings",
                        other,
                    );
                    continue;
                }
            };
            let at = name.and_then(|n| r.locator.find_word(cursor, n));
            let line = r.locator.line_of(at.unwrap_or(cursor));
            if let Some(at) = at {
                cursor = at + 1;
            }
            tests.push(TestDef {
                raw: item.clone(),
                line,
            });
        }
    }
    tests
}

const SOURCE_KEYS: &[&str] = &[
    "name",
    "description",
    "database",
    "catalog",
    "schema",
    "loader",
    "config",
    "meta",
    "tags",
    "quoting",
    "loaded_at_field",
    "freshness",
    "overrides",
    "tables",
];

fn read_source(r: &mut FieldReader, map: &Map<String, Value>, e: Entry) -> SourceDef {
    let ctx = format!(" of source `{}`", e.name);
    let database = r
        .string(map, "database", e.offset, &ctx)
        .or_else(|| r.string(map, "catalog", e.offset, &ctx));
    SourceDef {
        description: r.string(map, "description", e.offset, &ctx),
        database,
        schema: r
            .string(map, "schema", e.offset, &ctx)
            .unwrap_or_else(|| e.name.clone()),
        loader: r.string(map, "loader", e.offset, &ctx),
        config: r.object(map, "config", e.offset, &ctx),
        meta: r.object(map, "meta", e.offset, &ctx),
        tags: r.string_list(map, "tags", e.offset, &ctx),
        quoting: r.object(map, "quoting", e.offset, &ctx),
        loaded_at_field: r.string(map, "loaded_at_field", e.offset, &ctx),
        freshness: map.get("freshness").cloned(),
        overrides: r.string(map, "overrides", e.offset, &ctx),
        tables: read_source_tables(r, map, e.offset, &ctx),
        line: e.line,
        extra: extra_keys(map, SOURCE_KEYS),
        name: e.name,
    }
}

const TABLE_KEYS: &[&str] = &[
    "name",
    "identifier",
    "description",
    "columns",
    "tests",
    "data_tests",
    "meta",
    "tags",
    "config",
    "quoting",
    "loaded_at_field",
    "freshness",
    "external",
];

fn read_source_tables(
    r: &mut FieldReader,
    map: &Map<String, Value>,
    from: usize,
    ctx: &str,
) -> Vec<SourceTableDef> {
    let items = r.list(map, "tables", from, ctx);
    let mut cursor = from;
    let mut tables = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let list = EntryList {
            key: "tables",
            index,
            start: from,
        };
        let Some(e) = named_entry(r, item, list, cursor, ctx) else {
            continue;
        };
        let offset = r.locator.find_name(cursor, &e.name).unwrap_or(cursor);
        cursor = offset.max(cursor);
        let t_ctx = format!(" of table `{}`{ctx}", e.name);
        tables.push(SourceTableDef {
            identifier: r.string(e.map, "identifier", offset, &t_ctx),
            description: r.string(e.map, "description", offset, &t_ctx),
            columns: read_columns(r, e.map, offset, &t_ctx),
            data_tests: read_tests(r, e.map, offset, &t_ctx),
            meta: r.object(e.map, "meta", offset, &t_ctx),
            tags: r.string_list(e.map, "tags", offset, &t_ctx),
            config: r.object(e.map, "config", offset, &t_ctx),
            quoting: r.object(e.map, "quoting", offset, &t_ctx),
            loaded_at_field: r.string(e.map, "loaded_at_field", offset, &t_ctx),
            freshness: e.map.get("freshness").cloned(),
            external: e.map.get("external").filter(|v| !v.is_null()).cloned(),
            line: r.locator.line_of(offset),
            extra: extra_keys(e.map, TABLE_KEYS),
            name: e.name,
        });
    }
    tables
}

const MACRO_KEYS: &[&str] = &["name", "description", "arguments", "docs", "meta", "config"];

fn read_macro_patch(r: &mut FieldReader, map: &Map<String, Value>, e: Entry) -> MacroPatch {
    let ctx = format!(" of macro `{}`", e.name);
    MacroPatch {
        description: r.string(map, "description", e.offset, &ctx),
        arguments: r.list(map, "arguments", e.offset, &ctx).to_vec(),
        docs: r.object(map, "docs", e.offset, &ctx),
        meta: r.object(map, "meta", e.offset, &ctx),
        config: r.object(map, "config", e.offset, &ctx),
        line: e.line,
        extra: extra_keys(map, MACRO_KEYS),
        name: e.name,
    }
}

const EXPOSURE_KEYS: &[&str] = &[
    "name",
    "type",
    "label",
    "description",
    "url",
    "maturity",
    "owner",
    "depends_on",
    "meta",
    "tags",
    "config",
];

fn read_exposure(r: &mut FieldReader, map: &Map<String, Value>, e: Entry) -> ExposureDef {
    let ctx = format!(" of exposure `{}`", e.name);
    ExposureDef {
        exposure_type: r.string(map, "type", e.offset, &ctx),
        label: r.string(map, "label", e.offset, &ctx),
        description: r.string(map, "description", e.offset, &ctx),
        url: r.string(map, "url", e.offset, &ctx),
        maturity: r.string(map, "maturity", e.offset, &ctx),
        owner: r.object(map, "owner", e.offset, &ctx),
        depends_on: r.string_list(map, "depends_on", e.offset, &ctx),
        meta: r.object(map, "meta", e.offset, &ctx),
        tags: r.string_list(map, "tags", e.offset, &ctx),
        config: r.object(map, "config", e.offset, &ctx),
        line: e.line,
        extra: extra_keys(map, EXPOSURE_KEYS),
        name: e.name,
    }
}

/// Builds a [`SourceFile`] from text, for callers and tests that have no file.
pub fn source_file_from_text(package: &str, path: impl Into<PathBuf>, text: &str) -> SourceFile {
    use sha2::{Digest, Sha256};
    let path = path.into();
    SourceFile {
        package: package.to_string(),
        abs_path: path.clone(),
        path,
        checksum: hex::encode(Sha256::digest(text.as_bytes())),
        contents: Arc::from(text),
    }
}

#[cfg(test)]
mod tests;
