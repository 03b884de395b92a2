"""Scheduled posts: the core domain."""
