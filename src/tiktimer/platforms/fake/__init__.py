"""`fake`: a real-but-trivial platform for tests, benchmarks and sandbox mode only.

It publishes at once, or fails the way a post's caption asks (see `behaviour`), so the
whole pipeline (schedule, claim, publish, retries, attempts) runs without TikTok.
"""
