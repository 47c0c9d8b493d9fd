"""Latent traversals of a trained model: ``python scripts/traverse.py RUN [options]``.

The same as ``autoenc traverse`` (see ``--help``): a grid PNG and an animated GIF.
"""

import sys

from autoenc.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["traverse", *sys.argv[1:]]))
