//! Role sessions and their session tags: `AssumeRole`, `AssumeRoleWithSAML`,
//! `AssumeRoleWithWebIdentity` and `GetFederationToken` records, linked to later calls by the
//! access key id of the credentials they returned, and along role chains.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::calls::tags_in;
use crate::event::Event;
use crate::inventory::TagKey;
use crate::resolve::ResolvedEvent;
use crate::ruleset::{JsonPath, Record};

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
    pub transitive: bool,
    /// When the session began.
    pub started: Option<DateTime<Utc>>,
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
            tags_in(node, &mut tags);
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

/// Links sessions in time order: a session started with another session's credentials
/// inherits its transitive product tag, which the new call cannot override (IAM refuses it).
/// Only sessions whose tags give a product are kept. `known` are sessions an earlier scheduled
/// run saw begin: chains continue from them. Also returns the product of each federated
/// sign-in, by its event id.
pub fn link(
    known: Sessions,
    mut starts: Vec<SessionStart>,
) -> (Sessions, foldhash::HashMap<String, Arc<str>>) {
    starts.sort_by_key(|s| s.time);
    let mut sessions = known;
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
                started: start.time,
            },
            (None, Some(own)) => SessionProduct {
                product: Some(own.into()),
                transitive: start.own_transitive,
                started: start.time,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use crate::resolve::{Resolver, Sources};
    use crate::ruleset::{LazyRecord, RuleSet};

    fn start(json: &str) -> Option<SessionStart> {
        let rules = RuleSet::builtin().unwrap();
        let resolver = Resolver {
            rules: &rules,
            index: None,
            sources: Sources::default(),
        };
        let event = Event::parse(json).unwrap();
        let time = crate::source::window::parse_event_time(event.event_time.as_deref().unwrap());
        let resolution = resolver.resolve(&event, json, &[]);
        let resolved = ResolvedEvent::new(&event, time, resolution, Default::default());
        let key = TagKey {
            key: "product".into(),
            case_insensitive: false,
        };
        session_start(&event, &LazyRecord::new(&event, json), &key, &resolved)
    }

    fn assume(time: &str, caller_key: &str, new_key: &str, request: &str) -> String {
        format!(
            r#"{{"eventSource":"sts.amazonaws.com","eventName":"AssumeRole","eventTime":"{time}",
            "userIdentity":{{"type":"AssumedRole","accessKeyId":"{caller_key}","arn":"arn:aws:sts::1:assumed-role/r/s"}},
            "requestParameters":{request},"responseElements":{{"credentials":{{"accessKeyId":"{new_key}"}}}}}}"#
        )
    }

    fn product<'s>(sessions: &'s Sessions, key: &str) -> Option<&'s str> {
        sessions.get(key)?.product.as_deref()
    }

    /// IAM's rules: a transitive tag passes down the chain and cannot be overridden; a tag that
    /// is not transitive stays with its session; the chain is followed through sessions the
    /// window holds, and through `incomingTransitiveTags` for those it does not.
    #[test]
    fn transitive_tags_follow_the_chain_and_others_stay() {
        let starts = [
            // s1: product aaa, transitive; s2 chained from it, with its own product ccc.
            assume(
                "2026-11-01T00:00:00Z",
                "AKIAUSER",
                "S1",
                r#"{"tags":[{"key":"product","value":"aaa"}],"transitiveTagKeys":["product"]}"#,
            ),
            assume(
                "2026-11-01T01:00:00Z",
                "S1",
                "S2",
                r#"{"tags":[{"key":"team","value":"x"}]}"#,
            ),
            assume("2026-11-01T02:00:00Z", "S2", "S3", r#"{}"#),
            // t1: product bbb, not transitive: t2 chained from it has none.
            assume(
                "2026-11-01T00:00:00Z",
                "AKIAUSER",
                "T1",
                r#"{"tags":[{"key":"product","value":"bbb"}]}"#,
            ),
            assume("2026-11-01T01:00:00Z", "T1", "T2", r#"{}"#),
            // u2: its parent began before the window; the record says what it passed on.
            assume(
                "2026-11-01T01:00:00Z",
                "OLD",
                "U2",
                r#"{"incomingTransitiveTags":{"product":"ddd"}}"#,
            ),
        ]
        .map(|json| start(&json).unwrap());
        // Out of time order on purpose: linking sorts.
        let mut shuffled = starts.to_vec();
        shuffled.reverse();
        let (sessions, sign_ins) = link(Sessions::default(), shuffled);
        assert_eq!(product(&sessions, "S1"), Some("aaa"));
        assert_eq!(product(&sessions, "S2"), Some("aaa"));
        assert_eq!(product(&sessions, "S3"), Some("aaa"));
        assert_eq!(product(&sessions, "T1"), Some("bbb"));
        assert_eq!(product(&sessions, "T2"), None);
        assert_eq!(product(&sessions, "U2"), Some("ddd"));
        assert!(sign_ins.is_empty());
        // A refused call starts nothing.
        let refused = assume(
            "2026-11-01T00:00:00Z",
            "A",
            "X",
            r#"{"tags":[{"key":"product","value":"aaa"}]}"#,
        )
        .replace(
            r#""eventTime""#,
            r#""errorCode":"AccessDenied","eventTime""#,
        );
        assert!(start(&refused).is_none());
    }
}
