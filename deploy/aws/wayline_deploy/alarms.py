"""CloudWatch alarms on the web service's SLOs, which also guard its deployments.

- Availability: the share of requests answered with a 5xx (by the tasks or by the load
  balancer for them) over five minutes, against the availability objective (99.9%: 0.1%).
  Every step a customer takes is a request through here, so this is step availability as the
  customer sees it.
- Latency: the p99 of the tasks' response time over five minutes, against its objective.

Each alarm notifies the alarm topic, and is a deployment alarm of the web service: ECS rolls a
deployment back when one goes off while it is in progress.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

FIVE_MINUTES = Duration.minutes(5)


class SloAlarms(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        prefix: str,
        alb: elbv2.ApplicationLoadBalancer,
        target_group: elbv2.ApplicationTargetGroup,
        availability: float,
        p99_latency_seconds: float,
        key: kms.IKey,
        email: str,
    ) -> None:
        super().__init__(scope, id)
        self.topic = sns.Topic(
            self, "Topic", display_name="Wayline alarms", master_key=key, enforce_ssl=True
        )
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        metrics = target_group.metrics
        errors = cloudwatch.MathExpression(
            label="5xx share of requests (%)",
            expression="100 * (FILL(target5xx, 0) + FILL(lb5xx, 0)) / MAX([FILL(requests, 0), 1])",
            using_metrics={
                "target5xx": metrics.http_code_target(
                    elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=FIVE_MINUTES
                ),
                "lb5xx": alb.metrics.http_code_elb(
                    elbv2.HttpCodeElb.ELB_5XX_COUNT, period=FIVE_MINUTES
                ),
                "requests": metrics.request_count(period=FIVE_MINUTES),
            },
            period=FIVE_MINUTES,
        )
        self.availability = errors.create_alarm(
            self,
            "Availability",
            # Named, not generated: an ECS deployment alarm named by a reference to the alarm
            # can make a dependency cycle with the service.
            alarm_name=f"{prefix}-web-availability",
            alarm_description=f"More than {100 - availability:.3g}% of requests failed (5xx)",
            threshold=round(100 - availability, 6),
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.latency = metrics.target_response_time(
            statistic="p99", period=FIVE_MINUTES
        ).create_alarm(
            self,
            "Latency",
            alarm_name=f"{prefix}-web-p99-latency",
            alarm_description=f"p99 response time above {p99_latency_seconds}s",
            threshold=p99_latency_seconds,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        for alarm in (self.availability, self.latency):
            alarm.add_alarm_action(actions.SnsAction(self.topic))
            alarm.add_ok_action(actions.SnsAction(self.topic))

        self._names = [f"{prefix}-web-availability", f"{prefix}-web-p99-latency"]

    def names(self) -> list[str]:
        """The alarms' names as plain strings (no references: see the comment above)."""
        return list(self._names)
