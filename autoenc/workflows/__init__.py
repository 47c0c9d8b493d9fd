"""Layer 6: what trains models or writes files: report, sweep, disentangle, the Python look API."""
