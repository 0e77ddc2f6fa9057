"""Cases of the group "silent changes": inputs raytrec might quietly reinterpret or ignore."""

from __future__ import annotations

import json
import random
import re

import yaml
from bad_checks import check_run_dir, data_info, dir_state, mentions, read_json, users_table
from bad_context import (
    Case,
    Ctx,
    Plan,
    Setup,
    SetupError,
    csv_data,
    interactions,
    overrides_case,
    search_config,
    write_config,
    write_csv,
)
from bad_runner import Result


def setup_nan_ids(ctx: Ctx) -> Plan:
    rows = [("" if i % 7 == 0 else u, it) for i, (u, it) in enumerate(interactions())]
    path = write_csv(ctx.root / "d.csv", "user_id,item_id", rows)
    ctx.notes["rows"] = (len(rows), sum(1 for u, _ in rows if not u))
    return Plan(["train", ctx.config(data=csv_data(path)), "--run-dir", "run"])


def check_nan_ids(ctx: Ctx, result: Result) -> str:
    total, empty = ctx.notes.pop("rows")
    users = users_table(ctx.root)
    where = f"CSV {total} rows, {empty} with empty user_id"
    if users is None:
        return f"{where}; no users.parquet; {dir_state(ctx.root)}"
    nan = int(users["id"].isna().sum())
    return (f"{where}; users.parquet id dtype {users['id'].dtype}, {len(users)} users "
            f"({nan} NaN id); {data_info(ctx.root)}")


def setup_duplicates(ctx: Ctx) -> Plan:
    rows = [row for row in interactions() for _ in range(2)]
    path = write_csv(ctx.root / "d.csv", "user_id,item_id", rows)
    ctx.notes["rows"] = len(rows)
    return Plan(["train", ctx.config(data=csv_data(path)), "--run-dir", "run"])


def check_duplicates(ctx: Ctx, result: Result) -> str:
    info = json.dumps(read_json(ctx.root / "run" / "data" / "info.json"))
    in_info = "duplicate" in info.lower()
    rows = ctx.notes.pop("rows")
    return (f"output {mentions(result, 'duplicate')}; info.json mentions duplicates: "
            f"{'yes' if in_info else 'no'}; CSV {rows} rows ({rows // 2} distinct); "
            f"{data_info(ctx.root)}")


def setup_leading_zero(ctx: Ctx) -> Plan:
    rows = interactions()
    rng = random.Random(1)
    rows += [("037", str(i)) for i in rng.sample(range(1, 101), 20)]
    path = write_csv(ctx.root / "d.csv", "user_id,item_id", rows)
    ctx.notes["users"] = len({u for u, _ in rows})
    return Plan(["train", ctx.config(data=csv_data(path)), "--run-dir", "run"])


def check_leading_zero(ctx: Ctx, result: Result) -> str:
    users = users_table(ctx.root)
    expected = ctx.notes.pop("users")
    if users is None:
        return f"CSV has {expected} distinct user ids; no users.parquet"
    ids = users["id"].tolist()
    looks = sorted({repr(v) for v in ids if str(v).lstrip("0") == "37"})
    return (f"CSV has {expected} distinct user ids (37 and 037); users.parquet holds "
            f"{len(set(ids))} ({users['id'].dtype}), of them {', '.join(looks) or 'none'}")


def feature_case(bad_value: bool) -> Setup:
    def setup(ctx: Ctx) -> Plan:
        path = write_csv(ctx.root / "d.csv", "user_id,item_id", interactions())
        rows = [(str(i), f"{i * 0.5:.1f}") for i in range(1, 101)]
        if bad_value:
            rows[4] = (rows[4][0], "b")
        else:
            rows = [row for row in rows if int(row[0]) % 10 != 0]
        features = write_csv(ctx.root / "items.csv", "item_id,price", rows)
        mapper = {"name": "two-tower", "dim": 16, "id_dim": 8, "hidden": [32], "dropout": 0.0,
                  "item_features": {"numeric": ["price"]}}
        name = ctx.config(data=csv_data(path, item_features=str(features)), mapper=mapper,
                          loss={"name": "infonce"}, sampler={"name": "in-batch"},
                          train={"optimizer": "adam", "lr": 0.01})
        return Plan(["train", name, "--run-dir", "run"])

    return setup


def check_feature_column(ctx: Ctx, result: Result) -> str:
    return f"message names 'price': {'yes' if 'price' in result.stderr else 'no'}; " + dir_state(
        ctx.root)


def check_ks(ctx: Ctx, result: Result) -> str:
    metrics = read_json(ctx.root / "run" / "metrics.json")
    if metrics is None:
        return f"no metrics.json; {dir_state(ctx.root)}"
    return (f"test recall@500 {metrics['test'].get('recall@500')}, hr@500 "
            f"{metrics['test'].get('hr@500')} (200 items)")


def setup_empty_yaml(ctx: Ctx) -> Plan:
    (ctx.root / "c.yaml").write_text("")
    return Plan(["train", "c.yaml", "--run-dir", "run"], {"HOME": str(ctx.root)})


def check_empty_yaml(ctx: Ctx, result: Result) -> str:
    head = " / ".join(line.strip() for line in result.stdout.splitlines()[:3] if line.strip())
    killed = "killed by the 60 s timeout" if result.timed_out else "ended by itself"
    cache = ctx.root / ".cache" / "raytrec"
    cached = "~/.cache/raytrec created" if cache.exists() else "no ~/.cache/raytrec"
    return f"{killed}; stdout: {head or '(none)'}; {cached}; {dir_state(ctx.root)}"


def setup_duplicate_key(ctx: Ctx) -> Plan:
    path = write_config(ctx.root / "c.yaml")
    config = {k: v for k, v in yaml.safe_load(path.read_text()).items() if k != "train"}
    text = yaml.safe_dump(config, sort_keys=False)
    text += "train: {epochs: 2, batch_size: 512, lr: 0.1}\n"
    text += "train: {epochs: 1, batch_size: 512, lr: 0.1}\n"
    path.write_text(text)
    return Plan(["train", "c.yaml", "--run-dir", "run"])


def check_duplicate_key(ctx: Ctx, result: Result) -> str:
    metrics = read_json(ctx.root / "run" / "metrics.json")
    if metrics is None:
        return f"refused or failed: {dir_state(ctx.root)}"
    used = {2: "the first train:", 1: "the second train:"}.get(metrics.get("epochs_run"), "?")
    return f"not refused; epochs_run {metrics.get('epochs_run')}: {used} was used"


def setup_exponent(ctx: Ctx) -> Plan:
    path = write_config(ctx.root / "c.yaml")
    text = path.read_text().replace("lr: 0.1", "lr: 1e-3")
    if "lr: 1e-3" not in text:
        raise SetupError("could not write lr: 1e-3")
    path.write_text(text)
    return Plan(["train", "c.yaml", "--run-dir", "run"])


def check_exponent(ctx: Ctx, result: Result) -> str:
    path = ctx.root / "run" / "config.yaml"
    if not path.is_file():
        return dir_state(ctx.root)
    lr = yaml.safe_load(path.read_text())["train"]["lr"]
    return f"run/config.yaml train.lr = {lr!r} ({type(lr).__name__})"


def setup_config_dir(ctx: Ctx) -> Plan:
    (ctx.root / "cdir").mkdir()
    write_config(ctx.root / "cdir" / "c.yaml")
    return Plan(["train", "cdir", "--run-dir", "run"])


def setup_search_list(ctx: Ctx) -> Plan:
    return Plan(["tune", search_config(ctx, {"loss.margin": [0.1, 1.5]}), "--run-dir", "run"])


def check_search_list(ctx: Ctx, result: Result) -> str:
    results = ctx.root / "run" / "results.csv"
    if results.is_file():
        lines = results.read_text().splitlines()
        return f"search ran: results.csv with {len(lines) - 1} trials; header {lines[0][:60]}"
    return dir_state(ctx.root)


def env_case(var: str) -> Setup:
    def setup(ctx: Ctx) -> Plan:
        return Plan(["train", ctx.config(), "--run-dir", "run"], {var: "nosuch"})

    return setup


def check_nosuch(ctx: Ctx, result: Result) -> str:
    return f"{mentions(result, 'nosuch')}; {dir_state(ctx.root)}"


def setup_relative_path(ctx: Ctx) -> Plan:
    write_csv(ctx.root / "cfg" / "d.csv", "user_id,item_id", interactions())
    write_config(ctx.root / "cfg" / "c.yaml", data={"name": "csv", "path": "d.csv"})
    return Plan(["train", "cfg/c.yaml", "--run-dir", "run"])


def check_relative_path(ctx: Ctx, result: Result) -> str:
    found = (ctx.root / "run" / "data" / "info.json").is_file()
    return f"found cfg/d.csv: {'yes' if found else 'no'}; {dir_state(ctx.root)}"


def check_hard(ctx: Ctx, result: Result) -> str:
    keys = sorted(set(re.findall(r"sampler\.\w+", result.stderr)))
    words = [w for w in ("num_candidates", "num_negatives", "pool_size")
             if w in result.stderr]
    return (f"keys named: {', '.join(keys) or 'none'}; arguments named: "
            f"{', '.join(words) or 'none'}; {dir_state(ctx.root)}")


def check_nothing(ctx: Ctx, result: Result) -> str:
    made = sorted(p.name for p in ctx.root.iterdir())
    return f"created: {', '.join(made) or 'nothing'}"


SILENT_CASES: list[Case] = [
    Case("nan-ids", "silent changes", setup_nan_ids, check_nan_ids),
    Case("duplicate-interactions", "silent changes", setup_duplicates, check_duplicates),
    Case("leading-zero-ids", "silent changes", setup_leading_zero, check_leading_zero),
    Case("feature-missing-rows", "silent changes", feature_case(bad_value=False),
         check_feature_column),
    Case("feature-string-numeric", "silent changes", feature_case(bad_value=True),
         check_feature_column),
    Case("ks-over-catalogue", "silent changes",
         overrides_case("eval.ks=[10,500]", "eval.metric=recall@10"), check_ks),
    Case("empty-yaml", "silent changes", setup_empty_yaml, check_empty_yaml, timeout=60),
    Case("yaml-duplicate-key", "silent changes", setup_duplicate_key, check_duplicate_key),
    Case("yaml-exponent", "silent changes", setup_exponent, check_exponent),
    Case("config-is-dir", "silent changes", setup_config_dir, check_run_dir),
    Case("search-list", "silent changes", setup_search_list, check_search_list, timeout=180),
    Case("disable-plugins-nosuch", "silent changes", env_case("RAYTREC_DISABLE_PLUGINS"),
         check_nosuch),
    Case("load-plugins-nosuch", "silent changes", env_case("RAYTREC_LOAD_PLUGINS"),
         check_nosuch),
    Case("relative-data-path", "silent changes", setup_relative_path, check_relative_path),
    Case("huge-dim", "silent changes", overrides_case("mapper.dim=100000000"), check_run_dir,
         timeout=120),
    Case("device-cuda", "silent changes", overrides_case("train.device=cuda"), check_run_dir),
    Case("hard-candidates", "silent changes",
         overrides_case("sampler={name: hard, num_candidates: 1000, num_negatives: 1}"),
         check_hard),
    Case("evaluate-missing-run", "silent changes",
         lambda ctx: Plan(["evaluate", "nowhere"]), check_nothing),
]
