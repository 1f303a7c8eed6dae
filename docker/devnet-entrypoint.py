"""The devnet image's entrypoint: run `titan-devnet up`, then publish its manifest for the others.

The manifest titan-devnet writes names the chain as it sees it (127.0.0.1); the copy published
at DEVNET_MANIFEST (a volume the other containers mount) names it by its service name
(DEVNET_PUBLIC_HOST), so every container reaches the same chain. Signals go to titan-devnet,
which stops anvil and the flow.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path


def publish(private: Path, public: Path, host: str, port: str) -> None:
    manifest = json.loads(private.read_text())
    manifest["rpc_url"] = f"http://{host}:{port}"
    manifest["ws_url"] = f"ws://{host}:{port}"
    tmp = public.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest))
    tmp.replace(public)


def main() -> int:
    env = os.environ
    port = env.get("DEVNET_PORT", "8545")
    public = Path(env.get("DEVNET_MANIFEST", "/var/lib/titan/devnet/manifest.json"))
    private = Path("/tmp/titan-devnet/manifest.json")
    public.unlink(missing_ok=True)
    argv = ["titan-devnet", "up", "--port", port, "--manifest", str(private)]
    argv += ["--host", env.get("DEVNET_BIND_ADDR", "0.0.0.0")]
    argv += ["--scenario", env.get("DEVNET_SCENARIO", "default")]
    argv += [
        "--seed",
        env.get("DEVNET_SEED", "1"),
        "--block-time",
        env.get("DEVNET_BLOCK_TIME", "1"),
    ]
    if env.get("DEVNET_FLOW", "1") in ("0", "false", "no"):
        argv.append("--no-flow")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda s, _f: proc.send_signal(s))
    assert proc.stdout is not None
    for line in proc.stdout:
        print(line, end="", flush=True)
        if line.startswith("ready "):
            publish(private, public, env.get("DEVNET_PUBLIC_HOST", "devnet"), port)
            print(f"published {public}", flush=True)
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
