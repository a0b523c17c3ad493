"""The deployment's settings, read from CDK context (cdk.json, or `-c wayline:name=value`).

Every value has a default in cdk.json, so `cdk synth` is deterministic and offline; a real
deployment overrides the account, region, names and certificates (docs/deploy.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Node

PREFIX = "wayline:"


@dataclass(frozen=True)
class DeploySettings:
    """What one deployment of Wayline is made of. Numbers are checked when read: a bad value
    stops the synth with the setting's name, before anything reaches CloudFormation."""

    account: str
    region: str
    stack_name: str
    domain_name: str
    origin_domain_name: str
    alb_certificate_arn: str
    cloudfront_certificate_arn: str
    image_repository: str
    image_tag: str
    alarm_email: str
    nat_gateways: int
    database_min_capacity: float
    database_max_capacity: float
    web_min_tasks: int
    web_max_tasks: int
    worker_min_tasks: int
    worker_max_tasks: int
    relay_min_tasks: int
    relay_max_tasks: int
    log_retention_days: int
    # 0: the longest `retention` declared by the journey definitions (retention.py).
    document_retention_days: int
    document_retention_margin_days: int
    document_infrequent_access_days: int
    document_glacier_days: int
    noncurrent_version_days: int
    waf_rate_limit_per_5_minutes: int
    slo_availability: float
    slo_p99_latency_seconds: float

    @classmethod
    def from_context(cls, node: Node) -> DeploySettings:
        def text(name: str) -> str:
            value = node.try_get_context(PREFIX + name)
            if value is None:
                raise ValueError(f"context {PREFIX}{name} is missing (cdk.json sets a default)")
            return str(value)

        def whole(name: str, least: int = 0) -> int:
            value = int(text(name))
            if value < least:
                raise ValueError(f"context {PREFIX}{name} must be {least} or more, not {value}")
            return value

        def number(name: str) -> float:
            value = float(text(name))
            if value <= 0:
                raise ValueError(f"context {PREFIX}{name} must be more than 0, not {value}")
            return value

        settings = cls(
            account=text("account"),
            region=text("region"),
            stack_name=text("stackName"),
            domain_name=text("domainName"),
            origin_domain_name=text("originDomainName"),
            alb_certificate_arn=text("albCertificateArn"),
            cloudfront_certificate_arn=text("cloudFrontCertificateArn"),
            image_repository=text("imageRepository"),
            image_tag=text("imageTag"),
            alarm_email=text("alarmEmail"),
            nat_gateways=whole("natGateways", 1),
            database_min_capacity=number("databaseMinCapacity"),
            database_max_capacity=number("databaseMaxCapacity"),
            web_min_tasks=whole("webMinTasks", 1),
            web_max_tasks=whole("webMaxTasks", 1),
            worker_min_tasks=whole("workerMinTasks", 1),
            worker_max_tasks=whole("workerMaxTasks", 1),
            relay_min_tasks=whole("relayMinTasks", 1),
            relay_max_tasks=whole("relayMaxTasks", 1),
            log_retention_days=whole("logRetentionDays", 1),
            document_retention_days=whole("documentRetentionDays"),
            document_retention_margin_days=whole("documentRetentionMarginDays"),
            document_infrequent_access_days=whole("documentInfrequentAccessDays", 30),
            document_glacier_days=whole("documentGlacierDays", 1),
            noncurrent_version_days=whole("noncurrentVersionDays", 1),
            waf_rate_limit_per_5_minutes=whole("wafRateLimitPer5Minutes", 10),
            slo_availability=number("sloAvailability"),
            slo_p99_latency_seconds=number("sloP99LatencySeconds"),
        )
        for low, high in (
            ("web_min_tasks", "web_max_tasks"),
            ("worker_min_tasks", "worker_max_tasks"),
            ("relay_min_tasks", "relay_max_tasks"),
            ("database_min_capacity", "database_max_capacity"),
        ):
            if getattr(settings, low) > getattr(settings, high):
                raise ValueError(f"{low} is more than {high}")
        if not 0 < settings.slo_availability < 100:
            raise ValueError("sloAvailability is a percentage between 0 and 100")
        return settings
