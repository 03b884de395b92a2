"""Publishing a post to a platform: the seam between the scheduler and the platform adapters."""
