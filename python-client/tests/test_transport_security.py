"""The client's side of security: TLS credentials from PEM files, the auth token from the
environment, and a token-protected Java server (java -jar target/dsogym.jar serve
--auth-token-file FILE): ListEnvs needs the token, and a wrong token ends the session.
TLS itself against the real server is tested from Java (PythonTlsTest), where keytool makes the
certificates."""

import subprocess
import sys

import grpc
import pytest

import dsogym
from dsogym.testing import JavaServer, find_jar
from dsogym.transport import auth_token_from_env, channel_credentials

TOKEN = "pytest-token-of-26-chars!!"


def test_no_tls_files_means_plaintext_and_bad_files_are_named(tmp_path):
    assert channel_credentials() is None
    with pytest.raises(ValueError, match=r"^tls_ca: expected a readable PEM file, actual '.*nope.pem' "
                                         r"\(No such file or directory\)$"):
        channel_credentials(tls_ca=tmp_path / "nope.pem")
    pem = tmp_path / "x.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\n")
    with pytest.raises(ValueError, match=r"^tls_cert and tls_key: expected both \(mutual TLS\) or neither, "
                                         r"actual tls_cert only$"):
        channel_credentials(tls_ca=pem, tls_cert=pem)
    assert isinstance(channel_credentials(tls_ca=pem), grpc.ChannelCredentials)
    with pytest.raises(ValueError, match="tls_ca: expected a readable PEM file"):
        dsogym.RemoteVectorEnv("127.0.0.1:1", "CartPole-v1", tls_ca=tmp_path / "nope.pem")


def test_the_token_defaults_to_the_environment(monkeypatch):
    monkeypatch.setenv("DSOGYM_AUTH_TOKEN", TOKEN)
    assert auth_token_from_env(None) == TOKEN
    assert auth_token_from_env("given") == "given"
    monkeypatch.delenv("DSOGYM_AUTH_TOKEN")
    assert auth_token_from_env(None) == ""


def test_worker_cli_takes_one_token_source(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    out = subprocess.run([sys.executable, "-m", "dsogym.worker", "--server", "127.0.0.1:1", "--env",
                          "CartPole-v1", "--auth-token-file", str(token_file), "--auth-token", TOKEN],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "--auth-token-file and --auth-token: expected one of them, actual both" in out.stderr


@pytest.fixture(scope="module")
def token_server(tmp_path_factory):
    try:
        jar = find_jar()
    except FileNotFoundError as e:
        pytest.fail(str(e))
    token_file = tmp_path_factory.mktemp("token") / "token"
    token_file.write_text(TOKEN + "\n")
    with JavaServer(jar, extra_args=["--auth-token-file", str(token_file)]) as server:
        yield server


def test_list_envs_needs_the_token(token_server, monkeypatch):
    monkeypatch.delenv("DSOGYM_AUTH_TOKEN", raising=False)
    with pytest.raises(grpc.RpcError) as e:
        dsogym.list_envs(token_server.address, timeout=10)
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert e.value.details() == "list_envs.auth_token: expected the server's token, got none"
    assert "CartPole-v1" in {s.id for s in dsogym.list_envs(token_server.address, timeout=10, auth_token=TOKEN)}
    monkeypatch.setenv("DSOGYM_AUTH_TOKEN", TOKEN)
    assert "CartPole-v1" in {s.id for s in dsogym.list_envs(token_server.address, timeout=10)}


def test_a_wrong_token_ends_the_session_and_the_right_one_from_the_environment_works(token_server, monkeypatch):
    with pytest.raises(ConnectionError, match=r"UNAUTHENTICATED: hello.auth_token: expected the server's token, "
                                              r"got a different one$"):
        dsogym.RemoteEnv(token_server.address, "CartPole-v1", auth_token="a-wrong-token-of-twenty")
    monkeypatch.setenv("DSOGYM_AUTH_TOKEN", TOKEN)
    env = dsogym.RemoteEnv(token_server.address, "CartPole-v1")
    try:
        env.reset(seed=0)
        assert env.step(0)[1] == 1.0
    finally:
        env.close()
