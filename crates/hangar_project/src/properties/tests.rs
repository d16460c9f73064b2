use serde_json::json;

use super::*;
use crate::diagnostic::render;

fn parse(text: &str) -> (PropertyFile, Vec<Diagnostic>) {
    let file = source_file_from_text("shop", "models/schema.yml", text);
    parse_property_file(&file, &file.path)
}

const MODELS: &str = r#"version: 2

models:
  - name: stg_members
    description: "One row per member"
    config:
      materialized: table
      tags: [nightly]
    tags: staging
    meta: {owner: data}
    columns:
      - name: member_id
        description: primary key
        data_type: integer
        quote: true
        tests:
          - unique
          - not_null
      - name: club_id
        data_tests:
          - relationships:
              to: ref('stg_clubs')
              field: club_id
          - accepted_values:
              arguments:
                values: ['a', 'b']
    data_tests:
      - dbt_utils.unique_combination_of_columns:
          combination_of_columns: [member_id, club_id]
  - name: "stg_clubs"
    access: public
    group: core
    versions:
      - v: 1
    latest_version: 1
    deprecation_date: 2030-01-01
seeds:
  - name: members
    config:
      column_types: {id: bigint}
"#;

#[test]
fn models_are_typed_with_lines() {
    let (file, diags) = parse(MODELS);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(file.models.len(), 2);
    let m = &file.models[0];
    assert_eq!(m.name, "stg_members");
    assert_eq!(m.line, 4);
    assert_eq!(m.description.as_deref(), Some("One row per member"));
    assert_eq!(m.config["materialized"], json!("table"));
    assert_eq!(m.tags, ["staging"]);
    assert_eq!(m.meta["owner"], json!("data"));
    assert_eq!(m.columns.len(), 2);

    let id = &m.columns[0];
    assert_eq!((id.name.as_str(), id.line), ("member_id", 12));
    assert_eq!(id.data_type.as_deref(), Some("integer"));
    assert_eq!(id.quote, Some(true));
    let tests: Vec<(Option<&str>, usize)> = id
        .data_tests
        .iter()
        .map(|t| (t.test_name(), t.line))
        .collect();
    assert_eq!(tests, [(Some("unique"), 17), (Some("not_null"), 18)]);

    let club = &m.columns[1];
    assert_eq!(club.line, 19);
    assert_eq!(
        club.data_tests[0].raw,
        json!({"relationships": {"to": "ref('stg_clubs')", "field": "club_id"}})
    );
    assert_eq!(club.data_tests[0].line, 21);
    assert_eq!(club.data_tests[1].test_name(), Some("accepted_values"));
    assert_eq!(club.data_tests[1].line, 24);

    assert_eq!(m.data_tests.len(), 1);
    assert_eq!(m.data_tests[0].line, 28);

    let clubs = &file.models[1];
    assert_eq!((clubs.name.as_str(), clubs.line), ("stg_clubs", 30));
    assert_eq!(clubs.access.as_deref(), Some("public"));
    assert_eq!(clubs.group.as_deref(), Some("core"));
    assert_eq!(clubs.versions, [json!({"v": 1})]);
    assert_eq!(clubs.latest_version, Some(json!(1)));
    assert_eq!(clubs.extra["deprecation_date"], json!("2030-01-01"));

    assert_eq!(file.seeds[0].name, "members");
    assert_eq!(file.seeds[0].line, 38);
}

const SOURCES: &str = r#"version: 2
sources:
  - name: raw
    database: warehouse
    loader: fivetran
    loaded_at_field: _loaded_at
    freshness:
      warn_after: {count: 12, period: hour}
    quoting:
      identifier: true
    tables:
      - name: members
        identifier: members_v2
        columns:
          - name: id
            tests: [unique]
      - name: events
        freshness: null
        external:
          location: s3://bucket/events
  - name: other
    schema: other_schema
    tables:
      - name: t
"#;

#[test]
fn sources_are_typed() {
    let (file, diags) = parse(SOURCES);
    assert!(diags.is_empty(), "{diags:?}");
    let raw = &file.sources[0];
    assert_eq!((raw.name.as_str(), raw.line), ("raw", 3));
    assert_eq!(raw.schema, "raw");
    assert_eq!(raw.database.as_deref(), Some("warehouse"));
    assert_eq!(raw.loader.as_deref(), Some("fivetran"));
    assert_eq!(raw.loaded_at_field.as_deref(), Some("_loaded_at"));
    assert_eq!(
        raw.freshness,
        Some(json!({"warn_after": {"count": 12, "period": "hour"}}))
    );
    assert_eq!(raw.quoting["identifier"], json!(true));
    let members = &raw.tables[0];
    assert_eq!((members.name.as_str(), members.line), ("members", 12));
    assert_eq!(members.identifier.as_deref(), Some("members_v2"));
    assert_eq!(members.columns[0].data_tests[0].raw, json!("unique"));
    assert_eq!(members.columns[0].data_tests[0].line, 16);
    let events = &raw.tables[1];
    assert_eq!(events.line, 17);
    assert_eq!(events.freshness, Some(Value::Null));
    assert_eq!(
        events.external,
        Some(json!({"location": "s3://bucket/events"}))
    );
    assert_eq!(members.freshness, None);

    let other = &file.sources[1];
    assert_eq!((other.schema.as_str(), other.line), ("other_schema", 21));
    assert_eq!(other.tables[0].line, 24);
}

#[test]
fn macros_exposures_and_raw_sections() {
    let text = r#"
macros:
  - name: cents_to_dollars
    description: converts
    arguments:
      - name: column_name
        type: string
exposures:
  - name: weekly_kpis
    type: dashboard
    owner: {name: Ann, email: ann@example.com}
    depends_on: ["ref('fct_orders')"]
unit_tests:
  - name: test_x
    model: fct_orders
groups:
  - name: finance
    owner: {name: Ann}
custom_key: 1
"#;
    let (file, diags) = parse(text);
    assert!(diags.is_empty(), "{diags:?}");
    let m = &file.macros[0];
    assert_eq!((m.name.as_str(), m.line), ("cents_to_dollars", 3));
    assert_eq!(m.arguments.len(), 1);
    let e = &file.exposures[0];
    assert_eq!((e.name.as_str(), e.line), ("weekly_kpis", 9));
    assert_eq!(e.exposure_type.as_deref(), Some("dashboard"));
    assert_eq!(e.depends_on, ["ref('fct_orders')"]);
    assert_eq!(e.owner["name"], json!("Ann"));
    assert_eq!(file.unit_tests[0]["model"], json!("fct_orders"));
    assert_eq!(file.groups.len(), 1);
    assert_eq!(file.extra["custom_key"], json!(1));
}

#[test]
fn wrong_shape_is_h103_and_rest_is_parsed() {
    let text = "version: 2\nmodels:\n  - name: a\n    columns: \"x\"\n    tags: [t]\n  - name: b\n    description: ok\n";
    let (file, diags) = parse(text);
    assert_eq!(file.models.len(), 2);
    assert_eq!(file.models[0].tags, ["t"]);
    assert_eq!(file.models[1].description.as_deref(), Some("ok"));
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, codes::YAML_SCHEMA);
    insta::assert_snapshot!(render(&diags[0], false));
}

#[test]
fn entries_without_names_are_reported() {
    let text = "models:\n  - description: no name\n  - name: ok\n    columns:\n      - description: x\n  - just_a_string\n";
    let (file, diags) = parse(text);
    assert_eq!(file.models.len(), 1);
    let lines: Vec<usize> = diags
        .iter()
        .map(|d| d.location.as_ref().unwrap().line)
        .collect();
    assert_eq!(lines, [1, 4, 1]);
    let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "entry 1 of `models` in models/schema.yml has no `name`",
            "entry 1 of `columns` of `ok` in models/schema.yml has no `name`",
            "`models` (entry 3 of `models`) in models/schema.yml must be a list of mappings with a `name`, found a string",
        ]
    );
}

#[test]
fn broken_yaml_is_h102() {
    let (file, diags) = parse("models:\n  - name: a\n    description: \"unclosed\n");
    assert!(file.models.is_empty());
    assert_eq!(diags[0].code, codes::YAML_SYNTAX);
    insta::assert_snapshot!(render(&diags[0], false));
}

#[test]
fn wrong_version_and_top_level_shape() {
    let (_, diags) = parse("version: 1\n");
    assert_eq!(
        diags[0].message,
        "`version` in models/schema.yml must be 2, found a number"
    );
    let (_, diags) = parse("- a\n");
    assert_eq!(diags[0].code, codes::YAML_SCHEMA);
    let (file, diags) = parse("");
    assert!(diags.is_empty());
    assert!(file.models.is_empty());
}

#[test]
fn parses_many_files_in_order() {
    let files: Vec<SourceFile> = (0..20)
        .map(|i| {
            source_file_from_text(
                "p",
                format!("models/m{i:02}.yml"),
                &format!("models:\n  - name: m{i}\n"),
            )
        })
        .collect();
    let (parsed, diags) = parse_property_files(&files, Path::new(""));
    assert!(diags.is_empty());
    let names: Vec<&str> = parsed.iter().map(|f| f.models[0].name.as_str()).collect();
    let expected: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
    assert_eq!(names, expected);
}
