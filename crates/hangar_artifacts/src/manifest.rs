//! `manifest.json`, schema v12, as written by dbt-core 1.11.
//!
//! dbt writes `null` for unset fields rather than leaving them out, but the
//! set of keys differs per resource type (a seed has no `refs`, only models
//! have `access`, only compiled nodes have `compiled_code`). [`ManifestNode`]
//! is therefore one struct with every field, serialised by hand so that each
//! resource type gets exactly dbt's keys, in dbt's order.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{DBT_VERSION, JsonMap, SharedJsonMap, dbt_timestamp, json_text, project_id};

pub const MANIFEST_SCHEMA_URL: &str = "https://schemas.getdbt.com/dbt/manifest/v12.json";

/// The whole `manifest.json`. Field order is dbt's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub metadata: ManifestMetadata,
    #[serde(default)]
    pub nodes: BTreeMap<String, ManifestNode<'static>>,
    #[serde(default)]
    pub sources: BTreeMap<String, ManifestSource>,
    #[serde(default)]
    pub macros: BTreeMap<String, ManifestMacro>,
    #[serde(default)]
    pub docs: BTreeMap<String, ManifestDoc>,
    #[serde(default)]
    pub exposures: BTreeMap<String, Value>,
    #[serde(default)]
    pub metrics: BTreeMap<String, Value>,
    #[serde(default)]
    pub groups: BTreeMap<String, Value>,
    #[serde(default)]
    pub selectors: BTreeMap<String, Value>,
    /// Disabled nodes by unique id; dbt keeps a list because several
    /// disabled versions of one id can exist.
    #[serde(default)]
    pub disabled: BTreeMap<String, Vec<Value>>,
    #[serde(default)]
    pub parent_map: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub child_map: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub group_map: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub saved_queries: BTreeMap<String, Value>,
    #[serde(default)]
    pub semantic_models: BTreeMap<String, Value>,
    #[serde(default)]
    pub unit_tests: BTreeMap<String, Value>,
    /// User-defined functions (new in dbt 1.11).
    #[serde(default)]
    pub functions: BTreeMap<String, Value>,
}

impl Manifest {
    /// An empty manifest with the given metadata.
    pub fn new(metadata: ManifestMetadata) -> Self {
        Manifest {
            metadata,
            nodes: BTreeMap::new(),
            sources: BTreeMap::new(),
            macros: BTreeMap::new(),
            docs: BTreeMap::new(),
            exposures: BTreeMap::new(),
            metrics: BTreeMap::new(),
            groups: BTreeMap::new(),
            selectors: BTreeMap::new(),
            disabled: BTreeMap::new(),
            parent_map: BTreeMap::new(),
            child_map: BTreeMap::new(),
            group_map: BTreeMap::new(),
            saved_queries: BTreeMap::new(),
            semantic_models: BTreeMap::new(),
            unit_tests: BTreeMap::new(),
            functions: BTreeMap::new(),
        }
    }

    /// The manifest as compact JSON, byte for byte what `serde_json::to_vec`
    /// writes (see [`Manifest::write_json_to`]).
    pub fn to_json(&self) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        self.write_json_to(&mut out)?;
        Ok(out)
    }

    /// Write the manifest as compact JSON. The nodes (most of a large
    /// manifest) are serialized in parallel, a batch at a time, so memory
    /// holds a few batches rather than the whole file.
    pub fn write_json_to(&self, out: &mut (dyn std::io::Write + Send)) -> std::io::Result<()> {
        self.write_json_with(out, &LazyNodes::default())
    }

    /// Like [`Manifest::write_json_to`], with more nodes made only as they are
    /// written: a large project never holds all its manifest nodes at once.
    /// `lazy` ids must not also be in `self.nodes`.
    pub fn write_json_with(
        &self,
        out: &mut (dyn std::io::Write + Send),
        lazy: &LazyNodes<'_, '_>,
    ) -> std::io::Result<()> {
        self.write_json_nodes(out, lazy)?;
        self.write_json_rest(out, lazy.maps.as_ref())
    }

    /// The first part of [`Manifest::write_json_with`]: `metadata` and
    /// `nodes`, which need no dependency maps (a caller may work them out
    /// meanwhile). [`Manifest::write_json_rest`] writes the rest.
    pub fn write_json_nodes(
        &self,
        out: &mut (dyn std::io::Write + Send),
        lazy: &LazyNodes<'_, '_>,
    ) -> std::io::Result<()> {
        out.write_all(b"{\"metadata\":")?;
        serde_json::to_writer(&mut *out, &self.metadata)?;
        out.write_all(b",\"nodes\":{")?;
        let mut entries: Vec<NodeEntry<'_>> = self
            .nodes
            .iter()
            .map(|(id, node)| NodeEntry::Made(id, node))
            .chain(
                lazy.ids
                    .iter()
                    .enumerate()
                    .map(|(i, id)| NodeEntry::Lazy(i, id)),
            )
            .collect();
        entries.sort_by(|a, b| a.id().cmp(b.id()));
        write_node_entries(&entries, lazy, out)?;
        out.write_all(b"}")
    }

    /// Everything after `nodes`; `maps`, when given, are written as
    /// `parent_map` and `child_map` instead of the manifest's own.
    pub fn write_json_rest(
        &self,
        out: &mut (dyn std::io::Write + Send),
        maps: Option<&DependencyMaps<'_>>,
    ) -> std::io::Result<()> {
        use erased::Serde;
        let quoted = maps.map(|maps| QuotedIds::new(&maps.ids));
        let (parent_map, child_map): (Box<dyn erased::Json>, Box<dyn erased::Json>) =
            match (maps, &quoted) {
                (Some(maps), Some(quoted)) => (
                    Box::new(MapOf(maps, Adjacency::Parents, quoted)),
                    Box::new(MapOf(maps, Adjacency::Children, quoted)),
                ),
                _ => (
                    Box::new(Serde(&self.parent_map)),
                    Box::new(Serde(&self.child_map)),
                ),
            };
        let fields: [(&str, &dyn erased::Json); 15] = [
            ("sources", &Serde(&self.sources)),
            ("macros", &Serde(&self.macros)),
            ("docs", &Serde(&self.docs)),
            ("exposures", &Serde(&self.exposures)),
            ("metrics", &Serde(&self.metrics)),
            ("groups", &Serde(&self.groups)),
            ("selectors", &Serde(&self.selectors)),
            ("disabled", &Serde(&self.disabled)),
            ("parent_map", &*parent_map),
            ("child_map", &*child_map),
            ("group_map", &Serde(&self.group_map)),
            ("saved_queries", &Serde(&self.saved_queries)),
            ("semantic_models", &Serde(&self.semantic_models)),
            ("unit_tests", &Serde(&self.unit_tests)),
            ("functions", &Serde(&self.functions)),
        ];
        for (name, value) in fields {
            write!(out, ",\"{name}\":")?;
            value.write(out)?;
        }
        out.write_all(b"}")
    }

    /// Fills `parent_map` and `child_map` from every resource's
    /// `depends_on.nodes`, as dbt does: every resource gets an entry, and
    /// both parent and child lists are sorted and free of duplicates.
    pub fn build_parent_child_maps(&mut self) {
        // Built on borrowed ids and copied once at the end: a large project
        // has tens of thousands of entries and more edges.
        let (parent_map, child_map) = {
            let mut parents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for (id, node) in &self.nodes {
                parents.insert(
                    id,
                    node.depends_on.nodes.iter().map(String::as_str).collect(),
                );
            }
            for id in self.sources.keys() {
                parents.insert(id, Vec::new());
            }
            let untyped = [
                &self.exposures,
                &self.metrics,
                &self.semantic_models,
                &self.saved_queries,
                &self.unit_tests,
            ];
            for resources in untyped {
                for (id, resource) in resources {
                    parents.insert(id, depends_on_nodes(resource));
                }
            }
            for list in parents.values_mut() {
                list.sort_unstable();
                list.dedup();
            }
            let mut children: BTreeMap<&str, Vec<&str>> =
                parents.keys().map(|id| (*id, Vec::new())).collect();
            // Children are pushed in the parents' key order, so each list
            // comes out sorted and, parents being deduplicated, unique.
            for (child, its_parents) in &parents {
                for parent in its_parents {
                    children.entry(parent).or_default().push(child);
                }
            }
            (owned_lists(parents), owned_lists(children))
        };
        self.parent_map = parent_map;
        self.child_map = child_map;
    }
}

/// Writes `"id":{node}` entries, comma-separated. Batches are serialized
/// in parallel while a writer thread writes the previous one: writing a
/// 100 MB manifest costs the kernel as much as serializing it. The writer
/// hands each written buffer back for reuse, so the few megabytes in flight
/// are faulted in once rather than 100 MB of fresh buffers.
fn write_node_entries(
    entries: &[NodeEntry<'_>],
    lazy: &LazyNodes<'_, '_>,
    out: &mut (dyn std::io::Write + Send),
) -> std::io::Result<()> {
    use rayon::prelude::*;
    const BATCH: usize = 1024;
    const CHUNK: usize = 256;
    let spare: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());
    let take_buffer = || {
        spare
            .lock()
            .ok()
            .and_then(|mut buffers| buffers.pop())
            .unwrap_or_else(|| Vec::with_capacity(CHUNK * 2048))
    };
    std::thread::scope(|scope| {
        let (batches, received) = std::sync::mpsc::sync_channel::<Vec<Vec<u8>>>(1);
        let spare = &spare;
        let writer = scope.spawn(move || -> std::io::Result<()> {
            let mut first = true;
            for parts in received {
                for mut part in parts {
                    if !first {
                        out.write_all(b",")?;
                    }
                    first = false;
                    out.write_all(&part)?;
                    part.clear();
                    if let Ok(mut buffers) = spare.lock() {
                        buffers.push(part);
                    }
                }
            }
            Ok(())
        });
        for batch in entries.chunks(BATCH) {
            let parts = batch
                .par_chunks(CHUNK)
                .map(|chunk| serialize_entries(chunk, lazy, take_buffer()))
                .collect::<serde_json::Result<Vec<Vec<u8>>>>()?;
            if batches.send(parts).is_err() {
                // The writer stopped on an error, reported below.
                break;
            }
        }
        drop(batches);
        writer
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the manifest writer thread panicked")))
    })
}

fn serialize_entries(
    chunk: &[NodeEntry<'_>],
    lazy: &LazyNodes<'_, '_>,
    mut buf: Vec<u8>,
) -> serde_json::Result<Vec<u8>> {
    let _cache = config_json::CacheScope::enter();
    for (i, entry) in chunk.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        json_text::write_str(&mut buf, entry.id());
        buf.push(b':');
        match entry {
            NodeEntry::Made(_, node) => node.write_json(&mut buf)?,
            NodeEntry::Lazy(i, _) => match lazy.make.and_then(|make| make(*i)) {
                Some(node) => node.write_json(&mut buf)?,
                None => buf.extend_from_slice(b"null"),
            },
        }
    }
    Ok(buf)
}

/// Config maps are shared between nodes (a large project has a handful of
/// distinct model configs), so while a batch of nodes is written each shared
/// map is serialized once and its JSON text reused. Output is unchanged.
mod config_json {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::collections::hash_map::Entry;

    use serde::{Serialize, Serializer};
    use serde_json::value::RawValue;

    use crate::{JsonMap, SharedJsonMap};

    /// The JSON texts made of one map: whole, or split around its `alias`.
    #[derive(Default)]
    struct Texts {
        whole: Option<Box<RawValue>>,
        around_alias: Option<AroundAlias>,
    }

    /// A map's entries before and after the key `alias` (which is left
    /// out), each comma-separated, for writing the map with another alias.
    struct AroundAlias {
        before: String,
        after: String,
    }

    /// The maps seen in this scope, by address; each entry holds its map, so
    /// an address cannot be reused by another map while the scope lasts.
    type Cache = HashMap<*const JsonMap, (SharedJsonMap, Texts)>;

    thread_local! {
        static CACHE: RefCell<Option<Cache>> = const { RefCell::new(None) };
    }

    /// Caching is on for the current thread while this value lives.
    pub struct CacheScope(());

    impl CacheScope {
        pub fn enter() -> CacheScope {
            CACHE.with(|c| *c.borrow_mut() = Some(HashMap::new()));
            CacheScope(())
        }
    }

    impl Drop for CacheScope {
        fn drop(&mut self) {
            CACHE.with(|c| *c.borrow_mut() = None);
        }
    }

    /// A shared config map, with `alias` set to the second field when
    /// given, serialized once per scope and its text reused.
    pub struct Cached<'a>(pub &'a SharedJsonMap, pub Option<&'a str>);

    impl Serialize for Cached<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let Cached(map, alias) = *self;
            let mut serializer = Some(serializer);
            let written = CACHE.with(|c| {
                // Config maps hold no `Cached` values: this borrow is never re-entered.
                let mut slot = c.borrow_mut();
                let cache = slot.as_mut()?;
                let texts = match cache.entry(std::sync::Arc::as_ptr(map)) {
                    Entry::Occupied(entry) => &mut entry.into_mut().1,
                    Entry::Vacant(slot) => &mut slot.insert((map.clone(), Texts::default())).1,
                };
                match alias {
                    None => {
                        if texts.whole.is_none() {
                            texts.whole = serde_json::value::to_raw_value(&**map).ok();
                        }
                        let json = texts.whole.as_ref()?;
                        Some(json.serialize(serializer.take()?))
                    }
                    Some(alias) => {
                        if texts.around_alias.is_none() {
                            texts.around_alias = around_alias(map).ok();
                        }
                        let json = with_alias(texts.around_alias.as_ref()?, alias).ok()?;
                        Some(json.serialize(serializer.take()?))
                    }
                }
            });
            match (written, serializer) {
                (Some(result), _) => result,
                (None, Some(serializer)) => match alias {
                    None => (**map).serialize(serializer),
                    Some(alias) => {
                        let mut own = (**map).clone();
                        own.insert("alias".into(), alias.into());
                        own.serialize(serializer)
                    }
                },
                (None, None) => Err(serde::ser::Error::custom("a config was not serialized")),
            }
        }
    }

    /// Entries of a map whose keys iterate in sorted order (a
    /// `serde_json::Map` without `preserve_order`), split around `alias`.
    fn around_alias(map: &JsonMap) -> serde_json::Result<AroundAlias> {
        let mut around = AroundAlias {
            before: String::new(),
            after: String::new(),
        };
        for (key, value) in map {
            let side = match key.as_str().cmp("alias") {
                std::cmp::Ordering::Less => &mut around.before,
                std::cmp::Ordering::Equal => continue,
                std::cmp::Ordering::Greater => &mut around.after,
            };
            if !side.is_empty() {
                side.push(',');
            }
            side.push_str(&serde_json::to_string(key)?);
            side.push(':');
            side.push_str(&serde_json::to_string(value)?);
        }
        Ok(around)
    }

    fn with_alias(around: &AroundAlias, alias: &str) -> serde_json::Result<Box<RawValue>> {
        let alias = serde_json::to_string(alias)?;
        let mut text =
            String::with_capacity(around.before.len() + around.after.len() + alias.len() + 12);
        text.push('{');
        text.push_str(&around.before);
        if !around.before.is_empty() {
            text.push(',');
        }
        text.push_str("\"alias\":");
        text.push_str(&alias);
        if !around.after.is_empty() {
            text.push(',');
            text.push_str(&around.after);
        }
        text.push('}');
        RawValue::from_string(text)
    }
}

/// Makes the manifest node of `LazyNodes::ids[i]` from `i`, while it is
/// written. `'a` is what the nodes borrow (the parsed project), `'m` the
/// closure.
pub type MakeNode<'m, 'a> = &'m (dyn Fn(usize) -> Option<ManifestNode<'a>> + Sync);

/// Nodes of the manifest made only when written (see [`Manifest::write_json_with`]).
#[derive(Default)]
pub struct LazyNodes<'m, 'a> {
    pub ids: Vec<&'m str>,
    pub make: Option<MakeNode<'m, 'a>>,
    /// Written as `parent_map` and `child_map` instead of the manifest's own.
    pub maps: Option<DependencyMaps<'m>>,
}

/// dbt's `parent_map` and `child_map` as index lists over sorted ids,
/// serialized straight from them. A large project has about 10^5 edges:
/// string maps of them cost tens of MB and a serial pass of their own.
#[derive(Debug, Default)]
pub struct DependencyMaps<'a> {
    ids: Vec<&'a str>,
    parents: Vec<Vec<u32>>,
    children: Vec<Vec<u32>>,
}

impl<'a> DependencyMaps<'a> {
    /// `ids` sorted and unique; `parents[i]` holds the parents of `ids[i]`
    /// as indices into `ids`, in any order and possibly repeated.
    pub fn from_parents(ids: Vec<&'a str>, mut parents: Vec<Vec<u32>>) -> Self {
        debug_assert!(ids.windows(2).all(|w| w[0] < w[1]));
        parents.resize_with(ids.len(), Vec::new);
        let mut children = vec![Vec::new(); ids.len()];
        for (child, list) in parents.iter_mut().enumerate() {
            list.sort_unstable();
            list.dedup();
            // Children are pushed in index (= id) order, so each list comes
            // out sorted and unique.
            for &parent in list.iter() {
                if let Some(its_children) = children.get_mut(parent as usize) {
                    its_children.push(child as u32);
                }
            }
        }
        DependencyMaps {
            ids,
            parents,
            children,
        }
    }

    fn write_map(
        &self,
        lists: &[Vec<u32>],
        quoted: &QuotedIds,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        out.write_all(b"{")?;
        for (i, list) in lists.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(quoted.get(i))?;
            out.write_all(b":[")?;
            for (j, &other) in list.iter().enumerate() {
                if j > 0 {
                    out.write_all(b",")?;
                }
                out.write_all(quoted.get(other as usize))?;
            }
            out.write_all(b"]")?;
        }
        out.write_all(b"}")
    }
}

/// Each id as a JSON string, escaped once: an id is written once as a key
/// and again for each of its edges, in both maps (10^5 escapes on a large
/// project).
struct QuotedIds {
    text: Vec<u8>,
    /// Where each id's text ends in `text`.
    ends: Vec<usize>,
}

impl QuotedIds {
    fn new(ids: &[&str]) -> Self {
        let mut quoted = QuotedIds {
            text: Vec::with_capacity(ids.iter().map(|id| id.len() + 2).sum()),
            ends: Vec::with_capacity(ids.len()),
        };
        for id in ids {
            json_text::write_str(&mut quoted.text, id);
            quoted.ends.push(quoted.text.len());
        }
        quoted
    }

    fn get(&self, i: usize) -> &[u8] {
        let start = i.checked_sub(1).map_or(0, |before| self.ends[before]);
        &self.text[start..self.ends[i]]
    }
}

/// A `parent_map` or `child_map` of [`DependencyMaps`], as a manifest field.
struct MapOf<'m>(&'m DependencyMaps<'m>, Adjacency, &'m QuotedIds);

#[derive(Clone, Copy)]
enum Adjacency {
    Parents,
    Children,
}

impl erased::Json for MapOf<'_> {
    fn write(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let MapOf(maps, adjacency, quoted) = self;
        let lists = match adjacency {
            Adjacency::Parents => &maps.parents,
            Adjacency::Children => &maps.children,
        };
        maps.write_map(lists, quoted, out)
    }
}

enum NodeEntry<'a> {
    Made(&'a String, &'a ManifestNode<'static>),
    /// The index in `LazyNodes::ids`, and the id.
    Lazy(usize, &'a str),
}

impl NodeEntry<'_> {
    fn id(&self) -> &str {
        match self {
            NodeEntry::Made(id, _) => id,
            NodeEntry::Lazy(_, id) => id,
        }
    }
}

/// Serializing differently typed fields through one closure.
mod erased {
    pub trait Json {
        fn write(&self, out: &mut dyn std::io::Write) -> std::io::Result<()>;
    }

    /// A value serde serializes.
    pub struct Serde<'a, T>(pub &'a T);

    impl<T: serde::Serialize> Json for Serde<'_, T> {
        fn write(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
            Ok(serde_json::to_writer(out, self.0)?)
        }
    }
}

fn depends_on_nodes(resource: &Value) -> Vec<&str> {
    resource
        .pointer("/depends_on/nodes")
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn owned_lists(map: BTreeMap<&str, Vec<&str>>) -> BTreeMap<String, Vec<String>> {
    map.into_iter()
        .map(|(id, list)| {
            let list = list.into_iter().map(str::to_string).collect();
            (id.to_string(), list)
        })
        .collect()
}

/// The manifest's `metadata` block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestMetadata {
    pub dbt_schema_version: String,
    /// See [`DBT_VERSION`] for why this is not hangar's own version.
    pub dbt_version: String,
    pub generated_at: String,
    #[serde(default)]
    pub invocation_id: Option<String>,
    #[serde(default)]
    pub invocation_started_at: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub project_name: Option<String>,
    #[serde(default)]
    pub project_id: Option<String>,
    /// dbt's anonymous tracking id; hangar sends no usage data, so `null`.
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub send_anonymous_usage_stats: Option<bool>,
    #[serde(default)]
    pub adapter_type: Option<String>,
    /// The adapter's default quoting policy.
    #[serde(default)]
    pub quoting: Option<Quoting>,
    #[serde(default)]
    pub run_started_at: Option<String>,
}

impl ManifestMetadata {
    /// Metadata for a manifest generated now by hangar.
    pub fn new(
        project_name: &str,
        adapter_type: &str,
        invocation_id: &str,
        invocation_started_at: DateTime<Utc>,
        quoting: Quoting,
    ) -> Self {
        let started = dbt_timestamp(invocation_started_at);
        ManifestMetadata {
            dbt_schema_version: MANIFEST_SCHEMA_URL.to_string(),
            dbt_version: DBT_VERSION.to_string(),
            generated_at: dbt_timestamp(Utc::now()),
            invocation_id: Some(invocation_id.to_string()),
            invocation_started_at: Some(started.clone()),
            env: BTreeMap::new(),
            project_name: Some(project_name.to_string()),
            project_id: Some(project_id(project_name)),
            user_id: None,
            send_anonymous_usage_stats: Some(false),
            adapter_type: Some(adapter_type.to_string()),
            quoting: Some(quoting),
            run_started_at: Some(started),
        }
    }
}

/// Quoting flags, `null` meaning "the adapter's default".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Quoting {
    #[serde(default)]
    pub database: Option<bool>,
    #[serde(default)]
    pub schema: Option<bool>,
    #[serde(default)]
    pub identifier: Option<bool>,
    #[serde(default)]
    pub column: Option<bool>,
}

/// The resource types that appear as manifest entries hangar builds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceType {
    #[default]
    Model,
    Analysis,
    Test,
    Snapshot,
    Operation,
    Seed,
    Source,
    Macro,
    Doc,
}

impl ResourceType {
    /// The name dbt uses, also the first part of a unique id.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Model => "model",
            ResourceType::Analysis => "analysis",
            ResourceType::Test => "test",
            ResourceType::Snapshot => "snapshot",
            ResourceType::Operation => "operation",
            ResourceType::Seed => "seed",
            ResourceType::Source => "source",
            ResourceType::Macro => "macro",
            ResourceType::Doc => "doc",
        }
    }
}

/// A file checksum: `{"name": "sha256", "checksum": hex}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileHash {
    pub name: String,
    pub checksum: String,
}

impl FileHash {
    /// sha256 of a file's contents, as dbt computes for models, seeds, etc.
    pub fn sha256(contents: &[u8]) -> Self {
        FileHash {
            name: "sha256".to_string(),
            checksum: hex::encode(Sha256::digest(contents)),
        }
    }

    /// The placeholder dbt writes for nodes without a file of their own
    /// (generic tests).
    pub fn none() -> Self {
        FileHash {
            name: "none".to_string(),
            checksum: String::new(),
        }
    }
}

impl Default for FileHash {
    fn default() -> Self {
        FileHash::none()
    }
}

/// `docs: {show, node_color}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Docs {
    #[serde(default = "yes")]
    pub show: bool,
    #[serde(default)]
    pub node_color: Option<String>,
}

impl Default for Docs {
    fn default() -> Self {
        Docs {
            show: true,
            node_color: None,
        }
    }
}

fn yes() -> bool {
    true
}

/// A documented column of a node or source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ColumnInfo {
    pub name: String,
    pub description: String,
    pub meta: JsonMap,
    pub data_type: Option<String>,
    pub constraints: Vec<Value>,
    pub quote: Option<bool>,
    pub config: ColumnConfig,
    pub tags: Vec<String>,
    /// Time granularity for semantic-layer time spines.
    pub granularity: Option<String>,
    /// Unique ids of the `doc()` blocks the description refers to.
    pub doc_blocks: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ColumnConfig {
    pub meta: JsonMap,
    pub tags: Vec<String>,
}

/// One `ref()` call: `{name, package, version}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RefArgs {
    pub name: String,
    pub package: Option<String>,
    /// A string or a number, as written in the `ref` call.
    pub version: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DependsOn<'a> {
    pub macros: Cow<'a, [String]>,
    pub nodes: Cow<'a, [String]>,
}

/// A model's contract; `checksum` is set when the contract is enforced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contract {
    #[serde(default)]
    pub enforced: bool,
    #[serde(default = "yes")]
    pub alias_types: bool,
    #[serde(default)]
    pub checksum: Option<String>,
}

impl Default for Contract {
    fn default() -> Self {
        Contract {
            enforced: false,
            alias_types: true,
            checksum: None,
        }
    }
}

/// An ephemeral model's CTE injected into a compiled node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InjectedCte {
    pub id: String,
    pub sql: String,
}

/// What a generic test was called with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TestMetadata<'a> {
    pub name: String,
    pub kwargs: Kwargs<'a>,
    pub namespace: Option<String>,
}

/// A generic test's arguments: a map as read from a manifest, or the
/// parser's (name, value) pairs sorted by name, lent and written as the
/// same JSON object (a large project's 30,000 tests each built a map only
/// to write it).
#[derive(Debug, Clone)]
pub enum Kwargs<'a> {
    Map(JsonMap),
    /// Sorted by name, names unique.
    Sorted(&'a [(String, Value)]),
}

impl Kwargs<'_> {
    /// The arguments by name, in name order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&String, &Value)> + '_> {
        match self {
            Kwargs::Map(map) => Box::new(map.iter()),
            Kwargs::Sorted(pairs) => Box::new(pairs.iter().map(|(name, value)| (name, value))),
        }
    }
}

/// Equal when they hold the same arguments, whichever form each is in.
impl PartialEq for Kwargs<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Default for Kwargs<'_> {
    fn default() -> Self {
        Kwargs::Map(JsonMap::new())
    }
}

impl From<JsonMap> for Kwargs<'_> {
    fn from(map: JsonMap) -> Self {
        Kwargs::Map(map)
    }
}

impl Serialize for Kwargs<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Kwargs::Map(map) => map.serialize(serializer),
            Kwargs::Sorted(pairs) => {
                let mut map = serializer.serialize_map(Some(pairs.len()))?;
                for (name, value) in pairs.iter() {
                    map.serialize_entry(name, value)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Kwargs<'_> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        JsonMap::deserialize(deserializer).map(Kwargs::Map)
    }
}

/// A model, seed, snapshot, test, analysis or hook (`operation`) in
/// `manifest.nodes`. Fields that a resource type does not have are ignored
/// when it is serialised; see the `Serialize` impl for which is which.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ManifestNode<'a> {
    pub database: Option<Cow<'a, str>>,
    pub schema: Cow<'a, str>,
    pub name: Cow<'a, str>,
    pub resource_type: ResourceType,
    pub package_name: Cow<'a, str>,
    /// Path relative to the resource folder (`models/`, `seeds/`, ...).
    pub path: Cow<'a, str>,
    /// Path relative to the project root.
    pub original_file_path: Cow<'a, str>,
    pub unique_id: Cow<'a, str>,
    pub fqn: Cow<'a, [String]>,
    pub alias: Cow<'a, str>,
    pub checksum: FileHash,
    /// The complete, rendered config; start from
    /// [`crate::config_defaults::for_resource_type`].
    #[serde(deserialize_with = "crate::deserialize_shared_map")]
    pub config: SharedJsonMap,
    pub tags: Cow<'a, [String]>,
    pub description: Cow<'a, str>,
    pub columns: Cow<'a, IndexMap<String, ColumnInfo>>,
    pub meta: Cow<'a, JsonMap>,
    pub group: Option<String>,
    pub docs: Docs,
    /// `package://path/to/schema.yml` of the YAML that described the node.
    pub patch_path: Option<Cow<'a, str>>,
    pub build_path: Option<String>,
    /// Only the configs the user wrote, before Jinja rendering.
    #[serde(deserialize_with = "crate::deserialize_shared_map")]
    pub unrendered_config: SharedJsonMap,
    /// An `alias` that `config` and `unrendered_config` hold on top of the
    /// shared maps above (a generic test whose name is hashed), written into
    /// both as they are serialized: a third of a large project's tests would
    /// otherwise each copy two maps of some forty keys, and serialize them
    /// afresh. `None` when read back, where the maps hold it.
    #[serde(skip)]
    pub config_alias: Option<Cow<'a, str>>,
    /// Unix seconds when the node was parsed.
    pub created_at: f64,
    pub relation_name: Option<Cow<'a, str>>,
    pub raw_code: Cow<'a, str>,
    pub doc_blocks: Cow<'a, [String]>,

    // Seeds only.
    /// Absolute path of the project the seed belongs to.
    pub root_path: Option<Cow<'a, str>>,

    // Every type but seeds.
    pub language: String,
    pub refs: Vec<RefArgs>,
    /// `[source_name, table_name]` pairs.
    pub sources: Vec<Vec<String>>,
    pub metrics: Vec<Vec<String>>,
    pub functions: Vec<Vec<String>>,
    /// Seeds write only `depends_on.macros`.
    pub depends_on: DependsOn<'a>,
    pub compiled_path: Option<String>,
    /// When false, dbt leaves out `compiled`, `compiled_code`,
    /// `extra_ctes_injected` and `extra_ctes` altogether.
    pub compiled: bool,
    pub compiled_code: Option<Cow<'a, str>>,
    pub extra_ctes_injected: bool,
    pub extra_ctes: Vec<InjectedCte>,
    pub contract: Contract,

    // Models only.
    pub access: Option<String>,
    pub constraints: Cow<'a, [Value]>,
    pub version: Option<Value>,
    pub latest_version: Option<Value>,
    pub deprecation_date: Option<String>,
    pub primary_key: Cow<'a, [String]>,
    pub time_spine: Option<Value>,

    // Hooks only: position in `on-run-start`/`on-run-end`.
    pub index: Option<u32>,

    // Generic tests only (singular tests have none of these).
    pub column_name: Option<String>,
    /// `models.<name>` or `sources.<name>`: the YAML entry that defined it.
    pub file_key_name: Option<String>,
    pub attached_node: Option<String>,
    pub test_metadata: Option<TestMetadata<'a>>,
}

impl ManifestNode<'_> {
    /// Whether this is a generic (YAML-defined) test rather than a singular one.
    pub fn is_generic_test(&self) -> bool {
        self.resource_type == ResourceType::Test && self.test_metadata.is_some()
    }

    /// Appends the node as compact JSON, what its `Serialize` impl gives
    /// through serde_json: the keys are written as they are, not scanned for
    /// bytes to escape (with forty keys a node, that was a fifth of writing
    /// a large manifest's nodes).
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        out.push(b'{');
        write_fields(self, &mut JsonFields { out, first: true })?;
        out.push(b'}');
        Ok(())
    }
}

impl Serialize for ManifestNode<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        write_fields(self, &mut SerdeFields(&mut map))?;
        map.end()
    }
}

/// Where a node's fields go, in dbt's order: a serde map, or JSON text.
trait FieldSink {
    type Error;
    /// `key` is one of this module's field names, none of which JSON escapes.
    fn entry<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Self::Error>;
}

struct SerdeFields<'m, M>(&'m mut M);

impl<M: SerializeMap> FieldSink for SerdeFields<'_, M> {
    type Error = M::Error;
    fn entry<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), M::Error> {
        self.0.serialize_entry(key, value)
    }
}

struct JsonFields<'b> {
    out: &'b mut Vec<u8>,
    first: bool,
}

impl FieldSink for JsonFields<'_> {
    type Error = serde_json::Error;
    fn entry<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        json_text::write_plain_key(self.out, key);
        json_text::write_into(self.out, value)
    }
}

/// Every field of the node its resource type has, in dbt's order.
fn write_fields<F: FieldSink>(node: &ManifestNode<'_>, fields: &mut F) -> Result<(), F::Error> {
    write_parsed_fields(node, fields)?;
    if node.resource_type == ResourceType::Seed {
        fields.entry("root_path", &node.root_path)?;
        return fields.entry("depends_on", &MacroDependsOn::of(&node.depends_on));
    }
    write_compiled_fields(node, fields)?;
    match node.resource_type {
        ResourceType::Model => write_model_fields(node, fields),
        ResourceType::Operation => fields.entry("index", &node.index),
        ResourceType::Test if node.test_metadata.is_some() => {
            write_generic_test_fields(node, fields)
        }
        _ => Ok(()),
    }
}

/// dbt's `ParsedResource` fields, common to every node type.
fn write_parsed_fields<F: FieldSink>(
    node: &ManifestNode<'_>,
    fields: &mut F,
) -> Result<(), F::Error> {
    fields.entry("database", &node.database)?;
    fields.entry("schema", &node.schema)?;
    fields.entry("name", &node.name)?;
    fields.entry("resource_type", &node.resource_type)?;
    fields.entry("package_name", &node.package_name)?;
    fields.entry("path", &node.path)?;
    fields.entry("original_file_path", &node.original_file_path)?;
    fields.entry("unique_id", &node.unique_id)?;
    fields.entry("fqn", &node.fqn)?;
    fields.entry("alias", &node.alias)?;
    fields.entry("checksum", &node.checksum)?;
    let alias = node.config_alias.as_deref();
    fields.entry("config", &config_json::Cached(&node.config, alias))?;
    fields.entry("tags", &node.tags)?;
    fields.entry("description", &node.description)?;
    fields.entry("columns", &node.columns)?;
    fields.entry("meta", &node.meta)?;
    fields.entry("group", &node.group)?;
    fields.entry("docs", &node.docs)?;
    fields.entry("patch_path", &node.patch_path)?;
    fields.entry("build_path", &node.build_path)?;
    fields.entry(
        "unrendered_config",
        &config_json::Cached(&node.unrendered_config, alias),
    )?;
    fields.entry("created_at", &node.created_at)?;
    fields.entry("relation_name", &node.relation_name)?;
    fields.entry("raw_code", &node.raw_code)?;
    fields.entry("doc_blocks", &node.doc_blocks)
}

/// dbt's `CompiledResource` fields: every node type but seeds.
fn write_compiled_fields<F: FieldSink>(
    node: &ManifestNode<'_>,
    fields: &mut F,
) -> Result<(), F::Error> {
    fields.entry("language", &node.language)?;
    fields.entry("refs", &node.refs)?;
    fields.entry("sources", &node.sources)?;
    fields.entry("metrics", &node.metrics)?;
    fields.entry("functions", &node.functions)?;
    fields.entry("depends_on", &node.depends_on)?;
    fields.entry("compiled_path", &node.compiled_path)?;
    if node.compiled {
        fields.entry("compiled", &node.compiled)?;
        fields.entry("compiled_code", &node.compiled_code)?;
        fields.entry("extra_ctes_injected", &node.extra_ctes_injected)?;
        fields.entry("extra_ctes", &node.extra_ctes)?;
    }
    fields.entry("contract", &node.contract)
}

fn write_model_fields<F: FieldSink>(
    node: &ManifestNode<'_>,
    fields: &mut F,
) -> Result<(), F::Error> {
    fields.entry("access", node.access.as_deref().unwrap_or("protected"))?;
    fields.entry("constraints", &node.constraints)?;
    fields.entry("version", &node.version)?;
    fields.entry("latest_version", &node.latest_version)?;
    fields.entry("deprecation_date", &node.deprecation_date)?;
    fields.entry("primary_key", &node.primary_key)?;
    fields.entry("time_spine", &node.time_spine)
}

fn write_generic_test_fields<F: FieldSink>(
    node: &ManifestNode<'_>,
    fields: &mut F,
) -> Result<(), F::Error> {
    fields.entry("column_name", &node.column_name)?;
    fields.entry("file_key_name", &node.file_key_name)?;
    fields.entry("attached_node", &node.attached_node)?;
    fields.entry("test_metadata", &node.test_metadata)
}

/// `depends_on` as seeds and macros write it: macros only.
#[derive(Serialize)]
struct MacroDependsOn<'a> {
    macros: &'a [String],
}

impl<'a> MacroDependsOn<'a> {
    fn of(depends_on: &'a DependsOn<'_>) -> Self {
        MacroDependsOn {
            macros: &depends_on.macros,
        }
    }
}

/// A source table in `manifest.sources`. Field order is dbt's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ManifestSource {
    pub database: Option<String>,
    pub schema: String,
    pub name: String,
    pub resource_type: SourceResourceType,
    pub package_name: String,
    pub path: String,
    pub original_file_path: String,
    pub unique_id: String,
    pub fqn: Vec<String>,
    pub source_name: String,
    pub source_description: String,
    pub loader: String,
    pub identifier: String,
    pub quoting: Quoting,
    pub loaded_at_field: Option<String>,
    pub loaded_at_query: Option<String>,
    pub freshness: Option<FreshnessThreshold>,
    pub external: Option<Value>,
    pub description: String,
    pub columns: IndexMap<String, ColumnInfo>,
    pub meta: JsonMap,
    /// The `meta` of the source (the YAML entry above the table).
    pub source_meta: JsonMap,
    pub tags: Vec<String>,
    #[serde(
        serialize_with = "crate::serialize_shared_map",
        deserialize_with = "crate::deserialize_shared_map"
    )]
    pub config: SharedJsonMap,
    pub patch_path: Option<String>,
    pub unrendered_config: JsonMap,
    pub relation_name: Option<String>,
    pub created_at: f64,
    /// `database`/`schema` as written, before Jinja rendering.
    pub unrendered_database: Option<String>,
    pub unrendered_schema: Option<String>,
    pub doc_blocks: Vec<String>,
}

/// Always `"source"`; a type of its own so sources cannot be mislabelled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceResourceType {
    #[default]
    Source,
}

/// `freshness: {warn_after, error_after, filter}`; dbt writes this object
/// with nulls inside when no freshness is configured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FreshnessThreshold {
    pub warn_after: Time,
    pub error_after: Time,
    pub filter: Option<String>,
}

/// `{count, period}` with period one of `minute`, `hour`, `day`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Time {
    pub count: Option<i64>,
    pub period: Option<String>,
}

/// A macro in `manifest.macros`. Field order is dbt's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ManifestMacro {
    pub name: String,
    pub resource_type: ResourceType,
    pub package_name: String,
    pub path: String,
    pub original_file_path: String,
    pub unique_id: String,
    pub macro_sql: String,
    pub depends_on: MacroDependsOnList,
    pub description: String,
    pub meta: JsonMap,
    pub docs: Docs,
    pub config: MacroConfig,
    pub patch_path: Option<String>,
    pub arguments: Vec<MacroArgument>,
    pub created_at: f64,
    /// For materializations: the languages they support (`["sql"]`).
    pub supported_languages: Option<Vec<String>>,
}

impl Default for ManifestMacro {
    fn default() -> Self {
        ManifestMacro {
            name: String::new(),
            resource_type: ResourceType::Macro,
            package_name: String::new(),
            path: String::new(),
            original_file_path: String::new(),
            unique_id: String::new(),
            macro_sql: String::new(),
            depends_on: MacroDependsOnList::default(),
            description: String::new(),
            meta: JsonMap::new(),
            docs: Docs::default(),
            config: MacroConfig::default(),
            patch_path: None,
            arguments: Vec::new(),
            created_at: 0.0,
            supported_languages: None,
        }
    }
}

/// A macro's `depends_on`: other macros only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MacroDependsOnList {
    pub macros: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MacroConfig {
    pub meta: JsonMap,
    pub docs: Docs,
}

/// A documented macro argument (from `macros:` in property YAML).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MacroArgument {
    pub name: String,
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub description: String,
}

/// A `{% docs %}` block in `manifest.docs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ManifestDoc {
    pub name: String,
    pub resource_type: ResourceType,
    pub package_name: String,
    pub path: String,
    pub original_file_path: String,
    pub unique_id: String,
    pub block_contents: String,
}

impl Default for ManifestDoc {
    fn default() -> Self {
        ManifestDoc {
            name: String::new(),
            resource_type: ResourceType::Doc,
            package_name: String::new(),
            path: String::new(),
            original_file_path: String::new(),
            unique_id: String::new(),
            block_contents: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(resource_type: ResourceType, id: &str, parents: &[&str]) -> ManifestNode<'static> {
        ManifestNode {
            resource_type,
            unique_id: id.to_string().into(),
            depends_on: DependsOn {
                macros: vec![].into(),
                nodes: parents.iter().map(|p| p.to_string()).collect(),
            },
            ..ManifestNode::default()
        }
    }

    fn keys(value: &Value) -> Vec<&str> {
        value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect()
    }

    #[test]
    fn parent_and_child_maps_are_sorted_and_complete() {
        let meta = ManifestMetadata::new("p", "duckdb", "id", Utc::now(), Quoting::default());
        let mut manifest = Manifest::new(meta);
        let model = node(
            ResourceType::Model,
            "model.p.b",
            &["source.p.s.t", "model.p.a", "model.p.a"],
        );
        manifest.nodes.insert("model.p.b".into(), model);
        manifest.nodes.insert(
            "model.p.a".into(),
            node(ResourceType::Model, "model.p.a", &[]),
        );
        manifest
            .sources
            .insert("source.p.s.t".into(), ManifestSource::default());
        manifest.unit_tests.insert(
            "unit_test.p.b.t".into(),
            json!({"depends_on": {"macros": [], "nodes": ["model.p.b"]}}),
        );
        manifest.build_parent_child_maps();
        assert_eq!(
            manifest.parent_map["model.p.b"],
            ["model.p.a", "source.p.s.t"]
        );
        assert_eq!(manifest.parent_map["source.p.s.t"], Vec::<String>::new());
        assert_eq!(manifest.child_map["model.p.a"], ["model.p.b"]);
        assert_eq!(manifest.child_map["model.p.b"], ["unit_test.p.b.t"]);
        assert_eq!(manifest.child_map["unit_test.p.b.t"], Vec::<String>::new());
    }

    #[test]
    fn dependency_maps_are_written_as_the_owned_maps() {
        let ids = vec!["model.p.a", "model.p.b", "source.p.s.t", "test.p.c"];
        // b <- a, s (a repeated); c <- b, a
        let parents = vec![vec![], vec![2, 0, 0], vec![], vec![1, 0]];
        let maps = DependencyMaps::from_parents(ids.clone(), parents);
        let meta = ManifestMetadata::new("p", "duckdb", "id", Utc::now(), Quoting::default());
        let mut manifest = Manifest::new(meta);
        let depends = [
            vec![],
            vec!["source.p.s.t", "model.p.a", "model.p.a"],
            vec![],
            vec!["model.p.b", "model.p.a"],
        ];
        for (id, parents) in ids.iter().zip(&depends) {
            if id.starts_with("source.") {
                manifest
                    .sources
                    .insert(id.to_string(), ManifestSource::default());
            } else {
                manifest
                    .nodes
                    .insert(id.to_string(), node(ResourceType::Model, id, parents));
            }
        }
        manifest.build_parent_child_maps();
        let written = |lazy: &LazyNodes<'_, '_>| {
            let mut out = Vec::new();
            manifest.write_json_with(&mut out, lazy).unwrap();
            serde_json::from_slice::<Value>(&out).unwrap()
        };
        let from_lists = written(&LazyNodes {
            maps: Some(maps),
            ..LazyNodes::default()
        });
        let owned = written(&LazyNodes::default());
        assert_eq!(from_lists["parent_map"], owned["parent_map"]);
        assert_eq!(from_lists["child_map"], owned["child_map"]);
        assert_eq!(
            from_lists["child_map"]["model.p.a"],
            json!(["model.p.b", "test.p.c"])
        );
        assert_eq!(
            from_lists["parent_map"]["model.p.b"],
            json!(["model.p.a", "source.p.s.t"])
        );
    }

    #[test]
    fn sorted_kwargs_are_written_as_their_map() {
        let pairs = vec![
            ("arguments".to_string(), json!({"b": [1, 2], "a": null})),
            ("column_name".to_string(), json!("id")),
            (
                "model".to_string(),
                json!("{{ get_where_subquery(ref('orders')) }}"),
            ),
        ];
        let map: JsonMap = pairs.iter().cloned().collect();
        assert_eq!(
            serde_json::to_string(&Kwargs::Sorted(&pairs)).unwrap(),
            serde_json::to_string(&Kwargs::Map(map.clone())).unwrap()
        );
        let read: Kwargs<'_> = serde_json::from_value(Value::Object(map.clone())).unwrap();
        assert_eq!(read, Kwargs::Map(map));
        assert_eq!(read, Kwargs::Sorted(&pairs));
        assert_ne!(read, Kwargs::Sorted(&pairs[1..]));
        assert_eq!(serde_json::to_string(&Kwargs::Sorted(&[])).unwrap(), "{}");
    }

    /// A node's `config_alias` is written into both configs exactly as if
    /// the maps held it, inside a cache scope (text spliced around the
    /// cached entries) and outside one, for maps with and without an alias
    /// and with no keys on either side of it.
    #[test]
    fn config_alias_is_written_as_if_the_maps_held_it() {
        let maps = [
            json!({"alias": "folder_alias", "enabled": true, "materialized": "test"}),
            json!({"database": null, "enabled": true, "severity": "ERROR"}),
            json!({"access": "protected", "alias": "x"}),
            json!({"access": "protected"}),
            json!({}),
        ];
        for map in maps {
            let Value::Object(map) = map else {
                unreachable!()
            };
            let shared = std::sync::Arc::new(map.clone());
            let mut spliced = node(ResourceType::Test, "test.p.t", &[]);
            spliced.config = shared.clone();
            spliced.unrendered_config = shared.clone();
            spliced.config_alias = Some("t_7f3e\"q".into());
            let mut held = map;
            held.insert("alias".into(), Value::from("t_7f3e\"q"));
            let mut expected = node(ResourceType::Test, "test.p.t", &[]);
            expected.config = std::sync::Arc::new(held.clone());
            expected.unrendered_config = std::sync::Arc::new(held);
            let want = serde_json::to_string(&expected).unwrap();
            assert_eq!(serde_json::to_string(&spliced).unwrap(), want);
            let _scope = config_json::CacheScope::enter();
            // Twice: the second is made from the cached entries.
            assert_eq!(serde_json::to_string(&spliced).unwrap(), want);
            assert_eq!(serde_json::to_string(&spliced).unwrap(), want);
            // The same shared map without the alias is still written whole.
            spliced.config_alias = None;
            let mut plain = expected.clone();
            plain.config = shared.clone();
            plain.unrendered_config = shared;
            assert_eq!(
                serde_json::to_string(&spliced).unwrap(),
                serde_json::to_string(&plain).unwrap()
            );
        }
    }

    #[test]
    fn uncompiled_nodes_leave_out_compiled_fields() {
        let mut model = node(ResourceType::Model, "model.p.a", &[]);
        let parsed = serde_json::to_value(&model).unwrap();
        assert!(!keys(&parsed).contains(&"compiled_code"));
        model.compiled = true;
        let compiled = serde_json::to_value(&model).unwrap();
        for key in [
            "compiled",
            "compiled_code",
            "extra_ctes_injected",
            "extra_ctes",
        ] {
            assert!(keys(&compiled).contains(&key), "{key}");
        }
    }

    #[test]
    fn seeds_have_root_path_and_macro_only_depends_on() {
        let seed = node(ResourceType::Seed, "seed.p.s", &[]);
        let value = serde_json::to_value(&seed).unwrap();
        assert_eq!(value["depends_on"], json!({"macros": []}));
        assert!(keys(&value).contains(&"root_path"));
        assert!(!keys(&value).contains(&"refs"));
    }

    #[test]
    fn singular_tests_have_no_generic_test_fields() {
        let test = node(ResourceType::Test, "test.p.t", &[]);
        let value = serde_json::to_value(&test).unwrap();
        assert!(!keys(&value).contains(&"test_metadata"));
        assert!(!keys(&value).contains(&"column_name"));
    }

    #[test]
    fn node_keys_follow_dbt_order() {
        let json =
            serde_json::to_string(&node(ResourceType::Operation, "operation.p.h", &[])).unwrap();
        let database = json.find("\"database\"").unwrap();
        let raw_code = json.find("\"raw_code\"").unwrap();
        let index = json.find("\"index\"").unwrap();
        assert!(database < raw_code && raw_code < index);
    }

    #[test]
    fn nodes_are_written_as_serde_json_writes_them() {
        let mut compiled = node(ResourceType::Model, "model.p.a", &["seed.p.s"]);
        compiled.compiled = true;
        compiled.compiled_code = Some("select \"x\"\n".into());
        compiled.description = "a \\ b \u{1}".into();
        let kwargs = [("column_name".to_string(), json!("id"))];
        let mut generic = node(ResourceType::Test, "test.p.t", &["model.p.a"]);
        generic.test_metadata = Some(TestMetadata {
            name: "unique".into(),
            kwargs: Kwargs::Sorted(&kwargs),
            namespace: None,
        });
        generic.config_alias = Some("t_hashed".into());
        let others = [
            ResourceType::Model,
            ResourceType::Seed,
            ResourceType::Snapshot,
            ResourceType::Test,
            ResourceType::Analysis,
            ResourceType::Operation,
        ]
        .map(|rt| node(rt, "x.p.y", &[]));
        for written in others.iter().chain([&compiled, &generic]) {
            let mut ours = Vec::new();
            written.write_json(&mut ours).unwrap();
            let theirs = serde_json::to_vec(written).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(theirs).unwrap()
            );
        }
    }

    #[test]
    fn file_hash_is_hex_sha256() {
        let hash = FileHash::sha256(b"select 1");
        assert_eq!(hash.name, "sha256");
        assert_eq!(hash.checksum.len(), 64);
    }
}
