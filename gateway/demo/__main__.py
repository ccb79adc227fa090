"""``python -m gateway.demo [--gateway URL]``: the same as ``lienthong demo``."""

from __future__ import annotations

import sys

from gateway.demo.cli import main

sys.exit(main())
