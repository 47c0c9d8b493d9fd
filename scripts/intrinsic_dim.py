"""Intrinsic dimension of a .npy array: the same as ``autoenc id`` (see --help)."""

import sys

from autoenc.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["id", *sys.argv[1:]]))
