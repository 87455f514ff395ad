//! The inventory backend that asks AWS: resources and their tags from the Resource Groups
//! Tagging API (`GetResources`, per region), principals and their tags from IAM
//! (`GetAccountAuthorizationDetails`; `ListUsers`/`ListRoles` with `List*Tags` where that is
//! denied). It produces the same AWS CLI-shaped documents that `files` reads, so a fetched
//! inventory can be written out and a scan repeated on exactly the same data.

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
