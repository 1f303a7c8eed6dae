"""HTTP and WebSocket routes only; the work is in the pipeline."""
