"""Notifications: a user's outgoing webhooks and in-app list of what happened to their posts.

`events` records an event in the transaction that made the change (the post queue and the
accounts call it, so it imports only models); `delivery` is the worker's job that routes
each event to the endpoints subscribed to it and sends it, signed (`signing`), with retries
and backoff; `service` and `endpoints` are the API under `/api/v1/notifications`.
"""
