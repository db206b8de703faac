"""The training loop: a plain PyTorch loop with Adam, per-epoch learning-rate decay, validation after every
epoch, early stopping on the validation score, and checkpoints for resuming: after every epoch, and within a
long epoch every ``checkpoint_minutes`` of training."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel

from antkit.data.catalogue import Catalogue
from antkit.data.splits import Segment, collate, epoch_order, pack_batches
from antkit.errors import AntkitError
from antkit.progress import Reporter
from antkit.provenance import running_commit, short_commit
from antkit.training.checkpoint import load_training_state, save_training_state
from antkit.training.distributed import Context, barrier, sum_across


@dataclass
class TrainingSettings:
    epochs: int
    batch_size: int
    learning_rate: float
    lr_decay: float
    patience: int
    weight_decay: float = 0.0
    clip_grad_norm: float | None = None  # the gradients' total norm is clipped to this before each step
    image_text_weight: float = 0.0
    checkpoint_minutes: float = 10.0  # within an epoch, save a checkpoint after this much training (0: every step)


@dataclass
class TrainingResult:
    best_metrics: dict[str, float]
    best_epoch: int
    epochs_run: int
    history: list[dict] = field(default_factory=list)
    train_seconds: float = 0.0  # time in training steps (not validation)
    prefixes: int = 0  # training prefixes processed, over all processes
    elapsed_seconds: float = 0.0  # wall time of the whole training (steps, validation, checkpoints), over resumes

    @property
    def prefixes_per_second(self) -> float:
        return self.prefixes / self.train_seconds if self.train_seconds else 0.0


def _no_progress() -> dict:
    """An epoch's work before its first step: steps done, their losses, prefixes and seconds."""
    return {"steps": 0, "losses": [], "prefixes": 0, "seconds": 0.0}


def _stop_if_diverged(losses: list[float], stage: str, epoch: int, settings: TrainingSettings,
                      context: Context) -> None:
    """An AntkitError, in every process, when a loss of this epoch was not finite: the weights are lost to
    overflow, and later epochs would only waste time."""
    diverged = torch.tensor([float(any(not math.isfinite(loss) for loss in losses))], device=context.device)
    if sum_across(context, diverged).item():
        raise AntkitError(f"{stage}: training diverged in epoch {epoch + 1} (the loss is not finite); lower the "
                          f"learning rate (now {settings.learning_rate:g}) and run again in another output folder")


def _my_batches(batches: list, context: Context) -> list:
    """This process's share; every process gets the same number of batches (DDP needs that)."""
    if not context.distributed:
        return batches
    share = max(1, len(batches) // context.world_size)
    return [batches[(context.rank + i * context.world_size) % len(batches)] for i in range(share)]


def train(
    model: torch.nn.Module,
    objective: str,
    catalogue: Catalogue,
    segments: list[Segment],
    settings: TrainingSettings,
    validate: Callable[[torch.nn.Module], dict[str, float]],
    select_by: str,
    *,
    stage: str,
    seed: int,
    checkpoint: Path | None = None,
    fingerprint: str = "",
    context: Context = Context(),
    reporter: Reporter = Reporter(),
) -> TrainingResult:
    """Train ``model`` in place and leave it holding its best validation state."""
    device = context.device
    model.to(device)
    catalogue = catalogue.to(device)
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(parameters, lr=settings.learning_rate, weight_decay=settings.weight_decay)
    schedule = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=settings.lr_decay)
    runner = model
    if context.distributed:  # some parameters may get no gradient in a step (e.g. a modality absent from a batch)
        runner = DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None,
                                         find_unused_parameters=True)

    result = TrainingResult({}, -1, 0)
    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    best_score, stale, start = float("-inf"), 0, 0
    partial = _no_progress()  # the unfinished epoch's work so far
    if checkpoint is not None and checkpoint.exists():
        best_state, progress = load_training_state(checkpoint, model, optimizer, fingerprint)
        schedule.last_epoch = progress["epoch"] + 1
        start, stale, best_score = progress["epoch"] + 1, progress["stale"], progress["best_score"]
        result = TrainingResult(progress["best_metrics"], progress["best_epoch"], start, progress["history"],
                                progress["train_seconds"], progress["prefixes"],
                                progress.get("elapsed_seconds", progress["train_seconds"]))  # older: steps only
        partial = progress.get("partial") or partial
        where = f" and step {partial['steps']} of epoch {start + 1}" if partial["steps"] else ""
        reporter.message(f"{stage}: resuming after epoch {start}{where}")
        written_by, running = progress.get("antkit_commit"), running_commit()
        if written_by and running and written_by != running:
            reporter.message(f"{stage}: its checkpoint was written by antkit commit {short_commit(written_by)}; "
                             f"continuing with {short_commit(running)}, so its result mixes the two")
    clock = time.perf_counter() - result.elapsed_seconds  # as if the earlier sessions had just run before this one
    if context.distributed:  # each process its own dropout stream, from where training starts (or resumes)
        torch.manual_seed(int(np.random.SeedSequence([seed, context.rank, start, partial["steps"]]).generate_state(1)[0]))

    def save(epoch: int, finished: bool) -> None:
        """Checkpoint after ``epoch`` (finished) or within it (``partial`` holds its steps so far)."""
        progress = {
            "epoch": epoch if finished else epoch - 1, "stale": stale, "best_score": best_score,
            "best_metrics": result.best_metrics, "best_epoch": result.best_epoch, "history": result.history,
            "fingerprint": fingerprint, "train_seconds": result.train_seconds, "prefixes": result.prefixes,
            "elapsed_seconds": time.perf_counter() - clock, "partial": None if finished else partial,
            "antkit_commit": running_commit(),
        }
        save_training_state(checkpoint, model.state_dict(), best_state, optimizer, progress)

    reporter.stage_started(stage, settings.epochs)
    if start:
        reporter.epoch_done(stage, start - 1, result.history[-1]["loss"], result.history[-1], select_by)
    for epoch in range(start, settings.epochs):
        if stale >= settings.patience:
            break
        model.train()
        batches = _my_batches(pack_batches(segments, settings.batch_size, epoch_order(seed, epoch)), context)
        started = saved = time.perf_counter()
        for step in range(partial["steps"], len(batches)):  # steps before a mid-epoch checkpoint are done
            batch = collate(segments, batches[step]).to(device)
            loss = runner(batch, catalogue, objective, settings.image_text_weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if settings.clip_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(parameters, settings.clip_grad_norm)
            optimizer.step()
            partial["losses"].append(loss.item())
            partial["prefixes"] += int((batch.targets > 0).sum())
            now = time.perf_counter()
            if checkpoint is not None and now - saved >= 60 * settings.checkpoint_minutes and step + 1 < len(batches):
                partial.update(steps=step + 1, seconds=partial["seconds"] + now - started)
                if context.is_main:
                    save(epoch, finished=False)
                started = saved = time.perf_counter()
        losses = partial["losses"]
        _stop_if_diverged(losses, stage, epoch, settings, context)
        result.train_seconds += partial["seconds"] + time.perf_counter() - started
        result.prefixes += partial["prefixes"] * context.world_size
        partial = _no_progress()
        schedule.step()

        metrics = validate(model)
        score = metrics[select_by]
        loss = float(np.mean(losses)) if losses else float("nan")
        result.history.append({"epoch": epoch, "loss": loss, **metrics})
        result.epochs_run = epoch + 1
        if score > best_score:
            best_score, stale = score, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            result.best_metrics, result.best_epoch = metrics, epoch
        else:
            stale += 1
        if checkpoint is not None and context.is_main:
            save(epoch, finished=True)
        barrier(context)
        reporter.epoch_done(stage, epoch, loss, metrics, select_by)
    reporter.stage_done(stage)
    model.load_state_dict(best_state)
    result.elapsed_seconds = time.perf_counter() - clock
    return result
