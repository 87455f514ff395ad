//! The inventory backend that asks AWS: resources and their tags from the Resource Groups
//! Tagging API (`GetResources`, per region), principals and their tags from IAM
//! (`GetAccountAuthorizationDetails`; `ListUsers`/`ListRoles` with `List*Tags` where that is
//! denied). It produces the same AWS CLI-shaped documents that `files` reads, so a fetched
//! inventory can be written out and a scan repeated on exactly the same data.

use aws_config::{Region, SdkConfig};
use aws_sdk_iam::types::EntityType;
use serde_json::{json, Value};

use crate::aws::describe;
use crate::pipeline::Problem;

/// What a fetch produced: named CLI-shaped documents, and what could not be fetched.
#[derive(Debug, Default)]
pub struct Fetched {
    pub documents: Vec<(String, Value)>,
    pub problems: Vec<Problem>,
    pub resources: usize,
    pub users: usize,
    pub roles: usize,
}

/// Fetches the inventory of the account the credentials belong to.
pub async fn fetch(config: &SdkConfig, regions: &[String], tag_key: Option<&str>) -> Fetched {
    let mut out = Fetched::default();
    for region in regions {
        let client = aws_sdk_resourcegroupstagging::Client::from_conf(
            aws_sdk_resourcegroupstagging::config::Builder::from(config)
                .region(Region::new(region.clone()))
                .build(),
        );
        match tagged_resources(&client, tag_key).await {
            Ok(list) => {
                out.resources += list.len();
                out.documents.push((
                    format!("resources-{region}.json"),
                    json!({"ResourceTagMappingList": list, "PaginationToken": ""}),
                ));
            }
            Err(reason) => out.problems.push(Problem {
                source: format!("tagging:GetResources {region}"),
                reason,
            }),
        }
    }
    let iam = aws_sdk_iam::Client::new(config);
    let principals = match authorization_details(&iam).await {
        Ok(p) => Ok(p),
        Err(denied) => {
            tracing::warn!(
                "GetAccountAuthorizationDetails failed ({denied}); listing users and roles instead"
            );
            listed_principals(&iam).await
        }
    };
    match principals {
        Ok((users, roles)) => {
            out.users = users.len();
            out.roles = roles.len();
            out.documents.push((
                "account-authorization-details.json".into(),
                json!({"UserDetailList": users, "RoleDetailList": roles, "GroupDetailList": [], "Policies": []}),
            ));
        }
        Err(reason) => out.problems.push(Problem {
            source: "iam".into(),
            reason,
        }),
    }
    out
}

fn tags_json<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
    Value::Array(
        tags.into_iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect(),
    )
}

async fn tagged_resources(
    client: &aws_sdk_resourcegroupstagging::Client,
    tag_key: Option<&str>,
) -> Result<Vec<Value>, String> {
    let mut request = client.get_resources().resources_per_page(100);
    if let Some(key) = tag_key {
        request = request.tag_filters(
            aws_sdk_resourcegroupstagging::types::TagFilter::builder()
                .key(key)
                .build(),
        );
    }
    let mut pages = request.into_paginator().send();
    let mut list = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| describe(&e))?;
        for mapping in page.resource_tag_mapping_list() {
            let Some(arn) = mapping.resource_arn() else {
                continue;
            };
            list.push(json!({
                "ResourceARN": arn,
                "Tags": tags_json(mapping.tags().iter().map(|t| (t.key(), t.value()))),
            }));
        }
    }
    Ok(list)
}

type Principals = (Vec<Value>, Vec<Value>);

/// A user or role entry as `get-account-authorization-details` prints it (`name_key` is
/// `UserName` or `RoleName`).
fn principal_entry<'a>(
    name_key: &str,
    name: Option<&str>,
    path: Option<&str>,
    arn: Option<&str>,
    tags: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Value {
    json!({name_key: name, "Path": path, "Arn": arn, "Tags": tags_json(tags)})
}

async fn authorization_details(iam: &aws_sdk_iam::Client) -> Result<Principals, String> {
    let mut pages = iam
        .get_account_authorization_details()
        .filter(EntityType::User)
        .filter(EntityType::Role)
        .into_paginator()
        .send();
    let (mut users, mut roles) = (Vec::new(), Vec::new());
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| describe(&e))?;
        for u in page.user_detail_list() {
            let tags = u.tags().iter().map(|t| (t.key(), t.value()));
            users.push(principal_entry(
                "UserName",
                u.user_name(),
                u.path(),
                u.arn(),
                tags,
            ));
        }
        for r in page.role_detail_list() {
            let tags = r.tags().iter().map(|t| (t.key(), t.value()));
            roles.push(principal_entry(
                "RoleName",
                r.role_name(),
                r.path(),
                r.arn(),
                tags,
            ));
        }
    }
    Ok((users, roles))
}

async fn listed_principals(iam: &aws_sdk_iam::Client) -> Result<Principals, String> {
    let (mut users, mut roles) = (Vec::new(), Vec::new());
    let mut pages = iam.list_users().into_paginator().send();
    while let Some(page) = pages.next().await {
        for u in page.map_err(|e| describe(&e))?.users() {
            let tags = iam
                .list_user_tags()
                .user_name(u.user_name())
                .send()
                .await
                .map_err(|e| describe(&e))?;
            let tags = tags.tags().iter().map(|t| (t.key(), t.value()));
            users.push(principal_entry(
                "UserName",
                Some(u.user_name()),
                Some(u.path()),
                Some(u.arn()),
                tags,
            ));
        }
    }
    let mut pages = iam.list_roles().into_paginator().send();
    while let Some(page) = pages.next().await {
        for r in page.map_err(|e| describe(&e))?.roles() {
            let tags = iam
                .list_role_tags()
                .role_name(r.role_name())
                .send()
                .await
                .map_err(|e| describe(&e))?;
            let tags = tags.tags().iter().map(|t| (t.key(), t.value()));
            roles.push(principal_entry(
                "RoleName",
                Some(r.role_name()),
                Some(r.path()),
                Some(r.arn()),
                tags,
            ));
        }
    }
    Ok((users, roles))
}
