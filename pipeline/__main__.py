"""``python -m pipeline`` runs the ``edrive`` command line."""

import sys

from pipeline.cli import main

sys.exit(main())
