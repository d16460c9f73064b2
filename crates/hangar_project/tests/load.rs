//! Loads the fixture projects under `tests/fixtures/` and snapshots what
//! was found and every rendered diagnostic.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use hangar_project::{LoadedProject, load_project, render};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Every diagnostic rendered without colour, with the fixture dir elided.
fn rendered_diagnostics(loaded: &LoadedProject) -> String {
    let root = loaded.root.display().to_string();
    loaded
        .diagnostics
        .iter()
        .map(|d| render(d, false).replace(&root, "<fixture>"))
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn file_list(loaded: &LoadedProject) -> String {
    let mut out = String::new();
    for package in &loaded.packages {
        let _ = writeln!(
            out,
            "{} (root: {}, at {:?})",
            package.name, package.is_root, package.display_root
        );
        for file in package.files.all() {
            let _ = writeln!(out, "  {}", file.path.display());
        }
    }
    out
}

#[test]
fn tiny_project_with_a_package() {
    let loaded = load_project(&fixture("tiny"));
    assert!(
        loaded.diagnostics.is_empty(),
        "{}",
        rendered_diagnostics(&loaded)
    );
    assert_eq!(loaded.root_package, "tiny");
    insta::assert_snapshot!(file_list(&loaded));

    let root = loaded.root().unwrap();
    assert_eq!(root.files.models.len(), 1);
    assert_eq!(root.files.seeds.len(), 1);
    assert_eq!(root.files.snapshots.len(), 1);
    assert_eq!(root.files.singular_tests.len(), 1);
    assert_eq!(root.files.generic_tests.len(), 1);
    assert_eq!(root.files.macros.len(), 1);
    assert_eq!(root.files.docs.len(), 1);
    let props = &root.properties[0];
    assert_eq!(props.models[0].name, "stg_members");
    assert_eq!(props.models[0].columns[0].data_tests.len(), 2);
    assert_eq!(props.sources[0].schema, "raw");
    assert_eq!(props.sources[0].tables[0].line, 13);

    let helpers = loaded.package("helpers").unwrap();
    assert!(!helpers.is_root);
    assert_eq!(helpers.files.macros[0].package, "helpers");
    assert_eq!(
        helpers.files.models[0].path,
        Path::new("models/helper_model.sql")
    );
}

#[test]
fn released_property_files_keep_their_path_and_text() {
    let mut loaded = load_project(&fixture("tiny"));
    assert!(loaded.has_property_entries());
    let before = loaded.root().unwrap().properties[0].clone();
    assert!(!before.models.is_empty() && !before.sources.is_empty());

    loaded.release_property_entries();
    assert!(!loaded.has_property_entries());
    let after = &loaded.root().unwrap().properties[0];
    assert_eq!(after.package, before.package);
    assert_eq!(after.path, before.path);
    assert_eq!(after.contents, before.contents);
    assert!(after.models.is_empty() && after.sources.is_empty());
}

#[test]
fn broken_project_reports_everything() {
    let loaded = load_project(&fixture("broken"));
    // What could be built still is.
    let root = loaded.root().unwrap();
    assert_eq!(root.files.models.len(), 1);
    assert_eq!(root.config.seed_paths, Vec::<String>::new());
    let shapes = root
        .properties
        .iter()
        .find(|p| p.path.ends_with("wrong_shapes.yml"))
        .unwrap();
    assert_eq!(shapes.models[0].tags, ["a"]);
    assert_eq!(shapes.sources[0].tables[0].name, "t");
    insta::assert_snapshot!(rendered_diagnostics(&loaded));
}

#[test]
fn missing_project_file_is_h101() {
    let loaded = load_project(&fixture("missing_project"));
    assert!(loaded.packages.is_empty());
    assert!(loaded.has_errors());
    insta::assert_snapshot!(rendered_diagnostics(&loaded));
}
