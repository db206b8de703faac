"""antkit: transferable, multi-modal sequential recommendation (ANT: multi-modality + re-learning)."""

from antkit.memory import fix_glibc_thresholds, prefer_huge_pages
from antkit.plugins import hookimpl

__version__ = "0.1.0"

prefer_huge_pages()  # before torch loads: see antkit/memory.py
fix_glibc_thresholds()


def run(recipe, out=None, overrides=(), **options):
    """Run a recipe file (or dict) and write its report; see ``antkit.pipeline.run``."""
    from antkit.pipeline import run as run_pipeline

    return run_pipeline(recipe, out, overrides, **options)


def recommend(model, users=(), histories=(), k=10, **options):
    """The top ``k`` items for users (or item histories) from an adapted arm; see ``antkit.recommendations.recommend``."""
    from antkit.recommendations import recommend as recommend_items

    return recommend_items(model, users, histories, k, **options)


def evaluate(model, **options):
    """An adapted arm's validation and test metrics, computed again; see ``antkit.evaluation.adapted``."""
    from antkit.evaluation.adapted import evaluate_adapted

    return evaluate_adapted(model, **options)


def push(path, repo_id, **options):
    """Push a checkpoint or a run's pre-trained model to the Hub; see ``antkit.hub.push``."""
    from antkit.hub import push as push_checkpoint

    return push_checkpoint(path, repo_id, **options)


def pull(repo_id, revision=None, local_dir=None, **options):
    """Download a Hub checkpoint (cached; works offline afterwards); see ``antkit.hub.pull``."""
    from antkit.hub import pull as pull_checkpoint

    return pull_checkpoint(repo_id, revision, local_dir, **options)


def from_pretrained(reference, registry=None):
    """The model of a checkpoint folder or ``hf://ORG/NAME[@REV]``; see ``antkit.hub.from_pretrained``."""
    from antkit.hub import from_pretrained as load

    return load(reference, registry)


__all__ = ["hookimpl", "run", "recommend", "evaluate", "push", "pull", "from_pretrained", "__version__"]
