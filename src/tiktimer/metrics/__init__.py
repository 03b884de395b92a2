"""Prometheus metrics: `GET /metrics` on every API process, and a port on each worker.

Where each figure comes from is the design decision, made so that several API processes
and workers, on one host or many, report correctly without sharing memory or files:

- **Cluster-wide figures are read from the database at scrape time** (`cluster`): posts by
  status, accounts by status (those needing reconnection), due-but-unclaimed posts, leases
  held and expired, each worker's heartbeat age, the publish-lag histogram and publish
  outcomes (from `post_attempts`, which holds each attempt's start and end), TikTok
  webhook events applied, notification deliveries. Any API process answers the same for
  the whole cluster, however many workers there are and wherever they run; a few
  `GROUP BY` statements per scrape. Only the lag histogram and the outcome counts keep
  something in memory: the counts of settled attempts, so a scrape reads only newer ones
  (`lag`, `outcomes`, `settling`).
- **Per-process counters are the process's own** (`kit.instruments`): HTTP requests by
  route template and status with latency (`http`, a pure ASGI middleware), platform API
  calls by endpoint and result, pacing waits, token refreshes and webhooks received. The
  API process serving the scrape exports its own; each `tiktimer worker` exports its own on
  `TIKTIMER_METRICS_WORKER_PORT` (`worker_port`, off by default). Prometheus scrapes every
  process as its own target and sums across them.

prometheus-client's multiprocess mode (`PROMETHEUS_MULTIPROC_DIR`) was not chosen: it only
joins processes of one host, through files. With `serve --workers N` behind one port, a
scrape reaches one of the N processes, so per-process counters are a sample; run the API
processes as separate targets (as `compose.yaml`'s `api` replicas are) to count them all.

Access: `access` (a bearer token, or loopback only). Modules: `endpoint` (the route),
`families` (the snapshot as metric families), `worker_port`.
"""
