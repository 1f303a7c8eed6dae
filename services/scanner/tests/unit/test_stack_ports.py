"""The test stack's ports: each service gets its own, even when the kernel would hand a port
just released straight back (an ML and a scanner once shared one, and the scanner never
started)."""

from __future__ import annotations

import socket

from titan_scanner.stack import free_ports


def test_ports_asked_for_together_are_all_different_and_free() -> None:
    for _ in range(20):
        ports = free_ports(8)
        assert len(set(ports)) == 8
        for port in ports:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", port))
