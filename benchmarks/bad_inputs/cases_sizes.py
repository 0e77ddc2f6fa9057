"""Cases of the group "sizes": numbers far out of range (batch sizes, negatives, epochs,
K, dim, seeds) and YAML that is huge in effect (an alias bomb, deep nesting). The finding
is a hang (the case's timeout) or a traceback; exit 0 where the value cannot be meant is
"silent".
"""

from __future__ import annotations

from bad_checks import dir_state
from bad_context import Case, Ctx, Plan, Setup, new_case, overrides_case, write_config
from bad_runner import Result, Signals

GROUP = "sizes"
HUGE = 10**12


def check_refused(ctx: Ctx, result: Result) -> str:
    """Exit 0 on a value no one means is silent acceptance."""
    if result.exit == 0:
        ctx.flag("silent", "the out-of-range value was accepted")
    return dir_state(ctx.root)


def check_any(ctx: Ctx, result: Result) -> str:
    return dir_state(ctx.root)


def bomb_case(where: str) -> Setup:
    """Billion laughs: nine levels of nine aliases, ~387M nodes if expanded, in ``where``."""

    def setup(ctx: Ctx) -> Plan:
        path = write_config(ctx.root / "c.yaml")
        lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
        text = path.read_text()
        if where == "top":
            text = "\n".join(lines) + "\n" + text
        else:  # inside a known section, under a key the plugin does not take
            body = "\n".join("  " + line for line in lines)
            text = text.replace("train:\n", f"train:\n{body}\n", 1)
        path.write_text(text)
        return Plan(["train", "c.yaml", "--run-dir", "run"])

    return setup


def setup_deep(ctx: Ctx) -> Plan:
    path = write_config(ctx.root / "c.yaml")
    depth = 100_000
    path.write_text(path.read_text() + "extra: " + "[" * depth + "]" * depth + "\n")
    return Plan(["train", "c.yaml", "--run-dir", "run"])


def setup_big_yaml(ctx: Ctx) -> Plan:
    """A 5 MB config: a long list under an unknown key (a pasted data file). 20 MB took PyYAML
    100 s here before any check, so 5 MB keeps the case inside its budget."""
    path = write_config(ctx.root / "c.yaml")
    with path.open("a") as out:
        out.write("pasted:\n")
        out.write("".join(f"  - [{i}, {i % 97}]\n" for i in range(300_000)))
    return Plan(["train", "c.yaml", "--run-dir", "run"])


SIZE_CASES: list[Case] = [
    new_case("huge-batch-size", GROUP, overrides_case(f"train.batch_size={HUGE}"),
             check_any, 60),
    new_case("huge-eval-chunk", GROUP, overrides_case(f"eval.chunk_size={HUGE}"), check_any,
             60),
    new_case("huge-num-negatives", GROUP, overrides_case(f"sampler.num_negatives={HUGE}"),
             check_any, 60),
    new_case("huge-epochs", GROUP, overrides_case(f"train.epochs={HUGE}"), check_any, 60,
             Signals(after_file="run/progress.jsonl", at=(3.0,))),
    new_case("huge-ks", GROUP, overrides_case(f"eval.ks=[10,{HUGE}]",
                                              f"eval.metric=recall@{HUGE}"), check_refused, 60),
    new_case("dim-zero", GROUP, overrides_case("mapper.dim=0"), check_refused, 60),
    new_case("seed-negative", GROUP, overrides_case("train.seed=-1"), check_any, 60),
    new_case("seed-2-pow-70", GROUP, overrides_case(f"train.seed={2**70}"), check_any, 60),
    new_case("data-seed-2-pow-70", GROUP, overrides_case(f"data.seed={2**70}"), check_any,
             60),
    new_case("yaml-alias-bomb", GROUP, bomb_case("top"), check_any, 60),
    new_case("yaml-alias-bomb-in-section", GROUP, bomb_case("train"), check_any, 60),
    new_case("yaml-deep-nesting", GROUP, setup_deep, check_any, 60),
    new_case("yaml-5mb", GROUP, setup_big_yaml, check_any, 120),
]
