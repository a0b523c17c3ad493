"""The way in: CloudFront (TLS, security headers, the viewer's address) in front of an
internet-facing Application Load Balancer that only CloudFront can use, behind AWS WAF.

The load balancer answers 403 to any request without the origin-verify header, whose value
is a secret CloudFront adds to each request it forwards: the load balancer's own name on the
internet is no way round CloudFront.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_wafv2 as waf
from constructs import Construct

from wayline_deploy.firewall import VIEWER_IP_HEADER

ORIGIN_VERIFY_HEADER = "X-Origin-Verify"
VIEWER_IP_FUNCTION = f"""function handler(event) {{
  event.request.headers['{VIEWER_IP_HEADER}'] = {{ value: event.viewer.ip }};
  return event.request;
}}"""


class Edge(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        logs_bucket: s3.IBucket,
        secrets_key: kms.IKey,
        web_acl_arn: str,
        domain_name: str,
        origin_domain_name: str,
        alb_certificate_arn: str,
        cloudfront_certificate_arn: str,
    ) -> None:
        super().__init__(scope, id)
        self.origin_verify = secretsmanager.Secret(
            self,
            "OriginVerify",
            description="Wayline: the header value CloudFront sends the load balancer",
            encryption_key=secrets_key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True, password_length=48
            ),
        )
        self.security_group = ec2.SecurityGroup(
            self,
            "AlbSecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description="Wayline load balancer: HTTPS from CloudFront",
        )
        self.security_group.add_ingress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS (CloudFront; the header gates it)"
        )
        self.alb = elbv2.ApplicationLoadBalancer(
            self,
            "Alb",
            vpc=vpc,
            internet_facing=True,
            security_group=self.security_group,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            drop_invalid_header_fields=True,
            deletion_protection=True,
            idle_timeout=Duration.seconds(60),
        )
        self.alb.log_access_logs(logs_bucket, prefix="alb")
        waf.CfnWebACLAssociation(
            self,
            "WafAssociation",
            resource_arn=self.alb.load_balancer_arn,
            web_acl_arn=web_acl_arn,
        )
        self.listener = self.alb.add_listener(
            "Https",
            port=443,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            certificates=[elbv2.ListenerCertificate.from_arn(alb_certificate_arn)],
            open=False,
            default_action=elbv2.ListenerAction.fixed_response(
                403, content_type="text/plain", message_body="Forbidden"
            ),
        )
        self._distribution(logs_bucket, domain_name, origin_domain_name, cloudfront_certificate_arn)

    def origin_condition(self) -> elbv2.ListenerCondition:
        """The listener condition a forwarding rule needs: the request came through CloudFront."""
        return elbv2.ListenerCondition.http_header(
            ORIGIN_VERIFY_HEADER, [self.origin_verify.secret_value.unsafe_unwrap()]
        )

    def _distribution(
        self,
        logs_bucket: s3.IBucket,
        domain_name: str,
        origin_domain_name: str,
        certificate_arn: str,
    ) -> None:
        headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="Wayline: security headers on every response, the app's own kept",
            # override=False: the app sets these itself (and a CSP naming its identity
            # providers); the edge adds them where a response lacks them (error pages).
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(730),
                    include_subdomains=True,
                    override=False,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=False),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=False
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=False,
                ),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy="default-src 'self'; frame-ancestors 'none'",
                    override=False,
                ),
            ),
            remove_headers=["Server"],
        )
        viewer_ip = cloudfront.Function(
            self,
            "ViewerIp",
            code=cloudfront.FunctionCode.from_inline(VIEWER_IP_FUNCTION),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="Wayline: the viewer's address for the rate rule",
        )
        origin = origins.HttpOrigin(
            origin_domain_name,
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            custom_headers={ORIGIN_VERIFY_HEADER: self.origin_verify.secret_value.unsafe_unwrap()},
            read_timeout=Duration.seconds(60),
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Wayline",
            domain_names=[domain_name],
            certificate=acm.Certificate.from_certificate_arn(
                self, "CloudFrontCertificate", certificate_arn
            ),
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=logs_bucket,
            log_file_prefix="cloudfront/",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                # Journeys are personal and change with every answer: nothing is cached.
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                response_headers_policy=headers,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=viewer_ip, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
        )
