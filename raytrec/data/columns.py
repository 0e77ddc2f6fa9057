"""Rating and timestamp columns of a data file as numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from raytrec.errors import DataError


def numeric(col: pd.Series, path: Path) -> np.ndarray:
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(values) & col.notna().to_numpy()
    if bad.any():
        raise DataError(f"column '{col.name}' in {path} has a non-numeric value "
                        f"{col[bad].iloc[0]!r}; ratings must be numbers")
    return values


def seconds(col: pd.Series, path: Path) -> np.ndarray:
    """Numeric timestamps as they are; dates and datetimes as seconds since 1970."""
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        return col.to_numpy()
    try:
        stamps = _datetimes(col)
    except (ValueError, TypeError, OverflowError) as exc:
        cause = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"column '{col.name}' in {path} holds neither numbers nor dates "
                        f"({cause}); timestamps must be numbers or dates") from exc
    seconds = ((stamps - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy(
        dtype=np.float64, na_value=np.nan)
    return seconds if np.isnan(seconds).any() else seconds.astype(np.int64)


def _datetimes(col: pd.Series) -> pd.Series:
    try:
        return pd.to_datetime(col, utc=True)
    except (ValueError, TypeError):
        # One format inferred from the first value failed; parse each value on its own (slower).
        return pd.to_datetime(col, utc=True, format="mixed")
