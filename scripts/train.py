"""Train from a YAML config: ``python scripts/train.py fit -c configs/digits_vae.yaml``."""

import sys

from autoenc.cli.main import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
