"""Citizens' booking under /<slug>/termine/: service → location → day → time → hold →
confirm; the appointment's own page with calendar file, move and cancel.

Every page works without JavaScript. Pages are found by the booking code plus either the
logged-in account, the browser that held it, or a signed link (from the mail), so links
keep working after logout.

The pages live by concern, all on the one blueprint of common.py: choosing a time
(choose.py), holding and confirming it (hold.py), the appointment's own page (manage.py).
Importing them here registers their routes, in this order.
"""

from __future__ import annotations

from . import choose, hold, manage
from .common import appointments

__all__ = ["appointments", "choose", "hold", "manage"]
