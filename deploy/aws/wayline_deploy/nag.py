"""cdk-nag's AwsSolutions findings that this design accepts, each with its written reason.

cdk-nag runs through the CDK's Validations API (app.py); anything it finds that is not
acknowledged here fails the synth, and so `scripts/deploy-check`. An acknowledgement names
the rule (and, for IAM wildcards, the exact finding), the construct it applies to (and the
constructs under it) and why.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations

# Construct path (under the stack) -> [(rule or finding id, reason)].
ACCEPTED: dict[str, list[tuple[str, str]]] = {}

_KMS_GRANT = (
    "The CDK's KMS grant for data keys (kms:GenerateDataKey*, kms:ReEncrypt*) on one key, "
    "the documents key, named by ARN: the wildcard is over the variants of one operation."
)
_S3_GRANT = (
    "The CDK's read-write grant on the documents bucket: object actions (Get/Put/Delete "
    "object, their version and tagging variants, multipart abort) on the objects under "
    "Wayline's prefix (documents/) alone, whose names Wayline makes per file."
)
_WEB_AND_WORKER_ROLES: list[tuple[str, str]] = [
    ("AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]", _KMS_GRANT),
    ("AwsSolutions::AwsSolutions-IAM5[Action::kms:ReEncrypt*]", _KMS_GRANT),
    ("AwsSolutions::AwsSolutions-IAM5[Action::s3:Abort*]", _S3_GRANT),
    ("AwsSolutions::AwsSolutions-IAM5[Action::s3:DeleteObject*]", _S3_GRANT),
    ("AwsSolutions::AwsSolutions-IAM5[Action::s3:GetBucket*]", _S3_GRANT),
    ("AwsSolutions::AwsSolutions-IAM5[Action::s3:GetObject*]", _S3_GRANT),
    ("AwsSolutions::AwsSolutions-IAM5[Action::s3:List*]", _S3_GRANT),
    (
        "AwsSolutions::AwsSolutions-IAM5[Resource::<DocumentsBucket089EA665.Arn>/documents/*]",
        _S3_GRANT,
    ),
]
_ENVIRONMENT = (
    "Only non-secret settings are plain environment variables (URLs, names, flags); every "
    "secret (database password, session key, metrics token) comes from Secrets Manager."
)
_EXECUTION_ROLE = (
    "ecr:GetAuthorizationToken has no resource-level permissions: AWS requires Resource *. "
    "The image pull and log writes are scoped to their repository and log group."
)
for _task in ("WebTask", "WorkerTask", "RelayTask"):
    ACCEPTED[f"Services/{_task}"] = [
        ("AwsSolutions::AwsSolutions-ECS2", _ENVIRONMENT),
        ("AwsSolutions::AwsSolutions-IAM5[Resource::*]", _EXECUTION_ROLE),
    ]
    ACCEPTED[f"Services/{_task}/TaskRole"] = (
        _WEB_AND_WORKER_ROLES if _task != "RelayTask" else _WEB_AND_WORKER_ROLES[:2]
    )

ACCEPTED["Database/Cluster/MonitoringRole"] = [
    (
        "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
        "service-role/AmazonRDSEnhancedMonitoringRole]",
        "AWS's managed policy for RDS Enhanced Monitoring is the documented way to let RDS "
        "write OS metrics; it allows only writes to the RDSOSMetrics log group.",
    )
]
ACCEPTED["Database/Cluster/Secret"] = [
    (
        "AwsSolutions::AwsSolutions-SMG4",
        "Not rotated automatically: tasks read the password at start (PGPASSWORD), so a "
        "rotation would break the running tasks' new connections. Rotate by a rolling "
        "restart (docs/deploy.md); IAM authentication is enabled for token sign-in instead.",
    )
]
ACCEPTED["SecretKey"] = [
    (
        "AwsSolutions::AwsSolutions-SMG4",
        "The session-signing key: rotating it signs every customer out, and replicas must "
        "change it together; rotated deliberately with a rolling restart (docs/deploy.md).",
    )
]
ACCEPTED["MetricsToken"] = [
    (
        "AwsSolutions::AwsSolutions-SMG4",
        "The metrics scraper's bearer token, held by the scraper too: rotated with it, by "
        "hand, with a rolling restart (docs/deploy.md).",
    )
]
ACCEPTED["Edge/OriginVerify"] = [
    (
        "AwsSolutions::AwsSolutions-SMG4",
        "The CloudFront-to-load-balancer header: CloudFront and the listener rule must change "
        "together, which a redeploy does; a rotation Lambda would break one side.",
    )
]
ACCEPTED["Edge/AlbSecurityGroup"] = [
    (
        "AwsSolutions::AwsSolutions-EC23",
        "HTTPS from anywhere: CloudFront's addresses are many and change (its prefix list "
        "needs a lookup, which an offline synth cannot do). The listener answers 403 to any "
        "request without CloudFront's secret origin-verify header, behind WAF.",
    )
]
ACCEPTED["Edge/Distribution"] = [
    (
        "AwsSolutions::AwsSolutions-CFR1",
        "No geo restriction: customers abroad (travelling, emigrated) still have claims and "
        "accounts; WAF and the rate rules limit abuse instead.",
    ),
    (
        "AwsSolutions::AwsSolutions-CFR2",
        "WAF is attached at the load balancer (regional web ACL, same rule sets); CloudFront "
        "passes every request there, with the viewer's address the rate rule counts.",
    ),
]


def acknowledge(stack: Stack) -> None:
    """Attach the accepted findings to the stack's constructs; a path that names no construct
    is an error (an acknowledgement must not outlive what it was for)."""
    for path, findings in ACCEPTED.items():
        construct = stack.node.find_child(path.split("/")[0])
        for part in path.split("/")[1:]:
            construct = construct.node.find_child(part)
        for rule, reason in findings:
            Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))
