"""HTTP and WebSocket routes of the scanner; no logic beyond reading the runtime."""
