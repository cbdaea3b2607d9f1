"""The vocabulary both tiers share: trust levels, profile fields, German text and the theme; the root exception."""
