"""Layer 0: errors, registries, constraints, atomic writes, quiet output. Imports nothing of autoenc above it."""
