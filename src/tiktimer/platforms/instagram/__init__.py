"""Instagram Reels through the Instagram Platform API with Instagram Login.

`client` speaks the protocol (login, token exchange and refresh, account facts, the
container flow from a URL or by rupload, the publishing limit); `errors` classifies Meta's
error codes into the contract's `ErrorKind`s; `reels` walks one Reel through the
contract's two steps (create the container; check it and publish it exactly once).
`emulator/` is the strict offline Instagram the tests run against. The `Platform` plugin
is not written yet.
"""
