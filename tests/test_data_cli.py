"""``antkit data prepare`` and ``antkit data info`` on RecBole files: the summary table and clean errors."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from antkit.cli import app as app_module

TINY = (Path(__file__).parent / "recipes" / "tiny.yaml").read_text()


def shop_files(root: Path, name: str, users: int, bad_line: str = "") -> None:
    """A domain where user u buys items (u, u+1, u+2) mod 4 at times 0, 1, 2: 3 interactions per user."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / f"{name}.item").write_text(
        "item_id:token\ttitle:token_seq\tprice:float\n" + "".join(f"I{i}\titem {i}\t{'$2' if i else ''}\n" for i in range(4)))
    rows = "".join(f"u{u}\tI{(u + k) % 4}\t{k}\n" for u in range(users) for k in range(3))
    (folder / f"{name}.inter").write_text("user_id:token\titem_id:token\ttimestamp:float\n" + rows + bad_line)


@pytest.fixture
def recipe(tmp_path, monkeypatch):
    monkeypatch.setenv("ANTKIT_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("ANTKIT_CACHE", str(tmp_path / "cache"))
    shop_files(tmp_path / "data", "pens", 6)
    shop_files(tmp_path / "data", "paper", 4, bad_line="u9\tI1\tlater\n")
    text = TINY.replace("{name: synthetic, seed: 0, users: 200}", f"{{name: recbole, path: {tmp_path / 'data'}}}")
    text = text.replace("[kitchen, garden]", "[pens]").replace("targets: [office]", "targets: [paper]\n  min_interactions: 3")
    path = tmp_path / "shops.yaml"
    path.write_text(text)
    return path


def main(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["antkit", "data", *args])
    try:
        app_module.main()
        code = 0
    except SystemExit as exited:
        code = exited.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_prepare_then_info(recipe, monkeypatch, capsys):
    """prepare caches the domain and prints its row; info reads it back with what processing skipped."""
    code, out, err = main(monkeypatch, capsys, "prepare", str(recipe), "--domain", "pens", "--set", "data.source.lenient=true")
    assert code == 0, err
    row = next(line for line in out.splitlines() if "pens" in line)
    # 6 users, 4 items, 18 interactions, mean length 3.0, max 3, sparsity 1 - 18/24, text 100%, price 75%, image 0%
    assert re.search(r"pens\s*│\s*6\s*│\s*4\s*│\s*18\s*│\s*3\.0\s*│\s*3\s*│\s*25\.00%\s*│\s*100%\s*│\s*75%\s*│\s*0%", row), out
    assert "prepared 1 domain(s)" in out

    code, out, err = main(monkeypatch, capsys, "info", str(recipe), "--set", "data.source.lenient=true")
    assert code == 0, err
    assert "pens" in out and "paper" in out
    assert re.search(r"paper\s*│\s*skipped: unparsable timestamp\s*│\s*1", out), out


def test_strict_bad_line_is_one_clear_error(recipe, monkeypatch, capsys):
    code, out, err = main(monkeypatch, capsys, "info", str(recipe))
    assert code == 1
    assert "Traceback" not in err
    assert "paper.inter, line 14: timestamp 'later' is not a number" in re.sub(r"\s*\n\s*", " ", err)


def test_unknown_domain_and_missing_folder(recipe, monkeypatch, capsys):
    code, _, err = main(monkeypatch, capsys, "info", str(recipe), "--domain", "pencils")
    assert code == 1 and "the recipe has no domain pencils; it has pens, paper" in re.sub(r"\s+", " ", err)
    code, _, err = main(monkeypatch, capsys, "prepare", str(recipe), "--set", "data.source.path=/no/such/folder")
    assert code == 1 and "folder /no/such/folder does not exist" in re.sub(r"\s+", " ", err)
