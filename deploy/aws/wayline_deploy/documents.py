"""The documents bucket (uploads and evidence) and the bucket for access logs.

Documents: SSE-KMS with the documents key, versioned, public access blocked, TLS only, server
access logs to the logs bucket, and lifecycle rules that follow the declared retention.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct


class Documents(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        key: kms.IKey,
        retention_days: int,
        infrequent_access_days: int,
        glacier_days: int,
        noncurrent_version_days: int,
    ) -> None:
        super().__init__(scope, id)
        # Load balancer and CloudFront logs are written by AWS services that support only
        # S3-managed keys (SSE-S3) and, for CloudFront, ACLs: hence a bucket of their own.
        self.logs = s3.Bucket(
            self,
            "Logs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-logs",
                    expiration=Duration.days(400),
                    noncurrent_version_expiration=Duration.days(noncurrent_version_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
        )
        transitions = [
            s3.Transition(
                storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                transition_after=Duration.days(infrequent_access_days),
            )
        ]
        if glacier_days > infrequent_access_days:
            transitions.append(
                s3.Transition(
                    storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                    transition_after=Duration.days(glacier_days),
                )
            )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.logs,
            server_access_logs_prefix="documents/",
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="retention",
                    transitions=transitions,
                    # After the longest declared retention no journey needs a document.
                    expiration=Duration.days(retention_days),
                    # A replaced or deleted document's old version is kept this long to undo
                    # mistakes, then goes: it is personal data with no further purpose.
                    noncurrent_version_expiration=Duration.days(noncurrent_version_days),
                    expired_object_delete_marker=False,
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
        )
