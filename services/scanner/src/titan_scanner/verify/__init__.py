"""Verification: each opportunity simulated on the chain by our executor, at its block."""

from titan_scanner.verify.executor import Verifier, encode_execute

__all__ = ["Verifier", "encode_execute"]
