"""A search's trials tracked from the Tune driver: the search is one tracked run, each trial
a run nested under it (MLflow) or a folder of its own (TensorBoard), with the searched keys
as its parameters and each epoch Tune receives as a step. A trial that ASHA stopped ends as
``KILLED`` with the tag ``raytrec.status: stopped``; the best trial gets
``raytrec.best: true``. ``tracking.json`` in the search's directory maps Tune's trial ids to
their tracked runs, so that ``raytrec tune --resume`` continues each one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ray.tune import Callback

from raytrec.tracking.names import flat_params, numbers, plugin_tags
from raytrec.tracking.tracker import Tracker, open_tracker
from raytrec.tune.plan import Plan

STATE_FILE = "tracking.json"
EPOCH_METRICS = ("train/", "valid/")  # what a trial's epochs report that is tracked


class TrialTracking(Callback):
    """On the Tune driver; Tune pickles it with the experiment, without its open runs."""

    def __init__(self, plan: Plan, tune_dir: str) -> None:
        self.plan, self.tune_dir = plan, tune_dir
        self.experiment = plan.base.tracking.experiment or Path(plan.source).stem
        self._search: Tracker | None = None
        self._trials: dict[str, Tracker] = {}
        self._steps: dict[str, int] = {}
        self._finished: set[str] = set()  # reported their final result
        self._ended: set[str] = set()  # finished, stopped or failed
        self._opened = False

    def __getstate__(self) -> dict[str, Any]:
        return {"plan": self.plan, "tune_dir": self.tune_dir, "experiment": self.experiment,
                "_search": None, "_trials": {}, "_steps": {}, "_finished": set(),
                "_ended": set(), "_opened": False}

    def setup(self, **info: Any) -> None:
        self._open_search()

    def _open_search(self) -> None:
        if self._opened:
            return
        self._opened = True
        state = self._state()
        section = self.plan.base.tracking
        run_id = state.get("search") if state.get("backend") == section.backend else None
        self._search = open_tracker(section, Path(self.tune_dir).name, self.experiment,
                                    self.tune_dir, str(self._log_dir("search")), run_id)
        if self._search is not None and run_id is None:
            self._search.log_params(flat_params(self.plan.base))
            self._search.set_tags({"raytrec.run_dir": self.tune_dir, "raytrec.searched":
                                   ", ".join(p.key for p in self.plan.params),
                                   **plugin_tags()})
        self._save()

    def _log_dir(self, name: str) -> Path:
        section = self.plan.base.tracking
        return Path(section.directory or Path(self.tune_dir) / "tensorboard") / name

    def _trial(self, trial: Any) -> Tracker | None:
        self._open_search()
        if self._search is None:
            return None
        found = self._trials.get(trial.trial_id)
        if found is not None:
            return found
        known = self._state().get("trials", {}).get(trial.trial_id, {})
        tracker = open_tracker(self.plan.base.tracking, trial.trial_id, self.experiment,
                               self.tune_dir, str(self._log_dir(trial.trial_id)),
                               known.get("run_id"), parent=self._search.run_id,
                               next_step=int(known.get("step", 0)) + 1 if known else 0)
        if tracker is None:
            return None
        if not known:
            values = self.plan.decode(dict(trial.config or {}))
            # A key the trial's plugin does not take is not drawn (Optuna, conditional): no
            # parameter, rather than "None" on an axis of numbers.
            tracker.log_params({k: str(v) for k, v in values.items() if v is not None})
        self._trials[trial.trial_id] = tracker
        self._save()
        return tracker

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._trial(trial)

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict,
                        **info: Any) -> None:
        tracker = self._trial(trial)
        epoch = result.get("epoch")
        if tracker is None or not isinstance(epoch, int):
            return
        if result.get("finished"):  # the best epoch's metrics again, and the test's
            tracker.log_metrics(numbers({k: v for k, v in result.items()
                                         if k.startswith("test")}), epoch)
            self._finished.add(trial.trial_id)
            return
        tracker.log_metrics(numbers({k: v for k, v in result.items()
                                     if k.startswith(EPOCH_METRICS)}), epoch)
        self._steps[trial.trial_id] = epoch
        self._save()

    def on_trial_complete(self, iteration: int, trials: list, trial: Any,
                          **info: Any) -> None:
        tracker = self._trial(trial)
        if tracker is None:
            return
        finished = trial.trial_id in self._finished
        tracker.set_tags({"raytrec.status": "finished" if finished else "stopped"})
        tracker.finish("FINISHED" if finished else "KILLED")
        self._ended.add(trial.trial_id)
        self._save()

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        tracker = self._trial(trial)
        if tracker is not None:
            tracker.set_tags({"raytrec.status": "error"})
            tracker.finish("FAILED")
            self._ended.add(trial.trial_id)
            self._save()

    def tag_best(self, trial_id: str) -> None:
        """Mark the search's best trial, and end the search's run."""
        self._open_search()
        if self._search is None:
            return
        best = self._trials.get(trial_id) or self._reopen(trial_id)
        if best is not None:
            best.set_tags({"raytrec.best": "true"})
        self._search.set_tags({"raytrec.best_trial": trial_id})
        self._search.finish("FINISHED")

    def interrupted(self) -> None:
        """End the search's run and its trials' that had not ended as ``KILLED`` (an
        interrupted search gives no trial an end of its own); ``--resume`` continues them."""
        self._open_search()
        if self._search is None:
            return
        for trial_id, known in self._state().get("trials", {}).items():
            if not known.get("ended"):
                tracker = self._reopen(trial_id)
                if tracker is not None:
                    tracker.finish("KILLED")
        self._search.finish("KILLED")

    def _reopen(self, trial_id: str) -> Tracker | None:
        """The tracked run of a trial this process did not open, to tag or end it."""
        known = self._state().get("trials", {}).get(trial_id)
        if not known or self._search is None:
            return None
        return open_tracker(self.plan.base.tracking, trial_id, self.experiment, self.tune_dir,
                            str(self._log_dir(trial_id)), known["run_id"],
                            parent=self._search.run_id,
                            next_step=int(known.get("step", 0)) + 1, running=False)

    def _state(self) -> dict[str, Any]:
        try:
            found = json.loads((Path(self.tune_dir) / STATE_FILE).read_text())
        except (OSError, ValueError):
            return {}
        return found if isinstance(found, dict) else {}

    def _save(self) -> None:
        if self._search is None:
            return
        known = self._state().get("trials", {})
        for trial_id, tracker in self._trials.items():
            before = known.get(trial_id, {})
            known[trial_id] = {"run_id": tracker.run_id,
                               "step": self._steps.get(trial_id, before.get("step", 0)),
                               "ended": trial_id in self._ended or bool(before.get("ended"))}
        state = {"backend": self.plan.base.tracking.backend, "search": self._search.run_id,
                 "trials": known}
        path = Path(self.tune_dir) / STATE_FILE
        tmp = path.with_name(STATE_FILE + ".tmp")
        try:
            tmp.write_text(json.dumps(state, indent=2))
            tmp.replace(path)
        except OSError:
            tmp.unlink(missing_ok=True)
