"""One post's way through publishing, persisted step by step so any crash is recoverable.

    scheduled ──claim──▶ publishing:claimed ──attempt recorded──▶ publishing:initializing
        ▲                   │ (user cancels/reschedules:       │ platform init returns
        │                   │  safe, nothing was sent)         ▼ the publish id: stored at once
        │                   │                        publishing:uploading
        │ retryable error, ◀┘ rate limited                     │ upload done
        │ backoff + jitter                                     ▼
        └───────────────────────────────────────── publishing:confirming ──▶ published | failed
                                           (the first check in the run's own task;  └▶ unconfirmed
                                            later ones: claim released, each check
                                            a claim of an "expired" lease)

Recovery is the same path as normal progress: a post whose lease expired is claimed again;
with a publish id it is *checked* (polling the platform's status), never initialised a
second time; without one its interrupted attempt is closed and a new one starts. No database
connection is held while the platform is called.

Which platform: the claim's (`social_accounts.platform`), found in the registry; its rate
buckets pace the attempt and each check.

context  what a run needs (MachineContext) and the protocols it is built from
run      the state machine: a new attempt, or a check of an uploaded publication (PostRun)
steps    the steps both paths end in: fail, retry later, check later, give up, reauthorize
retry    exponential backoff with full jitter; the status-poll cadence
polling  how long and how often a publish is polled, and when to give up
events   the scheduler's structured log events
"""
