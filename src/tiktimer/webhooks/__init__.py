"""TikTok's webhooks: verified, deduplicated, applied to posts and accounts."""
