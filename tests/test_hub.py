"""Checkpoints on the Hub, with the real huggingface_hub client against the loopback server
(tests/hub_server.py): push, pull, a named revision, offline re-pull from the cache, info, the CLI, and
adaptation from a pulled checkpoint reproducing adaptation from the local one."""

from __future__ import annotations

import json
import shutil
import socket
import sys
from pathlib import Path

import pytest
from hub_server import point_client_at, set_hub_offline

import antkit
from antkit import hub
from antkit.cli import app as app_module
from antkit.errors import AntkitError, CheckpointError, RecipeError

TINY = Path(__file__).parent / "recipes" / "tiny.yaml"
ARMS = "arms=[{label: relearn, strategy: {name: relearn}}]"
REPO = "antkit-tests/tiny-ant"


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    """A tiny run: its pre-trained model is what gets pushed; its relearn result is the reference."""
    out = tmp_path_factory.mktemp("hub") / "run"
    results = antkit.run(TINY, out, [ARMS, "adapt.epochs=1"], cache_dir=tmp_path_factory.getbasetemp() / "antkit-cache")
    return out, results


def cli(monkeypatch, capsys, *args) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["antkit", *args])
    with pytest.raises(SystemExit) as exited:
        app_module.main()
    captured = capsys.readouterr()
    return exited.value.code or 0, captured.out + captured.err


def test_push_pull_and_adapt_reproduces_the_local_metrics(local_hub, local_run, tmp_path, monkeypatch):
    out, results = local_run
    url = antkit.push(out, REPO)
    assert REPO in url
    folder = antkit.pull(REPO)
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "model.safetensors", "recipe.json"]
    assert (folder / "model.safetensors").read_bytes() == (out / "pretrain" / "model.safetensors").read_bytes()
    card = (folder / "README.md").read_text()
    assert "library_name: antkit" in card and "Target `office`" in card and f"hf://{REPO}" in card
    assert f"Made by antkit {antkit.__version__}" in card  # the software that made the run

    again = antkit.run(TINY, tmp_path / "from-hub", [ARMS, "adapt.epochs=1", f"pretrained=hf://{REPO}"])
    assert again.targets["office"]["relearn"]["test"] == results.targets["office"]["relearn"]["test"]

    local_hub.stop()  # the cached copy serves offline
    set_hub_offline(monkeypatch)
    assert antkit.pull(REPO) == folder
    offline = antkit.run(TINY, tmp_path / "offline", [ARMS, "adapt.epochs=1", f"pretrained=hf://{REPO}"])
    assert offline.targets["office"]["relearn"]["test"] == results.targets["office"]["relearn"]["test"]


def test_named_revision_and_info(local_hub, local_run, tmp_path):
    out, _ = local_run
    antkit.push(out, REPO)
    changed = tmp_path / "changed"
    shutil.copytree(out / "pretrain", changed)
    config = json.loads((changed / "config.json").read_text())
    config["domains"] = ["kitchen", "garden", "later"]
    (changed / "config.json").write_text(json.dumps(config))
    antkit.push(changed, REPO, revision="v2")

    main_config = json.loads((antkit.pull(REPO) / "config.json").read_text())
    v2_config = json.loads((antkit.pull(REPO, revision="v2") / "config.json").read_text())
    assert main_config["domains"] == ["kitchen", "garden"] and v2_config["domains"][-1] == "later"
    assert hub.resolve(f"hf://{REPO}@v2") == antkit.pull(REPO, revision="v2")

    details = hub.info(REPO, "v2")
    assert details["revision"] == "v2" and len(details["commit"]) == 40
    assert "model.safetensors" in details["files"]
    assert {c["name"] for c in details["config"]["components"]} >= {"sasrec", "moe"}


def test_cli_push_pull_info(local_hub, local_run, tmp_path, monkeypatch, capsys):
    out, _ = local_run
    code, text = cli(monkeypatch, capsys, "hub", "push", str(out), REPO, "--private")
    assert code == 0 and f"pushed {out / 'pretrain'} to {REPO}" in text
    code, text = cli(monkeypatch, capsys, "hub", "pull", REPO, "--local-dir", str(tmp_path / "here"))
    assert code == 0 and (tmp_path / "here" / "config.json").exists()
    code, text = cli(monkeypatch, capsys, "hub", "info", REPO)
    assert code == 0 and "sasrec" in text and "kitchen, garden" in text


def test_hub_errors_are_one_clear_message(local_hub, tmp_path, monkeypatch, capsys):
    with pytest.raises(AntkitError, match="hub pull antkit-tests/nothing: no such repository"):
        antkit.pull("antkit-tests/nothing")
    code, text = cli(monkeypatch, capsys, "hub", "pull", "antkit-tests/nothing")
    assert code == 1 and "Traceback" not in text and "no such repository" in text
    with pytest.raises(AntkitError, match="hf://ORG/NAME"):
        hub.resolve("hf://just-a-name")
    with pytest.raises(AntkitError, match="'a/b/c': not a Hub repository id"):
        antkit.pull("a/b/c")
    with pytest.raises(CheckpointError, match="neither a checkpoint"):
        antkit.push(tmp_path, REPO)


@pytest.fixture
def unreachable_hub(tmp_path, monkeypatch) -> str:
    """The client pointed at a loopback port nobody listens on (a real connection failure); its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    point_client_at(monkeypatch, url, tmp_path / "hf-home")
    return url


@pytest.mark.parametrize("command", [["pull", "a/b/c"], ["info", "a/b/c"], ["push", ".", "a/b/c"],
                                     ["info", "a--b/c"]])
def test_a_bad_repo_id_is_named(local_hub, monkeypatch, capsys, command):
    code, text = cli(monkeypatch, capsys, "hub", *command)
    assert code == 1 and "Traceback" not in text
    assert f"'{command[-1]}': not a Hub repository id; expected ORG/NAME" in text


def test_no_connection_names_the_endpoint(unreachable_hub, local_run, monkeypatch, capsys):
    out, _ = local_run
    for command in (["info", "nobody/nothing"], ["push", str(out), "me/x"]):
        code, text = cli(monkeypatch, capsys, "hub", *command)
        assert code == 1 and "Traceback" not in text
        assert f"cannot reach the Hub at {unreachable_hub}: " in text and "check the network or HF_ENDPOINT" in text
    code, text = cli(monkeypatch, capsys, "hub", "pull", "nobody/nothing")
    assert code == 1 and "hub pull nobody/nothing: not in the local cache" in text


def test_offline_mode_is_named(local_hub, local_run, monkeypatch, capsys):
    set_hub_offline(monkeypatch)
    for command, action in ((["info", "nobody/nothing"], "info"), (["push", str(local_run[0]), "me/x"], "push to")):
        code, text = cli(monkeypatch, capsys, "hub", *command)
        assert code == 1 and "Traceback" not in text
        assert f"hub {action} {command[-1]}: offline mode is on (HF_HUB_OFFLINE)" in text


def test_pull_offline_without_a_cached_copy_says_so(local_hub, monkeypatch, capsys):
    set_hub_offline(monkeypatch)
    code, text = cli(monkeypatch, capsys, "hub", "pull", "nobody/nothing")
    assert code == 1 and "hub pull nobody/nothing: not in the local cache, and the Hub cannot be reached" in text


@pytest.mark.parametrize("content, problem", [
    ("{not json", "not readable JSON"),
    ('{"targets": {"office": 5}}', "not an antkit results file (no 'recipe' with its 'evaluation' settings)"),
    ('{"recipe": {"evaluation": {}}, "targets": {"office": 5}}',
     "not an antkit results file (targets.office is not a table of arms)"),
])
def test_corrupt_run_results_are_named(local_hub, local_run, tmp_path, monkeypatch, capsys, content, problem):
    run = tmp_path / "run"
    shutil.copytree(local_run[0] / "pretrain", run / "pretrain")
    (run / "results.json").write_text(content)
    code, text = cli(monkeypatch, capsys, "hub", "push", str(run), REPO)
    assert code == 1 and "Traceback" not in text and f"{run / 'results.json'}: {problem}" in text.replace("\n", "")
    assert local_hub.app.repos == {}


def test_pulled_checkpoint_that_does_not_fit_fails_before_training(local_hub, local_run, tmp_path):
    out, _ = local_run
    antkit.push(out, REPO)
    with pytest.raises(CheckpointError, match=r"model\.dim: checkpoint 32, recipe 16"):
        antkit.run(TINY, tmp_path / "bad", [ARMS, f"pretrained=hf://{REPO}", "model.dim=16"])
    assert not (tmp_path / "bad" / "office").exists()


def test_info_names_a_damaged_config_on_the_hub(local_hub, monkeypatch, capsys):
    """A repository whose config.json is not JSON (uploaded with the real client): one message, no traceback."""
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo("antkit-tests/damaged")
    api.upload_file(path_or_fileobj=b"{not json", path_in_repo="config.json", repo_id="antkit-tests/damaged")
    code, text = cli(monkeypatch, capsys, "hub", "info", "antkit-tests/damaged")
    assert code == 1 and "Traceback" not in text
    assert "not readable JSON" in text and "(config.json of antkit-tests/damaged on the Hub)" in text.replace("\n", "")


def upload(repo_id: str, files: dict[str, bytes]) -> None:
    """A repository holding ``files``, made with the real client (a stand-in for another program's model)."""
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi()
    api.create_repo(repo_id)
    api.create_commit(repo_id, [CommitOperationAdd(name, data) for name, data in files.items()], commit_message="x")


def test_pull_takes_the_commit_whose_config_was_checked(local_hub, local_run, monkeypatch):
    """A push between pull's check of config.json and its download of the rest does not slip through."""
    from huggingface_hub import CommitOperationAdd, HfApi

    out, _ = local_run
    hub.push(out, "antkit-tests/moving")
    weights = (out / "pretrain" / "model.safetensors").read_bytes()
    check = hub._hub_config

    def check_then_someone_pushes(path, repo_id):
        config = check(path, repo_id)
        HfApi().create_commit(repo_id, [CommitOperationAdd("model.safetensors", b"newer")], commit_message="y")
        return config

    monkeypatch.setattr(hub, "_hub_config", check_then_someone_pushes)
    assert (hub.pull("antkit-tests/moving") / "model.safetensors").read_bytes() == weights


def test_a_repository_of_another_program_is_refused(local_hub, tmp_path, monkeypatch, capsys):
    """info and pull of a model that is not an antkit checkpoint: one clear message, and pull refuses before
    downloading its weights."""
    upload("antkit-tests/bert", {"config.json": b'{"model_type": "bert"}', "model.safetensors": b"weights"})
    upload("antkit-tests/bare", {"model.safetensors": b"weights"})
    for command in (["info", "antkit-tests/bert"], ["pull", "antkit-tests/bert", "--local-dir", str(tmp_path / "b")]):
        code, text = cli(monkeypatch, capsys, "hub", *command)
        assert code == 1 and "Traceback" not in text
        assert ("config.json of antkit-tests/bert on the Hub: not an antkit checkpoint config (format: Field "
                "required)") in text.replace("\n", "")
    assert not (tmp_path / "b" / "model.safetensors").exists() and not (tmp_path / "b" / "config.json").exists()
    code, text = cli(monkeypatch, capsys, "hub", "pull", "antkit-tests/bare")
    assert code == 1 and "antkit-tests/bare: not an antkit checkpoint (no config.json on the Hub)" in text
    with pytest.raises(CheckpointError, match="not an antkit checkpoint"):
        antkit.run(TINY, tmp_path / "run", [ARMS, "pretrained=hf://antkit-tests/bert"])


def test_info_names_a_wrong_field(local_hub, local_run, monkeypatch, capsys):
    config = json.loads((local_run[0] / "pretrain" / "config.json").read_text())
    upload("antkit-tests/odd", {"config.json": json.dumps({**config, "components": [{"x": 1}]}).encode()})
    code, text = cli(monkeypatch, capsys, "hub", "info", "antkit-tests/odd")
    assert code == 1 and "Traceback" not in text
    assert ("config.json of antkit-tests/odd on the Hub: not an antkit checkpoint config (components.0.kind: Field "
            "required)") in text.replace("\n", "")


def test_pull_into_a_file_is_named(local_hub, local_run, tmp_path, monkeypatch, capsys):
    antkit.push(local_run[0], REPO)
    (tmp_path / "file").write_text("")
    code, text = cli(monkeypatch, capsys, "hub", "pull", REPO, "--local-dir", str(tmp_path / "file"))
    assert code == 1 and "Traceback" not in text
    assert f"hub pull: the local folder {tmp_path / 'file'}: cannot be used as a folder" in text.replace("\n", "")


def test_pull_into_a_folder_of_other_files_is_refused(local_hub, local_run, tmp_path, monkeypatch, capsys):
    """A folder holding the user's files is refused, whatever their names, and left as it was; a new folder, and
    again the folder of an earlier pull of the same repository, are pulled into; another repository's is not."""
    antkit.push(local_run[0], REPO)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "README.md").write_text("my notes")
    code, text = cli(monkeypatch, capsys, "hub", "pull", REPO, "--local-dir", str(mine))
    assert code == 1 and "Traceback" not in text
    assert (f"hub pull: the local folder {mine} holds files (README.md) and is not an earlier pull of {REPO}; use "
            "a new or empty folder") in text.replace("\n", "")
    assert [p.name for p in mine.iterdir()] == ["README.md"] and (mine / "README.md").read_text() == "my notes"
    pulled = tmp_path / "pulled"
    for _ in range(2):
        assert antkit.pull(REPO, local_dir=pulled) == pulled and (pulled / "model.safetensors").exists()
    hub.push(local_run[0], "antkit-tests/other")
    with pytest.raises(AntkitError, match=f"{pulled} holds files .* not an earlier pull of antkit-tests/other"):
        antkit.pull("antkit-tests/other", local_dir=pulled)


def test_an_empty_revision_is_refused(local_hub, local_run, tmp_path, monkeypatch, capsys):
    """'hf://ORG/NAME@' is not taken for the main branch: the recipe field is named before any work; an empty
    --revision is refused too."""
    with pytest.raises(RecipeError, match=f"pretrained: 'hf://{REPO}@': no revision after '@'; write hf://{REPO} "
                                          "for the main branch"):
        antkit.run(TINY, tmp_path / "run", [ARMS, f"pretrained=hf://{REPO}@"])
    assert not (tmp_path / "run").exists()
    with pytest.raises(AntkitError, match="no revision after '@'"):
        hub.resolve(f"hf://{REPO}@ ")
    antkit.push(local_run[0], REPO)
    for command in (["pull", REPO, "--revision", ""], ["info", REPO, "--revision", ""],
                    ["push", str(local_run[0]), REPO, "--revision", " "]):
        code, text = cli(monkeypatch, capsys, "hub", *command)
        assert code == 1 and "Traceback" not in text
        assert f"revision {command[-1]!r}: empty; give a branch, tag or commit" in text
