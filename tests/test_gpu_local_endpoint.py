"""Which server addresses are this machine."""

from __future__ import annotations

import logging
import socket

import pytest

from otel_agent.gpu.local_endpoint import is_local_endpoint


@pytest.mark.parametrize(
    "address",
    [
        "localhost",
        "LOCALHOST",
        "localhost:8080",
        "llm.localhost",
        "127.0.0.1",
        "127.1.2.3:11434",
        "::1",
        "[::1]:8000",
        "http://localhost:8080/v1",
        "https://127.0.0.1",
        "0.0.0.0",
        "::ffff:127.0.0.1",
        "unix:///run/llama.sock",
        "/tmp/model.sock",
        socket.gethostname(),
    ],
)
def test_local(address: str) -> None:
    assert is_local_endpoint(address, environ={})


@pytest.mark.parametrize(
    "address",
    [
        None,
        "",
        "api.openai.com",
        "api.anthropic.com:443",
        "https://api.groq.com/openai/v1",
        "10.0.0.7",
        "192.168.1.20",
        "8.8.8.8",
        "[2001:db8::1]:80",
        "notlocalhost",
    ],
)
def test_not_local(address: str | None) -> None:
    assert not is_local_endpoint(address, environ={})


def test_extra_hosts_from_variable() -> None:
    env = {"OTEL_AGENT_GPU_LOCAL_HOSTS": "gpu-box.lan, 10.0.0.7 ,172.20.0.0/16"}
    assert is_local_endpoint("gpu-box.lan:8080", environ=env)
    assert is_local_endpoint("http://10.0.0.7:8000/v1", environ=env)
    assert is_local_endpoint("172.20.5.9", environ=env)
    assert not is_local_endpoint("10.0.0.8", environ=env)
    assert not is_local_endpoint("gpu-box2.lan", environ=env)


def test_private_ranges_only_when_asked() -> None:
    assert not is_local_endpoint("192.168.1.20", environ={})
    assert is_local_endpoint("192.168.1.20", extra_hosts="private")
    assert is_local_endpoint("fd00::5", extra_hosts="private")
    assert not is_local_endpoint("8.8.8.8", extra_hosts="private")


@pytest.mark.parametrize("bad", ["10.0.0.0/99", "::zz", "gpu box", "http://", "a..b", "-x-"])
def test_a_bad_local_host_entry_is_one_line_and_dropped(bad: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="otel_agent")
    text = f"gpu-box.lan,{bad}"
    assert is_local_endpoint("gpu-box.lan", extra_hosts=text)
    assert not is_local_endpoint("10.0.0.0", extra_hosts=text)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and repr(bad) in lines[0] and "OTEL_AGENT_GPU_LOCAL_HOSTS" in lines[0]
