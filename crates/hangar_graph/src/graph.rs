//! The DAG of nodes: built once, checked for unknown parents and cycles,
//! then queried by index. Node indices follow `unique_id` order, so any
//! iteration in index order is already sorted.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};

use hangar_project::{Diagnostic, codes, suggest};
use petgraph::algo::kosaraju_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::node::{GraphNode, ResourceType};
use crate::nodeset::NodeSet;

/// Values derived from a node once, so selection does not allocate per node.
#[derive(Debug, Clone)]
pub(crate) struct NodeFacts {
    /// `fqn` joined with `.`.
    pub fqn_joined: String,
    /// The latest version of a versioned model (explicit
    /// `config.latest_version`, else the highest version of its siblings).
    pub latest_version: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Graph {
    nodes: Vec<GraphNode>,
    facts: Vec<NodeFacts>,
    index: HashMap<String, usize>,
    dag: DiGraph<(), ()>,
    /// Sorted parent / child indices per node.
    parents: Vec<Vec<usize>>,
    children: Vec<Vec<usize>>,
}

impl Graph {
    /// Builds the DAG from each node with the unique ids of its parents
    /// (kept only as indices, so the caller may lend them). Every problem
    /// is reported: duplicate ids, parents that do not exist (H300/H301)
    /// and each cycle (H302) with its path.
    pub fn build<D, P>(nodes: Vec<(GraphNode, D)>) -> Result<Graph, Vec<Diagnostic>>
    where
        D: AsRef<[P]>,
        P: AsRef<str>,
    {
        let (nodes, depends_on) = nodes.into_iter().unzip();
        Graph::build_from(nodes, depends_on)
    }

    /// [`Graph::build`] from two lists of one length: the nodes, and each
    /// node's parent ids at the same position. Nodes already sorted by
    /// `unique_id` (as a parsed project's maps give them) are not moved:
    /// 40,000 nodes are 15 MB, and sorting and splitting pairs of them
    /// copied that several times over.
    pub fn build_from<D, P>(
        mut nodes: Vec<GraphNode>,
        mut depends_on: Vec<D>,
    ) -> Result<Graph, Vec<Diagnostic>>
    where
        D: AsRef<[P]>,
        P: AsRef<str>,
    {
        if nodes.len() != depends_on.len() {
            return Err(vec![Diagnostic::error(
                codes::UNSUPPORTED,
                format!(
                    "internal error: {} nodes were given with {} lists of parents",
                    nodes.len(),
                    depends_on.len()
                ),
            )]);
        }
        if !nodes.is_sorted_by(|a, b| a.unique_id <= b.unique_id) {
            (nodes, depends_on) = sorted_by_id(nodes, depends_on);
        }
        let ids: Vec<&str> = nodes.iter().map(|n| n.unique_id.as_str()).collect();
        let Links { parents } =
            Links::build(&ids, &depends_on, &|i| nodes[i].original_file_path.clone())?;
        drop(ids);
        let children = children_of(&parents);
        let dag = petgraph_of(&parents);
        let index: HashMap<String, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.unique_id.clone(), i))
            .collect();
        let facts = node_facts(&nodes);
        Ok(Graph {
            nodes,
            facts,
            index,
            dag,
            parents,
            children,
        })
    }

    pub fn node(&self, id: &str) -> Option<&GraphNode> {
        self.index.get(id).map(|&i| &self.nodes[i])
    }

    /// All nodes, sorted by `unique_id`.
    pub fn nodes(&self) -> impl Iterator<Item = &GraphNode> {
        self.nodes.iter()
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Direct parents, sorted; empty for an unknown id.
    pub fn parents(&self, id: &str) -> Vec<&str> {
        self.ids_of(self.index.get(id).map_or(&[][..], |&i| &self.parents[i]))
    }

    /// Direct children, sorted; empty for an unknown id.
    pub fn children(&self, id: &str) -> Vec<&str> {
        self.ids_of(self.index.get(id).map_or(&[][..], |&i| &self.children[i]))
    }

    /// Ancestors up to `depth` generations (all with `None`), sorted,
    /// without `id` itself.
    pub fn ancestors(&self, id: &str, depth: Option<usize>) -> Vec<&str> {
        self.reach_from(id, depth, Direction::Parents)
    }

    /// Descendants up to `depth` generations (all with `None`), sorted,
    /// without `id` itself.
    pub fn descendants(&self, id: &str, depth: Option<usize>) -> Vec<&str> {
        self.reach_from(id, depth, Direction::Children)
    }

    /// Parents before children; ties broken by `unique_id`.
    pub fn topological_order(&self) -> Vec<&str> {
        let mut pending: Vec<usize> = self.parents.iter().map(Vec::len).collect();
        let mut ready: BinaryHeap<Reverse<usize>> = pending
            .iter()
            .enumerate()
            .filter(|(_, n)| **n == 0)
            .map(|(i, _)| Reverse(i))
            .collect();
        let mut order = Vec::with_capacity(self.nodes.len());
        while let Some(Reverse(i)) = ready.pop() {
            order.push(self.nodes[i].unique_id.as_str());
            for &child in &self.children[i] {
                pending[child] -= 1;
                if pending[child] == 0 {
                    ready.push(Reverse(child));
                }
            }
        }
        order
    }

    /// Every node's sorted parents, as dbt's manifest `parent_map`.
    pub fn parent_map(&self) -> BTreeMap<String, Vec<String>> {
        self.adjacency_map(&self.parents)
    }

    /// Every node's sorted children, as dbt's manifest `child_map`.
    pub fn child_map(&self) -> BTreeMap<String, Vec<String>> {
        self.adjacency_map(&self.children)
    }

    /// Each node's id with its parents as indices into [`Graph::nodes`]
    /// order (sorted, unique): the manifest's maps are written from these
    /// without a string map per node.
    pub fn parent_lists(&self) -> impl ExactSizeIterator<Item = (&str, &[usize])> {
        self.nodes
            .iter()
            .zip(&self.parents)
            .map(|(node, parents)| (node.unique_id.as_str(), parents.as_slice()))
    }

    /// The graph reduced to what the manifest's `parent_map` and
    /// `child_map` are written from: each node's unique id (sorted) and
    /// its parents. The selectable copy of every node is dropped, so a
    /// caller done selecting frees it before doing more work.
    pub fn into_links(self) -> (Vec<String>, Links) {
        let ids = self.nodes.into_iter().map(|n| n.unique_id).collect();
        (
            ids,
            Links {
                parents: self.parents,
            },
        )
    }

    /// The petgraph view (node `i` is the `i`-th node in `unique_id` order),
    /// for callers that want graph algorithms of their own.
    pub fn petgraph(&self) -> &DiGraph<(), ()> {
        &self.dag
    }

    // ---- crate-internal, index-based API used by selection ----

    pub(crate) fn node_at(&self, i: usize) -> &GraphNode {
        &self.nodes[i]
    }

    pub(crate) fn facts_at(&self, i: usize) -> &NodeFacts {
        &self.facts[i]
    }

    pub(crate) fn index_of(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    pub(crate) fn parent_indices(&self, i: usize) -> &[usize] {
        &self.parents[i]
    }

    pub(crate) fn child_indices(&self, i: usize) -> &[usize] {
        &self.children[i]
    }

    pub(crate) fn id_at(&self, i: usize) -> &str {
        &self.nodes[i].unique_id
    }

    /// Nodes reachable from `start` within `depth` steps, excluding the
    /// start nodes unless reached through an edge (multi-source BFS: the
    /// same as the union of each start node's own depth-limited search).
    /// With `within`, only those nodes are walked (dbt's subgraph of
    /// enabled nodes).
    pub(crate) fn reach(
        &self,
        start: &NodeSet,
        depth: Option<usize>,
        direction: Direction,
        within: Option<&NodeSet>,
    ) -> NodeSet {
        let edges = match direction {
            Direction::Parents => &self.parents,
            Direction::Children => &self.children,
        };
        let mut reached = NodeSet::new(self.nodes.len());
        let mut queue: VecDeque<(usize, usize)> = start.iter().map(|i| (i, 0)).collect();
        let mut seen = start.clone();
        while let Some((i, distance)) = queue.pop_front() {
            if depth.is_some_and(|d| distance >= d) {
                continue;
            }
            for &next in &edges[i] {
                if within.is_some_and(|members| !members.contains(next)) {
                    continue;
                }
                reached.insert(next);
                if seen.insert(next) {
                    queue.push_back((next, distance + 1));
                }
            }
        }
        reached
    }

    fn reach_from(&self, id: &str, depth: Option<usize>, direction: Direction) -> Vec<&str> {
        let Some(i) = self.index_of(id) else {
            return Vec::new();
        };
        let mut start = NodeSet::new(self.nodes.len());
        start.insert(i);
        let mut reached = self.reach(&start, depth, direction, None);
        reached.remove(i);
        reached.iter().map(|j| self.id_at(j)).collect()
    }

    fn ids_of(&self, indices: &[usize]) -> Vec<&str> {
        indices.iter().map(|&i| self.id_at(i)).collect()
    }

    fn adjacency_map(&self, edges: &[Vec<usize>]) -> BTreeMap<String, Vec<String>> {
        self.nodes
            .iter()
            .zip(edges)
            .map(|(node, targets)| {
                let ids = targets.iter().map(|&t| self.id_at(t).to_string()).collect();
                (node.unique_id.clone(), ids)
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Parents,
    Children,
}

/// Both lists reordered by `unique_id`; nodes with one id keep their order.
fn sorted_by_id<D>(nodes: Vec<GraphNode>, depends_on: Vec<D>) -> (Vec<GraphNode>, Vec<D>) {
    let mut order: Vec<usize> = (0..nodes.len()).collect();
    order.sort_by(|&a, &b| nodes[a].unique_id.cmp(&nodes[b].unique_id));
    let mut slots: Vec<Option<(GraphNode, D)>> =
        nodes.into_iter().zip(depends_on).map(Some).collect();
    order.iter().filter_map(|&i| slots[i].take()).unzip()
}

/// The checked edges between nodes known by their unique ids: what a
/// [`Graph`] is built on, and all `hangar parse` needs (it reports the
/// same problems and writes `parent_map` / `child_map` without making a
/// selectable node of each resource).
#[derive(Debug, Clone, Default)]
pub struct Links {
    /// Sorted, unique parent indices per node.
    parents: Vec<Vec<usize>>,
}

impl Links {
    /// Links nodes given by their unique ids (sorted, for the diagnostics'
    /// order), with each node's parent ids at the same position in
    /// `depends_on` (missing lists count as empty). Every problem is
    /// reported: duplicate ids (a later node with an id already seen is
    /// left out), parents that do not exist (H300/H301) and each cycle
    /// (H302) with its path. `file_of(i)` names the file of the `i`-th
    /// node, for the diagnostics.
    pub fn build<D, P>(
        ids: &[&str],
        depends_on: &[D],
        file_of: &dyn Fn(usize) -> String,
    ) -> Result<Links, Vec<Diagnostic>>
    where
        D: AsRef<[P]>,
        P: AsRef<str>,
    {
        let mut diagnostics = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::with_capacity(ids.len());
        let mut repeated = vec![false; ids.len()];
        for (i, id) in ids.iter().enumerate() {
            if let Some(&first) = index.get(id) {
                diagnostics.push(duplicate_id(id, &file_of(first), &file_of(i)));
                repeated[i] = true;
            } else {
                index.insert(id, i);
            }
        }
        let parents: Vec<Vec<usize>> = (0..ids.len())
            .map(|i| match depends_on.get(i) {
                Some(parent_ids) if !repeated[i] => {
                    let (found, mut unknown) =
                        resolve_parents(ids[i], parent_ids.as_ref(), &index, &|| file_of(i));
                    diagnostics.append(&mut unknown);
                    found
                }
                _ => Vec::new(),
            })
            .collect();
        // The petgraph and its components are built only to describe the
        // cycles found: most projects have none.
        if has_cycle(&parents) {
            diagnostics.extend(cycles(&petgraph_of(&parents), ids, file_of));
        }
        if !diagnostics.is_empty() {
            return Err(diagnostics);
        }
        Ok(Links { parents })
    }

    /// Each node's parents as indices into the ids it was built from,
    /// sorted and unique.
    pub fn parents(&self) -> &[Vec<usize>] {
        &self.parents
    }
}

/// Each node's children, from each node's parents (sorted, unique): sorted
/// and unique too.
fn children_of(parents: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut children = vec![Vec::new(); parents.len()];
    for (child, ps) in parents.iter().enumerate() {
        for &parent in ps {
            children[parent].push(child);
        }
    }
    children
}

/// The petgraph of the links: node `i` is the `i`-th id, edges run from
/// parent to child.
fn petgraph_of(parents: &[Vec<usize>]) -> DiGraph<(), ()> {
    let edges = parents.iter().map(Vec::len).sum();
    let mut dag = DiGraph::with_capacity(parents.len(), edges);
    for _ in parents {
        dag.add_node(());
    }
    for (child, ps) in parents.iter().enumerate() {
        for &parent in ps {
            dag.add_edge(NodeIndex::new(parent), NodeIndex::new(child), ());
        }
    }
    dag
}

/// Whether following parents from some node leads back to it: a depth-first
/// search without recursion (chains of refs can be thousands long).
fn has_cycle(parents: &[Vec<usize>]) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Visit {
        Unseen,
        OnPath,
        Finished,
    }
    let mut visit = vec![Visit::Unseen; parents.len()];
    // Each node on the current path with the position of its next parent.
    let mut path: Vec<(usize, usize)> = Vec::new();
    for start in 0..parents.len() {
        if visit[start] != Visit::Unseen {
            continue;
        }
        visit[start] = Visit::OnPath;
        path.push((start, 0));
        while let Some((node, next)) = path.last_mut() {
            let Some(&parent) = parents[*node].get(*next) else {
                visit[*node] = Visit::Finished;
                path.pop();
                continue;
            };
            *next += 1;
            match visit[parent] {
                Visit::OnPath => return true,
                Visit::Unseen => {
                    visit[parent] = Visit::OnPath;
                    path.push((parent, 0));
                }
                Visit::Finished => {}
            }
        }
    }
    false
}

/// H106 for a node whose id an earlier node has.
fn duplicate_id(id: &str, first_file: &str, file: &str) -> Diagnostic {
    Diagnostic::error(
        codes::DUPLICATE_NAME,
        format!("two nodes have the unique id `{id}`"),
    )
    .with_note(format!("defined in `{first_file}`"))
    .with_note(format!("and in `{file}`"))
}

/// A node's parents as sorted, de-duplicated indices, plus a diagnostic
/// for each parent id that is not a node.
fn resolve_parents<P: AsRef<str>>(
    id: &str,
    parent_ids: &[P],
    index: &HashMap<&str, usize>,
    file: &dyn Fn() -> String,
) -> (Vec<usize>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut found: Vec<usize> = parent_ids
        .iter()
        .map(AsRef::as_ref)
        .filter_map(|parent| {
            let at = index.get(parent).copied();
            if at.is_none() {
                diagnostics.push(unknown_parent(id, &file(), parent, index));
            }
            at
        })
        .collect();
    found.sort_unstable();
    found.dedup();
    (found, diagnostics)
}

fn unknown_parent(id: &str, file: &str, parent: &str, index: &HashMap<&str, usize>) -> Diagnostic {
    let code = if parent.starts_with("source.") {
        codes::UNKNOWN_SOURCE
    } else {
        codes::UNKNOWN_REF
    };
    let mut diagnostic = Diagnostic::error(
        code,
        format!("`{id}` depends on `{parent}`, which is not in the project"),
    )
    .with_note(format!("in `{file}`"));
    if let Some(near) = suggest(parent, index.keys().copied()) {
        diagnostic = diagnostic.with_hint(format!("did you mean `{near}`?"));
    }
    diagnostic
}

/// One H302 per strongly connected component that is a cycle, naming the
/// full path from its smallest id back to itself.
fn cycles(
    dag: &DiGraph<(), ()>,
    ids: &[&str],
    file_of: &dyn Fn(usize) -> String,
) -> Vec<Diagnostic> {
    let mut found: Vec<Vec<usize>> = kosaraju_scc(dag)
        .into_iter()
        .filter_map(|component| {
            let members: Vec<usize> = component.iter().map(|n| n.index()).collect();
            let is_cycle = members.len() > 1 || dag.contains_edge(component[0], component[0]);
            is_cycle.then(|| cycle_path(dag, &members))
        })
        .collect();
    found.sort();
    found
        .into_iter()
        .map(|path| {
            let text: Vec<&str> = path.iter().map(|&i| ids[i]).collect();
            Diagnostic::error(
                codes::CYCLE,
                format!("found a cycle: {}", text.join(" -> ")),
            )
            .with_note(format!("in `{}`", file_of(path[0])))
            .with_hint("remove one of these dependencies (a `ref` or `source`) to break the cycle")
        })
        .collect()
}

/// A shortest path from the smallest member back to itself, within the
/// component; the returned path starts and ends with that member.
fn cycle_path(dag: &DiGraph<(), ()>, members: &[usize]) -> Vec<usize> {
    let start = members.iter().copied().min().unwrap_or_default();
    let in_component = |i: usize| members.contains(&i);
    let mut previous: HashMap<usize, usize> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(i) = queue.pop_front() {
        let mut next: Vec<usize> = dag
            .neighbors(NodeIndex::new(i))
            .map(|n| n.index())
            .collect();
        next.sort_unstable();
        for j in next {
            if j == start {
                let mut path = vec![i];
                let mut at = i;
                while at != start {
                    let Some(&p) = previous.get(&at) else { break };
                    at = p;
                    path.push(at);
                }
                path.reverse();
                path.push(start);
                return path;
            }
            if in_component(j) && !previous.contains_key(&j) && j != start {
                previous.insert(j, i);
                queue.push_back(j);
            }
        }
    }
    vec![start, start]
}

fn node_facts(nodes: &[GraphNode]) -> Vec<NodeFacts> {
    let mut highest: HashMap<(&str, &str), &str> = HashMap::new();
    for node in nodes
        .iter()
        .filter(|n| n.resource_type == ResourceType::Model)
    {
        if let Some(version) = node.version.as_deref() {
            let key = (node.package_name.as_str(), node.name.as_str());
            let entry = highest.entry(key).or_insert(version);
            if crate::selector::methods::compare_versions(version, entry).is_gt() {
                *entry = version;
            }
        }
    }
    nodes
        .iter()
        .map(|node| {
            let explicit = node
                .config
                .get("latest_version")
                .and_then(json_scalar_string);
            let derived = node.version.as_ref().and_then(|_| {
                highest
                    .get(&(node.package_name.as_str(), node.name.as_str()))
                    .map(|v| v.to_string())
            });
            NodeFacts {
                fqn_joined: node.fqn.join("."),
                latest_version: explicit.or(derived),
            }
        })
        .collect()
}

fn json_scalar_string(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether petgraph finds a component that is a cycle (what the
    /// diagnostics are made from).
    fn petgraph_finds_cycle(parents: &[Vec<usize>]) -> bool {
        let dag = petgraph_of(parents);
        kosaraju_scc(&dag)
            .iter()
            .any(|c| c.len() > 1 || dag.contains_edge(c[0], c[0]))
    }

    #[test]
    fn has_cycle_agrees_with_petgraph_on_every_graph_of_four_nodes() {
        const NODES: usize = 4;
        for edges in 0u32..1 << (NODES * NODES) {
            let parents: Vec<Vec<usize>> = (0..NODES)
                .map(|child| {
                    (0..NODES)
                        .filter(|parent| edges & (1 << (child * NODES + parent)) != 0)
                        .collect()
                })
                .collect();
            assert_eq!(
                has_cycle(&parents),
                petgraph_finds_cycle(&parents),
                "{parents:?}"
            );
        }
    }

    #[test]
    fn has_cycle_walks_long_chains_without_recursion() {
        let chain: Vec<Vec<usize>> = (0..200_000)
            .map(|i| if i == 0 { vec![] } else { vec![i - 1] })
            .collect();
        assert!(!has_cycle(&chain));
        let mut closed = chain;
        closed[0] = vec![199_999];
        assert!(has_cycle(&closed));
    }

    #[test]
    fn children_are_the_parents_reversed() {
        let parents = vec![vec![], vec![0], vec![0, 1]];
        assert_eq!(children_of(&parents), vec![vec![1, 2], vec![2], vec![]]);
        let dag = petgraph_of(&parents);
        assert_eq!(dag.edge_count(), 3);
        assert!(dag.contains_edge(NodeIndex::new(0), NodeIndex::new(2)));
    }
}
