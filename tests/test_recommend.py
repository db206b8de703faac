"""``antkit recommend`` / ``antkit.recommend``: recommendations from an adapted arm of a tiny run, checked against
the run's own evaluation, and every user mistake given one clear message."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from safetensors.torch import load_file

import antkit
from antkit.data.store import prepared_domain
from antkit.errors import AntkitError, CheckpointError
from antkit.plugins.manager import load_registry
from antkit.recipe import load_recipe

TINY = Path(__file__).parent / "recipes" / "tiny.yaml"
ARMS = "arms=[{label: ANT (relearn), strategy: {name: relearn}}, {label: sasrec, strategy: {name: scratch}, items: ids}]"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A tiny run with an inductive and an ID-only arm, and the target domain as the run processed it."""
    cache = tmp_path_factory.getbasetemp() / "antkit-cache"
    out = tmp_path_factory.mktemp("recommend") / "run"
    antkit.run(TINY, out, [ARMS], cache_dir=cache)
    registry = load_registry(entry_point_plugins=False)
    recipe = load_recipe(TINY, registry)
    domain = prepared_domain(registry.build("data_source", recipe.data.source), "office", recipe.data.min_interactions,
                             cache)
    return out, domain


@pytest.mark.slow
@pytest.mark.parametrize("arm", ["ANT-relearn", "sasrec"])
def test_top_ten_agree_with_the_runs_test_recall(tiny_run, arm):
    """Given each test user's input (all but the last item) as a history, the held-out item is among the ten
    recommended exactly when the run's evaluation counted a Recall@10 hit for that user. (Users whose held-out
    item is also in their input are left out: evaluation keeps that one input item among the candidates.)"""
    out, domain = tiny_run
    fresh = [row for row, sequence in enumerate(domain.sequences) if sequence[-1] not in sequence[-21:-1]]
    histories = [[domain.item_ids[i - 1] for i in domain.sequences[row][:-1]] for row in fresh]
    found = antkit.recommend(out / "office" / arm, histories=histories, k=10)
    hits = [float(domain.item_ids[domain.sequences[row][-1] - 1] in r.items) for row, r in zip(fresh, found)]
    recall = load_file(out / "office" / arm / "test_values.safetensors")["recall@10"].tolist()
    assert len(fresh) > len(domain.sequences) // 2 and hits == [recall[row] for row in fresh]
    assert 0 < sum(hits) < len(hits)  # the check can fail either way


@pytest.mark.slow
def test_a_users_whole_history_is_the_input_and_is_left_out(tiny_run):
    out, domain = tiny_run
    user, sequence = domain.user_ids[4], domain.sequences[4]
    left_out, kept = (antkit.recommend(out, [user], k=domain.n_items, arm="ANT (relearn)", exclude_history=exclude)[0]
                      for exclude in (True, False))
    history = [domain.item_ids[i - 1] for i in sequence[-20:]]  # the tiny recipe's max_length
    assert left_out.user == user and left_out.history == history
    assert antkit.recommend(out / "office" / "ANT-relearn", user, k=3)[0].items == left_out.items[:3]  # one id alone
    assert len(kept.items) == domain.n_items and len(left_out.items) == domain.n_items - len(set(history))
    assert left_out.items == [item for item in kept.items if item not in history]
    assert left_out.scores == sorted(left_out.scores, reverse=True)
    assert left_out.texts[0] == domain.content["text"][domain.item_ids.index(left_out.items[0])]


@pytest.mark.slow
def test_cli_table_and_json(tiny_run, cli_output):
    out, domain = tiny_run
    user = domain.user_ids[0]
    table = cli_output("recommend", out / "office" / "ANT-relearn", user, "-k", 3)
    found = antkit.recommend(out / "office" / "ANT-relearn", [user], k=3)[0]
    assert f"user {user}: " in table and all(item in table for item in found.items)
    printed = json.loads(cli_output("recommend", out, "--arm", "sasrec", "--history",
                             f"{domain.item_ids[0]}, {domain.item_ids[1]}", "-k", 2, "--json"))
    assert len(printed) == 1 and printed[0]["user"] is None and len(printed[0]["items"]) == 2
    assert printed[0]["history"] == domain.item_ids[:2]


@pytest.mark.slow
@pytest.mark.parametrize("where, arguments, message", [
    ("arm", ["nobody"], "domain 'office' has no user 'nobody'"),
    ("arm", ["--history", "no-such-item"], "domain 'office' has no item 'no-such-item'"),
    ("arm", ["--history", " , "], "an empty history"),
    ("arm", [], "give at least one user id"),
    ("arm", ["--all-users", "x"], "give user ids or ask for all users, not both"),
    ("arm", ["-k", "0", "x"], "k 0: give how many items"),
    ("run", ["x"], "choose an arm of target 'office' with --arm ('ANT (relearn)', 'sasrec')"),
    ("run", ["--arm", "finetune", "x"], "target 'office' has no arm 'finetune'"),
    ("run", ["--arm", "sasrec", "--target", "sports", "x"], "no target 'sports' (the run has: office)"),
    ("pretrain", ["x"], "not an adapted model"),
    ("arm", ["--arm", "sasrec", "x"], "not a run folder"),
    ("missing", ["x"], "no such checkpoint folder"),
])
def test_mistakes_are_one_clear_message(tiny_run, cli_error, where, arguments, message):
    out, _ = tiny_run
    folder = {"arm": out / "office" / "ANT-relearn", "run": out, "pretrain": out / "pretrain",
              "missing": out / "nowhere"}[where]
    assert message in cli_error("recommend", folder, *arguments)


@pytest.mark.slow
def test_an_id_model_of_other_data_is_refused(tiny_run, tmp_path):
    """The item-id embedding must match the domain's items: data changed since training is named, not mis-scored."""
    out, domain = tiny_run
    copy = shutil.copytree(out / "office" / "sasrec", tmp_path / "sasrec")
    config = json.loads((copy / "config.json").read_text())
    config["n_items"] += 1
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="the data changed since the model was trained"):
        antkit.recommend(copy, [domain.user_ids[0]])


@pytest.mark.slow
def test_the_models_recipe_can_be_overridden(tiny_run):
    """``--set`` changes the stored recipe (e.g. where the data is): an inductive model then recommends to the
    users of other data; a bad override is named."""
    out, domain = tiny_run
    arm = out / "office" / "ANT-relearn"
    with pytest.raises(AntkitError, match="--set data.source.users=-1"):
        antkit.recommend(arm, [domain.user_ids[0]], overrides=["data.source.users=-1"])
    newcomer = "office-u00250"  # only in the larger domain
    assert newcomer not in domain.user_ids
    found = antkit.recommend(arm, [newcomer], k=4, overrides=["data.source.users=400"])
    assert found[0].user == newcomer and len(found[0].items) == 4


@pytest.mark.slow
def test_moved_data_or_a_missing_recipe_is_named(tiny_run, tmp_path, cli_error):
    out, domain = tiny_run
    moved = shutil.copytree(out / "office" / "ANT-relearn", tmp_path / "moved")
    recipe = json.loads((moved / "recipe.json").read_text())
    recipe["data"]["source"] = {"name": "recbole", "path": str(tmp_path / "gone")}
    (moved / "recipe.json").write_text(json.dumps(recipe))
    message = cli_error("recommend", moved, domain.user_ids[0])
    assert "gone does not exist" in message and "--set data.source.path=DIR" in message
    (moved / "recipe.json").unlink()
    assert "recipe.json: missing" in cli_error("recommend", moved, domain.user_ids[0])


@pytest.mark.slow
def test_an_arm_pushed_to_the_hub_recommends_as_the_local_one(tiny_run, local_hub, cli_output):
    """`antkit hub push` of an arm's folder, then `antkit recommend hf://...` (the real client, loopback Hub)."""
    out, domain = tiny_run
    arm = out / "office" / "ANT-relearn"
    antkit.push(arm, "antkit-tests/tiny-office-relearn")
    users = domain.user_ids[:3]
    assert antkit.recommend("hf://antkit-tests/tiny-office-relearn", users) == antkit.recommend(arm, users)
    table = cli_output("recommend", "hf://antkit-tests/tiny-office-relearn", users[0], "-k", 2)
    assert f"user {users[0]}: " in table
    card = (antkit.pull("antkit-tests/tiny-office-relearn") / "README.md").read_text()
    test = json.loads((arm / "result.json").read_text())["test"]
    assert "adapted to the domain `office` (strategy `relearn`, items: content)" in card
    assert f"Recall@10 {test['recall@10']:.4f}" in card and "pre-trained" not in card
    assert "antkit recommend hf://antkit-tests/tiny-office-relearn USER_ID" in card
    info = cli_output("hub", "info", "antkit-tests/tiny-office-relearn")
    assert "adapted to: office (strategy relearn, items content)" in info


@pytest.mark.slow
def test_every_user_at_once_as_one_by_one(tiny_run, cli_output, monkeypatch):
    """--all-users scores the users in batches (here of 7, so that batches of mixed lengths meet): the same
    recommendations as asking for each user alone."""
    out, domain = tiny_run
    arm = out / "office" / "ANT-relearn"
    monkeypatch.setattr("antkit.recommendations.BATCH", 7)
    everyone = antkit.recommend(arm, all_users=True, k=5)
    assert [r.user for r in everyone] == list(domain.user_ids)
    for row in (0, 6, 7, 100, len(domain.user_ids) - 1):
        alone = antkit.recommend(arm, [domain.user_ids[row]], k=5)[0]
        assert alone.items == everyone[row].items and alone.scores == pytest.approx(everyone[row].scores, abs=1e-4)
    printed = json.loads(cli_output("recommend", arm, "--all-users", "-k", 2, "--json"))
    assert len(printed) == len(domain.user_ids) and printed[3]["items"] == everyone[3].items[:2]


@pytest.mark.slow
def test_an_adapted_cards_protocol_is_the_arms(tiny_run):
    """The card of an adapted arm names the protocol its test metrics were measured by."""
    from antkit.report.model_card import render_model_card

    out, _ = tiny_run
    arm = out / "office" / "ANT-relearn"
    config, result = (json.loads((arm / name).read_text()) for name in ("config.json", "result.json"))
    assert "input items excluded): Recall@10" in render_model_card(config, "o/n", result)
    result["test_masked"] = result.pop("test_unmasked")  # as an arm of a recipe that keeps the history writes it
    assert "input items kept): Recall@10" in render_model_card(config, "o/n", result)
