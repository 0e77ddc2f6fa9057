"""Cases of the group "corrupt files": damaged checkpoints, models, configs and run dirs."""

from __future__ import annotations

from pathlib import Path

from bad_checks import check_run_dir, file_state
from bad_context import Case, Ctx, Plan, Setup, SetupError, write_config
from bad_runner import Result

# A directory that even root cannot create: sysfs refuses mkdir with EPERM.
READ_ONLY = Path("/sys/raytrec-bench")


def resume_case(empty: bool) -> Setup:
    def setup(ctx: Ctx) -> Plan:
        run = ctx.finished_run(epochs=3)
        checkpoints = sorted((run / "checkpoints").glob("checkpoint_*"))
        if not checkpoints or not (checkpoints[-1] / "state.pt").is_file():
            raise SetupError(f"no checkpoint with state.pt in {run / 'checkpoints'}")
        state = checkpoints[-1] / "state.pt"
        data = state.read_bytes()
        state.write_bytes(b"" if empty else data[: len(data) // 2])
        ctx.notes["state"] = state
        ctx.notes["metrics"] = (run / "metrics.json").read_bytes()
        return Plan(["train", "--resume", "run"])

    return setup


def check_resume(ctx: Ctx, result: Result) -> str:
    state: Path = ctx.notes.pop("state")
    size = state.stat().st_size if state.is_file() else None
    metrics = file_state(ctx.root / "run" / "metrics.json", ctx.notes.pop("metrics"),
                         "metrics.json")
    return f"{state.parent.name}/state.pt now {size} bytes; {metrics}"


def setup_broken_run_config(ctx: Ctx) -> Plan:
    run = ctx.finished_run()
    (run / "config.yaml").write_text("model: [unclosed\n")
    return Plan(["evaluate", "run"])


def setup_truncated_model(ctx: Ctx) -> Plan:
    run = ctx.finished_run()
    data = (run / "model.pt").read_bytes()
    (run / "model.pt").write_bytes(data[: len(data) // 2])
    ctx.notes["model"] = (run / "model.pt").read_bytes()
    return Plan(["evaluate", "run"])


def check_truncated_model(ctx: Ctx, result: Result) -> str:
    return file_state(ctx.root / "run" / "model.pt", ctx.notes.pop("model"),
                      "truncated model.pt")


def setup_non_utf8(ctx: Ctx) -> Plan:
    path = write_config(ctx.root / "c.yaml")
    path.write_bytes(b"# caf\xff\xfe config\n" + path.read_bytes())
    return Plan(["train", "c.yaml", "--run-dir", "run"])


AFILE = b"not a directory\n"


def setup_run_dir_file(run_dir: str) -> Setup:
    def setup(ctx: Ctx) -> Plan:
        (ctx.root / "afile").write_bytes(AFILE)
        return Plan(["train", ctx.config(), "--run-dir", run_dir])

    return setup


def check_afile(ctx: Ctx, result: Result) -> str:
    staging = sorted(p.name for p in ctx.root.glob("*.staging"))
    left = f"; staging left: {', '.join(staging)}" if staging else ""
    return file_state(ctx.root / "afile", AFILE, "afile") + left


def setup_read_only(ctx: Ctx) -> Plan:
    if READ_ONLY.exists():
        raise SetupError(f"{READ_ONLY} exists; pick another read-only location")
    try:
        READ_ONLY.mkdir()
    except OSError as exc:
        ctx.notes["errno"] = exc.strerror
    else:
        READ_ONLY.rmdir()
        raise SetupError(f"{READ_ONLY} is writable here; pick another read-only location")
    return Plan(["train", ctx.config(), "--run-dir", str(READ_ONLY / "run")])


def check_read_only(ctx: Ctx, result: Result) -> str:
    made = "created" if READ_ONLY.exists() else "not created"
    return f"mkdir {READ_ONLY} as root: {ctx.notes.pop('errno')}; {READ_ONLY} {made}"


def setup_run_dir_dot(ctx: Ctx) -> Plan:
    ctx.notes["config"] = (ctx.root / ctx.config()).read_bytes()
    return Plan(["train", "c.yaml", "--run-dir", "."])


def check_run_dir_dot(ctx: Ctx, result: Result) -> str:
    text = file_state(ctx.root / "c.yaml", ctx.notes.pop("config"), "c.yaml")
    made = [p.name for p in ctx.root.iterdir() if p.name not in ("c.yaml",)]
    return f"{text}; other entries: {', '.join(sorted(made)) or 'none'}"


CORRUPT_CASES: list[Case] = [
    Case("resume-truncated-state", "corrupt files", resume_case(empty=False), check_resume),
    Case("resume-empty-state", "corrupt files", resume_case(empty=True), check_resume),
    Case("broken-run-config", "corrupt files", setup_broken_run_config, check_run_dir),
    Case("truncated-model", "corrupt files", setup_truncated_model, check_truncated_model),
    Case("non-utf8-config", "corrupt files", setup_non_utf8, check_run_dir),
    Case("run-dir-under-file", "corrupt files", setup_run_dir_file("afile/sub"), check_afile),
    Case("run-dir-is-file", "corrupt files", setup_run_dir_file("afile"), check_afile),
    Case("run-dir-read-only", "corrupt files", setup_read_only, check_read_only),
    Case("run-dir-dot", "corrupt files", setup_run_dir_dot, check_run_dir_dot),
]
