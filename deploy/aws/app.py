"""The CDK app: `cdk synth` (offline: `--no-lookups`) and `cdk deploy` run this.

cdk-nag's AwsSolutions pack runs through the CDK's Validations API on every synth; a finding
that is not acknowledged with a reason (wayline_deploy/nag.py) fails the synth.
"""

from __future__ import annotations

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks
from wayline_deploy.nag import acknowledge
from wayline_deploy.settings import DeploySettings
from wayline_deploy.stack import WaylineStack


def main() -> None:
    app = App()
    stack = WaylineStack(app, DeploySettings.from_context(app.node))
    acknowledge(stack)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()


if __name__ == "__main__":
    main()
