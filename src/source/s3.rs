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

use super::{input_from_bytes, Input, Window};
use crate::aws::describe;

/// `s3://bucket/prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    pub prefix: String,
}

impl FromStr for S3Url {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let rest = text
            .strip_prefix("s3://")
            .ok_or_else(|| format!("`{text}` is not an s3://bucket/prefix URL"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("`{text}` names no bucket"));
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

/// Lists the objects of `url` that the window and filter admit, in key order.
pub async fn list(
    client: &Client,
    url: &S3Url,
    window: &Window,
    filter: &LayoutFilter,
) -> Result<Vec<Object>, String> {
    let mut objects = Vec::new();
    for prefix in plan(client, url, window, filter).await? {
        objects.extend(list_all(client, &url.bucket, &prefix).await?);
    }
    objects.retain(|o| !o.key.ends_with('/'));
    objects.sort_by(|a, b| a.key.cmp(&b.key));
    objects.dedup();
    Ok(objects)
}

/// The prefixes to list in full.
async fn plan(
    client: &Client,
    url: &S3Url,
    window: &Window,
    filter: &LayoutFilter,
) -> Result<Vec<String>, String> {
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
        return Ok(vec![base]);
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
                prefixes.push(base.clone()); // a deeper prefix was given: list it as is
            } else {
                prefixes.extend(day_prefixes(&region, window));
            }
        }
    }
    prefixes.dedup();
    Ok(prefixes)
}

/// `region/YYYY/MM/DD/` for every day of the window; the region folder when it has no start.
fn day_prefixes(region: &str, window: &Window) -> Vec<String> {
    let Some(since) = window.since else {
        return vec![region.to_string()];
    };
    // The window is half-open: an `until` of midnight does not reach into that day.
    let until = window
        .until
        .map_or_else(Utc::now, |u| u - Duration::nanoseconds(1));
    let (mut day, last): (NaiveDate, NaiveDate) = (since.date_naive(), until.date_naive());
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
async fn children(client: &Client, bucket: &str, prefix: &str) -> Result<Vec<String>, String> {
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .delimiter("/")
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("listing s3://{bucket}/{prefix}: {}", describe(&e)))?;
        out.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_string)),
        );
    }
    Ok(out)
}

async fn list_all(client: &Client, bucket: &str, prefix: &str) -> Result<Vec<Object>, String> {
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("listing s3://{bucket}/{prefix}: {}", describe(&e)))?;
        out.extend(page.contents().iter().filter_map(|o| {
            Some(Object {
                key: o.key()?.to_string(),
                size: o.size().unwrap_or(0),
            })
        }));
    }
    Ok(out)
}

/// Downloads `objects` with at most `concurrency` in flight and hands each to `on_object` in
/// listing order: the input, or the object's URL and why it could not be read.
pub async fn read(
    client: &Client,
    bucket: &str,
    objects: Vec<Object>,
    concurrency: usize,
    mut on_object: impl FnMut(Result<Input, (String, String)>),
) {
    let progress = indicatif::ProgressBar::new(objects.len() as u64).with_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} s3 objects {pos}/{len} {msg} [{elapsed}]",
        )
        .expect("a valid progress template"),
    );
    let mut bytes = 0u64;
    let mut downloads = futures_util::stream::iter(objects)
        .map(|object| {
            let client = client.clone();
            let bucket = bucket.to_string();
            tokio::spawn(async move {
                let url = format!("s3://{bucket}/{}", object.key);
                let result = async {
                    let response = client
                        .get_object()
                        .bucket(&bucket)
                        .key(&object.key)
                        .send()
                        .await
                        .map_err(|e| describe(&e))?;
                    let body = response.body.collect().await.map_err(|e| e.to_string())?;
                    Ok::<_, String>(body.into_bytes().to_vec())
                }
                .await;
                (url, result)
            })
        })
        .buffered(concurrency.max(1));
    while let Some(joined) = downloads.next().await {
        progress.inc(1);
        match joined {
            Ok((url, Ok(raw))) => {
                bytes += raw.len() as u64;
                progress.set_message(format!("{:.1} MB", bytes as f64 / 1e6));
                on_object(Ok(input_from_bytes(url, raw)));
            }
            Ok((url, Err(reason))) => on_object(Err((url, reason))),
            Err(join) => on_object(Err((
                format!("s3://{bucket}"),
                format!("download task failed: {join}"),
            ))),
        }
    }
    progress.finish_and_clear();
}

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
            day_prefixes("AWSLogs/1/CloudTrail/us-east-1/", &window),
            [
                "AWSLogs/1/CloudTrail/us-east-1/2026/11/20/",
                "AWSLogs/1/CloudTrail/us-east-1/2026/11/21/",
                "AWSLogs/1/CloudTrail/us-east-1/2026/11/22/"
            ]
        );
        assert_eq!(day_prefixes("r/", &midnight), ["r/2026/11/20/"]);
        assert_eq!(day_prefixes("r/", &Window::default()), ["r/"]);
    }
}
