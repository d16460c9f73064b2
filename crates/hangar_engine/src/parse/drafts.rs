//! Nodes made from files: models, analyses, singular tests, snapshots and
//! seeds, with the configuration their folders give them.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use hangar_graph::ResourceType;
use hangar_project::config::{configures_leaf, folder_config, merge_config};
use hangar_project::{Package, SourceFile};
use serde_json::{Map, Value};

use crate::node::{Node, SharedConfig, share_config};

/// Which project-file config tree configures a resource type.
pub fn config_tree(config: &hangar_project::ProjectConfig, rt: ResourceType) -> &Value {
    match rt {
        ResourceType::Seed => &config.seeds,
        ResourceType::Snapshot => &config.snapshots,
        ResourceType::Test => &config.data_tests,
        ResourceType::Source => &config.sources,
        ResourceType::UnitTest => &config.unit_tests,
        ResourceType::Exposure => &config.exposures,
        _ => &config.models,
    }
}

/// `(resource folder, path inside it)` for a file, e.g.
/// `models/staging/a.sql` → `("models", "staging/a.sql")`.
pub fn split_resource_path<'a>(path: &'a str, folders: &[String]) -> (&'a str, &'a str) {
    for folder in folders {
        let folder = folder.trim_end_matches('/');
        if let Some(rest) = path.strip_prefix(folder).and_then(|r| r.strip_prefix('/')) {
            return (&path[..folder.len()], rest);
        }
    }
    ("", path)
}

/// dbt's complete default config for a resource type (from a dbt 1.11 manifest).
pub fn default_config(rt: ResourceType) -> Map<String, Value> {
    use std::collections::HashMap;
    use std::sync::LazyLock;
    // Built once per resource type: parse asks for one per node.
    static DEFAULTS: LazyLock<HashMap<ResourceType, Map<String, Value>>> = LazyLock::new(|| {
        ResourceType::ALL
            .into_iter()
            .map(|rt| {
                let defaults = hangar_artifacts::config_defaults::for_resource_type(
                    crate::manifest::artifact_type(rt),
                );
                (rt, defaults)
            })
            .collect()
    });
    DEFAULTS.get(&rt).cloned().unwrap_or_default()
}

/// A property file's path inside whichever resource folder holds it
/// (models/, snapshots/, seeds/…), as dbt computes YAML nodes' fqn.
pub fn yaml_path_in_folder<'a>(path: &'a str, config: &hangar_project::ProjectConfig) -> &'a str {
    [
        &config.model_paths,
        &config.snapshot_paths,
        &config.seed_paths,
        &config.analysis_paths,
        &config.test_paths,
        &config.macro_paths,
    ]
    .into_iter()
    .map(|folders| split_resource_path(path, folders))
    .find(|(folder, _)| !folder.is_empty())
    .map_or(path, |(_, rest)| rest)
}

/// `[package, folders…, name]`.
pub fn fqn_for(package: &str, path_in_folder: &str, name: &str) -> Vec<String> {
    let mut fqn = vec![package.to_string()];
    if let Some((dirs, _file)) = path_in_folder.rsplit_once('/') {
        fqn.extend(
            dirs.split('/')
                .filter(|d| !d.is_empty())
                .map(str::to_string),
        );
    }
    fqn.push(name.to_string());
    fqn
}

/// Config from the package's own project file, then the root project's
/// (which may configure any package), on top of dbt's defaults.
pub struct FolderConfig {
    pub config: Map<String, Value>,
    pub unrendered: Map<String, Value>,
}

pub fn folder_configs(
    rt: ResourceType,
    package: &Package,
    root: &Package,
    fqn: &[String],
) -> FolderConfig {
    let mut config = default_config(rt);
    let mut unrendered = Map::new();
    let own = folder_config(config_tree(&package.config, rt), &package.name, fqn);
    merge_config(&mut config, &own);
    merge_config(&mut unrendered, &own);
    if !package.is_root {
        let from_root = folder_config(config_tree(&root.config, rt), &package.name, fqn);
        merge_config(&mut config, &from_root);
        merge_config(&mut unrendered, &from_root);
    }
    FolderConfig { config, unrendered }
}

/// A folder's configs as nodes hold them: shared, copied on write.
#[derive(Clone)]
pub struct SharedFolderConfig {
    pub config: SharedConfig,
    pub unrendered: SharedConfig,
}

/// [`folder_configs`] worked out once per folder and resource type: the nodes
/// of a folder share one config unless the project file names a node itself.
/// 30,000 tests in a handful of YAML folders make this matter.
#[derive(Default)]
pub struct FolderConfigMemo {
    by_folder: Mutex<HashMap<String, SharedFolderConfig>>,
}

impl FolderConfigMemo {
    pub fn get(
        &self,
        rt: ResourceType,
        package: &Package,
        root: &Package,
        fqn: &[String],
    ) -> SharedFolderConfig {
        let names_node = |tree_owner: &Package| {
            configures_leaf(config_tree(&tree_owner.config, rt), &package.name, fqn)
        };
        let Some((_, folder)) = fqn.split_last() else {
            return share_folder_config(folder_configs(rt, package, root, fqn));
        };
        if names_node(package) || (!package.is_root && names_node(root)) {
            return share_folder_config(folder_configs(rt, package, root, fqn));
        }
        let key = [rt.as_str(), "\0", &package.name, "\0", &folder.join("\0")].concat();
        let mut memo = self.by_folder.lock().unwrap_or_else(|e| e.into_inner());
        memo.entry(key)
            .or_insert_with(|| share_folder_config(folder_configs(rt, package, root, fqn)))
            .clone()
    }
}

fn share_folder_config(folder: FolderConfig) -> SharedFolderConfig {
    SharedFolderConfig {
        config: share_config(folder.config),
        unrendered: share_config(folder.unrendered),
    }
}

pub fn file_stem(path: &str) -> &str {
    let file = path.rsplit('/').next().unwrap_or(path);
    file.rsplit_once('.').map_or(file, |(stem, _)| stem)
}

/// A node for a file, before properties and rendering.
#[allow(clippy::too_many_arguments)]
pub fn draft(
    memo: &FolderConfigMemo,
    rt: ResourceType,
    package: &Package,
    root: &Package,
    file: &SourceFile,
    folders: &[String],
    name: &str,
    code: Arc<str>,
) -> Node {
    let original = path_string(&file.path);
    let (_, in_folder) = split_resource_path(&original, folders);
    let from_yaml = original.ends_with(".yml") || original.ends_with(".yaml");
    // dbt's quirks: analyses sit under an `analysis` fqn level and path;
    // SQL snapshots add the file name; YAML snapshots are `[package, name]`.
    let (fqn, path) = match rt {
        ResourceType::Snapshot if from_yaml => (
            vec![package.name.clone(), name.to_string()],
            format!("{in_folder}/{name}.sql"),
        ),
        ResourceType::Snapshot => {
            let mut f = fqn_for(&package.name, in_folder, file_stem(in_folder));
            f.push(name.to_string());
            (f, in_folder.to_string())
        }
        ResourceType::Analysis => {
            let path = format!("analysis/{in_folder}");
            (fqn_for(&package.name, &path, name), path)
        }
        _ => (
            fqn_for(&package.name, in_folder, name),
            in_folder.to_string(),
        ),
    };
    let SharedFolderConfig { config, unrendered } = memo.get(rt, package, root, &fqn);
    let tags = string_list(config.get("tags"));
    Node {
        original_file_path: original.clone(),
        path,
        fqn,
        raw_code: code,
        checksum: file.checksum.clone(),
        unrendered_config: unrendered,
        tags,
        root_path: (rt == ResourceType::Seed).then(|| package.root.to_string_lossy().into_owned()),
        abs_path: file.abs_path.clone(),
        ..Node::new(rt, &package.name, name, config)
    }
}

pub fn path_string(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// Tags may be written as one string or a list.
pub fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// A node for `--inline` SQL, compiled in the root project's context.
pub fn inline_draft(root: &Package, sql: &str) -> Node {
    let path = "from remote system.sql";
    Node {
        original_file_path: path.into(),
        path: path.into(),
        raw_code: sql.into(),
        abs_path: root.root.clone(),
        ..Node::new(
            ResourceType::Operation,
            &root.name,
            "inline_query",
            default_config(ResourceType::Model),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_folder_and_fqn() {
        let folders = vec!["models".to_string()];
        assert_eq!(
            split_resource_path("models/staging/a.sql", &folders),
            ("models", "staging/a.sql")
        );
        assert_eq!(
            fqn_for("p", "staging/core/a.sql", "a"),
            vec!["p", "staging", "core", "a"]
        );
        assert_eq!(fqn_for("p", "a.sql", "a"), vec!["p", "a"]);
        assert_eq!(file_stem("x/y/a.b.sql"), "a.b");
    }
}
