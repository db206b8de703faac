"""The ``antkit`` command: recipe validate/schema, plugins, and clean error exits (no tracebacks)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from antkit.cli import app as app_module
from antkit.cli.app import app

REPO = Path(__file__).parent.parent
TINY = (Path(__file__).parent / "recipes" / "tiny.yaml").read_text()
BAD = TINY.replace("layers: 1,", "layers: two,")  # line 20: model.backbone.layers
BUILTIN_PLUGINS = (
    "antkit.encoders", "antkit.adaptors", "antkit.fusions",
    "antkit.backbones", "antkit.strategies", "antkit.sources",
)
COMPONENTS = (
    "sentence_transformer", "hashed_ngrams", "color_layout", "sinusoidal_price", "quantile_price", "moe", "linear",
    "sum_product", "sasrec", "relearn", "finetune", "scratch", "synthetic",
)


def squeeze(text: str) -> str:
    """``text`` without any whitespace, to compare messages however the console wrapped them."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(autouse=True)
def plain_terminal(monkeypatch):
    """A default 80-column, non-interactive console, and no third-party plugins."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("ANTKIT_PLUGINS", raising=False)
    monkeypatch.setenv("ANTKIT_DISABLE_PLUGIN_AUTOLOAD", "1")


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def run_main(monkeypatch, capsys, *args: str):
    """Call antkit.cli.app.main (what the console script does) in-process; returns (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["antkit", *args])
    with pytest.raises(SystemExit) as exited:
        app_module.main()
    captured = capsys.readouterr()
    return exited.value.code, captured.out, captured.err


# subprocess: the real entry point ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_recipe_run(tmp_path_factory):
    """``antkit recipe validate`` on a recipe with a wrong type, in a fresh interpreter (run once)."""
    folder = tmp_path_factory.mktemp("cli") / "experiments" / "amazon-transfer-study" / "recipes"
    folder.mkdir(parents=True)
    path = folder / "bad_recipe.yaml"
    path.write_text(BAD)
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    env["ANTKIT_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["ANTKIT_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    result = subprocess.run(
        [sys.executable, "-c", "from antkit.cli.app import main; main()", "recipe", "validate", str(path)],
        capture_output=True, text=True, env=env, cwd=path.parent, timeout=120,
    )
    return path, result


def test_subprocess_bad_recipe_exits_1_without_traceback(bad_recipe_run):
    """A bad recipe: exit code 1, one error naming the file, line, field and value; no traceback."""
    path, result = bad_recipe_run
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert result.stderr.count("error:") == 1
    assert squeeze(f"error: {path}, line 20: model.backbone.layers") in squeeze(result.stderr)
    assert "'two'" in result.stderr
    assert "valid" not in result.stdout


def test_subprocess_error_message_is_not_hard_wrapped(bad_recipe_run):
    """The message reaches a pipe or log file unbroken, so 'file, line N: field' can be read and grepped."""
    path, result = bad_recipe_run
    assert f"{path}, line 20: model.backbone.layers" in result.stderr, result.stderr


# in-process main(): errors become exit code 1 -------------------------------------------------------------------


def test_main_bad_override_exits_1(monkeypatch, capsys, tiny_recipe_path):
    """A bad --set value: exit 1 and a message starting with the override."""
    code, out, err = run_main(monkeypatch, capsys, "recipe", "validate", str(tiny_recipe_path), "--set", "adapt.epochs=abc")
    assert code == 1
    assert "Traceback" not in err
    assert squeeze("error: --set adapt.epochs=abc: adapt.epochs") in squeeze(err)
    assert "valid" not in out


def test_main_missing_recipe_exits_1(monkeypatch, capsys, tmp_path):
    """A recipe path that does not exist: exit 1, 'no such file'."""
    code, _, err = run_main(monkeypatch, capsys, "recipe", "validate", str(tmp_path / "nope.yaml"))
    assert code == 1
    assert "no such file" in " ".join(err.split())
    assert squeeze(str(tmp_path / "nope.yaml")) in squeeze(err)


def test_main_run_rejects_bad_recipe_before_work(monkeypatch, capsys, tmp_path):
    """``antkit run`` on a bad recipe stops at validation: exit 1, nothing written."""
    path = tmp_path / "bad.yaml"
    path.write_text(TINY.replace("name: sasrec,", "name: sasrek,"))
    out_dir = tmp_path / "out"
    code, _, err = run_main(monkeypatch, capsys, "run", str(path), "--out", str(out_dir))
    assert code == 1
    assert "unknown backbone 'sasrek'" in " ".join(err.split())
    assert not out_dir.exists()


def test_a_recipe_too_large_for_memory_is_one_clear_error(cli_error, tiny_recipe_path, tmp_path):
    """An adaptor of 1,024 experts mapping 65,536 to 4,096 values (a terabyte) cannot be allocated: the advice,
    not the allocator's traceback."""
    error = cli_error("run", tiny_recipe_path, "--out", tmp_path / "run", "--set", "model.dim=4096",
                      "--set", "model.modalities.text.encoder.dim=65536",
                      "--set", "model.modalities.text.adaptor.experts=1024")
    assert "error: out of memory: " in error and "can't allocate memory" in error
    assert "lower the batch sizes" in error


def test_main_good_recipe_exits_0(monkeypatch, capsys, tiny_recipe_path):
    """main() on a valid recipe exits with code 0 and says so."""
    code, out, err = run_main(monkeypatch, capsys, "recipe", "validate", str(tiny_recipe_path))
    assert code in (0, None)
    assert "valid" in out
    assert "error" not in err


# CliRunner ------------------------------------------------------------------------------------------------------


SHIPPED = [Path(__file__).parent / "recipes" / "tiny.yaml", *sorted((REPO / "recipes").glob("**/*.yaml"))]


@pytest.mark.parametrize("recipe", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_validate_good_recipe(recipe):
    """The shipped recipes validate: exit 0 and 'valid'."""
    result = invoke("recipe", "validate", str(recipe))
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_validate_with_override(tiny_recipe_path):
    """--set is accepted (repeatable) by recipe validate."""
    result = invoke("recipe", "validate", str(tiny_recipe_path), "--set", "adapt.epochs=5", "--set", "arms.0.label=x")
    assert result.exit_code == 0, result.output


def test_schema_is_json_schema_with_components():
    """recipe schema prints a JSON schema whose $refs resolve and which names the built-in components."""
    result = invoke("recipe", "schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["type"] == "object"
    assert {"data", "model", "arms"} <= set(schema["required"])
    assert {"data", "model", "pretrain", "adapt", "evaluation", "arms"} <= set(schema["properties"])
    definitions = schema["$defs"]
    refs = re.findall(r'"\$ref": "#/\$defs/([^"]+)"', result.stdout)
    assert refs and all(ref in definitions for ref in refs)
    for name in COMPONENTS:
        assert f'"{name}"' in result.stdout, name
    names = {d["properties"]["name"]["const"] for d in definitions.values() if "const" in d.get("properties", {}).get("name", {})}
    assert {"sasrec", "moe", "relearn", "synthetic", "hashed_ngrams"} <= names


def test_plugins_lists_component_names():
    """antkit plugins lists every built-in component name in full."""
    result = invoke("plugins")
    assert result.exit_code == 0
    for name in COMPONENTS:
        assert re.search(rf"\b{name}\b", result.output), f"{name} missing from:\n{result.output}"
    assert "built-in" in result.output


def test_plugins_shows_full_plugin_names():
    """antkit plugins names each built-in plugin in full (not cut off with '…') on a default 80-column console."""
    result = invoke("plugins")
    assert result.exit_code == 0
    assert "…" not in result.output, result.output
    for plugin in BUILTIN_PLUGINS:
        assert plugin in result.output, f"{plugin} missing from:\n{result.output}"


def test_plugins_shows_third_party_and_broken(tmp_path, monkeypatch):
    """An installed plugin shows its distribution and components; a broken one shows that it failed."""
    for dist, module, body in (
        ("cliplugin-3.1", "cli_antkit_plugin", PLUGIN_MODULE),
        ("clibroken-0.2", "cli_broken_antkit_plugin", "raise ImportError('needs a missing library')\n"),
    ):
        info = tmp_path / f"{dist}.dist-info"
        info.mkdir()
        name, version = dist.split("-")
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[antkit]\n{name} = {module}\n")
        (tmp_path / f"{module}.py").write_text(body)
        monkeypatch.delitem(sys.modules, module, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("ANTKIT_DISABLE_PLUGIN_AUTOLOAD", "0")
    result = invoke("plugins")
    sys.modules.pop("cli_antkit_plugin", None)
    assert result.exit_code == 0, result.output
    assert "cliplugin 3.1" in result.output
    assert "cli_plain_sum" in result.output
    assert "clibroken 0.2" in result.output
    assert "failed to load" in result.output


PLUGIN_MODULE = '''
import antkit
from antkit.components.base import Fusion


class PlainSum(Fusion):
    name = "cli_plain_sum"

    def forward(self, vectors, present):
        return sum(vectors[m] for m in self.modalities)


@antkit.hookimpl
def register_fusions(register):
    register(PlainSum)
'''
