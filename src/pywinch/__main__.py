"""``python -m pywinch``: the command line (see pywinch.cli)."""

import sys

from .cli import main

sys.exit(main())
