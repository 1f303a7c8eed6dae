"""What the container tests share: why they cannot run here, and the images, built once.

The images are built the way a user builds them (`docker compose build`, BuildKit, the
Dockerfiles unchanged), with `compose.build-host.yml` layered on top for this kind of host: builds
on the host network, the host's CA bundle lent as a build secret. Public base images that cannot
be pulled are replaced by local stand-ins first (`docker/build-base-images.sh`).

Every test that needs Docker takes the `images` fixture, which skips with the reason when no
Docker engine or no Compose v2 answers, or when TITAN_SKIP_COMPOSE=1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD_OVERRIDE = Path(__file__).with_name("compose.build-host.yml")
# Compose service -> its directory under services/.
SERVICES = {
    "devnet": "devnet",
    "engine": "engine-rs",
    "ingest": "ingest",
    "ml": "ml",
    "scanner": "scanner",
}
TAG = os.environ.get("TITAN_TAG", "dev")
PREFIX = os.environ.get("TITAN_IMAGE_PREFIX", "titan")
BUILD_TIMEOUT = 3600
TIMINGS_FILE = ROOT / "run" / "compose-timings.json"


def run(argv: list[str], timeout: float = 60, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, **kw)


def compose_command() -> list[str] | None:
    """Compose v2 as the docker plugin or standalone (v1 lacks --wait)."""
    for argv in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(argv[0]) is None:
            continue
        done = run([*argv, "version", "--short"])
        if done.returncode == 0 and re.match(r"v?2\.", done.stdout.strip()):
            return argv
    return None


def why_not() -> str | None:
    if os.environ.get("TITAN_SKIP_COMPOSE", "") not in ("", "0"):
        return "TITAN_SKIP_COMPOSE is set"
    if shutil.which("docker") is None:
        return "no docker CLI on PATH"
    try:
        info = run(["docker", "info", "--format", "{{.ServerVersion}}"], timeout=15)
    except subprocess.TimeoutExpired:
        return "the Docker engine did not answer within 15 s"
    if info.returncode != 0:
        return f"no Docker engine answers ({info.stderr.strip()[:160]})"
    if compose_command() is None:
        return "no Docker Compose v2 (`docker compose` plugin or `docker-compose` v2)"
    return None


def _host_ca() -> Path:
    for candidate in (
        os.environ.get("TITAN_BUILD_CA"),
        os.environ.get("SSL_CERT_FILE"),
        "/etc/ssl/certs/ca-certificates.crt",
    ):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    pytest.fail("no CA bundle for the builds: set TITAN_BUILD_CA")


def image_name(service: str) -> str:
    return f"{PREFIX}/{service}:{TAG}"


def base_images() -> set[str]:
    """The public images the Dockerfiles build FROM (stage names left out)."""
    stages: set[str] = set()
    bases: set[str] = set()
    for service_dir in SERVICES.values():
        for line in (ROOT / "services" / service_dir / "Dockerfile").read_text().splitlines():
            match = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line.strip(), re.IGNORECASE)
            if match:
                if match.group(1) not in stages:
                    bases.add(match.group(1))
                if match.group(2):
                    stages.add(match.group(2))
    return bases


def missing(images: set[str]) -> set[str]:
    return {i for i in images if run(["docker", "image", "inspect", i]).returncode != 0}


class Timings:
    """Named durations, printed as they come (`pytest -s`) and kept in run/compose-timings.json."""

    def __init__(self) -> None:
        self.values: dict[str, float] = {}

    def record(self, name: str, started: float) -> None:
        self.values[name] = round(time.monotonic() - started, 1)
        print(f"compose test: {name} {self.values[name]} s", flush=True)

    def save(self) -> None:
        TIMINGS_FILE.parent.mkdir(exist_ok=True)
        TIMINGS_FILE.write_text(json.dumps(self.values, indent=2) + "\n")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # A test that takes `service` runs once per service.
    if "service" in metafunc.fixturenames:
        metafunc.parametrize("service", list(SERVICES))


@pytest.fixture(scope="session")
def host_ca() -> Path:
    """The CA bundle this host trusts, lent to the builds as the secret `build_ca`."""
    return _host_ca()


@pytest.fixture(scope="session")
def compose() -> list[str]:
    """The Compose v2 command line."""
    return compose_command() or []


@pytest.fixture(scope="session")
def timings() -> Iterator[Timings]:
    timings = Timings()
    yield timings
    if timings.values:
        timings.save()


@pytest.fixture(scope="session")
def images(timings: Timings) -> dict[str, str]:
    """Every service's image, built (BuildKit caches make a rebuild quick); service -> image."""
    reason = why_not()
    if reason is not None:
        print(f"tests/compose skipped: {reason}", flush=True)
        pytest.skip(reason)
    started = time.monotonic()
    absent = missing(base_images())
    if absent:
        print(f"compose test: base images absent, building local stand-ins: {sorted(absent)}")
        done = run(["bash", str(ROOT / "docker" / "build-base-images.sh")], timeout=BUILD_TIMEOUT)
        assert done.returncode == 0, f"build-base-images.sh failed:\n{done.stderr[-3000:]}"
        assert not missing(base_images()), f"still missing: {missing(base_images())}"
    timings.record("base images", started)
    env = {**os.environ, "COMPOSE_PROFILES": "devnet", "TITAN_BUILD_CA": str(_host_ca())}
    compose = [*(compose_command() or []), "-f", "docker-compose.yml", "-f", str(BUILD_OVERRIDE)]
    for service in SERVICES:
        started = time.monotonic()
        done = run([*compose, "build", service], timeout=BUILD_TIMEOUT, env=env, cwd=ROOT)
        assert done.returncode == 0, f"build {service} failed:\n{done.stderr[-4000:]}"
        timings.record(f"build {service}", started)
    return {service: image_name(service) for service in SERVICES}
