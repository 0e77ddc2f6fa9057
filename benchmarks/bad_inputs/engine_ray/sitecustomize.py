"""Put on PYTHONPATH by ``benchmarks/bad_inputs --engine ray``: every raytrec command of the
run whose config leaves ``prepare.engine`` at ``auto`` prepares the files of a csv or parquet
dataset with Ray Data, whatever their size, so that the bad-input cases on such files run
through the ``ray`` engine rather than pandas (other datasets stay with pandas: only files
are read by Ray Data)."""

try:
    from raytrec.data.cluster.read import TabularDataset
    from raytrec.run import job
except ImportError:  # an interpreter without raytrec (a tool the case starts)
    pass
else:
    def _ray_for_files(dataset: object, on_cluster: bool) -> str:
        return "ray" if on_cluster and isinstance(dataset, TabularDataset) else "pandas"

    job.chosen_engine = _ray_for_files
