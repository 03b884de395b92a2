"""The durable scheduler: the posts table is the queue; dispatchers claim due posts with leases.

claims      the only module that issues queue SQL (claim, lease, attempts, release)
machine     one post's publish state machine, persisted step by step
dispatcher  the claim loop, lease renewal, heartbeats, graceful shutdown
retry       exponential backoff with full jitter; the status-poll cadence
pacing      per-account TikTok rate limits shared across processes (database or Redis)
wakeup      LISTEN/NOTIFY (PostgreSQL) and in-process wake-ups
worker      `tiktimer worker` and the in-process dispatcher of `tiktimer serve`
endpoints   publish now, retry, attempt history
health      the `scheduler` section of GET /health
"""
