//! Loading a whole project: the root package, every installed package, their
//! files and property YAML. Never stops at the first problem.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::diagnostic::{Diagnostic, codes};
use crate::files::{PackageFiles, discover_files_with};
use crate::project::{ProjectConfig, find_project_file, read_project_config};
use crate::properties::{PropertyFile, parse_property_file};

/// One package: the root project or an installed dependency.
#[derive(Debug, Clone)]
pub struct Package {
    pub name: String,
    /// Absolute (or as given) directory of the package.
    pub root: PathBuf,
    /// How the package root is shown in diagnostics, relative to the project
    /// root (empty for the root package, `dbt_packages/x` for others).
    pub display_root: PathBuf,
    pub config: ProjectConfig,
    pub is_root: bool,
    pub files: PackageFiles,
    /// Parsed property YAML, in the order of `files.properties`.
    pub properties: Vec<PropertyFile>,
}

/// What [`load_project`] built, plus every diagnostic found on the way.
#[derive(Debug, Clone)]
pub struct LoadedProject {
    pub root: PathBuf,
    /// Empty when the root project file could not be read.
    pub root_package: String,
    /// Root first, then installed packages sorted by directory name.
    pub packages: Vec<Package>,
    pub diagnostics: Vec<Diagnostic>,
    /// Set once [`LoadedProject::release_property_entries`] ran.
    property_entries_released: bool,
}

impl LoadedProject {
    pub fn root(&self) -> Option<&Package> {
        self.packages.iter().find(|p| p.is_root)
    }

    pub fn package(&self, name: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.name == name)
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Drops every property file's entries, keeping each file's identity
    /// and text. Parsing turns the entries into nodes, sources and tests;
    /// kept beside them they cost tens of MB on a large project.
    pub fn release_property_entries(&mut self) {
        for package in &mut self.packages {
            package
                .properties
                .iter_mut()
                .for_each(PropertyFile::release_entries);
        }
        self.property_entries_released = true;
    }

    /// Whether the property files still hold their entries.
    pub fn has_property_entries(&self) -> bool {
        !self.property_entries_released
    }
}

/// Loads the project at `root` and the packages under its
/// `packages-install-path`, reading and parsing files in parallel.
pub fn load_project(root: &Path) -> LoadedProject {
    let mut loaded = LoadedProject {
        root: root.to_path_buf(),
        root_package: String::new(),
        packages: Vec::new(),
        diagnostics: Vec::new(),
        property_entries_released: false,
    };
    let (config, diags) = read_project_config(root, Path::new(""));
    loaded.diagnostics.extend(diags);
    let Some(config) = config else {
        return loaded;
    };
    loaded.root_package = config.name.clone();

    let mut locations = vec![PackageLocation {
        root: root.to_path_buf(),
        display_root: PathBuf::new(),
        config,
        is_root: true,
    }];
    let install_dir = Path::new(&locations[0].config.packages_install_path).to_path_buf();
    let (dependencies, diags) = find_installed_packages(root, &install_dir);
    loaded.diagnostics.extend(diags);
    locations.extend(dependencies);

    let packages: Vec<(Package, Vec<Diagnostic>)> =
        locations.into_par_iter().map(load_package).collect();
    for (package, diags) in packages {
        loaded.packages.push(package);
        loaded.diagnostics.extend(diags);
    }
    loaded
}

/// A package directory whose project file has been read.
struct PackageLocation {
    root: PathBuf,
    display_root: PathBuf,
    config: ProjectConfig,
    is_root: bool,
}

/// Every project directly under `root/install_dir`, sorted by directory name.
fn find_installed_packages(
    root: &Path,
    install_dir: &Path,
) -> (Vec<PackageLocation>, Vec<Diagnostic>) {
    let dir = root.join(install_dir);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        // No packages installed: normal for projects without dependencies.
        return (Vec::new(), Vec::new());
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_dir() && !is_hidden(path))
        .collect();
    dirs.sort();

    let mut found = Vec::new();
    let mut diagnostics = Vec::new();
    for package_dir in dirs {
        let name = package_dir
            .file_name()
            .map(PathBuf::from)
            .unwrap_or_default();
        let display_root = install_dir.join(&name);
        if find_project_file(&package_dir).is_none() {
            diagnostics.push(
                Diagnostic::error(
                    codes::PROJECT_FILE_MISSING,
                    format!("{} has no dbt_project.yml", display_root.display()),
                )
                .with_hint("reinstall packages with `hangar deps`, or remove the directory"),
            );
            continue;
        }
        let (config, diags) = read_project_config(&package_dir, &display_root);
        diagnostics.extend(diags);
        if let Some(config) = config {
            found.push(PackageLocation {
                root: package_dir,
                display_root,
                config,
                is_root: false,
            });
        }
    }
    (found, diagnostics)
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

fn load_package(location: PackageLocation) -> (Package, Vec<Diagnostic>) {
    let name = location.config.name.clone();
    let display_root = &location.display_root;
    let (files, parsed, mut diagnostics) = discover_files_with(
        &name,
        &location.root,
        display_root,
        &location.config,
        |file| parse_property_file(file, &display_root.join(&file.path)),
    );
    let mut properties = Vec::with_capacity(parsed.len());
    for (file, diags) in parsed {
        properties.push(file);
        diagnostics.extend(diags);
    }
    let package = Package {
        name,
        root: location.root,
        display_root: location.display_root,
        config: location.config,
        is_root: location.is_root,
        files,
        properties,
    };
    (package, diagnostics)
}
