// Steps a Java-native env through the env service and trains this program's own linear softmax
// policy with the Java optimizers through the optimizer service. Prints one JSON line.
//
//   node dist/main.js --address 127.0.0.1:50051 [--env CartPole-v1] [--algo natural]
//        [--lanes 8] [--steps-per-lane 64] [--iterations 20] [--seed 0]

import { Batch, EnvSession, OptimizerSession, loadProtocol } from "./dsogym";

function args(): Record<string, string> {
  const a: Record<string, string> = {
    env: "CartPole-v1", algo: "natural", lanes: "8", "steps-per-lane": "64", iterations: "20", seed: "0",
  };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith("--") || i + 1 >= argv.length) throw new Error(`arguments: expected --name value pairs, got ${argv[i]}`);
    a[argv[i].slice(2)] = argv[i + 1];
  }
  if (!a.address) throw new Error("--address HOST:PORT is required");
  return a;
}

/** A reproducible uniform generator (mulberry32), so a seed gives one run. */
function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** π(a|x) = softmax(W [x; 1]), θ = W row-major [actions × (obsDim + 1)]. */
class LinearSoftmax {
  constructor(readonly obsDim: number, readonly actions: number) {}
  get numParams(): number { return this.actions * (this.obsDim + 1); }

  probabilities(theta: number[], x: number[]): number[] {
    const d = this.obsDim + 1;
    const logits = Array.from({ length: this.actions }, (_, a) => {
      let z = theta[a * d + this.obsDim];
      for (let j = 0; j < this.obsDim; j++) z += theta[a * d + j] * x[j];
      return z;
    });
    const top = Math.max(...logits);
    const e = logits.map((z) => Math.exp(z - top));
    const sum = e.reduce((p, q) => p + q, 0);
    return e.map((v) => v / sum);
  }

  /** ln π(a|x) and its gradient in θ, (onehot(a) − π) ⊗ [x; 1], written at scores[offset..]. */
  logProbAndScore(theta: number[], x: number[], a: number, scores: number[], offset: number): number {
    const p = this.probabilities(theta, x);
    const d = this.obsDim + 1;
    for (let b = 0; b < this.actions; b++) {
      const g = (b === a ? 1 : 0) - p[b];
      for (let j = 0; j < this.obsDim; j++) scores[offset + b * d + j] = g * x[j];
      scores[offset + b * d + this.obsDim] = g;
    }
    return Math.log(p[a]);
  }
}

async function main(): Promise<void> {
  const a = args();
  const proto = loadProtocol();
  const lanes = Number(a.lanes);
  const K = Number(a["steps-per-lane"]);
  const random = uniform(Number(a.seed));

  const env = await EnvSession.open(proto, a.address, a.env, lanes);
  const obsDim = env.spec.observation_space.box.low.shape.map(Number).reduce((p: number, q: number) => p * q, 1);
  const actions = Number(env.spec.action_space.discrete.n);
  const policy = new LinearSoftmax(obsDim, actions);
  let theta = new Array(policy.numParams).fill(0);
  const optimizer = await OptimizerSession.open(proto, a.address, theta, a.algo, obsDim, a.env);

  let obs = await env.reset(Number(a.seed));
  const running = new Array(lanes).fill(0);
  const returnsPerIteration: number[][] = [];
  let evaluations = 0;
  for (let it = 0; it < Number(a.iterations); it++) {
    const n = K * lanes;
    const P = policy.numParams;
    const b: Batch = {
      numLanes: lanes, numParams: P, featureDim: obsDim, costs: [], terminated: [], truncated: [],
      logProbs: [], scores: new Array(n * P).fill(0), features: [], nextFeatures: [],
    };
    const taken: number[] = [];
    const finished: number[] = [];
    for (let k = 0; k < K; k++) {
      const acts: number[] = [];
      for (let lane = 0; lane < lanes; lane++) {
        const x = obs.slice(lane * obsDim, (lane + 1) * obsDim);
        const p = policy.probabilities(theta, x);
        let u = random();
        let act = 0;
        while (act < actions - 1 && u >= p[act]) u -= p[act++];
        acts.push(act);
        const i = k * lanes + lane;
        b.logProbs.push(policy.logProbAndScore(theta, x, act, b.scores, i * P));
        b.features.push(...x);
        taken.push(act);
      }
      const r = await env.step(acts);
      const next = r.observations.slice();
      r.endedLanes.forEach((lane, j) => {  // x' of an ended lane is its final observation
        for (let q = 0; q < obsDim; q++) next[lane * obsDim + q] = r.finalObservations[j * obsDim + q];
      });
      for (let lane = 0; lane < lanes; lane++) {
        b.costs.push(-r.rewards[lane]);
        b.terminated.push(r.terminated[lane] === 1);
        b.truncated.push(r.truncated[lane] === 1);
        b.nextFeatures.push(...next.slice(lane * obsDim, (lane + 1) * obsDim));
        running[lane] += r.rewards[lane];
        if (r.terminated[lane] || r.truncated[lane]) {
          finished.push(running[lane]);
          running[lane] = 0;
        }
      }
      obs = r.observations;
    }
    returnsPerIteration.push(finished);
    const evaluate = (at: number[]) => {
      const scores = new Array(n * P).fill(0);
      const logProbs = taken.map((act, i) => policy.logProbAndScore(at, b.features.slice(i * obsDim, (i + 1) * obsDim), act, scores, i * P));
      return { logProbs, scores };
    };
    const u = await optimizer.update(b, evaluate);
    theta = u.theta;
    evaluations += u.evaluations;
  }
  optimizer.close();
  await env.close();

  const mean = (xs: number[]) => (xs.length ? xs.reduce((p, q) => p + q, 0) / xs.length : NaN);
  const last = returnsPerIteration.slice(-3).flat();
  console.log(JSON.stringify({
    env_id: a.env, algo: a.algo, iterations: returnsPerIteration.length,
    env_steps: returnsPerIteration.length * K * lanes, evaluations,
    first_iteration_mean_return: mean(returnsPerIteration[0]), last_iterations_mean_return: mean(last),
    theta,
  }));
}

main().catch((e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
