"""The scanner's pipeline: source (ingest stream) -> state -> decision -> publish."""
