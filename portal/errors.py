"""The root of every exception the product raises on purpose.

Both tiers may import this module: it imports nothing. The build's errors
(generator/errors.py) and the app's derive from PortalError, so that a caller can tell
"the portal refused, with a message for a person" from a programming error.
"""

from __future__ import annotations


class PortalError(Exception):
    """Base class of every error the portal reports to a person (editor, operator, citizen)."""
