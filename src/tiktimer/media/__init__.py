"""Uploaded media: what a file really is (`probe`) and whether TikTok takes it (`verdict`)."""
