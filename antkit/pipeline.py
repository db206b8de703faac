"""``antkit.run``: pre-train on the auxiliary domains, adapt every arm to every target domain, evaluate, report.

Each training stage works in its own folder under the output folder; a finished stage is reused when the run
is repeated with the same settings, and an interrupted one resumes from its last finished epoch.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import time
from pathlib import Path

import torch

from antkit import hub
from antkit.data.catalogue import Catalogue
from antkit.data.splits import evaluation_set, joint_segments, training_segments
from antkit.data.store import prepared_domain
from antkit.errors import AntkitError, CheckpointError
from antkit.evaluation.evaluate import evaluate, evaluate_domains, evaluate_with_errors, item_table
from antkit.features.catalogue import build_catalogue, feature_line
from antkit.io import atomic_save, atomic_write_text, check_folder_path, read_json_object, writable_folder
from antkit.layout import REPORT_FILES, TEST_VALUES, arm_folder, default_out, pretrain_folder, test_values_path
from antkit.model.build import build_encoders, build_model
from antkit.model.pretrained import check_fits, model_from_checkpoint
from antkit.model.saving import load_weights, read_checkpoint, save_model
from antkit.plugins.manager import load_registry
from antkit.plugins.registry import Registry
from antkit.progress import Reporter
from antkit.provenance import software
from antkit.recipe import load_recipe, validate_recipe
from antkit.recipe.loader import apply_overrides
from antkit.report.analysis import first_arm, paired_comparison
from antkit.report.model_card import render_model_card
from antkit.report.results import RunResults
from antkit.training.distributed import Context, barrier, setup
from antkit.training.trainer import TrainingSettings, train


def default_cache_dir() -> Path:
    return Path(os.environ.get("ANTKIT_CACHE") or Path.home() / ".cache" / "antkit")  # set but empty: unset


def cache_folder(cache: str | Path | None = None) -> Path:
    """The data and feature cache: ``cache``, else $ANTKIT_CACHE, else ~/.cache/antkit (created if missing)."""
    return writable_folder(Path(cache) if cache else default_cache_dir(), "cache")


def _finished_record(path: Path) -> dict | None:
    """The JSON record a finished stage leaves (None before it finishes); a damaged one is a clear error."""
    if not path.exists():
        return None
    return read_json_object(path, CheckpointError, "; delete it to have this stage finished again (it resumes "
                            "from its training checkpoint)")


def _saved_weights(folder: Path, record: Path) -> dict[str, torch.Tensor]:
    """A finished stage's saved model; a damaged one is a clear error saying how to have it made again."""
    try:
        return load_weights(folder / "model.safetensors")
    except CheckpointError as error:
        raise CheckpointError(f"{error}; delete {record} to have it saved again (from the stage's training "
                              "checkpoint, without training again)") from None


def _fingerprint(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _selection(evaluation) -> list[dict]:
    """The evaluation settings that choose a pre-training's best epoch, for its fingerprint: none at their
    defaults, so pre-trainings finished before they were part of it are still reused."""
    fields = ("ks", "exclude_history", "select_by")
    chosen = evaluation.model_dump(include=set(fields))
    return [] if chosen == type(evaluation)().model_dump(include=set(fields)) else [chosen]


class Run:
    """One execution of a recipe (see ``run``)."""

    def __init__(self, recipe, registry: Registry, out: Path, cache_dir: Path, reporter: Reporter, context: Context):
        self.recipe, self.registry, self.out = recipe, registry, out
        self.cache_dir, self.reporter, self.context = cache_dir, reporter, context
        self.source = registry.build("data_source", recipe.data.source)
        self.encoders = build_encoders(recipe, registry)
        self.domains, self.catalogues = {}, {}
        self.configured = recipe.model.modalities.configured()

    # data -----------------------------------------------------------------
    def prepare_data(self) -> None:
        """Process every domain and compute its features (process 0 first; the others read its cache)."""
        names = self.recipe.data.auxiliary + self.recipe.data.targets
        for turn in ("main", "others"):
            if (turn == "main") == self.context.is_main:
                for name in names:
                    self.reporter.message(f"data: preparing domain '{name}'")
                    domain = prepared_domain(self.source, name, self.recipe.data.min_interactions, self.cache_dir)
                    self.domains[name] = domain
                    self.catalogues[name], steps = build_catalogue(domain, self.encoders, self.cache_dir, self.reporter)
                    for step in steps:
                        if step.computed:
                            self.reporter.message(feature_line(step))
            barrier(self.context)

    def _settings(self, stage_recipe, image_text_weight: float = 0.0) -> TrainingSettings:
        fields = ("epochs", "batch_size", "learning_rate", "lr_decay", "patience", "weight_decay", "clip_grad_norm")
        return TrainingSettings(**{f: getattr(stage_recipe, f) for f in fields}, image_text_weight=image_text_weight,
                                checkpoint_minutes=self.recipe.checkpoint_minutes)

    def _validator(self, cases, catalogue: Catalogue):
        evaluation = self.recipe.evaluation
        return lambda model: evaluate(model, catalogue, cases, evaluation.ks, evaluation.exclude_history,
                                      evaluation.batch_size, self.context)

    # pre-training -----------------------------------------------------------
    def pretrain(self, modalities: list[str]) -> tuple[dict[str, torch.Tensor], dict]:
        """Train on all auxiliary domains together with ``modalities``; returns the model state and a summary."""
        recipe = self.recipe
        folder = self.out / pretrain_folder(modalities, self.configured)
        fingerprint = _fingerprint([self.source.fingerprint(n) for n in recipe.data.auxiliary], recipe.data.min_interactions,
                                   recipe.model.model_dump(), recipe.pretrain.model_dump(), recipe.seed, modalities,
                                   *_selection(recipe.evaluation))
        summary_path = folder / "summary.json"
        summary = _finished_record(summary_path)
        if summary:
            if summary.get("fingerprint") == fingerprint:
                self.reporter.message("pretrain: reusing the finished pre-training in " + str(folder))
                return _saved_weights(folder, summary_path), summary
        names = recipe.data.auxiliary
        catalogue, offsets = Catalogue.concat([self.catalogues[n].select(modalities) for n in names])
        segments = joint_segments([self.domains[n].sequences for n in names], recipe.model.max_length, offsets)
        ev = recipe.evaluation
        parts = [(evaluation_set(self.domains[n].sequences, "valid", recipe.model.max_length), offset,
                  self.domains[n].n_items) for n, offset in zip(names, offsets)]

        def validate(model):
            return evaluate_domains(model, catalogue, parts, ev.ks, ev.exclude_history, ev.batch_size, self.context)

        torch.manual_seed(recipe.seed)
        model = build_model(recipe, self.registry, catalogue.dims, modalities=modalities)
        result = train(model, "in_batch", catalogue, segments,
                       self._settings(recipe.pretrain, recipe.pretrain.image_text_weight), validate,
                       recipe.evaluation.select_by, stage="pretrain", seed=recipe.seed,
                       checkpoint=folder / "training.safetensors", fingerprint=fingerprint,
                       context=self.context, reporter=self.reporter)
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        summary = {"fingerprint": fingerprint, "domains": names, "modalities": modalities, "valid": result.best_metrics,
                   "best_epoch": result.best_epoch, "epochs": result.epochs_run,
                   "train_seconds": result.train_seconds, "seconds": result.elapsed_seconds,
                   "prefixes_per_second": result.prefixes_per_second}
        if self.context.is_main:
            config = save_model(folder, model, recipe, catalogue.dims, self.registry, stage="pretrain",
                                domains=names, valid=result.best_metrics)
            card = render_model_card(config, f"{self.out.name}/{folder.name}")
            atomic_write_text(folder / "README.md", card)
            atomic_write_text(summary_path, json.dumps(summary, indent=2))
        barrier(self.context)
        return state, summary

    # adaptation ---------------------------------------------------------------
    def adapt(self, target: str, arm, pretrained: dict[str, torch.Tensor] | None, pretrain_id: str,
              origin: str) -> dict:
        """Train one arm on ``target`` and evaluate it; returns its metrics and timings. ``origin`` names the
        folder of the ``pretrained`` weights in errors."""
        recipe = self.recipe
        folder = self.out / target / arm_folder(arm.label)
        fingerprint = _fingerprint(self.source.fingerprint(target), recipe.data.min_interactions,
                                   recipe.model.model_dump(), recipe.adapt.model_dump(),
                                   recipe.evaluation.model_dump(), arm.model_dump(), recipe.seed, pretrain_id)
        result_path = folder / "result.json"
        stored = _finished_record(result_path)
        if stored:
            if stored.get("fingerprint") == fingerprint:
                if (folder / "model.safetensors").exists():  # deleted to save space is fine, damaged is not
                    _saved_weights(folder, result_path)
                self.reporter.message(f"{target}/{arm.label}: reusing the finished result in {folder}")
                if not (folder / TEST_VALUES).exists():
                    self.recover_test_values(target, arm, folder, stored)
                return stored
        modalities = arm.modality_set(self.configured)
        domain, catalogue = self.domains[target], self.catalogues[target].select(modalities)
        valid = evaluation_set(domain.sequences, "valid", recipe.model.max_length)
        test = evaluation_set(domain.sequences, "test", recipe.model.max_length)
        torch.manual_seed(recipe.seed)
        model = build_model(recipe, self.registry, catalogue.dims, arm.items, domain.n_items, modalities)
        strategy = self.registry.build("strategy", arm.strategy)
        try:
            strategy.prepare(model, pretrained if strategy.uses_pretrained else None)
        except CheckpointError as error:
            raise CheckpointError(f"{origin}: {error}") from None
        segments = training_segments(domain.sequences, recipe.model.max_length)
        result = train(model, "full", catalogue, segments, self._settings(recipe.adapt),
                       self._validator(valid, catalogue), recipe.evaluation.select_by,
                       stage=f"{target}/{arm.label}", seed=recipe.seed,
                       checkpoint=folder / "training.safetensors", fingerprint=fingerprint,
                       context=self.context, reporter=self.reporter)
        ev = recipe.evaluation
        evaluated = time.perf_counter()  # training's own time (over resumes) is in result.elapsed_seconds
        table = item_table(model, catalogue, self.context.device)
        tested = self._test(model, catalogue, test, table)
        test_seconds = time.perf_counter() - evaluated
        other = evaluate(model, catalogue, test, ev.ks, not ev.exclude_history, ev.batch_size, self.context, table)
        stored = {
            "fingerprint": fingerprint, "label": arm.label, "strategy": arm.strategy.name,
            "strategy_settings": arm.strategy.changed_settings(), "items": arm.items,
            "modalities": [] if arm.items == "ids" else modalities,
            "valid": result.best_metrics, "test": tested.metrics, "test_standard_errors": tested.standard_errors,
            ("test_unmasked" if ev.exclude_history else "test_masked"): other,
            "best_epoch": result.best_epoch, "epochs": result.epochs_run,
            "train_seconds": result.train_seconds, "prefixes_per_second": result.prefixes_per_second,
            "test_users_per_second": len(test) / max(test_seconds, 1e-9),
            "seconds": result.elapsed_seconds + time.perf_counter() - evaluated,
            "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        }
        if self.context.is_main:
            save_model(folder, model, recipe, catalogue.dims, self.registry, arm.items, domain.n_items, stage="adapt",
                       domain=target, strategy=arm.strategy.model_dump(mode="json"))
            atomic_save(tested.values, folder / TEST_VALUES)
            atomic_write_text(result_path, json.dumps(stored, indent=2))
        barrier(self.context)
        return stored

    def _test(self, model, catalogue, test, table=None):
        """The test metrics, their standard errors and per-user values (``evaluate_with_errors``)."""
        ev = self.recipe.evaluation
        return evaluate_with_errors(model, catalogue, test, ev.ks, ev.exclude_history, ev.batch_size, self.context,
                                    table)

    def recover_test_values(self, target: str, arm, folder: Path, stored: dict) -> None:
        """Per-user test values for an arm finished before antkit kept them: its saved model evaluated again,
        and kept only if it reproduces the stored test metrics (else the verdict stays unpaired, and says so)."""
        try:
            model = model_from_checkpoint(read_checkpoint(folder, self.registry), self.registry)
        except CheckpointError as error:
            self.reporter.message(f"{target}/{arm.label}: per-user test values not recovered ({error})")
            return
        model.to(self.context.device)
        catalogue = self.catalogues[target].select(arm.modality_set(self.configured))
        test = evaluation_set(self.domains[target].sequences, "test", self.recipe.model.max_length)
        tested = self._test(model, catalogue, test)
        if any(abs(tested.metrics[m] - stored["test"][m]) > 1e-6 for m in stored["test"]):
            self.reporter.message(f"{target}/{arm.label}: its saved model no longer reproduces its test metrics "
                                  "(other code?); per-user values not recovered")
            return
        if self.context.is_main:
            atomic_save(tested.values, folder / TEST_VALUES)
            self.reporter.message(f"{target}/{arm.label}: per-user test values recovered from its saved model")
        barrier(self.context)

    def relearn_vs_scratch(self, target: str, arms: dict[str, dict]) -> dict | None:
        """Relearn's test metrics minus scratch's, paired over the same users (``paired_comparison``); None
        without both arms or without their per-user values (arms finished before antkit kept them)."""
        relearn, scratch = first_arm(arms, "relearn"), first_arm(arms, "scratch")
        if not (relearn and scratch):
            return None
        files = [test_values_path(self.out, target, label) for label in (relearn, scratch)]
        if not all(file.exists() for file in files):
            return None
        try:
            values = [load_weights(file) for file in files]
            comparison = paired_comparison(*values)
        except (CheckpointError, ValueError) as error:  # the report is still written, with the unpaired verdict
            self.reporter.message(f"{target}: relearn vs scratch not paired ({error})")
            return None
        return {"relearn": relearn, "scratch": scratch, **comparison}

    def starting_checkpoints(self) -> dict[str, tuple[dict, dict]]:
        """The recipe's ``pretrained`` checkpoints (one, or each pre-training of a run folder), checked
        against the recipe, in place of pre-training for the arms with their modalities; empty when the
        recipe pre-trains itself."""
        if not self.recipe.pretrained:
            return {}
        transferring = [arm.modality_set(self.configured) for arm in self.recipe.arms
                        if self.registry.get("strategy", arm.strategy.name).uses_pretrained]
        dims = next(iter(self.catalogues.values())).dims
        found = {}
        for folder in hub.resolve_all(self.recipe.pretrained):
            checkpoint = read_checkpoint(folder, self.registry)
            if checkpoint.modalities not in transferring:
                continue  # a run's other pre-training, which no arm here needs
            check_fits(checkpoint, self.recipe, checkpoint.modalities, dims)
            summary = {"fingerprint": checkpoint.digest, "checkpoint": str(folder), "modalities": checkpoint.modalities,
                       "domains": checkpoint.config.get("domains", []), "valid": checkpoint.config.get("valid", {})}
            self.reporter.message(f"pretrain: {'+'.join(checkpoint.modalities)} arms start from {folder}")
            found[pretrain_folder(checkpoint.modalities, self.configured)] = (checkpoint.state, summary)
        if not found:
            raise CheckpointError(f"{self.recipe.pretrained}: no checkpoint there has the modalities of an arm "
                                  "that transfers (" + "; ".join("+".join(m) for m in transferring) + ")")
        return found

    def check_arm_folders(self) -> None:
        """Every arm's folder checked before any training: a file in the way stops the run now, not after hours.
        The folders are made when their files are written, so a run that stops leaves no empty ones."""
        for target in self.recipe.data.targets:
            for arm in self.recipe.arms:
                check_folder_path(self.out / target / arm_folder(arm.label), f"arm '{arm.label}' folder")

    def execute(self) -> RunResults:
        started, made_by = time.perf_counter(), software(self.registry)  # the code as it starts, not as it ends
        self.prepare_data()
        pretrained = self.starting_checkpoints()  # pre-training folder -> (state, summary)
        self.check_arm_folders()
        targets, comparisons = {}, {}
        for target in self.recipe.data.targets:
            targets[target] = {}
            for arm in self.recipe.arms:
                state, pretrain_id, origin = None, "", ""
                if self.registry.get("strategy", arm.strategy.name).uses_pretrained:
                    modalities = arm.modality_set(self.configured)
                    name = pretrain_folder(modalities, self.configured)
                    if name not in pretrained:
                        if not self.recipe.data.auxiliary:
                            raise CheckpointError(
                                f"{self.recipe.pretrained}: no checkpoint there has the modalities of arm "
                                f"'{arm.label}' ({'+'.join(modalities)}), and the recipe has no auxiliary domains "
                                "to pre-train them on")
                        pretrained[name] = self.pretrain(modalities)
                    state, summary = pretrained[name]
                    pretrain_id, origin = summary["fingerprint"], summary.get("checkpoint", str(self.out / name))
                targets[target][arm.label] = self.adapt(target, arm, state, pretrain_id, origin)
            comparison = self.relearn_vs_scratch(target, targets[target])
            if comparison:
                comparisons[target] = comparison
        data_summary = {
            name: {"users": len(d.user_ids), "items": d.n_items, "interactions": d.n_interactions}
            for name, d in self.domains.items()
        }
        summaries = {name: summary for name, (_, summary) in pretrained.items()}
        return RunResults(self.recipe.model_dump(mode="json"), targets, summaries, data_summary,
                          time.perf_counter() - started, comparisons, made_by)


def run(recipe, out: str | Path | None = None, overrides: list[str] = (), *, registry: Registry | None = None,
        reporter: Reporter | None = None, cache_dir: str | Path | None = None) -> RunResults:
    """Run a recipe (a path, a dict, or a validated recipe) and write the report into ``out``.

    Returns the results (also written to ``out/results.json``, ``report.md`` and ``report.png``).
    """
    if isinstance(out, str) and not out.strip():
        raise AntkitError(f"output folder {out!r}: empty; give a folder, e.g. runs/NAME (the current folder is "
                          "never taken for an empty name)")
    registry = registry or load_registry()
    if isinstance(recipe, (str, Path)):
        out = Path(out) if out else default_out(recipe)
        recipe = load_recipe(recipe, registry, list(overrides))
    elif isinstance(recipe, dict) or overrides:  # a dict, or a validated recipe to override: a copy is changed
        data = copy.deepcopy(recipe if isinstance(recipe, dict) else recipe.model_dump(mode="json"))
        recipe = validate_recipe(data, registry, overridden=apply_overrides(data, list(overrides)))
    if out is None:
        raise AntkitError("give an output folder (out=...) for a recipe that is not a file")
    context = setup(recipe.device)
    if reporter is None or not context.is_main:
        reporter = Reporter()  # one process reports
    out = writable_folder(out, "output folder")
    _check_report_files(out)
    try:
        results = Run(recipe, registry, out, cache_folder(cache_dir), reporter, context).execute()
    finally:
        reporter.close()
    if context.is_main:
        results.write(out)
    return results


def _check_report_files(out: Path) -> None:
    """A folder where the run writes results.json or its report stops the run now, not after its training."""
    for name in REPORT_FILES:
        if (out / name).is_dir():
            raise AntkitError(f"{out / name}: a folder, where the run writes its {name}; move it away or use "
                              "another output folder")
