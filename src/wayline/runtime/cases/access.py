"""Who may do what on the workbench, as the service layer sees it.

The identity layer declares access (identity/permissions.py: `work_cases`,
`approve_over_limit` with its step-up, `see_fraud_evidence`); bootstrap.py turns that table
into an `Access` and injects it here, because identity/ already uses the runtime and packages
must not import each other. A queue's own `roles` (the definition's review block) narrow it
further: staff see and work only the queues their roles name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from wayline.journeys.schema import Queue
from wayline.journeys.step_up import Rule


class Staff(Protocol):
    """The member of staff acting: identity.principal.Principal fits it."""

    @property
    def subject(self) -> str: ...

    @property
    def roles(self) -> frozenset[str]: ...

    @property
    def assurance(self) -> int: ...

    @property
    def authenticated_at(self) -> datetime: ...


@dataclass(frozen=True)
class Access:
    """The roles that hold each workbench permission, and the step-up over-limit approval
    asks for."""

    case_workers: frozenset[str]
    fraud_evidence: frozenset[str]
    approvers: frozenset[str]
    approve_step_up: Rule

    def works_cases(self, staff: Staff) -> bool:
        return not self.case_workers.isdisjoint(staff.roles)

    def may_work(self, staff: Staff, queue: Queue) -> bool:
        """Whether `staff` sees and works cases in `queue`."""
        return self.works_cases(staff) and not set(queue.roles).isdisjoint(staff.roles)

    def sees_fraud_evidence(self, staff: Staff) -> bool:
        return not self.fraud_evidence.isdisjoint(staff.roles)

    def approves_over_limit(self, staff: Staff) -> bool:
        return not self.approvers.isdisjoint(staff.roles)
