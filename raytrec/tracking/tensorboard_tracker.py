"""The ``tensorboard`` backend, on tensorboardX's ``SummaryWriter`` (which Ray Tune already
installs): scalars by step, the parameters and tags as text, and at the end the parameters
with the final metrics in TensorBoard's HPARAMS view, where runs are compared. A continued
run writes to the same folder; TensorBoard drops what it had logged from the step it
continues at (``purge_step``)."""

from __future__ import annotations

import time

from raytrec.tracking.tracker import Tracker

HPARAM_METRICS = "test/"  # the metrics of a finished run that go beside its parameters


class TensorboardTracker(Tracker):
    def __init__(self, log_dir: str, next_step: int) -> None:
        super().__init__()
        from tensorboardX import SummaryWriter

        self.run_id = log_dir
        # Event files are named by the second they start in: a run continued within the
        # same second would write over the file of the one before.
        self.writer = SummaryWriter(logdir=log_dir, purge_step=next_step or None,
                                    filename_suffix=f".{time.time_ns()}")
        self.params: dict[str, str] = {}
        self.last: dict[str, float] = {}

    def _log_params(self, params: dict[str, str]) -> None:
        self.params.update(params)
        rows = "\n".join(f"| {k} | {v} |" for k, v in params.items())
        self.writer.add_text("config", "| key | value |\n|---|---|\n" + rows, 0)

    def _log_metrics(self, metrics: dict[str, float], step: int) -> None:
        for key, value in metrics.items():
            self.writer.add_scalar(key, value, step)
            self.last[key] = value
        self.writer.flush()

    def _set_tags(self, tags: dict[str, str]) -> None:
        self.writer.add_text("tags", "\n\n".join(f"**{k}**: {v}" for k, v in tags.items()), 0)
        self.writer.flush()

    def _finish(self, status: str) -> None:
        final = {k: v for k, v in self.last.items() if k.startswith(HPARAM_METRICS)}
        if status == "FINISHED" and self.params and final:
            self.writer.add_hparams(_scalars(self.params), final, name="hparams")
        self.writer.add_text("status", status, 0)
        self.writer.close()


def _scalars(params: dict[str, str]) -> dict[str, float | str]:
    """Parameters as TensorBoard's HPARAMS view takes them: numbers as numbers."""
    out: dict[str, float | str] = {}
    for key, text in params.items():
        try:
            out[key] = float(text)
        except ValueError:
            out[key] = text
    return out
