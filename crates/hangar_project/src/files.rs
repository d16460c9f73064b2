//! Discovering and reading a package's files.
//!
//! Directories are walked sequentially (cheap), each once even when several
//! resource paths name it; files are read and hashed in parallel, each once
//! even when several resource paths overlap.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use sha2::{Digest, Sha256};
use walkdir::WalkDir;

use crate::diagnostic::{Diagnostic, codes};
use crate::project::ProjectConfig;

/// One file of a package, read once.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFile {
    /// Name of the package the file belongs to.
    pub package: String,
    /// Path relative to the package root, e.g. `models/staging/stg_members.sql`.
    pub path: PathBuf,
    pub abs_path: PathBuf,
    pub contents: Arc<str>,
    /// sha256 hex of the contents, as dbt's file checksum.
    pub checksum: String,
}

impl SourceFile {
    /// File name without its extension: the resource name dbt derives.
    pub fn stem(&self) -> &str {
        self.path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
    }
}

/// A package's files by kind, each list sorted by path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PackageFiles {
    /// `.sql` under model-paths.
    pub models: Vec<SourceFile>,
    /// `.py` under model-paths: recorded, not supported (a warning is emitted).
    pub python_models: Vec<SourceFile>,
    /// `.csv` under seed-paths.
    pub seeds: Vec<SourceFile>,
    /// `.sql` under snapshot-paths.
    pub snapshots: Vec<SourceFile>,
    /// `.sql` under test-paths, outside `generic/`.
    pub singular_tests: Vec<SourceFile>,
    /// `.sql` under `<test-path>/generic/`: macro files holding `{% test %}` blocks.
    pub generic_tests: Vec<SourceFile>,
    /// `.sql` under analysis-paths.
    pub analyses: Vec<SourceFile>,
    /// `.sql` under macro-paths.
    pub macros: Vec<SourceFile>,
    /// `.md` under docs-paths (docs blocks).
    pub docs: Vec<SourceFile>,
    /// `.yml`/`.yaml` under model, seed, snapshot, analysis, macro and test paths.
    pub properties: Vec<SourceFile>,
}

impl PackageFiles {
    /// Every file of the package, each once, sorted by path.
    pub fn all(&self) -> Vec<&SourceFile> {
        let mut all: Vec<&SourceFile> = [
            &self.models,
            &self.python_models,
            &self.seeds,
            &self.snapshots,
            &self.singular_tests,
            &self.generic_tests,
            &self.analyses,
            &self.macros,
            &self.docs,
            &self.properties,
        ]
        .into_iter()
        .flatten()
        .collect();
        all.sort_by(|a, b| a.path.cmp(&b.path));
        all.dedup_by(|a, b| a.path == b.path);
        all
    }

    /// The list files of `kind` go to.
    fn list_of(&mut self, kind: Kind) -> &mut Vec<SourceFile> {
        match kind {
            Kind::Model => &mut self.models,
            Kind::PythonModel => &mut self.python_models,
            Kind::Seed => &mut self.seeds,
            Kind::Snapshot => &mut self.snapshots,
            Kind::SingularTest => &mut self.singular_tests,
            Kind::GenericTest => &mut self.generic_tests,
            Kind::Analysis => &mut self.analyses,
            Kind::Macro => &mut self.macros,
            Kind::Doc => &mut self.docs,
            Kind::Property => &mut self.properties,
        }
    }
}

/// Which list of [`PackageFiles`] a discovered file goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Model,
    PythonModel,
    Seed,
    Snapshot,
    SingularTest,
    GenericTest,
    Analysis,
    Macro,
    Doc,
    Property,
}

/// Resource path lists of a package and what each extension means in them.
fn kind_for(resource: &str, rel: &Path, ext: &str, test_roots: &[PathBuf]) -> Option<Kind> {
    if ext == "yml" || ext == "yaml" {
        return (resource != "docs").then_some(Kind::Property);
    }
    match (resource, ext) {
        ("models", "sql") => Some(Kind::Model),
        ("models", "py") => Some(Kind::PythonModel),
        ("seeds", "csv") => Some(Kind::Seed),
        ("snapshots", "sql") => Some(Kind::Snapshot),
        ("analyses", "sql") => Some(Kind::Analysis),
        ("macros", "sql") => Some(Kind::Macro),
        ("docs", "md") => Some(Kind::Doc),
        ("tests", "sql") if test_roots.iter().any(|g| rel.starts_with(g)) => {
            Some(Kind::GenericTest)
        }
        ("tests", "sql") => Some(Kind::SingularTest),
        _ => None,
    }
}

/// Finds and reads the files of one package. `display_root` is how the
/// package root is shown in diagnostics (empty for the root project).
pub fn discover_files(
    package: &str,
    root: &Path,
    display_root: &Path,
    config: &ProjectConfig,
) -> (PackageFiles, Vec<Diagnostic>) {
    let (files, _, diagnostics) =
        discover_files_with(package, root, display_root, config, |_: &SourceFile| ());
    (files, diagnostics)
}

/// [`discover_files`], also handing each property file to `on_property` as
/// soon as it is read; returns its results in the order of
/// `PackageFiles::properties`. Property files are read and handed over in a
/// parallel loop of their own beside the other files', so parsing the large
/// ones overlaps reading thousands of small SQL files.
pub fn discover_files_with<T: Send>(
    package: &str,
    root: &Path,
    display_root: &Path,
    config: &ProjectConfig,
    on_property: impl Fn(&SourceFile) -> T + Sync,
) -> (PackageFiles, Vec<T>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let found = walk_resource_paths(root, display_root, config, &mut diagnostics);

    let entries: Vec<(&PathBuf, &Vec<Kind>)> =
        found.iter().map(|(path, kinds)| (path, kinds)).collect();
    let is_property = |kinds: &[Kind]| kinds.contains(&Kind::Property);
    let (properties, others): (Vec<usize>, Vec<usize>) =
        (0..entries.len()).partition(|&i| is_property(entries[i].1));
    let read = |&i: &usize| {
        let (rel, kinds) = entries[i];
        let file = read_source_file(package, root, display_root, rel);
        let parsed = match &file {
            Ok(f) if is_property(kinds) => Some(on_property(f)),
            _ => None,
        };
        (i, file, parsed)
    };
    // Two parallel loops side by side: a few large YAML files would
    // otherwise land in one thread's share of a single loop.
    let (mut read_properties, read_others): (Vec<_>, Vec<_>) = rayon::join(
        || properties.par_iter().map(read).collect(),
        || others.par_iter().map(read).collect(),
    );
    read_properties.extend(read_others);
    let mut read = read_properties;
    read.sort_unstable_by_key(|(i, _, _)| *i);

    let mut files = PackageFiles::default();
    let mut properties = Vec::new();
    for ((_, result, parsed), (_, kinds)) in read.into_iter().zip(entries) {
        properties.extend(parsed);
        match result {
            Ok(file) => place(&mut files, file, kinds, display_root, &mut diagnostics),
            Err(diag) => diagnostics.push(diag),
        }
    }
    (files, properties, diagnostics)
}

/// Walks every resource path; returns each relative path with its kinds,
/// sorted by path.
fn walk_resource_paths(
    root: &Path,
    display_root: &Path,
    config: &ProjectConfig,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<(PathBuf, Vec<Kind>)> {
    let generic_roots: Vec<PathBuf> = config
        .test_paths
        .iter()
        .map(|p| Path::new(p).join("generic"))
        .collect();
    // Unit-test fixtures (`<test-path>/fixtures/*.csv|sql`) are data, not
    // singular tests; unit tests read them by name.
    let fixture_roots: Vec<PathBuf> = config
        .test_paths
        .iter()
        .map(|p| Path::new(p).join("fixtures"))
        .collect();
    let resources: [(&str, &[String]); 7] = [
        ("models", &config.model_paths),
        ("seeds", &config.seed_paths),
        ("snapshots", &config.snapshot_paths),
        ("tests", &config.test_paths),
        ("analyses", &config.analysis_paths),
        ("macros", &config.macro_paths),
        ("docs", &config.docs_paths),
    ];
    // dbt's default docs-paths are the other resource paths: each directory
    // is walked once, and its files take the kind of every resource that
    // lists it.
    let mut walks: Vec<(&str, Vec<&str>)> = Vec::new();
    for (resource, dirs) in resources {
        for dir in dirs {
            match walks.iter_mut().find(|(walked, _)| walked == dir) {
                Some((_, listing)) => listing.push(resource),
                None => walks.push((dir, vec![resource])),
            }
        }
    }
    let mut found: Vec<(PathBuf, Vec<Kind>)> = Vec::new();
    for (dir, listing) in walks {
        for rel in walk_dir(root, Path::new(dir), display_root, diagnostics) {
            let ext = rel
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or_default()
                .to_ascii_lowercase();
            let is_fixture = || fixture_roots.iter().any(|f| rel.starts_with(f));
            let mut kinds = Vec::new();
            for resource in &listing {
                if *resource == "tests" && is_fixture() {
                    continue;
                }
                match kind_for(resource, &rel, &ext, &generic_roots) {
                    Some(kind) if !kinds.contains(&kind) => kinds.push(kind),
                    _ => {}
                }
            }
            if !kinds.is_empty() {
                found.push((rel, kinds));
            }
        }
    }
    // Path order compares component by component, parsing both paths at
    // each comparison: a fifth of a large project's walk. The walk's paths
    // are plain joins, for which comparing bytes with `/` below every other
    // byte gives the same order. Paths of another shape (`models/./x`,
    // which `Path` holds equal to `models/x`) are sorted by `Path`'s own
    // order; either way, of equal paths the first walked comes first and
    // gives its spelling, as a map keyed by path kept it.
    let mut order: Vec<usize> = (0..found.len()).collect();
    order.sort_by(|&a, &b| path_order(&found[a].0, &found[b].0));
    let plain = order.windows(2).all(|pair| {
        let (a, b) = (&found[pair[0]].0, &found[pair[1]].0);
        a < b || a.as_os_str() == b.as_os_str()
    });
    if !plain {
        order.sort_by(|&a, &b| found[a].0.cmp(&found[b].0).then(a.cmp(&b)));
    }
    let mut merged: Vec<(PathBuf, Vec<Kind>)> = Vec::with_capacity(found.len());
    let mut walked: Vec<Option<(PathBuf, Vec<Kind>)>> = found.into_iter().map(Some).collect();
    for i in order {
        let Some((path, kinds)) = walked[i].take() else {
            continue;
        };
        match merged.last_mut() {
            Some((last, merged_kinds)) if *last == path => {
                for kind in kinds {
                    if !merged_kinds.contains(&kind) {
                        merged_kinds.push(kind);
                    }
                }
            }
            _ => merged.push((path, kinds)),
        }
    }
    merged
}

/// The order of two paths made of plain components joined by `/`: their
/// bytes compared with `/` below every other byte, which is `Path`'s
/// component-by-component order for such paths.
fn path_order(a: &Path, b: &Path) -> std::cmp::Ordering {
    let (a, b) = (
        a.as_os_str().as_encoded_bytes(),
        b.as_os_str().as_encoded_bytes(),
    );
    let rank = |byte: u8| if byte == b'/' { 0 } else { u16::from(byte) + 1 };
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(i) => rank(a[i]).cmp(&rank(b[i])),
        None => a.len().cmp(&b.len()),
    }
}

/// Files under `root/dir`, relative to `root`, skipping hidden entries.
/// A missing directory is not an error: dbt's defaults name folders many
/// projects do not have.
fn walk_dir(
    root: &Path,
    dir: &Path,
    display_root: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<PathBuf> {
    let start = root.join(dir);
    if !start.is_dir() {
        return Vec::new();
    }
    let mut files = Vec::new();
    let walker = WalkDir::new(&start)
        .follow_links(true)
        .into_iter()
        .filter_entry(|entry| entry.depth() == 0 || !is_hidden(entry.file_name()));
    for entry in walker {
        match entry {
            Ok(entry) if entry.file_type().is_file() => {
                if let Ok(rel) = entry.path().strip_prefix(root) {
                    files.push(rel.to_path_buf());
                }
            }
            Ok(_) => {}
            Err(err) => {
                let shown = err.path().map_or_else(
                    || display_root.join(dir),
                    |p| display_of(root, display_root, p),
                );
                diagnostics.push(Diagnostic::error(
                    codes::IO,
                    format!("cannot read {}: {err}", shown.display()),
                ));
            }
        }
    }
    files
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|n| n.starts_with('.'))
}

fn display_of(root: &Path, display_root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root)
        .map_or_else(|_| path.to_path_buf(), |rel| display_root.join(rel))
}

/// dbt's checksum of a file: sha256 of its contents with leading and
/// trailing whitespace stripped (dbt strips what it reads), in hex.
pub fn contents_checksum(text: &str) -> String {
    hex::encode(Sha256::digest(text.trim().as_bytes()))
}

/// Reads one file as UTF-8 and computes its checksum.
pub fn read_source_file(
    package: &str,
    root: &Path,
    display_root: &Path,
    rel: &Path,
) -> Result<SourceFile, Diagnostic> {
    let abs_path = root.join(rel);
    let shown = display_root.join(rel);
    let bytes = std::fs::read(&abs_path).map_err(|err| {
        Diagnostic::error(codes::IO, format!("cannot read {}: {err}", shown.display()))
    })?;
    let text = String::from_utf8(bytes).map_err(|err| invalid_utf8(&shown, err))?;
    let checksum = contents_checksum(&text);
    Ok(SourceFile {
        package: package.to_string(),
        path: rel.to_path_buf(),
        abs_path,
        contents: Arc::from(text),
        checksum,
    })
}

/// H111 at the first byte that is not UTF-8.
fn invalid_utf8(shown: &Path, err: std::string::FromUtf8Error) -> Diagnostic {
    let bytes = err.as_bytes();
    let valid = err.utf8_error().valid_up_to();
    let prefix = String::from_utf8_lossy(&bytes[..valid]);
    let (line, column) = crate::diagnostic::line_col(&prefix, prefix.len());
    Diagnostic::error(
        codes::ENCODING,
        format!("{} is not valid UTF-8 (byte {valid})", shown.display()),
    )
    .at(shown, line, column)
    .with_hint("save the file as UTF-8")
}

fn place(
    files: &mut PackageFiles,
    file: SourceFile,
    kinds: &[Kind],
    display_root: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if kinds.contains(&Kind::PythonModel) {
        diagnostics.push(
            Diagnostic::warning(
                codes::UNSUPPORTED,
                "Python models are not supported; this model is skipped",
            )
            .at(display_root.join(&file.path), 1, 1),
        );
    }
    // A file of one kind (nearly all) moves into its list; only a file
    // under two overlapping resource paths is copied.
    let Some((last, others)) = kinds.split_last() else {
        return;
    };
    for kind in others {
        files.list_of(*kind).push(file.clone());
    }
    files.list_of(*last).push(file);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, contents: &[u8]) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    /// A folder named twice, once as `models/./macros`, keeps the
    /// spelling walked first and lists each file once with both kinds.
    #[test]
    fn paths_named_two_ways_keep_the_first_walked() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "models/macros/p.yml", b"version: 2\n");
        write(dir.path(), "models/macros/q.sql", b"select 1\n");
        let mut config = ProjectConfig::with_name("p");
        config.macro_paths = vec!["models/./macros".into()];
        let mut diagnostics = Vec::new();
        let found = walk_resource_paths(dir.path(), Path::new(""), &config, &mut diagnostics);
        let listed: Vec<(String, Vec<Kind>)> = found
            .into_iter()
            .map(|(path, kinds)| (path.to_string_lossy().into_owned(), kinds))
            .collect();
        assert_eq!(
            listed,
            vec![
                ("models/macros/p.yml".to_string(), vec![Kind::Property]),
                (
                    "models/macros/q.sql".to_string(),
                    vec![Kind::Model, Kind::Macro]
                ),
            ]
        );
        assert!(diagnostics.is_empty());
    }

    #[test]
    fn path_order_is_paths_own_order_for_plain_joins() {
        let names = [
            "a",
            "a/b",
            "a/b/c",
            "a-b",
            "a-b/c",
            "a.b",
            "a.b/c",
            "a b",
            "ab",
            "a0",
            "a/b-c",
            "a/b.c",
            "a/bc",
            "models/é.sql",
            "models/e.sql",
            "models/z/a.sql",
            "models_x/a.sql",
            "models/a_b/c.sql",
            "models/a/c.sql",
            "models/A.sql",
        ];
        for x in names {
            for y in names {
                let (x, y) = (Path::new(x), Path::new(y));
                assert_eq!(path_order(x, y), x.cmp(y), "{x:?} vs {y:?}");
            }
        }
    }

    fn paths(files: &[SourceFile]) -> Vec<String> {
        files
            .iter()
            .map(|f| f.path.to_string_lossy().replace('\\', "/"))
            .collect()
    }

    #[test]
    fn files_are_classified_and_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for rel in [
            "models/staging/stg_b.sql",
            "models/staging/stg_a.sql",
            "models/staging/_schema.yml",
            "models/py_model.py",
            "models/overview.md",
            "models/.hidden.sql",
            "models/.git/x.sql",
            "seeds/members.csv",
            "seeds/seeds.yaml",
            "snapshots/snap.sql",
            "snapshots/snaps.yml",
            "tests/assert_x.sql",
            "tests/generic/my_test.sql",
            "tests/fixtures/rows.sql",
            "tests/fixtures/rows.yml",
            "tests/unit.yml",
            "analyses/a.sql",
            "macros/m.sql",
            "macros/m.yml",
            "macros/notes.txt",
        ] {
            write(root, rel, b"select 1");
        }
        let config = ProjectConfig::with_name("p");
        let (files, diags) = discover_files("p", root, Path::new(""), &config);
        // Property files are handed over as read, results in their order.
        let (same, seen, _) =
            discover_files_with("p", root, Path::new(""), &config, |f| f.path.clone());
        assert_eq!(same, files);
        let listed: Vec<PathBuf> = files.properties.iter().map(|f| f.path.clone()).collect();
        assert_eq!(seen, listed);
        assert_eq!(
            paths(&files.models),
            ["models/staging/stg_a.sql", "models/staging/stg_b.sql"]
        );
        assert_eq!(paths(&files.python_models), ["models/py_model.py"]);
        assert_eq!(paths(&files.seeds), ["seeds/members.csv"]);
        assert_eq!(paths(&files.snapshots), ["snapshots/snap.sql"]);
        assert_eq!(paths(&files.singular_tests), ["tests/assert_x.sql"]);
        assert_eq!(paths(&files.generic_tests), ["tests/generic/my_test.sql"]);
        assert_eq!(paths(&files.analyses), ["analyses/a.sql"]);
        assert_eq!(paths(&files.macros), ["macros/m.sql"]);
        assert_eq!(paths(&files.docs), ["models/overview.md"]);
        assert_eq!(
            paths(&files.properties),
            [
                "macros/m.yml",
                "models/staging/_schema.yml",
                "seeds/seeds.yaml",
                "snapshots/snaps.yml",
                "tests/unit.yml"
            ]
        );
        assert_eq!(files.all().len(), 15);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].code, codes::UNSUPPORTED);

        let model = &files.models[0];
        assert_eq!(model.package, "p");
        assert_eq!(model.stem(), "stg_a");
        assert_eq!(&*model.contents, "select 1");
        // sha256("select 1")
        assert_eq!(
            model.checksum,
            "822ae07d4783158bc1912bb623e5107cc9002d519e1143a9c200ed6ee18b6d0f"
        );
        // dbt strips a file before hashing it.
        assert_eq!(contents_checksum("\n  select 1\n\n"), model.checksum);
        assert_eq!(model.abs_path, root.join("models/staging/stg_a.sql"));
    }

    #[test]
    fn invalid_utf8_is_a_diagnostic() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "models/bad.sql", b"select 1\nselect '\xff'\n");
        let config = ProjectConfig::with_name("p");
        let (files, diags) = discover_files("p", dir.path(), Path::new("dbt_packages/p"), &config);
        assert!(files.models.is_empty());
        assert_eq!(diags[0].code, codes::ENCODING);
        let loc = diags[0].location.as_ref().unwrap();
        assert_eq!(loc.file, Path::new("dbt_packages/p/models/bad.sql"));
        assert_eq!((loc.line, loc.column), (2, 9));
    }

    #[test]
    fn overlapping_paths_read_once_and_keep_both_kinds() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "models/x.sql", b"select 1");
        let mut config = ProjectConfig::with_name("p");
        config.snapshot_paths = vec!["models".into()];
        config.model_paths = vec!["models".into(), "models".into()];
        let (files, _) = discover_files("p", dir.path(), Path::new(""), &config);
        assert_eq!(files.models.len(), 1);
        assert_eq!(files.snapshots.len(), 1);
        assert_eq!(files.all().len(), 1);
    }
}
