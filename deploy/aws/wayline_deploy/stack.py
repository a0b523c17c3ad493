"""The Wayline stack: the constructs of this package, wired together, and the settings each
container gets (names from src/wayline/config.py: WAYLINE_DATABASE_URL, WAYLINE_STORAGE_URL...).
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CfnOutput, Environment, Fn, Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from wayline_deploy.alarms import SloAlarms
from wayline_deploy.database import DATABASE_NAME, Database
from wayline_deploy.documents import Documents
from wayline_deploy.edge import Edge
from wayline_deploy.firewall import Firewall
from wayline_deploy.keys import Keys
from wayline_deploy.network import Network
from wayline_deploy.retention import longest_declared_days
from wayline_deploy.services import Runtime, Scaling, Services, image
from wayline_deploy.settings import DeploySettings

REPOSITORY = Path(__file__).resolve().parents[3]
# The VPC's addresses: the load balancer's requests come from here (WAYLINE_TRUSTED_PROXIES).
VPC_CIDR = "10.40.0.0/16"
# Where in the documents bucket Wayline keeps files (WAYLINE_STORAGE_URL's prefix); the tasks
# may touch objects under it and nowhere else.
DOCUMENTS_PREFIX = "documents"


class WaylineStack(Stack):
    def __init__(self, scope: Construct, settings: DeploySettings) -> None:
        super().__init__(
            scope,
            settings.stack_name,
            env=Environment(account=settings.account, region=settings.region),
            description="Wayline: digital customer journeys (web, worker, event relay)",
            termination_protection=True,
        )
        log_retention = _retention(settings.log_retention_days)
        keys = Keys(self, "Keys")
        network = Network(
            self,
            "Network",
            nat_gateways=settings.nat_gateways,
            logs_key=keys.logs,
            log_retention=log_retention,
        )
        database = Database(
            self,
            "Database",
            vpc=network.vpc,
            key=keys.database,
            logs_key=keys.logs,
            cluster_identifier=f"{settings.stack_name.lower()}-database",
            min_capacity=settings.database_min_capacity,
            max_capacity=settings.database_max_capacity,
            log_retention=log_retention,
        )
        documents = Documents(
            self,
            "Documents",
            key=keys.documents,
            retention_days=_document_retention(settings),
            infrequent_access_days=settings.document_infrequent_access_days,
            glacier_days=settings.document_glacier_days,
            noncurrent_version_days=settings.noncurrent_version_days,
        )
        bus = events.EventBus(
            self,
            "Events",
            event_bus_name=f"{settings.stack_name.lower()}-events",
            kms_key=keys.documents,
        )
        firewall = Firewall(
            self,
            "Firewall",
            rate_limit=settings.waf_rate_limit_per_5_minutes,
            logs_key=keys.logs,
            log_retention=log_retention,
        )
        edge = Edge(
            self,
            "Edge",
            vpc=network.vpc,
            logs_bucket=documents.logs,
            secrets_key=keys.database,
            web_acl_arn=firewall.acl.attr_arn,
            domain_name=settings.domain_name,
            origin_domain_name=settings.origin_domain_name,
            alb_certificate_arn=settings.alb_certificate_arn,
            cloudfront_certificate_arn=settings.cloudfront_certificate_arn,
        )
        app_secrets = _app_secrets(self, keys.database)
        runtime = Runtime(
            image=image(self, settings.image_repository, settings.image_tag),
            environment={
                # No password here: libpq takes it from PGPASSWORD (a secret below), so a
                # rotated password reaches each new task without a new task definition.
                "WAYLINE_DATABASE_URL": (
                    f"postgresql://wayline@{database.cluster.cluster_endpoint.hostname}:"
                    f"{database.cluster.cluster_endpoint.port}/{DATABASE_NAME}?sslmode=require"
                ),
                "WAYLINE_STORAGE_URL": f"s3://{documents.bucket.bucket_name}/{DOCUMENTS_PREFIX}",
                "WAYLINE_S3_KMS_KEY_ID": keys.documents.key_arn,
                "WAYLINE_EVENT_BUS": f"eventbridge://{bus.event_bus_name}",
                "WAYLINE_PUBLIC_URL": f"https://{settings.domain_name}",
                "WAYLINE_SECURE_COOKIES": "true",
                "WAYLINE_TRUSTED_PROXIES": VPC_CIDR,
                "WAYLINE_CONNECTORS": "/app/connectors.yaml",
                "WAYLINE_LOG_LEVEL": "INFO",
                "AWS_REGION": settings.region,
            },
            secrets={
                "PGPASSWORD": ecs.Secret.from_secrets_manager(database.secret, "password"),
                **{
                    name: ecs.Secret.from_secrets_manager(secret)
                    for name, secret in app_secrets.items()
                },
            },
            logs_key=keys.logs,
            log_retention=log_retention,
        )
        services = Services(
            self,
            "Services",
            vpc=network.vpc,
            runtime=runtime,
            web=Scaling(settings.web_min_tasks, settings.web_max_tasks),
            worker=Scaling(settings.worker_min_tasks, settings.worker_max_tasks),
            relay=Scaling(settings.relay_min_tasks, settings.relay_max_tasks),
        )
        target_group = services.expose(edge.listener, edge.origin_condition(), edge.security_group)
        alarms = SloAlarms(
            self,
            "Slo",
            prefix=settings.stack_name,
            alb=edge.alb,
            target_group=target_group,
            availability=settings.slo_availability,
            p99_latency_seconds=settings.slo_p99_latency_seconds,
            key=keys.logs,
            email=settings.alarm_email,
        )
        services.web.enable_deployment_alarms(
            alarms.names(), behavior=ecs.AlarmBehavior.ROLLBACK_ON_ALARM
        )
        self._grant(services, database, documents, bus, keys)
        CfnOutput(
            self,
            "DistributionDomainName",
            value=edge.distribution.domain_name,
            description=f"Point {settings.domain_name} here (CNAME or alias)",
        )
        CfnOutput(
            self,
            "LoadBalancerDnsName",
            value=edge.alb.load_balancer_dns_name,
            description=f"Point {settings.origin_domain_name} here (CNAME or alias)",
        )
        CfnOutput(self, "DocumentsBucket", value=documents.bucket.bucket_name)
        CfnOutput(self, "EventBus", value=bus.event_bus_name)

    @property
    def availability_zones(self) -> list[str]:
        """Three zones chosen by CloudFormation at deploy time (Fn::GetAZs), not looked up at
        synth: `cdk synth --no-lookups` must work offline, and no zone name is hard-coded."""
        return [Fn.select(index, Fn.get_azs()) for index in range(3)]

    @staticmethod
    def _grant(
        services: Services,
        database: Database,
        documents: Documents,
        bus: events.EventBus,
        keys: Keys,
    ) -> None:
        """Least privilege per service: the relay publishes events and touches no documents."""
        database.cluster.connections.allow_default_port_from(
            services.security_group, "Wayline tasks"
        )
        for service in (services.web, services.worker, services.relay):
            # For IAM database authentication (rds-db:connect as the app's user).
            database.cluster.grant_connect(service.task_definition.task_role, "wayline")
        for service in (services.web, services.worker):
            documents.bucket.grant_read_write(
                service.task_definition.task_role, f"{DOCUMENTS_PREFIX}/*"
            )
        bus.grant_put_events_to(services.relay.task_definition.task_role)
        keys.documents.grant_encrypt_decrypt(services.relay.task_definition.task_role)


def _app_secrets(scope: Construct, key: kms.IKey) -> dict[str, secretsmanager.ISecret]:
    """Secrets the app reads by name: generated here, never in a template or an image."""

    def generated(id: str, description: str, length: int) -> secretsmanager.Secret:
        return secretsmanager.Secret(
            scope,
            id,
            description=f"Wayline: {description}",
            encryption_key=key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True, password_length=length
            ),
        )

    return {
        "WAYLINE_SECRET_KEY": generated("SecretKey", "signs session cookies", 64),
        "WAYLINE_METRICS_TOKEN": generated("MetricsToken", "opens /metrics", 40),
    }


def _document_retention(settings: DeploySettings) -> int:
    declared = settings.document_retention_days or longest_declared_days(REPOSITORY / "journeys")
    return declared + settings.document_retention_margin_days


# CloudWatch's allowed retentions, in days, by the CDK's names for them.
_RETENTIONS = {
    1: "ONE_DAY",
    3: "THREE_DAYS",
    5: "FIVE_DAYS",
    7: "ONE_WEEK",
    14: "TWO_WEEKS",
    30: "ONE_MONTH",
    60: "TWO_MONTHS",
    90: "THREE_MONTHS",
    120: "FOUR_MONTHS",
    150: "FIVE_MONTHS",
    180: "SIX_MONTHS",
    365: "ONE_YEAR",
    400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS",
    731: "TWO_YEARS",
    1096: "THREE_YEARS",
    1827: "FIVE_YEARS",
    2192: "SIX_YEARS",
    2557: "SEVEN_YEARS",
    2922: "EIGHT_YEARS",
    3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}


def _retention(days: int) -> logs.RetentionDays:
    """The shortest CloudWatch retention that keeps logs at least `days` days."""
    chosen = next((kept for kept in sorted(_RETENTIONS) if kept >= days), max(_RETENTIONS))
    return getattr(logs.RetentionDays, _RETENTIONS[chosen])  # type: ignore[no-any-return]
