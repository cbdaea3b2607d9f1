"""Online applications: forms from katalog.json, drafts, sending to the office, the office API."""
