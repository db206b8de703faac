"""Contract checks for components, for plugin authors' test suites (opt-in; they need only pytest-style asserts).

    from antkit.testing import check_component

    def test_my_backbone_keeps_the_contract():
        check_component(MyBackbone)                 # or check_backbone(MyBackbone, MyBackbone.Config(layers=2))

Each check builds the component from its default config (or the one given), runs it on small random inputs
and raises AssertionError naming the broken promise: output shapes, causality (backbones), absent modalities
(fusions), gradients reaching the parameters that should train, the same result for the same seed, and a
save/load round trip of its state through safetensors.
"""

from __future__ import annotations

from typing import Any

import torch
from safetensors.torch import load, save
from torch import nn

from antkit.components.base import Adaptor, Backbone, Component, DataSource, Encoder, Fusion, Strategy


def _config(cls: type[Component], config):
    try:
        return config if config is not None else cls.Config()
    except Exception as error:  # noqa: BLE001 - reported as the broken promise it is
        raise AssertionError(f"{cls.__name__}: its Config cannot be built with defaults ({error})") from None


def _identity(cls: type[Component], base: type[Component]) -> None:
    assert issubclass(cls, base), f"{cls.__name__} must subclass antkit.components.{base.__name__}"
    assert cls.name and isinstance(cls.name, str), f"{cls.__name__} needs a `name`"
    assert cls.description, f"{cls.__name__} ('{cls.name}') needs a one-line `description`"


def _seeded(build, seed: int):
    torch.manual_seed(seed)
    return build()


def _same_for_same_seed(build, run, seed: int, name: str) -> None:
    first, second = _seeded(build, seed), _seeded(build, seed)
    for key, tensor in first.state_dict().items():
        assert torch.equal(tensor, second.state_dict()[key]), (
            f"{name}: '{key}' differs between two builds with seed {seed}")
    first.eval()
    second.eval()
    assert torch.allclose(run(first), run(second)), f"{name}: two builds with the same seed give different outputs"


def _round_trip(module: nn.Module, build, run, name: str) -> None:
    """Weights saved with safetensors and loaded strictly into a fresh instance reproduce the outputs."""
    module.eval()
    restored = build()
    restored.load_state_dict(load(save({k: v.contiguous() for k, v in module.state_dict().items()})))
    restored.eval()
    assert torch.allclose(run(module), run(restored), atol=1e-6), f"{name}: outputs change after a save/load round trip"


def _trainable_get_gradients(module: nn.Module, loss: torch.Tensor, name: str, only=None) -> None:
    module.zero_grad()
    loss.backward()
    for key, parameter in module.named_parameters():
        if parameter.requires_grad and (only is None or only(key)):
            assert parameter.grad is not None, f"{name}: no gradient reaches '{key}'"
            assert torch.isfinite(parameter.grad).all(), f"{name}: non-finite gradient in '{key}'"


def check_backbone(cls: type[Backbone], config=None, *, dim: int = 16, max_length: int = 8, seed: int = 0) -> None:
    """Shapes, causality, padding, ``last_states``, gradients, seeding and round trip of a backbone."""
    _identity(cls, Backbone)
    config, name = _config(cls, config), f"backbone '{cls.name}'"
    build = lambda: cls(config, dim, max_length)  # noqa: E731
    generator = torch.Generator().manual_seed(seed)
    items = torch.randn(3, max_length, dim, generator=generator)
    lengths = torch.tensor([max_length, max(1, max_length - 3), 1])
    run = lambda b: b(items, lengths)  # noqa: E731
    backbone = _seeded(build, seed).eval()
    states = run(backbone)
    assert states.shape == (3, max_length, dim), f"{name}: forward gives {tuple(states.shape)}, expected (B, L, dim)"
    assert torch.isfinite(states).all(), f"{name}: non-finite outputs"
    cut = max_length // 2
    later_changed = items.clone()
    later_changed[:, cut + 1 :] = torch.randn(3, max_length - cut - 1, dim, generator=generator)
    assert torch.allclose(backbone(later_changed, lengths)[:, : cut + 1], states[:, : cut + 1], atol=1e-5), (
        f"{name}: not causal: the state at position t changes when items after t change")
    shorter = backbone(items[:, : cut + 1], lengths.clamp(max=cut + 1))  # the same prefixes, padded less
    assert torch.allclose(shorter, states[:, : cut + 1], atol=1e-5), (
        f"{name}: the states of real positions change with how far a batch is padded")
    last = backbone.last_states(items, lengths)
    assert torch.allclose(last, states[torch.arange(3), lengths - 1], atol=1e-5), (
        f"{name}: last_states differs from forward at the last real position")
    sequence = list(backbone.sequence_modules())
    assert sequence, f"{name}: sequence_modules() is empty: transfer would keep nothing"
    own = set(backbone.modules())
    for module in [*sequence, *backbone.position_modules()]:
        assert module in own, f"{name}: {type(module).__name__} from sequence/position_modules is not a submodule"
    _same_for_same_seed(build, run, seed, name)
    _round_trip(backbone, build, run, name)
    backbone.train()
    _trainable_get_gradients(backbone, run(backbone).pow(2).mean(), name)


def check_fusion(cls: type[Fusion], config=None, *, modalities=("text", "image", "price"), dim: int = 16,
                 seed: int = 0) -> None:
    """Shapes, items independent of each other, absent modalities, gradients, reset, seeding, round trip."""
    _identity(cls, Fusion)
    config, name, modalities = _config(cls, config), f"fusion '{cls.name}'", list(modalities)
    build = lambda: cls(config, modalities, dim)  # noqa: E731
    generator = torch.Generator().manual_seed(seed)
    count = 2 ** len(modalities)  # one item per pattern of present modalities, the all-absent one included
    present = {m: torch.tensor([(row >> i) & 1 == 1 for row in range(count)]) for i, m in enumerate(modalities)}
    vectors = {m: torch.randn(count, dim, generator=generator) * present[m][:, None] for m in modalities}
    run = lambda f: f(vectors, present)  # noqa: E731
    fusion = _seeded(build, seed).eval()
    fused = run(fusion)
    assert fused.shape == (count, dim), f"{name}: gives {tuple(fused.shape)}, expected (N, dim)"
    assert torch.isfinite(fused).all(), f"{name}: non-finite outputs (an item without any modality included)"
    alone = fusion({m: v[-1:] for m, v in vectors.items()}, {m: p[-1:] for m, p in present.items()})
    assert torch.allclose(alone[0], fused[-1], atol=1e-6), f"{name}: an item's vector depends on the other items"
    _same_for_same_seed(build, run, seed, name)
    _round_trip(fusion, build, run, name)
    leaves = {m: v.clone().requires_grad_(True) for m, v in vectors.items()}
    fusion.train()
    fusion(leaves, present).pow(2).sum().backward()
    for m in modalities:
        assert leaves[m].grad is not None and leaves[m].grad[present[m]].abs().sum() > 0, (
            f"{name}: no gradient reaches the present '{m}' vectors")
    if any(True for _ in fusion.parameters()):
        before = {k: v.clone() for k, v in fusion.state_dict().items()}
        torch.manual_seed(seed + 1)
        fusion.reset_parameters()
        assert any(not torch.equal(before[k], v) for k, v in fusion.state_dict().items()), (
            f"{name}: reset_parameters() leaves the parameters as they were (re-learning could not reset them)")


def check_adaptor(cls: type[Adaptor], config=None, *, in_dim: int = 12, dim: int = 16, seed: int = 0) -> None:
    """Shapes, gradients to every trainable parameter, reset, seeding and round trip of an adaptor."""
    _identity(cls, Adaptor)
    config, name = _config(cls, config), f"adaptor '{cls.name}'"
    build = lambda: cls(config, in_dim, dim)  # noqa: E731
    features = torch.randn(5, in_dim, generator=torch.Generator().manual_seed(seed))
    run = lambda a: a(features)  # noqa: E731
    adaptor = _seeded(build, seed).eval()
    adapted = run(adaptor)
    assert adapted.shape == (5, dim), f"{name}: gives {tuple(adapted.shape)}, expected (N, dim)"
    _same_for_same_seed(build, run, seed, name)
    _round_trip(adaptor, build, run, name)
    adaptor.train()
    _trainable_get_gradients(adaptor, run(adaptor).pow(2).mean(), name)
    with torch.no_grad():
        for parameter in adaptor.parameters():
            parameter.add_(1.0)
    perturbed = {k: v.clone() for k, v in adaptor.named_parameters()}  # parameters, not buffers: those stay
    adaptor.reset_parameters()
    assert all(not torch.equal(perturbed[k], v) for k, v in adaptor.named_parameters()), (
        f"{name}: reset_parameters() does not re-draw every parameter (re-learning must reset the adaptor)")


def check_encoder(cls: type[Encoder], values: list[Any], config=None) -> None:
    """``encode`` on example ``values`` (include a missing one, None): shapes, dtypes, absent rows all zero,
    the same vectors twice, and (for per-item encoders) each item's vector independent of the others."""
    _identity(cls, Encoder)
    assert cls.modality in ("text", "image", "price"), f"{cls.__name__}: modality must be text, image or price"
    config, name = _config(cls, config), f"encoder '{cls.name}'"
    encoder = cls(config)
    features, present = encoder.encode(list(values))
    assert features.dtype == torch.float32 and features.shape[0] == len(values), (
        f"{name}: features must be float32 (N, dim), got {features.dtype} {tuple(features.shape)}")
    assert present.dtype == torch.bool and present.shape == (len(values),), f"{name}: present must be bool (N,)"
    assert torch.count_nonzero(features[~present]) == 0, f"{name}: rows of absent items must be all zero"
    again, _ = cls(config).encode(list(values))
    assert torch.allclose(features, again, atol=1e-6), f"{name}: the same values give different vectors"
    assert cls(config).cache_key() == encoder.cache_key(), f"{name}: cache_key() is not stable"
    if cls.per_item:
        single, _ = encoder.encode([values[0]])
        assert torch.allclose(single[0], features[0], atol=1e-5), (
            f"{name}: an item's vector depends on the other items; set per_item = False")


def check_data_source(cls: type[DataSource], domain: str, config=None) -> None:
    """``load(domain)`` gives a well-formed raw domain, and ``fingerprint`` is a stable string."""
    from antkit.data.domain import RawDomain

    _identity(cls, DataSource)
    config, name = _config(cls, config), f"data source '{cls.name}'"
    raw = cls(config).load(domain)
    assert isinstance(raw, RawDomain), f"{name}: load() must return an antkit.data.domain.RawDomain"
    assert "item_id" in raw.items, f"{name}: items need an item_id column"
    sizes = {column: len(values) for column, values in raw.items.items()}
    assert len(set(sizes.values())) == 1, f"{name}: item columns differ in length: {sizes}"
    assert {"user_id", "item_id", "timestamp"} <= set(raw.interactions), (
        f"{name}: interactions need user_id, item_id, timestamp")
    sizes = {column: len(values) for column, values in raw.interactions.items()}
    assert len(set(sizes.values())) == 1, f"{name}: interaction columns differ in length: {sizes}"
    first = cls(config).fingerprint(domain)
    assert isinstance(first, str) and first == cls(config).fingerprint(domain), f"{name}: fingerprint() is not stable"


def check_strategy(cls: type[Strategy], config=None, seed: int = 0) -> None:
    """``prepare`` on a small built-in model: it runs, leaves something to train, and, when it uses
    pre-trained weights, keeps at least one pre-trained tensor."""
    from antkit.components.adaptors import MixtureOfExperts, MixtureOfExpertsConfig
    from antkit.components.backbones import SASRec, SASRecConfig
    from antkit.components.fusions import SumProduct, SumProductConfig
    from antkit.model.item_tower import ItemTower
    from antkit.model.recommender import SequentialRecommender

    _identity(cls, Strategy)
    config, name = _config(cls, config), f"strategy '{cls.name}'"

    def model():
        adaptor = MixtureOfExperts(MixtureOfExpertsConfig(experts=2), 12, 16)
        tower = ItemTower({"text": adaptor}, SumProduct(SumProductConfig(), ["text"], 16))
        return SequentialRecommender(SASRec(SASRecConfig(layers=1, heads=2, inner=16), 16, 8), tower)

    pretrained = _seeded(model, seed + 1).state_dict()
    target = _seeded(model, seed)
    cls(config).prepare(target, pretrained if cls.uses_pretrained else None)
    assert any(p.requires_grad for p in target.parameters()), f"{name}: prepare() leaves nothing to train"
    if cls.uses_pretrained:
        kept = [k for k, v in target.state_dict().items() if torch.equal(v, pretrained[k])]
        assert kept, f"{name}: uses_pretrained is True but no pre-trained tensor was kept"


CHECKS = {"backbone": check_backbone, "fusion": check_fusion, "adaptor": check_adaptor, "strategy": check_strategy}


def check_component(cls: type[Component], config=None, **options) -> None:
    """The contract check of ``cls``'s kind (encoders and data sources need example input: call
    ``check_encoder`` / ``check_data_source`` directly)."""
    if cls.kind not in CHECKS:
        raise TypeError(f"{cls.__name__} is a {cls.kind}: use check_encoder(cls, values) or "
                        "check_data_source(cls, domain)")
    CHECKS[cls.kind](cls, config, **options)
