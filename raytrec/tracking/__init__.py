"""Experiment tracking: a run's parameters and metrics in MLflow or TensorBoard besides its
run directory (the ``tracking`` section, ``config.sections.TrackingSection``).

- ``tracker``: what a backend does (``Tracker``) and how one is opened; one that is down or
  refuses is one warning and no tracking (``open_tracker``). A backend missing its package
  is a config problem naming the extra (``config.validate``).
- ``mlflow_tracker``, ``tensorboard_tracker``: the two backends, on MLflow's client and on
  tensorboardX's ``SummaryWriter``.
- ``names``: what is logged under which name: the config flattened to ``section.key``
  parameters, metric names each backend accepts, the plugin distributions.
- ``train_run``: a ``raytrec train`` run tracked from its driver: the config, each epoch as
  the run's progress file records it (rank 0's), the test metrics beside the baselines, and
  the run's tracked id in its directory, so that ``--resume`` continues it.
- ``environment``: the variables a submitted job gets for its backend.

A search's trials are tracked from Tune's driver by ``raytrec.tune.tracking``, on the same
``Tracker``.
"""
