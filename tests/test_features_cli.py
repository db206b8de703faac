"""``antkit features build`` / ``info``: a second build computes nothing, a new item computes one, and an
interrupted extraction keeps its finished chunks."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import torch

from antkit.cli import app as app_module
from antkit.components.encoders.text import HashedNgrams, HashedNgramsConfig
from antkit.features.store import FeatureStore

TINY = (Path(__file__).parent / "recipes" / "tiny.yaml").read_text()


def write_shop(folder: Path, items: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "shop.item").write_text("item_id:token\ttitle:token_seq\tprice:float\n"
                                      + "".join(f"I{i}\tthing number {i}\t{i + 1}\n" for i in range(items)))
    rows = "".join(f"u{u}\tI{(u + k) % items}\t{k}\n" for u in range(8) for k in range(3))
    (folder / "shop.inter").write_text("user_id:token\titem_id:token\ttimestamp:float\n" + rows)


@pytest.fixture
def recipe(tmp_path, monkeypatch):
    monkeypatch.setenv("ANTKIT_DISABLE_PLUGIN_AUTOLOAD", "1")
    write_shop(tmp_path / "data" / "shop", 4)
    text = TINY.replace("{name: synthetic, seed: 0, users: 200}", f"{{name: recbole, path: {tmp_path / 'data'}}}")
    text = text.replace("auxiliary: [kitchen, garden]", "auxiliary: []").replace("[office]", "[shop]")
    text = text.replace("targets: [shop]", "targets: [shop]\n  min_interactions: 1")
    text = text.split("arms:")[0] + "arms: [{label: scratch, strategy: {name: scratch}}]\n"
    path = tmp_path / "shop.yaml"
    path.write_text(text)
    return path


def main(monkeypatch, capsys, *args) -> str:
    """Run the antkit command in-process; it must succeed. Returns what it printed."""
    monkeypatch.setattr(sys, "argv", ["antkit", *args])
    with pytest.raises(SystemExit) as exited:
        app_module.main()
    assert exited.value.code in (0, None)
    return capsys.readouterr().out


def build(monkeypatch, capsys, recipe, cache) -> str:
    return main(monkeypatch, capsys, "features", "build", str(recipe), "--cache", str(cache))


def computed(out: str, modality: str) -> int:
    row = next(line for line in out.splitlines() if re.search(rf"shop\s*│\s*{modality}\s", line))
    return int(row.split("│")[5].strip().replace(",", ""))


def test_second_build_computes_nothing_and_a_new_item_one(recipe, tmp_path, monkeypatch, capsys):
    cache = tmp_path / "cache"
    out = build(monkeypatch, capsys, recipe, cache)
    assert computed(out, "text") == 4 and computed(out, "price") == 4
    out = build(monkeypatch, capsys, recipe, cache)
    assert computed(out, "text") == 0 and computed(out, "image") == 0 and computed(out, "price") == 0
    assert "0 items encoded" in out
    write_shop(tmp_path / "data" / "shop", 5)  # one more item (and so new interactions)
    out = build(monkeypatch, capsys, recipe, cache)
    assert computed(out, "text") == 1 and computed(out, "price") == 1

    listing = main(monkeypatch, capsys, "features", "info", "--cache", str(cache))
    assert re.search(r"hashed_ngrams\s*│\s*5\s*│\s*64", listing), listing


class FailingSecondChunk(HashedNgrams):
    """hashed_ngrams that is interrupted while encoding its second chunk."""

    calls = 0

    def encode(self, values):
        FailingSecondChunk.calls += 1
        if FailingSecondChunk.calls == 2:
            raise KeyboardInterrupt
        return super().encode(values)


def test_interrupted_extraction_keeps_finished_chunks(tmp_path):
    texts = [f"item {i}" for i in range(10)]
    store = FeatureStore(tmp_path, FailingSecondChunk(HashedNgramsConfig(dim=16)), chunk=4)
    with pytest.raises(KeyboardInterrupt):
        store.features(texts)
    progress = []
    resumed = FeatureStore(tmp_path, HashedNgrams(HashedNgramsConfig(dim=16)), chunk=4)
    resumed.path = store.path  # same encoder settings, so the same file; the class differs only to interrupt
    vectors, _ = resumed.features(texts, lambda done, total: progress.append((done, total)))
    assert resumed.computed == 6  # the first chunk of 4 was kept
    assert progress == [(4, 6), (6, 6)]
    assert torch.equal(vectors, HashedNgrams(HashedNgramsConfig(dim=16)).encode(texts)[0])
