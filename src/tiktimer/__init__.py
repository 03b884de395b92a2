"""TikTimer: schedule TikTok posts and have them published on time, exactly once."""

__version__ = "0.1.0"
