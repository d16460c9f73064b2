//! `profiles.yml`: where it is, and the chosen target with every string
//! rendered by the caller's Jinja renderer (for `env_var()`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::diagnostic::{Diagnostic, codes, suggest};
use crate::yaml;

pub const PROFILES_FILE: &str = "profiles.yml";

/// One rendered target of one profile.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetProfile {
    pub profile_name: String,
    pub target_name: String,
    /// `type:` (duckdb, postgres, snowflake…).
    pub adapter_type: String,
    pub threads: usize,
    pub database: Option<String>,
    pub schema: String,
    /// Every rendered key of the target, as written (including the above).
    pub settings: Map<String, Value>,
}

impl TargetProfile {
    /// The settings with secrets replaced by `"**********"`, for display.
    pub fn redacted(&self) -> Value {
        Value::Object(redact(&self.settings))
    }
}

fn redact(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter()
        .map(|(key, value)| {
            let shown = match value {
                _ if is_secret_key(key) => Value::String("**********".to_string()),
                Value::Object(inner) => Value::Object(redact(inner)),
                other => other.clone(),
            };
            (key.clone(), shown)
        })
        .collect()
}

/// Whether a profile key holds a secret that must never be shown.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    matches!(
        key.as_str(),
        "password" | "pass" | "private_key" | "private_key_passphrase" | "token" | "keyfile_json"
    ) || key.contains("secret")
        || key.contains("password")
        || key.ends_with("_token")
}

/// The directory holding `profiles.yml`: the CLI flag, then
/// `HANGAR_PROFILES_DIR`, then `DBT_PROFILES_DIR`, then the project
/// directory when it has a `profiles.yml`, else `~/.dbt`.
pub fn find_profiles_dir(cli: Option<&Path>, project_root: &Path) -> PathBuf {
    let env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    profiles_dir_from(
        cli,
        env("HANGAR_PROFILES_DIR"),
        env("DBT_PROFILES_DIR"),
        project_root,
        env("HOME").or_else(|| env("USERPROFILE")),
    )
}

/// [`find_profiles_dir`] with the environment passed in (testable).
fn profiles_dir_from(
    cli: Option<&Path>,
    hangar_env: Option<PathBuf>,
    dbt_env: Option<PathBuf>,
    project_root: &Path,
    home: Option<PathBuf>,
) -> PathBuf {
    if let Some(dir) = cli {
        return dir.to_path_buf();
    }
    if let Some(dir) = hangar_env.or(dbt_env) {
        return dir;
    }
    if project_root.join(PROFILES_FILE).is_file() {
        return project_root.to_path_buf();
    }
    home.unwrap_or_default().join(".dbt")
}

/// Loads `profile_name` from `profiles_dir/profiles.yml` and renders the
/// chosen target: `target` (the `--target` flag) overrides the profile's
/// `target:` key, which defaults to `default`.
pub fn load_profile(
    profiles_dir: &Path,
    profile_name: &str,
    target: Option<&str>,
    render: &dyn Fn(&str) -> Result<String, String>,
) -> Result<TargetProfile, Diagnostic> {
    let path = profiles_dir.join(PROFILES_FILE);
    let text: Arc<str> = std::fs::read_to_string(&path)
        .map_err(|err| {
            Diagnostic::error(
                codes::PROFILE,
                format!("cannot read {}: {err}", path.display()),
            )
            .with_hint("pass --profiles-dir, or set HANGAR_PROFILES_DIR or DBT_PROFILES_DIR")
        })?
        .into();
    let value = yaml::parse(&text).map_err(|err| yaml::syntax_diagnostic(&path, &text, &err))?;
    let profiles = match value {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let profile = find_profile(&profiles, profile_name, &path)?;
    let outputs = match profile.get("outputs") {
        Some(Value::Object(outputs)) if !outputs.is_empty() => outputs,
        _ => {
            return Err(profile_error(
                &path,
                &text,
                profile_name,
                format!(
                    "profile `{profile_name}` in {} has no `outputs`",
                    path.display()
                ),
            ));
        }
    };
    let target_name = choose_target(profile, target, render).map_err(|err| {
        Diagnostic::error(
            codes::PROFILE,
            format!("cannot render `target` of profile `{profile_name}`: {err}"),
        )
    })?;
    let Some(Value::Object(raw)) = outputs.get(&target_name) else {
        return Err(unknown_target(&path, profile_name, &target_name, outputs));
    };
    let settings = render_map(raw, render).map_err(|(key, err)| {
        Diagnostic::error(
            codes::PROFILE,
            format!(
                "cannot render `{key}` of target `{target_name}` in profile `{profile_name}`: {err}"
            ),
        )
    })?;
    build_target(profile_name, &target_name, settings)
}

fn find_profile<'a>(
    profiles: &'a Map<String, Value>,
    name: &str,
    path: &Path,
) -> Result<&'a Map<String, Value>, Diagnostic> {
    if let Some(Value::Object(profile)) = profiles.get(name) {
        return Ok(profile);
    }
    // `config:` is dbt's legacy user-config block, not a profile.
    let names: Vec<&str> = profiles
        .keys()
        .map(String::as_str)
        .filter(|n| *n != "config")
        .collect();
    let mut diag = Diagnostic::error(
        codes::PROFILE,
        format!("profile `{name}` not found in {}", path.display()),
    );
    if let Some(close) = suggest(name, names.iter().copied()) {
        diag = diag.with_hint(format!("did you mean `{close}`?"));
    }
    Err(diag.with_note(format!("profiles in the file: {}", quoted_list(&names))))
}

fn choose_target(
    profile: &Map<String, Value>,
    cli: Option<&str>,
    render: &dyn Fn(&str) -> Result<String, String>,
) -> Result<String, String> {
    if let Some(target) = cli {
        return Ok(target.to_string());
    }
    match profile.get("target") {
        Some(Value::String(target)) => render_string(target, render),
        Some(other) => {
            yaml::scalar_string(other).ok_or_else(|| "`target` must be a string".to_string())
        }
        None => Ok("default".to_string()),
    }
}

fn unknown_target(
    path: &Path,
    profile: &str,
    target: &str,
    outputs: &Map<String, Value>,
) -> Diagnostic {
    let names: Vec<&str> = outputs.keys().map(String::as_str).collect();
    let mut diag = Diagnostic::error(
        codes::PROFILE,
        format!(
            "target `{target}` not found in profile `{profile}` ({})",
            path.display()
        ),
    );
    if let Some(close) = suggest(target, names.iter().copied()) {
        diag = diag.with_hint(format!("did you mean `{close}`?"));
    }
    diag.with_note(format!("targets of `{profile}`: {}", quoted_list(&names)))
}

fn profile_error(path: &Path, text: &Arc<str>, profile: &str, message: String) -> Diagnostic {
    let locator = yaml::Locator::new(text);
    let diag = Diagnostic::error(codes::PROFILE, message);
    match locator.find_key(0, profile) {
        Some(at) => diag
            .at(path, locator.line_of(at), locator.column_of(at))
            .with_source(Arc::clone(text), profile.chars().count()),
        None => diag,
    }
}

fn quoted_list(names: &[&str]) -> String {
    if names.is_empty() {
        return "(none)".to_string();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Renders a string only when it holds Jinja; plain strings are kept.
fn render_string(
    value: &str,
    render: &dyn Fn(&str) -> Result<String, String>,
) -> Result<String, String> {
    if value.contains("{{") || value.contains("{%") {
        render(value)
    } else {
        Ok(value.to_string())
    }
}

/// Renders every string in `map`, recursively; errors name the key.
fn render_map(
    map: &Map<String, Value>,
    render: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Map<String, Value>, (String, String)> {
    map.iter()
        .map(|(key, value)| {
            let rendered = render_value(value, render).map_err(|err| (key.clone(), err))?;
            Ok((key.clone(), coerce_numeric_setting(key, rendered)))
        })
        .collect()
}

fn render_value(
    value: &Value,
    render: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => Value::String(render_string(s, render)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_value(v, render))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(inner) => Value::Object(render_map(inner, render).map_err(|(_, err)| err)?),
        other => other.clone(),
    })
}

/// `threads` and `port` rendered from `env_var()` arrive as text; dbt's
/// native rendering turns them into numbers.
fn coerce_numeric_setting(key: &str, value: Value) -> Value {
    match (key, &value) {
        ("threads" | "port", Value::String(s)) => {
            s.trim().parse::<u64>().map_or(value, Value::from)
        }
        _ => value,
    }
}

fn build_target(
    profile_name: &str,
    target_name: &str,
    settings: Map<String, Value>,
) -> Result<TargetProfile, Diagnostic> {
    let context = format!("target `{target_name}` of profile `{profile_name}`");
    let adapter_type = settings
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Diagnostic::error(codes::PROFILE, format!("{context} has no `type`"))
                .with_hint("e.g. `type: duckdb`")
        })?
        .to_string();
    let threads = match settings.get("threads") {
        None | Some(Value::Null) => 1,
        Some(value) => value
            .as_u64()
            .filter(|n| *n >= 1)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| {
                Diagnostic::error(
                    codes::PROFILE,
                    format!("`threads` of {context} must be a positive integer, found {value}"),
                )
            })?,
    };
    let text = |key: &str| settings.get(key).and_then(yaml::scalar_string);
    let database = text("database").or_else(|| text("dbname"));
    let schema = text("schema")
        .or_else(|| text("dataset"))
        // dbt-duckdb's credentials default the schema to `main`.
        .or_else(|| (adapter_type == "duckdb").then(|| "main".to_string()))
        .ok_or_else(|| Diagnostic::error(codes::PROFILE, format!("{context} has no `schema`")))?;
    Ok(TargetProfile {
        profile_name: profile_name.to_string(),
        target_name: target_name.to_string(),
        adapter_type,
        threads,
        database,
        schema,
        settings,
    })
}

#[cfg(test)]
mod tests;
