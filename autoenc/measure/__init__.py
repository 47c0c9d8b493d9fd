"""Layer 3: pure functions of arrays and models: codes, traversals, intrinsic dimension, disentanglement."""
