package io.dsogym.remote;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.EnvSpec;
import java.time.Instant;
import java.util.List;

/**
 * A connected worker as the server sees it after the handshake.
 *
 * @param id the id the server gave the worker ("w-1", "w-2", ...)
 * @param name the worker's own name for logs (e.g. "host:pid")
 * @param spec the spec of one lane
 * @param numEnvs the number of lanes N
 * @param autoresetMode the mode the server told the worker to run
 * @param capabilities the feature names the worker declared
 */
public record WorkerInfo(String id, String name, EnvSpec spec, int numEnvs,
    AutoresetMode autoresetMode, List<String> capabilities, Instant connectedAt) {
  public WorkerInfo {
    capabilities = List.copyOf(capabilities);
  }

  /** "w-1 (host:pid, CartPole-v1 x 8)": how errors and logs name the worker. */
  public String describe() {
    return "worker " + id + " (" + name + ", " + spec.id() + " x " + numEnvs + ")";
  }
}
