"""The node's own faults: stop anvil, then start it again on the same port with the same chain."""

from __future__ import annotations

import gzip
from pathlib import Path

from titan_devnet.anvil import Anvil
from titan_devnet.testing import Devnet


def stop_node(devnet: Devnet, state_file: Path) -> None:
    """Dump the chain to `state_file`, then stop anvil. The dump keeps the historical states,
    so blocks from before the stop can still be called afterwards (the scanner proves
    opportunities at their block). Mining stops first, so no block is mined after the dump
    (the restarted node would replace it: a reorg, not a restart)."""
    devnet.rpc("evm_setIntervalMining", 0)
    devnet.rpc("evm_setAutomine", False)
    dump = devnet.rpc("anvil_dumpState", True)
    state_file.write_bytes(gzip.decompress(bytes.fromhex(dump.removeprefix("0x"))))
    devnet.running.anvil.stop()


def start_node(devnet: Devnet, state_file: Path, block_time: int) -> None:
    """Anvil again on the same port from the dump: the chain goes on from the same head, with
    the same hashes, mining a block every `block_time` seconds (a restart automines)."""
    anvil = Anvil(devnet.running.anvil.port, load_state=state_file)
    anvil.start()
    devnet.running.anvil = anvil  # the session's teardown stops this one
    interval_mining(devnet, block_time)


def interval_mining(devnet: Devnet, block_time: int) -> None:
    """A block every `block_time` seconds holding what was sent meanwhile, as `make up` runs
    the devnet (one block per transaction would outpace the scanner's proofs)."""
    devnet.rpc("evm_setAutomine", False)
    devnet.rpc("evm_setIntervalMining", block_time)
