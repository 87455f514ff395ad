//! LookupEvents `Resources[]`: `ResourceName` is an ARN, or a bare name or id whose ARN is
//! built from the resource type's ARN format (Service Authorization Reference), the event's
//! partition, region and account.

use crate::arn;
use crate::ruleset::{ArnIndex, Completion};

/// CloudFormation-style type → ARN format (`{name}` is the ResourceName) and how to complete it.
const FORMATS: &[(&str, &str, Option<Completion>)] = &[
    (
        "AWS::EC2::Instance",
        "arn:{p}:ec2:{r}:{a}:instance/{name}",
        None,
    ),
    (
        "AWS::EC2::Volume",
        "arn:{p}:ec2:{r}:{a}:volume/{name}",
        None,
    ),
    (
        "AWS::EC2::Snapshot",
        "arn:{p}:ec2:{r}::snapshot/{name}",
        None,
    ),
    ("AWS::EC2::Ami", "arn:{p}:ec2:{r}::image/{name}", None),
    ("AWS::EC2::Image", "arn:{p}:ec2:{r}::image/{name}", None),
    (
        "AWS::EC2::SecurityGroup",
        "arn:{p}:ec2:{r}:{a}:security-group/{name}",
        None,
    ),
    (
        "AWS::EC2::Subnet",
        "arn:{p}:ec2:{r}:{a}:subnet/{name}",
        None,
    ),
    ("AWS::EC2::VPC", "arn:{p}:ec2:{r}:{a}:vpc/{name}", None),
    (
        "AWS::EC2::NetworkInterface",
        "arn:{p}:ec2:{r}:{a}:network-interface/{name}",
        None,
    ),
    (
        "AWS::EC2::InternetGateway",
        "arn:{p}:ec2:{r}:{a}:internet-gateway/{name}",
        None,
    ),
    (
        "AWS::EC2::RouteTable",
        "arn:{p}:ec2:{r}:{a}:route-table/{name}",
        None,
    ),
    (
        "AWS::EC2::NatGateway",
        "arn:{p}:ec2:{r}:{a}:natgateway/{name}",
        None,
    ),
    (
        "AWS::EC2::NetworkAcl",
        "arn:{p}:ec2:{r}:{a}:network-acl/{name}",
        None,
    ),
    (
        "AWS::EC2::EIP",
        "arn:{p}:ec2:{r}:{a}:elastic-ip/{name}",
        None,
    ),
    (
        "AWS::EC2::LaunchTemplate",
        "arn:{p}:ec2:{r}:{a}:launch-template/{name}",
        None,
    ),
    (
        "AWS::EC2::VPCEndpoint",
        "arn:{p}:ec2:{r}:{a}:vpc-endpoint/{name}",
        None,
    ),
    (
        "AWS::EC2::TransitGateway",
        "arn:{p}:ec2:{r}:{a}:transit-gateway/{name}",
        None,
    ),
    (
        "AWS::EC2::KeyPair",
        "arn:{p}:ec2:{r}:{a}:key-pair/{name}",
        None,
    ),
    ("AWS::S3::Bucket", "arn:{p}:s3:::{name}", None),
    ("AWS::S3::Object", "arn:{p}:s3:::{name}", None),
    (
        "AWS::IAM::User",
        "arn:{p}:iam::{a}:user/{name}",
        Some(Completion::Path),
    ),
    (
        "AWS::IAM::Role",
        "arn:{p}:iam::{a}:role/{name}",
        Some(Completion::Path),
    ),
    (
        "AWS::IAM::Group",
        "arn:{p}:iam::{a}:group/{name}",
        Some(Completion::Path),
    ),
    (
        "AWS::IAM::Policy",
        "arn:{p}:iam::{a}:policy/{name}",
        Some(Completion::Path),
    ),
    (
        "AWS::IAM::ManagedPolicy",
        "arn:{p}:iam::{a}:policy/{name}",
        Some(Completion::Path),
    ),
    (
        "AWS::IAM::InstanceProfile",
        "arn:{p}:iam::{a}:instance-profile/{name}",
        Some(Completion::Path),
    ),
    (
        "AWS::Lambda::Function",
        "arn:{p}:lambda:{r}:{a}:function:{name}",
        None,
    ),
    (
        "AWS::DynamoDB::Table",
        "arn:{p}:dynamodb:{r}:{a}:table/{name}",
        None,
    ),
    ("AWS::SNS::Topic", "arn:{p}:sns:{r}:{a}:{name}", None),
    ("AWS::SQS::Queue", "arn:{p}:sqs:{r}:{a}:{name}", None),
    ("AWS::KMS::Key", "arn:{p}:kms:{r}:{a}:key/{name}", None),
    (
        "AWS::SecretsManager::Secret",
        "arn:{p}:secretsmanager:{r}:{a}:secret:{name}",
        Some(Completion::RandomSuffix),
    ),
    (
        "AWS::SSM::Parameter",
        "arn:{p}:ssm:{r}:{a}:parameter/{name}",
        None,
    ),
    (
        "AWS::Logs::LogGroup",
        "arn:{p}:logs:{r}:{a}:log-group:{name}",
        None,
    ),
    (
        "AWS::RDS::DBInstance",
        "arn:{p}:rds:{r}:{a}:db:{name}",
        None,
    ),
    (
        "AWS::RDS::DBCluster",
        "arn:{p}:rds:{r}:{a}:cluster:{name}",
        None,
    ),
    (
        "AWS::RDS::DBSnapshot",
        "arn:{p}:rds:{r}:{a}:snapshot:{name}",
        None,
    ),
    (
        "AWS::RDS::DBClusterSnapshot",
        "arn:{p}:rds:{r}:{a}:cluster-snapshot:{name}",
        None,
    ),
    (
        "AWS::ECR::Repository",
        "arn:{p}:ecr:{r}:{a}:repository/{name}",
        None,
    ),
    (
        "AWS::ECS::Cluster",
        "arn:{p}:ecs:{r}:{a}:cluster/{name}",
        None,
    ),
    (
        "AWS::EKS::Cluster",
        "arn:{p}:eks:{r}:{a}:cluster/{name}",
        None,
    ),
    (
        "AWS::CloudFormation::Stack",
        "arn:{p}:cloudformation:{r}:{a}:stack/{name}",
        Some(Completion::IdSuffix),
    ),
    (
        "AWS::StepFunctions::StateMachine",
        "arn:{p}:states:{r}:{a}:stateMachine:{name}",
        None,
    ),
    (
        "AWS::Kinesis::Stream",
        "arn:{p}:kinesis:{r}:{a}:stream/{name}",
        None,
    ),
    (
        "AWS::CloudTrail::Trail",
        "arn:{p}:cloudtrail:{r}:{a}:trail/{name}",
        None,
    ),
    (
        "AWS::Glue::Database",
        "arn:{p}:glue:{r}:{a}:database/{name}",
        None,
    ),
    ("AWS::Glue::Job", "arn:{p}:glue:{r}:{a}:job/{name}", None),
];

/// The result of turning one LookupEvents resource into an ARN.
#[derive(Debug, PartialEq, Eq)]
pub enum Built {
    Arn {
        arn: String,
        completed: bool,
    },
    /// The type has no known ARN format (or no type was given for a bare name).
    UnknownType(String),
}

/// Builds the ARN of a LookupEvents resource.
pub fn build(
    kind: Option<&str>,
    name: &str,
    ctx: (&str, &str, &str),
    index: Option<&ArnIndex>,
) -> Built {
    let name = name.trim();
    if arn::is_arn(name) {
        return match arn::normalize(name) {
            Some(arn) => Built::Arn {
                arn,
                completed: false,
            },
            None => Built::UnknownType(kind.unwrap_or("?").to_string()),
        };
    }
    let kind = kind.unwrap_or("");
    let Some((_, format, completion)) = FORMATS.iter().find(|(k, _, _)| *k == kind) else {
        return Built::UnknownType(if kind.is_empty() {
            "(none)".into()
        } else {
            kind.into()
        });
    };
    let (partition, region, account) = ctx;
    let name = match kind {
        "AWS::SSM::Parameter" => name.trim_start_matches('/'),
        "AWS::SQS::Queue" => name.rsplit('/').next().unwrap_or(name),
        _ => name,
    };
    let built = format
        .replace("{p}", partition)
        .replace("{r}", region)
        .replace("{a}", account)
        .replace("{name}", name);
    let built = arn::normalize(&built).unwrap_or(built);
    if let (Some(how), Some(index)) = (completion, index) {
        if let Some(full) = index.complete(&built, *how) {
            let completed = full != built;
            return Built::Arn {
                arn: full,
                completed,
            };
        }
    }
    Built::Arn {
        arn: built,
        completed: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: (&str, &str, &str) = ("aws", "ap-northeast-1", "123456789012");

    #[test]
    fn bare_names_from_the_seed_article() {
        assert_eq!(
            build(Some("AWS::S3::Bucket"), "hoge0109tmp", CTX, None),
            Built::Arn {
                arn: "arn:aws:s3:::hoge0109tmp".into(),
                completed: false
            }
        );
        assert_eq!(
            build(Some("AWS::EC2::Instance"), "i-05ae8f7dcc61815ac", CTX, None),
            Built::Arn {
                arn: "arn:aws:ec2:ap-northeast-1:123456789012:instance/i-05ae8f7dcc61815ac".into(),
                completed: false
            }
        );
        let trail = "arn:aws:cloudtrail:ap-northeast-1:123456789012:trail/management";
        assert_eq!(
            build(Some("AWS::CloudTrail::Trail"), trail, CTX, None),
            Built::Arn {
                arn: trail.into(),
                completed: false
            }
        );
        assert_eq!(
            build(Some("AWS::Foo::Bar"), "x", CTX, None),
            Built::UnknownType("AWS::Foo::Bar".into())
        );
    }
}
