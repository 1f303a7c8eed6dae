"""The chain side: configs (factories, tokens, pools), the ABI we read, the JSON-RPC client."""
