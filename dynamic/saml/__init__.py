"""The state login (SAML 2.0): our service provider and, for local runs and tests, a
development identity provider speaking the same protocol."""

import warnings

# pysaml2 imports a cipher mode (CFB) that newer cryptography releases moved; SAML here never
# uses it, and the warning would greet every operator at start-up.
warnings.filterwarnings("ignore", message="CFB has been moved", module="saml2")
