"""Plugins: explicit plugin objects, registration errors, and entry-point discovery from installed packages."""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

import pytest
import torch
from pydantic import Field
from torch import nn

import antkit
from antkit.cli import app as app_module
from antkit.components.backbones import SASRec
from antkit.components.base import Backbone, ComponentConfig
from antkit.components.strategies import Relearn, RelearnConfig
from antkit.data.catalogue import Catalogue
from antkit.errors import PluginError, RecipeError
from antkit.model.build import build_model
from antkit.model.recommender import Batch
from antkit.plugins.manager import load_registry
from antkit.recipe import load_recipe

TINY = (Path(__file__).parent / "recipes" / "tiny.yaml").read_text()
BACKBONE = "backbone: {name: sasrec, layers: 1, heads: 2, inner: 32}"


class CumulativeMeanConfig(ComponentConfig):
    scale: float = Field(1.0, gt=0, description="multiplies the output")


class CumulativeMean(Backbone):
    """User state after each prefix: a linear map of the mean of the item vectors so far (causal)."""

    name = "cumulative_mean"
    description = "mean of the prefix, then a linear layer"
    Config = CumulativeMeanConfig

    def __init__(self, config, dim, max_length):
        super().__init__(config, dim, max_length)
        self.project = nn.Linear(dim, dim)

    def forward(self, items, lengths):
        counts = torch.arange(1, items.shape[1] + 1, device=items.device, dtype=items.dtype)
        return self.project(items.cumsum(1) / counts[None, :, None]) * self.config.scale

    def sequence_modules(self):
        return (self.project,)


def plugin(name: str, **hooks) -> types.ModuleType:
    """A module-like plugin object with the given hook functions, each marked with ``antkit.hookimpl``."""
    module = types.ModuleType(name)
    for hook_name, function in hooks.items():
        setattr(module, hook_name, antkit.hookimpl(function))
    return module


def backbone_plugin(name="my_backbones", cls=CumulativeMean):
    def register_backbones(register):
        register(cls)

    return plugin(name, register_backbones=register_backbones)


def recipe_file(tmp_path, backbone: str) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(TINY.replace(BACKBONE, f"backbone: {backbone}"))
    return path


# explicit plugins ---------------------------------------------------------------------------------------------


def test_plugin_component_listed():
    """A plugin's backbone is registered next to the built-in one, with its plugin name."""
    registry = load_registry(plugins=[backbone_plugin()], entry_point_plugins=False)
    assert registry.names("backbone") == ["cumulative_mean", "sasrec"]
    registration = registry.components["backbone"]["cumulative_mean"]
    assert registration.plugin == "my_backbones" and registration.cls is CumulativeMean
    assert "my_backbones" in registry.plugins
    assert registry.get("backbone", "cumulative_mean") is CumulativeMean


def test_plugin_component_in_recipe(tmp_path):
    """A recipe naming the plugin backbone validates, with its Config fields and defaults."""
    registry = load_registry(plugins=[backbone_plugin()], entry_point_plugins=False)
    recipe = load_recipe(recipe_file(tmp_path, "{name: cumulative_mean, scale: 2.5}"), registry)
    assert recipe.model.backbone.name == "cumulative_mean"
    assert recipe.model.backbone.scale == 2.5
    assert load_recipe(recipe_file(tmp_path, "{name: cumulative_mean}"), registry).model.backbone.scale == 1.0


@pytest.mark.parametrize("backbone, fragments", [
    ("{name: cumulative_mean, scal: 2.0}", ["model.backbone.scal", "unknown field", "did you mean 'scale'"]),
    ("{name: cumulative_mean, scale: -1}", ["model.backbone.scale", "greater than 0"]),
    ("{name: cumulative_mean, scale: big}", ["model.backbone.scale", "'big'"]),
])
def test_plugin_config_validated(tmp_path, backbone, fragments):
    """The plugin's Config is enforced like a built-in's: extra fields and bad values are rejected."""
    registry = load_registry(plugins=[backbone_plugin()], entry_point_plugins=False)
    with pytest.raises(RecipeError) as caught:
        load_recipe(recipe_file(tmp_path, backbone), registry)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_without_plugin_the_component_is_unknown(tmp_path, registry):
    """The same recipe without the plugin loaded fails with the list of available backbones."""
    with pytest.raises(RecipeError, match="unknown backbone 'cumulative_mean'; available: sasrec"):
        load_recipe(recipe_file(tmp_path, "{name: cumulative_mean}"), registry)


def test_plugin_backbone_builds_and_trains(tmp_path):
    """build_model uses the plugin backbone; a full-softmax loss backpropagates; relearn freezes its layers."""
    registry = load_registry(plugins=[backbone_plugin()], entry_point_plugins=False)
    recipe = load_recipe(recipe_file(tmp_path, "{name: cumulative_mean, scale: 2.0}"), registry)
    dims = {"text": 64, "image": 20, "price": 8}
    model = build_model(recipe, registry, dims)
    assert isinstance(model.backbone, CumulativeMean)
    assert model.backbone.config.scale == 2.0 and model.backbone.dim == 32

    torch.manual_seed(0)
    n = 10
    catalogue = Catalogue(
        {m: torch.cat([torch.zeros(1, d), torch.randn(n, d)]) for m, d in dims.items()},
        {m: torch.cat([torch.zeros(1, dtype=torch.bool), torch.ones(n, dtype=torch.bool)]) for m in dims},
    )
    batch = Batch(torch.tensor([[1, 2, 3, 0], [4, 5, 0, 0]]), torch.tensor([[2, 3, 6, 0], [5, 7, 0, 0]]),
                  torch.tensor([3, 2]))
    loss = model(batch, catalogue, "full")
    assert torch.isfinite(loss)
    loss.backward()
    assert model.backbone.project.weight.grad is not None
    assert model.backbone.project.weight.grad.abs().sum() > 0

    target = build_model(recipe, registry, dims)
    pretrained = {k: v.detach().clone() for k, v in model.state_dict().items()}
    Relearn(RelearnConfig()).prepare(target, pretrained)
    assert torch.equal(target.backbone.project.weight, model.backbone.project.weight)
    assert not any(p.requires_grad for p in target.backbone.project.parameters())
    assert any(p.requires_grad for p in target.item_tower.parameters())


# registration errors -------------------------------------------------------------------------------------------


def test_duplicate_name_names_both_plugins():
    """Registering 'sasrec' again is a PluginError naming the built-in plugin and the newcomer."""
    with pytest.raises(PluginError) as caught:
        load_registry(plugins=[backbone_plugin("copycat", SASRec)], entry_point_plugins=False)
    message = str(caught.value)
    assert "'sasrec'" in message
    assert "antkit.backbones" in message
    assert "copycat" in message


def test_misspelled_hook_names_plugin():
    """A hookimpl for a hook that does not exist is a PluginError naming the plugin and the hook."""
    def register_backbone(register):  # missing the final "s"
        register(CumulativeMean)

    with pytest.raises(PluginError) as caught:
        load_registry(plugins=[plugin("typo_plugin", register_backbone=register_backbone)], entry_point_plugins=False)
    assert "typo_plugin" in str(caught.value)
    assert "register_backbone" in str(caught.value)


def test_misspelled_hook_argument_names_plugin():
    """A hookimpl whose argument is misspelled is a PluginError (not a raw pluggy error) naming the plugin."""
    def register_backbones(regster):
        regster(CumulativeMean)

    with pytest.raises(PluginError) as caught:
        load_registry(plugins=[plugin("arg_typo_plugin", register_backbones=register_backbones)],
                      entry_point_plugins=False)
    assert "arg_typo_plugin" in str(caught.value)
    assert "regster" in str(caught.value)


def test_raising_hook_names_plugin():
    """A hook that raises is a PluginError naming the plugin, the hook and the original error."""
    def register_backbones(register):
        raise RuntimeError("boom in the plugin")

    with pytest.raises(PluginError) as caught:
        load_registry(plugins=[plugin("exploding", register_backbones=register_backbones)], entry_point_plugins=False)
    message = str(caught.value)
    assert "exploding" in message and "register_backbones" in message and "boom in the plugin" in message


class NotABackbone(nn.Module):
    name = "not_a_backbone"


class NamelessBackbone(CumulativeMean):
    name = ""


class BadConfigBackbone(CumulativeMean):
    name = "bad_config"
    Config = dict


@pytest.mark.parametrize("cls, fragment", [
    (NotABackbone, "not a subclass of antkit.components.Backbone"),
    (int, "not a subclass"),
    (NamelessBackbone, "without a `name`"),
    (BadConfigBackbone, "Config must subclass"),
])
def test_invalid_class_rejected(cls, fragment):
    """Registering something that is not a proper component is a PluginError naming the plugin."""
    with pytest.raises(PluginError) as caught:
        load_registry(plugins=[backbone_plugin("sloppy", cls)], entry_point_plugins=False)
    assert "sloppy" in str(caught.value)
    assert fragment in str(caught.value)


def test_two_plugins_with_one_name():
    """Two plugin objects with the same name are a PluginError."""
    with pytest.raises(PluginError, match="two plugins are named 'twin'"):
        load_registry(plugins=[backbone_plugin("twin"), plugin("twin")], entry_point_plugins=False)


# entry points ---------------------------------------------------------------------------------------------------

FAKE_MODULE = '''
import antkit
from antkit.components.base import Fusion


class PlainSum(Fusion):
    """Sum of the modality vectors."""

    name = "plain_sum"

    def forward(self, vectors, present):
        return sum(vectors[m] for m in self.modalities)


@antkit.hookimpl
def register_fusions(register):
    register(PlainSum)
'''

FAULTY_MODULE = '''
import antkit
from antkit.components.base import Fusion


class FaultyForward(Fusion):
    name = "faulty_forward"

    def forward(self, vectors, present):
        raise KeyError("bug in forward")


class FaultyInit(Fusion):
    name = "faulty_init"

    def __init__(self, config, modalities, dim):
        raise ValueError("needs at least four modalities")


@antkit.hookimpl
def register_fusions(register):
    register(FaultyForward)
    register(FaultyInit)
'''

MODULES = ("fake_antkit_plugin", "broken_antkit_plugin", "exiting_antkit_plugin", "faulty_antkit_plugin")


def install(site: Path, distribution: str, version: str, entry: str, module: str, source: str) -> None:
    """A minimal installed distribution: dist-info with METADATA and entry_points.txt, plus its module."""
    info = site / f"{distribution}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[antkit]\n{entry} = {module}\n")
    (site / f"{module}.py").write_text(source)


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A folder on sys.path holding 'fakeplugin 1.0' (works) and 'brokenplugin 2.0' (fails to import)."""
    folder = tmp_path / "site"
    install(folder, "fakeplugin", "1.0", "fake", "fake_antkit_plugin", FAKE_MODULE)
    install(folder, "brokenplugin", "2.0", "broken", "broken_antkit_plugin",
            "raise ImportError('brokenplugin needs the missing package zzz_missing')\n")
    for module in MODULES:
        monkeypatch.delitem(sys.modules, module, raising=False)
    monkeypatch.delenv("ANTKIT_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.setenv("ANTKIT_PLUGINS", "fake,broken")  # other installed plugins (plugins/antkit-extras) stay out
    monkeypatch.syspath_prepend(str(folder))
    importlib.invalidate_caches()
    yield folder
    for module in MODULES:
        sys.modules.pop(module, None)
    importlib.invalidate_caches()


def test_entry_point_plugin_found(site):
    """load_registry() finds the installed plugin, with its distribution name and version."""
    registry = load_registry()
    assert registry.plugins["fake"].distribution == "fakeplugin 1.0"
    assert registry.plugins["fake"].error is None
    registration = registry.components["fusion"]["plain_sum"]
    assert (registration.plugin, registration.distribution) == ("fake", "fakeplugin 1.0")
    assert registry.names("fusion") == ["plain_sum", "sum_product"]


def test_entry_point_component_usable_in_recipe(site, tmp_path):
    """A recipe naming the entry-point plugin's fusion validates."""
    path = tmp_path / "recipe.yaml"
    path.write_text(TINY.replace("fusion: {name: sum_product}", "fusion: {name: plain_sum}"))
    recipe = load_recipe(path, load_registry())
    assert recipe.model.fusion.name == "plain_sum"


def test_broken_plugin_recorded_not_raised(site):
    """A plugin whose import fails is recorded with the error; the others still load."""
    registry = load_registry()
    broken = registry.plugins["broken"]
    assert broken.distribution == "brokenplugin 2.0"
    assert "ImportError" in broken.error and "zzz_missing" in broken.error
    assert "broken_antkit_plugin" in broken.error
    assert "plain_sum" in registry.names("fusion")


def test_plugin_exiting_at_import_is_recorded_not_fatal(site, monkeypatch):
    """A plugin calling sys.exit() at import is a broken plugin like any other, not the end of every command."""
    install(site, "exitingplugin", "0.1", "exiting", "exiting_antkit_plugin", "import sys\nsys.exit(3)\n")
    monkeypatch.setenv("ANTKIT_PLUGINS", "fake,exiting")
    registry = load_registry()
    assert "import of exiting_antkit_plugin failed: SystemExit: 3" in registry.plugins["exiting"].error
    assert "plain_sum" in registry.names("fusion")


def test_plugins_command_shows_error_text_as_written(site, monkeypatch, capsys):
    """A plugin's error text with square brackets is printed as it is, not read as rich markup."""
    (site / "broken_antkit_plugin.py").write_text("raise ImportError('needs [bold]zzz[/bold] and [/extra]')\n")
    monkeypatch.setattr(sys, "argv", ["antkit", "plugins"])
    with pytest.raises(SystemExit) as exited:
        app_module.main()
    assert exited.value.code in (0, None)
    assert "needs[bold]zzz[/bold]and[/extra]" in "".join(capsys.readouterr().out.split())


def test_unknown_component_mentions_broken_plugin(site, tmp_path):
    """A recipe needing a component nobody provides names the plugin that failed to load, and why."""
    path = tmp_path / "recipe.yaml"
    path.write_text(TINY.replace("fusion: {name: sum_product}", "fusion: {name: fancy_fusion}"))
    with pytest.raises(RecipeError) as caught:
        load_recipe(path, load_registry())
    message = str(caught.value)
    assert "unknown fusion 'fancy_fusion'; available: plain_sum, sum_product" in message
    assert "'broken'" in message and "zzz_missing" in message


def test_autoload_disabled(site, monkeypatch):
    """ANTKIT_DISABLE_PLUGIN_AUTOLOAD=1 skips entry points; the built-ins remain."""
    monkeypatch.setenv("ANTKIT_DISABLE_PLUGIN_AUTOLOAD", "1")
    registry = load_registry()
    assert "fake" not in registry.plugins and "broken" not in registry.plugins
    assert registry.names("fusion") == ["sum_product"]
    assert "fake_antkit_plugin" not in sys.modules


def test_autoload_switch_zero_loads(site, monkeypatch):
    """ANTKIT_DISABLE_PLUGIN_AUTOLOAD=0 means enabled."""
    monkeypatch.setenv("ANTKIT_DISABLE_PLUGIN_AUTOLOAD", "0")
    assert "fake" in load_registry().plugins


def test_explicit_flag_overrides_environment(site, monkeypatch):
    """entry_point_plugins=False wins over an enabled environment, True over a disabled one."""
    assert "fake" not in load_registry(entry_point_plugins=False).plugins
    monkeypatch.setenv("ANTKIT_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert "fake" in load_registry(entry_point_plugins=True).plugins


def test_antkit_plugins_selects(site, monkeypatch):
    """ANTKIT_PLUGINS=fake loads only that entry point (the broken one is not even imported)."""
    monkeypatch.setenv("ANTKIT_PLUGINS", "fake")
    registry = load_registry()
    assert "fake" in registry.plugins
    assert "broken" not in registry.plugins
    monkeypatch.setenv("ANTKIT_PLUGINS", "broken")
    registry = load_registry()
    assert "fake" not in registry.plugins
    assert registry.plugins["broken"].error


def test_antkit_plugins_naming_no_installed_plugin_is_reported(site, monkeypatch):
    """A name in ANTKIT_PLUGINS that no installed plugin has shows as a plugin that failed to load."""
    monkeypatch.setenv("ANTKIT_PLUGINS", "fake,fkae")
    registry = load_registry()
    assert "fake" in registry.plugins and not registry.plugins["fake"].error
    assert "ANTKIT_PLUGINS names 'fkae', but no installed plugin has that name" in registry.plugins["fkae"].error


def run_cli(monkeypatch, capsys, tmp_path, fusion: str) -> tuple[int, str]:
    """``antkit run`` (one short arm) on the tiny recipe with ``fusion``: the exit code and what it printed."""
    path = tmp_path / "recipe.yaml"
    path.write_text(TINY.replace("fusion: {name: sum_product}", f"fusion: {{name: {fusion}}}"))
    monkeypatch.setattr(sys, "argv", ["antkit", "run", str(path), "--out", str(tmp_path / "run"), "--cache",
                                      str(tmp_path / "cache"), "--set", "arms=[{label: a, strategy: {name: scratch}}]",
                                      "--set", "data.auxiliary=[]", "--set", "adapt.epochs=1"])
    with pytest.raises(SystemExit) as exited:
        app_module.main()
    captured = capsys.readouterr()
    return exited.value.code, captured.out + captured.err


def test_a_fault_in_a_plugins_code_names_the_plugin(site, tmp_path, monkeypatch, capsys):
    """An exception raised by a plugin's component while it works is one message naming the plugin, its
    distribution and where, not a traceback through antkit."""
    install(site, "faultyplugin", "0.3", "faulty", "faulty_antkit_plugin", FAULTY_MODULE)
    monkeypatch.setenv("ANTKIT_PLUGINS", "faulty")
    code, printed = run_cli(monkeypatch, capsys, tmp_path, "faulty_forward")
    assert code == 1
    assert "Traceback" not in printed
    assert ("plugin 'faulty' (faultyplugin 0.3) failed: KeyError: 'bug in forward' (faulty_antkit_plugin.py:10, "
            "in forward)") in " ".join(printed.split())


def test_a_plugin_component_refusing_its_settings_is_named(site, tmp_path, monkeypatch, capsys):
    install(site, "faultyplugin", "0.3", "faulty", "faulty_antkit_plugin", FAULTY_MODULE)
    monkeypatch.setenv("ANTKIT_PLUGINS", "faulty")
    code, printed = run_cli(monkeypatch, capsys, tmp_path, "faulty_init")
    assert code == 1
    assert "Traceback" not in printed
    assert "fusion 'faulty_init' (plugin 'faulty'): needs at least four modalities" in " ".join(printed.split())


def test_a_fault_in_antkit_itself_keeps_its_traceback(site, tmp_path, monkeypatch, capsys):
    """Only plugins' faults are turned into a message: antkit's own bugs still raise, for a useful report."""
    def broken_sum(self, vectors, present):
        raise KeyError("bug in antkit")

    monkeypatch.setattr("antkit.components.fusions.SumProduct.forward", broken_sum)
    with pytest.raises(KeyError, match="bug in antkit"):
        run_cli(monkeypatch, capsys, tmp_path, "sum_product")
