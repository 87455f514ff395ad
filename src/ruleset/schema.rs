//! The keys of a rule file, as data: the parser checks against them, and the JSON Schema that
//! editors use (`tagtrail rules schema`, committed as `rules/schema.json`) is generated from
//! them, so the two cannot drift apart.

use serde_json::{json, Map, Value};

/// What a key holds.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    String,
    Bool,
    Strings,
    /// A table of strings to strings (`types`, `vars`, `when`).
    StringMap,
    /// An array of tables, each with these fields.
    Tables(&'static [Field]),
}

/// One key of a table.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub key: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub doc: &'static str,
}

const fn field(key: &'static str, kind: Kind, required: bool, doc: &'static str) -> Field {
    Field {
        key,
        kind,
        required,
        doc,
    }
}

pub const TEST: &[Field] = &[
    field(
        "name",
        Kind::String,
        false,
        "What the case shows, and where the record comes from.",
    ),
    field(
        "event",
        Kind::String,
        true,
        "The CloudTrail record, as JSON text (trimmed to the fields that matter).",
    ),
    field(
        "expect",
        Kind::Strings,
        true,
        "The ARNs the rule must find, exactly; empty when it must find nothing.",
    ),
    field(
        "inventory",
        Kind::Strings,
        false,
        "ARNs an inventory knows, for cases that complete names.",
    ),
];

pub const EXTRACT: &[Field] = &[
    field(
        "path",
        Kind::String,
        true,
        "Where the values are: requestParameters.instancesSet.items[*].instanceId.",
    ),
    field(
        "arn",
        Kind::String,
        false,
        "ARN template: {partition} {region} {account} {value} {type}, regex groups, vars. Required unless arn_of or named.",
    ),
    field(
        "arn_of",
        Kind::String,
        false,
        "Instead of arn: the value is a whole ARN of this service (ecs, rds), used as is.",
    ),
    field(
        "named",
        Kind::String,
        false,
        "Instead of arn: the members of the object at path named as the one variable of an ARN format of this service (natGatewayId for natgateway/${NatGatewayId}) build that format's ARN.",
    ),
    field(
        "regex",
        Kind::String,
        false,
        "Applied to the value; no match, no ARN; named groups become variables.",
    ),
    field(
        "vars",
        Kind::StringMap,
        false,
        "More template variables, each the first value at a path.",
    ),
    field(
        "when",
        Kind::StringMap,
        false,
        "Conditions: the first value at each path must equal the string.",
    ),
    field(
        "unless",
        Kind::Strings,
        false,
        "Conditions: none of these paths may hold a value.",
    ),
    field(
        "strip_prefix",
        Kind::String,
        false,
        "Removed from the value first (SSM's leading /).",
    ),
    field(
        "types",
        Kind::StringMap,
        false,
        "Id prefix to resource type for {type}: { \"i-\" = \"instance\" }.",
    ),
    field(
        "accept_arn",
        Kind::Bool,
        false,
        "A value that already is an ARN is used as is (default true).",
    ),
    field(
        "complete",
        Kind::String,
        false,
        "Complete against the inventory: random-suffix, path, id-suffix or any-id (the template's `*` is an id no record names).",
    ),
];

pub const RULE: &[Field] = &[
    field(
        "id",
        Kind::String,
        true,
        "Kebab-case id, unique in the pack; reported as via rule:<id>.",
    ),
    field(
        "source",
        Kind::String,
        false,
        "eventSource (default: the file's).",
    ),
    field(
        "events",
        Kind::Strings,
        true,
        "eventNames, or [\"*\"] for every other call of the source.",
    ),
    field("description", Kind::String, false, "What the rule covers."),
    field(
        "no_resource",
        Kind::Bool,
        false,
        "The calls target no single resource: resolving to nothing is right.",
    ),
    field(
        "generated",
        Kind::Bool,
        false,
        "Written by scripts/generate_rules.py: never overrides a hand-written rule.",
    ),
    field(
        "learned",
        Kind::Bool,
        false,
        "Written by `tagtrail rules learn` from a team's own trail and inventory: ranks as a generated rule.",
    ),
    field(
        "confidence",
        Kind::String,
        false,
        "\"low\": no real record confirms the rule yet; `--exclude-low-confidence` leaves it out.",
    ),
    field(
        "extract",
        Kind::Tables(EXTRACT),
        false,
        "How to get ARNs out of the record.",
    ),
    field(
        "test",
        Kind::Tables(TEST),
        true,
        "Cases from real records, compared exactly.",
    ),
];

pub const FILE: &[Field] = &[
    field(
        "source",
        Kind::String,
        false,
        "Default eventSource of the file's rules, e.g. ec2.amazonaws.com.",
    ),
    field("rule", Kind::Tables(RULE), true, "The rules."),
];

/// The key names of a table.
pub fn keys(fields: &[Field]) -> Vec<&'static str> {
    fields.iter().map(|f| f.key).collect()
}

fn object(fields: &[Field]) -> Value {
    let mut properties = Map::new();
    for f in fields {
        let mut schema = match f.kind {
            Kind::String => json!({"type": "string"}),
            Kind::Bool => json!({"type": "boolean"}),
            Kind::Strings => json!({"type": "array", "items": {"type": "string"}}),
            Kind::StringMap => {
                json!({"type": "object", "additionalProperties": {"type": "string"}})
            }
            Kind::Tables(inner) => json!({"type": "array", "items": object(inner)}),
        };
        schema["description"] = json!(f.doc);
        properties.insert(f.key.to_string(), schema);
    }
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.key)
        .collect();
    json!({"type": "object", "additionalProperties": false, "properties": properties, "required": required})
}

/// The JSON Schema of a rule file.
pub fn json_schema() -> Value {
    let mut schema = object(FILE);
    schema["$schema"] = json!("http://json-schema.org/draft-07/schema#");
    schema["title"] = json!("tagtrail rule file");
    schema
}
