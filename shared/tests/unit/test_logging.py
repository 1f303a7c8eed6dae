"""Log set-up: the libraries that log a line per request keep their warnings only, except at
DEBUG, where a developer asked for everything."""

from __future__ import annotations

import logging

import pytest

from titan_common.logging import CHATTY_LIBRARIES, configure


@pytest.fixture(autouse=True)
def _restore_levels() -> object:
    saved = {name: logging.getLogger(name).level for name in ("", *CHATTY_LIBRARIES)}
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def test_chatty_libraries_keep_their_warnings_at_info() -> None:
    configure("INFO", "json")
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    assert logging.getLogger("httpx").isEnabledFor(logging.WARNING)
    assert logging.getLogger("titan.anything").isEnabledFor(logging.INFO)


def test_at_debug_they_say_everything() -> None:
    configure("DEBUG", "json")
    assert all(logging.getLogger(name).isEnabledFor(logging.DEBUG) for name in CHATTY_LIBRARIES)


def test_a_quieter_level_is_kept_for_them_too() -> None:
    configure("ERROR", "json")
    assert not logging.getLogger("websockets").isEnabledFor(logging.WARNING)
