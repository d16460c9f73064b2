//! Load phase: the project files, the profile's target and the Jinja
//! environment, resolved once per invocation.

use std::collections::BTreeMap;

use hangar_jinja::{Jinja, JinjaConfig, MacroSource};
use hangar_project::profile::{TargetProfile, find_profiles_dir, is_secret_key, load_profile};
use hangar_project::{Diagnostic, LoadedProject, load_project};
use serde_json::{Map, Value};

use crate::Failure;
use crate::invocation::Invocation;

pub struct Session {
    pub invocation: Invocation,
    pub project: LoadedProject,
    pub profile: TargetProfile,
    pub jinja: Jinja,
    /// The `target` context variable (secrets removed).
    pub target_context: Value,
    /// Warnings gathered while loading.
    pub warnings: Vec<Diagnostic>,
}

impl Session {
    pub fn root_package(&self) -> &hangar_project::Package {
        &self.project.packages[0]
    }

    pub fn threads(&self) -> usize {
        self.invocation
            .threads
            .unwrap_or(self.profile.threads)
            .max(1)
    }

    pub fn adapter_type(&self) -> &str {
        &self.profile.adapter_type
    }
}

/// Load the project, its packages, the profile and the macros.
pub fn load_session(invocation: Invocation) -> Result<Session, Failure> {
    let project = load_project(&invocation.project_dir);
    let (errors, mut warnings): (Vec<Diagnostic>, Vec<Diagnostic>) = project
        .diagnostics
        .iter()
        .cloned()
        .partition(Diagnostic::is_error);
    if !errors.is_empty() || project.packages.is_empty() {
        return Err(Failure::new(errors));
    }
    let root = &project.packages[0];
    let profile_name = root
        .config
        .profile
        .clone()
        .unwrap_or_else(|| root.config.name.clone());
    let profiles_dir = find_profiles_dir(invocation.profiles_dir.as_deref(), &project.root);
    let profile = load_profile(
        &profiles_dir,
        &profile_name,
        invocation.target.as_deref(),
        &Jinja::render_env_string,
    )
    .map_err(|d| Failure::new(vec![d]))?;
    let mut profile = profile;
    if profile.database.is_none() {
        profile.database =
            hangar_adapter::target_database(&profile.adapter_type, &profile.settings);
    }
    let target_context = target_context(&profile, invocation.threads);
    let mut project = project;
    render_project_vars(&mut project, &target_context)?;
    let (jinja, jinja_diags) = Jinja::new(
        jinja_config(&invocation, &project, &profile, target_context.clone()),
        macro_sources(&project),
    );
    let (jinja_errors, jinja_warnings): (Vec<_>, Vec<_>) =
        jinja_diags.into_iter().partition(Diagnostic::is_error);
    if !jinja_errors.is_empty() {
        return Err(Failure::new(jinja_errors));
    }
    warnings.extend(jinja_warnings);
    render_project_configs(&jinja, &mut project)?;
    Ok(Session {
        invocation,
        project,
        profile,
        jinja,
        target_context,
        warnings,
    })
}

/// dbt's `target`: the profile's settings without secrets, plus the names.
fn target_context(profile: &TargetProfile, threads: Option<usize>) -> Value {
    let mut target: Map<String, Value> = profile
        .settings
        .iter()
        .filter(|(k, _)| !is_secret_key(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    target.insert("name".into(), Value::String(profile.target_name.clone()));
    target.insert(
        "target_name".into(),
        Value::String(profile.target_name.clone()),
    );
    target.insert(
        "profile_name".into(),
        Value::String(profile.profile_name.clone()),
    );
    target.insert("type".into(), Value::String(profile.adapter_type.clone()));
    target.insert("schema".into(), Value::String(profile.schema.clone()));
    target.insert(
        "database".into(),
        profile
            .database
            .clone()
            .map(Value::String)
            .unwrap_or(Value::Null),
    );
    target.insert(
        "threads".into(),
        Value::from(threads.unwrap_or(profile.threads)),
    );
    Value::Object(target)
}

fn jinja_config(
    invocation: &Invocation,
    project: &LoadedProject,
    profile: &TargetProfile,
    target: Value,
) -> JinjaConfig {
    let root = &project.packages[0];
    let package_vars: BTreeMap<String, Map<String, Value>> = project
        .packages
        .iter()
        .map(|p| (p.name.clone(), root.config.vars_for_package(&p.name)))
        .map(|(name, mut vars)| {
            // A package's own project vars sit under the root's for that package.
            if let Some(pkg) = project
                .packages
                .iter()
                .find(|p| p.name == name && !p.is_root)
            {
                for (k, v) in pkg.config.vars_for_package(&name) {
                    vars.entry(k).or_insert(v);
                }
            }
            (name, vars)
        })
        .collect();
    JinjaConfig {
        root_package: root.name.clone(),
        adapter_type: profile.adapter_type.clone(),
        dispatch: root
            .config
            .dispatch
            .iter()
            .map(|d| (d.macro_namespace.clone(), d.search_order.clone()))
            .collect(),
        target,
        project_vars: root.config.vars_for_package(&root.name),
        package_vars,
        cli_vars: invocation.vars.clone(),
        invocation_id: invocation.invocation_id.clone(),
        run_started_at: invocation.started_at,
        flags: root.config.flags.clone(),
    }
}

/// Every macro file of every package, generic test files included.
fn macro_sources(project: &LoadedProject) -> Vec<MacroSource> {
    project
        .packages
        .iter()
        .flat_map(|p| p.files.macros.iter().chain(p.files.generic_tests.iter()))
        .map(|f| MacroSource {
            package: f.package.clone(),
            path: f.path.to_string_lossy().into_owned(),
            contents: f.contents.clone(),
        })
        .collect()
}

/// `vars:` in project files may use `env_var()` and `target` (dbt renders
/// them before anything else can see them).
fn render_project_vars(project: &mut LoadedProject, target: &Value) -> Result<(), Failure> {
    let mut errors = Vec::new();
    for package in &mut project.packages {
        let file = package.config.file.clone();
        for value in package.config.vars.values_mut() {
            render_tree(
                value,
                &mut |text| {
                    Jinja::render_project_var(text, target)
                        .map(|out| native_value(&out))
                        .map_err(|e| project_render_error(&file, &e))
                },
                &mut errors,
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(errors))
    }
}

/// Config trees (`models:`, `seeds:`…) may use `target`, `env_var()` and
/// `var()`; hooks inside them are rendered later, when they run.
fn render_project_configs(jinja: &Jinja, project: &mut LoadedProject) -> Result<(), Failure> {
    let mut errors = Vec::new();
    for package in &mut project.packages {
        let file = package.config.file.to_string_lossy().into_owned();
        let input =
            hangar_jinja::NodeInput::new(hangar_jinja::Phase::Parse, &package.name, &file, "");
        let config = &mut package.config;
        for tree in [
            &mut config.models,
            &mut config.seeds,
            &mut config.snapshots,
            &mut config.data_tests,
            &mut config.sources,
        ] {
            render_tree(
                tree,
                &mut |text| {
                    jinja
                        .render_string(text, &input, &NoRefs, None)
                        .map(|out| native_value(&out))
                },
                &mut errors,
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(errors))
    }
}

fn project_render_error(file: &std::path::Path, message: &str) -> Diagnostic {
    Diagnostic::error(hangar_project::codes::JINJA_RENDER, message.to_string()).at(
        file.to_path_buf(),
        1,
        1,
    )
}

/// Render every templated string in a YAML tree, except hooks.
fn render_tree<F>(value: &mut Value, render: &mut F, errors: &mut Vec<Diagnostic>)
where
    F: FnMut(&str) -> Result<Value, Diagnostic>,
{
    match value {
        Value::String(text) if text.contains("{{") || text.contains("{%") => match render(text) {
            Ok(v) => *value = v,
            Err(d) => errors.push(d),
        },
        Value::Array(items) => items
            .iter_mut()
            .for_each(|i| render_tree(i, render, errors)),
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                let key = key.trim_start_matches('+');
                if !matches!(key, "pre-hook" | "post-hook" | "pre_hook" | "post_hook") {
                    render_tree(v, render, errors);
                }
            }
        }
        _ => {}
    }
}

/// dbt renders project values natively: `True`/`False` become booleans,
/// `None` null, numbers numbers.
fn native_value(text: &str) -> Value {
    match text.trim() {
        "True" | "true" => Value::Bool(true),
        "False" | "false" => Value::Bool(false),
        "None" | "none" => Value::Null,
        t => t
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(t.to_string())),
    }
}

/// `ref` and `source` have no meaning in a project file.
struct NoRefs;

impl hangar_jinja::Resolver for NoRefs {
    fn resolve_ref(
        &self,
        _: Option<&str>,
        name: &str,
        _: Option<&str>,
    ) -> Result<hangar_jinja::Relation, String> {
        Err(format!("ref('{name}') cannot be used in the project file"))
    }

    fn resolve_source(&self, source: &str, table: &str) -> Result<hangar_jinja::Relation, String> {
        Err(format!(
            "source('{source}', '{table}') cannot be used in the project file"
        ))
    }

    fn doc(&self, _: Option<&str>, _: &str) -> Option<String> {
        None
    }
}
