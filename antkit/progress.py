"""Progress reporting of a run: silent for the API by default, rich bars for the CLI."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class Reporter:
    """Receives the run's events; the base class ignores them."""

    def message(self, text: str) -> None:
        pass

    def stage_started(self, stage: str, epochs: int) -> None:
        pass

    def epoch_done(self, stage: str, epoch: int, loss: float, metrics: dict[str, float], select_by: str) -> None:
        pass

    def stage_done(self, stage: str) -> None:
        pass

    def items_done(self, task: str, done: int, total: int) -> None:
        """``done`` of ``total`` items of ``task`` (e.g. feature extraction) are finished."""

    def close(self) -> None:
        pass


class RichReporter(Reporter):
    """A live bar per training stage with its latest loss and validation score; when the output is not a
    terminal (a log file, CI), one line per epoch instead, since a live bar is only drawn at the end there."""

    def __init__(self, console: Console | None = None):
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[unit]}"),
            TimeElapsedColumn(), TextColumn("{task.fields[status]}"), console=self.console, transient=False,
        )
        self.tasks: dict[str, int] = {}
        self.started = False

    def _start(self) -> None:
        if not self.started:
            self.progress.start()
            self.started = True

    def message(self, text: str) -> None:
        self._start()
        self.progress.console.print(text, highlight=False, markup=False)

    def stage_started(self, stage: str, epochs: int) -> None:
        self._start()
        self.tasks[stage] = self.progress.add_task(escape(stage), total=epochs, status="", unit="epochs")

    def epoch_done(self, stage, epoch, loss, metrics, select_by):
        status = f"loss {loss:.4f}  valid {select_by} {metrics[select_by]:.4f}"
        self.progress.update(self.tasks[stage], completed=epoch + 1, status=status)
        if not self.console.is_terminal:
            self.progress.console.print(f"{stage}: epoch {epoch + 1}  {status}", highlight=False, markup=False)

    def stage_done(self, stage: str) -> None:
        task = self.tasks[stage]
        self.progress.update(task, total=self.progress.tasks[task].completed)

    def items_done(self, task: str, done: int, total: int) -> None:
        self._start()
        if task not in self.tasks:
            self.tasks[task] = self.progress.add_task(escape(task), total=total, status="", unit="items")
        self.progress.update(self.tasks[task], completed=done, total=total)

    def close(self) -> None:
        if self.started:
            self.progress.stop()
