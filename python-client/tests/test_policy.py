"""dsogym.policy, the numpy mirror of the Java policies: the same function of the same theta
(checked on vectors written by the Java side), and a sampler whose draws follow the policy's
distribution.

The Java vectors come from ``io.dsogym.policy.PolicyVectors`` run with target/dsogym.jar and
target/test-classes (both built by ``bash scripts/setup.sh`` or ``mvn test``); those tests are
skipped, saying so, when the build is missing."""

import base64
import json
import shutil
import subprocess

import gymnasium as gym
import numpy as np
import pytest

from dsogym.collect import policy_from_proto
from dsogym.proto import pb
from dsogym.policy import CATEGORICAL, GAUSSIAN, MlpPolicy, Normalizer, num_params
from dsogym.testing import find_jar


@pytest.fixture(scope="module")
def java_vectors(tmp_path_factory):
    try:
        jar = find_jar()
    except FileNotFoundError as e:
        pytest.skip(str(e))
    classes = jar.parent / "test-classes"
    if not (classes / "io" / "dsogym" / "policy" / "PolicyVectors.class").is_file():
        pytest.skip(f"{classes} has no io/dsogym/policy/PolicyVectors.class: run `mvn test-compile`")
    java = shutil.which("java")
    if java is None:
        pytest.skip("java is not on PATH")
    out = tmp_path_factory.mktemp("vectors") / "policy-vectors.json"
    subprocess.run([java, "-cp", f"{jar}:{classes}", "io.dsogym.policy.PolicyVectors", str(out)],
                   check=True, timeout=120)
    doc = json.loads(out.read_text())
    assert doc["cases"], doc
    return doc["cases"]


def policy_of(case):
    nm = case["normalizer"]
    normalizer = Normalizer(nm["mean"], nm["var"], nm["clip"]) if nm["enabled"] else None
    return MlpPolicy(case["head"], case["obs_dim"], case["hidden"], case["activation"], case["outputs"],
                     case["theta"], normalizer)


def test_java_vectors_cover_both_heads_activations_and_clipping(java_vectors):
    names = {c["name"] for c in java_vectors}
    heads = {c["head"] for c in java_vectors}
    activations = {c["activation"] for c in java_vectors if c["hidden"]}
    assert heads == {CATEGORICAL, GAUSSIAN} and activations == {"tanh", "relu"}, names
    clipped = [c for c in java_vectors if c["normalizer"]["enabled"]
               and np.any(np.abs(np.array(c["z"])) >= c["normalizer"]["clip"])]
    assert clipped, "no case exercises the normalizer's clip"


def test_normalizer_matches_java(java_vectors):
    for case in java_vectors:
        p = policy_of(case)
        np.testing.assert_allclose(p.normalize(np.array(case["x"])), case["z"], rtol=0, atol=1e-12,
                                   err_msg=case["name"])


def test_logits_and_means_match_java(java_vectors):
    for case in java_vectors:
        p = policy_of(case)
        got = p.distribution_params(np.array(case["z"]))
        np.testing.assert_allclose(got, case["params"], rtol=0, atol=1e-6, err_msg=case["name"])
        # far tighter in practice: the same arithmetic in the same order
        np.testing.assert_allclose(got, case["params"], rtol=1e-10, atol=1e-10, err_msg=case["name"])


def test_log_prob_matches_java(java_vectors):
    for case in java_vectors:
        p = policy_of(case)
        got = p.log_prob(np.array(case["z"]), np.array(case["actions"]))
        np.testing.assert_allclose(got, case["log_prob"], rtol=1e-9, atol=1e-9, err_msg=case["name"])


def test_sampler_arithmetic_matches_java(java_vectors):
    """The sampler folds the normalizer's shift and the output bias into other terms; from raw
    observations it must still give Java's logits/means."""
    for case in java_vectors:
        p = policy_of(case)
        x = np.array(case["x"])
        s = p.sampler(len(x))
        want = np.array(case["params"])[:, :p.outputs]
        np.testing.assert_allclose(s.logits(x), want, rtol=1e-9, atol=1e-9, err_msg=case["name"])


def test_policy_params_from_java_decode_to_the_same_function(java_vectors):
    """PolicyCodec (Java) -> PolicyParams bytes -> policy_from_proto (the worker)."""
    for case in java_vectors:
        msg = pb.PolicyParams.FromString(base64.b64decode(case["policy_params_base64"]))
        obs_space = gym.spaces.Box(-np.inf, np.inf, (case["obs_dim"],), np.float64)
        act_space = (gym.spaces.Discrete(case["outputs"]) if case["head"] == CATEGORICAL
                     else gym.spaces.Box(-1, 1, (case["outputs"],), np.float32))
        p = policy_from_proto(msg, obs_space, act_space)
        assert p.version == 7 and (p.normalizer is not None) == case["normalizer"]["enabled"]
        np.testing.assert_array_equal(p.theta, case["theta"])
        got = p.distribution_params(p.normalize(np.array(case["x"])))
        np.testing.assert_allclose(got, case["params"], rtol=1e-10, atol=1e-10, err_msg=case["name"])


# ---- the function and the sampler on their own -------------------------------------------


def random_policy(head, obs_dim=3, hidden=(5,), activation="tanh", outputs=2, normalizer=None, seed=0):
    theta = np.random.default_rng(seed).normal(size=num_params(head, obs_dim, hidden, outputs))
    return MlpPolicy(head, obs_dim, hidden, activation, outputs, theta, normalizer)


def test_theta_layout_is_row_major_weights_then_biases_then_log_std():
    # obs 2 -> 3 outputs, linear Gaussian: W [3x2] row-major, b [3], log_std [3]
    theta = np.arange(12, dtype=float)
    p = MlpPolicy(GAUSSIAN, 2, [], None, 3, theta)
    z = np.array([[1.0, 10.0]])
    w = theta[:6].reshape(3, 2)
    np.testing.assert_array_equal(p.forward(z), z @ w.T + theta[6:9])
    np.testing.assert_array_equal(p.log_std, theta[9:])


@pytest.mark.parametrize("bad, message", [
    (dict(head="beta"), "policy.head: expected categorical or gaussian, actual 'beta'"),
    (dict(theta=np.zeros(4)), "policy.theta: expected 26 values"),
    (dict(theta=np.full(26, np.nan)), "policy.theta: expected finite values, actual nan at index 0"),
    (dict(hidden=[0]), "policy sizes: expected positive sizes"),
    (dict(activation="sigmoid"), "policy.activation: expected tanh or relu"),
])
def test_invalid_policies_are_rejected_naming_the_field(bad, message):
    args = dict(head=CATEGORICAL, obs_dim=3, hidden=[4], activation="tanh", outputs=2,
                theta=np.zeros(num_params(CATEGORICAL, 3, [4], 2)))
    args.update(bad)
    with pytest.raises(ValueError, match=None) as e:
        MlpPolicy(**args)
    assert message in str(e.value)


def test_invalid_normalizer_statistics_are_rejected():
    with pytest.raises(ValueError, match="normalizer.var: expected finite values >= 0"):
        Normalizer([0, 0], [1, -1], 5.0)
    with pytest.raises(ValueError, match="normalizer.clip: expected > 0, actual 0"):
        Normalizer([0, 0], [1, 1], 0)
    with pytest.raises(ValueError, match="normalizer.var: expected 2 values like mean, actual 3"):
        Normalizer([0, 0], [1, 1, 1], 5.0)


def test_categorical_sampler_follows_softmax_and_adds_start():
    p = random_policy(CATEGORICAL, outputs=3, normalizer=Normalizer([0.5, 0, 0], [4, 1, 1], 3.0))
    n, k = 4, 5000
    x = np.random.default_rng(1).normal(size=(n, 3))
    s = p.sampler(n, start=-1)
    s.draw(np.random.default_rng(2), k)
    env_actions = np.array([s.act(x, i).copy() for i in range(k)])
    np.testing.assert_array_equal(env_actions, s.indices - 1)
    logits = p.forward(p.normalize(x))
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    for lane in range(n):
        freq = np.bincount(s.indices[:, lane], minlength=3) / k
        # 5 standard errors of a frequency
        np.testing.assert_allclose(freq, probs[lane], atol=5 * np.sqrt(0.25 / k))


def test_gaussian_sampler_records_the_unclipped_sample_and_clips_for_the_env():
    p = random_policy(GAUSSIAN, outputs=2, hidden=(), normalizer=None)
    n, k = 3, 4000
    x = np.random.default_rng(1).normal(size=(n, 3))
    s = p.sampler(n, action_low=np.array([-0.5, -np.inf]), action_high=np.array([0.5, np.inf]),
                  action_dtype=np.float32)
    s.draw(np.random.default_rng(3), k)
    env_actions = np.array([s.act(x, i).copy() for i in range(k)])
    assert env_actions.dtype == np.float32
    recorded = s.samples
    assert recorded.min() < -0.5 and recorded.max() > 0.5  # not clipped
    np.testing.assert_allclose(env_actions, np.clip(recorded, [-0.5, -np.inf], [0.5, np.inf]), rtol=1e-6)
    mean = p.forward(x)
    std = np.exp(p.log_std)
    np.testing.assert_allclose(recorded.mean(axis=0), mean, atol=5 * std.max() / np.sqrt(k))
    np.testing.assert_allclose(recorded.std(axis=0), np.broadcast_to(std, mean.shape), rtol=0.05)


def test_same_generator_seed_same_actions():
    p = random_policy(CATEGORICAL, outputs=2)
    x = np.random.default_rng(1).normal(size=(8, 3))
    runs = []
    for _ in range(2):
        s = p.sampler(8)
        s.draw(np.random.default_rng(42), 50)
        runs.append(np.array([s.act(x, i).copy() for i in range(50)]))
    np.testing.assert_array_equal(runs[0], runs[1])
