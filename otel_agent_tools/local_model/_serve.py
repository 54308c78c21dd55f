"""Subprocess entry point: run llama.cpp's HTTP server (PyPI `xllamacpp`) until SIGTERM.

Started by `LocalModelServer` as `python -m otel_agent_tools.local_model._serve ...`; not a public interface.
Once the server listens, it writes `{"base_url": ..., "pid": ...}` to `--ready-file` (atomically, via rename),
then waits for SIGTERM/SIGINT, or for its parent process to go away, and exits at once.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading


def _parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m otel_agent_tools.local_model._serve")
    ap.add_argument("--model", required=True, help="path of the .gguf file")
    ap.add_argument("--alias", default="smollm2")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0: a free port chosen by the OS")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-ctx", type=int, default=4096)
    ap.add_argument("--n-parallel", type=int, default=1)
    ap.add_argument("--chat-template-file", default="", help="jinja chat template; empty: the model's own")
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--parent-pid", type=int, default=0, help="exit when this process is gone")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    try:
        import xllamacpp
    except ImportError as exc:
        print(f"xllamacpp is not installed: pip install 'otel-agent[demo]' ({exc})", file=sys.stderr, flush=True)
        return 3

    p = xllamacpp.CommonParams()
    p.model.path = args.model
    p.model_alias = {args.alias}
    p.hostnames = [args.host]
    p.port = args.port
    p.n_ctx = args.n_ctx
    p.n_parallel = args.n_parallel
    p.cpuparams.n_threads = args.threads
    p.cpuparams_batch.n_threads = args.threads
    p.ui = False
    if args.chat_template_file:
        with open(args.chat_template_file, encoding="utf-8") as f:
            p.chat_template = f.read()
    server = xllamacpp.Server(p)
    base_url = server.listening_address.rstrip("/")

    tmp = args.ready_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"base_url": base_url, "pid": os.getpid()}, f)
    os.replace(tmp, args.ready_file)
    print(f"otel-agent local model server listening on {base_url}", file=sys.stderr, flush=True)

    parent = args.parent_pid
    while not stop.wait(0.5):
        if parent and os.getppid() != parent:  # parent died: we were re-parented
            break
    # Exit without running the server's destructors: the OS frees the model, threads and socket at once.
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
