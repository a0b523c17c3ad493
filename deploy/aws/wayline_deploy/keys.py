"""Customer-managed KMS keys, one per kind of data, each rotated yearly by KMS.

Separate keys keep grants narrow: the web tasks may use the documents key without being able
to decrypt the database's snapshots, and an operator who reads logs needs only the logs key.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


class Keys(Construct):
    """`database` (Aurora, Performance Insights, secrets), `documents` (the documents bucket and
    the event bus) and `logs` (CloudWatch log groups and the alarm topic)."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.database = self._key("Database", "Aurora storage, Performance Insights, secrets")
        self.documents = self._key("Documents", "The documents bucket and the event bus")
        self.logs = self._key("Logs", "CloudWatch Logs and the alarm topic")
        region = Stack.of(self).region
        # CloudWatch Logs encrypts with a key only when the key's policy lets it (it cannot be
        # granted through IAM); limited to this account's log groups.
        self.logs.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(f"logs.{region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": Stack.of(self).format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
        self.logs.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )

    def _key(self, id: str, purpose: str) -> kms.Key:
        return kms.Key(
            self,
            id,
            description=f"Wayline: {purpose}",
            enable_key_rotation=True,
            # Losing a key loses every backup made with it: keys outlive the stack.
            removal_policy=RemovalPolicy.RETAIN,
        )
