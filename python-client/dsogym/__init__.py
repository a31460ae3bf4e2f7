"""dsogym: the Python side of the dsogym bridge.

* ``python -m dsogym.worker --server HOST:PORT --env ID --num-envs N`` serves N lanes of a
  Gymnasium env to the Java server (see dsogym.worker).
* ``dsogym.RemoteEnv`` / ``dsogym.RemoteVectorEnv`` use an env hosted by the Java server as a
  ``gymnasium.Env`` / ``gymnasium.vector.VectorEnv``; importing dsogym registers
  ``gymnasium.make("dsogym/Remote-v0", address="127.0.0.1:PORT", env_id="CartPole-v1")``
  (and ``gymnasium.make_vec`` of the same id); ``dsogym.register_envs(address)`` registers
  ``dsogym/<EnvId>`` for every env the server lists, worker-hosted ones included.
* ``dsogym.codec``: numpy/Gymnasium <-> wire protocol conversions.
* ``dsogym.train(env_id, ...)`` starts a Java training run (``bin/dsogym train``) and watches
  it; ``dsogym.read_metrics(dir)`` reads its metrics.csv.
* ``dsogym.RemoteOptimizer``: the Java optimizers for a policy of your own (numpy, PyTorch):
  send batches of its transitions and scores, get theta_{k+1} (see dsogym.optimizer).
"""

from __future__ import annotations

import gymnasium as _gym

__version__ = "0.1.0"
__all__ = ["RemoteEnv", "RemoteVectorEnv", "RemoteError", "list_envs", "register_envs", "train",
           "read_metrics", "RemoteOptimizer", "__version__"]

REMOTE_ENV_ID = "dsogym/Remote-v0"

if REMOTE_ENV_ID not in _gym.registry:
    _gym.register(
        REMOTE_ENV_ID,
        entry_point="dsogym.remote:RemoteEnv",
        vector_entry_point="dsogym.remote:RemoteVectorEnv",
    )

# Gymnasium's Pendulum-v1 with Gaussian process noise on θ̇ (dsogym.wrappers): the data of
# `dsogym experiment sysid`
if "dsogym/NoisyPendulum-v1" not in _gym.registry:
    _gym.register("dsogym/NoisyPendulum-v1", entry_point="dsogym.wrappers:noisy_pendulum")


def __getattr__(name):  # lazy: `import dsogym` stays cheap and never dials anything
    if name in ("RemoteEnv", "RemoteVectorEnv", "RemoteError", "list_envs", "register_envs"):
        from dsogym import remote

        return getattr(remote, name)
    if name == "RemoteOptimizer":
        from dsogym import optimizer

        return optimizer.RemoteOptimizer
    if name in ("train", "read_metrics", "TrainingFailed"):
        from dsogym import training

        return getattr(training, name)
    raise AttributeError(f"module 'dsogym' has no attribute {name!r}")
