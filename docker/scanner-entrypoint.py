"""The scanner image's entrypoint: derive SCANNER_SHARD from the compose replica, then exec.

Under `docker compose up --scale scanner=N` the containers are `<project>-scanner-1..N`; the
Docker DNS answers the reverse lookup of a container's address with that name, and the lookup
of the service name with every replica's address. The reverse lookup asks the DNS server itself
(one PTR query): the resolver library would answer from /etc/hosts, which names the container by
its id. Replica i of n takes shard `i-1/n`, n being
SCANNER_REPLICAS when set (compose passes it, so a change recreates every replica with the new
count) or else the number of replicas the DNS shows once it stops changing. An explicit
SCANNER_SHARD wins; outside compose (no ordinal in the name) the scanner runs unsharded.
`{replica}` in DATABASE_URL becomes the ordinal, so each replica can keep its own database.
"""

from __future__ import annotations

import os
import re
import socket
import struct
import time
from pathlib import Path


def _read_name(packet: bytes, offset: int) -> tuple[str, int]:
    """A DNS name at `offset` (labels, maybe compressed); returns it and the offset after it."""
    labels: list[str] = []
    end = None
    while True:
        length = packet[offset]
        if length & 0xC0 == 0xC0:  # a pointer to a name earlier in the packet
            end = end or offset + 2
            offset = struct.unpack(">H", packet[offset : offset + 2])[0] & 0x3FFF
            continue
        offset += 1
        if length == 0:
            return ".".join(labels), end or offset
        labels.append(packet[offset : offset + length].decode())
        offset += length


def reverse_name(address: str, server: str, port: int = 53, timeout: float = 2.0) -> str | None:
    """The PTR name of an IPv4 address, asked of the DNS server at `server`:`port` over UDP."""
    qname = ".".join(reversed(address.split("."))) + ".in-addr.arpa"
    question = b"".join(bytes([len(p)]) + p.encode() for p in qname.split(".")) + b"\0"
    txid = os.getpid() & 0xFFFF
    # Header: id, flags (recursion desired), 1 question; then the question, type PTR, class IN.
    query = struct.pack(">HHHHHH", txid, 0x0100, 1, 0, 0, 0) + question + struct.pack(">HH", 12, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(query, (server, port))
        packet = sock.recv(4096)
    answer_id, _flags, _questions, answers = struct.unpack(">HHHH", packet[:8])
    if answer_id != txid or answers == 0:
        return None
    offset = 12 + len(question) + 4
    for _ in range(answers):
        _, offset = _read_name(packet, offset)
        rtype, _class, _ttl, length = struct.unpack(">HHIH", packet[offset : offset + 10])
        offset += 10
        if rtype == 12:
            return _read_name(packet, offset)[0]
        offset += length
    return None


def nameserver() -> str | None:
    try:
        for line in Path("/etc/resolv.conf").read_text().splitlines():
            fields = line.split()
            if len(fields) >= 2 and fields[0] == "nameserver" and "." in fields[1]:
                return fields[1]
    except OSError:
        pass
    return None


def ordinal() -> int | None:
    server = nameserver()
    if server is None:
        return None
    try:
        own = socket.gethostbyname(socket.gethostname())
        name = reverse_name(own, server)
    except (OSError, IndexError, struct.error, UnicodeDecodeError):
        return None
    match = re.search(r"-(\d+)$", (name or "").split(".")[0])
    return int(match.group(1)) if match else None


def replicas_in_dns(service: str, settle: float = 3.0, limit: float = 20.0) -> int:
    # Replicas start together: wait until the answer has been stable for `settle` seconds.
    seen, stable_since, deadline = -1, time.monotonic(), time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            count = len({a[4][0] for a in socket.getaddrinfo(service, None, socket.AF_INET)})
        except OSError:
            count = 0
        if count != seen:
            seen, stable_since = count, time.monotonic()
        elif time.monotonic() - stable_since >= settle:
            break
        time.sleep(0.5)
    return max(seen, 1)


def main() -> None:
    env = os.environ
    index = ordinal()
    if "SCANNER_SHARD" not in env and index is not None:
        total = int(env.get("SCANNER_REPLICAS") or 0) or replicas_in_dns(
            env.get("SCANNER_SERVICE_NAME", "scanner")
        )
        total = max(total, index)
        env["SCANNER_SHARD"] = f"{index - 1}/{total}"
    if "DATABASE_URL" in env:
        env["DATABASE_URL"] = env["DATABASE_URL"].replace("{replica}", str(index or 1))
    print(f"scanner replica {index} shard {env.get('SCANNER_SHARD', '0/1')}", flush=True)
    os.execvp("python", ["python", "-m", "titan_scanner"])


if __name__ == "__main__":
    main()
