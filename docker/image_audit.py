"""Audit built images for what must never ship in them.

For each image: a non-root user, a HEALTHCHECK, no proxy or CA variable in its environment, and,
in every layer (`docker save`, each layer's files read) and in its history: no .env file, no
private key or token, no copy of a build-time CA bundle and none of the certificates given with
--forbid-ca (a TLS-inspecting proxy's CA that a build borrowed). Prints one line per finding.

Usage: python docker/image_audit.py [--forbid-ca FILE] [--build-ca FILE] IMAGE...
Exit status 1 when anything is found, 2 when an image cannot be read.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import subprocess
import sys
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

# Files larger than this are binaries or data: no key or PEM bundle hides in them.
MAX_SCANNED_BYTES = 64 << 20
FORBIDDEN_FILE = re.compile(
    r"(?:^|/)(?:\.env(?:\.(?!example$)[^/]+)?|id_rsa|id_ed25519|id_ecdsa|\.netrc|\.pypirc|"
    r"\.git-credentials|\.npmrc|credentials\.json)$"
)
SECRETS = {
    # A key, not the bare marker (TLS libraries carry the marker as a parser constant).
    "private key": re.compile(
        rb"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----\s*"
        rb"(?:Proc-Type:[^\n]*\n|DEK-Info:[^\n]*\n|\s)*[A-Za-z0-9+/=\s]{64,}?-----END"
    ),
    "AWS access key": re.compile(rb"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(rb"\bgh[pousr]_[A-Za-z0-9]{36}\b"),
    "Slack token": re.compile(rb"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
}
PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----")
BUILD_ONLY_ENV = re.compile(
    r"^(?:https?_proxy|no_proxy|all_proxy|SSL_CERT_FILE|SSL_CERT_DIR|NODE_EXTRA_CA_CERTS|"
    r"CARGO_HTTP_CAINFO|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|PIP_CERT|UV_NATIVE_TLS)=",
    re.IGNORECASE,
)


def certificates(pem: bytes) -> set[bytes]:
    """The DER bytes of every PEM certificate in `pem`."""
    found = set()
    for body in PEM_CERT.findall(pem):
        try:
            found.add(base64.b64decode(b"".join(body.split()), validate=True))
        except ValueError:
            continue
    return found


@dataclass
class Forbidden:
    """What must not be in a layer: these certificates, and files with these digests."""

    certs: set[bytes] = field(default_factory=set)
    digests: set[str] = field(default_factory=set)


# Libraries' own test vectors (e.g. pycryptodome's SelfTest keys): published, never ours.
LIBRARY_TESTS = re.compile(r"/site-packages/[^/]+/(?:SelfTest|tests?)/")


def scan_file(path: str, data: bytes, forbidden: Forbidden) -> list[str]:
    """Findings for one file of a layer."""
    findings = []
    # Compiled code carries its own self-test keys (GnuTLS does): never a secret of ours.
    ours = not data.startswith(b"\x7fELF") and LIBRARY_TESTS.search("/" + path) is None
    if FORBIDDEN_FILE.search(path):
        findings.append(f"{path}: a file that holds secrets by its name")
    if forbidden.digests and hashlib.sha256(data).hexdigest() in forbidden.digests:
        findings.append(f"{path}: a copy of the build CA bundle")
    for what, pattern in SECRETS.items():
        if ours and pattern.search(data):
            findings.append(f"{path}: {what}")
    if (
        forbidden.certs
        and b"-----BEGIN CERTIFICATE-----" in data
        and certificates(data) & forbidden.certs
    ):
        findings.append(f"{path}: a forbidden CA certificate")
    return findings


def scan_layer(layer: IO[bytes], forbidden: Forbidden) -> Iterator[str]:
    """Findings for one layer tar (read as a stream)."""
    with tarfile.open(fileobj=layer, mode="r|") as tar:
        for member in tar:
            if not member.isfile():
                continue
            if member.size > MAX_SCANNED_BYTES:
                if FORBIDDEN_FILE.search(member.name):
                    yield f"{member.name}: a file that holds secrets by its name"
                continue
            handle = tar.extractfile(member)
            if handle is not None:
                yield from scan_file(member.name, handle.read(), forbidden)


def scan_saved(saved: IO[bytes], forbidden: Forbidden) -> Iterator[str]:
    """Findings in every layer of a `docker save` stream (both the legacy and the OCI layout)."""
    with tarfile.open(fileobj=saved, mode="r|") as outer:
        for member in outer:
            if not member.isfile():
                continue
            handle = outer.extractfile(member)
            if handle is None:
                continue
            head = handle.peek(512)[:512] if hasattr(handle, "peek") else b""
            is_tar = member.name.endswith("layer.tar") or (
                member.name.startswith("blobs/") and len(head) >= 262 and head[257:262] == b"ustar"
            )
            if is_tar:
                for finding in scan_layer(handle, forbidden):
                    yield f"layer {member.name}: {finding}"


def _docker(*args: str) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"docker {args[0]}: {done.stderr.strip()}")
    return done.stdout


def audit_config(image: str) -> list[str]:
    """Findings in the image's configuration and history."""
    config = json.loads(_docker("image", "inspect", image))[0]["Config"]
    findings = []
    user = (config.get("User") or "").split(":")[0]
    if user in ("", "0", "root"):
        findings.append(f"runs as root (USER {user or 'unset'})")
    if not (config.get("Healthcheck") or {}).get("Test"):
        findings.append("no HEALTHCHECK")
    findings += [
        f"environment: {v.split('=')[0]}"
        for v in config.get("Env") or []
        if BUILD_ONLY_ENV.match(v)
    ]
    history = _docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", image).encode()
    findings += [f"history: {what}" for what, pattern in SECRETS.items() if pattern.search(history)]
    if b"-----BEGIN CERTIFICATE-----" in history:
        findings.append("history: a certificate")
    return findings


def audit(image: str, forbidden: Forbidden) -> list[str]:
    findings = audit_config(image)
    with subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE) as save:
        assert save.stdout is not None
        findings += list(scan_saved(save.stdout, forbidden))
    if save.returncode != 0:
        raise RuntimeError(f"docker save {image} exited with {save.returncode}")
    return findings


def forbidden_from(ca_files: Iterable[Path], bundles: Iterable[Path]) -> Forbidden:
    forbidden = Forbidden()
    for path in ca_files:
        forbidden.certs |= certificates(path.read_bytes())
    for path in bundles:
        forbidden.digests.add(hashlib.sha256(path.read_bytes()).hexdigest())
    return forbidden


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("images", nargs="+")
    parser.add_argument("--forbid-ca", type=Path, action="append", default=[],
                        help="certificates (PEM) that no layer may hold")  # fmt: skip
    parser.add_argument("--build-ca", type=Path, action="append", default=[],
                        help="a CA bundle lent to the build: no layer may hold a copy")  # fmt: skip
    args = parser.parse_args(argv)
    forbidden = forbidden_from(args.forbid_ca, args.build_ca)
    failed = False
    for image in args.images:
        try:
            findings = audit(image, forbidden)
        except RuntimeError as exc:
            print(f"{image}: {exc}", file=sys.stderr)
            return 2
        for finding in findings:
            print(f"{image}: {finding}")
        failed = failed or bool(findings)
        if not findings:
            print(f"{image}: clean")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
