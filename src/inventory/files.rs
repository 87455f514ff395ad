//! The inventory backend that reads AWS CLI JSON output from a folder:
//! `aws resourcegroupstaggingapi get-resources` (any number of pages or files),
//! `aws iam get-account-authorization-details`, and `aws iam list-users` / `list-roles`
//! where they carry `Tags`. Files may be gzipped. A JSON file of any other shape is an error:
//! an inventory silently missing half its entries would turn into false findings.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::{snapshot_time, Inventory, InventoryError, Snapshots, TagKey};

#[derive(Deserialize)]
struct Tag<'a> {
    #[serde(rename = "Key", borrow)]
    key: Cow<'a, str>,
    #[serde(rename = "Value", default, borrow)]
    value: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Tagged<'a> {
    #[serde(rename = "ResourceARN", alias = "Arn", borrow)]
    arn: Cow<'a, str>,
    #[serde(rename = "Tags", default, borrow)]
    tags: Vec<Tag<'a>>,
}

/// An AWS Config configuration item as `inventory fetch --from config` writes it. Items of a
/// deleted resource carry no tags and change nothing.
#[derive(Deserialize)]
struct ConfigItem<'a> {
    #[serde(rename = "ResourceARN", borrow)]
    arn: Cow<'a, str>,
    #[serde(rename = "CapturedAt", borrow)]
    captured_at: Cow<'a, str>,
    #[serde(rename = "Status", default, borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(rename = "Tags", default, borrow)]
    tags: Vec<Tag<'a>>,
}

impl ConfigItem<'_> {
    fn captured_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        if self
            .status
            .as_deref()
            .is_some_and(|s| s.starts_with("ResourceDeleted"))
        {
            return None;
        }
        chrono::DateTime::parse_from_rfc3339(&self.captured_at)
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc))
    }
}

/// An entry of `aws kms list-aliases`: an alias and the key it points to.
#[derive(Deserialize)]
struct Alias<'a> {
    #[serde(rename = "AliasArn", borrow)]
    alias_arn: Cow<'a, str>,
    #[serde(rename = "TargetKeyId", default, borrow)]
    target_key_id: Option<Cow<'a, str>>,
}

impl Alias<'_> {
    /// The ARN of the key the alias points to (an AWS managed alias not yet used has none).
    fn key_arn(&self) -> Option<String> {
        let target = self.target_key_id.as_deref().filter(|t| !t.is_empty())?;
        if target.starts_with("arn:") {
            return Some(target.to_string());
        }
        let (prefix, _) = self.alias_arn.split_once(":alias/")?;
        Some(format!("{prefix}:key/{target}"))
    }
}

/// The lists an inventory document may hold; each entry has an ARN and tags.
const LISTS: &[&str] = &[
    "ResourceTagMappingList",
    "UserDetailList",
    "RoleDetailList",
    "GroupDetailList",
    "Users",
    "Roles",
];

/// The key of the manifest `tagtrail inventory fetch` writes beside the documents.
const MANIFEST: &str = "tagtrail_inventory_fetch";

/// Reads a document entry by entry into the inventory, never holding the parsed lists: an
/// inventory of a million resources costs what the inventory keeps, not the document's size.
struct DocumentSeed<'i> {
    inventory: &'i mut Inventory,
}

/// What the document turned out to be.
#[derive(Default)]
struct Shape {
    lists: usize,
    manifest: bool,
}

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_> {
    type Value = Shape;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Shape, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_> {
    type Value = Shape;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an AWS CLI JSON document")
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Shape, M::Error> {
        let mut shape = Shape::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == "ConfigurationItems" {
                for item in map.next_value::<Vec<ConfigItem>>()? {
                    if let Some(time) = item.captured_at() {
                        let tags = item.tags.iter().map(|t| (t.key.as_ref(), t.value.as_ref()));
                        self.inventory.insert_recorded(&item.arn, time, tags);
                    }
                }
                shape.lists += 1;
            } else if key == "Aliases" {
                for alias in map.next_value::<Vec<Alias>>()? {
                    if let Some(target) = alias.key_arn() {
                        self.inventory.insert_alias(&alias.alias_arn, &target);
                    }
                }
                shape.lists += 1;
            } else if LISTS.contains(&key.as_ref()) {
                map.next_value_seed(ListSeed {
                    inventory: &mut *self.inventory,
                })?;
                shape.lists += 1;
            } else {
                shape.manifest |= key == MANIFEST;
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(shape)
    }
}

struct ListSeed<'i> {
    inventory: &'i mut Inventory,
}

impl<'de> DeserializeSeed<'de> for ListSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ListSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of entries with ARN and Tags")
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        while let Some(entry) = seq.next_element::<Tagged<'de>>()? {
            self.inventory.insert(
                &entry.arn,
                entry
                    .tags
                    .iter()
                    .map(|t| (t.key.as_ref(), t.value.as_ref())),
            );
        }
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// What one inventory document may be once decompressed. Not the trail inputs' cap: an
/// inventory is held whole anyway (a million resources are ~180 MB of JSON); this only stops a
/// file that inflates without end.
const MAX_DOCUMENT_BYTES: usize = 4 << 30;

/// Reads every `*.json` / `*.json.gz` file under `dir` (sorted) into `inventory`.
pub fn load_dir(dir: &Path, inventory: &mut Inventory) -> Result<(), InventoryError> {
    let io = |path: &Path, source| InventoryError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| io(dir, e.into()))?;
        let name = entry.file_name().to_string_lossy();
        if entry.file_type().is_file() && (name.ends_with(".json") || name.ends_with(".json.gz")) {
            files.push(entry.into_path());
        }
    }
    if files.is_empty() {
        return Err(InventoryError::Format {
            path: dir.display().to_string(),
            message: "no *.json inventory files here (expected AWS CLI output of \
                      `aws resourcegroupstaggingapi get-resources` or `aws iam get-account-authorization-details`)"
                .into(),
        });
    }
    for path in files {
        let input =
            crate::source::read_file(&path, MAX_DOCUMENT_BYTES).map_err(|err| match err {
                crate::source::SourceError::Io { path, source } => {
                    InventoryError::Io { path, source }
                }
            })?;
        if let Some(damage) = input.damage {
            return Err(InventoryError::Format {
                path: input.name,
                message: damage,
            });
        }
        load_document(&input.bytes, &input.name, inventory)?;
    }
    Ok(())
}

/// Reads an inventory folder: dated snapshots when its subfolders are named by the time they
/// were taken (`2026-11-01/`, `2026-11-30T180000Z/`, as `inventory fetch --dated` writes
/// them), else one current inventory.
pub fn load_snapshots(dir: &Path, tag_key: &TagKey) -> Result<Snapshots, InventoryError> {
    let io = |path: &Path, source| InventoryError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut dated = Vec::new();
    let mut other = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let entry = entry.map_err(|e| io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        match snapshot_time(&name) {
            Some(taken) if entry.path().is_dir() => dated.push((taken, entry.path())),
            _ => other.push(name),
        }
    }
    if dated.is_empty() {
        let mut inventory = Inventory::new(tag_key.clone());
        load_dir(dir, &mut inventory)?;
        return Ok(Snapshots::current(inventory));
    }
    if let Some(stray) = other
        .iter()
        .find(|n| n.ends_with(".json") || n.ends_with(".json.gz"))
    {
        return Err(InventoryError::Format {
            path: dir.join(stray).display().to_string(),
            message: "an inventory file beside dated snapshot folders: move it into one".into(),
        });
    }
    let mut snapshots = Vec::new();
    for (taken, path) in dated {
        let mut inventory = Inventory::new(tag_key.clone());
        load_dir(&path, &mut inventory)?;
        snapshots.push((taken, inventory));
    }
    Ok(Snapshots::dated(snapshots).expect("at least one snapshot"))
}

/// Reads one AWS CLI JSON document into `inventory`.
pub fn load_document(
    bytes: &[u8],
    name: &str,
    inventory: &mut Inventory,
) -> Result<(), InventoryError> {
    let format = |message: String| InventoryError::Format {
        path: name.to_string(),
        message,
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let shape = DocumentSeed {
        inventory: &mut *inventory,
    }
    .deserialize(&mut de)
    .and_then(|shape| de.end().map(|()| shape))
    .map_err(|e| format(format!("not an inventory file: {e}")))?;
    if shape.manifest {
        return Ok(());
    }
    if shape.lists == 0 {
        return Err(format(
            "not an inventory file: expected ResourceTagMappingList, UserDetailList, RoleDetailList, Users, Roles, Aliases or ConfigurationItems".into(),
        ));
    }
    inventory.sources.push(name.to_string());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{Product, TagKey};

    /// The trail inputs' cap (`--max-file-mib`) once refused inventory files too: a 145 MB
    /// `get-resources` document that loaded before no longer did.
    #[test]
    fn an_inventory_document_larger_than_the_trail_cap_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let pad = "x".repeat(crate::source::DEFAULT_MAX_FILE_BYTES + 1);
        let document = format!(
            r#"{{"ResourceTagMappingList": [{{"ResourceARN": "arn:aws:s3:::b", "Tags": [{{"Key": "product", "Value": "aaa"}}, {{"Key": "pad", "Value": "{pad}"}}]}}]}}"#
        );
        std::fs::write(dir.path().join("resources.json"), document).unwrap();
        let mut inv = Inventory::new(TagKey {
            key: "product".into(),
            case_insensitive: false,
        });
        load_dir(dir.path(), &mut inv).unwrap();
        assert_eq!(inv.product("arn:aws:s3:::b"), Product::Tagged("aaa"));
    }

    #[test]
    fn reads_tagging_and_iam_shapes() {
        let mut inv = Inventory::new(TagKey {
            key: "product".into(),
            case_insensitive: false,
        });
        let tagging = br#"{"ResourceTagMappingList":[{"ResourceARN":"arn:aws:ec2:us-east-1:1:instance/i-1","Tags":[{"Key":"product","Value":"aaa"}]}],"PaginationToken":""}"#;
        let iam = br#"{"UserDetailList":[{"UserName":"a","Arn":"arn:aws:iam::1:user/dev/a","Tags":[{"Key":"product","Value":"bbb"}]}],
                      "RoleDetailList":[{"RoleName":"r","Arn":"arn:aws:iam::1:role/r"}],"GroupDetailList":[],"Policies":[]}"#;
        load_document(tagging, "t.json", &mut inv).unwrap();
        load_document(iam, "i.json", &mut inv).unwrap();
        assert_eq!(
            inv.product("arn:aws:ec2:us-east-1:1:instance/i-1"),
            Product::Tagged("aaa")
        );
        assert_eq!(
            inv.product("arn:aws:iam::1:user/dev/a"),
            Product::Tagged("bbb")
        );
        assert_eq!(inv.product("arn:aws:iam::1:role/r"), Product::Untagged);
        let err = load_document(br#"{"Foo":[]}"#, "x.json", &mut inv).unwrap_err();
        assert!(
            err.to_string().starts_with("x.json: not an inventory file"),
            "{err}"
        );
    }
}
