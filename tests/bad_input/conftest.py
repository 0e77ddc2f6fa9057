"""Running the CLI in-process and checking that a refusal left nothing behind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from raytrec import plugins
from raytrec.cli.main import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys: pytest.CaptureFixture[str], tmp_path: Path, cfg: Path, *extra: str,
            command: str = "train") -> str:
    """Run ``command cfg`` into a fresh run dir; it must exit 2 with a one-line-per-problem
    message and create nothing."""
    run = tmp_path / "run-refused"
    before = set(tmp_path.iterdir())
    code, _, err = run_cli(capsys, command, cfg, "--run-dir", run, *extra)
    assert code == 2, err
    assert "Traceback" not in err and err.startswith("raytrec: ")
    assert set(tmp_path.iterdir()) == before, "a refused run left files behind"
    return err


@pytest.fixture
def extra_components() -> Iterator[Callable[[str, str, type], None]]:
    """Register more components in the process's registry, as an installed plugin would."""
    with ExitStack() as stack:

        def add(kind: str, name: str, cls: type) -> None:
            stack.enter_context(plugins.registered([(kind, name, cls)], "test-plugin"))

        yield add
