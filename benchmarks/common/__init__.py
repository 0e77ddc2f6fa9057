"""What the benchmark scripts share, imported by name (``from common.runs import train``):
each script runs as ``python benchmarks/<name>.py``, which puts ``benchmarks/`` on the path.

- ``runs``: training an example config into a run directory and reading what it reported.
- ``steps``: synthetic positives, the resolved configs, and one training step as the loop
  runs it.
- ``timing``: interleaved timed rounds of steps, and ``implicit``'s BPR as a yardstick.
- ``cpu_share``: where the machine's CPU went while something ran.
"""
