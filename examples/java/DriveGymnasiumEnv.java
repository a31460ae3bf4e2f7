// Drive a Python Gymnasium env from Java: start the server, launch a local Python worker
// hosting HalfCheetah-v5 (MuJoCo) with 4 lanes, and step it as a VectorEnv.
//
//   java -cp target/dsogym.jar examples/java/DriveGymnasiumEnv.java [ENV_ID]
//
// (Java's single-file launcher compiles and runs this file; scripts/setup.sh builds the jar
// and the Python venv the worker runs in.)

import io.dsogym.env.Space;
import io.dsogym.env.Spaces;
import io.dsogym.env.Value;
import io.dsogym.env.VectorEnv;
import io.dsogym.launch.WorkerLauncher;
import io.dsogym.server.DsoGymServer;
import io.dsogym.server.ServerOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

public class DriveGymnasiumEnv {
  public static void main(String[] args) throws Exception {
    String envId = args.length > 0 ? args[0] : "HalfCheetah-v5";
    int lanes = 4;
    DsoGymServer server = DsoGymServer.tcp("127.0.0.1", 0, ServerOptions.defaults()).start();
    try (WorkerLauncher workers = new WorkerLauncher(WorkerLauncher.defaultPython())) {
      workers.start(server.address(), envId, lanes, null, "example");
      try (VectorEnv env = server.pool().awaitWorker(envId, Duration.ofSeconds(60))) {
        System.out.println(envId + ": observation " + env.spec().observationSpace()
            + ", action " + env.spec().actionSpace() + ", " + env.numEnvs() + " lanes");
        env.reset(new long[] {0});
        Space actionSpace = env.spec().actionSpace();
        SplittableRandom rng = new SplittableRandom(0);
        double[] returns = new double[lanes];
        for (int t = 0; t < 200; t++) {
          List<Value> actions = new ArrayList<>();
          for (int i = 0; i < lanes; i++) {
            actions.add(actionSpace.sample(rng));
          }
          VectorEnv.VectorStepResult r = env.step(Spaces.stack(actions));
          for (int i = 0; i < lanes; i++) {
            returns[i] += r.rewards()[i];
          }
        }
        System.out.println("returns after 200 random steps per lane: "
            + java.util.Arrays.toString(returns));
      }
    } finally {
      server.stop();
    }
  }
}
