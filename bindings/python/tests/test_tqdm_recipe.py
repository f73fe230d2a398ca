"""The README's tqdm recipe, run as written (only the service's address and
CA added to ``Client(token=TOKEN)``), with tqdm when it is importable and a
stand-in shaped like it otherwise (tqdm is no dependency): the upload's bar
ends at the file's size and the copy's at 100 %, each moved by deltas."""

from __future__ import annotations

import os
import re
import sys
import types
from pathlib import Path
from typing import Any, List

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
HEADING = "## Progress bars with tqdm"


def recipe() -> str:
    text = README.read_text(encoding="utf-8")
    assert HEADING in text, f"README.md lost its section {HEADING!r}"
    m = re.search(r"```python\n(.*?)^```", text[text.index(HEADING):], re.S | re.M)
    assert m, f"no python block under {HEADING!r}"
    return m.group(1)


class StandInTqdm:
    """What the recipes use of ``tqdm.tqdm``: ``total``, ``n``, ``update(n)``,
    ``refresh()``, ``write(text)``, ``close()``, and the context manager;
    records each update."""

    bars: List["StandInTqdm"] = []

    def __init__(self, iterable: Any = None, desc: Any = None, total: Any = None, **kwargs: Any) -> None:
        self.desc, self.total, self.kwargs = desc, total, kwargs
        self.n: Any = 0
        self.updates: List[Any] = []
        self.written: List[str] = []
        self.closed = False
        StandInTqdm.bars.append(self)

    def update(self, n: Any = 1) -> None:
        assert not self.closed, "update after close"
        self.n += n
        self.updates.append(n)

    def refresh(self) -> None:
        pass

    def write(self, text: str) -> None:
        self.written.append(text)

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> "StandInTqdm":
        return self

    def __exit__(self, *exc: Any) -> bool:
        self.close()
        return False


@pytest.fixture
def tqdm_class(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``from tqdm import tqdm`` in the recipe gets a class that records its bars."""
    try:
        import tqdm as real  # type: ignore[import-not-found]

        class Recording(real.tqdm):  # type: ignore[misc, name-defined]
            bars: List[Any] = []

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                kwargs.setdefault("disable", False)
                super().__init__(*args, **kwargs)
                Recording.bars.append(self)

        cls: Any = Recording
    except ImportError:
        StandInTqdm.bars = []
        cls = StandInTqdm
    module = types.ModuleType("tqdm")
    module.tqdm = cls  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tqdm", module)
    return cls


def test_the_readme_tqdm_recipe_runs_as_written(tqdm_class, emu, client, tmp_path, monkeypatch):
    code = recipe()
    assert code.count("Client(token=TOKEN)") == 1
    code = code.replace("Client(token=TOKEN)", "Client(token=TOKEN, base_url=BASE_URL, ca_file=CA_FILE)")
    # above the simple-upload limit (4 MiB): an upload session, several reports
    data = os.urandom(5 * 1024 * 1024 + 12345)
    (tmp_path / "report.pdf").write_bytes(data)
    monkeypatch.chdir(tmp_path)
    ns = {"__name__": "readme_tqdm_recipe", "TOKEN": emu.token, "BASE_URL": emu.base_url, "CA_FILE": emu.ca_file}
    exec(compile(code, f"{README} ({HEADING})", "exec"), ns)

    upload_bar, copy_bar = tqdm_class.bars
    assert upload_bar.total == len(data) and upload_bar.n == len(data)
    assert copy_bar.total == 100 and copy_bar.n == pytest.approx(100.0)
    assert ns["item"].size == len(data) and ns["copy"].size == len(data)
    assert ns["copy"].name == "report copy.pdf"
    assert client.item("/Documents/report copy.pdf").quick_xor_hash == ns["item"].quick_xor_hash
    if tqdm_class is StandInTqdm:
        # incremental: several deltas that add up to the total (a callback
        # that passed `done` itself would have overshot it)
        assert len(upload_bar.updates) >= 2 and sum(upload_bar.updates) == len(data)
        assert all(isinstance(u, float) for u in copy_bar.updates)
        assert upload_bar.closed and copy_bar.closed
