"""Planning ahead: an account's posting queue, recurring series, the calendar feed.

Everything here ends in ordinary posts made and changed through `posts.PostService` and
the guarded writes of `posts.transitions`: a queued post or an occurrence has its own
status, attempts and edits, and the dispatcher publishes it like any other.

wallclock     wall-clock times in a zone, and the DST rule (RFC 5545's) for both features
queue*        weekly slots per account: add, share next, move, remove, re-flow (`queue`),
              what the queue holds (`queue_state`), `/api/v1/accounts/{id}/queue`
recurrence    RRULEs on local times (python-dateutil)
series*       create, "this and all following", pause, resume, end (`series`),
              making occurrences exactly once (`materialise`), `/api/v1/series`
feed, ical    the private iCalendar feed and its writer, `/api/v1/calendar`
"""
