"""The user-item task's baselines: popularity, and EASE where it fits (``eval.ease``)."""

from __future__ import annotations

from pathlib import Path

from raytrec.config.sections import EvalSection
from raytrec.tasks.base import Baselines


def user_item_baselines(data_dir: Path, eval_cfg: EvalSection, split: str,
                        quick: bool, seed: int = 0) -> Baselines:
    """The baselines on ``split``: on test, the users the model's test scores
    (``eval.test_max_users`` of them drawn by ``seed``, ``train.seed``)."""
    from raytrec.evaluation.popularity import popularity_metrics

    ks = list(eval_cfg.ks)
    sample = eval_cfg.test_max_users if split == "test" else None
    found = Baselines({"popularity": popularity_metrics(data_dir, split, ks,
                                                        eval_cfg.chunk_size,
                                                        max_users=sample, seed=seed)})
    if not quick and split == "test":
        note = _add_ease(found.metrics, data_dir, eval_cfg, seed)
        if note:
            found.notes.append(note)
    return found


def _add_ease(columns: dict[str, dict[str, float]], data_dir: Path,
              eval_cfg: EvalSection, seed: int) -> str | None:
    """Adds EASE's test metrics to ``columns`` (``eval.ease``); says how λ was chosen, or why
    EASE was left out."""
    from raytrec.data.store import read_info
    from raytrec.evaluation import ease
    from raytrec.memory import available_memory, gigabytes

    when = eval_cfg.ease
    if when is False:
        return None
    num_items = read_info(data_dir).num_items
    if when == "auto" and num_items > ease.AUTO_MAX_ITEMS:
        return (f"EASE left out: {num_items} items are more than eval.ease: auto fits "
                f"({ease.AUTO_MAX_ITEMS}); eval.ease: true fits it anyway (its time grows with "
                "the cube of the catalogue)")
    free = available_memory()
    if not ease.fits(num_items, free):
        return (f"EASE skipped: its dense item × item matrices for {num_items} items need "
                f"{gigabytes(ease.needed_bytes(num_items))}, more than half of the "
                f"{'assumed ' if free is None else ''}"
                f"{gigabytes(free or ease.UNKNOWN_FREE_BYTES)} free (eval.ease: false leaves "
                "it out)")
    result = ease.ease_metrics(data_dir, list(eval_cfg.ks), eval_cfg.metric,
                               eval_cfg.chunk_size, eval_cfg.test_max_users, seed)
    columns["EASE"] = result.test
    return f"EASE: λ = {result.lam:.3g}, chosen on validation {eval_cfg.metric}"
