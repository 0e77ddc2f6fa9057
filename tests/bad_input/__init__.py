"""Bad input, one test per case: every one gets one clear message (key or file, cause, fix),
exit code 2 (130 for Ctrl-C), no traceback, and nothing of the user's lost or half-written.

- ``test_data_loss``: ``--overwrite`` and ``--run-dir`` never touch what raytrec did not make.
- ``test_hangs``: resources checked before Ray starts, start-up time-outs, Ctrl-C.
- ``test_non_finite``: NaN/inf config values, training that diverges.
- ``test_corrupt_files``: damaged checkpoints, configs and models.
- ``test_silent_changes``: what preparing the data drops or merges is refused or reported.
- ``test_config``: config files, keys, values and plugin selection.
- ``test_one_writer``: a second writer of a run, tune or export directory is refused; a dead
  one's lock never blocks; readers work while a run trains.
- ``test_partial_files``: what a SIGKILL or a full disk leaves never blocks ``--resume``.
- ``test_signals``: SIGTERM stops a run as Ctrl-C does, in-process and on 2 Ray workers.
- ``test_sizes``: sizes past the data, memory or what FAISS and torch take.
- ``test_data_files``: data files that are not what they seem (pipes, compression, encodings,
  separators, headers, nested ids).
- ``test_messages``: messages whose fix exists (seeds, YAML bombs, a one-item catalogue).
- ``test_run_dir_paths``: ``--run-dir`` through links, with ``~``, empty; ``--resume`` of an
  edited config.
"""
