"""The posts table is the queue; this package issues every statement the scheduler runs on it.

A post is *due* when `status = 'scheduled'`, its `scheduled_time` has come and its
`next_attempt_at` (set by a retry) too. Claiming moves it to `publishing` with a lease
(`claimed_by`, `lease_expires_at`); every later write of the claimant is guarded by
`status = 'publishing' AND claimed_by = :worker`, so a worker that lost its lease (expired,
or the user cancelled a post it had not started) changes nothing.

A `publishing` post whose lease expired is claimable again. That covers a crashed worker
and, on purpose, the wait for the platform's verdict: after the upload a worker releases its
claim and sets `lease_expires_at` to the time of the next status check, so polling and
crash recovery are the same path and no worker slot is held while the platform processes.

PostgreSQL claims with `FOR UPDATE SKIP LOCKED`, so any number of workers share the work
without double claims. SQLite has one writer at a time: each write transaction starts
with `BEGIN IMMEDIATE`, which takes the write lock up front, so the read that picks the
rows and the update that claims them cannot interleave with another writer.

tables        the table handles and the conditions every part shares (due, expired, held)
records       what the queue hands out: Claim, Stage, AttemptOutcome, Started, Paced
database      connections: short write transactions, single-statement autocommit
leases        the dispatcher's side: claim, renew, release, worker heartbeats (PostQueue)
statements    the hot statements of a post's steps, built once
steps         one post's guarded writes, from its attempt to its verdict (PostSteps)
user_actions  publish now and retry: in the request's session
stats         the queue's numbers for GET /health
history       one post's attempt history
outcomes      settling a verdict (status check or webhook): one guarded write, first wins
wakeup        LISTEN/NOTIFY (PostgreSQL) and in-process wake-ups of the dispatchers
"""
