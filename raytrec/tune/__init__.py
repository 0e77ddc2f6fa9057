"""Hyperparameter search: ``raytrec tune`` over any config key, on Ray Tune."""
