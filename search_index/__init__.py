"""Search that works from static files: a Whoosh index per municipality, exported in shards
that the browser script and `build.py search` query in the same way."""
