//! Artifacts built from scratch the way the engine builds them: snapshotted,
//! and checked to have the same keys, per resource type, as dbt's.

use std::collections::BTreeMap;
use std::path::PathBuf;

use hangar_artifacts::catalog::{Catalog, CatalogColumn, CatalogTable, TableMetadata, no_stats};
use hangar_artifacts::config_defaults;
use hangar_artifacts::manifest::{
    ColumnInfo, DependsOn, FileHash, Manifest, ManifestDoc, ManifestMacro, ManifestMetadata,
    ManifestNode, ManifestSource, Quoting, RefArgs, ResourceType, TestMetadata,
};
use hangar_artifacts::run_results::{
    AdapterResponse, RunResult, RunResults, RunStatus, TimingInfo, worker_thread_id,
};
use hangar_artifacts::{ArtifactMetadata, DBT_VERSION, project_id};
use indexmap::IndexMap;
use serde_json::{Value, json};

const STARTED: &str = "2024-01-01T00:00:00.000000Z";
const GENERATED: &str = "2024-01-01T00:00:05.000000Z";
const INVOCATION: &str = "00000000-0000-0000-0000-000000000000";

fn base_metadata(schema_url: &str) -> ArtifactMetadata {
    ArtifactMetadata {
        dbt_schema_version: schema_url.to_string(),
        dbt_version: DBT_VERSION.to_string(),
        generated_at: GENERATED.to_string(),
        invocation_id: Some(INVOCATION.to_string()),
        invocation_started_at: Some(STARTED.to_string()),
        env: BTreeMap::new(),
    }
}

fn manifest_metadata() -> ManifestMetadata {
    let quoting = Quoting {
        database: Some(true),
        schema: Some(true),
        identifier: Some(true),
        column: None,
    };
    ManifestMetadata {
        generated_at: GENERATED.to_string(),
        invocation_started_at: Some(STARTED.to_string()),
        run_started_at: Some(STARTED.to_string()),
        ..ManifestMetadata::new("jaffle", "duckdb", INVOCATION, chrono::Utc::now(), quoting)
    }
}

/// A node with the fields every resource type shares, as the engine fills them.
fn node(resource_type: ResourceType, name: &str, path: &str) -> ManifestNode<'static> {
    let prefix = resource_type.as_str();
    let folder = match resource_type {
        ResourceType::Analysis => "analyses",
        ResourceType::Seed => "seeds",
        ResourceType::Snapshot => "snapshots",
        ResourceType::Test => "tests",
        _ => "models",
    };
    ManifestNode {
        database: Some("dev".into()),
        schema: "main".into(),
        name: name.to_string().into(),
        resource_type,
        package_name: "jaffle".into(),
        path: path.to_string().into(),
        original_file_path: format!("{folder}/{path}").into(),
        unique_id: format!("{prefix}.jaffle.{name}").into(),
        fqn: vec!["jaffle".into(), name.into()].into(),
        alias: name.to_string().into(),
        checksum: FileHash::sha256(name.as_bytes()),
        config: config_defaults::for_resource_type(resource_type).into(),
        created_at: 1_704_067_200.5,
        language: "sql".into(),
        raw_code: format!("select 1 as {name}").into(),
        // As after `hangar build`: everything but seeds was compiled.
        compiled: resource_type != ResourceType::Seed,
        compiled_code: Some(format!("select 1 as {name}").into()),
        extra_ctes_injected: true,
        ..ManifestNode::default()
    }
}

fn model() -> ManifestNode<'static> {
    let mut model = node(ResourceType::Model, "orders", "orders.sql");
    model.relation_name = Some(r#""dev"."main"."orders""#.into());
    model.refs = vec![RefArgs {
        name: "customers".into(),
        ..RefArgs::default()
    }];
    model.sources = vec![vec!["shop".into(), "raw_orders".into()]];
    model.depends_on = DependsOn {
        macros: vec![].into(),
        nodes: vec![
            "seed.jaffle.customers".into(),
            "source.jaffle.shop.raw_orders".into(),
        ]
        .into(),
    };
    model.columns.to_mut().insert(
        "id".into(),
        ColumnInfo {
            name: "id".into(),
            description: "The id".into(),
            data_type: Some("integer".into()),
            ..ColumnInfo::default()
        },
    );
    model.access = Some("protected".into());
    model.primary_key = vec!["id".into()].into();
    model.compiled = true;
    model.compiled_path = Some("target/compiled/jaffle/models/orders.sql".into());
    model.compiled_code = Some(r#"select 1 from "dev"."main"."customers""#.into());
    model.extra_ctes_injected = true;
    model
}

fn seed() -> ManifestNode<'static> {
    let mut seed = node(ResourceType::Seed, "customers", "customers.csv");
    seed.raw_code = "".into();
    seed.root_path = Some("/project".into());
    seed
}

fn generic_test() -> ManifestNode<'static> {
    let name = "not_null_orders_id";
    let mut test = node(ResourceType::Test, name, "not_null_orders_id.sql");
    test.unique_id = format!("test.jaffle.{name}.6bd2c50f02").into();
    test.schema = "main_dbt_test__audit".into();
    test.original_file_path = "models/schema.yml".into();
    test.checksum = FileHash::none();
    test.raw_code = "{{ test_not_null(**_dbt_generic_test_kwargs) }}".into();
    test.depends_on = DependsOn {
        macros: vec!["macro.dbt.test_not_null".into()].into(),
        nodes: vec!["model.jaffle.orders".into()].into(),
    };
    test.column_name = Some("id".into());
    test.file_key_name = Some("models.orders".into());
    test.attached_node = Some("model.jaffle.orders".into());
    let mut kwargs = serde_json::Map::new();
    kwargs.insert("column_name".into(), json!("id"));
    kwargs.insert(
        "model".into(),
        json!("{{ get_where_subquery(ref('orders')) }}"),
    );
    test.test_metadata = Some(TestMetadata {
        name: "not_null".into(),
        kwargs: kwargs.into(),
        namespace: None,
    });
    test
}

fn operation() -> ManifestNode<'static> {
    let mut hook = node(
        ResourceType::Operation,
        "jaffle-on-run-start-0",
        "hooks/jaffle-on-run-start-0.sql",
    );
    hook.original_file_path = "./dbt_project.yml".into();
    hook.fqn = vec!["jaffle".into(), "hooks".into(), hook.name.to_string()].into();
    hook.tags = vec!["on-run-start".into()].into();
    hook.index = Some(0);
    hook
}

fn source() -> ManifestSource {
    ManifestSource {
        database: Some("dev".into()),
        schema: "raw".into(),
        name: "raw_orders".into(),
        package_name: "jaffle".into(),
        path: "models/schema.yml".into(),
        original_file_path: "models/schema.yml".into(),
        unique_id: "source.jaffle.shop.raw_orders".into(),
        fqn: vec!["jaffle".into(), "shop".into(), "raw_orders".into()],
        source_name: "shop".into(),
        identifier: "raw_orders".into(),
        freshness: Some(Default::default()),
        config: config_defaults::for_resource_type(ResourceType::Source).into(),
        relation_name: Some(r#""dev"."raw"."raw_orders""#.into()),
        created_at: 1_704_067_200.5,
        unrendered_schema: Some("raw".into()),
        ..ManifestSource::default()
    }
}

fn built_manifest() -> Manifest {
    let mut manifest = Manifest::new(manifest_metadata());
    let nodes = [
        model(),
        seed(),
        node(
            ResourceType::Snapshot,
            "orders_snapshot",
            "orders_snapshot.sql",
        ),
        generic_test(),
        node(ResourceType::Test, "assert_positive", "assert_positive.sql"),
        node(ResourceType::Analysis, "order_count", "order_count.sql"),
        operation(),
    ];
    for node in nodes {
        manifest.nodes.insert(node.unique_id.to_string(), node);
    }
    let source = source();
    manifest.sources.insert(source.unique_id.clone(), source);
    let mac = ManifestMacro {
        name: "cents".into(),
        package_name: "jaffle".into(),
        path: "macros/cents.sql".into(),
        original_file_path: "macros/cents.sql".into(),
        unique_id: "macro.jaffle.cents".into(),
        macro_sql: "{% macro cents(c) %}{{ c }} / 100{% endmacro %}".into(),
        ..ManifestMacro::default()
    };
    manifest.macros.insert(mac.unique_id.clone(), mac);
    let doc = ManifestDoc {
        name: "orders_doc".into(),
        package_name: "jaffle".into(),
        path: "docs.md".into(),
        original_file_path: "models/docs.md".into(),
        unique_id: "doc.jaffle.orders_doc".into(),
        block_contents: "Orders.".into(),
        ..ManifestDoc::default()
    };
    manifest.docs.insert(doc.unique_id.clone(), doc);
    manifest.build_parent_child_maps();
    manifest
}

fn reference_manifest() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/manifest_build.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn kind(node: &Value) -> String {
    let generic = if node.get("test_metadata").is_some() {
        "/generic"
    } else {
        ""
    };
    format!(
        "{}{generic}",
        node["resource_type"].as_str().unwrap_or_default()
    )
}

fn keys(value: &Value) -> Vec<String> {
    value
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Top-level, `config` and column keys of one node of each kind.
fn shapes(nodes: &Value) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut shapes = BTreeMap::new();
    for node in nodes.as_object().unwrap().values() {
        let columns = node["columns"].as_object().and_then(|c| c.values().next());
        let shape = vec![
            keys(node),
            keys(&node["config"]),
            columns.map(keys).unwrap_or_default(),
        ];
        shapes.entry(kind(node)).or_insert(shape);
    }
    shapes
}

#[test]
fn built_manifest_snapshot() {
    insta::assert_json_snapshot!(built_manifest());
}

#[test]
fn built_nodes_have_dbt_keys_for_each_type() {
    let built = serde_json::to_value(built_manifest()).unwrap();
    let reference = reference_manifest();
    let (ours, dbts) = (shapes(&built["nodes"]), shapes(&reference["nodes"]));
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        dbts.keys().collect::<Vec<_>>()
    );
    for (kind, dbt_shape) in &dbts {
        let our_shape = &ours[kind];
        assert_eq!(our_shape[0], dbt_shape[0], "{kind}: node keys");
        if kind != "seed" && kind != "model" {
            // The reference project overrides seed/model configs; defaults
            // are compared below through the snapshot instead.
            assert_eq!(our_shape[1], dbt_shape[1], "{kind}: config keys");
        }
    }
    assert_eq!(ours["model"][2], dbts["model"][2], "column keys");
}

#[test]
fn built_source_macro_doc_have_dbt_keys() {
    let built = serde_json::to_value(built_manifest()).unwrap();
    let reference = reference_manifest();
    let first = |v: &Value, section: &str| {
        v[section]
            .as_object()
            .unwrap()
            .values()
            .next()
            .cloned()
            .unwrap()
    };
    for section in ["sources", "macros", "docs"] {
        assert_eq!(
            keys(&first(&built, section)),
            keys(&first(&reference, section)),
            "{section}"
        );
    }
    let source = first(&built, "sources");
    assert_eq!(
        keys(&source["config"]),
        keys(&first(&reference, "sources")["config"])
    );
    assert_eq!(
        keys(&built["metadata"]),
        keys(&reference["metadata"]),
        "metadata"
    );
    assert_eq!(keys(&built), keys(&reference), "top level");
}

#[test]
fn manifest_metadata_identifies_project_without_tracking() {
    let metadata = manifest_metadata();
    assert_eq!(
        metadata.project_id.as_deref(),
        Some(project_id("jaffle").as_str())
    );
    assert_eq!(metadata.user_id, None);
    assert_eq!(metadata.send_anonymous_usage_stats, Some(false));
}

fn timing(start: &str, end: &str) -> Vec<TimingInfo> {
    ["compile", "execute"]
        .into_iter()
        .map(|name| TimingInfo {
            name: name.into(),
            started_at: Some(start.into()),
            completed_at: Some(end.into()),
        })
        .collect()
}

fn result(status: RunStatus, unique_id: &str) -> RunResult {
    RunResult {
        status,
        timing: timing(STARTED, GENERATED),
        thread_id: worker_thread_id(0),
        execution_time: 0.5,
        adapter_response: AdapterResponse::message("OK"),
        message: None,
        failures: None,
        unique_id: unique_id.into(),
        compiled: Some(true),
        compiled_code: Some("select 1".into()),
        relation_name: None,
        batch_results: None,
    }
}

#[test]
fn run_results_snapshot() {
    let seed = RunResult {
        adapter_response: AdapterResponse {
            message: Some("INSERT 2".into()),
            code: Some("INSERT".into()),
            rows_affected: Some(2),
            ..AdapterResponse::default()
        },
        message: Some("INSERT 2".into()),
        compiled: None,
        compiled_code: None,
        ..result(RunStatus::Success, "seed.jaffle.customers")
    };
    let test = |status, failures, message: Option<&str>| RunResult {
        failures: Some(failures),
        message: message.map(String::from),
        ..result(status, "test.jaffle.t")
    };
    let skipped = RunResult {
        timing: vec![],
        execution_time: 0.0,
        adapter_response: AdapterResponse::default(),
        compiled: Some(false),
        compiled_code: None,
        ..result(RunStatus::Skipped, "model.jaffle.after_bad")
    };
    let error = RunResult {
        adapter_response: AdapterResponse::default(),
        message: Some("Runtime Error in model bad (models/bad.sql)".into()),
        ..result(RunStatus::Error, "model.jaffle.bad")
    };
    let results = vec![
        seed,
        RunResult {
            message: Some("OK".into()),
            ..result(RunStatus::Success, "model.jaffle.orders")
        },
        test(RunStatus::Pass, 0, None),
        test(
            RunStatus::Fail,
            1,
            Some("Got 1 result, configured to fail if != 0"),
        ),
        test(
            RunStatus::Warn,
            1,
            Some("Got 1 result, configured to warn if != 0"),
        ),
        error,
        skipped,
        result(RunStatus::RuntimeError, "source.jaffle.shop.raw_orders"),
    ];
    let mut args = serde_json::Map::new();
    args.insert("which".into(), json!("build"));
    let run_results = RunResults {
        metadata: base_metadata(hangar_artifacts::run_results::RUN_RESULTS_SCHEMA_URL),
        results,
        elapsed_time: 1.25,
        args,
    };
    insta::assert_json_snapshot!(run_results);
}

#[test]
fn catalog_snapshot() {
    let column = |name: &str, type_: &str, index| CatalogColumn {
        type_: type_.into(),
        index,
        name: name.into(),
        comment: None,
    };
    // Insertion (column) order is kept, not sorted by name.
    let columns = IndexMap::from([
        ("id".to_string(), column("id", "INTEGER", 1)),
        (
            "customer_id".to_string(),
            column("customer_id", "INTEGER", 2),
        ),
    ]);
    let table = CatalogTable {
        metadata: TableMetadata {
            type_: "VIEW".into(),
            schema: "main".into(),
            name: "orders".into(),
            database: Some("dev".into()),
            comment: None,
            owner: None,
        },
        columns,
        stats: no_stats(),
        unique_id: Some("model.jaffle.orders".into()),
    };
    let catalog = Catalog {
        metadata: base_metadata(hangar_artifacts::catalog::CATALOG_SCHEMA_URL),
        nodes: BTreeMap::from([("model.jaffle.orders".to_string(), table)]),
        sources: BTreeMap::new(),
        errors: None,
    };
    insta::assert_json_snapshot!(catalog);
}

#[test]
fn parallel_manifest_json_is_byte_identical_to_serde() {
    let mut manifest = built_manifest();
    // Nodes share config maps, as the engine's do: the writer serializes a
    // shared map once per batch and must still write each node's own.
    let shared = model().config;
    let mut other = (*shared).clone();
    other.insert("materialized".into(), json!("table"));
    let other: hangar_artifacts::SharedJsonMap = other.into();
    // Enough nodes to span several batches of parallel chunks.
    for i in 0..9000 {
        let mut n = model();
        n.unique_id = format!("model.jaffle.m{i:04}").into();
        n.name = format!("m{i:04}").into();
        n.config = if i % 3 == 0 {
            other.clone()
        } else {
            shared.clone()
        };
        if i % 2 == 0 {
            n.unrendered_config = other.clone();
        }
        manifest.nodes.insert(n.unique_id.to_string(), n);
    }
    let parallel = manifest.to_json().expect("serialize");
    assert!(
        manifest.nodes.len() > 2 * 4096,
        "spans several write batches"
    );
    assert_eq!(parallel, serde_json::to_vec(&manifest).expect("serde"));
}
