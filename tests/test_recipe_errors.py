"""Bad recipes and ``--set`` overrides: every problem is one RecipeError that says where and what."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from antkit.errors import RecipeError
from antkit.recipe import load_recipe

TINY = (Path(__file__).parent / "recipes" / "tiny.yaml").read_text()

# tiny.yaml line numbers used below: 7 model.dim, 11 text encoder, 20 backbone, 22 adapt, 23 arms, 24 first arm.
BACKBONE = "  backbone: {name: sasrec, layers: 1, heads: 2, inner: 32}\n"


def broken(old: str, new: str) -> str:
    """tiny.yaml with ``old`` (which must occur exactly once) replaced by ``new``."""
    assert TINY.count(old) == 1, old
    return TINY.replace(old, new)


# (id, recipe text, fragments the message must contain, fragments it must not contain, regex it must match)
CASES = [
    ("malformed-tab", broken("  dim: 32\n", "\tdim: 32\n"), ["not valid YAML", "line 7"], [], None),
    ("malformed-bracket", broken("  dim: 32\n", "  dim: [32\n"), ["not valid YAML"], [], r", line [78]: "),
    ("wrong-type-flow", broken("layers: 1,", "layers: two,"),
     ["line 20", "model.backbone.layers", "'two'"], [], None),
    ("wrong-type-block", broken(BACKBONE, "  backbone:\n    name: sasrec\n    heads: 2\n    layers: two\n"),
     ["line 23", "model.backbone.layers", "'two'"], [], None),
    ("unknown-field", broken("adapt: {epochs: 2,", "adapt: {epoch: 2,"),
     ["line 22", "adapt.epoch", "did you mean 'epochs'"], [], None),
    ("unknown-component-field", broken("inner: 32}", "inner: 32, layerz: 3}"),
     ["line 20", "model.backbone.layerz", "did you mean 'layers'"], [], None),
    ("unknown-section", broken("arms:\n", "arm:\n"), ["line 23", "did you mean 'arms'"], [], None),
    ("unknown-backbone", broken("name: sasrec,", "name: sasrek,"),
     ["line 20", "model.backbone.name", "unknown backbone 'sasrek'; available: sasrec"], [], None),
    ("unknown-strategy", broken("strategy: {name: finetune}", "strategy: {name: finetun}"),
     ["line 25", "arms.1.strategy.name", "unknown strategy 'finetun'; available: finetune, relearn, scratch"], [], None),
    ("unknown-source", broken("name: synthetic,", "name: synthetik,"),
     ["line 3", "data.source.name", "unknown data source 'synthetik'"], [], None),
    # A price encoder under text: it exists, so it must not be called unknown, and only text encoders are options.
    ("encoder-of-wrong-modality",
     broken("encoder: {name: hashed_ngrams, dim: 64}", "encoder: {name: sinusoidal_price, dim: 8}"),
     ["line 11", "model.modalities.text.encoder", "sinusoidal_price", "hashed_ngrams", "sentence_transformer"],
     ["unknown encoder 'sinusoidal_price'", "color_layout", "quantile_price"], None),
    ("missing-encoder-name", broken("encoder: {name: hashed_ngrams, dim: 64}", "encoder: {dim: 64}"),
     ["line 11", "model.modalities.text.encoder", "missing 'name'"], [], None),
    ("missing-arms", TINY.split("arms:")[0], ["arms", "required"], [], None),
    ("empty-file", "", ["data", "model", "arms", "required"], [], None),
    ("not-a-mapping", "- data\n- model\n", ["mapping"], [], None),
    # Recipe-level checks should point at the arms, like field errors do, without pydantic's "Value error," prefix.
    ("duplicate-arm-labels", broken("label: finetune", "label: relearn"),
     ["arms", "relearn", "unique"], ["Value error"], r", line 2[345]: arms"),
    ("relearn-with-ids", broken("{label: relearn, strategy: {name: relearn}}",
                                "{label: relearn, strategy: {name: relearn}, items: ids}"),
     ["arms.0", "relearn", "'content'"], ["Value error"], r", line 24: arms\.0"),
    ("key-given-twice", broken("  dim: 32\n", "  dim: 32\n  dim: 16\n"), ["line 8", "model.dim", "twice"], [], None),
    ("negative-learning-rate", broken("adapt: {epochs: 2,", "adapt: {learning_rate: -0.1, epochs: 2,"),
     ["line 22", "adapt.learning_rate", "-0.1", "greater than 0"], [], None),
    ("zero-layers", broken("layers: 1,", "layers: 0,"), ["line 20", "model.backbone.layers", "(got 0)"], [], None),
    ("bad-items-choice", broken("items: ids}", "items: id}"), ["line 27", "arms.3.items", "'id'"], [], None),
    ("arm-modality-not-configured",
     broken("    price:\n      encoder: {name: sinusoidal_price, dim: 8}\n      adaptor: {name: moe, experts: 2, "
            "expert: linear, dropout: 0.0}\n", "").replace("{name: finetune}}", "{name: finetune}, modalities: [text, price]}"),
     ["arms.1.modalities", "'price' is not one of the model's modalities (text, image)"], ["Value error"], None),
    ("relearn-keeps-an-adaptor-the-arm-lacks",
     broken("{label: relearn, strategy: {name: relearn}}",
            "{label: relearn, strategy: {name: relearn, keep_adaptors: [image]}, modalities: [text]}"),
     ["line 24", "arms.0.strategy.keep_adaptors", "'image' is not among the modalities this arm uses (text)"],
     ["Value error"], None),
    ("bad-device", broken("arms:\n", "device: gpu0\narms:\n"),
     ["line 23", "device", "'gpu0'", "a torch device name"], ["Value error"], None),
    ("arm-modality-unknown", broken("{name: finetune}}", "{name: finetune}, modalities: [txt]}"),
     ["line 25", "arms.1.modalities.0", "'txt'"], [], None),
    # YAML that composes but cannot be turned into values: an error at its line, not a traceback.
    ("unknown-tag", broken("  dim: 32\n", "  dim: !custom 32\n"), ["line 7", "model.dim", "'!custom 32'"], [], None),
    ("bad-binary", broken("seed: 0,", "seed: !!binary abc,"), ["line 3", "data.source.seed", "base64"], [], None),
    ("impossible-date", broken("targets: [office]", "targets: [2001-13-45]"),
     ["line 5", "data.targets.0", "'2001-13-45'", "month must be in 1..12"], [], None),
    ("list-as-key", broken("  dim: 32\n", "  ? [a, b]\n  : 32\n"), ["line 7", "model", "a key must be a name"], [], None),
    ("set-tag", broken("targets: [office]", "targets: !!set {office}"), ["line 5", "data.targets", "'!!set'"], [], None),
    ("recursive-anchor", broken("targets: [office]", "targets: &t [*t]"),
     ["line 5", "data.targets.0", "contains itself"], [], None),
    ("nested-too-deeply", broken("targets: [office]", "targets: " + "[" * 5000 + "]" * 5000),
     ["nested too deeply"], [], None),
    # Values that validate as types but mean nothing: cut-offs below 1, and lists that repeat an entry.
    ("zero-k", broken("arms:\n", "evaluation: {ks: [10, 50, 0]}\narms:\n"),
     ["line 23", "evaluation.ks.2", "greater than or equal to 1", "(got 0)"], [], None),
    ("duplicate-k", broken("arms:\n", "evaluation: {ks: [10, 50, 10]}\narms:\n"),
     ["line 23", "evaluation.ks", "10 is given twice"], ["Value error"], None),
    ("duplicate-auxiliary", broken("[kitchen, garden]", "[kitchen, kitchen]"),
     ["line 4", "data.auxiliary", "'kitchen' is given twice"], [], None),
    ("duplicate-target", broken("targets: [office]", "targets: [office, office]"),
     ["line 5", "data.targets", "'office' is given twice"], [], None),
    ("duplicate-arm-modality", broken("{name: finetune}}", "{name: finetune}, modalities: [text, text]}"),
     ["line 25", "arms.1.modalities", "'text' is given twice"], [], None),
    # A size past its bound is refused at its field, not by torch (a C++ stack dump blamed on the backbone).
    ("huge-dim", broken("  dim: 32\n", "  dim: 100000000000000000000000000\n"),
     ["line 7", "model.dim: input should be less than or equal to 65536"], ["frame #", "model.backbone"], None),
    ("huge-k", broken("arms:\n", "evaluation: {ks: [10, 50, 100000000000000000000]}\narms:\n"),
     ["line 23", "evaluation.ks.2: input should be less than or equal to 1000000"], [], None),
    # Characters and sections a reader cannot use: the line (and column), never a byte position or a class name.
    ("nul-byte", broken("  dim: 32\n", "  dim: 3\x002\n"),
     ["line 7, column 9: not valid YAML: the character U+0000 is not allowed"], ["position"], None),
    ("empty-model-section", TINY.split("  dim: 32")[0] + "pretrain:" + TINY.split("pretrain:")[1],
     ["line 6", "model: the section is empty; it needs modalities, fusion, backbone"], ["ModelRecipe"], None),
    ("empty-backbone", broken(BACKBONE, "  backbone:\n"),
     ["line 20", "model.backbone: the section is empty; it needs 'name': which backbone to use (sasrec)"], [], None),
    ("empty-pretrain", broken("pretrain: {epochs: 2, batch_size: 256, patience: 2}", "pretrain:"),
     ["line 21", "pretrain: the section is empty", "or leave it out for the defaults"], ["PretrainRecipe"], None),
    ("arm-as-value", broken("  - {label: scratch, strategy: {name: scratch}}", "  - scratch"),
     ["line 26", "arms.2: expected a section (a mapping of fields), not 'scratch'; it needs label, strategy"],
     ["ArmRecipe"], None),
    # Merge keys: a value that cannot be merged, and a mapping that merges itself.
    ("merge-a-value", broken("adapt: {epochs: 2,", "adapt: {<<: 2, epochs: 2,"),
     ["line 22", "adapt: '<<' (a merge key) takes a mapping or a list of mappings"], ["constructor"], None),
    ("merge-itself", broken("source: {name: synthetic,", "source: &s {<<: *s, name: synthetic,"),
     ["line 3", "data.source: this value merges itself"], [], None),
    ("hub-reference-empty-revision", broken("arms:\n", "pretrained: hf://org/model@\narms:\n"),
     ["line 23", "pretrained: 'hf://org/model@': no revision after '@'"], [], None),
    ("hub-reference-not-org-name", broken("arms:\n", "pretrained: hf://org/model/extra\narms:\n"),
     ["line 23", "a Hub reference is hf://ORG/NAME or hf://ORG/NAME@REVISION"], [], None),
]


@pytest.mark.parametrize("text, present, absent, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_recipe_message(tmp_path, registry, text, present, absent, pattern):
    """Each broken recipe fails with a RecipeError naming the file and the listed fragments."""
    path = tmp_path / "recipe.yaml"
    path.write_text(text)
    with pytest.raises(RecipeError) as caught:
        load_recipe(path, registry)
    message = str(caught.value)
    assert str(path) in message
    for fragment in present:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    for fragment in absent:
        assert fragment not in message, f"{fragment!r} should not be in:\n{message}"
    if pattern:
        assert re.search(pattern, message), f"{pattern!r} does not match:\n{message}"


def test_recipe_that_is_not_utf8(tmp_path, registry):
    """A Latin-1 byte is named with its line and column, not its byte position."""
    path = tmp_path / "recipe.yaml"
    path.write_bytes(broken("label: relearn,", "label: café,").encode("latin-1"))
    with pytest.raises(RecipeError, match=rf"^{re.escape(str(path))}, line 24, column 16: not UTF-8 text \(byte 0xe9\)"):
        load_recipe(path, registry)


def test_merge_keys(tmp_path, registry):
    """``<<: *anchor`` merges a mapping: its own keys win, and a merged key's problem names the line it is on."""
    path = tmp_path / "recipe.yaml"
    adapt = ("adapt: {epochs: 2, batch_size: 256, patience: 2}", "adapt: {<<: *stage, epochs: 3}")
    path.write_text(broken(*adapt).replace("pretrain: {", "pretrain: &stage {"))
    recipe = load_recipe(path, registry)
    assert (recipe.adapt.epochs, recipe.adapt.batch_size, recipe.adapt.patience) == (3, 256, 2)
    path.write_text(broken(*adapt).replace("pretrain: {", "pretrain: &stage {image_text_weight: 0.1, "))
    with pytest.raises(RecipeError, match=r"recipe.yaml, line 21: adapt.image_text_weight: unknown field"):
        load_recipe(path, registry)


def test_merge_bomb_is_refused(tmp_path, registry):
    """Merge keys of merge keys multiply like aliases of aliases: refused at the same limit."""
    lines = ["a0: &a0 {" + ", ".join(f"k{i}: x" for i in range(9)) + "}"]
    lines += [f"a{i}: &a{i} {{<<: [" + ", ".join([f"*a{i - 1}"] * 9) + "]}" for i in range(1, 7)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RecipeError, match=r"bomb.yaml: its aliases expand to more than 100,000 values"):
        load_recipe(path, registry)


def test_missing_file(tmp_path, registry):
    """A recipe path that does not exist is a RecipeError, not FileNotFoundError."""
    with pytest.raises(RecipeError, match="no such file"):
        load_recipe(tmp_path / "absent.yaml", registry)


def test_every_problem_reported_once(tmp_path, registry):
    """Two independent mistakes give two lines, one per field."""
    path = tmp_path / "recipe.yaml"
    path.write_text(broken("layers: 1,", "layers: two,").replace("adapt: {epochs: 2,", "adapt: {epochs: -2,"))
    with pytest.raises(RecipeError) as caught:
        load_recipe(path, registry)
    lines = str(caught.value).splitlines()
    assert len(lines) == 2
    assert any("model.backbone.layers" in line for line in lines)
    assert any("adapt.epochs" in line for line in lines)


def test_good_recipe_loads(registry, tiny_recipe_path):
    """The tiny recipe validates with its values."""
    recipe = load_recipe(tiny_recipe_path, registry)
    assert recipe.adapt.epochs == 2
    assert [arm.label for arm in recipe.arms] == ["relearn", "finetune", "scratch", "sasrec", "transductive"]
    assert recipe.model.backbone.name == "sasrec" and recipe.model.backbone.layers == 1


# --set overrides ---------------------------------------------------------------------------------------------


def test_override_applies(registry, tiny_recipe_path):
    """adapt.epochs=5 changes that field only; the file is untouched."""
    before = tiny_recipe_path.read_text()
    recipe = load_recipe(tiny_recipe_path, registry, ["adapt.epochs=5"])
    assert recipe.adapt.epochs == 5
    assert recipe.adapt.batch_size == 256
    assert recipe.pretrain.epochs == 2
    assert tiny_recipe_path.read_text() == before


def test_override_list_index(registry, tiny_recipe_path):
    """arms.0.label=x renames the first arm only."""
    recipe = load_recipe(tiny_recipe_path, registry, ["arms.0.label=x"])
    assert [arm.label for arm in recipe.arms][:2] == ["x", "finetune"]


def test_override_yaml_value_and_order(registry, tiny_recipe_path):
    """Values are YAML (mappings too), and a later override of the same field wins."""
    recipe = load_recipe(
        tiny_recipe_path, registry,
        ["model.backbone={name: sasrec, layers: 3}", "adapt.epochs=4", "adapt.epochs=7", "evaluation.ks=[10, 50, 20]"],
    )
    assert recipe.model.backbone.layers == 3
    assert recipe.model.backbone.inner == 256  # the replaced mapping's default, not the file's 32
    assert recipe.adapt.epochs == 7
    assert recipe.evaluation.ks == (10, 50, 20)


def test_override_new_section(registry, tiny_recipe_path):
    """An override may create a section the file leaves out."""
    recipe = load_recipe(tiny_recipe_path, registry, ["evaluation.select_by=recall@50"])
    assert recipe.evaluation.select_by == "recall@50"


def test_bad_override_value(registry, tiny_recipe_path):
    """A wrong value given with --set is blamed on the override, not the file."""
    with pytest.raises(RecipeError) as caught:
        load_recipe(tiny_recipe_path, registry, ["adapt.epochs=abc"])
    message = str(caught.value)
    assert message.startswith("--set adapt.epochs=abc")
    assert "'abc'" in message
    assert str(tiny_recipe_path) not in message


def test_bad_override_unknown_field(registry, tiny_recipe_path):
    """A misspelled override field gets the did-you-mean hint."""
    with pytest.raises(RecipeError) as caught:
        load_recipe(tiny_recipe_path, registry, ["adapt.epoch=3"])
    assert str(caught.value).startswith("--set adapt.epoch=3")
    assert "did you mean 'epochs'" in str(caught.value)


@pytest.mark.parametrize("override, fragment", [
    ("adapt.epochs", "FIELD=VALUE"),
    ("=5", "FIELD=VALUE"),
    ("arms.9.label=x", "no item 9"),
    ("model.dim.x=3", "model.dim is a value, not a section"),
    ("adapt.epochs=[1", "not valid YAML"),
    ("adapt.epochs=2001-13-45", "month must be in 1..12"),
    ("adapt.epochs=2\x00", "line 1, column 2: not valid YAML: the character U+0000"),
])
def test_malformed_override(registry, tiny_recipe_path, override, fragment):
    """An override that cannot be applied is a RecipeError naming it."""
    with pytest.raises(RecipeError) as caught:
        load_recipe(tiny_recipe_path, registry, [override])
    message = str(caught.value)
    assert message.startswith("--set")
    assert override in message
    assert fragment in message


@pytest.mark.parametrize("edit, override, field", [
    (("label: finetune", "label: relearn"), "adapt.epochs=5", "unique"),
    (("  targets: [office]\n", ""), "data.source.seed=1", "data.targets"),
    (("arms:\n", "arms_removed:\n"), "adapt.epochs=5", "arms"),
], ids=["duplicate-labels", "missing-targets", "missing-arms"])
def test_file_error_not_blamed_on_unrelated_override(tmp_path, registry, edit, override, field):
    """A mistake in the file is reported against the file even when an unrelated --set is given."""
    path = tmp_path / "recipe.yaml"
    path.write_text(broken(*edit))
    with pytest.raises(RecipeError) as caught:
        load_recipe(path, registry, [override])
    lines = [line for line in str(caught.value).splitlines() if field in line]
    assert lines, str(caught.value)
    for line in lines:
        assert not line.startswith(f"--set {override}"), line
        assert str(path) in line, line


@pytest.mark.parametrize("overrides, blamed, fragment", [
    (["model.dim=3"], "model.dim=3", "model.backbone: model dim 3 is not divisible by heads 2"),
    (["arms.0.label=finetune"], "arms.0.label=finetune", "arms.1.label: arm label 'finetune' is used twice"),
    (["evaluation.ks=[10, 50, -3]"], "evaluation.ks=[10, 50, -3]", "evaluation.ks.2: input should be greater"),
    (["model.backbone={name: sasrec, layers: 2}", "model.backbone.layers=0"], "model.backbone.layers=0",
     "model.backbone.layers"),
    (["model.backbone.layers=0", "model.backbone={name: sasrec, layers: 0}"],
     "model.backbone={name: sasrec, layers: 0}", "model.backbone.layers"),
], ids=["cross-check-with-file-value", "cross-check-on-other-arm", "list-item", "later-inner", "later-outer"])
def test_override_blamed_for_problem_it_causes(registry, tiny_recipe_path, overrides, blamed, fragment):
    """A problem in a field an override wrote, or in a check that reads one, names the override still in effect."""
    with pytest.raises(RecipeError) as caught:
        load_recipe(tiny_recipe_path, registry, overrides)
    message = str(caught.value)
    assert message.startswith(f"--set {blamed}: "), message
    assert fragment in message, message
    assert str(tiny_recipe_path) not in message


def test_arm_labels_sharing_a_folder_are_refused(registry, tiny_recipe_path):
    """Two labels that differ only in punctuation would write into one folder: an error at the second label."""
    with pytest.raises(RecipeError, match=r"arms\.1\.label: arm labels 'a b' and 'a-b' would share"):
        load_recipe(tiny_recipe_path, registry, ["arms=[{label: a b, strategy: {name: scratch}}, "
                                                 "{label: a-b, strategy: {name: scratch}}]"])


@pytest.mark.parametrize("label", ["..", ".", "/.."])
def test_arm_labels_that_are_no_folder_name_are_refused(registry, tiny_recipe_path, label):
    """An arm's folder '..' would be the output folder itself (and '.' the target's folder)."""
    with pytest.raises(RecipeError, match=r"--set arms\.1\.label=.*: arms\.1\.label: arm label .* cannot be a folder"):
        load_recipe(tiny_recipe_path, registry, [f"arms.1.label='{label}'"])


@pytest.mark.parametrize("override", ["pretrain.learning_rate=inf", "adapt.lr_decay=.nan", "model.fusion.beta=-.inf",
                                      "adapt.clip_grad_norm=inf"])
def test_non_finite_numbers_are_refused(registry, tiny_recipe_path, override):
    """inf and nan pass bounds like gt=0 (or have none to pass): recipe and component fields refuse them."""
    field = override.split("=")[0]
    with pytest.raises(RecipeError, match=rf"^--set {re.escape(override)}: {re.escape(field)}: .*finite number"):
        load_recipe(tiny_recipe_path, registry, [override])


def test_gradient_clipping_is_a_positive_norm(registry, tiny_recipe_path):
    recipe = load_recipe(tiny_recipe_path, registry, ["adapt.clip_grad_norm=5"])
    assert recipe.adapt.model_dump()["clip_grad_norm"] == 5.0 and "clip_grad_norm" not in recipe.pretrain.model_dump()
    with pytest.raises(RecipeError, match=r"adapt\.clip_grad_norm: input should be greater than 0"):
        load_recipe(tiny_recipe_path, registry, ["adapt.clip_grad_norm=0"])


def test_alias_bomb_is_refused(tmp_path, registry):
    """Aliases of aliases multiply: 6 levels of 9 are 9**6 values, refused before they are all read."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 7)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RecipeError, match=r"bomb.yaml: its aliases expand to more than 100,000 values"):
        load_recipe(path, registry)


def test_override_value_is_read_like_a_file(registry, tiny_recipe_path):
    """A --set value gets the file's checks: an alias bomb and a tagged mapping are refused, naming the override."""
    levels = ["&a0 [x, x, x, x, x, x, x, x, x]"] + ["&a{} [".format(i) + ", ".join([f"*a{i - 1}"] * 9) + "]"
                                                    for i in range(1, 7)]
    bomb = "adapt.epochs=[" + ", ".join(levels) + "]"
    with pytest.raises(RecipeError, match=r"^--set adapt\.epochs=\[&a0 .*: its aliases expand to more than 100,000"):
        load_recipe(tiny_recipe_path, registry, [bomb])
    with pytest.raises(RecipeError, match=r"^--set adapt\.epochs=!!set \{a: 1\}, line 1: the value: a recipe has "
                                          r"plain lists and mappings, not '!!set'"):
        load_recipe(tiny_recipe_path, registry, ["adapt.epochs=!!set {a: 1}"])


def test_pretrained_without_a_transferring_arm(registry, tiny_recipe_path):
    """``pretrained`` with only scratch arms is a recipe error at ``pretrained``, not a checkpoint search."""
    with pytest.raises(RecipeError, match=r"pretrained: no arm starts from a pre-trained model"):
        load_recipe(tiny_recipe_path, registry, ["pretrained=runs/x", "arms=[{label: s, strategy: {name: scratch}}]"])
    load_recipe(tiny_recipe_path, registry, ["pretrained=runs/x", "arms=[{label: f, strategy: {name: finetune}}]"])


@pytest.mark.parametrize("field, limit", [
    ("model.dim", 65536), ("model.max_length", 65536), ("model.backbone.layers", 1024),
    ("model.backbone.heads", 65536), ("model.backbone.inner", 262144), ("model.modalities.text.adaptor.experts", 1024),
    ("model.modalities.text.encoder.dim", 65536), ("model.modalities.price.encoder.dim", 65536),
    ("model.modalities.image.encoder.max_images", 1024), ("pretrain.epochs", 1000000),
    ("adapt.batch_size", 10000000), ("adapt.patience", 1000000), ("evaluation.batch_size", 10000000),
    ("data.min_interactions", 1000000), ("data.source.users", 10000000), ("data.source.items_per_cell", 10000),
    ("seed", 2**63 - 1),
])
def test_sizes_past_their_bound_are_refused_at_their_field(registry, tiny_recipe_path, field, limit):
    """10^20 passed validation (or failed inside torch, blamed on the backbone): each size has a bound."""
    given = f"{field}={10**20}"
    expected = rf"^--set {re.escape(given)}: {re.escape(field)}: input should be less than or equal to {limit} "
    with pytest.raises(RecipeError, match=expected):
        load_recipe(tiny_recipe_path, registry, [given])


@pytest.mark.parametrize("override", ["seed=-1", "data.source.seed=-1"])
def test_negative_seeds_are_refused(registry, tiny_recipe_path, override):
    """numpy refuses negative seeds when the run starts: the recipe refuses them first."""
    with pytest.raises(RecipeError, match=r": input should be greater than or equal to 0 \(got -1\)"):
        load_recipe(tiny_recipe_path, registry, [override])


def test_huge_dim_is_one_line_from_the_cli(cli_error, tiny_recipe_path):
    """``antkit recipe validate --set model.dim=10^26`` names the field, without torch's C++ frames."""
    error = cli_error("recipe", "validate", tiny_recipe_path, "--set", f"model.dim={10**26}")
    assert "model.dim: input should be less than or equal to 65536" in error and "frame #" not in error


def test_backbone_check_allocates_no_weights(registry, tiny_recipe_path, monkeypatch):
    """Validation builds the backbone to check its settings on the meta device: no memory even for the largest."""
    built = []
    build = registry.build
    monkeypatch.setattr(registry, "build", lambda *args: built.append(build(*args)) or built[-1])
    load_recipe(tiny_recipe_path, registry)
    assert {parameter.device.type for parameter in built[0].parameters()} == {"meta"}
