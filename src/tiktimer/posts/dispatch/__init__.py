"""The dispatchers: who claims due posts, how many at once, and the processes they run in.

dispatcher  the claim loop, lease renewal, heartbeats, graceful shutdown
runtime     what a dispatcher is built from: the queue, the pacer, the platforms
components  the scheduler parts of a process (queue, pacer, due signal), built once
worker      `tiktimer worker` and the in-process dispatcher of `tiktimer serve`
health      the `scheduler` section of GET /health
"""
