//! Loading a dbt project: files, typed YAML, config trees, profiles and the
//! diagnostics that describe what is wrong with them.
//!
//! **Invariant:** no Jinja, no SQL, no warehouse. Where Jinja is needed
//! (profiles), callers pass a string renderer.
//!
//! Entry point: [`load_project`] returns every package with its files and
//! parsed property YAML, plus all diagnostics (it never stops at the first).

// `Diagnostic` is this project's error type: errors are rare and carry the
// file, snippet and hint, so their size does not matter.
#![allow(clippy::result_large_err)]

pub mod config;
pub mod diagnostic;
pub mod files;
mod loader;
pub mod profile;
pub mod project;
pub mod properties;
mod yaml;

pub use config::{ResourceType, folder_config, merge_config};
pub use diagnostic::{Diagnostic, Location, Severity, codes, line_col, render, suggest};
pub use files::{PackageFiles, SourceFile};
pub use loader::{LoadedProject, Package, load_project};
pub use profile::{TargetProfile, find_profiles_dir, is_secret_key, load_profile};
pub use project::{DispatchConfig, ProjectConfig};
pub use properties::{
    ColumnDef, ExposureDef, MacroPatch, NodePatch, PropertyFile, SourceDef, SourceTableDef, TestDef,
};

/// For the fuzz targets: whether the fast YAML subset parser, where it
/// answers, answers what yaml_serde does (and only for YAML it accepts).
#[doc(hidden)]
pub fn yaml_subset_agrees(text: &str) -> bool {
    yaml::subset_agrees(text)
}
