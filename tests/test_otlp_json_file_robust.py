"""The OTLP-JSON file exporter under hostile conditions, with the real SDK: private files, size-based rotation,
and a full disk, a read-only filesystem and `/dev/full` (one WARNING, never half a line).

The full and read-only filesystems are real tmpfs mounts (`mount -t tmpfs`, which needs root and mount rights: where
either is missing those tests skip, saying so); `/dev/full` needs neither. Permission bits do not stop root, so a
read-only folder is a read-only mount, not `chmod`."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_agent.export import TRACES_FILE, OtlpJsonFileSpanExporter

LOGGER = "otel_agent.export"


def _spans(count: int, size: int = 10) -> list[ReadableSpan]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("t")
    for index in range(count):
        with tracer.start_as_current_span(f"span-{index}", attributes={"pad": "x" * size}):
            pass
    return list(memory.get_finished_spans())


def _whole_lines(path: Path) -> list[dict[str, object]]:
    text = path.read_text()
    assert text == "" or text.endswith("\n"), "a torn last line"
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture
def mount_tmpfs(tmp_path: Path) -> Iterator[object]:
    mounted: list[Path] = []

    def mount(options: str) -> Path:
        if os.geteuid() != 0:
            pytest.skip("needs root to mount a tmpfs")
        point = tmp_path / f"mnt-{uuid.uuid4().hex[:6]}"
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], check=False)


def test_files_are_created_owner_only(tmp_path: Path) -> None:
    exporter = OtlpJsonFileSpanExporter(tmp_path)
    assert exporter.export(_spans(1)) is SpanExportResult.SUCCESS
    mode = stat.S_IMODE((tmp_path / TRACES_FILE).stat().st_mode)
    assert mode == 0o600, oct(mode)


def test_files_rotate_by_size_and_keep_the_configured_backups(tmp_path: Path) -> None:
    exporter = OtlpJsonFileSpanExporter(tmp_path, max_bytes=4000, backups=2)
    for span in _spans(40, size=300):
        assert exporter.export([span]) is SpanExportResult.SUCCESS
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["traces.1.otlp.jsonl", "traces.2.otlp.jsonl", "traces.otlp.jsonl"], files
    names = []
    for name in ("traces.2.otlp.jsonl", "traces.1.otlp.jsonl", "traces.otlp.jsonl"):
        path = tmp_path / name
        assert path.stat().st_size <= 4000
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        for line in _whole_lines(path):
            names.append(line["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["name"])  # type: ignore[index]
    assert names == [f"span-{i}" for i in range(40 - len(names), 40)]  # the newest kept, in order, none torn


def test_dev_full_warns_once_and_the_host_carries_on(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / TRACES_FILE).symlink_to("/dev/full")
    exporter = OtlpJsonFileSpanExporter(tmp_path)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        results = [exporter.export(_spans(1)) for _ in range(5)]
    assert results == [SpanExportResult.FAILURE] * 5
    warnings = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "No space left" in warnings[0].getMessage() and TRACES_FILE in warnings[0].getMessage()


def test_a_read_only_filesystem_warns_once(mount_tmpfs: object, caplog: pytest.LogCaptureFixture) -> None:
    folder = mount_tmpfs("ro,size=1m")  # type: ignore[operator]
    exporter = OtlpJsonFileSpanExporter(folder / "telemetry")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert exporter.export(_spans(1)) is SpanExportResult.FAILURE
        assert exporter.export(_spans(1)) is SpanExportResult.FAILURE
    warnings = [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "Read-only file system" in warnings[0], warnings


def test_a_full_disk_never_leaves_half_a_line(mount_tmpfs: object, caplog: pytest.LogCaptureFixture) -> None:
    folder = mount_tmpfs("size=64k")  # type: ignore[operator]
    exporter = OtlpJsonFileSpanExporter(folder, max_bytes=0)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        results = [exporter.export([span]) for span in _spans(30, size=3000)]
    assert SpanExportResult.SUCCESS in results and SpanExportResult.FAILURE in results  # it filled up midway
    lines = _whole_lines(folder / TRACES_FILE)  # every line that is there is whole
    assert len(lines) == results.count(SpanExportResult.SUCCESS)
    warnings = [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "No space left" in warnings[0], warnings
    # space again: writing resumes and says how much was dropped
    (folder / TRACES_FILE).unlink()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert exporter.export(_spans(1)) is SpanExportResult.SUCCESS
    assert any("again" in r.getMessage() and "dropped" in r.getMessage() for r in caplog.records)
