"""autoenc: learn and study bottleneck representations of images."""

__version__ = "0.1.0"
