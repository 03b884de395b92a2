"""The parts `TikTokClient` composes: one module per TikTok API concern.

Callers use `tiktimer.platforms.tiktok.client`, the public face; these modules are private
to it, split so that each owns one endpoint family (OAuth, user info, posting, status,
chunked upload) or one piece of plumbing (the shared HTTP lanes, parsing, redaction).
"""
