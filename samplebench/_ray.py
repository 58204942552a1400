"""The one Ray start-up: `ray_session()` returns the `ray` module, connected.

Connects with `ray.init()` to `$RAY_ADDRESS` when set, else starts a local cluster; an already
initialised Ray is used as it is. A missing `ray` package is a user error (the `ray` extra).
"""

from __future__ import annotations

import os

from .errors import SampleBenchError


def ray_session():
    """The `ray` module, initialised once per process (dashboard off, worker logs not forwarded)."""
    try:
        import ray
    except ImportError:
        raise SampleBenchError("--executor ray needs the `ray` package", hint="pip install 'ray[default]'") from None
    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS"), include_dashboard=False, log_to_driver=False)
    return ray
