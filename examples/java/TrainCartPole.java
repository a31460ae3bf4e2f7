// Train a policy from Java with the typed config: Java-native CartPole-v1, the natural
// gradient, 30,000 env steps; writes metrics.csv, summary.json, the learning curve and a
// checkpoint to OUT_DIR (default runs/cartpole-java-natural).
//
//   java -cp target/dsogym.jar examples/java/TrainCartPole.java [OUT_DIR]
//
// With io.dsogym:dsogym as a Maven dependency (docs/library.md) the same code runs in your
// project. source("python") trains on Gymnasium's CartPole-v1 through a local Python worker.

import io.dsogym.launch.EnvSource;
import io.dsogym.train.TrainConfig;
import io.dsogym.train.Trainer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

public class TrainCartPole {
  public static void main(String[] args) throws Exception {
    Path out = Path.of(args.length > 0 ? args[0] : "runs/cartpole-java-natural");
    // the env's presets (docs/training.md), then what is set here
    TrainConfig config = TrainConfig.builder("CartPole-v1")
        .source("java")
        .algo("natural")
        .maxSteps(30_000)
        .seed(0)
        .build();
    try (EnvSource lanes = EnvSource.open(config.source(), config.envId(), config.numEnvs(),
        config.envKwargsJson(), Duration.ofSeconds(120))) {
      Trainer trainer = new Trainer(config, lanes, lanes.env, out, null, System.out);
      Map<String, Object> summary = trainer.run();
      Object reached = summary.get("steps_to_threshold");  // null: never reached
      System.out.println((reached == null ? "did not reach the threshold"
          : "reached the threshold after " + reached + " env steps") + "; final evaluation "
          + summary.get("eval_mean_return") + "; the run is in " + out);
    }
  }
}
