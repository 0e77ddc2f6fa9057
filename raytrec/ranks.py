"""Whether this process is one rank of several (a Ray Train worker group, or ranks started by
hand with ``torch.distributed``): what every collective step asks first."""

from __future__ import annotations

import torch.distributed as dist


def distributed() -> bool:
    """True when a process group of more than one rank is initialised."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1
