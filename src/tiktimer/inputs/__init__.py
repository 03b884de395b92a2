"""Bounded input at the edge: what a request may send before any of it reaches a query.

`errors` keeps 422 answers small, `params` refuses unstorable text in URLs and forms,
`body` caps JSON bodies and ends stalled ones, `protocol` bounds the request head.
Body fields are bounded by the types in `tiktimer.kit.schemas`.
"""
