//! Evaluating a [`SelectionSpec`] over a [`Graph`], as dbt's
//! `NodeSelector.select_nodes` does: each criterion yields directly selected
//! nodes plus tests that are only "indirectly" selected; set operations
//! combine both, then promote indirect tests according to the mode.

use hangar_project::{Diagnostic, codes};

use super::StateProvider;
use super::methods::{self, Matcher};
use super::spec::{IndirectSelection, SelectionCriteria, SelectionSpec};
use crate::graph::{Direction, Graph};
use crate::node::ResourceType;
use crate::nodeset::NodeSet;

/// Direct and indirect selections of one sub-expression.
struct Selected {
    direct: NodeSet,
    indirect: NodeSet,
}

pub(crate) struct Evaluator<'g> {
    graph: &'g Graph,
    /// Enabled nodes: dbt selects over the subgraph of these.
    members: NodeSet,
    mode: IndirectSelection,
    state: Option<&'g dyn StateProvider>,
}

impl<'g> Evaluator<'g> {
    pub(crate) fn new(
        graph: &'g Graph,
        mode: IndirectSelection,
        state: Option<&'g dyn StateProvider>,
    ) -> Self {
        let mut members = NodeSet::new(graph.len());
        for i in 0..graph.len() {
            if graph.node_at(i).is_enabled() {
                members.insert(i);
            }
        }
        Evaluator {
            graph,
            members,
            mode,
            state,
        }
    }

    /// The selected node indices, never a disabled node.
    pub(crate) fn run(&self, spec: &SelectionSpec) -> Result<NodeSet, Diagnostic> {
        let mut selected = self.eval(spec)?.direct;
        selected.intersect_with(&self.members);
        Ok(selected)
    }

    fn eval(&self, spec: &SelectionSpec) -> Result<Selected, Diagnostic> {
        let len = self.graph.len();
        match spec {
            SelectionSpec::All => Ok(Selected {
                direct: self.members.clone(),
                indirect: NodeSet::new(len),
            }),
            SelectionSpec::Nothing => Ok(Selected {
                direct: NodeSet::new(len),
                indirect: NodeSet::new(len),
            }),
            SelectionSpec::Criteria(criteria) => self.eval_criteria(criteria),
            SelectionSpec::Union {
                components,
                indirect_selection,
            } => self.eval_group(components, *indirect_selection, Combine::Union),
            SelectionSpec::Intersection {
                components,
                indirect_selection,
            } => self.eval_group(components, *indirect_selection, Combine::Intersection),
            SelectionSpec::Difference {
                components,
                indirect_selection,
            } => self.eval_group(components, *indirect_selection, Combine::Difference),
        }
    }

    fn eval_group(
        &self,
        components: &[SelectionSpec],
        mode: Option<IndirectSelection>,
        combine: Combine,
    ) -> Result<Selected, Diagnostic> {
        let mut direct: Option<NodeSet> = None;
        let mut indirect: Option<NodeSet> = None;
        for component in components {
            let Selected {
                direct: d,
                indirect: mut i,
            } = self.eval(component)?;
            i.union_with(&d);
            direct = Some(combine.apply(direct, d));
            indirect = Some(combine.apply(indirect, i));
        }
        let len = self.graph.len();
        let direct = direct.unwrap_or_else(|| NodeSet::new(len));
        let indirect = indirect.unwrap_or_else(|| NodeSet::new(len));
        let direct = self.incorporate_indirect(direct, &indirect, mode.unwrap_or(self.mode));
        Ok(Selected { direct, indirect })
    }

    fn eval_criteria(&self, criteria: &SelectionCriteria) -> Result<Selected, Diagnostic> {
        let collected = self.collect(criteria)?;
        let mut selected = collected.clone();
        selected.union_with(&self.neighbors(criteria, &collected));
        let mode = criteria.indirect_selection.unwrap_or(self.mode);
        if mode == IndirectSelection::Empty {
            let indirect = NodeSet::new(self.graph.len());
            return Ok(Selected {
                direct: selected,
                indirect,
            });
        }
        Ok(self.expand_tests(selected, mode))
    }

    /// The nodes the criterion's method matches.
    fn collect(&self, criteria: &SelectionCriteria) -> Result<NodeSet, Diagnostic> {
        let matcher = methods::compile(&criteria.method, &criteria.value).map_err(|message| {
            Diagnostic::error(
                codes::BAD_SELECTOR,
                format!("`{}`: {message}", criteria.raw),
            )
        })?;
        let mut found = NodeSet::new(self.graph.len());
        for i in self.members.iter() {
            let node = self.graph.node_at(i);
            if matcher.searches(node) && self.node_matches(&matcher, i, criteria)? {
                found.insert(i);
            }
        }
        Ok(found)
    }

    fn node_matches(
        &self,
        matcher: &Matcher<'_>,
        i: usize,
        criteria: &SelectionCriteria,
    ) -> Result<bool, Diagnostic> {
        let node = self.graph.node_at(i);
        let answer = match matcher {
            Matcher::State(value) => self.provider(criteria)?.state_matches(node, value),
            Matcher::Result(value) => self.provider(criteria)?.result_matches(node, value),
            Matcher::SourceStatus(value) => {
                self.provider(criteria)?.source_status_matches(node, value)
            }
            other => return Ok(other.matches(node, self.graph.facts_at(i))),
        };
        answer.map_err(|message| {
            Diagnostic::error(
                codes::BAD_SELECTOR,
                format!("`{}`: {message}", criteria.raw),
            )
        })
    }

    fn provider(&self, criteria: &SelectionCriteria) -> Result<&'g dyn StateProvider, Diagnostic> {
        self.state.ok_or_else(|| {
            Diagnostic::error(
                codes::BAD_SELECTOR,
                format!("`{}`: {}: selection needs --state", criteria.raw, criteria.method.name()),
            )
            .with_hint("pass --state with the target folder of a previous run (its manifest.json and run_results.json)")
        })
    }

    /// The graph operators around a criterion: `@`, `N+`, `+N`.
    fn neighbors(&self, criteria: &SelectionCriteria, collected: &NodeSet) -> NodeSet {
        let mut additional = NodeSet::new(self.graph.len());
        if criteria.childrens_parents {
            let mut family = self.reach(collected, None, Direction::Children);
            family.union_with(collected);
            additional.union_with(&self.reach(&family, None, Direction::Parents));
            additional.union_with(&family);
        }
        if criteria.parents {
            additional.union_with(&self.reach(
                collected,
                criteria.parents_depth,
                Direction::Parents,
            ));
        }
        if criteria.children {
            additional.union_with(&self.reach(
                collected,
                criteria.children_depth,
                Direction::Children,
            ));
        }
        additional
    }

    /// dbt's `expand_selection`: tests that are children of selected nodes
    /// join directly or wait as indirect candidates, by mode.
    fn expand_tests(&self, selected: NodeSet, mode: IndirectSelection) -> Selected {
        let graph = self.graph;
        let buildable_base = (mode == IndirectSelection::Buildable).then(|| {
            let mut base = self.with_ancestors(&selected);
            for i in 0..graph.len() {
                if graph.node_at(i).resource_type == ResourceType::Source {
                    base.insert(i);
                }
            }
            base
        });
        let mut direct = selected.clone();
        let mut indirect = NodeSet::new(graph.len());
        for test in self.test_children(&selected).iter() {
            let parents_within =
                |set: &NodeSet| graph.parent_indices(test).iter().all(|&p| set.contains(p));
            let joins = mode == IndirectSelection::Eager
                || parents_within(&selected)
                || buildable_base.as_ref().is_some_and(parents_within);
            if joins {
                direct.insert(test);
            } else {
                indirect.insert(test);
            }
        }
        Selected { direct, indirect }
    }

    /// Tests and unit tests that are direct children of `selected`.
    fn test_children(&self, selected: &NodeSet) -> NodeSet {
        let mut tests = NodeSet::new(self.graph.len());
        for i in selected.iter() {
            for &child in self.graph.child_indices(i) {
                let t = self.graph.node_at(child).resource_type;
                if self.members.contains(child)
                    && matches!(t, ResourceType::Test | ResourceType::UnitTest)
                {
                    tests.insert(child);
                }
            }
        }
        tests
    }

    /// dbt's `incorporate_indirect_nodes`: after a set operation, indirect
    /// candidates whose parents are now all selected (cautious) or
    /// buildable (buildable) join the selection.
    fn incorporate_indirect(
        &self,
        direct: NodeSet,
        indirect: &NodeSet,
        mode: IndirectSelection,
    ) -> NodeSet {
        if direct == *indirect {
            return direct;
        }
        let base = match mode {
            IndirectSelection::Cautious => direct.clone(),
            IndirectSelection::Buildable => self.with_ancestors(&direct),
            IndirectSelection::Eager | IndirectSelection::Empty => return direct,
        };
        let mut selected = direct;
        for candidate in indirect.iter() {
            let node = self.graph.node_at(candidate);
            if matches!(
                node.resource_type,
                ResourceType::Source | ResourceType::Exposure
            ) {
                continue;
            }
            if self
                .graph
                .parent_indices(candidate)
                .iter()
                .all(|&p| base.contains(p))
            {
                selected.insert(candidate);
            }
        }
        selected
    }

    fn reach(&self, start: &NodeSet, depth: Option<usize>, direction: Direction) -> NodeSet {
        self.graph
            .reach(start, depth, direction, Some(&self.members))
    }

    fn with_ancestors(&self, set: &NodeSet) -> NodeSet {
        let mut all = self.reach(set, None, Direction::Parents);
        all.union_with(set);
        all
    }
}

#[derive(Clone, Copy)]
enum Combine {
    Union,
    Intersection,
    Difference,
}

impl Combine {
    fn apply(self, acc: Option<NodeSet>, next: NodeSet) -> NodeSet {
        let Some(mut acc) = acc else {
            return next;
        };
        match self {
            Combine::Union => acc.union_with(&next),
            Combine::Intersection => acc.intersect_with(&next),
            Combine::Difference => acc.difference_with(&next),
        }
        acc
    }
}
