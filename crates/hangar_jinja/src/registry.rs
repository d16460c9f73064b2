//! The shared environment: compiled macro files and the macro index.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use hangar_project::diagnostic::{Diagnostic, codes};
use minijinja::{Environment, Value};
use regex::Regex;

use crate::errors::syntax_diagnostic;
use crate::preprocess::{self, ScannedMacro};
use crate::{JinjaConfig, MacroInfo, MacroSource};

/// Package name of the builtin macros.
pub(crate) const BUILTIN_PACKAGE: &str = "dbt";

/// Builtin macro files, embedded at compile time.
const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "builtins/naming.sql",
        include_str!("../builtins/naming.sql"),
    ),
    ("builtins/types.sql", include_str!("../builtins/types.sql")),
    (
        "builtins/cross_db.sql",
        include_str!("../builtins/cross_db.sql"),
    ),
    ("builtins/tests.sql", include_str!("../builtins/tests.sql")),
    (
        "builtins/adapters.sql",
        include_str!("../builtins/adapters.sql"),
    ),
];

/// One macro as the renderer needs it.
#[derive(Debug)]
pub(crate) struct MacroEntry {
    pub unique_id: String,
    pub package: String,
    pub name: String,
    pub mangled: String,
    /// Name of the compiled file template in the environment.
    pub template: String,
    pub arguments: Vec<String>,
    pub uses_varargs: bool,
    pub uses_kwargs: bool,
}

/// A source file known to the environment, for error snippets.
#[derive(Debug)]
pub(crate) struct FileInfo {
    pub path: String,
    pub source: Arc<str>,
}

/// Every macro call looks its name up here; std's SipHash showed in
/// profiles of large projects, and macro names need no protection against
/// crafted keys.
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

pub(crate) struct Registry {
    pub env: Environment<'static>,
    pub config: JinjaConfig,
    /// package → macro name → entry
    pub macros: FastMap<String, FastMap<String, Arc<MacroEntry>>>,
    /// template name → original file
    pub files: HashMap<String, FileInfo>,
    pub infos: Vec<MacroInfo>,
    pub target: Value,
    pub flags: Value,
    /// Adapter prefixes tried by `adapter.dispatch`, most specific first.
    pub dispatch_prefixes: Vec<String>,
    /// The builtin generic tests rendered without Jinja in this registry.
    pub native_tests: crate::builtin_tests::NativeTests,
    /// Macros whose every call returns the same string.
    pub constant_macros: crate::constant_macros::ConstantMacros,
}

impl Registry {
    pub fn build(config: JinjaConfig, sources: Vec<MacroSource>) -> (Registry, Vec<Diagnostic>) {
        let mut env = Environment::new();
        // SQL is never escaped: without this, minijinja would JSON-escape
        // templates named `*.yml` (generic tests) or `*.json`.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        crate::context::install_globals(&mut env);
        let mut registry = Registry {
            target: crate::context::ser(&config.target),
            flags: crate::context::ser(&config.flags),
            dispatch_prefixes: dispatch_prefixes(&config.adapter_type),
            env,
            config,
            macros: FastMap::default(),
            files: HashMap::new(),
            infos: Vec::new(),
            native_tests: Default::default(),
            constant_macros: Default::default(),
        };
        let mut diagnostics = Vec::new();
        let builtins = BUILTIN_FILES.iter().map(|(path, text)| MacroSource {
            package: BUILTIN_PACKAGE.to_string(),
            path: (*path).to_string(),
            contents: Arc::from(*text),
        });
        let mut scanned_all = Vec::new();
        for source in builtins.chain(sources) {
            match registry.add_file(&source) {
                Ok(scanned) => scanned_all.push((source, scanned)),
                Err(d) => diagnostics.push(d),
            }
        }
        registry.infos = registry.macro_infos(&scanned_all);
        registry.native_tests = crate::builtin_tests::NativeTests::resolve(&registry);
        registry.constant_macros = crate::constant_macros::ConstantMacros::resolve(
            &registry,
            scanned_all
                .iter()
                .flat_map(|(source, macros)| macros.iter().map(|m| (source.package.as_str(), m))),
        );
        (registry, diagnostics)
    }

    /// Compiles one macro file and indexes its macros.
    fn add_file(&mut self, source: &MacroSource) -> Result<Vec<ScannedMacro>, Diagnostic> {
        let (text, scanned) = preprocess::rewrite_macro_file(&source.contents);
        let template = format!("{}://{}", source.package, source.path);
        let existing = self.macros.get(&source.package);
        for m in &scanned {
            if existing.is_some_and(|p| p.contains_key(&m.name)) {
                // dbt refuses duplicate macro names within one package.
                return Err(Diagnostic::error(
                    codes::DUPLICATE_NAME,
                    format!(
                        "macro `{}` is defined twice in package `{}`",
                        m.name, source.package
                    ),
                )
                .at(&source.path, m.line, 1));
            }
        }
        let templates = self.compile_macros(source, text, &scanned)?;
        let package = self.macros.entry(source.package.clone()).or_default();
        for m in &scanned {
            package.insert(
                m.name.clone(),
                Arc::new(MacroEntry {
                    unique_id: format!("macro.{}.{}", source.package, m.name),
                    package: source.package.clone(),
                    name: m.name.clone(),
                    mangled: format!("{}{}", preprocess::MANGLE, m.name),
                    template: templates
                        .get(&m.name)
                        .cloned()
                        .unwrap_or_else(|| template.clone()),
                    arguments: m.arguments.clone(),
                    uses_varargs: m.uses_varargs,
                    uses_kwargs: m.uses_kwargs,
                }),
            );
        }
        for name in templates.into_values().chain([template]) {
            self.files.insert(
                name,
                FileInfo {
                    path: source.path.clone(),
                    source: source.contents.clone(),
                },
            );
        }
        Ok(scanned)
    }

    /// Compiles each macro as its own template (as dbt extracts each macro),
    /// so a call evaluates one macro definition rather than the whole file.
    /// Leading newlines keep line numbers. Falls back to the whole file when
    /// a macro cannot be cut out on its own (e.g. nested macros).
    fn compile_macros(
        &mut self,
        source: &MacroSource,
        text: String,
        scanned: &[ScannedMacro],
    ) -> Result<HashMap<String, String>, Diagnostic> {
        let file_template = format!("{}://{}", source.package, source.path);
        let segments = preprocess::scan_macros(&text);
        let mut templates = HashMap::new();
        if segments.len() == scanned.len() {
            for (segment, m) in segments.iter().zip(scanned) {
                let name = format!("{file_template}#{}", m.name);
                let body = format!("{}{}", "\n".repeat(segment.line - 1), segment.sql);
                if self.env.add_template_owned(name.clone(), body).is_err() {
                    templates.clear();
                    break;
                }
                templates.insert(m.name.clone(), name);
            }
        }
        if templates.len() != scanned.len() || scanned.is_empty() {
            for name in templates.values() {
                self.env.remove_template(name);
            }
            templates.clear();
            self.env
                .add_template_owned(file_template, text)
                .map_err(|e| syntax_diagnostic(&e, &source.path, &source.contents))?;
        }
        Ok(templates)
    }

    /// Unqualified lookup as dbt does it: the calling package, the root
    /// project, then the builtins.
    pub fn lookup(&self, package: &str, name: &str) -> Option<&Arc<MacroEntry>> {
        [package, self.config.root_package.as_str(), BUILTIN_PACKAGE]
            .into_iter()
            .find_map(|p| self.lookup_in(p, name))
    }

    pub fn lookup_in(&self, package: &str, name: &str) -> Option<&Arc<MacroEntry>> {
        self.macros.get(package).and_then(|m| m.get(name))
    }

    /// Whether calling `name` from `package` runs hangar's builtin and nothing
    /// a project or package defined: neither the macro itself nor any of its
    /// dispatched implementations (`<adapter>__name`, `default__name`) is
    /// overridden.
    pub fn is_builtin_only(&self, package: &str, name: &str) -> bool {
        let builtin = self
            .lookup(package, name)
            .is_some_and(|e| e.package == BUILTIN_PACKAGE);
        builtin
            && self
                .dispatch_search(Some(BUILTIN_PACKAGE))
                .into_iter()
                .flatten()
                .filter(|p| p != BUILTIN_PACKAGE)
                .all(|p| {
                    self.dispatch_prefixes
                        .iter()
                        .map(String::as_str)
                        .chain(["default"])
                        .all(|prefix| self.lookup_in(&p, &format!("{prefix}__{name}")).is_none())
                })
    }

    pub fn is_package(&self, name: &str) -> bool {
        self.macros.contains_key(name)
    }

    /// The macro `adapter.dispatch(name, namespace)` runs when called from
    /// `package`: `<adapter>__name`, its parents', then `default__name`, in
    /// each package of the namespace's search order.
    pub fn resolve_dispatch(
        &self,
        package: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<&Arc<MacroEntry>> {
        // One buffer for every candidate name: dispatch runs for most
        // macro calls.
        let mut candidate = String::with_capacity(name.len() + 16);
        self.dispatch_search(namespace)
            .into_iter()
            .find_map(|searched| {
                self.dispatch_prefixes.iter().find_map(|prefix| {
                    candidate.clear();
                    candidate.push_str(prefix);
                    candidate.push_str("__");
                    candidate.push_str(name);
                    match &searched {
                        Some(p) => self.lookup_in(p, &candidate),
                        None => self.lookup(package, &candidate),
                    }
                })
            })
    }

    /// Packages searched by `adapter.dispatch(name, macro_namespace)`;
    /// `None` stands for an unqualified lookup.
    pub fn dispatch_search(&self, namespace: Option<&str>) -> Vec<Option<String>> {
        let Some(ns) = namespace else {
            return vec![None];
        };
        if let Some((_, order)) = self.config.dispatch.iter().find(|(n, _)| n == ns) {
            return order.iter().cloned().map(Some).collect();
        }
        vec![Some(self.config.root_package.clone()), Some(ns.to_string())]
    }

    fn macro_infos(&self, scanned: &[(MacroSource, Vec<ScannedMacro>)]) -> Vec<MacroInfo> {
        let mut infos = Vec::new();
        for (source, macros) in scanned {
            for m in macros {
                infos.push(MacroInfo {
                    unique_id: format!("macro.{}.{}", source.package, m.name),
                    package: source.package.clone(),
                    name: m.name.clone(),
                    path: source.path.clone(),
                    arguments: m.arguments.clone(),
                    macro_sql: as_written(&source.contents, m).unwrap_or_else(|| {
                        m.sql.replace(
                            &format!("macro {}{}", preprocess::MANGLE, m.name),
                            &format!("macro {}", m.name),
                        )
                    }),
                    depends_on: self.static_dependencies(&source.package, &m.sql, &m.name),
                });
            }
        }
        infos.sort_by(|a, b| a.unique_id.cmp(&b.unique_id));
        infos
    }

    /// Macro ids called by name in `sql` (best effort, no rendering).
    fn static_dependencies(&self, package: &str, sql: &str, own_name: &str) -> Vec<String> {
        static CALL: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"\b(?:([A-Za-z_]\w*)\.)?([A-Za-z_]\w*)\s*\(").expect("valid regex")
        });
        // dbt lists the implementation a literal `adapter.dispatch` resolves to.
        static DISPATCH: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(
                r#"adapter\.dispatch\(\s*['"](\w+)['"]\s*(?:,\s*(?:macro_namespace\s*=\s*)?['"](\w+)['"])?"#,
            )
            .expect("valid regex")
        });
        let mut deps = Vec::new();
        for caps in DISPATCH.captures_iter(sql) {
            let namespace = caps.get(2).map(|m| m.as_str());
            if let Some(e) = self.resolve_dispatch(package, namespace, &caps[1])
                && !deps.contains(&e.unique_id)
            {
                deps.push(e.unique_id.clone());
            }
        }
        for caps in CALL.captures_iter(sql) {
            let name = &caps[2];
            if name == own_name {
                continue;
            }
            let entry = match caps.get(1).map(|m| m.as_str()) {
                Some(ns) if self.is_package(ns) => self.lookup_in(ns, name),
                Some(_) => None,
                None => self.lookup(package, name),
            };
            if let Some(e) = entry
                && !deps.contains(&e.unique_id)
            {
                deps.push(e.unique_id.clone());
            }
        }
        deps.sort();
        deps
    }
}

/// A macro's block as its file has it: rewrites keep line breaks where they
/// were, so the rewritten block's lines are the original's, from its `{%` to
/// its closing `%}`. `None` when that does not hold.
fn as_written(source: &str, m: &ScannedMacro) -> Option<String> {
    let lines = m.sql.lines().count().max(1);
    let start: usize = source
        .split_inclusive('\n')
        .take(m.line.checked_sub(1)?)
        .map(str::len)
        .sum();
    let span: usize = source[start..]
        .split_inclusive('\n')
        .take(lines)
        .map(str::len)
        .sum();
    let block = &source[start..start + span];
    let open = block.find("{%")?;
    let close = block.rfind("%}")? + 2;
    let text = block.get(open..close)?;
    let opens_as_expected = text.contains(&format!(" {}", m.name.trim_start_matches("test_")));
    opens_as_expected.then(|| text.to_string())
}

/// `<adapter>__` prefixes, then parents, then `default__`.
fn dispatch_prefixes(adapter_type: &str) -> Vec<String> {
    let mut prefixes = vec![adapter_type.to_string()];
    // dbt-redshift inherits from dbt-postgres; the others have no parent.
    if adapter_type == "redshift" {
        prefixes.push("postgres".into());
    }
    prefixes.push("default".into());
    prefixes
}
