"""``python -m gateway`` serves the HTTP API; ``python -m gateway seed-users`` etc."""

import sys

from gateway.cli import main

sys.exit(main(["gateway", *sys.argv[1:]] if len(sys.argv) > 1 else None))
