//! Role sessions and their session tags: `AssumeRole`, `AssumeRoleWithSAML`,
//! `AssumeRoleWithWebIdentity` and `GetFederationToken` records, linked to later calls by the
//! access key id of the credentials they returned, and along role chains.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::event::Event;
use crate::inventory::TagKey;
use crate::resolve::ResolvedEvent;
use crate::ruleset::{JsonPath, Node, Record};

const STARTS: &[&str] = &[
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    "GetFederationToken",
];

/// A call that returns session credentials.
pub fn starts_session(event: &Event) -> bool {
    event.event_source == "sts.amazonaws.com" && STARTS.contains(&event.event_name.as_ref())
}

/// What one session-starting record says about the product.
#[derive(Debug, Clone)]
pub struct SessionStart {
    time: Option<DateTime<Utc>>,
    /// The sign-in's event id, when the caller is a federated identity with no IAM ARN
    /// (SAML, web identity): its product is the session's.
    federated_event: Option<String>,
    /// The new credentials' access key id.
    key: String,
    /// The caller's access key id: the parent session in a role chain.
    parent: Option<String>,
    /// The product session tag passed with the call (`tags`, `principalTags`).
    own: Option<String>,
    /// The product tag is among `transitiveTagKeys`.
    own_transitive: bool,
    /// The product tag the call inherited as transitive (`incomingTransitiveTags`).
    incoming: Option<String>,
}

/// The product a session's tags give it.
#[derive(Debug, Clone)]
pub struct SessionProduct {
    pub product: Option<Arc<str>>,
    /// Passed on to sessions this one starts.
    transitive: bool,
}

fn path(text: &str) -> JsonPath {
    JsonPath::parse(text).expect("a valid path")
}

/// The session a successful session-starting call began.
pub fn session_start(
    event: &Event,
    record: &impl Record,
    key: &TagKey,
    resolved: &ResolvedEvent,
) -> Option<SessionStart> {
    if !starts_session(event) || event.error_code.as_deref().is_some_and(|c| !c.is_empty()) {
        return None;
    }
    let first = |p: &str| path(p).select(record).into_iter().next();
    let new_key = first("responseElements.credentials.accessKeyId")?;
    let product_in = |p: &str| {
        path(p).nodes(record).into_iter().find_map(|node| {
            let mut tags = Vec::new();
            pairs(node, &mut tags);
            tags.into_iter()
                .rev()
                .find(|(k, _)| key.matches(k))
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| !v.is_empty())
        })
    };
    let own = product_in("requestParameters.tags")
        .or_else(|| product_in("requestParameters.principalTags"));
    let own_transitive = path("requestParameters.transitiveTagKeys")
        .select(record)
        .iter()
        .any(|k| key.matches(k));
    let federated = resolved.resolution.principal.arn.is_none();
    Some(SessionStart {
        time: resolved.event_time,
        federated_event: resolved.event_id.clone().filter(|_| federated),
        key: new_key,
        parent: event
            .user_identity
            .as_ref()
            .and_then(|i| i.access_key_id.as_deref())
            .filter(|k| !k.is_empty())
            .map(str::to_string),
        own,
        own_transitive,
        incoming: product_in("requestParameters.incomingTransitiveTags"),
    })
}

/// Tags as a list of {key, value} or a map.
fn pairs(node: &Node, out: &mut Vec<(String, String)>) {
    match node {
        Node::Array(items) => {
            for item in items {
                let get = |name: &str| match item {
                    Node::Object(entries) => entries
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(name))
                        .and_then(|(_, v)| v.as_str())
                        .map(str::to_string),
                    _ => None,
                };
                if let (Some(k), Some(v)) = (get("key"), get("value")) {
                    out.push((k, v));
                }
            }
        }
        Node::Object(entries) => {
            for (k, v) in entries {
                if let Some(v) = v.as_str() {
                    out.push((k.to_string(), v.to_string()));
                }
            }
        }
        _ => {}
    }
}

/// Links sessions in time order: a session started with another session's credentials
/// inherits its transitive product tag, which the new call cannot override (IAM refuses it).
/// Only sessions whose tags give a product are kept. Also returns the product of each
/// federated sign-in, by its event id.
pub fn link(mut starts: Vec<SessionStart>) -> (Sessions, foldhash::HashMap<String, Arc<str>>) {
    starts.sort_by_key(|s| s.time);
    let mut sessions = Sessions::default();
    let mut sign_ins = foldhash::HashMap::default();
    for start in starts {
        let inherited = start.incoming.map(Arc::<str>::from).or_else(|| {
            let parent = sessions.get(start.parent.as_deref()?)?;
            parent.transitive.then(|| parent.product.clone()).flatten()
        });
        let session = match (inherited, start.own) {
            (Some(product), _) => SessionProduct {
                product: Some(product),
                transitive: true,
            },
            (None, Some(own)) => SessionProduct {
                product: Some(own.into()),
                transitive: start.own_transitive,
            },
            (None, None) => continue,
        };
        if let (Some(id), Some(product)) = (start.federated_event, &session.product) {
            sign_ins.insert(id, product.clone());
        }
        sessions.insert(start.key, session);
    }
    (sessions, sign_ins)
}

/// Session products by access key id.
pub type Sessions = foldhash::HashMap<String, SessionProduct>;
