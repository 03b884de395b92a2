"""The durable scheduler: the posts table is the queue; dispatchers claim due posts with leases.

queue/      the only package that issues queue SQL: leases (the dispatcher's claim, renew,
            release), steps (one post's guarded writes), user_actions, stats, history
machine/    one post's publish state machine (run) and the steps it ends in, persisted
dispatcher  the claim loop, lease renewal, heartbeats, graceful shutdown
retry       exponential backoff with full jitter; the status-poll cadence
pacing/     per-account rate limits shared across processes: the window, its database
            and Redis backends
wakeup      LISTEN/NOTIFY (PostgreSQL) and in-process wake-ups
worker      `tiktimer worker` and the in-process dispatcher of `tiktimer serve`
endpoints   publish now, retry, attempt history
health      the `scheduler` section of GET /health
"""
