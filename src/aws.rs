//! Loading AWS configuration the way every AWS tool does: the default credential chain,
//! profiles, regions and `AWS_ENDPOINT_URL`, with the SDK's standard retry for throttling.

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// Loads one `SdkConfig` for every client of a run.
pub async fn load_config(profile: Option<&str>, region: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(5));
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_string()));
    }
    loader.load().await
}

/// The regions asked for, or the configuration's own region.
pub fn regions(config: &SdkConfig, asked: &[String]) -> Vec<String> {
    if !asked.is_empty() {
        return asked.to_vec();
    }
    config
        .region()
        .map(|r| vec![r.to_string()])
        .unwrap_or_default()
}

/// An S3 client, in `region` when given (a bucket's own region) else the configuration's;
/// with an endpoint override (a local S3 such as moto), path-style addressing.
pub fn s3_client(config: &SdkConfig, region: Option<&str>) -> aws_sdk_s3::Client {
    let path_style = config.endpoint_url().is_some();
    let mut builder = aws_sdk_s3::config::Builder::from(config).force_path_style(path_style);
    if let Some(region) = region {
        builder = builder.region(Region::new(region.to_string()));
    }
    aws_sdk_s3::Client::from_conf(builder.build())
}

/// An SDK error with its whole cause chain, for messages. It carries no credentials.
pub fn describe<E: std::error::Error>(err: &E) -> String {
    aws_sdk_s3::error::DisplayErrorContext(err).to_string()
}
