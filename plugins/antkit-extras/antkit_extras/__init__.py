"""antkit-extras: a GRU4Rec backbone (``gru4rec``) and a gated modality fusion (``gated``) for antkit.

This module is the plugin: the ``antkit`` entry point ``extras`` names it, and antkit collects the two hooks
below from it.
"""

from antkit_extras.gated import GatedConfig, GatedFusion, register_fusions
from antkit_extras.gru4rec import GRU4Rec, GRU4RecConfig, register_backbones

__all__ = ["GRU4Rec", "GRU4RecConfig", "GatedConfig", "GatedFusion", "register_backbones", "register_fusions"]
