"""examples/remote_optimizer.py with a PyTorch policy: a tanh MLP trained by the Java optimizers.

The training loop, the evaluation and the options are those of examples/remote_optimizer.py;
only the policy differs. theta is the MLP's parameters flattened in ``named_parameters`` order
(``parameters_to_vector``), and the per-transition scores d ln pi(a_i|z_i) / d theta come from
``torch.func``: ``vmap`` over ``grad`` of one transition's log-probability.

    python examples/remote_optimizer_torch.py --algo natural --seed 0 --out runs/remote-torch

Needs torch (``pip install torch``) besides the dsogym client.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from torch.func import functional_call, grad, vmap
from torch.nn.utils import parameters_to_vector, vector_to_parameters

sys.path.insert(0, str(Path(__file__).resolve().parent))
import remote_optimizer  # noqa: E402  (the shared training loop)


class TorchPolicy:
    """pi(a|z) = softmax(MLP(z)), an MLP of one tanh hidden layer."""

    def __init__(self, obs_dim: int, n_actions: int, seed: int = 0, hidden: int = 32):
        torch.manual_seed(seed)
        self.net = torch.nn.Sequential(torch.nn.Linear(obs_dim, hidden), torch.nn.Tanh(),
                                       torch.nn.Linear(hidden, n_actions)).double()
        with torch.no_grad():
            self.net[2].weight.mul_(0.01)  # a near-uniform initial policy
            self.net[2].bias.zero_()
        self.names = [name for name, _ in self.net.named_parameters()]
        self.num_params = sum(p.numel() for p in self.net.parameters())

    def initial_theta(self) -> np.ndarray:
        return parameters_to_vector(self.net.parameters()).detach().numpy().copy()

    def _params(self, theta: np.ndarray) -> dict[str, torch.Tensor]:
        vector_to_parameters(torch.from_numpy(np.asarray(theta, dtype=np.float64)), self.net.parameters())
        return {name: p.detach() for name, p in self.net.named_parameters()}

    @torch.no_grad()
    def _logits(self, theta: np.ndarray, z: np.ndarray) -> torch.Tensor:
        return functional_call(self.net, self._params(theta), (torch.from_numpy(np.asarray(z, dtype=np.float64)),))

    def sample(self, theta: np.ndarray, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        p = torch.softmax(self._logits(theta, z), dim=-1).numpy()
        return (rng.random((len(z), 1)) > np.cumsum(p, axis=1)).sum(axis=1).clip(0, p.shape[1] - 1)

    def mode(self, theta: np.ndarray, z: np.ndarray) -> np.ndarray:
        return self._logits(theta, z).argmax(dim=-1).numpy()

    def log_probs_and_scores(self, theta: np.ndarray, z: np.ndarray, actions: np.ndarray):
        params = self._params(theta)
        net = self.net

        def log_prob(p, zi, ai):
            logp_all = torch.log_softmax(functional_call(net, p, (zi.unsqueeze(0),))[0], dim=-1)
            return logp_all.gather(0, ai.unsqueeze(0))[0]  # indexing by a tensor is not vmap-able

        zs = torch.from_numpy(np.asarray(z, dtype=np.float64))
        acts = torch.from_numpy(np.asarray(actions, dtype=np.int64))
        per_sample = vmap(grad(log_prob), in_dims=(None, 0, 0))(params, zs, acts)
        scores = torch.cat([per_sample[name].reshape(len(zs), -1) for name in self.names], dim=1)
        with torch.no_grad():
            logp = torch.log_softmax(functional_call(net, params, (zs,)), dim=-1)[torch.arange(len(zs)), acts]
        return logp.numpy(), scores.numpy()


if __name__ == "__main__":
    remote_optimizer.main(make_policy=TorchPolicy)
