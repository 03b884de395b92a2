"""Who is calling: passwords, JWT access tokens and rotating refresh tokens."""
