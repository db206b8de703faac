"""antkit: transferable, multi-modal sequential recommendation (ANT: multi-modality + re-learning)."""

from antkit.plugins import hookimpl

__version__ = "0.1.0"

__all__ = ["hookimpl", "__version__"]
