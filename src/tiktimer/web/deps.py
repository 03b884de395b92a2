"""The typed service aliases the pages use: the same parts the JSON API's endpoints get."""

from __future__ import annotations

from tiktimer.accounts.endpoints import AccessDep, AccountsDep, ConnectDep
from tiktimer.auth.endpoints import AuthServiceDep
from tiktimer.media.dependencies import MediaServiceDep
from tiktimer.users.audit_endpoints import AuditLogDep
from tiktimer.users.endpoints import UserServiceDep

__all__ = [
    "AccessDep",
    "AccountsDep",
    "AuditLogDep",
    "AuthServiceDep",
    "ConnectDep",
    "MediaServiceDep",
    "UserServiceDep",
]
