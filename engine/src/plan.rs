//! The DAG of a pipeline (petgraph): reference, cycle and port-type checks, fingerprints, and
//! the dot / mermaid renderings of `engine graph`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

use crate::registry::{ItemType, OperatorInfo};
use crate::spec::diagnostic::{Diagnostic, did_you_mean};
use crate::spec::load::{Pipeline, StepOutline};
use crate::spec::yaml::LocatedValue;

/// How many references to unknown steps get a "did you mean" among the step names.
const MAX_STEP_NAME_SUGGESTIONS: usize = 100;

/// Checks references, cycles, port types, fan-in types and unread outputs, in time near
/// linear in the number of steps and inputs.
pub fn check_graph(doc: &LocatedValue, outlines: &[StepOutline]) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let index: HashMap<&str, usize> = outlines
        .iter()
        .enumerate()
        .map(|(i, outline)| (outline.name.as_str(), i))
        .collect();
    let mut graph = DiGraph::<usize, ()>::new();
    let nodes: Vec<NodeIndex> = (0..outlines.len()).map(|i| graph.add_node(i)).collect();
    let mut read = vec![false; outlines.len()];
    // The first step each operator could read, by operator: one walk over the steps per
    // operator, however many steps get the hint.
    let mut producers: HashMap<&'static str, Option<&str>> = HashMap::new();
    let mut suggestions_left = MAX_STEP_NAME_SUGGESTIONS;
    for (consumer, outline) in outlines.iter().enumerate() {
        let mut fan_in: Vec<(&str, ItemType)> = Vec::new();
        let mut seen = HashSet::new();
        for (input, pointer) in &outline.inputs {
            let error = |message: String| {
                Diagnostic::error(doc.value_pos(pointer), message)
                    .in_step(&outline.name)
                    .at_key("input")
            };
            if !seen.insert(input) {
                diagnostics.push(error(format!("`{input}` is listed twice")));
                continue;
            }
            let Some(&producer) = index.get(input.as_str()) else {
                // Each suggestion compares the name with every step's: past a few, a file of
                // thousands of misnamed inputs would take minutes to tell.
                let hint = list_in_a_string(input, &index).or_else(|| {
                    (suggestions_left > 0)
                        .then(|| {
                            suggestions_left -= 1;
                            did_you_mean(input, outlines.iter().map(|o| o.name.as_str()))
                        })
                        .flatten()
                });
                diagnostics.push(error(format!("no step named `{input}`")).with_hint(hint));
                continue;
            };
            read[producer] = true;
            graph.add_edge(nodes[producer], nodes[consumer], ());
            let (Some(from), Some(to)) = (outlines[producer].op, outline.op) else {
                continue;
            };
            let Some(emitted) = from.emits else {
                diagnostics.push(
                    error(format!(
                        "`{input}` ({}) is a sink and emits nothing",
                        from.name
                    ))
                    .with_hint(Some(format!("read from the step that feeds `{input}`"))),
                );
                continue;
            };
            if !to.accepts.admits(emitted) {
                let producer = *producers
                    .entry(to.name)
                    .or_insert_with(|| producer_of(outlines, to));
                let hint = producer
                    .map(|name| format!("read from `{name}`, which emits {}", to.accepts))
                    .or_else(|| {
                        let chain = converters(emitted, to)?;
                        let (first, rest) = chain.split_first()?;
                        let then: String = (rest.iter())
                            .map(|op| format!(", then one of `op: {op}` that reads it"))
                            .collect();
                        Some(format!(
                            "add a step of `op: {first}` that reads `{input}`{then}, and read from {}",
                            if rest.is_empty() { "it" } else { "the last" }
                        ))
                    });
                diagnostics.push(
                    error(format!(
                        "step `{}` ({}) takes {} but its input `{input}` ({}) emits {emitted}",
                        outline.name, to.name, to.accepts, from.name
                    ))
                    .with_hint(hint),
                );
                continue;
            }
            fan_in.push((input, emitted));
        }
        if let Some((first, first_type)) = fan_in.first()
            && let Some((other, other_type)) = fan_in.iter().find(|(_, t)| t != first_type)
        {
            diagnostics.push(
                Diagnostic::error(doc.key_pos(&format!("{}/input", outline.pointer)), format!(
                    "inputs carry different types: `{first}` emits {first_type}, `{other}` emits {other_type}"
                ))
                .in_step(&outline.name)
                .at_key("input")
                .with_hint(Some("merged inputs must carry one type; give each its own step".to_owned())),
            );
        }
    }
    let mut on_cycles = Vec::new();
    for component in tarjan_scc(&graph) {
        if component.len() > 1 || graph.contains_edge(component[0], component[0]) {
            diagnostics.push(cycle_diagnostic(doc, outlines, &graph, &component));
            on_cycles.extend(component);
        }
    }
    // What a cycle feeds is unknown until it is broken; every other step is checked now.
    let acyclic = without_what_follows(&graph, &on_cycles);
    diagnostics.extend(documents_met_twice(doc, outlines, &acyclic));
    for (i, outline) in outlines.iter().enumerate() {
        if !read[i] && outline.op.is_some_and(|op| op.emits.is_some()) {
            diagnostics.push(
                Diagnostic::warning(
                    doc.key_pos(&outline.pointer),
                    format!("the output of `{}` is read by no step", outline.name),
                )
                .in_step(&outline.name)
                .with_hint(Some(
                    "add a step that reads it (e.g. a sink), or remove it".to_owned(),
                )),
            );
        }
    }
    diagnostics
}

/// For an input written as one string that holds a list (`"docs, d2"`, `"[docs]"`, or
/// `docs d2` when each word names a step) whose pieces name steps: how to write the list,
/// `input: [docs, d2]`.
fn list_in_a_string(input: &str, steps: &HashMap<&str, usize>) -> Option<String> {
    let pieces: Vec<&str> = input
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(|piece| piece.trim_matches(['[', ']', '"', '\'']))
        .filter(|piece| !piece.is_empty())
        .collect();
    let named = pieces
        .iter()
        .filter(|piece| steps.contains_key(*piece))
        .count();
    let listed = input.contains([',', '[', ']']) && named > 0;
    let words = pieces.len() > 1 && named == pieces.len();
    (listed || words).then(|| {
        format!(
            "`input` takes a list of step names, not one string holding them: write `input: [{}]`",
            pieces.join(", ")
        )
    })
}

/// Steps that would meet a document twice: one that merges inputs fed by one source through
/// two branches (`embed` over two chunkers of one `parse`) gets each document from both, and
/// a step keeps one output per document (one would replace the other in a sink, and an index
/// fails them all). Sinks of items (`sink.*`) keep each input's items apart, and may.
fn documents_met_twice(
    doc: &LocatedValue,
    outlines: &[StepOutline],
    graph: &DiGraph<usize, ()>,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let Some(sources) = sources_of_every_step(graph) else {
        return diagnostics;
    };
    for node in graph.node_indices() {
        let outline = &outlines[graph[node]];
        if outline.op.is_none_or(|op| op.name.starts_with("sink.")) {
            continue;
        }
        let inputs: Vec<NodeIndex> = graph
            .neighbors_directed(node, petgraph::Direction::Incoming)
            .collect();
        let Some((a, b, source)) = first_shared_source(&inputs, &sources) else {
            continue;
        };
        let (a, b) = (graph[inputs[a]], graph[inputs[b]]);
        let (a, b) = (&outlines[a.min(b)].name, &outlines[a.max(b)].name);
        diagnostics.push(
            Diagnostic::error(
                doc.key_pos(&format!("{}/input", outline.pointer)),
                format!(
                    "`{a}` and `{b}` both carry the documents of `{}`: step `{}` would get each of them twice, and keeps one output per document",
                    outlines[source].name, outline.name
                ),
            )
            .in_step(&outline.name)
            .at_key("input")
            .with_hint(Some(format!(
                "give each branch its own `{}` step (a `sink.jsonl` may read both)",
                outline.op.map_or("", |op| op.name)
            ))),
        );
    }
    diagnostics
}

/// `graph` without the nodes `on_cycles` and every node they reach: an acyclic graph whose
/// nodes get the documents they would get once the cycles are broken, by the same weights.
fn without_what_follows(graph: &DiGraph<usize, ()>, on_cycles: &[NodeIndex]) -> DiGraph<usize, ()> {
    let mut dropped = vec![false; graph.node_count()];
    let mut stack = on_cycles.to_vec();
    while let Some(node) = stack.pop() {
        if !std::mem::replace(&mut dropped[node.index()], true) {
            stack.extend(graph.neighbors(node));
        }
    }
    graph.filter_map(
        |node, &weight| (!dropped[node.index()]).then_some(weight),
        |_, &()| Some(()),
    )
}

/// For every node of an acyclic `graph` (by node index), the steps without inputs (sources)
/// whose documents reach it, itself included, sorted. A step with one input shares its
/// input's list, so a long chain costs no more than its length. `None` when `graph` has a cycle.
fn sources_of_every_step(graph: &DiGraph<usize, ()>) -> Option<Vec<Rc<Vec<usize>>>> {
    let order = petgraph::algo::toposort(graph, None).ok()?;
    let mut sources: Vec<Rc<Vec<usize>>> = vec![Rc::default(); graph.node_count()];
    for node in order {
        let inputs: Vec<NodeIndex> = graph
            .neighbors_directed(node, petgraph::Direction::Incoming)
            .collect();
        sources[node.index()] = match inputs.as_slice() {
            [] => Rc::new(vec![graph[node]]),
            [one] => Rc::clone(&sources[one.index()]),
            several => {
                let mut merged: Vec<usize> = several
                    .iter()
                    .flat_map(|input| sources[input.index()].iter().copied())
                    .collect();
                merged.sort_unstable();
                merged.dedup();
                Rc::new(merged)
            }
        };
    }
    Some(sources)
}

/// The first two of `inputs` (by position) that carry documents of one source, with the
/// lowest such source: `(position, position, source)`.
fn first_shared_source(
    inputs: &[NodeIndex],
    sources: &[Rc<Vec<usize>>],
) -> Option<(usize, usize, usize)> {
    // Each source's first two inputs; the pair that comes first, then the lowest source.
    let mut first: HashMap<usize, usize> = HashMap::new();
    let mut best: Option<(usize, usize, usize)> = None;
    for (position, input) in inputs.iter().enumerate() {
        for &source in sources[input.index()].iter() {
            match first.get(&source) {
                None => {
                    first.insert(source, position);
                }
                Some(&earlier) if earlier != position => {
                    let found = (earlier, position, source);
                    if best.is_none_or(|best| found < best) {
                        best = Some(found);
                    }
                }
                Some(_) => {}
            }
        }
    }
    best
}

/// The operators, in order, that take `item` to what `consumer` accepts: `embed` between
/// chunks and an index; a chunker, then `embed`, between a parse and an index.
fn converters(item: ItemType, consumer: &OperatorInfo) -> Option<Vec<&'static str>> {
    // Breadth first over item types, so the chain found is a shortest one.
    let mut paths: Vec<(ItemType, Vec<&'static str>)> = vec![(item, Vec::new())];
    let mut seen = vec![item];
    while !paths.is_empty() {
        let mut next = Vec::new();
        for (item, chain) in paths {
            for op in crate::registry::OPERATORS.iter() {
                let Some(emits) = op.emits.filter(|_| op.accepts.admits(item)) else {
                    continue;
                };
                let chain = [&chain[..], &[op.name]].concat();
                if consumer.accepts.admits(emits) {
                    return Some(chain);
                }
                if !seen.contains(&emits) {
                    seen.push(emits);
                    next.push((emits, chain));
                }
            }
        }
        paths = next;
    }
    None
}

/// The first step whose output `consumer` would accept.
fn producer_of<'a>(outlines: &'a [StepOutline], consumer: &OperatorInfo) -> Option<&'a str> {
    outlines
        .iter()
        .find(|o| {
            o.op.and_then(|op| op.emits)
                .is_some_and(|t| consumer.accepts.admits(t))
        })
        .map(|o| o.name.as_str())
}

/// Names a cycle in order: `a → b → c → a`.
fn cycle_diagnostic(
    doc: &LocatedValue,
    outlines: &[StepOutline],
    graph: &DiGraph<usize, ()>,
    component: &[NodeIndex],
) -> Diagnostic {
    let start = *component
        .iter()
        .min_by_key(|node| graph[**node])
        .expect("non-empty component");
    let in_component: HashSet<NodeIndex> = component.iter().copied().collect();
    let mut on_path = HashSet::from([start]);
    let mut path = vec![start];
    let mut current = start;
    loop {
        let next = graph
            .neighbors(current)
            .filter(|n| in_component.contains(n))
            .min_by_key(|n| graph[*n])
            .expect("every node of a cycle has a successor in it");
        path.push(next);
        if !on_path.insert(next) {
            break;
        }
        current = next;
    }
    let names: Vec<&str> = path
        .iter()
        .map(|n| outlines[graph[*n]].name.as_str())
        .collect();
    let first = &outlines[graph[start]];
    Diagnostic::error(
        doc.key_pos(&format!("{}/input", first.pointer)),
        format!("cycle: {}", names.join(" → ")),
    )
    .in_step(&first.name)
    .at_key("input")
    .with_hint(Some(
        "a pipeline is a DAG; remove one of these inputs".to_owned(),
    ))
}

/// An edge of the planned DAG.
#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    /// Producer step.
    pub from: String,
    /// Consumer step.
    pub to: String,
    /// Type of the items on it.
    pub item: ItemType,
}

/// A planned step: the spec plus what planning derived.
#[derive(Debug, Clone)]
pub struct PlannedStep {
    /// Index into the pipeline's steps.
    pub index: usize,
    /// Identifies the operator, its settings, its version and everything upstream.
    pub fingerprint: String,
}

/// A checked, ordered DAG.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Steps in topological order (file order among independent steps).
    pub order: Vec<PlannedStep>,
    /// Every edge.
    pub edges: Vec<Edge>,
}

impl Plan {
    /// `(step name, operator name)` of every step, in plan order.
    pub fn step_ops(&self, pipeline: &Pipeline) -> Vec<(String, String)> {
        self.order
            .iter()
            .map(|planned| {
                let step = &pipeline.steps[planned.index];
                (step.name.clone(), step.config.info().name.to_owned())
            })
            .collect()
    }
}

/// Plans a valid pipeline: topological order, edge types, fingerprints.
pub fn plan(pipeline: &Pipeline) -> Plan {
    let index: HashMap<&str, usize> = pipeline
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| (step.name.as_str(), i))
        .collect();
    let mut fingerprints: Vec<Option<String>> = vec![None; pipeline.steps.len()];
    // Steps often share a model or tokenizer: each file is read once.
    let mut contents = FileHashes::default();
    let mut order = Vec::new();
    // Kahn's algorithm in file order; the pipeline was checked to be acyclic.
    while order.len() < pipeline.steps.len() {
        let before = order.len();
        for (i, step) in pipeline.steps.iter().enumerate() {
            if fingerprints[i].is_some() {
                continue;
            }
            // A source's settings only decide which documents come; each document's key says
            // what it is. Steps reading a source therefore do not depend on its settings.
            let upstream: Option<Vec<&str>> = step
                .inputs
                .iter()
                .map(|input| {
                    let parent = index[input.as_str()];
                    let planned = fingerprints[parent].as_deref()?;
                    Some(if pipeline.steps[parent].config.info().is_source() {
                        "source"
                    } else {
                        planned
                    })
                })
                .collect();
            if let Some(mut upstream) = upstream {
                upstream.sort_unstable();
                fingerprints[i] = Some(fingerprint(step, &pipeline.base, &upstream, &mut contents));
                order.push(PlannedStep {
                    index: i,
                    fingerprint: fingerprints[i].clone().unwrap_or_default(),
                });
            }
        }
        assert!(order.len() > before, "plan() needs an acyclic pipeline");
    }
    let edges = pipeline
        .steps
        .iter()
        .flat_map(|step| {
            step.inputs.iter().map(|input| {
                let producer = &pipeline.steps[index[input.as_str()]];
                Edge {
                    from: input.clone(),
                    to: step.name.clone(),
                    item: producer
                        .config
                        .info()
                        .emits
                        .expect("checked: producers emit"),
                }
            })
        })
        .collect();
    Plan { order, edges }
}

/// blake3 of files' contents, by path; `None` for a file that cannot be read.
#[derive(Default)]
struct FileHashes(HashMap<PathBuf, Option<blake3::Hash>>);

impl FileHashes {
    fn of(&mut self, file: &Path) -> Option<blake3::Hash> {
        *self.0.entry(file.to_owned()).or_insert_with(|| {
            let mut hasher = blake3::Hasher::new();
            let mut reader = std::fs::File::open(file).ok()?;
            std::io::copy(&mut reader, &mut hasher).ok()?;
            Some(hasher.finalize())
        })
    }
}

/// Identifies a step's output: its operator, the settings that shape it (see
/// [`crate::registry::OperatorConfig::output_settings`]), the contents of the files it reads
/// (models, tokenizers) and its inputs' fingerprints.
fn fingerprint(
    step: &crate::spec::load::Step,
    base: &Path,
    upstream: &[&str],
    contents: &mut FileHashes,
) -> String {
    let info = step.config.info();
    let settings =
        serde_json::to_string(&step.config.output_settings()).expect("settings serialize");
    let mut hasher = blake3::Hasher::new();
    hasher.update(info.name.as_bytes());
    hasher.update(b"\0");
    hasher.update(&info.version.to_le_bytes());
    hasher.update(settings.as_bytes());
    for file in step.config.resource_files(base) {
        hasher.update(b"\0file\0");
        // A file that cannot be read fails the run later; its fingerprint only has to differ.
        match contents.of(&file) {
            Some(hash) => hasher.update(hash.as_bytes()),
            None => hasher.update(b"unreadable"),
        };
    }
    for parent in upstream {
        hasher.update(b"\0");
        hasher.update(parent.as_bytes());
    }
    hasher.finalize().to_hex()[..16].to_owned()
}

/// The DAG in Graphviz dot.
pub fn to_dot(pipeline: &Pipeline, plan: &Plan) -> String {
    let mut out = format!(
        "digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
        escape(&pipeline.name)
    );
    for step in &pipeline.steps {
        out.push_str(&format!(
            "  \"{}\" [label=\"{}\\n{}\"];\n",
            escape(&step.name),
            escape(&step.name),
            step.config.info().name
        ));
    }
    for edge in &plan.edges {
        out.push_str(&format!(
            "  \"{}\" -> \"{}\" [label=\"{}\"];\n",
            escape(&edge.from),
            escape(&edge.to),
            edge.item
        ));
    }
    out.push_str("}\n");
    out
}

/// The DAG as a Mermaid flowchart.
pub fn to_mermaid(pipeline: &Pipeline, plan: &Plan) -> String {
    let id: HashMap<&str, String> = pipeline
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| (step.name.as_str(), format!("s{i}")))
        .collect();
    let mut out = String::from("flowchart LR\n");
    for step in &pipeline.steps {
        out.push_str(&format!(
            "  {}[\"{}<br/><i>{}</i>\"]\n",
            id[step.name.as_str()],
            step.name.replace('"', "#quot;"),
            step.config.info().name
        ));
    }
    for edge in &plan.edges {
        out.push_str(&format!(
            "  {} -->|{}| {}\n",
            id[edge.from.as_str()],
            edge.item,
            id[edge.to.as_str()]
        ));
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::load::{Purpose, load_str, load_str_for};

    /// A ring of 3,000 chunking steps, each reading the next (a file of 170 KB), is told as
    /// one cycle and one type error per step (it took minutes when every step walked the ring).
    #[test]
    fn a_long_ring_of_steps_is_one_cycle_and_a_type_error_per_step() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docs")).unwrap();
        let n = 3000;
        let mut text = "version: 1\nname: ring\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  out: { op: sink.jsonl, input: parse, path: out.jsonl }\n".to_owned();
        for i in 0..n {
            text.push_str(&format!(
                "  c{i}: {{ op: chunk.recursive, input: c{}, size: 100 }}\n",
                (i + 1) % n
            ));
        }
        let report = load_str(&dir.path().join("p.yaml"), &text).unwrap_err();
        let cycles: Vec<_> = (report.diagnostics.iter())
            .filter(|d| d.message.starts_with("cycle: c0 → c2999 → c2998"))
            .collect();
        assert_eq!(cycles.len(), 1, "{report}");
        assert!(
            cycles[0].message.ends_with("c1 → c0"),
            "{}",
            cycles[0].message
        );
        let type_errors = (report.diagnostics.iter())
            .filter(|d| d.message.contains("takes Parsed but its input"))
            .count();
        assert_eq!(type_errors, n);
        assert_eq!(report.errors(), n + 1, "{report}");
    }

    /// The report of loading `steps` beside a folder `docs` and `d2`.
    fn report_of(steps: &str) -> crate::spec::diagnostic::Report {
        let dir = tempfile::tempdir().unwrap();
        for folder in ["docs", "d2"] {
            std::fs::create_dir_all(dir.path().join(folder)).unwrap();
        }
        let text = format!("version: 1\nname: t\nsteps:\n{steps}");
        match load_str(&dir.path().join("p.yaml"), &text) {
            Ok((_, report)) | Err(report) => report,
        }
    }

    /// A list written as one string (`"docs, d2"`, `"[docs]"`) was told "did you mean
    /// `docs`?", which dropped `d2` from the fan-in; the hint now writes the list.
    #[test]
    fn a_list_written_as_a_string_is_told_to_be_a_list() {
        let report = report_of(
            "  docs: { op: source.files, path: docs }\n  d2: { op: source.files, path: d2 }\n  parse: { op: parse, input: \"docs, d2\" }\n  p2: { op: parse, input: \"[docs]\" }\n  p3: { op: parse, input: \"dogs\" }\n  p4: { op: parse, input: docs d2 }\n  o: { op: sink.jsonl, input: [parse, p2, p3, p4], path: o.jsonl }\n",
        );
        let hints: Vec<(&str, &str)> = (report.diagnostics.iter())
            .filter(|d| d.message.starts_with("no step named"))
            .map(|d| (d.step.as_deref().unwrap(), d.hint.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(hints.len(), 4, "{report}");
        assert!(
            hints[0].1.ends_with("write `input: [docs, d2]`"),
            "{hints:?}"
        );
        assert!(hints[1].1.ends_with("write `input: [docs]`"), "{hints:?}");
        assert_eq!(hints[2].1, "did you mean `docs`?");
        assert!(
            hints[3].1.ends_with("write `input: [docs, d2]`"),
            "{hints:?}"
        );
    }

    /// A cycle hid the "documents met twice" error of unrelated steps (an `embed` over two
    /// chunkers of one parse beside a sink reading itself); every step a cycle does not feed
    /// is checked now, and those it feeds are not (what reaches them is unknown).
    #[test]
    fn a_cycle_hides_no_fan_in_error_of_other_steps() {
        let report = report_of(
            "  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  c1: { op: chunk.recursive, input: parse, size: 800 }\n  c2: { op: chunk.recursive, input: parse, size: 400 }\n  e: { op: embed, input: [c1, c2], provider: hash, dim: 8 }\n  i: { op: index.hybrid, input: e }\n  a: { op: parse, input: b }\n  b: { op: parse, input: a }\n  c: { op: parse, input: [a, b] }\n",
        );
        let messages: Vec<&str> = (report.diagnostics.iter())
            .map(|d| d.message.as_str())
            .collect();
        assert!(messages.contains(&"cycle: a → b → a"), "{report}");
        let twice: Vec<&str> = (report.diagnostics.iter())
            .filter(|d| d.message.contains("both carry the documents of"))
            .map(|d| d.step.as_deref().unwrap())
            .collect();
        assert_eq!(twice, ["e"], "{report}");
    }

    /// The sources reaching each step: a chain shares one list, a merge unites its inputs'.
    #[test]
    fn a_chain_shares_its_sources_and_a_merge_unites_them() {
        let mut graph = DiGraph::<usize, ()>::new();
        let nodes: Vec<NodeIndex> = (0..10_000).map(|i| graph.add_node(i)).collect();
        for pair in nodes[..9_000].windows(2) {
            graph.add_edge(pair[0], pair[1], ());
        }
        // 9000 and 9001 are sources too; 9002 merges the chain's end with both.
        for from in [nodes[8_999], nodes[9_000], nodes[9_001]] {
            graph.add_edge(from, nodes[9_002], ());
        }
        let sources = sources_of_every_step(&graph).unwrap();
        assert!(Rc::ptr_eq(&sources[0], &sources[8_999]));
        assert_eq!(*sources[8_999], [0]);
        assert_eq!(*sources[9_002], [0, 9_000, 9_001]);
        graph.add_edge(nodes[8_999], nodes[0], ());
        assert!(
            sources_of_every_step(&graph).is_none(),
            "a cycle has no order"
        );
    }

    /// Each step's fingerprint, by step name.
    fn by_step(pipeline: &Pipeline) -> Vec<(String, String)> {
        let mut by_step: Vec<(String, String)> = (plan(pipeline).order.iter())
            .map(|p| (pipeline.steps[p.index].name.clone(), p.fingerprint.clone()))
            .collect();
        by_step.sort();
        by_step
    }

    #[test]
    fn a_changed_tokenizer_file_changes_the_fingerprints_from_its_step_on() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docs")).unwrap();
        let tokenizer = dir.path().join("t.json");
        let text = "version: 1\nname: t\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  chunk: { op: chunk.recursive, input: parse, size: 100, unit: tokens, tokenizer: t.json }\n  out: { op: sink.jsonl, input: chunk, path: o.jsonl }\n";
        let fingerprints = || {
            let (pipeline, _) = load_str(&dir.path().join("p.yaml"), text).unwrap();
            by_step(&pipeline)
        };
        // A real tokenizer (validation loads it), then the same one written otherwise.
        let real = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../operators/tests/data/all-MiniLM-L6-v2.tokenizer.json");
        let json = std::fs::read_to_string(&real).unwrap();
        std::fs::write(&tokenizer, &json).unwrap();
        let before = fingerprints();
        assert_eq!(before, fingerprints(), "planning is deterministic");
        std::fs::write(&tokenizer, format!("{json}\n")).unwrap();
        let after = fingerprints();
        for ((step, old), (_, new)) in before.iter().zip(&after) {
            let upstream = step == "docs" || step == "parse";
            assert_eq!(old == new, upstream, "step {step}");
        }
    }

    /// Settings that cannot change a vector (the query prefix; an endpoint's retries, timeout,
    /// concurrency, key variable and batch size; onnxruntime's threads; the in-memory cache;
    /// one ONNX batch size for another above 1) keep every fingerprint, so tuning them redoes
    /// nothing; the model, the document prefix, and batching texts alone or not change the
    /// embedding steps' fingerprints.
    #[test]
    fn settings_that_cannot_change_a_vector_keep_the_fingerprints() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docs")).unwrap();
        let fingerprints = |embed: &str, model: &str| {
            let text = format!(
                "version: 1\nname: t\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.semantic, input: parse, size: 100, embedding: {{ {model} }} }}\n  embed: {{ op: embed, input: chunk, {embed} }}\n  index: {{ op: index.hybrid, input: embed }}\n"
            );
            let (pipeline, _) = load_str_for(&dir.path().join("p.yaml"), &text, Purpose::Read)
                .unwrap_or_else(|report| panic!("{report:?}"));
            by_step(&pipeline)
        };
        let http = "provider: http, base_url: \"http://127.0.0.1:9/v1\", model: m";
        let onnx = "provider: onnx, model: models/m";
        let changed = |a: &[(String, String)], b: &[(String, String)]| -> Vec<String> {
            a.iter()
                .zip(b)
                .filter(|(x, y)| x.1 != y.1)
                .map(|(x, _)| x.0.clone())
                .collect()
        };
        let base = fingerprints(http, onnx);
        let tuned = fingerprints(
            &format!(
                "{http}, retries: 9, timeout: 5, backoff: 2, query_prefix: \"q: \", concurrency: 16, batch_size: 8, api_key_env: KEY, cache_entries: 0"
            ),
            &format!("{onnx}, threads: 3, batch_size: 8, cache_entries: 10, query_prefix: q"),
        );
        assert!(changed(&base, &tuned).is_empty(), "{base:?} {tuned:?}");
        let other_model = fingerprints(&http.replace("model: m", "model: n"), onnx);
        assert_eq!(changed(&base, &other_model), ["embed", "index"]);
        let prefixed = fingerprints(&format!("{http}, document_prefix: \"passage: \""), onnx);
        assert_eq!(changed(&base, &prefixed), ["embed", "index"]);
        let alone = fingerprints(http, &format!("{onnx}, batch_size: 1"));
        assert_eq!(changed(&base, &alone), ["chunk", "embed", "index"]);
    }
}
