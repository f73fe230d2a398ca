"""The C ABI of onedrive-native, loaded for ctypes.

The declarations are not written here: ``_abi.py`` is generated from
``include/onedrive.abi.json`` (the header as parsed by ``tools/abi.py``) by
``tools/gen_bindings.py``, so every function of the header is in
:data:`FUNCTIONS` with its restype and argtypes, and every constant and enum
value is a name of this module. :data:`lib` holds exactly those functions,
typed: a wrapper calling a function the header no longer has fails with
AttributeError instead of calling an untyped symbol.

The library is loaded with :class:`ctypes.CDLL`, which releases the GIL for
the duration of every foreign call: blocking transfers in several Python
threads run at the same time.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

#: Environment variable naming a shared library to load instead of the
#: bundled one (and, at build time, a prebuilt library to bundle).
LIB_ENV = "ONEDRIVE_NATIVE_LIB"


def library_filename() -> str:
    """The file name cargo gives the cdylib on this platform."""
    if sys.platform == "win32":
        return "onedrive_native.dll"
    if sys.platform == "darwin":
        return "libonedrive_native.dylib"
    return "libonedrive_native.so"


class LibraryNotFoundError(ImportError):
    """Neither the bundled shared library nor ``$ONEDRIVE_NATIVE_LIB`` exists."""


#: Environment variable that, set to ``1``, lets the package load a native
#: library of another version than the one it was built for (a warning
#: instead of :class:`LibraryVersionError`). For developers only.
SKIP_VERSION_CHECK_ENV = "ONEDRIVE_NATIVE_SKIP_VERSION_CHECK"


class LibraryVersionError(ImportError):
    """The loaded library's ``od_version()`` is not the version this package was built for."""


def find_library() -> str:
    """Where the shared library is.

    1. ``$ONEDRIVE_NATIVE_LIB``, when set, overrides everything (and must exist);
    2. otherwise the library bundled inside this package;
    3. otherwise :class:`LibraryNotFoundError`, naming both places.
    """
    bundled = Path(__file__).resolve().with_name(library_filename())
    env = os.environ.get(LIB_ENV)
    if env:
        if Path(env).is_file():
            return str(Path(env).resolve())
        raise LibraryNotFoundError(
            f"{LIB_ENV}={env!r} does not name a file "
            f"(unset it to use the bundled library {bundled})"
        )
    if bundled.is_file():
        return str(bundled)
    raise LibraryNotFoundError(
        f"the onedrive-native shared library was not found: no bundled library at "
        f"{bundled}, and {LIB_ENV} is not set. Reinstall the package "
        f"(`pip install ./bindings/python` builds it with cargo) or set {LIB_ENV} "
        f"to the path of a built {library_filename()}."
    )


# --- the declarations, generated from the ABI description ---------------------

from ._abi import *  # noqa: E402,F401,F403  (od_* types, OD_* constants, *_FN prototypes)
from ._abi import FUNCTIONS  # noqa: E402

#: Functions in :data:`FUNCTIONS` that the loaded library does not export
#: (an older library named by ``$ONEDRIVE_NATIVE_LIB``). Calling one raises
#: AttributeError.
MISSING: List[str] = []


class Library:
    """The header's functions in the loaded library, typed from :data:`FUNCTIONS`;
    nothing else (``cdll`` is the :class:`ctypes.CDLL` itself)."""

    def __init__(self, cdll: ctypes.CDLL) -> None:
        self.cdll = cdll
        for name, (restype, argtypes) in FUNCTIONS.items():
            try:
                fn = getattr(cdll, name)
            except AttributeError:
                MISSING.append(name)
                continue
            fn.restype = restype
            fn.argtypes = argtypes
            setattr(self, name, fn)

    def __getattr__(self, name: str) -> Any:  # only for names not set above
        if name in MISSING:
            raise AttributeError(f"{name}: the loaded library {library_path} does not export it (an older library?)")
        raise AttributeError(
            f"{name}: not a function of include/onedrive.h as this package was generated "
            f"(onedrive_native/_abi.py, from include/onedrive.abi.json)"
        )


def _load() -> Tuple[Library, str]:
    path = find_library()
    return Library(ctypes.CDLL(path)), path  # CDLL, not PyDLL: the GIL is released during calls


lib, library_path = _load()


def version() -> str:
    """The native library's version (``od_version``)."""
    v: Optional[bytes] = lib.od_version()
    return (v or b"").decode()


# --- the loaded library is the one this package was made for -----------------


def _cargo_version(manifest: Path) -> Optional[str]:
    """The ``version`` of ``[package]`` (or ``[workspace.package]``) in a Cargo.toml."""
    try:
        text = manifest.read_text()
    except OSError:
        return None
    for table in ("[package]", "[workspace.package]"):
        if table in text:
            body = text.split(table, 1)[1].split("\n[", 1)[0]
            m = re.search(r'^version\s*=\s*"([^"]+)"', body, flags=re.M)
            if m:
                return m.group(1)
    return None


def expected_version() -> Optional[str]:
    """The native library version this package was built for.

    The package build (setup.py) bakes it into ``_native_version.py``; run
    from a source checkout, which has no such file, it is the workspace's
    Cargo.toml version; None (no check) when neither exists.
    """
    try:
        from ._native_version import NATIVE_VERSION  # type: ignore[import-not-found]
    except ImportError:
        return _cargo_version(Path(__file__).resolve().parents[3] / "Cargo.toml")
    return str(NATIVE_VERSION)


def check_version(loaded: str, expected: Optional[str], path: str) -> None:
    """Raises :class:`LibraryVersionError` when ``loaded`` is not ``expected``.

    The package and the library must come from the same release: the ctypes
    declarations and the constants in ``abi.json`` describe one version of the
    C ABI. ``$ONEDRIVE_NATIVE_SKIP_VERSION_CHECK=1`` turns the error into a
    warning (developers testing another build).
    """
    if expected is None or loaded == expected:
        return
    if os.environ.get(LIB_ENV):
        source = f" (named by {LIB_ENV})"
        advice = (
            f"Unset {LIB_ENV} to load the library bundled with the package, "
            f"or point it at a {library_filename()} of version {expected}"
        )
    else:
        source = ""
        advice = (
            f"The bundled library does not belong to this package: reinstall it "
            f"(pip install --force-reinstall onedrive-native=={expected})"
        )
    msg = (
        f"onedrive_native was built for the native library version {expected}, "
        f"but the library loaded, {path}{source}, is version {loaded or '(none)'}. {advice}"
    )
    if os.environ.get(SKIP_VERSION_CHECK_ENV) == "1":
        warnings.warn(msg + f" ({SKIP_VERSION_CHECK_ENV}=1: loading it anyway)", RuntimeWarning, stacklevel=2)
        return
    raise LibraryVersionError(
        msg + f". Developers: {SKIP_VERSION_CHECK_ENV}=1 loads it anyway, at their own risk."
    )


def verify_loaded_library() -> None:
    """The check :mod:`onedrive_native` runs at import."""
    check_version(version(), expected_version(), library_path)


verify_loaded_library()
