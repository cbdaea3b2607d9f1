"""Build pipeline: load → validate → resolve → render (Pelican plugin) → export."""
