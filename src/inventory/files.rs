//! The inventory backend that reads AWS CLI JSON output from a folder:
//! `aws resourcegroupstaggingapi get-resources` (any number of pages or files),
//! `aws iam get-account-authorization-details`, and `aws iam list-users` / `list-roles`
//! where they carry `Tags`. Files may be gzipped. A JSON file of any other shape is an error:
//! an inventory silently missing half its entries would turn into false findings.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{Inventory, InventoryError};

#[derive(Deserialize)]
struct Tag {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "Value", default)]
    value: String,
}

#[derive(Deserialize)]
struct Tagged {
    #[serde(rename = "ResourceARN", alias = "Arn")]
    arn: String,
    #[serde(rename = "Tags", default)]
    tags: Vec<Tag>,
}

/// The shapes we read; every list is optional, at least one must be present.
#[derive(Deserialize)]
struct Document {
    #[serde(rename = "ResourceTagMappingList")]
    resources: Option<Vec<Tagged>>,
    #[serde(rename = "UserDetailList")]
    user_details: Option<Vec<Tagged>>,
    #[serde(rename = "RoleDetailList")]
    role_details: Option<Vec<Tagged>>,
    #[serde(rename = "GroupDetailList")]
    group_details: Option<Vec<Tagged>>,
    #[serde(rename = "Users")]
    users: Option<Vec<Tagged>>,
    #[serde(rename = "Roles")]
    roles: Option<Vec<Tagged>>,
    /// The manifest `tagtrail inventory fetch` writes beside the documents.
    tagtrail_inventory_fetch: Option<serde::de::IgnoredAny>,
}

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
        let raw = std::fs::read(&path).map_err(|e| io(&path, e))?;
        let input = crate::source::input_from_bytes(path.display().to_string(), raw);
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
    let doc: Document =
        serde_json::from_slice(bytes).map_err(|e| format(format!("not an inventory file: {e}")))?;
    if doc.tagtrail_inventory_fetch.is_some() {
        return Ok(());
    }
    let lists = [
        doc.resources,
        doc.user_details,
        doc.role_details,
        doc.group_details,
        doc.users,
        doc.roles,
    ];
    if lists.iter().all(Option::is_none) {
        return Err(format(
            "not an inventory file: expected ResourceTagMappingList, UserDetailList, RoleDetailList, Users or Roles".into(),
        ));
    }
    for entry in lists.into_iter().flatten().flatten() {
        inventory.insert(
            &entry.arn,
            entry
                .tags
                .iter()
                .map(|t| (t.key.as_str(), t.value.as_str())),
        );
    }
    inventory.sources.push(name.to_string());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{Product, TagKey};

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
