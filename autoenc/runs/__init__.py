"""Layer 3: the run directory, checkpoints (read, write, export). ``Run.open`` opens a run."""
