"""AWS WAF in front of the load balancer: AWS's managed rule sets and a per-address rate rule.

The rate rule is evaluated first, then the managed rule sets. The rate rule blocks a viewer
that sends more than the configured number of requests in five minutes (the app's own, finer
limits still apply behind it: docs/operations.md).
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as waf
from constructs import Construct

MANAGED_RULE_SETS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)
RATE_RULE = "RateLimitPerAddress"
# The viewer's address, set by CloudFront from the connection itself (edge.py): behind
# CloudFront every request comes from one of its nodes, so counting source addresses at the
# load balancer would count nodes, not viewers. A viewer cannot forge it: the edge overwrites
# whatever a request brings.
VIEWER_IP_HEADER = "x-wayline-viewer-ip"


def _visibility(name: str) -> waf.CfnWebACL.VisibilityConfigProperty:
    return waf.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


def _managed(name: str, priority: int) -> waf.CfnWebACL.RuleProperty:
    excluded: list[waf.CfnWebACL.RuleActionOverrideProperty] = []
    if name == "AWSManagedRulesCommonRuleSet":
        # Uploads (photos, PDFs) are larger than the rule set's 8 KB body limit; the app
        # bounds bodies itself (WAYLINE_MAX_UPLOAD_BYTES) and checks each file by content.
        excluded.append(
            waf.CfnWebACL.RuleActionOverrideProperty(
                name="SizeRestrictions_BODY",
                action_to_use=waf.CfnWebACL.RuleActionProperty(count={}),
            )
        )
    return waf.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        override_action=waf.CfnWebACL.OverrideActionProperty(none={}),
        statement=waf.CfnWebACL.StatementProperty(
            managed_rule_group_statement=waf.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS", name=name, rule_action_overrides=excluded or None
            )
        ),
        visibility_config=_visibility(name),
    )


class Firewall(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        rate_limit: int,
        logs_key: kms.IKey,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id)
        rate_rule = waf.CfnWebACL.RuleProperty(
            name=RATE_RULE,
            priority=0,
            action=waf.CfnWebACL.RuleActionProperty(block={}),
            statement=waf.CfnWebACL.StatementProperty(
                rate_based_statement=waf.CfnWebACL.RateBasedStatementProperty(
                    limit=rate_limit,
                    aggregate_key_type="FORWARDED_IP",
                    forwarded_ip_config=waf.CfnWebACL.ForwardedIPConfigurationProperty(
                        header_name=VIEWER_IP_HEADER,
                        # Without the header a request did not come through CloudFront (the
                        # listener refuses it anyway): count it against the limit.
                        fallback_behavior="MATCH",
                    ),
                    evaluation_window_sec=300,
                )
            ),
            visibility_config=_visibility(RATE_RULE),
        )
        self.acl = waf.CfnWebACL(
            self,
            "Acl",
            scope="REGIONAL",
            default_action=waf.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility("wayline"),
            rules=[rate_rule]
            + [_managed(name, priority) for priority, name in enumerate(MANAGED_RULE_SETS, 1)],
        )
        # WAF logs to a log group whose name starts aws-waf-logs- (WAF's own requirement).
        # Only the cookie and authorization headers are redacted: they carry sessions.
        log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name="aws-waf-logs-wayline",
            retention=log_retention,
            encryption_key=logs_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        waf.CfnLoggingConfiguration(
            self,
            "Logging",
            resource_arn=self.acl.attr_arn,
            log_destination_configs=[log_group.log_group_arn],
            redacted_fields=[
                waf.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": "cookie"}),
                waf.CfnLoggingConfiguration.FieldToMatchProperty(
                    single_header={"Name": "authorization"}
                ),
            ],
        )
