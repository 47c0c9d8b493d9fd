"""Sweep bottleneck sizes: ``python scripts/sweep.py configs/digits_vae.yaml --latent_dims 2,4,8,16,32``
(the same as ``autoenc sweep ...``)."""

import sys

from autoenc.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["sweep", *sys.argv[1:]]))
