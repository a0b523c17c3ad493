"""Aurora PostgreSQL: a writer and a reader in different zones (failover in about a minute),
encrypted with the database key, IAM authentication on, credentials in Secrets Manager.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from constructs import Construct

DATABASE_NAME = "wayline"
ENGINE = rds.DatabaseClusterEngine.aurora_postgres(version=rds.AuroraPostgresEngineVersion.VER_17_9)


class Database(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        key: kms.IKey,
        logs_key: kms.IKey,
        cluster_identifier: str,
        min_capacity: float,
        max_capacity: float,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description="Aurora: reached by the Wayline tasks only",
        )
        self.credentials = rds.Credentials.from_generated_secret(
            "wayline",
            encryption_key=key,
            # The entrypoint puts the password in a URL: keep it to URL-safe characters.
            exclude_characters=" %+~`#$&*()|[]{}:;<>?!'/@\"\\=,^",
        )
        self.cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            engine=ENGINE,
            credentials=self.credentials,
            default_database_name=DATABASE_NAME,
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_groups=[self.security_group],
            writer=rds.ClusterInstance.serverless_v2(
                "Writer",
                auto_minor_version_upgrade=True,
                enable_performance_insights=True,
                performance_insight_encryption_key=key,
            ),
            # A reader in another zone: Aurora promotes it when the writer's zone fails.
            readers=[
                rds.ClusterInstance.serverless_v2(
                    "Reader",
                    scale_with_writer=True,
                    auto_minor_version_upgrade=True,
                    enable_performance_insights=True,
                    performance_insight_encryption_key=key,
                )
            ],
            serverless_v2_min_capacity=min_capacity,
            serverless_v2_max_capacity=max_capacity,
            storage_encrypted=True,
            storage_encryption_key=key,
            iam_authentication=True,
            deletion_protection=True,
            removal_policy=RemovalPolicy.SNAPSHOT,
            backup=rds.BackupProps(retention=Duration.days(14), preferred_window="02:00-03:00"),
            preferred_maintenance_window="sun:03:30-sun:04:30",
            cluster_identifier=cluster_identifier,
            cloudwatch_logs_exports=["postgresql"],
            monitoring_interval=Duration.seconds(60),
            copy_tags_to_snapshot=True,
            parameters={
                # Connections must be encrypted; statements are not logged (they carry answers).
                "rds.force_ssl": "1",
                "log_statement": "none",
                "log_min_duration_statement": "-1",
            },
        )
        # The log group Aurora exports to, made here (not by a log-retention Lambda) so that
        # it has its retention and the logs key before the first line arrives.
        self.logs = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/rds/cluster/{cluster_identifier}/postgresql",
            retention=log_retention,
            encryption_key=logs_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.cluster.node.add_dependency(self.logs)
        assert self.cluster.secret is not None
        self.secret = self.cluster.secret
