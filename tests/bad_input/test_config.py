"""Config files, keys, values and plugin selection: each refused with one clear message."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from raytrec.run.job import create_job
from tests.bad_input.conftest import refused, run_cli
from tests.conftest import write_config


def test_unknown_plugin_name(tmp_path: Path, capsys) -> None:
    err = refused(capsys, tmp_path, write_config(tmp_path / "c.yaml", loss={"name": "cmll"}))
    assert "loss.name: unknown loss 'cmll' — did you mean 'cml'?" in err


def test_misspelled_key_and_wrong_type_reported_together(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml", loss={"margn": 0.3}, train={"epochs": "x"})
    err = refused(capsys, tmp_path, cfg)
    assert "2 problems" in err and "did you mean 'margin'" in err and "train.epochs" in err


def test_missing_data_file(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml")
    err = refused(capsys, tmp_path, cfg, "--set", "data={name: csv, path: nowhere.csv}")
    assert "nowhere.csv" in err


def test_missing_id_column(tmp_path: Path, capsys) -> None:
    pd.DataFrame({"uid": [1, 2], "item_id": [3, 4]}).to_csv(tmp_path / "d.csv", index=False)
    cfg = write_config(tmp_path / "c.yaml")
    err = refused(capsys, tmp_path, cfg, "--set", f"data={{name: csv, path: {tmp_path}/d.csv}}")
    assert "user_id" in err and "d.csv" in err


def test_empty_dataset(tmp_path: Path, capsys) -> None:
    (tmp_path / "e.csv").write_text("user_id,item_id\n")
    cfg = write_config(tmp_path / "c.yaml")
    err = refused(capsys, tmp_path, cfg, "--set", f"data={{name: csv, path: {tmp_path}/e.csv}}")
    assert "e.csv" in err


def test_missing_config_file(tmp_path: Path, capsys) -> None:
    code, _, err = run_cli(capsys, "train", str(tmp_path / "none.yaml"))
    assert code == 2 and "none.yaml" in err and "does not exist" in err


def test_more_negatives_than_items_is_a_config_error(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml", sampler={"num_negatives": 5000})
    err = refused(capsys, tmp_path, cfg)
    assert "sampler.num_negatives: num_negatives=5000 is larger than the catalogue" in err


def test_empty_config_is_refused(tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("# nothing yet\n")
    err = refused(capsys, tmp_path, cfg)
    assert "the config is empty" in err and "data: {name:" in err


def test_duplicate_key_is_refused(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml")
    cfg.write_text(cfg.read_text() + "train: {epochs: 1}\n")
    err = refused(capsys, tmp_path, cfg)
    assert "key 'train' appears twice" in err and "line" in err


def test_exponent_without_dot_is_a_number(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 1})
    cfg.write_text(cfg.read_text().replace("lr: 0.1", "lr: 1e-3"))
    run = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", run, "--set", "loss.margin=5E-1")
    assert code == 0, err
    import yaml

    used = yaml.safe_load((run / "config.yaml").read_text())
    assert used["train"]["lr"] == 1e-3 and used["loss"]["margin"] == 0.5


def test_config_path_that_is_a_directory(tmp_path: Path, capsys) -> None:
    code, _, err = run_cli(capsys, "train", tmp_path)
    assert code == 2 and "is a directory" in err and "Traceback" not in err


def test_config_that_is_not_utf8(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml")
    cfg.write_bytes(b"# caf\xe9\n" + cfg.read_bytes())
    err = refused(capsys, tmp_path, cfg)
    assert "c.yaml" in err and "not UTF-8" in err


def test_search_entry_without_a_distribution(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "s.yaml")
    cfg.write_text(cfg.read_text() + "search: {loss.margin: [0.1, 1.5]}\n")
    err = refused(capsys, tmp_path, cfg, command="tune")
    assert "search.loss.margin: expected a distribution" in err
    assert "loss.margin: {choice: [0.1, 1.5]}" in err


def test_misspelt_distribution_is_named(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "s.yaml")
    cfg.write_text(cfg.read_text() + "search: {loss: {margin: {unifrom: [0.1, 1.5]}}}\n")
    err = refused(capsys, tmp_path, cfg, command="tune")
    assert "search.loss.margin: unknown distribution 'unifrom' — did you mean 'uniform'?" in err


def test_plugin_selection_naming_no_plugin(tmp_path: Path, capsys, monkeypatch) -> None:
    from raytrec import plugins

    cfg = write_config(tmp_path / "c.yaml")
    for var in ("RAYTREC_DISABLE_PLUGINS", "RAYTREC_LOAD_PLUGINS"):
        monkeypatch.setenv(var, "nosuch")
        plugins.reset_registry()
        err = refused(capsys, tmp_path, cfg)
        assert f"{var}=nosuch: no installed plugin is called 'nosuch'" in err
        assert "builtins" in err
        monkeypatch.delenv(var)
    plugins.reset_registry()


def test_relative_data_path_is_taken_from_the_config_folder(tmp_path: Path, capsys,
                                                             monkeypatch) -> None:
    folder = tmp_path / "cfg"
    folder.mkdir()
    rows = [(u, (u * 7 + k) % 40) for u in range(30) for k in range(8)]
    pd.DataFrame(rows, columns=["user_id", "item_id"]).to_csv(folder / "d.csv", index=False)
    cfg = write_config(folder / "c.yaml", data={"name": "csv", "path": "d.csv"},
                       train={"epochs": 1}, sampler={"num_negatives": 3})
    assert not (tmp_path / "d.csv").exists()
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "train", cfg.relative_to(tmp_path), "--run-dir", "run")
    assert code == 0, err
    import yaml

    used = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert used["data"]["path"] == str(folder / "d.csv")
    # A path given on the command line is taken from the current folder.
    err = refused(capsys, tmp_path, cfg, "--set", "data.path=d.csv")
    assert str(tmp_path / "d.csv") in err


def test_cutoff_larger_than_the_catalogue(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml", eval={"ks": [10, 500], "metric": "recall@10"})
    err = refused(capsys, tmp_path, cfg)
    assert "eval.ks: K=500 is not smaller than the catalogue (200 items)" in err


def test_cuda_device_without_a_gpu(tmp_path: Path, capsys) -> None:
    import torch

    if torch.cuda.is_available():
        import pytest

        pytest.skip("this machine has a GPU")
    err = refused(capsys, tmp_path, write_config(tmp_path / "c.yaml", train={"device": "cuda"}))
    assert "train.device: is 'cuda', but this machine has no CUDA device" in err
    cfg = write_config(tmp_path / "d.yaml", train={"device": "cuda"}, scaling={"num_workers": 2})
    assert "set scaling.use_gpu: true" in refused(capsys, tmp_path, cfg)


def test_hard_sampler_candidates_error_names_its_own_key(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml", sampler={"name": "hard", "num_candidates": 1000,
                                                     "num_negatives": 1})
    err = refused(capsys, tmp_path, cfg)
    assert "sampler.num_candidates: num_candidates=1000 is larger than the catalogue" in err
    assert "num_negatives" not in err


def test_tables_larger_than_memory(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml", mapper={"dim": 100_000_000})
    err = refused(capsys, tmp_path, cfg)
    assert "mapper.dim: the model needs about" in err and "free; lower mapper.dim" in err


def test_memory_counts_every_local_worker_and_says_when_sharding_fits(
        tmp_path: Path, capsys, monkeypatch) -> None:
    """300 users and 200 items of dim 16 are 32,000 bytes of ID tables: with Adagrad 96,000
    per replica, 192,000 for two; sharded by rows, each worker holds its half with its
    state, 32,000 (its rows drawn alone, never the whole tables)."""
    monkeypatch.setattr("raytrec.run.job.available_memory", lambda: 150_000)
    two = {"num_workers": 2, "cpus_per_worker": 0.5}
    cfg = write_config(tmp_path / "c.yaml", scaling=two, train={"sharding": "replicated"})
    err = refused(capsys, tmp_path, cfg)
    assert "mapper.dim: the model needs 2 workers, each about 0.0 GiB" in err
    assert "set train.sharding: rows (each worker then holds 1/2 of the ID tables" in err
    dense = write_config(tmp_path / "d.yaml", scaling=two, train={"sparse": False})
    assert "set train.sparse: auto, so that train.sharding: auto shards the ID tables by " \
        "rows" in refused(capsys, tmp_path, dense)
    for sharding in ("rows", "auto"):  # checked, prepared, not refused
        sharded = write_config(tmp_path / f"{sharding}.yaml", scaling=two,
                               train={"sharding": sharding})
        assert create_job(sharded, [], tmp_path / sharding,
                          overwrite=False).config.train.sharding == sharding


def test_evaluate_refuses_a_cutoff_larger_than_the_catalogue(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 1})
    run = tmp_path / "run"
    assert run_cli(capsys, "train", cfg, "--run-dir", run)[0] == 0
    code, _, err = run_cli(capsys, "evaluate", run, "--set", "eval.ks=[20,500]")
    assert code == 2 and "eval.ks: K=500 is not smaller than the catalogue" in err


def test_row_sparse_training_of_a_mapper_without_id_tables(tmp_path: Path, capsys) -> None:
    mapper = {"name": "two-tower", "id_dim": 0, "user_features": {"numeric": ["age"]},
              "item_features": {"multi_hot": ["genres"]}}
    cfg = write_config(tmp_path / "c.yaml", mapper=mapper, loss={"name": "infonce"},
                       sampler={"name": "in-batch"}, train={"sparse": True})
    err = refused(capsys, tmp_path, cfg)
    assert "train.sparse: is true, but mapper 'TwoTowerMapper' has no ID tables" in err
    assert "set train.sparse: auto or false" in err


def test_retriever_options_checked_against_the_data(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml", retriever={"name": "faiss-ivf", "nlist": 500})
    err = refused(capsys, tmp_path, cfg)
    assert "retriever.nlist: nlist=500 is larger than the catalogue (200 items)" in err
    assert "use nlist <= 200" in err
    cfg = write_config(tmp_path / "d.yaml", retriever={"name": "faiss-hnsw", "ef_search": 10})
    err = refused(capsys, tmp_path, cfg)
    assert "retriever.ef_search: ef_search=10 is smaller than the k searched (20" in err
    cfg = write_config(tmp_path / "e.yaml", retriever={"name": "faiss-ivf", "pq": 6})
    assert "retriever.pq: pq=6 does not divide the vector width (16)" in \
        refused(capsys, tmp_path, cfg)


def test_evaluate_checks_a_retriever_given_with_set(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 1})
    run = tmp_path / "run"
    assert run_cli(capsys, "train", cfg, "--run-dir", run)[0] == 0
    code, _, err = run_cli(capsys, "evaluate", run, "--set", "retriever.name=faiss-ivf",
                           "--set", "retriever.nprobe=64", "--set", "retriever.nlist=32")
    assert code == 2 and "retriever.nprobe: nprobe=64 is larger than nlist (32)" in err


def test_an_integer_too_long_to_read_names_its_line(tmp_path: Path, capsys) -> None:
    """Before: Python's "Exceeds the limit (4300 digits)" ValueError, as a traceback."""
    cfg = write_config(tmp_path / "c.yaml")
    cfg.write_text(cfg.read_text() + "x: " + "9" * 5000 + "\n")
    err = refused(capsys, tmp_path, cfg)
    assert "c.yaml" in err and "line 27: a number of 5000 digits" in err
    err = refused(capsys, tmp_path, write_config(tmp_path / "c.yaml"),
                  "--set", "train.seed=" + "9" * 5000)
    assert "--set train.seed=999" in err and "a number of 5000 digits" in err


def test_a_refused_set_value_is_named_not_taken_as_text(tmp_path: Path, capsys) -> None:
    """Before: a --set value with duplicate keys or an alias bomb became a string silently
    (data={name: csv, name: parquet} was 'expected a mapping with name, got '{...}'')."""
    err = refused(capsys, tmp_path, write_config(tmp_path / "c.yaml"),
                  "--set", "data={name: csv, name: parquet}")
    assert "--set data={name: csv, name: parquet}: key 'name' appears twice" in err
    levels = ["&a0 [x, x, x, x, x, x, x, x, x]"]
    levels += [f"&a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    err = refused(capsys, tmp_path, write_config(tmp_path / "c.yaml"),
                  "--set", f"search.x=[{', '.join(levels)}]")
    assert "--set search.x=" in err and "its aliases (*name) expand it to" in err


def test_merge_keys_are_read_and_bounded(tmp_path: Path, capsys) -> None:
    """Before: "could not determine a constructor for the tag merge" for every ``<<: *base``;
    merges nested nine deep must not expand to 9^9 keys either."""
    cfg = write_config(tmp_path / "c.yaml")
    text = cfg.read_text().replace("  batch_size: 512\n  epochs: 3\n", "")
    cfg.write_text(text.replace("train:\n", "train:\n  <<: {epochs: 1, batch_size: 256}\n"))
    run = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", run)
    assert code == 0, err
    import yaml

    used = yaml.safe_load((run / "config.yaml").read_text())["train"]
    assert used["epochs"] == 1 and used["batch_size"] == 256 and used["lr"] == 0.1
    bomb = ["m0: &m0 {k0: x, k1: x, k2: x, k3: x, k4: x, k5: x, k6: x, k7: x, k8: x}"]
    bomb += [f"m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * 9)}]}}" for i in range(1, 9)]
    cfg = write_config(tmp_path / "d.yaml")
    cfg.write_text(cfg.read_text() + "search:\n" + "".join(f"  {line}\n" for line in bomb))
    # PyYAML >= 6.0.2 merges each key once, older ones copy every entry: refused either way.
    assert "d.yaml" in refused(capsys, tmp_path, cfg)


def test_merges_that_would_copy_too_many_entries_are_refused(monkeypatch) -> None:
    import pytest

    from raytrec.config import yaml_io

    monkeypatch.setattr(yaml_io, "MAX_MERGED", 20)
    three = ", ".join(f"*b{i}" for i in range(3))
    text = "".join(f"b{i}: &b{i} {{{', '.join(f'k{i}{j}: 1' for j in range(9))}}}\n"
                   for i in range(3))
    assert len(yaml_io.load(text + "m: {<<: [*b0, *b1]}\n")["m"]) == 18
    with pytest.raises(yaml_io.RefusedYaml, match=r"its merge keys \(<<\) on line 4 copy 28 "
                       r"entries into one mapping, more than the 20"):
        yaml_io.load(text + f"m: {{<<: [{three}], z: 1}}\n")


def test_torch_threads_past_what_torch_takes(tmp_path: Path, capsys) -> None:
    """Before: "Overflow when unpacking long" as a traceback, after the run dir was made."""
    err = refused(capsys, tmp_path, write_config(tmp_path / "c.yaml",
                                                 train={"threads": 10**12}))
    assert "train.threads: must be from 1 to 1024" in err


def test_prepare_on_the_cluster_a_dataset_it_does_not_read(tmp_path: Path, capsys) -> None:
    """Refused before Ray starts: the synthetic dataset has no files to read in parallel."""
    cfg = write_config(tmp_path / "c.yaml", prepare={"engine": "ray"})
    err = refused(capsys, tmp_path, cfg)
    assert "prepare.engine: ray" in err and "synthetic" in err and "prepare.engine: pandas" in err


def test_an_unknown_preparation_engine(tmp_path: Path, capsys) -> None:
    err = refused(capsys, tmp_path, write_config(tmp_path / "c.yaml", prepare={"engine": "dask"}))
    assert "prepare.engine" in err and "dask" in err


def test_a_bad_file_is_refused_before_ray_starts(tmp_path: Path, capsys,
                                                 monkeypatch) -> None:
    """A header without rows under ``prepare.engine: ray``: the message pandas gives, from
    the driver's check of the file, without the half a minute Ray takes to start."""
    from raytrec.run import job

    def no_ray() -> None:
        raise AssertionError("Ray was started for a file the driver could refuse")

    monkeypatch.setattr(job, "ensure_ray", no_ray)
    (tmp_path / "d.csv").write_text("user_id,item_id\n")
    cfg = write_config(tmp_path / "c.yaml", prepare={"engine": "ray"},
                       data={"name": "csv", "path": str(tmp_path / "d.csv")})
    err = refused(capsys, tmp_path, cfg)
    assert "d.csv has no rows" in err
