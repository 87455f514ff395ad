//! The inventory backend that asks AWS: resources and their tags from the Resource Groups
//! Tagging API (`GetResources`, per region), principals and their tags from IAM
//! (`GetAccountAuthorizationDetails`; `ListUsers`/`ListRoles` with `List*Tags` where that is
//! denied), KMS aliases (`ListAliases`: a key used by alias is judged by the key's tags), and,
//! on request, AWS Config's record of each resource's tags over time ([`fetch_config`]). It
//! produces the same AWS CLI-shaped documents that `files` reads, so a fetched inventory can
//! be written out and a scan repeated on exactly the same data.

use aws_config::{Region, SdkConfig};
use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::types::{EntityType, Tag};
use serde_json::{json, Value};
use thiserror::Error;
use tracing::Instrument;

use crate::aws::describe;
use crate::tally::Problem;

/// A call of the live inventory that failed.
#[derive(Debug, Error)]
#[error("{call}: {detail}")]
pub struct FetchError {
    /// The API call, e.g. `iam:ListUserTags user/alice`.
    pub call: String,
    pub detail: String,
    /// The service's error code (`AccessDenied`, `NoSuchEntity`...), when it sent one.
    pub code: Option<String>,
}

impl FetchError {
    fn of<E, R>(call: impl Into<String>, err: &aws_sdk_iam::error::SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        FetchError {
            call: call.into(),
            detail: describe(err),
            code: err
                .as_service_error()
                .and_then(|e| e.code())
                .map(str::to_string),
        }
    }

    fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    fn problem(self) -> Problem {
        Problem {
            source: self.call,
            reason: self.detail,
        }
    }
}

/// What a fetch produced: named CLI-shaped documents, and what could not be fetched.
#[derive(Debug, Default)]
pub struct Fetched {
    pub documents: Vec<(String, Value)>,
    pub problems: Vec<Problem>,
    pub resources: usize,
    pub users: usize,
    pub roles: usize,
    pub aliases: usize,
    /// AWS Config configuration items (with `fetch_config`).
    pub config_items: usize,
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
        let span = tracing::info_span!(
            "inventory",
            region = region.as_str(),
            "indicatif.pb_show" = tracing::field::Empty
        );
        match tagged_resources(&client, tag_key).instrument(span).await {
            Ok(list) => {
                out.resources += list.len();
                out.documents.push((
                    format!("resources-{region}.json"),
                    json!({"ResourceTagMappingList": list, "PaginationToken": ""}),
                ));
            }
            Err(err) => out.problems.push(err.problem()),
        }
        let kms = aws_sdk_kms::Client::from_conf(
            aws_sdk_kms::config::Builder::from(config)
                .region(Region::new(region.clone()))
                .build(),
        );
        match aliases(&kms, region).await {
            Ok(list) => {
                out.aliases += list.len();
                out.documents
                    .push((format!("aliases-{region}.json"), json!({"Aliases": list})));
            }
            Err(err) => out.problems.push(err.problem()),
        }
    }
    let iam = aws_sdk_iam::Client::new(config);
    let span = tracing::info_span!("iam", "indicatif.pb_show" = tracing::field::Empty);
    // Only a refusal makes the slower listing worth trying; any other failure is reported.
    let principals = async {
        match authorization_details(&iam).await {
            Err(err) if err.is("AccessDenied") => {
                tracing::warn!("{err}; listing users and roles instead");
                listed_principals(&iam, &mut out.problems).await
            }
            other => other,
        }
    }
    .instrument(span)
    .await;
    match principals {
        Ok((users, roles)) => {
            out.users = users.len();
            out.roles = roles.len();
            out.documents.push((
                "account-authorization-details.json".into(),
                json!({"UserDetailList": users, "RoleDetailList": roles, "GroupDetailList": [], "Policies": []}),
            ));
        }
        Err(err) => out.problems.push(err.problem()),
    }
    out
}

/// A region's KMS aliases as `aws kms list-aliases` prints them.
async fn aliases(client: &aws_sdk_kms::Client, region: &str) -> Result<Vec<Value>, FetchError> {
    let mut pages = client.list_aliases().into_paginator().send();
    let mut list = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| FetchError::of(format!("kms:ListAliases {region}"), &e))?;
        for alias in page.aliases() {
            list.push(json!({
                "AliasName": alias.alias_name(),
                "AliasArn": alias.alias_arn(),
                "TargetKeyId": alias.target_key_id(),
            }));
        }
    }
    Ok(list)
}

/// Resource types listed one by one when AWS Config's advanced query finds nothing (it needs
/// a recorder of all types, and some endpoints do not serve it): the taggable types tagtrail's
/// rules resolve most.
const CONFIG_TYPES: &[&str] = &[
    "AWS::S3::Bucket",
    "AWS::IAM::Role",
    "AWS::IAM::User",
    "AWS::IAM::Policy",
    "AWS::SNS::Topic",
    "AWS::SQS::Queue",
    "AWS::Lambda::Function",
    "AWS::DynamoDB::Table",
    "AWS::EC2::Instance",
    "AWS::EC2::Volume",
    "AWS::EC2::SecurityGroup",
    "AWS::KMS::Key",
    "AWS::SecretsManager::Secret",
    "AWS::RDS::DBInstance",
    "AWS::ECR::Repository",
    "AWS::Logs::LogGroup",
];

/// Fetches AWS Config's record of each resource's tags over time: the resources Config knows
/// (`SelectResourceConfig`, deleted ones included; `ListDiscoveredResources` per type where the
/// query finds nothing), then each one's `GetResourceConfigHistory`. One document per region,
/// `{"ConfigurationItems": [{ResourceARN, ResourceType, ResourceId, CapturedAt, Status, Tags}]}`.
pub async fn fetch_config(config: &SdkConfig, regions: &[String]) -> Fetched {
    let mut out = Fetched::default();
    for region in regions {
        let client = aws_sdk_config::Client::from_conf(
            aws_sdk_config::config::Builder::from(config)
                .region(Region::new(region.clone()))
                .build(),
        );
        let span = tracing::info_span!("config", region = region.as_str());
        let items = async {
            let resources = match selected_resources(&client, region).await {
                Ok(found) if !found.is_empty() => found,
                Ok(_) => discovered_resources(&client, region, &mut out.problems).await,
                Err(err) => {
                    tracing::warn!("{err}; listing resources type by type instead");
                    discovered_resources(&client, region, &mut out.problems).await
                }
            };
            out.resources += resources.len();
            let mut items = Vec::new();
            for (kind, id) in resources {
                match config_history(&client, region, &kind, &id).await {
                    Ok(found) => items.extend(found),
                    Err(err) => out.problems.push(err.problem()),
                }
            }
            items
        }
        .instrument(span)
        .await;
        out.config_items += items.len();
        out.documents.push((
            format!("config-{region}.json"),
            json!({"ConfigurationItems": items}),
        ));
    }
    out
}

/// (resource type, resource id) of every resource Config's advanced query knows.
async fn selected_resources(
    client: &aws_sdk_config::Client,
    region: &str,
) -> Result<Vec<(String, String)>, FetchError> {
    let mut pages = client
        .select_resource_config()
        .expression("SELECT resourceType, resourceId")
        .into_paginator()
        .send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| FetchError::of(format!("config:SelectResourceConfig {region}"), &e))?;
        for row in page.results() {
            let row: Value = serde_json::from_str(row).unwrap_or_default();
            if let (Some(kind), Some(id)) =
                (row["resourceType"].as_str(), row["resourceId"].as_str())
            {
                found.push((kind.to_string(), id.to_string()));
            }
        }
    }
    Ok(found)
}

/// (resource type, resource id) of the resources of [`CONFIG_TYPES`], deleted ones included.
async fn discovered_resources(
    client: &aws_sdk_config::Client,
    region: &str,
    problems: &mut Vec<Problem>,
) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for kind in CONFIG_TYPES {
        let mut pages = client
            .list_discovered_resources()
            .resource_type(aws_sdk_config::types::ResourceType::from(*kind))
            .include_deleted_resources(true)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => found.extend(
                    page.resource_identifiers()
                        .iter()
                        .filter_map(|r| Some((kind.to_string(), r.resource_id()?.to_string()))),
                ),
                Err(e) => {
                    problems.push(
                        FetchError::of(
                            format!("config:ListDiscoveredResources {kind} {region}"),
                            &e,
                        )
                        .problem(),
                    );
                    break;
                }
            }
        }
    }
    found
}

/// Every configuration item Config recorded for one resource, oldest first.
async fn config_history(
    client: &aws_sdk_config::Client,
    region: &str,
    kind: &str,
    id: &str,
) -> Result<Vec<Value>, FetchError> {
    let mut pages = client
        .get_resource_config_history()
        .resource_type(aws_sdk_config::types::ResourceType::from(kind))
        .resource_id(id)
        .chronological_order(aws_sdk_config::types::ChronologicalOrder::Forward)
        .into_paginator()
        .send();
    let mut items = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            FetchError::of(
                format!("config:GetResourceConfigHistory {kind} {id} {region}"),
                &e,
            )
        })?;
        for item in page.configuration_items() {
            let (Some(arn), Some(captured)) = (item.arn(), item.configuration_item_capture_time())
            else {
                continue;
            };
            let mut tags: Vec<(&String, &String)> = item.tags().into_iter().flatten().collect();
            tags.sort();
            items.push(json!({
                "ResourceARN": arn,
                "ResourceType": kind,
                "ResourceId": id,
                "CapturedAt": captured.fmt(aws_sdk_config::primitives::DateTimeFormat::DateTime).unwrap_or_default(),
                "Status": item.configuration_item_status().map(|s| s.as_str()),
                "Tags": tags_json(tags.into_iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            }));
        }
    }
    Ok(items)
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
) -> Result<Vec<Value>, FetchError> {
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
        let page = page.map_err(|e| FetchError {
            call: format!("tagging:GetResources {}", region_of(client)),
            detail: describe(&e),
            code: e
                .as_service_error()
                .and_then(|e| e.code())
                .map(str::to_string),
        })?;
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

fn region_of(client: &aws_sdk_resourcegroupstagging::Client) -> String {
    client
        .config()
        .region()
        .map_or_else(String::new, |r| r.to_string())
}

async fn authorization_details(iam: &aws_sdk_iam::Client) -> Result<Principals, FetchError> {
    let mut pages = iam
        .get_account_authorization_details()
        .filter(EntityType::User)
        .filter(EntityType::Role)
        .into_paginator()
        .send();
    let (mut users, mut roles) = (Vec::new(), Vec::new());
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| FetchError::of("iam:GetAccountAuthorizationDetails", &e))?;
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

/// A principal's tags from its `List*Tags` answer: `None` when it was deleted since it was
/// listed (`NoSuchEntity`); no tags, and the failure named in `problems`, when they cannot be
/// read.
fn tags_of<E, R>(
    sent: Result<Vec<Tag>, aws_sdk_iam::error::SdkError<E, R>>,
    call: impl FnOnce() -> String,
    problems: &mut Vec<Problem>,
) -> Option<Vec<Tag>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match sent {
        Ok(tags) => Some(tags),
        Err(e) => {
            let err = FetchError::of(call(), &e);
            if err.is("NoSuchEntity") {
                return None;
            }
            problems.push(err.problem());
            Some(Vec::new())
        }
    }
}

/// Users and roles listed one by one, each with its tags. A principal deleted between the
/// listing and its tag call (`NoSuchEntity`) is left out; one whose tags cannot be read is kept
/// untagged and named in `problems`, so one refusal does not lose every principal.
async fn listed_principals(
    iam: &aws_sdk_iam::Client,
    problems: &mut Vec<Problem>,
) -> Result<Principals, FetchError> {
    let (mut users, mut roles) = (Vec::new(), Vec::new());
    let mut pages = iam.list_users().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| FetchError::of("iam:ListUsers", &e))?;
        for u in page.users() {
            let name = u.user_name();
            let sent = iam.list_user_tags().user_name(name).send().await;
            let call = || format!("iam:ListUserTags user {name}");
            let Some(tags) = tags_of(sent.map(|r| r.tags().to_vec()), call, problems) else {
                continue;
            };
            users.push(principal_entry(
                "UserName",
                Some(name),
                Some(u.path()),
                Some(u.arn()),
                tags.iter().map(|t| (t.key(), t.value())),
            ));
        }
    }
    let mut pages = iam.list_roles().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| FetchError::of("iam:ListRoles", &e))?;
        for r in page.roles() {
            let name = r.role_name();
            let sent = iam.list_role_tags().role_name(name).send().await;
            let call = || format!("iam:ListRoleTags role {name}");
            let Some(tags) = tags_of(sent.map(|r| r.tags().to_vec()), call, problems) else {
                continue;
            };
            roles.push(principal_entry(
                "RoleName",
                Some(name),
                Some(r.path()),
                Some(r.arn()),
                tags.iter().map(|t| (t.key(), t.value())),
            ));
        }
    }
    Ok((users, roles))
}
