"""Hook specifications: one hook per component kind.

Every hook receives a ``register`` callback. A plugin calls it once per component it provides::

    @antkit.hookimpl
    def register_backbones(register):
        register(MyBackbone)

Built-in components are registered through these same hooks (``antkit.plugins.manager.DEFAULT_PLUGINS``).
"""

import pluggy

hookspec = pluggy.HookspecMarker("antkit")


@hookspec
def register_encoders(register):
    """Register modality encoders: raw item content -> frozen feature vectors (``antkit.components.Encoder``)."""


@hookspec
def register_adaptors(register):
    """Register modality adaptors: frozen feature -> recommendation space (``antkit.components.Adaptor``)."""


@hookspec
def register_fusions(register):
    """Register fusion modules: adapted modality vectors -> one item vector (``antkit.components.Fusion``)."""


@hookspec
def register_backbones(register):
    """Register sequence backbones: item vector sequences -> user states (``antkit.components.Backbone``)."""


@hookspec
def register_strategies(register):
    """Register adaptation strategies: how a target model starts from a pre-trained one (``antkit.components.Strategy``)."""


@hookspec
def register_data_sources(register):
    """Register data sources: where domains come from (``antkit.components.DataSource``)."""
