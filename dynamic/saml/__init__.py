"""The state login (SAML 2.0): our service provider and, for local runs and tests, a
development identity provider speaking the same protocol."""
