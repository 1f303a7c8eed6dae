"""The built images hold nothing they must not: each one audited by docker/image_audit.py.

Non-root user, a HEALTHCHECK, no proxy or CA variable in the environment, and no .env, private
key, token, copy of the build's CA bundle or certificate of the host's own CAs (those it trusts
beyond the base image's store: a TLS-inspecting proxy's) in any layer or in the history.
"""

from __future__ import annotations

import importlib.util
import io
import subprocess
import sys
import tarfile
from pathlib import Path
from types import ModuleType
from typing import Any

import certifi
import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE = "debian:bookworm-20250520-slim"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(5400)]


def _load_audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("image_audit", ROOT / "docker" / "image_audit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


audit = _load_audit()


@pytest.fixture(scope="module")
def forbidden(images: dict[str, str], host_ca: Path) -> Any:
    argv = ["docker", "run", "--rm", "--network", "none", BASE]
    argv += ["cat", "/etc/ssl/certs/ca-certificates.crt"]
    base_bundle = subprocess.run(argv, capture_output=True, timeout=60, check=False)
    assert base_bundle.returncode == 0, base_bundle.stderr
    forbidden = audit.forbidden_from([], [host_ca])
    forbidden.certs = audit.certificates(host_ca.read_bytes()) - audit.certificates(
        base_bundle.stdout
    )
    print(f"image audit: {len(forbidden.certs)} certificate(s) of the host's own CAs forbidden")
    return forbidden


def test_image_holds_nothing_it_must_not(
    images: dict[str, str], forbidden: Any, service: str
) -> None:
    findings = audit.audit(images[service], forbidden)
    assert findings == [], "\n".join(findings)


def _layer(files: dict[str, bytes]) -> io.BytesIO:
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    layer.seek(0)
    return layer


def test_the_audit_reports_a_leaked_ca_a_key_and_an_env_file() -> None:
    # The audit itself, without Docker, on a layer made here: it must be able to fail.
    bundle = Path(certifi.where()).read_bytes()
    one_cert = bundle[bundle.index(b"-----BEGIN CERTIFICATE-----") :]
    one_cert = one_cert[: one_cert.index(b"-----END CERTIFICATE-----") + 25]
    forbidden = audit.Forbidden(certs=audit.certificates(one_cert))
    assert len(forbidden.certs) == 1
    key = b"-----BEGIN PRIVATE KEY-----\n" + b"QUFB" * 16 + b"\n-----END PRIVATE KEY-----\n"
    layer = _layer(
        {
            "etc/ssl/certs/extra.crt": b"# added\n" + one_cert,
            "app/key.pem": key,
            "app/.env": b"TITAN_API_KEY=x\n",
            "app/.env.example": b"TITAN_API_KEY=\n",
            "usr/lib/libtls.so": b"\x7fELF" + key,  # a library's own self-test key
            "app/.venv/lib/python3.11/site-packages/Crypto/SelfTest/k.py": key,
            "app/README.md": b"nothing here",
        }
    )
    assert list(audit.scan_layer(layer, forbidden)) == [
        "etc/ssl/certs/extra.crt: a forbidden CA certificate",
        "app/key.pem: private key",
        "app/.env: a file that holds secrets by its name",
    ]
