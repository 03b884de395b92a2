"""YouTube Shorts: Google OAuth 2.0 and `videos.insert` over the resumable upload protocol.

The client (`client.py`) speaks the protocol; `emulator/` is a strict offline YouTube for
tests and the sandbox, which nothing but tests and the sandbox wiring may import.
"""
