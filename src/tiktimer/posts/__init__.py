"""A post's whole life, from the request that creates it to the platform's verdict.

Read top down; each layer imports only those below it (an import-linter contract):

routes/      every post route: CRUD (`crud`), publish now / retry / attempts (`queue`),
             the TikTok publishing routes and the composer's facts (`tiktok`)
service      create, edit, cancel and delete, with pre-flight (`validation`) and the
             guarded status writes (`transitions`); a new post's row (`creation`);
             `repository` holds the reads and a new post's INSERT
publish/     the publishing parts of a process: TikTok's shared parts, the validator,
             the platforms built around a pacer
dispatch/    the claim loop, the worker process and the in-process dispatcher, the
             `scheduler` section of GET /health
machine/     one post's publish state machine, its retry policy and status-poll cadence
pacing/      per-account rate limits shared across processes
queue/       the posts table as a queue: every statement the scheduler runs on it,
             settling outcomes (`outcomes`, shared with webhooks) and wake-ups (`wakeup`)
"""
