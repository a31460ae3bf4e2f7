// A TypeScript client of the dsogym server, written from the protos alone (proto/dsogym/v1):
// @grpc/proto-loader reads them at run time, so there is no generated code to keep in step.
// It holds what a client in any language needs: tensors as little-endian bytes, and a
// request/reply stream where every request gets exactly one reply carrying its id.

import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import * as path from "path";

const PROTO_ROOT = path.resolve(__dirname, "..", "..", "..", "proto");

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Message = any;

export function loadProtocol(): Message {
  const definition = protoLoader.loadSync(
    ["dsogym/v1/env.proto", "dsogym/v1/optimizer.proto"],
    { includeDirs: [PROTO_ROOT], keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true },
  );
  return (grpc.loadPackageDefinition(definition) as Message).dsogym.v1;
}

// -- tensors ---------------------------------------------------------------------------------

export interface Tensor { dtype: string; shape: number[]; data: Buffer }

export function float64Tensor(values: ArrayLike<number>, shape: number[]): Tensor {
  const data = Buffer.alloc(values.length * 8);
  for (let i = 0; i < values.length; i++) data.writeDoubleLE(values[i], i * 8);
  return { dtype: "FLOAT64", shape, data };
}

export function boolTensor(values: ArrayLike<boolean>): Tensor {
  return { dtype: "BOOL", shape: [values.length], data: Buffer.from(Array.from(values, (b) => (b ? 1 : 0))) };
}

export function int64Tensor(values: ArrayLike<number>): Tensor {
  const data = Buffer.alloc(values.length * 8);
  for (let i = 0; i < values.length; i++) data.writeBigInt64LE(BigInt(values[i]), i * 8);
  return { dtype: "INT64", shape: [values.length], data };
}

/** Any numeric or BOOL tensor as plain numbers (row-major). */
export function numbers(t: Tensor): number[] {
  const d = Buffer.from(t.data);
  const n = t.shape.reduce((a, b) => a * Number(b), 1);
  const read: Record<string, (i: number) => number> = {
    FLOAT32: (i) => d.readFloatLE(i * 4), FLOAT64: (i) => d.readDoubleLE(i * 8),
    INT32: (i) => d.readInt32LE(i * 4), INT64: (i) => Number(d.readBigInt64LE(i * 8)),
    BOOL: (i) => d[i], UINT8: (i) => d[i], INT8: (i) => d.readInt8(i),
  };
  if (!(t.dtype in read)) throw new Error(`tensor dtype: expected one of ${Object.keys(read)}, got ${t.dtype}`);
  return Array.from({ length: n }, (_, i) => read[t.dtype](i));
}

// -- one request/reply stream ------------------------------------------------------------------

/** Replies in order of requests; a reply is matched to its request by id (and rejected if not). */
export class Stream {
  private readonly call: grpc.ClientDuplexStream<Message, Message>;
  private readonly waiting: Array<(m: Message) => void> = [];
  private readonly early: Message[] = [];
  private failure: Error | null = null;
  private nextId = 1;

  constructor(call: grpc.ClientDuplexStream<Message, Message>) {
    this.call = call;
    call.on("data", (m: Message) => {
      const w = this.waiting.shift();
      if (w) w(m); else this.early.push(m);
    });
    const fail = (e: Error) => { this.failure = e; this.waiting.splice(0).forEach((w) => w({ _failed: e })); };
    call.on("error", fail);
    call.on("end", () => fail(new Error("the server ended the stream")));  // no reply will come
  }

  /** Sends `request` (one oneof field) and returns the id it was sent with. */
  send(request: Message): number {
    const id = this.nextId++;
    this.call.write({ id, ...request });
    return id;
  }

  /** The next message from the server; an in-band error is thrown with its message. */
  async next(): Promise<Message> {
    if (this.failure) throw this.failure;
    const m: Message = this.early.length > 0 ? this.early.shift() : await new Promise((r) => this.waiting.push(r));
    if (m._failed) throw m._failed;
    if (m.error) throw new Error(`server error ${m.error.code}: ${m.error.message}`);
    return m;
  }

  async request(request: Message, field: string): Promise<Message> {
    const id = this.send(request);
    const m = await this.next();
    if (Number(m.id) !== id || !m[field]) throw new Error(`reply to request ${id}: expected ${field}, got ${JSON.stringify(m).slice(0, 200)}`);
    return m[field];
  }

  close(): void { this.call.end(); }
}

// -- the env service: a Java-hosted vector env ---------------------------------------------------

export interface StepResult { observations: number[]; rewards: number[]; terminated: number[]; truncated: number[]; endedLanes: number[]; finalObservations: number[] }

export class EnvSession {
  private constructor(private readonly stream: Stream, readonly spec: Message, readonly numEnvs: number) {}

  static async open(proto: Message, address: string, envId: string, numEnvs: number): Promise<EnvSession> {
    const client = new proto.EnvService(address, grpc.credentials.createInsecure());
    const stream = new Stream(client.Session());
    await stream.request({ hello: { protocol_version: "PROTOCOL_VERSION_1", client_name: "dsogym-typescript" } }, "hello");
    const made = await stream.request({ make: { env_id: envId, num_envs: numEnvs, kwargs_json: "{}", autoreset_mode: "SAME_STEP" } }, "made");
    return new EnvSession(stream, made.spec, made.num_envs);
  }

  async reset(seed: number): Promise<number[]> {
    const r = await this.stream.request({ reset: { seeds: [seed] } }, "reset_result");
    return numbers(r.observations.tensor);
  }

  async step(actions: number[]): Promise<StepResult> {
    const r = await this.stream.request({ step: { actions: { tensor: int64Tensor(actions) }, omit_info: true } }, "step_result");
    return {
      observations: numbers(r.observations.tensor), rewards: numbers(r.rewards),
      terminated: numbers(r.terminated), truncated: numbers(r.truncated),
      endedLanes: r.ended_lanes.map(Number),
      finalObservations: r.ended_lanes.length > 0 ? numbers(r.final_observations.tensor) : [],
    };
  }

  async close(): Promise<void> {
    await this.stream.request({ close: { reason: "done" } }, "closed");
    this.stream.close();
  }
}

// -- the optimizer service: the Java optimizers for this client's own policy ---------------------

export interface Batch {
  numLanes: number; numParams: number; featureDim: number;
  costs: number[]; terminated: boolean[]; truncated: boolean[];
  logProbs: number[]; scores: number[]; features: number[]; nextFeatures: number[];
}

/** ln P and ∇θ ln P of every transition of the batch in flight, at a candidate θ. */
export type Evaluate = (theta: number[]) => { logProbs: number[]; scores: number[] };

export class OptimizerSession {
  private constructor(private readonly stream: Stream, readonly opened: Message) {}

  static async open(proto: Message, address: string, theta: number[], algorithm: string,
    featureDim: number, preset: string, options: Record<string, string> = {}): Promise<OptimizerSession> {
    const client = new proto.OptimizerService(address, grpc.credentials.createInsecure());
    const stream = new Stream(client.Optimize());
    const opened = await stream.request({
      open: {
        protocol_version: "PROTOCOL_VERSION_1", client_name: "dsogym-typescript",
        theta: float64Tensor(theta, [theta.length]), algorithm, options, preset, feature_dim: featureDim,
      },
    }, "opened");
    return new OptimizerSession(stream, opened);
  }

  /** Sends the batch, answers the server's evaluations of it, and returns θ_{k+1}. */
  async update(b: Batch, evaluate: Evaluate): Promise<{ theta: number[]; evaluations: number }> {
    const n = b.costs.length;
    const id = this.stream.send({
      batch: {
        num_lanes: b.numLanes, costs: float64Tensor(b.costs, [n]),
        terminated: boolTensor(b.terminated), truncated: boolTensor(b.truncated),
        log_probs: float64Tensor(b.logProbs, [n]), scores: float64Tensor(b.scores, [n, b.numParams]),
        features: float64Tensor(b.features, [n, b.featureDim]),
        next_features: float64Tensor(b.nextFeatures, [n, b.featureDim]),
      },
    });
    for (;;) {
      const m = await this.stream.next();
      if (Number(m.id) !== id) throw new Error(`reply: expected id ${id}, got ${m.id}`);
      if (m.update) return { theta: numbers(m.update.theta), evaluations: Number(m.update.evaluations) };
      if (!m.evaluate) throw new Error(`reply to batch ${id}: expected update or evaluate, got ${JSON.stringify(m).slice(0, 200)}`);
      const at = evaluate(numbers(m.evaluate.theta));
      this.stream.send({
        evaluation: {
          evaluation_id: m.evaluate.evaluation_id,
          log_probs: float64Tensor(at.logProbs, [n]), scores: float64Tensor(at.scores, [n, b.numParams]),
        },
      });
    }
  }

  close(): void { this.stream.close(); }
}
