"""``python -m autoenc COMMAND ...``: the ``autoenc`` command."""

import sys

from autoenc.cli.main import main

sys.exit(main())
