"""MuJoCo's warnings through Python logging, each distinct text once.

MuJoCo prints its C-level warnings to stderr (and appends them to MUJOCO_LOG.TXT in the
working directory) once per model compiled, so a worker of 64 HalfCheetah-v5 lanes prints
the same deprecation warning 64 times. :func:`log_once` routes them to the ``dsogym.mujoco``
logger instead and drops exact repeats. Runtime warnings (an unstable simulation) carry the
simulation time in their text, so each of those is still logged.
"""

from __future__ import annotations

import logging

log = logging.getLogger("dsogym.mujoco")

_seen: set[str] = set()


def _warn(text: str) -> None:
    if text not in _seen:
        _seen.add(text)
        log.warning("MuJoCo: %s (repeats are not logged)", text)


def is_mujoco_env(env_id: str) -> bool:
    """Whether ``env_id`` is registered with a Gymnasium MuJoCo entry point (False for an
    unknown id or a ``module:Env`` one that is not imported yet)."""
    import gymnasium as gym

    try:
        entry = gym.spec(env_id).entry_point
    except Exception:  # unknown ids, namespaces not imported: not ours to judge
        return False
    return "mujoco" in (entry if isinstance(entry, str) else getattr(entry, "__module__", ""))


def log_once(env_id: str) -> bool:
    """Installs the once-per-text handler for a Gymnasium MuJoCo env (process-wide, as
    MuJoCo's handler is); does nothing, importing nothing, for other envs. Returns whether
    it installed it."""
    if not is_mujoco_env(env_id):
        return False
    try:
        import mujoco
    except ImportError:
        return False
    mujoco.set_mju_user_warning(_warn)
    return True
