"""Path arguments (``--run-dir``, ``--resume``, ``--out``, ``RUN_DIR``) as the user meant
them, checked before anything is written."""

from __future__ import annotations

import os

from raytrec.errors import RaytrecError
from raytrec.run.uri import is_uri


def user_path(value: str | None, flag: str) -> str | None:
    """``value`` with a leading ``~`` expanded (a shell leaves ``--run-dir=~/x`` as it is) and
    symbolic links followed to the directory they name, so that a run is written there and the
    link is left alone; None when the option was not given. An empty value (an unset shell
    variable) and a link that leads nowhere are refused."""
    if value is None:
        return None
    if not value.strip():
        raise RaytrecError(f"{flag} is empty (an unset shell variable?); give a directory"
                           + (", or leave --run-dir out for runs/<config>-<time>"
                              if flag == "--run-dir" else ""))
    if is_uri(value):
        return value
    path = os.path.expanduser(value)
    if os.path.islink(path) and not os.path.exists(path):
        target = os.readlink(path)
        raise RaytrecError(f"{flag} {value} is a symbolic link to {target}, which does not "
                           "exist (or the links loop); create the directory it names, or give "
                           "another " + flag)
    real = os.path.realpath(path)
    return real if real != os.path.abspath(path) else path
