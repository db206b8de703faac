"""Weight initialisation shared by the built-in modules: N(0, 0.02) for linear and embedding weights."""

from torch import nn

STD = 0.02


def init_weights(module: nn.Module) -> None:
    """SASRec/RecBole initialisation; use with ``module.apply(init_weights)``."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, mean=0.0, std=STD)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)
    if isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
