//! The inventory backend that asks AWS: resources and their tags from the Resource Groups
//! Tagging API (`GetResources`, per region), principals and their tags from IAM
//! (`GetAccountAuthorizationDetails`; `ListUsers`/`ListRoles` with `List*Tags` where that is
//! denied), KMS aliases (`ListAliases`: a key used by alias is judged by the key's tags), and,
//! on request, AWS Config's record of each resource's tags over time ([`fetch_config`]). It
//! produces the same AWS CLI-shaped documents that `files` reads, so a fetched inventory can
//! be written out and a scan repeated on exactly the same data.

use aws_config::SdkConfig;
use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::types::{EntityType, Tag};
use chrono::{DateTime, Utc};
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
        let regional = crate::aws::in_region(config, region);
        let client = aws_sdk_resourcegroupstagging::Client::new(&regional);
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
        match aliases(&aws_sdk_kms::Client::new(&regional), region).await {
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

/// Where a fetch looks: the account of the credentials, or member accounts through a role.
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    /// The role to assume in each account (`arn:aws:iam::<account>:role/<name>`).
    pub assume_role: Option<String>,
    /// The accounts to read; with a role and none given, the organisation's active accounts
    /// (`organizations:ListAccounts`).
    pub accounts: Vec<String>,
}

/// Fetches the inventory of every account `accounts` names, each through its role: documents
/// are prefixed with the account id. An account whose role cannot be assumed is a problem
/// naming it; the others go on.
pub async fn fetch_accounts(
    config: &SdkConfig,
    regions: &[String],
    tag_key: Option<&str>,
    accounts: &Accounts,
) -> Fetched {
    let Some(role) = &accounts.assume_role else {
        return fetch(config, regions, tag_key).await;
    };
    let mut out = Fetched::default();
    let ids = if accounts.accounts.is_empty() {
        match organization_accounts(config).await {
            Ok(ids) => ids,
            Err(err) => {
                out.problems.push(err.problem());
                return out;
            }
        }
    } else {
        accounts.accounts.clone()
    };
    for account in ids {
        let span = tracing::info_span!("account", account = account.as_str());
        let member = match assume(config, &account, role)
            .instrument(span.clone())
            .await
        {
            Ok(member) => member,
            Err(err) => {
                out.problems.push(err.problem());
                continue;
            }
        };
        let fetched = fetch(&member, regions, tag_key).instrument(span).await;
        out.resources += fetched.resources;
        out.users += fetched.users;
        out.roles += fetched.roles;
        out.aliases += fetched.aliases;
        out.documents.extend(
            fetched
                .documents
                .into_iter()
                .map(|(name, document)| (format!("{account}-{name}"), document)),
        );
        out.problems
            .extend(fetched.problems.into_iter().map(|p| Problem {
                source: format!("account {account}: {}", p.source),
                reason: p.reason,
            }));
    }
    out
}

/// The organisation's active member accounts.
async fn organization_accounts(config: &SdkConfig) -> Result<Vec<String>, FetchError> {
    let client = aws_sdk_organizations::Client::new(config);
    let mut pages = client.list_accounts().into_paginator().send();
    let mut ids = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| FetchError::of("organizations:ListAccounts", &e))?;
        ids.extend(
            page.accounts()
                .iter()
                .filter(|a| {
                    a.status()
                        .is_none_or(|s| *s == aws_sdk_organizations::types::AccountStatus::Active)
                })
                .filter_map(|a| a.id().map(str::to_string)),
        );
    }
    Ok(ids)
}

/// The configuration of a member account: `config` with the credentials of `role` there.
async fn assume(config: &SdkConfig, account: &str, role: &str) -> Result<SdkConfig, FetchError> {
    let partition = config
        .region()
        .map_or("aws", |r| crate::arn::partition_of(r.as_ref()));
    let role_arn = format!("arn:{partition}:iam::{account}:role/{role}");
    crate::aws::assume_role(config, &role_arn, "tagtrail-inventory")
        .await
        .map_err(|e| FetchError {
            call: format!("sts:AssumeRole {}", e.role_arn),
            detail: e.detail,
            code: e.code,
        })
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
        let client = aws_sdk_config::Client::new(&crate::aws::in_region(config, region));
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
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let sent = client
            .get_resource_config_history()
            .resource_type(aws_sdk_config::types::ResourceType::from(kind))
            .resource_id(id)
            .chronological_order(aws_sdk_config::types::ChronologicalOrder::Forward)
            .set_next_token(token.take())
            .send()
            .await;
        let next = match sent {
            Ok(page) => {
                for item in page.configuration_items() {
                    let captured = item
                        .configuration_item_capture_time()
                        .and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()));
                    let (Some(arn), Some(captured)) = (item.arn(), captured) else {
                        continue;
                    };
                    let tags = item
                        .tags()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| (k.clone(), v.clone()));
                    let status = item.configuration_item_status().map(|s| s.as_str());
                    items.push(config_item(arn, kind, id, captured, status, tags.collect()));
                }
                page.next_token().map(str::to_string)
            }
            // An answer the SDK cannot read is read leniently: some servers (moto) send
            // timestamps as text and tags as a list.
            Err(err @ aws_sdk_config::error::SdkError::ResponseError(_)) => {
                let page = err
                    .raw_response()
                    .and_then(|r| r.body().bytes())
                    .and_then(|body| lenient_history_page(body, kind, id));
                let Some((found, next)) = page else {
                    return Err(FetchError::of(
                        format!("config:GetResourceConfigHistory {kind} {id} {region}"),
                        &err,
                    ));
                };
                items.extend(found);
                next
            }
            Err(err) => {
                return Err(FetchError::of(
                    format!("config:GetResourceConfigHistory {kind} {id} {region}"),
                    &err,
                ))
            }
        };
        match next.filter(|t| !t.is_empty()) {
            Some(next) => token = Some(next),
            None => return Ok(items),
        }
    }
}

/// One configuration item as `config-<region>.json` holds it.
fn config_item(
    arn: &str,
    kind: &str,
    id: &str,
    captured: DateTime<Utc>,
    status: Option<&str>,
    mut tags: Vec<(String, String)>,
) -> Value {
    tags.sort();
    json!({
        "ResourceARN": arn,
        "ResourceType": kind,
        "ResourceId": id,
        "CapturedAt": captured.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        "Status": status,
        "Tags": tags_json(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
    })
}

/// A `GetResourceConfigHistory` page read without the SDK's strictness: capture times as
/// epoch seconds or as text, tags as a map or a list of `{key, value}`.
fn lenient_history_page(body: &[u8], kind: &str, id: &str) -> Option<(Vec<Value>, Option<String>)> {
    let page: Value = serde_json::from_slice(body).ok()?;
    let mut items = Vec::new();
    for item in page.get("configurationItems")?.as_array()? {
        let captured = match &item["configurationItemCaptureTime"] {
            Value::Number(n) => n.as_f64().and_then(|secs| {
                DateTime::from_timestamp(secs.trunc() as i64, (secs.fract() * 1e9) as u32)
            }),
            Value::String(text) => DateTime::parse_from_rfc3339(text)
                .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z"))
                .map(|t| t.with_timezone(&Utc))
                .or_else(|_| {
                    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
                        .map(|t| t.and_utc())
                })
                .ok(),
            _ => None,
        };
        // An item that cannot be read fails the page: the SDK's error is reported instead.
        let (arn, captured) = (item["arn"].as_str()?, captured?);
        let tags: Vec<(String, String)> = match &item["tags"] {
            Value::Object(map) => map
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect(),
            Value::Array(list) => list
                .iter()
                .filter_map(|t| {
                    let key = t.get("key").or_else(|| t.get("Key"))?.as_str()?;
                    let value = t.get("value").or_else(|| t.get("Value"))?.as_str()?;
                    Some((key.to_string(), value.to_string()))
                })
                .collect(),
            _ => Vec::new(),
        };
        let status = item["configurationItemStatus"].as_str();
        items.push(config_item(arn, kind, id, captured, status, tags));
    }
    let next = page["nextToken"].as_str().map(str::to_string);
    Some((items, next))
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
        let page = page
            .map_err(|e| FetchError::of(format!("tag:GetResources {}", region_of(client)), &e))?;
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
