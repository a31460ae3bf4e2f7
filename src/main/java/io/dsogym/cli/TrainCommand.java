package io.dsogym.cli;

import io.dsogym.launch.EnvSource;

import io.dsogym.env.VectorEnv;
import io.dsogym.train.Checkpoint;
import io.dsogym.train.LaneSource;
import io.dsogym.train.TrainConfig;
import io.dsogym.train.TrainPresets;
import io.dsogym.train.Trainer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code train}: a DSO optimizer (Algorithm 1, PCO, natural gradient, Chain Iteration) on an env from Java or from Python workers, with console
 * progress, DIR/metrics.csv, an atomic checkpoint every iteration, DIR/summary.json and
 * DIR/learning_curve.png. Per-env defaults come from {@link TrainPresets}; options override.
 */
final class TrainCommand implements Main.Command {
  static final List<String> OPTIONS = List.of("--env", "--source", "--algo", "--inference",
      "--collect-ahead",
      "--seed", "--max-steps", "--num-envs", "--steps-per-lane", "--hidden", "--value-hidden",
      "--activation", "--init-log-std", "--lr", "--value-lr", "--value-epochs",
      "--value-minibatch", "--gamma", "--lambda", "--discount-states", "--normalize-obs",
      "--normalize-advantages", "--max-grad-norm", "--anneal-lr", "--eval-every",
      "--eval-episodes", "--target-return", "--env-kwargs", "--setting", "--epochs", "--minibatches",
      "--clip", "--anneal-clip", "--target-kl", "--max-kl", "--cg-iters", "--cg-damping",
      "--ci-steps", "--entropy-coef", "--kl-coef", "--kl-reference", "--out", "--resume",
      "--workers", "--port",
      "--bind", "--auth-token", "--worker-cpus");

  @Override
  public String summary() {
    return "train --env ID [--source java|python (python)] [--algo gradient|pco|natural|"
        + "chain-iteration] [--seed S] "
        + "[--max-steps N] [--eval-episodes K] [--out DIR | --resume DIR] [--num-envs N] "
        + "[--steps-per-lane T] [--hidden 64,64] [--lr X] [--gamma G] [--lambda L] [--workers "
        + "local|remote --port P] [--worker-cpus LIST] ...: train a policy with a DSO optimizer (defaults per env and "
        + "every option: see README)";
  }

  @Override
  public int run(List<String> args, PrintStream out) throws Exception {
    Map<String, String> all = Main.parseOptions(args, OPTIONS, List.of());
    String workers = all.getOrDefault("--workers", "local");
    if (!workers.equals("local") && !workers.equals("remote")) {
      throw new Main.UsageException("--workers: expected local (start Python workers here) or "
          + "remote (wait for workers to connect), got '" + workers + "'");
    }
    int port = Main.intOption(all, "--port", 50051);
    String bind = all.getOrDefault("--bind", "127.0.0.1");
    String token = all.getOrDefault("--auth-token", System.getenv("DSOGYM_AUTH_TOKEN"));
    Map<String, String> opts = new java.util.LinkedHashMap<>(all);
    // the CPUs local workers are pinned to (their --cpus), e.g. the one the learner leaves free
    String workerCpus = all.get("--worker-cpus");
    opts.keySet().removeAll(List.of("--workers", "--port", "--bind", "--auth-token",
        "--worker-cpus"));
    Checkpoint.State resumed = null;
    TrainConfig config;
    Path dir;
    if (opts.containsKey("--resume")) {
      dir = Path.of(opts.get("--resume"));
      resumed = Checkpoint.read(dir);
      config = resumed.config;
      if (opts.containsKey("--max-steps")) {
        config = TrainPresets.withMaxSteps(config, TrainPresets.longOption(opts, "--max-steps"));
      }
    } else {
      String envId = opts.get("--env");
      if (envId == null) {
        throw new Main.UsageException("--env: expected an env id, got none");
      }
      try {
        config = TrainPresets.config(envId, opts);
      } catch (IllegalArgumentException e) {
        throw new Main.UsageException(e.getMessage());
      }
      dir = Path.of(opts.getOrDefault("--out", "runs/" + envId + "-seed" + config.seed()));
    }
    boolean remote = workers.equals("remote");
    TrainConfig run = config;
    if (remote && !config.source().equals("python")) {
      throw new Main.UsageException("--workers remote: expected --source python, got --source "
          + config.source());
    }
    if (workerCpus != null && (remote || !config.source().equals("python"))) {
      throw new Main.UsageException("--worker-cpus: expected local Python workers (--source "
          + "python --workers local), got --source " + config.source() + " --workers " + workers);
    }
    try (EnvSource src = remote
        ? EnvSource.openRemote(config.envId(), bind, port, token, Duration.ofHours(1))
        : EnvSource.open(config.source(), config.envId(), config.numEnvs(),
            config.envKwargsJson(), Duration.ofSeconds(120), workerCpus)) {
      LaneSource lanes = new LaneSource() {
        @Override
        public VectorEnv open(int numEnvs, String purpose) throws Exception {
          return src.openLanes(numEnvs, "local-" + purpose);
        }

        @Override
        public String replacementNote() {
          return src.remote() ? "waiting for a remote worker to connect"
              : run.source().equals("python") ? "starting a new local Python worker"
              : "reopening Java lanes";
        }
      };
      Trainer trainer = new Trainer(config, lanes, src.env, dir, resumed, out);
      Map<String, Object> summary = trainer.run();
      out.println("[train] summary " + dir.resolve("summary.json") + ":");
      List<String> lines = new ArrayList<>();
      summary.forEach((k, v) -> lines.add("  " + k + ": " + v));
      lines.forEach(out::println);
      out.println("[train] metrics: " + dir.resolve("metrics.csv") + "; learning curve: "
          + dir.resolve("learning_curve.png") + "; checkpoint: " + dir.resolve("checkpoint.json"));
    }
    return 0;
  }
}
