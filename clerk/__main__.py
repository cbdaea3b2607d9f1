"""`python -m clerk`: the same client as `python -m dynamic.clerk`."""

import sys

from clerk import main

sys.exit(main())
