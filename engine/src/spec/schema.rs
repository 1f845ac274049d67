//! The JSON Schema of pipeline files, generated from the Rust types that deserialize them.
//!
//! Each operator's settings (schemars) become `$defs/<op>` with the keys every step shares added;
//! a step picks its definition with `if op == … then …`, which gives editors completion and
//! gives `validate` errors that point at the exact key.

use std::sync::OnceLock;

use schemars::{JsonSchema, Schema, SchemaGenerator, generate::SchemaSettings, json_schema};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::registry::{OPERATORS, OperatorInfo};

/// The top-level keys of a pipeline file (the steps are read on their own, in file order).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "Pipeline",
    description = "An engine pipeline: a DAG of typed steps."
)]
pub struct PipelineHeader {
    /// Version of the pipeline format; always 1.
    #[schemars(range(min = 1, max = 1))]
    pub version: u32,
    /// The pipeline's name.
    #[schemars(length(min = 1))]
    pub name: String,
    /// What the pipeline is for.
    #[serde(default)]
    pub description: Option<String>,
    /// Folder for checkpoints, runs and indexes, relative to the pipeline file.
    #[serde(default = "default_store")]
    pub store: String,
    /// Default bound of every edge (items in flight per step input), at most 65,536.
    #[serde(default = "default_capacity")]
    #[schemars(range(min = 1, max = crate::runtime::MAX_CHANNEL_CAPACITY))]
    pub channel_capacity: usize,
    /// The steps, by name, in file order.
    pub steps: Steps,
}

fn default_store() -> String {
    ".engine".to_owned()
}

fn default_capacity() -> usize {
    64
}

/// The `steps` map; read separately so that order and positions are kept.
#[derive(Debug, Clone, Default)]
pub struct Steps;

impl<'de> Deserialize<'de> for Steps {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer)?;
        Ok(Steps)
    }
}

/// Most bytes of a file name (Linux, macOS and Windows file systems alike): a step's name
/// is its index's folder.
pub const MAX_FILE_NAME_BYTES: usize = 255;

/// Pattern every step name must match: an ASCII letter or `_`, then at most 254 ASCII letters,
/// digits, `_`, `.` and `-` (a name is a folder's, at most [`MAX_FILE_NAME_BYTES`]).
pub const STEP_NAME_PATTERN: &str = "^[A-Za-z_][A-Za-z0-9_.-]{0,254}$";

impl JsonSchema for Steps {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Steps".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        for info in OPERATORS {
            let definition = step_definition(info, generator);
            generator
                .definitions_mut()
                .insert(info.name.to_owned(), definition.to_value());
        }
        let names: Vec<&str> = OPERATORS.iter().map(|info| info.name).collect();
        let branches: Vec<Value> = OPERATORS
            .iter()
            .map(|info| {
                json!({
                    "if": { "properties": { "op": { "const": info.name } }, "required": ["op"] },
                    "then": { "$ref": format!("#/$defs/{}", info.name) }
                })
            })
            .collect();
        json_schema!({
            "description": "The steps of the pipeline by name, in file order.",
            "type": "object",
            "minProperties": 1,
            "propertyNames": { "pattern": STEP_NAME_PATTERN },
            "additionalProperties": {
                "type": "object",
                "required": ["op"],
                "properties": {
                    "op": { "description": "The operator this step runs.", "enum": names }
                },
                "allOf": branches
            }
        })
    }
}

/// The definition of one operator's step: its settings plus the keys every step shares.
///
/// Settings that are an internally tagged enum (e.g. `embed`'s `provider: onnx | http`) become
/// one `if provider == … then …` branch per variant, like steps per `op`: each branch lists its
/// own keys plus the shared ones and refuses the rest, so a key of the wrong variant is an
/// unknown key at its line.
fn step_definition(info: &OperatorInfo, generator: &mut SchemaGenerator) -> Schema {
    let mut schema = (info.schema)(generator);
    let object = schema.ensure_object();
    let mut shared = serde_json::Map::new();
    shared.insert("op".into(), json!({ "const": info.name }));
    let mut required = vec![json!("op")];
    if !info.is_source() {
        shared.insert(
            "input".into(),
            json!({
                "description": "The step(s) this step reads; several names merge their items.",
                "anyOf": [
                    { "type": "string" },
                    { "type": "array", "items": { "type": "string" }, "minItems": 1 }
                ]
            }),
        );
        shared.insert(
            "channel_capacity".into(),
            json!({
                "description": "Bound of this step's input channel (default: the pipeline's), at most 65,536.",
                "type": "integer", "minimum": 1, "maximum": crate::runtime::MAX_CHANNEL_CAPACITY
            }),
        );
        required.push(json!("input"));
    }
    if info.parallel {
        shared.insert(
            "parallelism".into(),
            json!({
                "description": "Workers for this step (default: the number of cores).",
                "type": "integer", "minimum": 1, "maximum": 256
            }),
        );
    }
    let tagged = tagged_variants(object);
    object.insert(
        "description".into(),
        json!(format!("`{}`: {}.", info.name, info.summary)),
    );
    object.insert("type".into(), json!("object"));
    match tagged {
        Some((tag, variants)) => {
            object.remove("oneOf");
            let names: Vec<Value> = variants.iter().map(|(name, _)| name.clone()).collect();
            let descriptions: Vec<Value> = variants
                .iter()
                .map(|(_, branch)| branch.get("description").cloned().unwrap_or(json!("")))
                .collect();
            let mut properties = shared.clone();
            properties.insert(
                tag.clone(),
                json!({ "enum": names, "enumDescriptions": descriptions }),
            );
            object.insert("properties".into(), Value::Object(properties));
            required.push(json!(tag));
            let branches: Vec<Value> = variants
                .into_iter()
                .map(|(name, mut branch)| {
                    if let Some(branch) = branch.as_object_mut() {
                        branch.insert("additionalProperties".into(), json!(false));
                        if let Some(Value::Object(own)) = branch.get_mut("properties") {
                            for (key, value) in &shared {
                                own.insert(key.clone(), value.clone());
                            }
                        }
                    }
                    json!({
                        "if": { "properties": { tag.as_str(): { "const": name } }, "required": [tag] },
                        "then": branch
                    })
                })
                .collect();
            object.insert("allOf".into(), Value::Array(branches));
        }
        None => {
            object.insert("additionalProperties".into(), json!(false));
            let properties = object
                .entry("properties")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("properties is an object");
            for (key, value) in shared {
                properties.insert(key, value);
            }
            if let Some(Value::Array(own)) = object.get("required") {
                required.extend(own.iter().cloned());
            }
        }
    }
    object.insert("required".into(), Value::Array(required));
    schema
}

/// For a schema of an internally tagged enum (`oneOf` objects that each fix one shared key to a
/// constant), the tag key and each variant's constant and schema.
fn tagged_variants(
    object: &serde_json::Map<String, Value>,
) -> Option<(String, Vec<(Value, Value)>)> {
    let branches = object.get("oneOf")?.as_array()?;
    let first = branches.first()?.get("properties")?.as_object()?;
    let tag = first
        .iter()
        .find(|(_, property)| property.get("const").is_some())?
        .0
        .clone();
    let variants = branches
        .iter()
        .map(|branch| {
            let constant = branch.pointer(&format!("/properties/{tag}/const"))?.clone();
            Some((constant, branch.clone()))
        })
        .collect::<Option<Vec<_>>>()?;
    Some((tag, variants))
}

/// The schema of pipeline files, as JSON.
pub fn pipeline_schema() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator();
    let mut schema = generator
        .into_root_schema_for::<PipelineHeader>()
        .to_value();
    constants_to_enums(&mut schema);
    if let Some(object) = schema.as_object_mut() {
        object.insert(
            "$id".into(),
            json!("https://engine.invalid/schemas/pipeline.schema.json"),
        );
    }
    schema
}

/// Rewrites `oneOf` lists of documented constants (how schemars renders a documented unit enum)
/// as `enum`, with the documentation kept in `enumDescriptions`: editors list the choices and
/// `validate` can name them.
fn constants_to_enums(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            let constants: Option<Vec<(Value, Value)>> = object
                .get("oneOf")
                .and_then(Value::as_array)
                .and_then(|branches| {
                    branches
                        .iter()
                        .map(|branch| {
                            let constant = branch.get("const")?.clone();
                            let description =
                                branch.get("description").cloned().unwrap_or(json!(""));
                            Some((constant, description))
                        })
                        .collect()
                });
            if let Some(constants) = constants {
                object.remove("oneOf");
                let (values, descriptions): (Vec<Value>, Vec<Value>) =
                    constants.into_iter().unzip();
                object.insert("enum".into(), Value::Array(values));
                object.insert("enumDescriptions".into(), Value::Array(descriptions));
            }
            object.values_mut().for_each(constants_to_enums);
        }
        Value::Array(items) => items.iter_mut().for_each(constants_to_enums),
        _ => {}
    }
}

/// The schema as committed in the repository (`schemas/pipeline.schema.json`).
pub const COMMITTED_SCHEMA: &str = include_str!("../../../schemas/pipeline.schema.json");

/// The schema text `engine schema` prints and the repository commits.
pub fn pipeline_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&pipeline_schema()).expect("schema serializes");
    text.push('\n');
    text
}

/// The committed schema, parsed once.
pub(super) fn committed_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        serde_json::from_str(COMMITTED_SCHEMA)
            .expect("schemas/pipeline.schema.json is valid JSON (rebuild after `just schema`)")
    })
}

/// A validator for the committed schema, compiled once.
pub fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::validator_for(committed_schema())
            .expect("schemas/pipeline.schema.json is a valid schema")
    })
}

/// Where settings live in a step: the step itself (`path` empty) or a mapping below it
/// (`["embedding"]` of a `chunk.semantic` step).
pub struct Place<'a> {
    /// The step's operator.
    pub op: &'a str,
    /// Keys from the step down to the mapping.
    pub path: &'a [String],
    /// The mapping as written.
    pub value: &'a Value,
}

impl Place<'_> {
    /// The keys the mapping may have: its own, plus those of the variant it picks
    /// (`provider: hash`, say), or of every variant when it picks none of them.
    pub fn keys(&self) -> Vec<String> {
        let Some(definition) = self.definition() else {
            return Vec::new();
        };
        let variants = variants(definition);
        let picked: Vec<&Variant> = variants
            .iter()
            .filter(|v| v.picked_by(self.value))
            .collect();
        let chosen: Vec<&Variant> = if picked.is_empty() {
            variants.iter().collect()
        } else {
            picked
        };
        let mut keys = property_names(definition);
        for variant in chosen {
            for key in &variant.keys {
                if !keys.contains(key) {
                    keys.push(key.clone());
                }
            }
        }
        keys
    }

    /// The variants (as `tag: value`) that allow `key`, for a hint when the mapping picked
    /// another variant.
    pub fn variants_with_key(&self, key: &str) -> Vec<String> {
        let variants = self.definition().map(variants).unwrap_or_default();
        variants
            .into_iter()
            .filter(|variant| variant.keys.iter().any(|k| k == key))
            .map(|variant| variant.label())
            .collect()
    }

    /// The variant (as `tag: value`) the mapping picks, if it has variants and picks one.
    pub fn picked_variant(&self) -> Option<String> {
        variants(self.definition()?)
            .into_iter()
            .find(|variant| variant.picked_by(self.value))
            .map(|variant| variant.label())
    }

    /// The schema of the mapping: the operator's definition, then the property of each key on
    /// the path, through `$ref`s and nullable `anyOf`s.
    fn definition(&self) -> Option<&'static Value> {
        let mut definition = committed_schema().pointer(&format!(
            "/$defs/{}",
            crate::spec::yaml::escape_pointer(self.op)
        ))?;
        for key in self.path {
            let property = properties(definition).find_map(|properties| properties.get(key))?;
            definition = resolve(property)?;
        }
        Some(definition)
    }
}

/// A schema with `$ref`s followed, and of a nullable `anyOf`, the branch that is not `null`.
fn resolve(schema: &'static Value) -> Option<&'static Value> {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return resolve(committed_schema().pointer(reference.strip_prefix('#')?)?);
    }
    if let Some(branches) = schema.get("anyOf").and_then(Value::as_array) {
        let mut objects = branches
            .iter()
            .filter(|branch| branch.get("type").and_then(Value::as_str) != Some("null"));
        return match (objects.next(), objects.next()) {
            (Some(only), None) => resolve(only),
            _ => Some(schema),
        };
    }
    Some(schema)
}

/// Every `properties` of a definition: its own, those of its `if`/`then` variants and those of
/// its `oneOf` branches.
fn properties(definition: &Value) -> impl Iterator<Item = &serde_json::Map<String, Value>> {
    let own = definition.get("properties");
    let then =
        branches(definition, "allOf").filter_map(|branch| branch.pointer("/then/properties"));
    let one_of = branches(definition, "oneOf").filter_map(|branch| branch.get("properties"));
    own.into_iter()
        .chain(then)
        .chain(one_of)
        .filter_map(Value::as_object)
}

/// The branches of a definition's `allOf` or `oneOf`.
fn branches<'a>(definition: &'a Value, keyword: &str) -> impl Iterator<Item = &'a Value> {
    definition
        .get(keyword)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn property_names(definition: &Value) -> Vec<String> {
    definition
        .get("properties")
        .and_then(Value::as_object)
        .map(|properties| properties.keys().cloned().collect())
        .unwrap_or_default()
}

/// One variant of a tagged definition: the tag values that pick it and its keys.
struct Variant {
    tags: Vec<(String, Value)>,
    keys: Vec<String>,
}

impl Variant {
    fn picked_by(&self, value: &Value) -> bool {
        self.tags
            .iter()
            .all(|(tag, wanted)| value.get(tag) == Some(wanted))
    }

    fn label(&self) -> String {
        let tags: Vec<String> = self
            .tags
            .iter()
            .map(|(tag, value)| format!("{tag}: {}", super::load::display_value(value)))
            .collect();
        tags.join(", ")
    }
}

/// The variants of a definition: `allOf` branches `{if: {properties: {tag: {const}}}, then:
/// {properties}}`, and `oneOf` branches whose tag properties have a `const`.
fn variants(definition: &Value) -> Vec<Variant> {
    let consts = |properties: Option<&Value>| -> Vec<(String, Value)> {
        properties
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(tag, test)| Some((tag.clone(), test.get("const")?.clone())))
            .collect()
    };
    let if_then = branches(definition, "allOf").map(|branch| Variant {
        tags: consts(branch.pointer("/if/properties")),
        keys: property_names(branch.get("then").unwrap_or(&Value::Null)),
    });
    let one_of = branches(definition, "oneOf").map(|branch| Variant {
        tags: consts(branch.get("properties")),
        keys: property_names(branch),
    });
    if_then
        .chain(one_of)
        .filter(|v| !v.tags.is_empty())
        .collect()
}

/// The keys allowed at the top of a pipeline file.
pub fn top_level_keys() -> Vec<String> {
    committed_schema()
        .pointer("/properties")
        .and_then(Value::as_object)
        .map(|properties| properties.keys().cloned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_schema_is_current() {
        assert!(
            COMMITTED_SCHEMA == pipeline_schema_text(),
            "schemas/pipeline.schema.json is stale: run `just schema` (engine schema > schemas/pipeline.schema.json)"
        );
    }

    #[test]
    fn a_step_that_picks_a_variant_has_only_that_variants_keys() {
        let step = |value: Value| Place {
            op: "embed",
            path: &[],
            value: Box::leak(Box::new(value)),
        };
        let hash = step(serde_json::json!({ "provider": "hash" })).keys();
        assert!(hash.contains(&"dim".to_owned()), "{hash:?}");
        assert!(!hash.contains(&"model".to_owned()), "{hash:?}");
        let any = step(serde_json::json!({})).keys();
        assert!(any.contains(&"dim".to_owned()) && any.contains(&"model".to_owned()));
        assert_eq!(
            step(Value::Null).variants_with_key("dim"),
            ["provider: hash"]
        );
        let onnx = step(serde_json::json!({ "provider": "onnx" }));
        assert_eq!(onnx.picked_variant().as_deref(), Some("provider: onnx"));
    }

    #[test]
    fn a_mapping_below_a_step_has_the_keys_of_its_definition() {
        let path = ["embedding".to_owned()];
        let embedding = serde_json::json!({ "provider": "hash" });
        let nested = Place {
            op: "chunk.semantic",
            path: &path,
            value: &embedding,
        };
        assert_eq!(nested.keys(), ["provider", "dim"]);
        let path = ["pdf".to_owned()];
        let pdf = Place {
            op: "parse",
            path: &path,
            value: &Value::Null,
        };
        assert!(pdf.keys().contains(&"max_glyphs".to_owned()));
    }

    #[test]
    fn every_operator_has_a_definition_with_the_shared_keys() {
        for info in OPERATORS {
            let keys = Place {
                op: info.name,
                path: &[],
                value: &Value::Null,
            }
            .keys();
            assert!(keys.contains(&"op".to_owned()), "{}", info.name);
            assert_eq!(
                keys.contains(&"input".to_owned()),
                !info.is_source(),
                "{}",
                info.name
            );
        }
    }
}
