"""The guard that keeps partner calls out of database transactions.

A partner call inside a transaction holds the transaction (and on SQLite the one writer lock)
for as long as the partner takes: a slow partner then stalls every writer. So partner data is
fetched before a command's transaction opens and a view's options after it commits
(runtime/partner_data.py). This module makes that a rule the code cannot break quietly:

- the store marks every transaction it opens (`transaction_open`), in a context variable, so
  the mark belongs to the thread (or task) that opened it;
- every partner call (connectors/http.py) and every data-source fetch asks
  `refuse_partner_call` first, which raises PartnerCallInTransaction while one is open.

A refusal is also recorded in `violations`, so that the test suite fails on one even where a
caller swallows the exception (a data source's failure is tolerated by design).

It sits at the top of the package, importing only wayline.errors, because both the store and
the connectors use it and neither may import the other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from wayline.errors import PartnerCallInTransaction

_open_transactions: ContextVar[int] = ContextVar("wayline_open_transactions", default=0)

# Every refused call since the process started (or since the tests last cleared it).
violations: list[str] = []


@contextmanager
def transaction_open() -> Iterator[None]:
    """Mark a transaction open in this context until the block ends (nesting counts)."""
    token = _open_transactions.set(_open_transactions.get() + 1)
    try:
        yield
    finally:
        _open_transactions.reset(token)


def in_transaction() -> bool:
    """Whether this thread (or task) has a database transaction open."""
    return _open_transactions.get() > 0


def refuse_partner_call(partner: str) -> None:
    """Raise PartnerCallInTransaction when a transaction is open here; call it before any
    partner call, naming the partner."""
    if in_transaction():
        violations.append(partner)
        raise PartnerCallInTransaction(
            f"'{partner}' was called with a database transaction open: fetch partner data "
            "before the transaction, or build views after it commits"
        )
