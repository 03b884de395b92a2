"""Per-account pacing of TikTok calls, shared by every worker process (reference §7).

TikTok allows, per user access token and sliding minute, 6 inits, 30 status fetches and
20 creator_info queries. The pacer keeps each (account, bucket) under its limit *before*
calling, so twenty posts due in the same minute for one account all go out, paced, instead
of collecting `rate_limit_exceeded` refusals.

`DbPacer` keeps the window in `rate_limit_hits` rows: a granted call inserts a row; a call
may go when fewer than `limit` rows are younger than the window, else it waits until the
`limit`-th newest ages out. Grants for one key are serialised by a transaction-scoped
advisory lock (PostgreSQL) or by SQLite's single writer. `RedisPacer` does the same in one
Lua script on a sorted set, on Redis's own clock, when `TIKTIMER_REDIS_URL` is set.

The scheduler asks before it starts a post (`try_acquire`): when the account's window is
full it hands the post back with a due time instead of holding a worker slot for a minute,
and the slot it got is *prepaid* for the publisher's own `acquire` of the same bucket.

window         the sliding window every backend shares: slots, prepaid slots, limits
db_backend     the window in `rate_limit_hits` rows (advisory locks, or SQLite's one writer)
redis_backend  the window in a Redis sorted set, the database its fallback; build_pacer
"""
