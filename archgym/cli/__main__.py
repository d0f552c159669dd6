"""``python -m archgym.cli``: the same as the ``archgym`` command."""
import sys

from . import main

sys.exit(main())
