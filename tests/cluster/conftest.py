"""A real Ray cluster (``ray start --head``) for the cluster tests, and a plugin distribution
that this process has but the cluster does not."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from raytrec.testing.cluster import Head, running, start_head

OFFSITE = "raytrec-offsite"


@pytest.fixture(scope="module")
def head() -> Iterator[Head]:
    """Per module: a second cluster left running on 2 cores slowed the Ray tests after it
    (a stopped Tune trial's workers came back only after 120 s)."""
    cluster = start_head()
    yield cluster
    cluster.stop()
    assert running(cluster.temp_dir) == [], "the test cluster left processes running"


@pytest.fixture(scope="session")
def offsite_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder to put on PYTHONPATH: the distribution raytrec-offsite (retriever
    ``offsite-exact``), installed there and nowhere else, so the cluster gets it only if
    ``raytrec submit`` ships it (packed again from its RECORD: it is no editable install)."""
    root = tmp_path_factory.mktemp("offsite")
    source = root / "src"
    (source / "raytrec_offsite").mkdir(parents=True)
    (source / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [build-system]
        requires = ["setuptools>=69"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{OFFSITE}"
        version = "0.2.0"

        [project.entry-points.raytrec]
        offsite = "raytrec_offsite"

        [tool.setuptools]
        packages = ["raytrec_offsite"]
        """))
    (source / "raytrec_offsite" / "__init__.py").write_text(textwrap.dedent("""\
        import os
        import time
        from pathlib import Path

        import raytrec
        from raytrec.retrievers.torch_exact import TorchExactRetriever


        class OffsiteExact(TorchExactRetriever):
            \"\"\"Exact search from a distribution the cluster lacks. With signal_dir, each
            search leaves a file named by its process id there, then waits pause_s: a test
            sees that a worker is evaluating, and which.\"\"\"

            def __init__(self, signal_dir: str | None = None, pause_s: float = 0.0) -> None:
                super().__init__()
                self.signal_dir, self.pause_s = signal_dir, pause_s

            def search(self, queries, k):
                if self.signal_dir:
                    name = f"search-{os.getpid()}-{time.time():.3f}"
                    Path(self.signal_dir, name).touch()
                    time.sleep(self.pause_s)
                return super().search(queries, k)


        @raytrec.hookimpl
        def register_retrievers(register):
            register("offsite-exact", OffsiteExact)
        """))
    site = root / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--disable-pip-version-check", "--target",
                    str(site), str(source)], check=True, timeout=300)
    return site
