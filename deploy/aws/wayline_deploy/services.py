"""The ECS Fargate services: web (`wayline serve`), worker (`wayline worker`) and the event
relay (`wayline events relay`), from one image, with one configuration.

Every deployment rolls back by itself: the circuit breaker undoes one whose tasks do not
start or stay healthy, and the web service's deployment alarms (alarms.py) undo one that
breaks the SLOs once it is serving.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

PORT = 8000
HOME = "/var/lib/wayline"
HEALTH_COMMAND = [
    "CMD",
    "python",
    "-c",
    f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{PORT}/healthz', timeout=3)",
]


@dataclass(frozen=True)
class Scaling:
    min_tasks: int
    max_tasks: int


@dataclass(frozen=True)
class Runtime:
    """What every container gets: the image, its settings and secrets, where logs go."""

    image: ecs.ContainerImage
    environment: dict[str, str]
    secrets: dict[str, ecs.Secret]
    logs_key: kms.IKey
    log_retention: logs.RetentionDays


class Services(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        runtime: Runtime,
        web: Scaling,
        worker: Scaling,
        relay: Scaling,
    ) -> None:
        super().__init__(scope, id)
        self._vpc = vpc
        self._runtime = runtime
        self._scaling: dict[str, ecs.ScalableTaskCount] = {}
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=vpc,
            container_insights_v2=ecs.ContainerInsights.ENHANCED,
        )
        self.security_group = ec2.SecurityGroup(
            self,
            "TasksSecurityGroup",
            vpc=vpc,
            allow_all_outbound=True,
            description="Wayline tasks: the load balancer may reach the web port",
        )
        self.web = self._service(
            "Web",
            ["serve", "--host", "0.0.0.0", "--port", str(PORT)],
            web,
            cpu=1024,
            memory=2048,
            migrate_first=True,
        )
        self.worker = self._service("Worker", ["worker"], worker, cpu=512, memory=1024)
        self.relay = self._service("Relay", ["events", "relay"], relay, cpu=256, memory=512)
        # The web service's tasks migrate the schema; the worker and the relay refuse to start
        # on an old one. So CloudFormation deploys them after the web service is stable: on
        # the first deployment and on each new image, the schema comes first.
        self.worker.node.add_dependency(self.web)
        self.relay.node.add_dependency(self.web)

    def _service(
        self,
        name: str,
        command: list[str],
        scaling: Scaling,
        *,
        cpu: int,
        memory: int,
        migrate_first: bool = False,
    ) -> ecs.FargateService:
        task = ecs.FargateTaskDefinition(
            self,
            f"{name}Task",
            cpu=cpu,
            memory_limit_mib=memory,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        # The root filesystem is read-only; Wayline's data folder and /tmp (large uploads are
        # spooled there) are task-local volumes. The image declares both as VOLUMEs, so they
        # start with its ownership (the wayline user's, and /tmp's sticky 1777).
        task.add_volume(name="home")
        task.add_volume(name="tmp")
        container = self._container(task, name.lower(), command, essential=True)
        if name == "Web":
            container.add_port_mappings(ecs.PortMapping(container_port=PORT))
        if migrate_first:
            # Each web task brings the schema up to date before it serves (Alembic does
            # nothing when it is current), so a new image never serves an old schema.
            migrate = self._container(task, "migrate", ["migrate"], essential=False)
            container.add_container_dependencies(
                ecs.ContainerDependency(
                    container=migrate, condition=ecs.ContainerDependencyCondition.SUCCESS
                )
            )
        service = ecs.FargateService(
            self,
            name,
            cluster=self.cluster,
            task_definition=task,
            desired_count=scaling.min_tasks,
            security_groups=[self.security_group],
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            assign_public_ip=False,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            min_healthy_percent=100,
            max_healthy_percent=200,
            enable_execute_command=False,
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
            health_check_grace_period=Duration.seconds(60) if name == "Web" else None,
        )
        autoscaling = service.auto_scale_task_count(
            min_capacity=scaling.min_tasks, max_capacity=scaling.max_tasks
        )
        autoscaling.scale_on_cpu_utilization(
            "Cpu",
            target_utilization_percent=60,
            scale_in_cooldown=Duration.seconds(300),
            scale_out_cooldown=Duration.seconds(60),
        )
        self._scaling[name] = autoscaling
        return service

    def _container(
        self, task: ecs.FargateTaskDefinition, name: str, command: list[str], *, essential: bool
    ) -> ecs.ContainerDefinition:
        runtime = self._runtime
        log_group = logs.LogGroup(
            self,
            f"{task.node.id}{name.title()}Logs",
            retention=runtime.log_retention,
            encryption_key=runtime.logs_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        container = task.add_container(
            name,
            image=runtime.image,
            command=command,
            essential=essential,
            environment={**runtime.environment, "WAYLINE_HOME": HOME},
            secrets=runtime.secrets,
            logging=ecs.LogDrivers.aws_logs(stream_prefix=name, log_group=log_group),
            readonly_root_filesystem=True,
            user="10001",
            health_check=ecs.HealthCheck(
                command=HEALTH_COMMAND,
                interval=Duration.seconds(15),
                timeout=Duration.seconds(5),
                retries=3,
                start_period=Duration.seconds(30),
            )
            if name == "web"
            else None,
            stop_timeout=Duration.seconds(30),
        )
        container.add_mount_points(
            ecs.MountPoint(container_path=HOME, source_volume="home", read_only=False),
            ecs.MountPoint(container_path="/tmp", source_volume="tmp", read_only=False),
        )
        return container

    def expose(
        self,
        listener: elbv2.ApplicationListener,
        condition: elbv2.ListenerCondition,
        alb_security_group: ec2.ISecurityGroup,
    ) -> elbv2.ApplicationTargetGroup:
        """Forward CloudFront's requests to the web service; scale it on requests too."""
        self.security_group.add_ingress_rule(
            alb_security_group, ec2.Port.tcp(PORT), "The load balancer to the web port"
        )
        target_group = elbv2.ApplicationTargetGroup(
            self,
            "WebTargets",
            vpc=self._vpc,
            port=PORT,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[self.web],
            deregistration_delay=Duration.seconds(25),
            health_check=elbv2.HealthCheck(
                # Ready, not merely alive: a task that cannot reach the database gets no
                # requests (liveness, /healthz, is the container's own health check).
                path="/readyz",
                healthy_http_codes="200",
                interval=Duration.seconds(15),
                healthy_threshold_count=2,
                unhealthy_threshold_count=3,
            ),
        )
        listener.add_target_groups(
            "Web", priority=10, conditions=[condition], target_groups=[target_group]
        )
        self._scaling["Web"].scale_on_request_count(
            "Requests",
            requests_per_target=300,
            target_group=target_group,
            scale_in_cooldown=Duration.seconds(300),
            scale_out_cooldown=Duration.seconds(60),
        )
        return target_group


def image(scope: Construct, repository: str, tag: str) -> ecs.ContainerImage:
    """The image built from the repository's Dockerfile and pushed to ECR by the release."""
    return ecs.ContainerImage.from_ecr_repository(
        ecr.Repository.from_repository_name(scope, "Repository", repository), tag
    )
