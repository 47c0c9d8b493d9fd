"""Encode a data split into a feature cache: ``python scripts/extract_features.py SOURCE --cache DIR ...``.

The same as ``autoenc features``; see ``autoenc features --help``. With ``--devices N`` Lightning
re-launches this script once per extra device (hence the ``__main__`` guard).
"""

import sys

from autoenc.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["features", *sys.argv[1:]]))
