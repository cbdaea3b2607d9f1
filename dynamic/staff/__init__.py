"""The staff area of a municipality (`/<slug>/verwaltung/`), its logins, the day's plan, blocks,
calendar feeds and the operator's command for staff accounts. See ARCHITECTURE.md, "Staff area"."""
