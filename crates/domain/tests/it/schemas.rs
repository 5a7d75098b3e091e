//! The JSON Schemas of the event payloads, committed in `schemas/events/`.
//!
//! `<Type>.v<version>.json` holds the schema of each catalogued type at its current
//! version, `index.json` lists them. The golden test fails when the committed files
//! differ from what the catalogue generates; `UPDATE_EXPECT=1` rewrites them and deletes
//! `*.json` files that no longer belong.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::{env, fs};

use kui_domain::event::CATALOGUE;
use kui_domain::Event;
use schemars::schema::{InstanceType, RootSchema, Schema, SchemaObject, SingleOrVec};
use serde_json::{json, Value};

use crate::helpers::samples;

const UPDATE_HINT: &str = "UPDATE_EXPECT=1 cargo test -p kui-domain --test integration schemas";

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas/events")
}

fn current_version(event_type: &str) -> u16 {
    CATALOGUE
        .iter()
        .find(|(name, _)| *name == event_type)
        .map(|(_, version)| *version)
        .unwrap_or_else(|| panic!("json_schemas() names {event_type}, which is not in the catalogue"))
}

fn pretty(value: &impl serde::Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("schemas serialise to JSON");
    text.push('\n');
    text
}

/// File name to contents, as the catalogue generates them.
fn generated() -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut index = Vec::new();
    for (name, schema) in Event::json_schemas() {
        let version = current_version(name);
        files.insert(format!("{name}.v{version}.json"), pretty(&schema));
        index.push(json!({ "type": name, "version": version }));
    }
    files.insert("index.json".to_owned(), pretty(&index));
    files
}

/// File name to contents of the `*.json` files on disk.
fn committed() -> BTreeMap<String, String> {
    let Ok(entries) = fs::read_dir(schema_dir()) else {
        return BTreeMap::new();
    };
    let mut files = BTreeMap::new();
    for entry in entries {
        let path = entry.expect("schema directory is readable").path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        if path.is_file() && name.ends_with(".json") {
            let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            files.insert(name, text);
        }
    }
    files
}

#[test]
fn schemas_on_disk_match_the_catalogue() {
    let generated = generated();
    let committed = committed();
    let dir = schema_dir();
    let shown = dir.canonicalize().unwrap_or_else(|_| dir.clone());

    if env::var("UPDATE_EXPECT").is_ok_and(|v| v == "1") {
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for (name, text) in &generated {
            if committed.get(name) != Some(text) {
                fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
        for name in committed.keys().filter(|name| !generated.contains_key(*name)) {
            fs::remove_file(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        return;
    }

    let mut problems = Vec::new();
    for (name, text) in &generated {
        match committed.get(name) {
            None => problems.push(format!("missing: {name}")),
            Some(on_disk) if on_disk != text => problems.push(format!("stale:   {name}\n{}", diff(on_disk, text))),
            Some(_) => {}
        }
    }
    for name in committed.keys().filter(|name| !generated.contains_key(*name)) {
        problems.push(format!("extra:   {name}"));
    }
    assert!(
        problems.is_empty(),
        "the event schemas in {} do not match the catalogue:\n  {}\nrun `{UPDATE_HINT}` to rewrite them",
        shown.display(),
        problems.join("\n  ")
    );
}

#[test]
fn index_lists_every_catalogued_type_once() {
    let names: Vec<&str> = Event::json_schemas().iter().map(|(name, _)| *name).collect();
    let unique: BTreeSet<&str> = names.iter().copied().collect();
    let catalogue: BTreeSet<&str> = CATALOGUE.iter().map(|(name, _)| *name).collect();
    assert_eq!(unique, catalogue);
    assert_eq!(names.len(), CATALOGUE.len(), "a type has two schemas");
}

fn schema_of(event_type: &str) -> RootSchema {
    Event::json_schemas()
        .into_iter()
        .find(|(name, _)| *name == event_type)
        .map(|(_, schema)| schema)
        .unwrap_or_else(|| panic!("no schema for {event_type}"))
}

#[test]
fn every_payload_key_is_a_schema_property_and_every_required_one_is_present() {
    for event in samples() {
        let schema = schema_of(event.event_type());
        let object = schema
            .schema
            .object
            .as_ref()
            .unwrap_or_else(|| panic!("the {} schema does not describe an object", event.event_type()));
        let Value::Object(payload) = event.to_json() else {
            panic!("the {} payload is not a JSON object", event.event_type());
        };
        for key in payload.keys() {
            assert!(
                object.properties.contains_key(key),
                "{}: payload key {key:?} is not in the schema's properties",
                event.event_type()
            );
        }
        for key in &object.required {
            assert!(
                payload.contains_key(key),
                "{}: required property {key:?} is missing from the payload",
                event.event_type()
            );
        }
    }
}

/// Whether `value` has a JSON type the schema allows, recursively through `$ref`,
/// `anyOf`/`allOf`/`oneOf`, object properties and array items. Not a validator: formats,
/// patterns and bounds are not checked.
fn shape_fits(schema: &Schema, value: &Value, root: &RootSchema, path: &str) -> Result<(), String> {
    let object = match schema {
        Schema::Bool(true) => return Ok(()),
        Schema::Bool(false) => return Err(format!("{path}: the schema allows nothing")),
        Schema::Object(object) => object,
    };
    if let Some(reference) = &object.reference {
        let name = reference.trim_start_matches("#/definitions/");
        let target = root
            .definitions
            .get(name)
            .ok_or_else(|| format!("{path}: dangling {reference}"))?;
        return shape_fits(target, value, root, path);
    }
    if let Some(types) = &object.instance_type {
        let allowed: Vec<InstanceType> = match types {
            SingleOrVec::Single(one) => vec![**one],
            SingleOrVec::Vec(many) => many.clone(),
        };
        if !allowed.iter().any(|t| type_fits(*t, value)) {
            return Err(format!("{path}: {value} is not of type {allowed:?}"));
        }
    }
    if let Some(values) = &object.enum_values {
        if !values.contains(value) {
            return Err(format!("{path}: {value} is not one of {values:?}"));
        }
    }
    if let Some(sub) = &object.subschemas {
        if let Some(all) = &sub.all_of {
            for s in all {
                shape_fits(s, value, root, path)?;
            }
        }
        for any in [&sub.any_of, &sub.one_of].into_iter().flatten() {
            if !any.iter().any(|s| shape_fits(s, value, root, path).is_ok()) {
                return Err(format!("{path}: {value} fits none of the alternatives"));
            }
        }
    }
    inner_fits(object, value, root, path)
}

fn inner_fits(object: &SchemaObject, value: &Value, root: &RootSchema, path: &str) -> Result<(), String> {
    match value {
        Value::Object(map) => {
            if let Some(validation) = &object.object {
                for (key, item) in map {
                    if let Some(property) = validation.properties.get(key) {
                        shape_fits(property, item, root, &format!("{path}.{key}"))?;
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(SingleOrVec::Single(item_schema)) = object.array.as_ref().and_then(|a| a.items.as_ref()) {
                for (idx, item) in items.iter().enumerate() {
                    shape_fits(item_schema, item, root, &format!("{path}[{idx}]"))?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn type_fits(instance_type: InstanceType, value: &Value) -> bool {
    match instance_type {
        InstanceType::Null => value.is_null(),
        InstanceType::Boolean => value.is_boolean(),
        InstanceType::Object => value.is_object(),
        InstanceType::Array => value.is_array(),
        InstanceType::Number => value.is_number(),
        InstanceType::String => value.is_string(),
        InstanceType::Integer => value.is_i64() || value.is_u64(),
    }
}

#[test]
fn every_payload_has_the_json_types_its_schema_describes() {
    let mut misfits = Vec::new();
    for event in samples() {
        let root = schema_of(event.event_type());
        let schema = Schema::Object(root.schema.clone());
        if let Err(misfit) = shape_fits(&schema, &event.to_json(), &root, event.event_type()) {
            misfits.push(misfit);
        }
    }
    assert!(
        misfits.is_empty(),
        "payloads that contradict their schema:\n  {}",
        misfits.join("\n  ")
    );
}

/// The first lines of a unified diff from the committed text to the generated one.
fn diff(committed: &str, generated: &str) -> String {
    let diff = similar::TextDiff::from_lines(committed, generated)
        .unified_diff()
        .context_radius(2)
        .header("committed", "generated")
        .to_string();
    diff.lines().take(60).collect::<Vec<_>>().join("\n")
}
