"""`Idempotency-Key` on creates: a retried request gets the first answer, nothing twice.

The key's row is inserted in the same transaction as what the request creates, and a
unique constraint (user, scope, key) is the guard, not a read in Python: of two
concurrent requests with one key, the second's insert waits for the first's transaction
(PostgreSQL's unique index; SQLite's single writer), then finds the row and replays its
answer. Only a successful answer is remembered: a refused request rolls its key back.
"""

from tiktimer.idempotency.keys import (
    KEY_HEADER,
    IdempotentRequest,
    Replayed,
    digest_of,
    idempotent_request,
    prune_expired,
)

__all__ = [
    "KEY_HEADER",
    "IdempotentRequest",
    "Replayed",
    "digest_of",
    "idempotent_request",
    "prune_expired",
]
