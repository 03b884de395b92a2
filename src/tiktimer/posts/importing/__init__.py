"""Bulk import of posts from a CSV file (README "Bulk import").

`table` reads the file (encoding, size and row limits, header), `columns` knows the columns
and a row's fingerprint, `resolve` turns one row into a `PostCreate` (time zones, accounts,
media: ids, library file names, or URLs fetched by `media_urls` through the SSRF guard),
`importer` creates the posts through `PostService.create` (the path `POST /posts/` takes) in
a dry run, one transaction (`mode=all`) or one per row (`mode=rows`), and `ledger` remembers
each imported row's fingerprint so that importing it again creates nothing.
"""
