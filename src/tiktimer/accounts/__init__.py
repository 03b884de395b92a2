"""Connected TikTok accounts: the OAuth dance, tokens at rest, refresh."""
