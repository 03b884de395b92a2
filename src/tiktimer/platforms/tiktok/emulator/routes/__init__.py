"""HTTP routes of the emulator, one module per TikTok host area plus the admin API."""
