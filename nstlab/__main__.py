"""``python -m nstlab``: the same as the ``nstlab`` command."""

import sys

from nstlab.cli import main

sys.exit(main())
