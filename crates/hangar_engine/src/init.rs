//! `hangar init`: a new project with a DuckDB profile.

use std::path::{Path, PathBuf};

use hangar_project::{Diagnostic, codes};

use crate::Failure;

/// Create `<parent>/<name>/` with a project file, a profile, folders and an
/// example model; refuses to touch an existing directory.
pub fn init_project(parent: &Path, name: &str) -> Result<PathBuf, Failure> {
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        return Err(Failure::single(
            Diagnostic::error(
                codes::CONFIG_TYPE,
                format!("`{name}` is not a valid project name"),
            )
            .with_hint("use lower-case letters, digits and underscores, starting with a letter"),
        ));
    }
    let root = parent.join(name);
    if root.exists() {
        return Err(Failure::single(
            Diagnostic::error(codes::IO, format!("{} already exists", root.display()))
                .with_hint("choose another name or remove the directory"),
        ));
    }
    let files: [(&str, String); 5] = [
        ("hangar_project.yml", project_file(name)),
        ("profiles.yml", profile_file(name)),
        ("models/example/my_first_model.sql", "select 1 as id\n".into()),
        (
            "models/example/schema.yml",
            "version: 2\n\nmodels:\n  - name: my_first_model\n    description: \"A starter model\"\n    columns:\n      - name: id\n        data_tests:\n          - unique\n          - not_null\n".into(),
        ),
        (".gitignore", "target/\ndbt_packages/\nlogs/\n*.duckdb\n".into()),
    ];
    for dir in [
        "models/example",
        "seeds",
        "macros",
        "snapshots",
        "tests",
        "analyses",
    ] {
        mkdir(&root.join(dir))?;
    }
    for (path, text) in files {
        let full = root.join(path);
        std::fs::write(&full, text).map_err(|e| io_failure(&full, e))?;
    }
    Ok(root)
}

fn mkdir(path: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(path).map_err(|e| io_failure(path, e))
}

fn io_failure(path: &Path, e: std::io::Error) -> Failure {
    Failure::single(Diagnostic::error(
        codes::IO,
        format!("cannot write {}: {e}", path.display()),
    ))
}

fn project_file(name: &str) -> String {
    format!(
        "name: {name}\nversion: \"1.0.0\"\nprofile: {name}\n\nmodel-paths: [\"models\"]\nseed-paths: [\"seeds\"]\nsnapshot-paths: [\"snapshots\"]\ntest-paths: [\"tests\"]\nanalysis-paths: [\"analyses\"]\nmacro-paths: [\"macros\"]\n\nclean-targets:\n  - target\n  - dbt_packages\n\nmodels:\n  {name}:\n    example:\n      +materialized: view\n"
    )
}

fn profile_file(name: &str) -> String {
    format!(
        "{name}:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: target/{name}.duckdb\n      schema: main\n      threads: 4\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaffolds_and_refuses_existing() {
        let dir = tempfile::tempdir().unwrap();
        let root = init_project(dir.path(), "gym").unwrap();
        assert!(root.join("hangar_project.yml").is_file());
        assert!(
            std::fs::read_to_string(root.join("profiles.yml"))
                .unwrap()
                .contains("type: duckdb")
        );
        assert!(init_project(dir.path(), "gym").is_err());
        assert!(init_project(dir.path(), "Bad-Name").is_err());
    }
}
