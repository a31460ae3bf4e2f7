package io.dsogym.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.dsogym.wire.v1.AutoresetMode;
import io.dsogym.wire.v1.ClientHello;
import io.dsogym.wire.v1.ClientRequest;
import io.dsogym.wire.v1.ClientResponse;
import io.dsogym.wire.v1.DType;
import io.dsogym.wire.v1.MakeRequest;
import io.dsogym.wire.v1.ProtocolVersion;
import io.dsogym.wire.v1.ResetRequest;
import io.dsogym.wire.v1.ServerHello;
import io.dsogym.wire.v1.StepRequest;
import io.dsogym.wire.v1.StepResult;
import io.dsogym.wire.v1.Tensor;
import io.dsogym.wire.v1.Value;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Session resume over real TCP connections: a session whose connection breaks is kept for
 * --resume-grace, and a new connection whose hello carries its resume id continues it, with the
 * same lanes and episode; a retry of the last answered request gets the stored reply (the step
 * does not run twice). Kept sessions hold their place and lanes until the grace ends or the
 * server drains.
 */
class SessionResumeTest {
  private static final int LANES = 3;

  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  private DsoGymServer server;

  private void start(ServerOptions options) throws Exception {
    server = grpc.register(DsoGymServer.tcp(DsoGymServer.DEFAULT_BIND, 0, options).start());
  }

  /** One TCP connection with one session stream on it. */
  private final class Connection {
    final ManagedChannel channel = grpc.register(ManagedChannelBuilder
        .forTarget(server.address()).usePlaintext().build());
    final SessionClient client = new SessionClient(channel);

    ClientResponse send(long id, ClientRequest.Builder request) {
      Object r = client.sendAndNext(request.setId(id).build());
      ClientResponse reply = assertInstanceOf(ClientResponse.class, r);
      assertEquals(id, reply.getId());
      return reply;
    }

    /** Cuts the connection: the server sees the stream break, not end. */
    void cut() {
      channel.shutdownNow();
    }
  }

  private static ClientRequest.Builder hello(String resumeId) {
    return ClientRequest.newBuilder().setHello(ClientHello.newBuilder()
        .setProtocolVersion(ProtocolVersion.PROTOCOL_VERSION_1).setResumeId(resumeId));
  }

  private static ClientRequest.Builder make(int lanes) {
    return ClientRequest.newBuilder().setMake(MakeRequest.newBuilder().setEnvId("CartPole-v1")
        .setNumEnvs(lanes).setAutoresetMode(AutoresetMode.NEXT_STEP));
  }

  private static ClientRequest.Builder reset(long seed) {
    return ClientRequest.newBuilder().setReset(ResetRequest.newBuilder().addSeeds(seed));
  }

  /** The t-th step's actions: a fixed pattern, the same in every run. */
  private static ClientRequest.Builder step(int t) {
    ByteBuffer b = ByteBuffer.allocate(8 * LANES).order(ByteOrder.LITTLE_ENDIAN);
    for (int lane = 0; lane < LANES; lane++) {
      b.putLong((t * 7 + lane * 3) % 5 < 2 ? 0 : 1);
    }
    return ClientRequest.newBuilder().setStep(StepRequest.newBuilder().setActions(Value
        .newBuilder().setTensor(Tensor.newBuilder().setDtype(DType.INT64).addShape(LANES)
            .setData(ByteString.copyFrom(b.array())))));
  }

  /** A session with hello (id 1), make (2) and reset (3); returns its resume id. */
  private static String opened(Connection c, int lanes) {
    ServerHello h = c.send(1, hello("")).getHello();
    assertEquals(ClientResponse.ResponseCase.MADE, c.send(2, make(lanes)).getResponseCase());
    assertEquals(ClientResponse.ResponseCase.RESET_RESULT,
        c.send(3, reset(7)).getResponseCase());
    return h.getResumeId();
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "within 10 s: " + what);
      Thread.sleep(10);
    }
  }

  private static void assertError(ClientResponse r, Status.Code code, String... fragments) {
    assertEquals(ClientResponse.ResponseCase.ERROR, r.getResponseCase(), r.toString());
    assertEquals(code.value(), r.getError().getCode(), r.getError().getMessage());
    for (String f : fragments) {
      assertTrue(r.getError().getMessage().contains(f),
          "'" + r.getError().getMessage() + "' should contain '" + f + "'");
    }
  }

  @Test
  void aCutSessionResumesItsEpisodeAndARetryIsAnsweredFromTheLastReply() throws Exception {
    start(ServerOptions.defaults());
    Connection reference = new Connection();
    opened(reference, LANES);
    List<StepResult> expected = new ArrayList<>();
    for (int t = 0; t < 12; t++) {
      expected.add(reference.send(4 + t, step(t)).getStepResult());
    }

    Connection first = new Connection();
    String resumeId = opened(first, LANES);
    assertEquals(32, resumeId.length(), "128 random bits in hex: " + resumeId);
    StepResult lastSeen = null;
    for (int t = 0; t < 5; t++) {
      lastSeen = first.send(4 + t, step(t)).getStepResult();
      assertEquals(expected.get(t), lastSeen);
    }
    first.cut();
    await(() -> server.sessions().keptSessions() == 1, "the session is kept");
    assertEquals(2 * LANES, server.resources().lanes(), "the kept session holds its lanes");

    Connection second = new Connection();
    ServerHello h = second.send(0, hello(resumeId)).getHello();
    assertEquals(resumeId, h.getResumeId());
    assertEquals(ServerOptions.DEFAULT_RESUME_GRACE.toMillis(), h.getResumeGraceMs());
    // step 4 (id 8) again, as a client that lost its reply would: the stored reply, not a rerun
    assertEquals(lastSeen, second.send(8, step(4)).getStepResult());
    for (int t = 5; t < 12; t++) {
      assertEquals(expected.get(t), second.send(4 + t, step(t)).getStepResult(),
          "step " + t + " of the resumed episode");
    }
    assertEquals(0, server.sessions().keptSessions());
    assertEquals(2 * LANES, server.resources().lanes());
  }

  @Test
  void theFirstRequestAfterAResumeMustRetryOrFollowTheLastAnsweredId() throws Exception {
    start(ServerOptions.defaults());
    Connection first = new Connection();
    String resumeId = opened(first, LANES);
    first.cut();
    Connection second = new Connection();
    second.send(0, hello(resumeId));
    assertError(second.send(9, step(0)), Status.Code.FAILED_PRECONDITION,
        "request id: expected 3 (a retry of the last request answered) or 4 (the next one)",
        "got 9");
    assertError(second.send(2, step(0)), Status.Code.FAILED_PRECONDITION, "got 2");
    // the refusals changed nothing: the episode goes on from the reset
    Connection reference = new Connection();
    opened(reference, LANES);
    assertEquals(reference.send(4, step(0)).getStepResult(),
        second.send(4, step(0)).getStepResult());
  }

  @Test
  void anUnknownResumeIdIsRefusedAndAResumeIdOnlyComesInAStreamsFirstHello() throws Exception {
    start(ServerOptions.defaults());
    Connection c = new Connection();
    assertError(c.send(1, hello("00000000000000000000000000000000")), Status.Code.NOT_FOUND,
        "hello.resume_id: expected the id of a session this server keeps for resuming",
        "got an unknown one");
    assertError(c.send(2, make(1)), Status.Code.FAILED_PRECONDITION, "expected a hello first");
    String resumeId = opened(new Connection(), 1);
    Connection other = new Connection();
    opened(other, 1);
    assertError(other.send(4, hello(resumeId)), Status.Code.FAILED_PRECONDITION,
        "hello.resume_id: expected only in a stream's first hello");
  }

  @Test
  void aKeptSessionHoldsItsLanesUntilItsGraceEndsThenItCannotBeResumed() throws Exception {
    start(ServerOptions.defaults().withResumeGrace(Duration.ofSeconds(2))
        .withLimits(ServerLimits.defaults().withMaxTotalLanes(4)));
    Connection first = new Connection();
    String resumeId = opened(first, 4);
    first.cut();
    Connection other = new Connection();
    other.send(1, hello(""));
    assertError(other.send(2, make(4)), Status.Code.RESOURCE_EXHAUSTED, "--max-total-lanes");

    await(() -> server.resources().lanes() == 0, "the grace ends and the lanes are freed");
    assertEquals(0, server.sessions().keptSessions());
    assertEquals(ClientResponse.ResponseCase.MADE, other.send(3, make(4)).getResponseCase());
    assertError(new Connection().send(0, hello(resumeId)), Status.Code.NOT_FOUND,
        "hello.resume_id", "its grace is over");
  }

  @Test
  void aFullServerRefusesNewSessionsButLetsAKeptOneResume() throws Exception {
    start(ServerOptions.defaults().withLimits(ServerLimits.defaults().withMaxSessions(1)));
    Connection first = new Connection();
    String resumeId = opened(first, LANES);
    first.cut();
    await(() -> server.sessions().keptSessions() == 1, "the session is kept");

    Object refused = new Connection().client.sendAndNext(hello("").setId(1).build());
    StatusRuntimeException e = assertInstanceOf(StatusRuntimeException.class, refused);
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("at most 1 open sessions "
        + "(limit --max-sessions)"), e.toString());

    Connection second = new Connection();
    assertEquals(resumeId, second.send(0, hello(resumeId)).getHello().getResumeId());
    assertEquals(ClientResponse.ResponseCase.STEP_RESULT,
        second.send(4, step(0)).getResponseCase());
    assertEquals(1, server.resources().sessions());
  }

  @Test
  void aResumeTakesTheSessionFromAStreamThatHasNotEndedYet() throws Exception {
    start(ServerOptions.defaults());
    Connection first = new Connection();
    String resumeId = opened(first, LANES);
    Connection second = new Connection();  // the client gave up on `first`, the server did not
    second.send(0, hello(resumeId));
    assertEquals(ClientResponse.ResponseCase.STEP_RESULT,
        second.send(4, step(0)).getResponseCase());
    Object end = first.client.next();
    StatusRuntimeException e = assertInstanceOf(StatusRuntimeException.class, end);
    assertEquals(Status.Code.ABORTED, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("resumed on another stream"),
        e.toString());
    assertEquals(LANES, server.resources().lanes());
    assertEquals(1, server.resources().sessions());
  }

  @Test
  void aDrainClosesKeptSessionsAndFreesTheirLanes() throws Exception {
    start(ServerOptions.defaults());
    Connection first = new Connection();
    opened(first, LANES);
    first.cut();
    await(() -> server.sessions().keptSessions() == 1, "the session is kept");
    server.stop(Duration.ofSeconds(1));
    assertEquals(0, server.sessions().keptSessions());
    assertEquals(0, server.resources().lanes());
    assertEquals(0, server.resources().sessions());
  }

  @Test
  void withNoResumeGraceACutSessionClosesAtOnce() throws Exception {
    start(ServerOptions.defaults().withResumeGrace(Duration.ZERO));
    Connection first = new Connection();
    assertEquals("", opened(first, LANES));
    first.cut();
    await(() -> server.resources().lanes() == 0, "the lanes are freed");
    assertEquals(0, server.resources().sessions());
  }
}
