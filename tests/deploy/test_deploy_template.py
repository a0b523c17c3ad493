"""The synthesized AWS template (deploy/aws) has the properties docs/deploy.md promises.

The template is the one `scripts/deploy-check` writes (scripts/test runs it first); when it is
missing or older than the CDK app or the journey definitions, it is synthesized once here.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "aws" / "cdk.out" / "Wayline.template.json"
SOURCES = [
    *(ROOT / "deploy" / "aws").glob("*.py"),
    *(ROOT / "deploy" / "aws" / "wayline_deploy").glob("*.py"),
    ROOT / "deploy" / "aws" / "cdk.json",
    *(ROOT / "journeys").glob("*.yaml"),
]


def _stale() -> bool:
    if not TEMPLATE.exists():
        return True
    made = TEMPLATE.stat().st_mtime
    return any(source.stat().st_mtime > made for source in SOURCES)


@pytest.fixture(scope="module")
def resources() -> dict[str, dict[str, Any]]:
    if _stale():
        subprocess.run([str(ROOT / "scripts" / "deploy-check"), "--synth-only"], check=True)
    template = json.loads(TEMPLATE.read_text())
    found: dict[str, dict[str, Any]] = template["Resources"]
    return found


def of_type(resources: dict[str, dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in resources.values() if r["Type"] == kind]


def one(resources: dict[str, dict[str, Any]], kind: str) -> dict[str, Any]:
    found = of_type(resources, kind)
    assert len(found) == 1, f"{kind}: {len(found)}"
    return found[0]


def ref_id(value: Any) -> str:
    """The logical id a {"Fn::GetAtt": [id, ...]} or {"Ref": id} names."""
    if "Ref" in value:
        return str(value["Ref"])
    return str(value["Fn::GetAtt"][0])


def test_aurora_is_encrypted_with_a_rotated_customer_managed_key_and_iam_auth(
    resources: dict[str, dict[str, Any]],
) -> None:
    cluster = one(resources, "AWS::RDS::DBCluster")
    assert cluster["Engine"] == "aurora-postgresql"
    assert cluster["StorageEncrypted"] is True
    key = resources[ref_id(cluster["KmsKeyId"])]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    assert cluster["EnableIAMDatabaseAuthentication"] is True
    assert cluster["DeletionProtection"] is True
    instances = of_type(resources, "AWS::RDS::DBInstance")
    assert len(instances) >= 2  # a writer and a reader: multi-AZ failover
    assert all(instance["PubliclyAccessible"] is False for instance in instances)


def test_every_kms_key_rotates(resources: dict[str, dict[str, Any]]) -> None:
    keys = of_type(resources, "AWS::KMS::Key")
    assert len(keys) == 3
    assert all(key["EnableKeyRotation"] is True for key in keys)


def _documents_bucket(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    (bucket,) = [
        bucket
        for bucket in of_type(resources, "AWS::S3::Bucket")
        if bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ]["SSEAlgorithm"]
        == "aws:kms"
    ]
    return bucket


def test_buckets_block_public_access_and_documents_use_sse_kms_and_versions(
    resources: dict[str, dict[str, Any]],
) -> None:
    for bucket in of_type(resources, "AWS::S3::Bucket"):
        assert bucket["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
    documents = _documents_bucket(resources)
    default = documents["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert (
        resources[ref_id(default["ServerSideEncryptionByDefault"]["KMSMasterKeyID"])]["Type"]
        == "AWS::KMS::Key"
    )
    assert documents["VersioningConfiguration"] == {"Status": "Enabled"}
    assert "DestinationBucketName" in documents["LoggingConfiguration"]


def test_documents_expire_after_the_longest_declared_retention(
    resources: dict[str, dict[str, Any]],
) -> None:
    (rule,) = _documents_bucket(resources)["LifecycleConfiguration"]["Rules"]
    # motor-claim.yaml declares P7Y, the longest: 7 * 366 days, and cdk.json's 30-day margin.
    assert rule["ExpirationInDays"] == 7 * 366 + 30
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert [t["StorageClass"] for t in rule["Transitions"]] == ["STANDARD_IA", "GLACIER_IR"]


def test_waf_has_the_managed_rule_sets_and_a_rate_rule_and_guards_the_alb(
    resources: dict[str, dict[str, Any]],
) -> None:
    acl = one(resources, "AWS::WAFv2::WebACL")
    rules = {rule["Name"]: rule for rule in acl["Rules"]}
    managed = {
        rule["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for rule in acl["Rules"]
        if "ManagedRuleGroupStatement" in rule["Statement"]
    }
    assert managed == {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesSQLiRuleSet",
    }
    rate = rules["RateLimitPerAddress"]
    assert rate["Action"] == {"Block": {}}
    statement = rate["Statement"]["RateBasedStatement"]
    assert statement["Limit"] == 1000
    # Viewers, not CloudFront's nodes: the header the edge function sets from the connection.
    assert statement["AggregateKeyType"] == "FORWARDED_IP"
    header = statement["ForwardedIPConfig"]["HeaderName"]
    functions = of_type(resources, "AWS::CloudFront::Function")
    assert any(header in f["FunctionCode"] for f in functions)
    association = one(resources, "AWS::WAFv2::WebACLAssociation")
    assert resources[ref_id(association["ResourceArn"])]["Type"] == (
        "AWS::ElasticLoadBalancingV2::LoadBalancer"
    )


def test_services_roll_back_on_a_broken_deployment_or_a_breached_slo(
    resources: dict[str, dict[str, Any]],
) -> None:
    services = of_type(resources, "AWS::ECS::Service")
    assert len(services) == 3
    for service in services:
        breaker = service["DeploymentConfiguration"]["DeploymentCircuitBreaker"]
        assert breaker == {"Enable": True, "Rollback": True}
    (web,) = [s for s in services if "LoadBalancers" in s]
    # The worker and the relay are deployed after the web service, whose tasks migrate.
    (web_id,) = [
        logical_id
        for logical_id, r in resources.items()
        if r["Type"] == "AWS::ECS::Service" and "LoadBalancers" in r["Properties"]
    ]
    others = [r for r in resources.values() if r["Type"] == "AWS::ECS::Service"]
    assert sum(web_id in r.get("DependsOn", []) for r in others) == 2
    alarms = web["DeploymentConfiguration"]["Alarms"]
    assert alarms["Enable"] is True and alarms["Rollback"] is True
    by_name = {alarm["AlarmName"]: alarm for alarm in of_type(resources, "AWS::CloudWatch::Alarm")}
    named = [by_name[name] for name in alarms["AlarmNames"]]
    assert len(named) == 2
    kinds = {json.dumps(alarm.get("ExtendedStatistic")) for alarm in named}
    # Both SLO alarms tell someone, as well as rolling a deployment back.
    assert all(alarm["AlarmActions"] for alarm in named)
    assert '"p99"' in kinds  # the latency SLO; the other is the 5xx share


def test_containers_run_the_three_commands_read_only_and_with_real_settings(
    resources: dict[str, dict[str, Any]],
) -> None:
    containers = [
        container
        for task in of_type(resources, "AWS::ECS::TaskDefinition")
        for container in task["ContainerDefinitions"]
    ]
    commands = {" ".join(c["Command"]) for c in containers}
    assert {"worker", "events relay", "migrate"} <= commands
    assert any(command.startswith("serve ") for command in commands)
    for container in containers:
        assert container["ReadonlyRootFilesystem"] is True
        names = {item["Name"] for item in container["Environment"]}
        assert {"WAYLINE_DATABASE_URL", "WAYLINE_STORAGE_URL", "WAYLINE_EVENT_BUS"} <= names
        secrets = {item["Name"] for item in container["Secrets"]}
        assert {"PGPASSWORD", "WAYLINE_SECRET_KEY"} <= secrets
        # No secret in plain sight: the database URL carries no password.
        url = json.dumps(
            next(
                i["Value"] for i in container["Environment"] if i["Name"] == "WAYLINE_DATABASE_URL"
            )
        )
        assert "postgresql://wayline@" in url and "secretsmanager" not in url


def test_cloudfront_adds_security_headers_and_speaks_tls_to_the_origin(
    resources: dict[str, dict[str, Any]],
) -> None:
    config = one(resources, "AWS::CloudFront::Distribution")["DistributionConfig"]
    policy_id = ref_id(config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"])
    headers = resources[policy_id]["Properties"]["ResponseHeadersPolicyConfig"]
    security = headers["SecurityHeadersConfig"]
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert "ContentTypeOptions" in security
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    (origin,) = config["Origins"]
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"


def test_log_groups_keep_logs_a_year_encrypted(resources: dict[str, dict[str, Any]]) -> None:
    groups = of_type(resources, "AWS::Logs::LogGroup")
    assert groups
    for group in groups:
        assert group["RetentionInDays"] >= 365
        assert "KmsKeyId" in group
