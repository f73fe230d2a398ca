"""pytest plugin (entry point ``pytest11``): the emulator as fixtures.

- ``onedrive_emulator`` (session): an :class:`~onedrive_emulator.Emulator`
  started once on ephemeral loopback ports (HTTPS, its CA in ``ca_file``),
  stopped at the end of the session. Extra flags: override the session
  fixture ``onedrive_emulator_args`` in a conftest.py, or pass
  ``--onedrive-emulator-arg=--profile=business`` (repeatable).
- ``onedrive_drive``: the same emulator reset to a fresh drive before the
  test (``POST /_emulator/reset``: items, upload sessions, jobs, fault
  rules, the request log; job settings back to those of the start).
- ``onedrive_connection``: ``Connection(base_url, token, ca_file)`` of a
  fresh drive.
- ``onedrive_client``: an ``onedrive_native.Client`` configured for a fresh
  drive (closed after the test) when ``onedrive_native`` is importable,
  otherwise the ``Connection``.
"""

from __future__ import annotations

from typing import Any, Iterator, List

import pytest

from . import Connection, Emulator


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("onedrive-emulator")
    group.addoption(
        "--onedrive-emulator-arg",
        action="append",
        default=[],
        metavar="FLAG",
        help="a command-line flag for the emulator the fixtures start, e.g. --onedrive-emulator-arg=--latency-ms=20",
    )


@pytest.fixture(scope="session")
def onedrive_emulator_args(pytestconfig: Any) -> List[str]:
    """Extra flags for the session's emulator (override to change them)."""
    return list(pytestconfig.getoption("onedrive_emulator_arg"))


@pytest.fixture(scope="session")
def onedrive_emulator(onedrive_emulator_args: List[str]) -> Iterator[Emulator]:
    with Emulator(*onedrive_emulator_args) as emu:
        yield emu


@pytest.fixture
def onedrive_drive(onedrive_emulator: Emulator) -> Emulator:
    onedrive_emulator.reset()
    return onedrive_emulator


@pytest.fixture
def onedrive_connection(onedrive_drive: Emulator) -> Connection:
    return onedrive_drive.connection


@pytest.fixture
def onedrive_client(onedrive_connection: Connection) -> Iterator[Any]:
    try:
        import onedrive_native
    except ImportError:
        yield onedrive_connection
        return
    conn = onedrive_connection
    kwargs = {"ca_file": conn.ca_file} if conn.ca_file else {}
    with onedrive_native.Client(token=conn.token, base_url=conn.base_url, **kwargs) as client:
        yield client
