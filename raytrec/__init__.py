"""raytrec: metric-learning recommenders trained on Ray, assembled from plugins."""

from raytrec.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["__version__", "hookimpl"]
