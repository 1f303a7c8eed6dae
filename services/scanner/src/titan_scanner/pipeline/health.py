"""What the scanner depends on and whether each answers, for `/ready` and degraded modes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Dependency:
    name: str
    required: bool  # without it no opportunity can be published
    up: bool = False
    reason: str = "not checked yet"
    since: float = field(default_factory=time.time)

    def mark(self, up: bool, reason: str = "ok") -> bool:
        """Record the state; True when it changed."""
        changed = up != self.up
        self.up, self.reason = up, ("ok" if up else reason)
        if changed:
            self.since = time.time()
        return changed


class DependencyHealth:
    def __init__(self) -> None:
        self.deps: dict[str, Dependency] = {}

    def add(self, name: str, required: bool) -> Dependency:
        self.deps[name] = Dependency(name, required)
        return self.deps[name]

    def __getitem__(self, name: str) -> Dependency:
        return self.deps[name]

    def is_up(self, name: str) -> bool:
        dep = self.deps.get(name)
        return dep is not None and dep.up

    def ready(self) -> bool:
        return all(dep.up for dep in self.deps.values() if dep.required)

    def checks(self) -> dict[str, str]:
        result = {}
        for dep in self.deps.values():
            if dep.up:
                result[dep.name] = "ok"
            elif dep.required:
                result[dep.name] = f"down: {dep.reason}; no opportunities are published"
            else:
                result[dep.name] = f"down: {dep.reason}; degraded"
        return result
