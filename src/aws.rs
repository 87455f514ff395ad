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

/// `config` for one region: each regional client of a run is made from it.
pub fn in_region(config: &SdkConfig, region: &str) -> SdkConfig {
    config
        .to_builder()
        .region(Region::new(region.to_string()))
        .build()
}

/// An S3 client, in `region` when given (a bucket's own region) else the configuration's;
/// with an endpoint override (a local S3 such as moto), path-style addressing. Response
/// checksums are checked only where S3 requires it: trail objects are gzip, whose own CRC-32
/// the decompressor checks, and the second checksum cost ~10% of the CPU of a scan from S3
/// (bench/s3.sh).
pub fn s3_client(config: &SdkConfig, region: Option<&str>) -> aws_sdk_s3::Client {
    let path_style = config.endpoint_url().is_some();
    let mut builder = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(path_style)
        .response_checksum_validation(aws_sdk_s3::config::ResponseChecksumValidation::WhenRequired);
    if let Some(region) = region {
        builder = builder.region(Region::new(region.to_string()));
    }
    aws_sdk_s3::Client::from_conf(builder.build())
}

/// A role that could not be assumed.
#[derive(Debug, thiserror::Error)]
#[error("sts:AssumeRole {role_arn}: {detail}")]
pub struct AssumeRoleError {
    pub role_arn: String,
    pub detail: String,
    /// The service's error code (`AccessDenied`...), when it sent one.
    pub code: Option<String>,
}

/// `config` with the credentials of `role_arn`, assumed once (sessions of an hour: a longer
/// run needs a role with a longer maximum session).
pub async fn assume_role(
    config: &SdkConfig,
    role_arn: &str,
    session_name: &str,
) -> Result<SdkConfig, AssumeRoleError> {
    use aws_sdk_sts::error::ProvideErrorMetadata;
    let failed = |detail: String, code: Option<&str>| AssumeRoleError {
        role_arn: role_arn.to_string(),
        detail,
        code: code.map(str::to_string),
    };
    let assumed = aws_sdk_sts::Client::new(config)
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(session_name)
        .send()
        .await
        .map_err(|e| failed(describe(&e), e.as_service_error().and_then(|s| s.code())))?;
    let credentials = assumed
        .credentials()
        .ok_or_else(|| failed("the answer holds no credentials".into(), None))?;
    let expiry = std::time::SystemTime::try_from(*credentials.expiration()).ok();
    let credentials = aws_sdk_sts::config::Credentials::new(
        credentials.access_key_id(),
        credentials.secret_access_key(),
        Some(credentials.session_token().to_string()),
        expiry,
        "tagtrail-assume-role",
    );
    Ok(config
        .to_builder()
        .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(
            credentials,
        ))
        .build())
}

/// An SDK error with its whole cause chain, for messages. It carries no credentials.
pub fn describe<E: std::error::Error>(err: &E) -> String {
    aws_sdk_s3::error::DisplayErrorContext(err).to_string()
}
