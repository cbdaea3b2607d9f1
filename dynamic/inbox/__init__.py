"""The citizen's inbox across all municipalities (`/postfach/`). See ARCHITECTURE.md, "Inbox"."""
