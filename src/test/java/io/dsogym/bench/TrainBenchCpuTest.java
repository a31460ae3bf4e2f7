package io.dsogym.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The training bench's CPU accounting counts a child process after it has ended. */
class TrainBenchCpuTest {
  @Test
  void aChildThatBurnsCpuAndExitsIsCounted() throws Exception {
    double before = TrainBench.childCpuSeconds();
    // 0.3 s of the child's own CPU time, then it exits and the JVM reaps it
    Process child = new ProcessBuilder(List.of("python3", "-c",
        "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass"))
        .inheritIO().start();
    assertTrue(child.waitFor() == 0, "the child failed");
    // reaped asynchronously: onExit completes once the JVM's reaper has waited for it
    child.onExit().get();
    double spent = TrainBench.childCpuSeconds() - before;
    // at least its 0.3 s, less one 10 ms clock tick of /proc's resolution
    assertTrue(spent >= 0.29, "counted " + spent + " s");
  }
}
