"""antkit: transferable, multi-modal sequential recommendation (ANT: multi-modality + re-learning)."""

from antkit.plugins import hookimpl

__version__ = "0.1.0"


def run(recipe, out=None, overrides=(), **options):
    """Run a recipe file (or dict) and write its report; see ``antkit.pipeline.run``."""
    from antkit.pipeline import run as run_pipeline

    return run_pipeline(recipe, out, overrides, **options)


__all__ = ["hookimpl", "run", "__version__"]
