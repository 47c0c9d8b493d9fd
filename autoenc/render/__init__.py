"""Layer 4: every picture. Takes result dataclasses, never computes them; the only user of matplotlib."""
