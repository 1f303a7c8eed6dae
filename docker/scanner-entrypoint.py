"""The scanner image's entrypoint: derive SCANNER_SHARD from the compose replica, then exec.

Under `docker compose up --scale scanner=N` the containers are `<project>-scanner-1..N`; the
Docker DNS answers the reverse lookup of a container's address with that name, and the lookup
of the service name with every replica's address. Replica i of n takes shard `i-1/n`, n being
SCANNER_REPLICAS when set (compose passes it, so a change recreates every replica with the new
count) or else the number of replicas the DNS shows once it stops changing. An explicit
SCANNER_SHARD wins; outside compose (no ordinal in the name) the scanner runs unsharded.
`{replica}` in DATABASE_URL becomes the ordinal, so each replica can keep its own database.
"""

from __future__ import annotations

import os
import re
import socket
import time


def ordinal() -> int | None:
    try:
        own = socket.gethostbyname(socket.gethostname())
        name = socket.gethostbyaddr(own)[0].split(".")[0]
    except OSError:
        return None
    match = re.search(r"-(\d+)$", name)
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
