"""The web app: server-rendered pages under `/app`, enhanced by our own small scripts.

`install(app)` adds the pages, their static files and their error pages to the API's app
(one server). Pages sign in with a cookie session (`web.session`) and call the services the
JSON API calls; their scripts call the JSON API itself with a short-lived bearer token that
the session hands out (`POST /app/token`), so uploads and rescheduling use its contract.
"""
