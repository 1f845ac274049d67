//! Loading a pipeline file: YAML, then the JSON Schema, then settings and the graph, collecting
//! every problem with its line before refusing.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use jsonschema::error::ValidationErrorKind;
use serde_json::{Map, Value};

use super::diagnostic::{Diagnostic, Report, did_you_mean, invisible_character};
use super::paths;
use super::schema::{self, PipelineHeader};
use super::yaml::{self, LocatedValue, escape_pointer};
use crate::registry::{self, OPERATORS, OperatorConfig, OperatorInfo};

/// Keys every step may have besides its operator's settings.
const SHARED_STEP_KEYS: [&str; 3] = ["input", "parallelism", "channel_capacity"];

/// A valid pipeline, ready to plan.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The pipeline file as given.
    pub file: PathBuf,
    /// The folder paths in the file are relative to.
    pub base: PathBuf,
    /// blake3 of the file's text.
    pub file_hash: String,
    /// The pipeline's name.
    pub name: String,
    /// The store folder, resolved.
    pub store: PathBuf,
    /// Default edge bound.
    pub channel_capacity: usize,
    /// Steps in file order.
    pub steps: Vec<Step>,
}

/// One valid step.
#[derive(Debug, Clone)]
pub struct Step {
    /// Its name.
    pub name: String,
    /// Its operator and settings.
    pub config: OperatorConfig,
    /// The steps it reads.
    pub inputs: Vec<String>,
    /// Workers, when set.
    pub parallelism: Option<usize>,
    /// Input channel bound, when set.
    pub channel_capacity: Option<usize>,
}

/// What is known of a step even when its settings are invalid: enough to check the graph.
#[derive(Debug, Clone)]
pub struct StepOutline {
    /// Its name.
    pub name: String,
    /// JSON pointer of the step (`/steps/<name>`).
    pub pointer: String,
    /// Its operator, when the name is known.
    pub op: Option<&'static OperatorInfo>,
    /// The names it reads, each with the pointer of where it is written.
    pub inputs: Vec<(String, String)>,
}

/// What a pipeline file is loaded for, which decides what must be there besides the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Running it (and `validate`, `graph`, `gc`): every path it reads must exist, every file
    /// it writes must be writable, and its models must be there.
    Run,
    /// Reading what its runs made (`query`, `compare`, `inspect`, `runs`, `tap`): its sources
    /// may be archived, its sinks' folders gone, and its model missing (BM25 needs none; a
    /// vector query says so when it needs it). The settings and the graph are checked as ever.
    Read,
}

/// Loads and checks a pipeline file to run it. On success, the report holds the warnings.
pub fn load(path: &Path) -> Result<(Pipeline, Report), Report> {
    load_for(path, Purpose::Run)
}

/// What a pipeline file holds, to tell an edit: the blake3 hash of its bytes (a modification
/// time misses two writes of one length within the file system's clock tick) and its length.
/// Past the most a pipeline may be, the length stands for the rest (loading refuses it).
pub type FileStamp = ([u8; 32], u64);

/// The [`FileStamp`] of the file at `path`; `None` when it cannot be read.
pub fn file_stamp(path: &Path) -> Option<FileStamp> {
    let file = operators::source::open_regular_file(path).ok()?;
    let length = file.metadata().ok()?.len();
    let mut head = Vec::new();
    file.take(yaml::MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut head)
        .ok()?;
    Some((*blake3::hash(&head).as_bytes(), length))
}

/// Loads and checks a pipeline file for `purpose`.
pub fn load_for(path: &Path, purpose: Purpose) -> Result<(Pipeline, Report), Report> {
    // Opened without waiting: a FIFO given as the pipeline would block until a writer came.
    let read = operators::source::open_regular_file(path).and_then(|file| {
        // One byte more than allowed tells a file over the limit, without reading all of it.
        let mut bytes = Vec::new();
        file.take(yaml::MAX_FILE_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map(|_| bytes)
    });
    let text = match read {
        Ok(bytes) if bytes.len() > yaml::MAX_FILE_BYTES => {
            return Err(single(path, yaml::Pos::START, yaml::too_large_message()));
        }
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(err) => {
                let at = err.utf8_error().valid_up_to();
                return Err(single(
                    path,
                    yaml::Pos::at_byte(err.as_bytes(), at),
                    format!("the file is not valid UTF-8 (byte {at}); save it as UTF-8"),
                ));
            }
        },
        Err(err) => {
            return Err(single(
                path,
                yaml::Pos::START,
                unreadable_message(path, &err),
            ));
        }
    };
    load_str_for(path, &text, purpose)
}

/// Why the pipeline file at `path` could not be read (`err`), and what to give instead.
fn unreadable_message(path: &Path, err: &std::io::Error) -> String {
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_dir() => {
            "the pipeline file is a folder: give the pipeline's YAML file in it (e.g. `pipelines/kb.yaml`)"
                .to_owned()
        }
        Ok(metadata) if !metadata.is_file() => {
            "the pipeline file is not a regular file (a FIFO, socket or device), which is not \
             read: save the pipeline to a file and give that"
                .to_owned()
        }
        _ => format!("cannot read the pipeline file: {err}"),
    }
}

/// A report of one error at `pos` of the file.
fn single(path: &Path, pos: yaml::Pos, message: String) -> Report {
    Report::new(path, vec![Diagnostic::error(pos, message)])
}

/// Checks pipeline `text` as if read from `path`.
pub fn load_str(path: &Path, text: &str) -> Result<(Pipeline, Report), Report> {
    load_str_for(path, text, Purpose::Run)
}

/// Checks pipeline `text` as if read from `path`, for `purpose`.
pub fn load_str_for(
    path: &Path,
    text: &str,
    purpose: Purpose,
) -> Result<(Pipeline, Report), Report> {
    let parsed = yaml::parse(text);
    let mut diagnostics: Vec<Diagnostic> = parsed
        .errors
        .into_iter()
        .map(|err| {
            let diagnostic = Diagnostic::error(err.pos, err.message);
            match err.pointer.as_deref().and_then(step_and_key) {
                Some((step, Some(key))) => diagnostic.in_step(step).at_key(key),
                Some((step, None)) => diagnostic.in_step(step),
                None => diagnostic,
            }
        })
        .collect();
    // Problems that stopped the reading leave no document to check further; the others (a
    // duplicate key, say) are reported with everything the later checks find.
    let Some(doc) = parsed.doc else {
        return Err(Report::new(path, diagnostics));
    };
    let base = path
        .parent()
        .map(|parent| {
            if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            }
        })
        .unwrap_or(Path::new("."))
        .to_owned();
    if !doc.value.is_object() {
        diagnostics.push(
            Diagnostic::error(
                doc.value_pos(""),
                "a pipeline file is a mapping with `version`, `name` and `steps`",
            )
            .with_hint(Some("start from pipelines/kb.yaml".to_owned())),
        );
        return Err(Report::new(path, diagnostics));
    }
    let broken_steps = schema_diagnostics(&doc, &mut diagnostics);
    let outlines = outlines(&doc);
    let mut steps = Vec::new();
    for outline in &outlines {
        if broken_steps.contains(&outline.name) || outline.op.is_none() {
            continue;
        }
        if let Some(step) = typed_step(&doc, outline, &base, purpose, &mut diagnostics) {
            steps.push(step);
        }
    }
    diagnostics.extend(crate::plan::check_graph(&doc, &outlines));
    if purpose == Purpose::Run {
        diagnostics.extend(paths::conflicts(&doc, &steps, &outlines, &base, path));
        diagnostics.extend(paths::overlapping_sources(&doc, &steps, &outlines, &base));
    }
    diagnostics.extend(super::vector_space::check(&doc, &steps, &outlines, &base));
    super::inherit::fill_in(&mut steps, &doc, &outlines, &mut diagnostics);
    let header = if broken_steps.contains("") {
        None
    } else {
        match serde_json::from_value::<PipelineHeader>(doc.value.clone()) {
            Ok(header) => {
                let store_problem = paths::store_problem(&base, &header.store);
                // A store refused as a path (empty, the pipeline's own folder, a file) holds
                // every path: saying so of each step's path repeats that error in other words.
                let store_refused = store_problem.is_some();
                let problem = store_problem.or_else(|| {
                    (purpose == Purpose::Run)
                        .then(|| paths::store_folder_problem(&base, &header.store))
                        .flatten()
                });
                if let Some(problem) = problem {
                    diagnostics.push(
                        Diagnostic::error(doc.value_pos("/store"), problem.message)
                            .at_key("store")
                            .with_hint(Some(problem.hint)),
                    );
                }
                if purpose == Purpose::Run {
                    diagnostics.extend(blank_edges_diagnostic(
                        &doc,
                        "/store",
                        "store",
                        &header.store,
                    ));
                }
                if purpose == Purpose::Run && !store_refused {
                    diagnostics.extend(paths::paths_in_store(
                        &doc,
                        &steps,
                        &outlines,
                        &base,
                        &header.store,
                    ));
                }
                Some(header)
            }
            Err(err) => {
                let diagnostic = match registry::locate::<PipelineHeader>(&doc.value) {
                    Some((Some(key), message)) => {
                        let at = dotted_to_pointer(&key);
                        let value = doc.value.pointer(&at);
                        let message = serde_message(&message, value, doc.written(&at));
                        Diagnostic::error(doc.value_pos(&at), message).at_key(key)
                    }
                    _ => Diagnostic::error(doc.value_pos(""), format!("invalid pipeline: {err}")),
                };
                diagnostics.push(diagnostic);
                None
            }
        }
    };
    let report = Report::new(path, diagnostics);
    match header {
        Some(header) if report.errors() == 0 => Ok((
            Pipeline {
                file: path.to_owned(),
                file_hash: blake3::hash(text.as_bytes()).to_hex().to_string(),
                store: under_base(&base, &header.store),
                base,
                name: header.name,
                channel_capacity: header.channel_capacity,
                steps,
            },
            report,
        )),
        _ => Err(report),
    }
}

/// Splits `/steps/<name>/<key>/…` into the step name and the key, dotted when it is below the
/// step's own keys (`pdf.max_glyphs`, `input[1]`).
fn step_and_key(pointer: &str) -> Option<(String, Option<String>)> {
    let (step, path) = step_and_path(pointer)?;
    let mut key = String::new();
    for part in &path {
        match part.parse::<usize>() {
            Ok(index) if !key.is_empty() => key.push_str(&format!("[{index}]")),
            _ if key.is_empty() => key.push_str(part),
            _ => key.push_str(&format!(".{part}")),
        }
    }
    Some((step, (!key.is_empty()).then_some(key)))
}

/// Splits `/steps/<name>/<key>/…` into the step name and the keys below it.
fn step_and_path(pointer: &str) -> Option<(String, Vec<String>)> {
    let rest = pointer.strip_prefix("/steps/")?;
    let mut parts = rest
        .split('/')
        .map(|part| part.replace("~1", "/").replace("~0", "~"));
    let step = parts.next()?;
    Some((step, parts.collect()))
}

/// Runs the committed JSON Schema; returns the names of the steps with problems
/// (`""` when the top level has some).
fn schema_diagnostics(doc: &LocatedValue, diagnostics: &mut Vec<Diagnostic>) -> HashSet<String> {
    let mut broken = HashSet::new();
    let errors: Vec<_> = schema::validator().iter_errors(&doc.value).collect();
    for error in told(&errors) {
        diagnose(doc, error, diagnostics, &mut broken);
    }
    broken
}

/// The errors worth telling of `errors`: a bound is not told of a value of the wrong type
/// (`version: 1.5` is no whole number; that it is more than 1 says nothing more).
fn told<'e>(
    errors: &'e [jsonschema::ValidationError<'_>],
) -> impl Iterator<Item = &'e jsonschema::ValidationError<'e>> {
    let mistyped: HashSet<&str> = (errors.iter())
        .filter(|error| matches!(error.kind(), ValidationErrorKind::Type { .. }))
        .map(|error| error.instance_path().as_str())
        .collect();
    errors.iter().filter(move |error| {
        let bound = matches!(
            error.kind(),
            ValidationErrorKind::Minimum { .. }
                | ValidationErrorKind::Maximum { .. }
                | ValidationErrorKind::ExclusiveMinimum { .. }
                | ValidationErrorKind::ExclusiveMaximum { .. }
        );
        !(bound && mistyped.contains(error.instance_path().as_str()))
    })
}

/// The diagnostics of one schema error. An `anyOf` or `oneOf` error on a mapping (settings that
/// may also be left out; one of several providers) is explained by the errors of the branch the
/// mapping was meant for.
fn diagnose(
    doc: &LocatedValue,
    error: &jsonschema::ValidationError,
    diagnostics: &mut Vec<Diagnostic>,
    broken: &mut HashSet<String>,
) {
    if let ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } =
        error.kind()
        && let Some(branch) = meant_branch(error, context)
    {
        for inner in told(branch) {
            diagnose(doc, inner, diagnostics, broken);
        }
        return;
    }
    {
        let pointer = error.instance_path().as_str().to_owned();
        let place = step_and_key(&pointer);
        broken.insert(
            place
                .as_ref()
                .map(|(step, _)| step.clone())
                .unwrap_or_default(),
        );
        let instance = doc.value.pointer(&pointer).unwrap_or(&Value::Null);
        let tag = unknown_tag(error, instance);
        let mut found = match error.kind() {
            ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. }
                if tag.is_some() =>
            {
                let (key, value, choices) = tag.unwrap_or_default();
                let hint = did_you_mean(&value, choices.iter().map(String::as_str))
                    .or_else(|| Some(format!("choose one of: {}", choices.join(", "))));
                Diagnostic::error(
                    doc.value_pos(&format!("{pointer}/{}", escape_pointer(&key))),
                    format!("`{key}: {value}` is not allowed here"),
                )
                .with_hint(hint)
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                for key in unexpected {
                    diagnostics.push(unknown_key(doc, &pointer, key));
                }
                return;
            }
            ValidationErrorKind::PropertyNames { .. } => {
                for name in doc.value["steps"]
                    .as_object()
                    .into_iter()
                    .flat_map(Map::keys)
                {
                    if let Some((message, hint)) = step_name_problem(name) {
                        let at = format!("/steps/{}", escape_pointer(name));
                        diagnostics.push(
                            Diagnostic::error(doc.key_pos(&at), message)
                                .in_step(name)
                                .with_hint(Some(hint)),
                        );
                    }
                }
                return;
            }
            ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. }
                if let Some(key) = missing_in_every_branch(error) =>
            {
                missing_key(doc, &pointer, instance, place.as_ref(), &key)
            }
            ValidationErrorKind::Required { property } => missing_key(
                doc,
                &pointer,
                instance,
                place.as_ref(),
                property.as_str().unwrap_or_default(),
            ),
            ValidationErrorKind::Enum { .. } if pointer.ends_with("/op") && place.is_some() => {
                let name = instance.as_str().unwrap_or_default();
                let hint = did_you_mean(name, OPERATORS.iter().map(|info| info.name))
                    .or_else(|| Some(format!("operators: {}", operator_names())));
                Diagnostic::error(
                    doc.value_pos(&pointer),
                    format!("unknown operator `{}`", display_value(instance)),
                )
                .with_hint(hint)
            }
            ValidationErrorKind::Enum { options } => {
                let choices: Vec<String> = options
                    .as_array()
                    .map(|values| values.iter().map(display_value).collect())
                    .unwrap_or_default();
                let name = instance.as_str().unwrap_or_default();
                let hint = did_you_mean(name, choices.iter().map(String::as_str))
                    .or_else(|| Some(format!("choose one of: {}", choices.join(", "))));
                Diagnostic::error(
                    doc.value_pos(&pointer),
                    format!("`{}` is not allowed here", display_value(instance)),
                )
                .with_hint(hint)
            }
            ValidationErrorKind::OneOfNotValid { .. } => {
                let wanted = branch_types(error).unwrap_or_else(|| "another value".to_owned());
                Diagnostic::error(
                    doc.value_pos(&pointer),
                    format!("expected {wanted}, found {}", json_kind(instance)),
                )
            }
            ValidationErrorKind::Type { .. } | ValidationErrorKind::AnyOf { .. }
                if is_not_a_number(instance)
                    && ["number", "integer"]
                        .iter()
                        .any(|t| expected_type(&pointer, error.to_string()).contains(t)) =>
            {
                Diagnostic::error(
                    doc.value_pos(&pointer),
                    format!(
                        "`{}` is not allowed: settings take finite numbers, not NaN or infinity",
                        display_value(instance)
                    ),
                )
            }
            ValidationErrorKind::Type { .. } | ValidationErrorKind::AnyOf { .. }
                if let Some(text) = doc.written(&pointer).filter(|text| {
                    instance.is_string() && text.parse::<f64>().is_ok_and(f64::is_infinite)
                }) =>
            {
                out_of_range(doc, &pointer, text, error)
            }
            ValidationErrorKind::Type { .. } | ValidationErrorKind::AnyOf { .. } => {
                let wanted = branch_types(error)
                    .filter(|_| !pointer.ends_with("/input") && !pointer.contains("/input/"))
                    .unwrap_or_else(|| expected_type(&pointer, error.to_string()));
                let wanted = match wanted.as_str() {
                    "integer" => "a whole number".to_owned(),
                    _ => wanted,
                };
                let found = match doc.written(&pointer) {
                    Some(text) => format!("`{text}`, {}", json_kind(instance)),
                    None => json_kind(instance).to_owned(),
                };
                Diagnostic::error(
                    doc.value_pos(&pointer),
                    format!("expected {wanted}, found {found}"),
                )
                .with_hint(type_hint(&wanted, instance))
            }
            ValidationErrorKind::Minimum { .. } | ValidationErrorKind::Maximum { .. }
                if pointer == "/version" =>
            {
                Diagnostic::error(
                    doc.value_pos(&pointer),
                    format!(
                        "this engine reads version 1 of the pipeline format, not {}",
                        shown(doc, &pointer, instance)
                    ),
                )
                .with_hint(Some("write `version: 1`".to_owned()))
            }
            ValidationErrorKind::Minimum { limit } => Diagnostic::error(
                doc.value_pos(&pointer),
                format!(
                    "must be at least {}, found {}",
                    number_text(limit),
                    shown(doc, &pointer, instance)
                ),
            ),
            ValidationErrorKind::Maximum { limit } => Diagnostic::error(
                doc.value_pos(&pointer),
                format!(
                    "must be at most {}, found {}",
                    number_text(limit),
                    shown(doc, &pointer, instance)
                ),
            ),
            ValidationErrorKind::ExclusiveMinimum { limit } => Diagnostic::error(
                doc.value_pos(&pointer),
                format!(
                    "must be more than {}, found {}",
                    number_text(limit),
                    shown(doc, &pointer, instance)
                ),
            ),
            ValidationErrorKind::MinItems { .. }
            | ValidationErrorKind::MinProperties { .. }
            | ValidationErrorKind::MinLength { .. } => {
                let hint = place
                    .as_ref()
                    .is_some_and(|(_, key)| key.as_deref() == Some("input"))
                    .then(|| input_hint(doc, pointer.trim_end_matches("/input")));
                Diagnostic::error(doc.value_pos(&pointer), "must not be empty").with_hint(hint)
            }
            _ => Diagnostic::error(doc.value_pos(&pointer), error.to_string()),
        };
        if found.key.is_none()
            && let Some((_, Some(key))) = &place
        {
            found = found.at_key(key.clone());
        } else if found.key.is_none() && place.is_none() && pointer.len() > 1 {
            found = found.at_key(
                pointer[1..]
                    .split('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
        if let Some((step, _)) = place {
            found = found.in_step(step);
        }
        diagnostics.push(found);
    }
}

/// The key every branch of an `anyOf` or `oneOf` error wants at its mapping and that it lacks
/// (`provider`, in an `embedding` mapping without one).
fn missing_in_every_branch(error: &jsonschema::ValidationError) -> Option<String> {
    let (ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context }) =
        error.kind()
    else {
        return None;
    };
    let pointer = error.instance_path().as_str();
    let required = |branch: &[jsonschema::ValidationError<'static>]| -> Vec<String> {
        (branch.iter())
            .filter(|inner| inner.instance_path().as_str() == pointer)
            .filter_map(|inner| match inner.kind() {
                ValidationErrorKind::Required { property } => property.as_str().map(str::to_owned),
                _ => None,
            })
            .collect()
    };
    let (first, rest) = context.split_first()?;
    required(first)
        .into_iter()
        .find(|key| rest.iter().all(|branch| required(branch).contains(key)))
}

/// "missing key `key`" of the mapping at `pointer` (`instance`), named as the step's key
/// (`embedding.provider` inside `embedding`), with what to add; a key written there that is
/// close to it (`providr`) is named.
fn missing_key(
    doc: &LocatedValue,
    pointer: &str,
    instance: &Value,
    place: Option<&(String, Option<String>)>,
    key: &str,
) -> Diagnostic {
    let near = instance.as_object().and_then(|written| {
        written.keys().find(|other| {
            other.as_str() != key
                && (other.eq_ignore_ascii_case(key) || strsim::jaro_winkler(other, key) >= 0.8)
        })
    });
    let hint = match key {
        _ if near.is_some() => near.map(|other| {
            format!("`{other}` is written here, which is no key of it: did you mean `{key}`?")
        }),
        "input" => Some(input_hint(doc, pointer)),
        "provider" => Some(format!(
            "choose one of: {}",
            operators::embed::PROVIDERS.join(", ")
        )),
        "op" => Some(format!("operators: {}", operator_names())),
        "steps" => Some(
            "add `steps:`, a mapping of step names to steps, e.g. \
             `docs: { op: source.files, path: docs }` (`engine schema` lists them)"
                .to_owned(),
        ),
        "version" => Some("add `version: 1`".to_owned()),
        "name" => Some("add `name:`, the pipeline's name, e.g. `name: kb`".to_owned()),
        _ => None,
    };
    let dotted = match place {
        Some((_, Some(outer))) => format!("{outer}.{key}"),
        _ => key.to_owned(),
    };
    Diagnostic::error(doc.key_pos(pointer), format!("missing key `{key}`"))
        .at_key(dotted)
        .with_hint(hint)
}

/// What to say of the missing or empty `input` of the step at `pointer` (`/steps/NAME`): the
/// other steps whose output its operator takes, else how `input` is written.
fn input_hint(doc: &LocatedValue, pointer: &str) -> String {
    let own = step_and_path(pointer).map(|(step, _)| step);
    let op = |step: &Value| {
        step.get("op")
            .and_then(Value::as_str)
            .and_then(registry::lookup)
    };
    let accepts = doc
        .value
        .pointer(pointer)
        .and_then(op)
        .map(|info| info.accepts);
    let steps = doc.value.get("steps").and_then(Value::as_object);
    let readable: Vec<String> = (steps.into_iter().flatten())
        .filter(|(name, _)| Some(*name) != own.as_ref())
        .filter_map(|(name, step)| {
            let emits = op(step)?.emits?;
            accepts?
                .admits(emits)
                .then(|| format!("`{name}` ({emits})"))
        })
        .collect();
    match (accepts, readable.as_slice()) {
        (Some(accepts), []) => format!(
            "name the step(s) this step reads, `input: STEP`: no step here emits the {accepts} it takes; add one"
        ),
        (Some(_), [one]) => format!("name the step(s) this step reads: {one} emits what it takes"),
        (Some(_), readable) => format!(
            "name the step(s) this step reads: {} emit what it takes",
            readable.join(", ")
        ),
        (None, _) => "name the step(s) this step reads, `input: STEP`".to_owned(),
    }
}

/// Of the branches of an `anyOf` or `oneOf`, the one the value was meant for: the only branch
/// that neither wants another type there nor, for a mapping, another value of a tag
/// (`provider: hash` in a branch for `provider: onnx`). An empty list where a name or a list
/// of names goes was meant as a list, say, and is explained as one that must not be empty.
fn meant_branch<'e>(
    error: &jsonschema::ValidationError,
    context: &'e [Vec<jsonschema::ValidationError<'static>>],
) -> Option<&'e [jsonschema::ValidationError<'static>]> {
    let pointer = error.instance_path().as_str();
    let tag_of = |inner: &str| {
        inner
            .strip_prefix(pointer)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|key| !key.contains('/'))
    };
    let mut meant = context.iter().filter(|errors| {
        !errors.is_empty()
            && !errors.iter().any(|inner| {
                let at = inner.instance_path().as_str();
                match inner.kind() {
                    ValidationErrorKind::Type { .. } => at == pointer,
                    ValidationErrorKind::Constant { .. } => tag_of(at),
                    _ => false,
                }
            })
    });
    match (meant.next(), meant.next()) {
        (Some(errors), None) => Some(errors),
        _ => None,
    }
}

/// The tag of a mapping that matches no branch of an `anyOf` or `oneOf` (`provider: foo` where
/// the branches want `provider: onnx`, `http` or `hash`): its key, its value and the values
/// the branches want, when every branch refused the value of that one key.
fn unknown_tag(
    error: &jsonschema::ValidationError,
    instance: &Value,
) -> Option<(String, String, Vec<String>)> {
    let (ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context }) =
        error.kind()
    else {
        return None;
    };
    let pointer = error.instance_path().as_str();
    let mut tag: Option<String> = None;
    let mut choices = Vec::new();
    for branch in context {
        for inner in branch {
            let ValidationErrorKind::Constant { expected_value } = inner.kind() else {
                continue;
            };
            let key = inner
                .instance_path()
                .as_str()
                .strip_prefix(pointer)
                .and_then(|rest| rest.strip_prefix('/'))
                .filter(|key| !key.contains('/'))?;
            if tag.get_or_insert_with(|| key.to_owned()) != key {
                return None;
            }
            choices.push(display_value(expected_value));
        }
    }
    let key = tag?;
    let value = instance.get(&key)?;
    Some((key, display_value(value), choices))
}

/// What is wrong with a step name, and what to do, when something is ([`schema::STEP_NAME_PATTERN`]).
fn step_name_problem(name: &str) -> Option<(String, String)> {
    let mut chars = name.chars();
    let spelled = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !spelled {
        let help = "start with an ASCII letter (a-z, A-Z) or `_`; use ASCII letters, digits, `_`, `.` and `-`";
        let help = match invisible_character(name) {
            Some(invisible) => {
                format!("the name holds an invisible character, {invisible}: delete it; {help}")
            }
            None => help.to_owned(),
        };
        return Some((format!("invalid step name `{name}`"), help));
    }
    (name.len() > schema::MAX_FILE_NAME_BYTES).then(|| {
        (
            format!("the step name is {} characters long", name.len()),
            format!(
                "shorten it to {} characters at most: a step's name is the name of a folder (its index's)",
                schema::MAX_FILE_NAME_BYTES
            ),
        )
    })
}

fn unknown_key(doc: &LocatedValue, object: &str, key: &str) -> Diagnostic {
    let child = format!("{object}/{}", escape_pointer(key));
    let place = step_and_key(&child);
    let (step, path) = step_and_path(object).unzip();
    let op = step
        .and_then(|step| {
            doc.value
                .pointer(&format!("/steps/{}/op", escape_pointer(&step)))
        })
        .and_then(Value::as_str);
    let value = doc.value.pointer(object).unwrap_or(&Value::Null);
    let settings = op
        .zip(path.as_deref())
        .map(|(op, path)| schema::Place { op, path, value });
    let allowed = match &settings {
        Some(settings) => settings.keys(),
        None if object.is_empty() => schema::top_level_keys(),
        None => Vec::new(),
    };
    let at_step = path.as_ref().is_some_and(Vec::is_empty);
    let hint = if matches!(key, "input" | "channel_capacity")
        && at_step
        && op
            .and_then(registry::lookup)
            .is_some_and(OperatorInfo::is_source)
    {
        Some(format!(
            "`{}` is a source and reads no input{}; remove `{key}`",
            op.unwrap_or_default(),
            match key {
                "channel_capacity" => " (`channel_capacity` bounds a step's input)",
                _ => "",
            }
        ))
    } else if let Some((picked, variants)) = settings.as_ref().and_then(|settings| {
        let picked = settings.picked_variant()?;
        let variants = settings.variants_with_key(key);
        (!variants.is_empty()).then_some((picked, variants))
    }) {
        Some(format!(
            "`{key}` is a setting of `{}`, not of `{picked}`; with `{picked}` the keys are: {}",
            variants.join("` and `"),
            allowed.join(", ")
        ))
    } else if let Some(set) = set_in_other_case(value, key, &allowed) {
        Some(format!(
            "`{key}` is `{set}` in other case, and `{set}` is set here too (line {}): keys are case-sensitive; remove `{key}`",
            doc.key_pos(&format!("{object}/{}", escape_pointer(set)))
                .line
        ))
    } else {
        did_you_mean(key, allowed.iter().map(String::as_str)).or_else(|| {
            (!allowed.is_empty()).then(|| format!("allowed keys: {}", allowed.join(", ")))
        })
    };
    let mut diagnostic =
        Diagnostic::error(doc.key_pos(&child), format!("unknown key `{key}`")).with_hint(hint);
    match place {
        Some((step, key)) => diagnostic = diagnostic.in_step(step).at_key(key.unwrap_or_default()),
        None => diagnostic = diagnostic.at_key(key),
    }
    diagnostic
}

/// The allowed key that `key` spells but for case, when the mapping `written` sets it too
/// (`Size: 3` beside `size: 800`).
fn set_in_other_case<'a>(written: &'a Value, key: &str, allowed: &[String]) -> Option<&'a str> {
    let written = written.as_object()?;
    (written.keys())
        .find(|other| *other != key && other.eq_ignore_ascii_case(key))
        .filter(|other| allowed.contains(other))
        .map(String::as_str)
}

fn operator_names() -> String {
    OPERATORS
        .iter()
        .map(|info| info.name)
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn display_value(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// For an `anyOf` or `oneOf` error, the types its branches want where the value is
/// (`object or null`).
fn branch_types(error: &jsonschema::ValidationError) -> Option<String> {
    let (ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context }) =
        error.kind()
    else {
        return None;
    };
    let pointer = error.instance_path().as_str();
    let mut types: Vec<String> = Vec::new();
    for inner in context.iter().flatten() {
        if matches!(inner.kind(), ValidationErrorKind::Type { .. })
            && inner.instance_path().as_str() == pointer
        {
            let wanted = expected_type("", inner.to_string());
            if !types.contains(&wanted) {
                types.push(wanted);
            }
        }
    }
    (!types.is_empty()).then(|| types.join(" or "))
}

/// A dotted key below a step (`pdf.max_glyphs`, `input[1]`) as a JSON pointer suffix.
fn dotted_to_pointer(key: &str) -> String {
    let mut pointer = String::new();
    for part in key.split('.') {
        let (name, indexes) = part.split_once('[').unwrap_or((part, ""));
        pointer.push('/');
        pointer.push_str(&escape_pointer(name));
        for index in indexes.split(['[', ']']).filter(|i| !i.is_empty()) {
            pointer.push('/');
            pointer.push_str(index);
        }
    }
    pointer
}

/// serde's message about a setting's `value` ("invalid type: floating point `1e+23`, expected
/// usize") in the words of the pipeline file, echoing the number as `written` there.
fn serde_message(message: &str, value: Option<&Value>, written: Option<&str>) -> String {
    let largest = |wanted: &str| -> Option<u64> {
        Some(match wanted {
            "usize" | "u64" => u64::MAX,
            "u32" => u32::MAX.into(),
            "u16" => u16::MAX.into(),
            "u8" => u8::MAX.into(),
            _ => return None,
        })
    };
    let wanted = message.rsplit_once("expected ").map(|(_, wanted)| wanted);
    if let (Some(Value::Number(number)), Some(max)) = (value, wanted.and_then(largest)) {
        let shown = written.map_or_else(|| number.to_string(), str::to_owned);
        let float = number.as_f64().unwrap_or_default();
        // A whole number that fits is read as one (`2.0` is 2): a whole one here is too large.
        return if float.fract() == 0.0 && float >= 0.0 {
            rounded_past(&shown, float, max)
                .unwrap_or_else(|| format!("`{shown}` is too large: at most {max}"))
        } else {
            format!("expected a whole number from 0 to {max}, found `{shown}`")
        };
    }
    match wanted.and_then(largest) {
        Some(max) => format!(
            "{}expected a whole number from 0 to {max}",
            message
                .trim_end_matches(wanted.unwrap_or_default())
                .trim_end_matches("expected ")
        ),
        None => message.to_owned(),
    }
}

/// For a whole number written with a fraction (`18446744073709551615.0`) that fits in `max`
/// but is refused as too large: why, since a float rounds it up (to 2^64) past `max`.
fn rounded_past(shown: &str, float: f64, max: u64) -> Option<String> {
    let (whole, fraction) = shown.split_once('.')?;
    let fits = whole.parse::<u64>().is_ok_and(|whole| whole <= max);
    (fits && !fraction.is_empty() && fraction.bytes().all(|b| b == b'0')).then(|| {
        let power = if float == 2f64.powi(64) { " (2^64)" } else { "" };
        format!(
            "`{shown}` is read as a floating-point number, which rounds it to {float:.0}{power}, past the most, {max}: write `{whole}`, without `.{fraction}`"
        )
    })
}

/// A limit from the schema as people write it: `3600`, not `3600.0`.
fn number_text(limit: &Value) -> String {
    match limit.as_f64() {
        Some(float) if limit.is_f64() && float.fract() == 0.0 && float.abs() < 1e15 => {
            format!("{float:.0}")
        }
        _ => limit.to_string(),
    }
}

/// The number at `pointer`, as written in the file when it is one.
fn shown(doc: &LocatedValue, pointer: &str, value: &Value) -> String {
    doc.written(pointer)
        .map_or_else(|| value.to_string(), str::to_owned)
}

/// A number written plain where a number goes, but too large for any to hold (`1e309`, read as
/// text): said as out of range, with the setting's range from the schema.
fn out_of_range(
    doc: &LocatedValue,
    pointer: &str,
    written: &str,
    error: &jsonschema::ValidationError,
) -> Diagnostic {
    let setting = error
        .schema_path()
        .as_str()
        .rsplit_once('/')
        .and_then(|(setting, _)| schema::committed_schema().pointer(setting));
    let range = setting.map(number_range).unwrap_or_default();
    Diagnostic::error(
        doc.value_pos(pointer),
        format!("`{written}` is a number out of range{range}"),
    )
}

/// The range a number setting's schema allows (`: from 1 to 18446744073709551615`): its
/// `minimum` (or `exclusiveMinimum`) and `maximum`, else what its `format` holds.
fn number_range(setting: &Value) -> String {
    let bound = |key: &str| setting.get(key).map(number_text);
    let format_most = match setting.get("format").and_then(Value::as_str) {
        Some("uint" | "uint64") => Some(u64::MAX.to_string()),
        Some("uint32") => Some(u32::MAX.to_string()),
        Some("uint16") => Some(u16::MAX.to_string()),
        Some("uint8") => Some(u8::MAX.to_string()),
        Some("int" | "int64") => Some(i64::MAX.to_string()),
        Some("int32") => Some(i32::MAX.to_string()),
        Some("double") => Some(f64::MAX.to_string()),
        _ => None,
    };
    let most = bound("maximum").or(format_most);
    match (bound("minimum"), bound("exclusiveMinimum"), most) {
        (Some(least), _, Some(most)) => format!(": from {least} to {most}"),
        (None, Some(above), Some(most)) => format!(": more than {above} and at most {most}"),
        (Some(least), _, None) => format!(": at least {least}"),
        (None, Some(above), None) => format!(": more than {above}"),
        (None, None, Some(most)) => format!(": at most {most}"),
        (None, None, None) => String::new(),
    }
}

/// What to write instead of a value of the wrong type, when it is clear: `true` for YAML 1.1's
/// `yes`, a list of one for a lone string where a list goes.
fn type_hint(wanted: &str, found: &Value) -> Option<String> {
    let text = found.as_str()?;
    if wanted == "boolean" {
        let meant = match text.to_ascii_lowercase().as_str() {
            "yes" | "y" | "on" => "true",
            "no" | "n" | "off" => "false",
            _ => return None,
        };
        return Some(format!(
            "write `{meant}`: YAML 1.2 reads `{text}` as a string, and only `true` and `false` as booleans"
        ));
    }
    wanted.starts_with("array").then(|| {
        format!(
            "this takes a list: write `[{}]`",
            Value::String(text.to_owned())
        )
    })
}

/// Whether a value is YAML's NaN or infinity (`.nan`, `-.inf`, …), which JSON cannot hold.
fn is_not_a_number(value: &Value) -> bool {
    value.as_str().is_some_and(|text| {
        matches!(
            text.trim_start_matches(['+', '-'])
                .to_ascii_lowercase()
                .as_str(),
            ".nan" | ".inf"
        )
    })
}

/// What kind of JSON value `value` is, for people (`a list`, `an integer`).
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing (null)",
        Value::Bool(_) => "a boolean",
        Value::Number(number) if number.is_f64() => "a number with a fraction",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn expected_type(pointer: &str, message: String) -> String {
    if pointer.ends_with("/input") || pointer.contains("/input/") {
        return "a step name or a list of step names".to_owned();
    }
    if let Some((_, wanted)) = message.rsplit_once("is not of types ") {
        // `"null", "string"`: a key that may be left out takes a string.
        let types: Vec<String> = (wanted.split(','))
            .map(|kind| kind.trim().replace('"', ""))
            .filter(|kind| kind != "null")
            .collect();
        return types.join(" or ");
    }
    match message.rsplit_once("is not of type ") {
        Some((_, wanted)) => wanted.replace('"', ""),
        None => message,
    }
}

/// What can be read of every step without trusting its settings.
pub fn outlines(doc: &LocatedValue) -> Vec<StepOutline> {
    let Some(steps) = doc.value.get("steps").and_then(Value::as_object) else {
        return Vec::new();
    };
    steps
        .iter()
        .map(|(name, step)| {
            let pointer = format!("/steps/{}", escape_pointer(name));
            let op = step
                .get("op")
                .and_then(Value::as_str)
                .and_then(registry::lookup);
            let inputs = match step.get("input") {
                Some(Value::String(input)) => vec![(input.clone(), format!("{pointer}/input"))],
                Some(Value::Array(inputs)) => inputs
                    .iter()
                    .enumerate()
                    .filter_map(|(i, input)| {
                        input
                            .as_str()
                            .map(|input| (input.to_owned(), format!("{pointer}/input/{i}")))
                    })
                    .collect(),
                _ => Vec::new(),
            };
            StepOutline {
                name: name.clone(),
                pointer,
                op,
                inputs,
            }
        })
        .collect()
}

/// Reads a schema-valid step into its typed settings and checks what the schema cannot.
fn typed_step(
    doc: &LocatedValue,
    outline: &StepOutline,
    base: &Path,
    purpose: Purpose,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Step> {
    // Models, tokenizers, sources and sinks are what a run needs; reading its results does not.
    let run = purpose == Purpose::Run;
    let Value::Object(fields) = doc.value.pointer(&outline.pointer)?.clone() else {
        return None;
    };
    let mut settings = fields.clone();
    for key in SHARED_STEP_KEYS {
        settings.remove(key);
    }
    let settings = Value::Object(settings);
    let config: OperatorConfig = match serde_json::from_value(settings.clone()) {
        Ok(config) => config,
        Err(err) => {
            let found = outline
                .op
                .and_then(|op| registry::settings_error(op.name, &settings));
            let diagnostic = match found {
                Some((Some(key), message)) => {
                    let at = format!("{}{}", outline.pointer, dotted_to_pointer(&key));
                    let value = doc.value.pointer(&at);
                    let message = serde_message(&message, value, doc.written(&at));
                    Diagnostic::error(doc.value_pos(&at), message).at_key(key)
                }
                _ => Diagnostic::error(
                    doc.key_pos(&outline.pointer),
                    format!("invalid settings: {err}"),
                ),
            };
            diagnostics.push(diagnostic.in_step(&outline.name));
            return None;
        }
    };
    let mut fine = true;
    let resources = if run {
        config.resource_problems(base)
    } else {
        Vec::new()
    };
    let own = (config.problems().into_iter()).map(|(key, message)| (key.to_owned(), message));
    for (key, message) in own.chain(resources) {
        fine = false;
        let at = format!("{}{}", outline.pointer, dotted_to_pointer(&key));
        diagnostics.push(
            Diagnostic::error(doc.value_pos(&at), message)
                .in_step(&outline.name)
                .at_key(key),
        );
    }
    // A model file that cannot be loaded, when nothing else is wrong with the step.
    let unloadable = if run && fine {
        config.resource_warnings(base)
    } else {
        Vec::new()
    };
    let warnings = (unloadable.into_iter())
        .chain(config.environment_warnings())
        .chain(config.setting_warnings());
    for (key, message) in warnings {
        let at = format!("{}{}", outline.pointer, dotted_to_pointer(&key));
        // Only what the environment lacks is set before the run; other warnings say what to write.
        let environment = message.starts_with("environment variable");
        diagnostics.push(
            Diagnostic::warning(doc.value_pos(&at), message)
                .in_step(&outline.name)
                .at_key(key)
                .with_hint(environment.then(|| {
                    "set it before `engine run`: until then, documents that need new embeddings fail, and so do vector and hybrid queries".to_owned()
                })),
        );
    }
    let path_problems = config
        .input_paths()
        .into_iter()
        .filter(|_| run)
        .filter_map(|(key, relative, kind)| {
            Some((key, paths::input_problem(base, relative, kind)?))
        })
        .chain(
            config
                .output_paths()
                .into_iter()
                .filter(|_| run)
                .filter_map(|(key, relative)| Some((key, paths::output_problem(base, relative)?))),
        );
    for (key, problem) in path_problems.collect::<Vec<_>>() {
        fine = false;
        let at = format!("{}/{key}", outline.pointer);
        diagnostics.push(
            Diagnostic::error(doc.value_pos(&at), problem.message)
                .in_step(&outline.name)
                .at_key(key)
                .with_hint(Some(problem.hint)),
        );
    }
    if run {
        for (key, path) in config.named_paths() {
            let at = format!("{}{}", outline.pointer, dotted_to_pointer(&key));
            diagnostics.extend(
                blank_edges_diagnostic(doc, &at, &key, path).map(|d| d.in_step(&outline.name)),
            );
        }
    }
    let number = |key: &str| fields.get(key).and_then(Value::as_u64).map(|n| n as usize);
    fine.then(|| Step {
        name: outline.name.clone(),
        config,
        inputs: outline
            .inputs
            .iter()
            .map(|(name, _)| name.clone())
            .collect(),
        parallelism: number("parallelism"),
        channel_capacity: number("channel_capacity"),
    })
}

/// An error for the path at `pointer` when it holds a line break, a warning when it starts or
/// ends with white space (see [`paths::blank_edges`]).
fn blank_edges_diagnostic(
    doc: &LocatedValue,
    pointer: &str,
    key: &str,
    path: &str,
) -> Option<Diagnostic> {
    let (error, problem) = paths::blank_edges(key, path)?;
    let at = doc.value_pos(pointer);
    let diagnostic = match error {
        true => Diagnostic::error(at, problem.message),
        false => Diagnostic::warning(at, problem.message),
    };
    Some(diagnostic.at_key(key).with_hint(Some(problem.hint)))
}

/// `relative` under the pipeline's folder, without the `./` in front that a pipeline in the
/// working directory would give it (`./../shared/st` in messages).
fn under_base(base: &Path, relative: &str) -> PathBuf {
    if base == Path::new(".") {
        PathBuf::from(relative)
    } else {
        base.join(relative)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A FIFO given as the pipeline is refused at once, not waited on for a writer (which
    /// Ctrl-C did not end), and a folder is named as one.
    #[cfg(unix)]
    #[test]
    fn a_pipeline_that_is_no_regular_file_is_refused_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("p.yaml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|status| status.success()), "mkfifo");
        // Only to turn a wait for a writer into a failure: nothing ever writes.
        let (sender, receiver) = std::sync::mpsc::channel();
        let opened = fifo.clone();
        std::thread::spawn(move || {
            let loaded = load(&opened).map(|_| ());
            let stamp = file_stamp(&opened);
            sender.send((loaded, stamp)).unwrap();
        });
        let (loaded, stamp) = receiver
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("loading a FIFO waits for a writer");
        let report = loaded.unwrap_err().to_string();
        assert!(
            report.contains("p.yaml:1:1: error: the pipeline file is not a regular file"),
            "{report}"
        );
        assert_eq!(stamp, None);
        let report = load(dir.path()).unwrap_err().to_string();
        assert!(
            report.contains("is a folder: give the pipeline's YAML file"),
            "{report}"
        );
    }
}

#[cfg(test)]
mod name_tests {
    use super::*;

    /// A step name is a folder's (an index's): one longer than a file name may be passed
    /// `validate`, then failed every document at the index ("File name too long").
    #[test]
    fn a_step_name_longer_than_a_file_name_is_refused_at_its_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docs")).unwrap();
        let pipeline = |index: &str| {
            format!(
                "version: 1\nname: n\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 100 }}\n  embed: {{ op: embed, input: chunk, provider: hash }}\n  {index}: {{ op: index.hybrid, input: embed }}\n"
            )
        };
        let file = dir.path().join("p.yaml");
        let longest = format!("i{}", "a".repeat(254));
        load_str(&file, &pipeline(&longest)).unwrap_or_else(|report| panic!("{report}"));
        let long = format!("i{}", "a".repeat(255));
        let report = load_str(&file, &pipeline(&long)).unwrap_err();
        let [problem] = &report.diagnostics[..] else {
            panic!("{report}")
        };
        assert_eq!((problem.line, problem.column), (8, 3), "{report}");
        assert_eq!(problem.step.as_deref(), Some(long.as_str()));
        assert_eq!(problem.message, "the step name is 256 characters long");
        assert!(
            problem
                .hint
                .as_deref()
                .unwrap()
                .contains("255 characters at most"),
            "{report}"
        );
    }

    /// The letter a step name starts with is an ASCII one, and the help says so.
    #[test]
    fn a_step_name_of_other_letters_is_told_ascii_letters() {
        let report = load_str(
            Path::new("p.yaml"),
            "version: 1\nname: n\nsteps:\n  é: { op: source.files, path: docs }\n",
        )
        .unwrap_err()
        .to_string();
        assert!(report.contains("invalid step name `é`"), "{report}");
        assert!(report.contains("start with an ASCII letter"), "{report}");
    }

    /// An invisible character in a step name, or in the name of the step an `input` reads,
    /// is named (it printed as the name without it: "no step named `docs`").
    #[test]
    fn an_invisible_character_in_a_step_name_is_named() {
        let report = load_str(
            Path::new("p.yaml"),
            "version: 1\nname: n\nsteps:\n  \"docs\\u200b\": { op: source.files, path: docs }\n  parse: { op: parse, input: \"docs\\u00a0\" }\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            report.contains(
                "the name holds an invisible character, U+200B (zero width space): delete it"
            ),
            "{report}"
        );
        assert!(
            report.contains(
                "help: the name holds an invisible character, U+00A0 (no-break space); did you mean"
            ),
            "{report}"
        );
    }
}

#[cfg(test)]
mod embedding_tests {
    use super::*;

    /// The one diagnostic of `steps`, as (line, column, key, message, hint).
    fn only_problem(steps: &str) -> (usize, usize, String, String, String) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docs")).unwrap();
        let text = format!(
            "version: 1\nname: e\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n{steps}"
        );
        let report = load_str(&dir.path().join("p.yaml"), &text).unwrap_err();
        let [problem] = &report.diagnostics[..] else {
            panic!("{report}")
        };
        (
            problem.line,
            problem.column,
            problem.key.clone().unwrap_or_default(),
            problem.message.clone(),
            problem.hint.clone().unwrap_or_default(),
        )
    }

    /// A mistake in a semantic chunker's `embedding` is told as in an `embed` step, at the key
    /// below `embedding` (a missing provider was "expected another value, found a mapping",
    /// and a bad `base_url` was reported at `embedding`).
    #[test]
    fn embedding_mistakes_are_told_as_in_an_embed_step() {
        let semantic = |embedding: &str| {
            only_problem(&format!(
                "  chunk: {{ op: chunk.semantic, input: parse, size: 50,\n           embedding: {embedding} }}\n  out: {{ op: sink.jsonl, input: chunk, path: out.jsonl }}\n"
            ))
        };
        let embed = |settings: &str| {
            only_problem(&format!(
                "  chunk: {{ op: chunk.recursive, input: parse, size: 50 }}\n  embed: {{ op: embed, input: chunk, {settings} }}\n  index: {{ op: index.hybrid, input: embed }}\n"
            ))
        };
        let (line, column, key, message, hint) = semantic("{ model: x }");
        assert_eq!((line, column, key.as_str()), (7, 12, "embedding.provider"));
        let (_, _, own_key, own_message, own_hint) = embed("model: x");
        assert_eq!(own_key, "provider");
        assert_eq!((&message, &hint), (&own_message, &own_hint));
        assert_eq!(message, "missing key `provider`");
        assert!(hint.contains("onnx, http, hash"), "{hint}");

        let (_, _, key, message, _) = semantic("{ provider: onnx }");
        assert_eq!(
            (key.as_str(), message.as_str()),
            ("embedding.model", "missing key `model`")
        );

        let (line, column, key, message, _) =
            semantic("{ provider: http, base_url: \"ftp://x\", model: m }");
        assert_eq!((line, column, key.as_str()), (7, 51, "embedding.base_url"));
        let (_, _, _, own_message, _) = embed("provider: http, base_url: \"ftp://x\", model: m");
        assert_eq!(message, own_message);
    }

    /// A key misspelt where a required one goes is named, with the key it was meant as.
    #[test]
    fn a_misspelt_required_key_is_named() {
        let (_, _, key, message, hint) = only_problem(
            "  chunk: { op: chunk.recursive, input: parse, size: 50 }\n  embed: { op: embed, input: chunk, providr: hash }\n  index: { op: index.hybrid, input: embed }\n",
        );
        assert_eq!(
            (key.as_str(), message.as_str()),
            ("provider", "missing key `provider`")
        );
        assert!(
            hint.contains("`providr`") && hint.contains("did you mean `provider`?"),
            "{hint}"
        );
    }
}

#[cfg(test)]
mod number_tests {
    use super::*;

    /// The messages of loading a pipeline whose chunker has `settings`, and whose embedder
    /// (`http`) has `http`.
    fn messages(settings: &str, http: &str) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docs")).unwrap();
        let text = format!(
            "version: 1\nname: n\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, {settings} }}\n  embed: {{ op: embed, input: chunk, provider: http, base_url: \"http://127.0.0.1:9/v1\", model: m{http} }}\n  index: {{ op: index.hybrid, input: embed }}\n"
        );
        match load_str(&dir.path().join("p.yaml"), &text) {
            Ok(_) => Vec::new(),
            Err(report) => report.diagnostics.into_iter().map(|d| d.message).collect(),
        }
    }

    /// 2^64 written as a plain integer was told to be written "without a fraction or exponent"
    /// and given u64::MAX; a longer one was echoed as `1e+23`; `1e309` was "a string".
    #[test]
    fn numbers_out_of_range_are_echoed_as_written_and_said_too_large() {
        assert_eq!(
            messages("size: 18446744073709551616", ""),
            ["`18446744073709551616` is too large: at most 18446744073709551615"]
        );
        assert_eq!(
            messages("size: 99999999999999999999999", ""),
            ["`99999999999999999999999` is too large: at most 18446744073709551615"]
        );
        // Fits, but a float rounds it to 2^64: "too large: at most …" contradicted itself.
        assert_eq!(
            messages("size: 18446744073709551615.0", ""),
            [
                "`18446744073709551615.0` is read as a floating-point number, which rounds it to 18446744073709551616 (2^64), past the most, 18446744073709551615: write `18446744073709551615`, without `.0`"
            ]
        );
        assert_eq!(
            messages("size: 1e309", ""),
            ["`1e309` is a number out of range: from 1 to 18446744073709551615"]
        );
        assert_eq!(
            messages("size: 100", ", timeout: 1e309"),
            ["`1e309` is a number out of range: more than 0 and at most 3600"]
        );
        assert_eq!(
            messages("size: 2.5", ""),
            ["expected a whole number, found `2.5`, a number with a fraction"]
        );
        // A value of the wrong type is not told its bound too (two errors at one place).
        assert_eq!(
            messages("size: 100", ", batch_size: 9000.5"),
            ["expected a whole number, found `9000.5`, a number with a fraction"]
        );
    }

    /// `version: 1.5` had two errors at one place, and `version: 2` was told "must be at
    /// most 1": the format's version is named as such.
    #[test]
    fn a_version_other_than_1_is_told_once_as_the_formats() {
        let dir = tempfile::tempdir().unwrap();
        let told = |version: &str| -> Vec<String> {
            let text = format!(
                "version: {version}\nname: n\nsteps:\n  docs: {{ op: source.files, path: . }}\n  out: {{ op: sink.jsonl, input: docs, path: o.jsonl }}\n"
            );
            match load_str(&dir.path().join("p.yaml"), &text) {
                Ok(_) => Vec::new(),
                Err(report) => report.diagnostics.into_iter().map(|d| d.message).collect(),
            }
        };
        assert_eq!(
            told("1.5"),
            ["expected a whole number, found `1.5`, a number with a fraction"]
        );
        for version in ["2", "0"] {
            assert_eq!(
                told(version),
                [format!(
                    "this engine reads version 1 of the pipeline format, not {version}"
                )]
            );
        }
        assert!(told("1").is_empty(), "{:?}", told("1"));
    }

    /// `2.0` passed for `parallelism` (and was then dropped) but was refused for `size`: a
    /// whole number is one however written, everywhere.
    #[test]
    fn a_whole_number_with_a_zero_fraction_is_taken_everywhere() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docs")).unwrap();
        let text = "version: 1\nname: n\nchannel_capacity: 8.0\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs, parallelism: 2.0, channel_capacity: 4e0 }\n  chunk: { op: chunk.recursive, input: parse, size: 1e2, overlap: 2.0 }\n  out: { op: sink.jsonl, input: chunk, path: out.jsonl }\n";
        let (pipeline, _) =
            load_str(&dir.path().join("p.yaml"), text).unwrap_or_else(|report| panic!("{report}"));
        assert_eq!(pipeline.channel_capacity, 8);
        assert_eq!(pipeline.steps[1].parallelism, Some(2));
        assert_eq!(pipeline.steps[1].channel_capacity, Some(4));
        let OperatorConfig::ChunkRecursive(chunk) = &pipeline.steps[2].config else {
            panic!("{:?}", pipeline.steps[2].config)
        };
        assert_eq!((chunk.size, chunk.overlap), (100, 2));
    }

    /// `timeout: 0` was refused while the schema gave 0 as its (inclusive) minimum.
    #[test]
    fn a_timeout_of_zero_is_refused_by_the_schema_too() {
        assert_eq!(
            messages("size: 100", ", timeout: 0"),
            ["must be more than 0, found 0"]
        );
        let timeout = &schema::committed_schema()["$defs"]["EmbedConfig"]["oneOf"][1]["properties"]
            ["timeout"];
        assert_eq!(timeout["exclusiveMinimum"], 0.0, "{timeout}");
        assert!(timeout.get("minimum").is_none(), "{timeout}");
    }
}

#[cfg(test)]
mod type_hint_tests {
    use super::*;

    /// The hint of the one error of a `source.files` step with `settings`.
    fn hint(settings: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docs")).unwrap();
        let text = format!(
            "version: 1\nname: n\nsteps:\n  docs: {{ op: source.files, path: docs, {settings} }}\n  out: {{ op: sink.jsonl, input: docs, path: o.jsonl }}\n"
        );
        let report = load_str(&dir.path().join("p.yaml"), &text).unwrap_err();
        let [problem] = &report.diagnostics[..] else {
            panic!("{report}")
        };
        problem.hint.clone().unwrap_or_default()
    }

    /// `hidden: yes` and `include: "*.md"` were refused with no way out.
    #[test]
    fn a_yaml_1_1_boolean_and_a_lone_pattern_say_what_to_write() {
        assert_eq!(
            hint("hidden: yes"),
            "write `true`: YAML 1.2 reads `yes` as a string, and only `true` and `false` as booleans"
        );
        assert!(hint("hidden: Off").starts_with("write `false`"));
        assert_eq!(
            hint("include: \"*.md\""),
            "this takes a list: write `[\"*.md\"]`"
        );
    }
}

#[cfg(test)]
mod authoring_tests {
    use super::*;
    use crate::spec::diagnostic::Severity;

    /// The diagnostics of `text` beside a folder `docs`, as (line, key, error, message, hint).
    fn told(text: &str) -> Vec<(usize, String, bool, String, String)> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docs")).unwrap();
        let report = match load_str(&dir.path().join("p.yaml"), text) {
            Ok((_, report)) | Err(report) => report,
        };
        (report.diagnostics.into_iter())
            .map(|d| {
                let error = d.severity == Severity::Error;
                let key = d.key.unwrap_or_default();
                (d.line, key, error, d.message, d.hint.unwrap_or_default())
            })
            .collect()
    }

    /// A path from a `|` block scalar (`"o.jsonl\n"`) or with a space at an end was taken as
    /// written, and the run wrote `o.jsonl?`: a line break is an error, white space a warning,
    /// each naming the key and showing the value escaped.
    #[test]
    fn a_path_with_a_line_break_or_white_space_at_an_end_is_told() {
        let found = told(
            "version: 1\nname: t\nstore: \" .engine\"\nsteps:\n  docs: { op: source.files, path: docs }\n  o2: { op: sink.jsonl, input: docs, path: \"o2.jsonl \" }\n  out:\n    op: sink.jsonl\n    input: docs\n    path: |\n      o.jsonl\n",
        );
        let [store, docs, out] = &found[..] else {
            panic!("{found:#?}")
        };
        assert_eq!((store.0, store.1.as_str(), store.2), (3, "store", false));
        assert!(
            store
                .3
                .contains("`store` starts with white space: \" .engine\""),
            "{store:?}"
        );
        assert_eq!((docs.0, docs.1.as_str(), docs.2), (6, "path", false));
        assert!(
            docs.3
                .contains("`path` ends with white space: \"o2.jsonl \""),
            "{docs:?}"
        );
        assert_eq!((out.0, out.1.as_str(), out.2), (11, "path", true));
        assert!(
            out.3.contains("`path` holds a line break: \"o.jsonl\\n\""),
            "{out:?}"
        );
        assert!(out.4.contains("block scalar"), "{out:?}");
    }

    /// Case-only typos got no suggestion (`op: PARSE`, `NAME:`), `op: chunk` got one
    /// arbitrary chunker and `op: recursive` none, and `Size` beside `size` was told "did you
    /// mean `size`?", which is set already.
    #[test]
    fn suggestions_take_case_parts_and_duplicates_into_account() {
        let found = told(
            "version: 1\nNAME: t\nsteps:\n  docs: { op: source.files, path: docs }\n  p: { op: PARSE, input: docs }\n  c1: { op: chunk, input: p, size: 5 }\n  c2: { op: recursive, input: p, size: 5 }\n  c3: { op: chunk.recursive, input: p, size: 5, Size: 3 }\n  o: { op: sink.jsonl, input: [c1, c2, c3], path: o.jsonl }\n",
        );
        let hint = |line: usize, message: &str| -> &str {
            let found = found
                .iter()
                .find(|d| d.0 == line && d.3.starts_with(message));
            found
                .unwrap_or_else(|| panic!("{line} {message}: {found:#?}"))
                .4
                .as_str()
        };
        assert_eq!(hint(2, "unknown key `NAME`"), "did you mean `name`?");
        assert!(hint(1, "missing key `name`").contains("`NAME` is written here"));
        assert_eq!(hint(5, "unknown operator `PARSE`"), "did you mean `parse`?");
        assert_eq!(
            hint(6, "unknown operator `chunk`"),
            "did you mean one of `chunk.recursive`, `chunk.by_heading`, `chunk.by_page`, `chunk.semantic`, `chunk.smart`?"
        );
        assert_eq!(
            hint(7, "unknown operator `recursive`"),
            "did you mean `chunk.recursive`?"
        );
        let size = hint(8, "unknown key `Size`");
        assert!(
            size.starts_with("`Size` is `size` in other case, and `size` is set here too (line 8)"),
            "{size}"
        );
    }

    /// `include: []` and `include: [""]` pick no file, and the run read nothing without a
    /// word from `validate`: a warning at `include`.
    #[test]
    fn an_include_without_a_pattern_is_warned_about() {
        for include in ["[]", "[\"\"]"] {
            let found = told(&format!(
                "version: 1\nname: t\nsteps:\n  docs: {{ op: source.files, path: docs, include: {include} }}\n  out: {{ op: sink.jsonl, input: docs, path: o.jsonl }}\n"
            ));
            let [(4, key, false, message, _)] = &found[..] else {
                panic!("{found:#?}")
            };
            assert_eq!(key, "include");
            assert!(
                message.starts_with(&format!("`include: {include}` picks no file")),
                "{message}"
            );
            assert!(
                message.contains("remove `include` to read every file"),
                "{message}"
            );
        }
        let found = told(
            "version: 1\nname: t\nsteps:\n  docs: { op: source.files, path: docs, include: [\"*.md\"] }\n  out: { op: sink.jsonl, input: docs, path: o.jsonl }\n",
        );
        assert!(found.is_empty(), "{found:#?}");
    }
}
