//! Compiled SQL and manifest entries of a fixture project, snapshotted.

mod support;

use serde_json::Value;
use support::{copy_fixture, run_in, text};

#[test]
fn compiled_sql_and_manifest_nodes() {
    let (_tmp, project) = copy_fixture("gym_mini");
    let out = run_in(&project, &["compile"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let compiled = project.join("target/compiled/gym_mini");
    for file in [
        "models/staging/stg_members.sql",
        "models/marts/dim_members.sql",
        "models/marts/fct_visits.sql",
        "snapshots/members_snapshot.sql",
        "models/schema.yml/relationships_fct_visits_member_id__member_id__ref_stg_members_.sql",
        "models/schema.yml/accepted_values_stg_members_plan__monthly__annual__day_pass.sql",
    ] {
        let sql =
            std::fs::read_to_string(compiled.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        insta::assert_snapshot!(file.replace('/', "__"), sql);
    }

    let manifest = support::read_manifest(&project);
    for id in [
        "model.gym_mini.dim_members",
        "seed.gym_mini.raw_members",
        "test.gym_mini.unique_stg_members_member_id.a9c0f83067",
        "snapshot.gym_mini.members_snapshot",
    ] {
        let mut node = manifest["nodes"][id].clone();
        assert!(node.is_object(), "{id} missing");
        // Values that differ per run or per machine.
        for key in ["created_at", "root_path"] {
            if let Some(v) = node.get_mut(key).filter(|v| !v.is_null()) {
                *v = Value::String(format!("[{key}]"));
            }
        }
        insta::assert_json_snapshot!(id.replace('.', "__"), node);
    }
    let metadata = &manifest["metadata"];
    assert_eq!(metadata["adapter_type"], "duckdb");
    assert_eq!(metadata["project_name"], "gym_mini");
    insta::assert_json_snapshot!("parent_map", manifest["parent_map"]);
}

#[test]
fn generic_test_configs_are_rendered_at_parse() {
    let (_tmp, project) = copy_fixture("gym_mini");
    let schema = project.join("models/schema.yml");
    let yaml = std::fs::read_to_string(&schema).expect("schema.yml");
    // Both `not_null` tests that follow a `unique` get a templated `where`, as dbt allows.
    let templated = yaml.replacen(
        "          - unique\n          - not_null\n",
        "          - unique\n          - not_null:\n              config:\n                where: \"visit_id > {{ var('min_visit', 7) }}\"\n",
        2,
    );
    assert_ne!(templated, yaml, "the fixture's not_null tests moved");
    std::fs::write(&schema, templated).expect("write schema.yml");
    let out = run_in(&project, &["parse", "--vars", "{min_visit: 3}"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let manifest = support::read_manifest(&project);
    let wheres: Vec<&Value> = manifest["nodes"]
        .as_object()
        .expect("nodes")
        .iter()
        .filter(|(id, _)| id.starts_with("test.gym_mini.not_null_"))
        .filter_map(|(_, node)| node["config"].get("where"))
        .filter(|w| !w.is_null())
        .collect();
    assert_eq!(wheres.len(), 2, "{wheres:?}");
    for w in wheres {
        assert_eq!(w, "visit_id > 3");
    }
    // As in dbt, the raw code's config(...) shows the rendered value.
    let raw_codes: Vec<&str> = manifest["nodes"]
        .as_object()
        .expect("nodes")
        .iter()
        .filter(|(id, _)| id.starts_with("test.gym_mini.not_null_"))
        .filter_map(|(_, node)| node["raw_code"].as_str())
        .filter(|code| code.contains("where="))
        .collect();
    assert_eq!(
        raw_codes,
        ["{{ test_not_null(**_dbt_generic_test_kwargs) }}{{ config(where=\"visit_id > 3\") }}"; 2],
        "{raw_codes:?}"
    );
}

#[test]
fn parent_and_child_maps_cover_exposures_and_agree() {
    let (_tmp, project) = copy_fixture("gym_mini");
    std::fs::write(
        project.join("models/exposures.yml"),
        "version: 2\nexposures:\n  - name: front_desk\n    type: dashboard\n    owner: {name: Desk, email: desk@example.com}\n    depends_on:\n      - ref('fct_visits')\n      - ref('dim_members')\n",
    )
    .expect("write exposures.yml");
    let out = run_in(&project, &["parse"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let manifest = support::read_manifest(&project);
    let (parents, children) = (&manifest["parent_map"], &manifest["child_map"]);
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("a list")
            .iter()
            .map(|id| id.as_str().expect("an id").to_string())
            .collect()
    };
    let exposure = "exposure.gym_mini.front_desk";
    assert_eq!(
        ids(&parents[exposure]),
        ["model.gym_mini.dim_members", "model.gym_mini.fct_visits"]
    );
    assert!(ids(&children["model.gym_mini.dim_members"]).contains(&exposure.to_string()));
    assert_eq!(ids(&children[exposure]), Vec::<String>::new());
    // Every resource has an entry in both maps, and the maps mirror each other.
    let parent_map = parents.as_object().expect("parent_map");
    let child_map = children.as_object().expect("child_map");
    for key in ["nodes", "sources", "exposures", "unit_tests"] {
        for id in manifest[key].as_object().expect(key).keys() {
            assert!(
                parent_map.contains_key(id) && child_map.contains_key(id),
                "{id}"
            );
        }
    }
    for (child, its_parents) in parent_map {
        let list = ids(its_parents);
        assert!(list.windows(2).all(|w| w[0] < w[1]), "{child}: {list:?}");
        for parent in list {
            assert!(
                ids(&child_map[&parent]).contains(child),
                "{parent} -> {child}"
            );
        }
    }
    let edges =
        |map: &serde_json::Map<String, Value>| map.values().map(|v| ids(v).len()).sum::<usize>();
    assert_eq!(edges(parent_map), edges(child_map));
}

#[test]
fn exposures_are_selected_and_listed_as_dbt_does() {
    let (_tmp, project) = copy_fixture("gym_mini");
    std::fs::write(
        project.join("models/marts/exposures.yml"),
        "version: 2\nexposures:\n  - name: front_desk\n    type: dashboard\n    tags: [desk]\n    owner: {name: Desk, email: desk@example.com}\n    config: {tags: [daily], meta: {team: ops}}\n    depends_on:\n      - ref('dim_members')\n  - name: retired\n    type: dashboard\n    owner: {name: Desk, email: desk@example.com}\n    config: {enabled: false}\n    depends_on:\n      - ref('no_such_model')\n",
    )
    .expect("write exposures.yml");
    let lines = |args: &[&str]| -> Vec<String> {
        let out = run_in(&project, args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout).lines().map(str::to_string).collect()
    };
    // `+exposure:` selects the exposure and everything upstream of it.
    let upstream = lines(&[
        "ls",
        "--select",
        "+exposure:front_desk",
        "--output",
        "selector",
    ]);
    assert!(
        upstream.contains(&"exposure:gym_mini.front_desk".to_string()),
        "{upstream:?}"
    );
    assert!(
        upstream.contains(&"gym_mini.marts.dim_members".to_string()),
        "{upstream:?}"
    );
    assert!(
        !upstream.contains(&"gym_mini.marts.fct_visits".to_string()),
        "{upstream:?}"
    );
    // The selector `ls` prints selects the exposure again.
    assert_eq!(
        lines(&["ls", "--select", "exposure:gym_mini.front_desk"]),
        ["exposure:gym_mini.front_desk"]
    );
    assert_eq!(
        lines(&[
            "ls",
            "--resource-type",
            "exposure",
            "--output",
            "json",
            "--output-keys",
            "unique_id",
            "fqn",
            "depends_on",
        ]),
        [
            r#"{"depends_on":{"nodes":["model.gym_mini.dim_members"]},"fqn":["gym_mini","marts","front_desk"],"unique_id":"exposure.gym_mini.front_desk"}"#
        ]
    );
    // Building upstream of an exposure builds its models, not the exposure.
    let models = lines(&[
        "ls",
        "--select",
        "+exposure:front_desk",
        "--resource-type",
        "model",
        "--output",
        "name",
    ]);
    assert!(models.contains(&"dim_members".to_string()), "{models:?}");

    let manifest = support::read_manifest(&project);
    let exposure = &manifest["exposures"]["exposure.gym_mini.front_desk"];
    assert_eq!(exposure["path"], "marts/exposures.yml");
    assert_eq!(exposure["original_file_path"], "models/marts/exposures.yml");
    assert_eq!(
        exposure["fqn"],
        serde_json::json!(["gym_mini", "marts", "front_desk"])
    );
    // Top-level and `config:` tags and meta together, as dbt does.
    assert_eq!(
        exposure["config"],
        serde_json::json!({"enabled": true, "tags": ["desk", "daily"], "meta": {"team": "ops"}})
    );
    assert_eq!(
        lines(&["ls", "--select", "tag:daily", "--output", "name"]),
        ["front_desk"]
    );
    // A disabled exposure is left out, and its depends_on is not checked.
    assert!(
        manifest["exposures"]
            .get("exposure.gym_mini.retired")
            .is_none()
    );
}

#[test]
fn descriptions_are_rendered_with_their_doc_blocks() {
    let (_tmp, project) = copy_fixture("gym_mini");
    std::fs::write(
        project.join("models/docs.md"),
        "{% docs member_key %}The member's id.{% enddocs %}\n",
    )
    .expect("write docs.md");
    let schema = project.join("models/schema.yml");
    let yaml = std::fs::read_to_string(&schema).expect("schema.yml");
    let described = yaml
        .replacen(
            "description: One row per member.",
            "description: 'One row per {{ \"member\" | upper }}.'",
            1,
        )
        .replacen(
            "description: Primary key.",
            "description: '{{ doc(\"member_key\") }} Unique.'",
            1,
        );
    assert_ne!(described, yaml, "the fixture's descriptions moved");
    std::fs::write(&schema, described).expect("write schema.yml");
    let out = run_in(&project, &["parse"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let manifest = support::read_manifest(&project);
    let model = &manifest["nodes"]["model.gym_mini.stg_members"];
    // Other Jinja: rendered as a template, no doc blocks.
    assert_eq!(model["description"], "One row per MEMBER.");
    assert_eq!(model["doc_blocks"], serde_json::json!([]));
    let column = &model["columns"]["member_id"];
    // A doc() call: the block's text, and its id in doc_blocks.
    assert_eq!(column["description"], "The member's id. Unique.");
    assert_eq!(
        column["doc_blocks"],
        serde_json::json!(["doc.gym_mini.member_key"])
    );

    // An unknown block is an error at parse, as in dbt.
    std::fs::write(project.join("models/docs.md"), "").expect("empty docs.md");
    let out = run_in(&project, &["parse"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("member_key"),
        "{}",
        text(&out.stderr)
    );
}
