"""The scanner image's entrypoint (docker/scanner-entrypoint.py), without Docker.

Its replica number comes from a PTR query to the container's DNS server; here a one-shot DNS
responder on 127.0.0.1 answers the way Docker's embedded DNS does (the name compressed, as
`<project>-scanner-<n>.<network>`), and the shard and database URL follow from it.
"""

from __future__ import annotations

import importlib.util
import socket
import struct
import sys
import threading
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    path = ROOT / "docker" / "scanner-entrypoint.py"
    spec = importlib.util.spec_from_file_location("scanner_entrypoint", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


entrypoint = _load()


def _labels(name: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"


def _responder(answer: str | None) -> tuple[socket.socket, threading.Thread]:
    """A DNS server on 127.0.0.1 that answers one query with `answer` as the PTR name."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))

    def serve() -> None:
        query, peer = sock.recvfrom(512)
        txid = query[:2]
        question = query[12:]
        if answer is None:
            reply = txid + struct.pack(">HHHHH", 0x8183, 1, 0, 0, 0) + question
        else:
            # The answer's owner name points back at the question (offset 12), as servers do.
            rdata = _labels(answer)
            record = struct.pack(">HHHIH", 0xC00C, 12, 1, 600, len(rdata)) + rdata
            reply = txid + struct.pack(">HHHHH", 0x8180, 1, 1, 0, 0) + question + record
        sock.sendto(reply, peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return sock, thread


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("titan-test-42-scanner-2.titan-test-42_titan", "titan-test-42-scanner-2.titan-test-42_titan"),
     (None, None)],
)  # fmt: skip
def test_reverse_name_asks_the_dns_server(answer: str | None, expected: str | None) -> None:
    sock, thread = _responder(answer)
    try:
        port = sock.getsockname()[1]
        assert entrypoint.reverse_name("172.18.0.7", "127.0.0.1", port=port) == expected
    finally:
        thread.join(timeout=5)
        sock.close()


def test_read_name_follows_compression_pointers() -> None:
    packet = b"\0" * 12 + _labels("titan_default") + b"\x09scanner-3\xc0\x0c"
    name, end = entrypoint._read_name(packet, 12 + len(_labels("titan_default")))
    assert name == "scanner-3.titan_default"
    assert end == len(packet)


def test_shard_and_database_from_the_replica_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(entrypoint, "ordinal", lambda: 2)
    monkeypatch.setenv("SCANNER_REPLICAS", "3")
    monkeypatch.setenv("DATABASE_URL", "sqlite:////data/scanner-{replica}.db")
    monkeypatch.delenv("SCANNER_SHARD", raising=False)
    execs: list[list[str]] = []
    monkeypatch.setattr(entrypoint.os, "execvp", lambda _f, argv: execs.append(argv))
    entrypoint.main()
    assert entrypoint.os.environ["SCANNER_SHARD"] == "1/3"
    assert entrypoint.os.environ["DATABASE_URL"] == "sqlite:////data/scanner-2.db"
    assert execs == [["python", "-m", "titan_scanner"]]


def test_an_explicit_shard_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(entrypoint, "ordinal", lambda: 2)
    monkeypatch.setenv("SCANNER_SHARD", "0/1")
    monkeypatch.setattr(entrypoint.os, "execvp", lambda _f, _argv: None)
    entrypoint.main()
    assert entrypoint.os.environ["SCANNER_SHARD"] == "0/1"
