"""One build step on top of pyproject.toml: the wheel carries the stack's configs and the Grafana dashboards.

`otel-agent stack` reads collector/ (collector, Jaeger, Prometheus and Alertmanager configs, alert rules, build.sh)
and dashboards/ (JSON and provisioning files). In a checkout (editable install included) it reads them in place;
a built wheel carries a copy under otel_agent_tools/_data/, found by otel_agent_tools.stack.runner.collector_dir().
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
STACK_DATA = {
    "collector": [
        "config/*.yaml",
        "jaeger.yaml",
        "jaeger/*.yaml",
        "prometheus.yml",
        "alertmanager.yml",
        "rules/*.yaml",
        "rules/tests/*.yaml",
        "deploy/*.yaml",
        "deploy/*.yml",
        "deploy/helm/*.yaml",
        "build.sh",
        "builder-config.yaml",
        "README.md",
    ],
    "dashboards": ["json/*.json", "provisioning/*/*.yaml", "README.md"],
}


class BuildPyWithStackData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's own files
        target = Path(self.build_lib) / "otel_agent_tools" / "_data"
        for top, patterns in STACK_DATA.items():
            for pattern in patterns:
                for source in sorted((HERE / top).glob(pattern)):
                    if source.is_file():
                        destination = target / top / source.relative_to(HERE / top)
                        destination.parent.mkdir(parents=True, exist_ok=True)
                        self.copy_file(str(source), str(destination))


setup(cmdclass={"build_py": BuildPyWithStackData})
