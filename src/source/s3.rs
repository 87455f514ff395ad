//! Trail objects straight from S3: `s3://bucket/prefix/`.
//!
//! Listing follows the trail layout `AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/`
//! so that only the accounts, regions and days asked for are listed: a scan of one day of a
//! multi-year bucket lists one day per account and region. A prefix outside that layout (a
//! Firehose output, say) is listed whole. Objects are then downloaded with bounded concurrency,
//! in listing order, and decoded like local files.

use std::str::FromStr;

use aws_sdk_s3::Client;
use chrono::{Duration, NaiveDate, Utc};
use futures_util::StreamExt;
use thiserror::Error;
use tokio::sync::mpsc;
use tracing::Instrument;
use tracing_indicatif::span_ext::IndicatifSpanExt;

use super::{Pending, Window};
use crate::aws::describe;
use crate::tally::Problem;

/// A failure to list or read trail objects.
#[derive(Debug, Error)]
pub enum S3Error {
    #[error("`{0}` is not an s3://bucket/prefix URL")]
    NotAnS3Url(String),
    #[error("`{0}` names no bucket")]
    NoBucket(String),
    #[error("s3:ListBucket s3://{bucket}/{prefix}: {detail}")]
    List {
        bucket: String,
        prefix: String,
        detail: String,
    },
    #[error("s3:GetObject {url}: {detail}")]
    Get { url: String, detail: String },
}

/// `s3://bucket/prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    pub prefix: String,
}

impl FromStr for S3Url {
    type Err = S3Error;
    fn from_str(text: &str) -> Result<Self, S3Error> {
        let rest = text
            .strip_prefix("s3://")
            .ok_or_else(|| S3Error::NotAnS3Url(text.to_string()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(S3Error::NoBucket(text.to_string()));
        }
        Ok(S3Url {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }
}

impl std::fmt::Display for S3Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// Which accounts and regions of the trail layout to read (empty: all).
#[derive(Debug, Clone, Default)]
pub struct LayoutFilter {
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
}

/// An object to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub key: String,
    pub size: i64,
}

/// The region `bucket` lives in, from HeadBucket's `x-amz-bucket-region`, which S3 sends with
/// a redirect or a refusal too; `None` when it does not say. The Rust SDK follows no region
/// redirect, so a client must be made in the bucket's region: `--regions` names the trail's
/// regions to read, not where its bucket is.
pub async fn bucket_region(client: &Client, bucket: &str) -> Option<String> {
    match client.head_bucket().bucket(bucket).send().await {
        Ok(head) => head.bucket_region().map(str::to_string),
        Err(err) => err
            .raw_response()
            .and_then(|r| r.headers().get("x-amz-bucket-region"))
            .map(str::to_string),
    }
}

/// A client for `bucket`, in the bucket's own region when S3 says it ([`bucket_region`]),
/// else in `config`'s.
pub async fn bucket_client(config: &aws_config::SdkConfig, bucket: &str) -> Client {
    let configured = crate::aws::s3_client(config, None);
    match bucket_region(&configured, bucket).await {
        Some(region) => {
            tracing::info!(bucket, region, "bucket region");
            crate::aws::s3_client(config, Some(&region))
        }
        None => configured,
    }
}

/// Lists the objects of `url` that the window and filter admit, in key order; with `digests`,
/// the digest files beside each log stream too (`CloudTrail-Digest/`).
pub async fn list(
    client: &Client,
    url: &S3Url,
    window: &Window,
    filter: &LayoutFilter,
    digests: bool,
) -> Result<Vec<Object>, S3Error> {
    Ok(list_planned(client, url, window, filter, None, digests)
        .await?
        .objects)
}

/// The first day of a stream (`s3://bucket/…/CloudTrail/<region>/`) an incremental scan has
/// not closed yet; `None`: all of it.
pub type FirstOpenDay<'a> = dyn Fn(&str) -> Option<NaiveDate> + Send + Sync + 'a;

/// What a listing found.
#[derive(Debug, Default)]
pub struct Listing {
    /// In key order.
    pub objects: Vec<Object>,
    /// The streams of the trail layout listed, as `s3://bucket/…/<region>/`, each from its
    /// first open day on.
    pub streams: Vec<String>,
}

/// [`list`] for an incremental scan: each stream from its first open day on, and its digest
/// files too (`CloudTrail-Digest/`).
pub async fn list_resuming(
    client: &Client,
    url: &S3Url,
    window: &Window,
    filter: &LayoutFilter,
    first_open: Option<&FirstOpenDay<'_>>,
) -> Result<Listing, S3Error> {
    list_planned(client, url, window, filter, first_open, true).await
}

/// Lists every prefix [`plan`] gives: objects in key order, once each, folder markers left
/// out.
async fn list_planned(
    client: &Client,
    url: &S3Url,
    window: &Window,
    filter: &LayoutFilter,
    first_open: Option<&FirstOpenDay<'_>>,
    digests: bool,
) -> Result<Listing, S3Error> {
    let mut listing = Listing::default();
    for (stream, prefixes) in plan(client, url, window, filter, first_open, digests).await? {
        for prefix in prefixes {
            listing
                .objects
                .extend(list_all(client, &url.bucket, &prefix).await?);
        }
        listing.streams.extend(stream);
    }
    listing.objects.retain(|o| !o.key.ends_with('/'));
    listing.objects.sort_by(|a, b| a.key.cmp(&b.key));
    listing.objects.dedup();
    Ok(listing)
}

/// The prefixes to list in full, by the stream they belong to (`None`: outside the layout).
async fn plan(
    client: &Client,
    url: &S3Url,
    window: &Window,
    filter: &LayoutFilter,
    first_open: Option<&FirstOpenDay<'_>>,
    digests: bool,
) -> Result<Vec<(Option<String>, Vec<String>)>, S3Error> {
    let mut base = url.prefix.clone();
    if !base.is_empty() && !base.ends_with('/') {
        base.push('/');
    }
    let root = if let Some(i) = base.find("AWSLogs/") {
        base[..i + "AWSLogs/".len()].to_string()
    } else if children(client, &url.bucket, &base)
        .await?
        .iter()
        .any(|c| c.ends_with("AWSLogs/"))
    {
        format!("{base}AWSLogs/")
    } else {
        return Ok(vec![(None, vec![base])]);
    };
    let given: Vec<&str> = base[root.len().min(base.len())..]
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();

    // AWSLogs/[o-org/]<account>/
    let mut accounts = Vec::new();
    let level: Vec<String> = match given.first() {
        Some(first) => vec![format!("{root}{first}/")],
        None => children(client, &url.bucket, &root).await?,
    };
    for prefix in level {
        let name = last_component(&prefix);
        if name.starts_with("o-") {
            let rest: Vec<String> = match given.get(1) {
                Some(account) => vec![format!("{prefix}{account}/")],
                None => children(client, &url.bucket, &prefix).await?,
            };
            accounts.extend(rest);
        } else {
            accounts.push(prefix);
        }
    }
    let org_offset = usize::from(given.first().is_some_and(|g| g.starts_with("o-")));
    accounts.retain(|a| {
        filter.accounts.is_empty() || filter.accounts.iter().any(|f| f == last_component(a))
    });

    let mut prefixes = Vec::new();
    for account in accounts {
        let cloudtrail = format!("{account}CloudTrail/");
        let regions: Vec<String> = match given.get(org_offset + 2) {
            Some(region) => vec![format!("{cloudtrail}{region}/")],
            None => children(client, &url.bucket, &cloudtrail).await?,
        };
        for region in regions {
            if !filter.regions.is_empty()
                && !filter.regions.iter().any(|r| r == last_component(&region))
            {
                continue;
            }
            if given.len() > org_offset + 3 {
                // A deeper prefix was given: list it as is.
                prefixes.push((None, vec![base.clone()]));
                continue;
            }
            let mut streams = vec![region.clone()];
            if digests {
                streams.push(format!(
                    "{account}CloudTrail-Digest/{}/",
                    last_component(&region)
                ));
            }
            for stream in streams {
                let name = format!("s3://{}/{stream}", url.bucket);
                let from = first_open.and_then(|first| first(&name));
                prefixes.push((Some(name), day_prefixes(&stream, window, from)));
            }
        }
    }
    prefixes.dedup();
    Ok(prefixes)
}

/// `region/YYYY/MM/DD/` for every day of the window from `from` on; the region folder when
/// neither has a start.
fn day_prefixes(region: &str, window: &Window, from: Option<NaiveDate>) -> Vec<String> {
    let since = match (window.since.map(|s| s.date_naive()), from) {
        (Some(since), Some(from)) => since.max(from),
        (Some(day), None) | (None, Some(day)) => day,
        (None, None) => return vec![region.to_string()],
    };
    // The window is half-open: an `until` of midnight does not reach into that day.
    let until = window
        .until
        .map_or_else(Utc::now, |u| u - Duration::nanoseconds(1));
    let (mut day, last): (NaiveDate, NaiveDate) = (since, until.date_naive());
    let mut out = Vec::new();
    while day <= last {
        out.push(format!("{region}{}/", day.format("%Y/%m/%d")));
        day += Duration::days(1);
    }
    out
}

fn last_component(prefix: &str) -> &str {
    prefix
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
}

/// The "folders" directly under a prefix.
async fn children(client: &Client, bucket: &str, prefix: &str) -> Result<Vec<String>, S3Error> {
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .delimiter("/")
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| S3Error::List {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
            detail: describe(&e),
        })?;
        out.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_string)),
        );
    }
    Ok(out)
}

async fn list_all(client: &Client, bucket: &str, prefix: &str) -> Result<Vec<Object>, S3Error> {
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| S3Error::List {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
            detail: describe(&e),
        })?;
        out.extend(page.contents().iter().filter_map(|o| {
            Some(Object {
                key: o.key()?.to_string(),
                size: o.size().unwrap_or(0),
            })
        }));
    }
    Ok(out)
}

/// Downloads `objects` with at most `concurrency` in flight and sends each, in listing order,
/// as fetched bytes or as an object that could not be read. False when the receiver is gone.
pub async fn fetch(
    client: &Client,
    bucket: &str,
    objects: Vec<Object>,
    concurrency: usize,
    sender: &mpsc::Sender<Pending>,
) -> bool {
    let span = tracing::info_span!("s3", bucket, "indicatif.pb_show" = tracing::field::Empty);
    span.pb_set_length(objects.len() as u64);
    span.pb_set_style(&super::progress_style("objects"));
    let mut downloads = futures_util::stream::iter(objects)
        .map(|object| {
            let client = client.clone();
            let bucket = bucket.to_string();
            tokio::spawn(async move {
                let url = format!("s3://{bucket}/{}", object.key);
                let result = get(&client, &bucket, &object.key).await;
                (url, result)
            })
        })
        .buffered(concurrency.max(1));
    async {
        while let Some(joined) = downloads.next().await {
            tracing::Span::current().pb_inc(1);
            let pending = match joined {
                Ok((name, Ok(got))) => Pending::Fetched {
                    name,
                    raw: got.bytes,
                    signature: got.signature,
                },
                Ok((source, Err(err))) => Pending::Unreadable(Problem {
                    source,
                    reason: err.to_string(),
                }),
                Err(join) => Pending::Unreadable(Problem {
                    source: format!("s3://{bucket}"),
                    reason: format!("download task failed: {join}"),
                }),
            };
            if sender.send(pending).await.is_err() {
                return false;
            }
        }
        true
    }
    .instrument(span)
    .await
}

/// One object as read: its bytes, and the signature CloudTrail puts in a digest object's
/// metadata (`x-amz-meta-signature`).
#[derive(Debug)]
pub struct Got {
    pub bytes: Vec<u8>,
    pub signature: Option<String>,
}

/// One object's bytes and signature.
pub async fn get(client: &Client, bucket: &str, key: &str) -> Result<Got, S3Error> {
    let url = || format!("s3://{bucket}/{key}");
    let response = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|err| {
            let hint = match err.as_service_error().and_then(|e| e.meta().code()) {
                Some("AccessDenied") => ACCESS_DENIED_HINT,
                _ => "",
            };
            S3Error::Get {
                url: url(),
                detail: format!("{}{hint}", describe(&err)),
            }
        })?;
    let signature = response
        .metadata()
        .and_then(|meta| meta.get("signature"))
        .cloned();
    let body = response.body.collect().await.map_err(|err| S3Error::Get {
        url: url(),
        detail: err.to_string(),
    })?;
    Ok(Got {
        bytes: body.into_bytes().to_vec(),
        signature,
    })
}

/// Why an object that can be listed may still be refused.
const ACCESS_DENIED_HINT: &str = " (if the bucket's own policy allows the read: the object may \
    be owned by the account that wrote it (S3 Object Ownership), or encrypted with a KMS key \
    whose policy does not allow kms:Decrypt to this role)";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::window::parse_instant;

    #[test]
    fn parses_urls() {
        assert_eq!(
            "s3://trail-bucket/AWSLogs/".parse::<S3Url>().unwrap(),
            S3Url {
                bucket: "trail-bucket".into(),
                prefix: "AWSLogs/".into()
            }
        );
        assert_eq!("s3://b".parse::<S3Url>().unwrap().prefix, "");
        assert!("https://b/x".parse::<S3Url>().is_err());
        assert!("s3:///x".parse::<S3Url>().is_err());
    }

    #[test]
    fn one_prefix_per_day_of_the_window() {
        let now = Utc::now();
        let window = Window {
            since: Some(parse_instant("2026-11-20T10:00:00Z", now).unwrap()),
            until: Some(parse_instant("2026-11-22T01:00:00Z", now).unwrap()),
        };
        let midnight = Window {
            until: Some(parse_instant("2026-11-21T00:00:00Z", now).unwrap()),
            ..window
        };
        assert_eq!(
            day_prefixes("AWSLogs/1/CloudTrail/us-east-1/", &window, None),
            [
                "AWSLogs/1/CloudTrail/us-east-1/2026/11/20/",
                "AWSLogs/1/CloudTrail/us-east-1/2026/11/21/",
                "AWSLogs/1/CloudTrail/us-east-1/2026/11/22/"
            ]
        );
        assert_eq!(day_prefixes("r/", &midnight, None), ["r/2026/11/20/"]);
        assert_eq!(day_prefixes("r/", &Window::default(), None), ["r/"]);
        // An incremental scan starts at the stream's first open day, or the window's start
        // when that is later.
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        assert_eq!(
            day_prefixes("r/", &window, Some(day(21))),
            ["r/2026/11/21/", "r/2026/11/22/"]
        );
        assert_eq!(day_prefixes("r/", &window, Some(day(1))).len(), 3);
        let open = Window {
            since: None,
            until: window.until,
        };
        assert_eq!(day_prefixes("r/", &open, Some(day(22))), ["r/2026/11/22/"]);
    }
}
