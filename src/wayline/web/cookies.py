"""The names and transport of Wayline's two cookies, in one place for every reader (the
session layer, the CSRF check, tests and API clients; page scripts read the CSRF token from the
page's meta tag instead).

Served over HTTPS (the default outside demo mode), both cookies are `Secure` and carry the
`__Host-` prefix: browsers then accept them only from a secure origin, for path `/` and without a
Domain attribute, so neither a sibling subdomain nor a plain-HTTP man in the middle can set or
overwrite them. The demo runs on plain HTTP on loopback, where neither would work.
"""

from __future__ import annotations

from dataclasses import dataclass

SESSION = "wayline_session"
CSRF = "wayline_csrf"
HOST_PREFIX = "__Host-"


@dataclass(frozen=True)
class CookieNames:
    session: str
    csrf: str
    secure: bool

    @classmethod
    def for_transport(cls, secure: bool) -> CookieNames:
        prefix = HOST_PREFIX if secure else ""
        return cls(session=prefix + SESSION, csrf=prefix + CSRF, secure=secure)
