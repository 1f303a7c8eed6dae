"""Root pytest configuration: one devnet per test session, shared by every service's tests."""

pytest_plugins = ["titan_devnet.testing"]
