"""The audit log: who did what security-relevant thing, from where, and how it went.

`events` names the events and builds rows (bounded, never a secret); `add` writes one in the
caller's transaction, so it is recorded exactly when the change it describes commits.
`AuditLog.record` writes off the request path, for events whose request does not commit
(a failed login) or that must not wait. `tiktimer.users.audit_endpoints` serves them
to admins as `GET /admin/audit`; this package imports nothing from the HTTP layers.
"""
