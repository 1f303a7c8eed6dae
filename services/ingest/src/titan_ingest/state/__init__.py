"""The pool store: every pool's exact state, its version, and a short per-block undo history."""
