"""The C ABI of onedrive-native, declared for ctypes.

This module is the one place that knows the C signatures. Every function in
``include/onedrive.h`` has an entry in :data:`FUNCTIONS` (restype and
argtypes); ``tests/abi_check.py`` compares them field by field with
``include/onedrive.abi.json`` (the header as parsed by ``tools/abi.py``) and
fails when they disagree, so a function added to the header must be added
here. The constants are not written here: they are read from that JSON
(bundled in the package as ``abi.json``).

The library is loaded with :class:`ctypes.CDLL`, which releases the GIL for
the duration of every foreign call: blocking transfers in several Python
threads run at the same time.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import sys
import warnings
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_bool,
    c_char_p,
    c_double,
    c_int,
    c_int32,
    c_int64,
    c_size_t,
    c_uint8,
    c_uint32,
    c_uint64,
    c_void_p,
)
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


# --- opaque handle types -----------------------------------------------------


class od_client(Structure):
    """Opaque ``od_client``."""


class od_job(Structure):
    """Opaque ``od_job``."""


class od_item(Structure):
    """Opaque ``od_item``."""


class od_cancel(Structure):
    """Opaque ``od_cancel``."""


class od_session(Structure):
    """Opaque ``od_session``."""


od_client_p = POINTER(od_client)
od_job_p = POINTER(od_job)
od_item_p = POINTER(od_item)
od_cancel_p = POINTER(od_cancel)
od_session_p = POINTER(od_session)

# C enums are int32_t in the ABI.
od_status = c_int32
od_job_state = c_int32

#: ``int (*od_progress_fn)(void *userdata, uint64_t done, uint64_t total)``
PROGRESS_FN = CFUNCTYPE(c_int, c_void_p, c_uint64, c_uint64)
#: ``int (*od_token_fn)(void *userdata, const od_client *client)``
TOKEN_FN = CFUNCTYPE(c_int, c_void_p, od_client_p)
#: ``int64_t (*od_read_fn)(void *userdata, uint8_t *buf, size_t len)``
READ_FN = CFUNCTYPE(c_int64, c_void_p, POINTER(c_uint8), c_size_t)
#: ``void (*od_log_fn)(void *userdata, int32_t level, const char *message)``
LOG_FN = CFUNCTYPE(None, c_void_p, c_int32, c_char_p)

# --- constants, from the ABI description --------------------------------------


def abi_path() -> Path:
    """The bundled ``abi.json``, else (a source checkout) ``include/onedrive.abi.json``."""
    here = Path(__file__).resolve()
    bundled = here.with_name("abi.json")
    return bundled if bundled.is_file() else here.parents[3] / "include" / "onedrive.abi.json"


ABI: Dict[str, Any] = json.loads(abi_path().read_text())
_CONST: Dict[str, int] = ABI["constants"]

OD_CLIENT_ALLOW_INSECURE_HTTP: int = _CONST["OD_CLIENT_ALLOW_INSECURE_HTTP"]
OD_COPY_LEGACY: int = _CONST["OD_COPY_LEGACY"]
OD_FOLDER_PARENTS: int = _CONST["OD_FOLDER_PARENTS"]
OD_HASH_SHA1: int = _CONST["OD_HASH_SHA1"]
OD_HASH_SHA256: int = _CONST["OD_HASH_SHA256"]
OD_CHUNK_UNIT: int = _CONST["OD_CHUNK_UNIT"]
OD_DEFAULT_CHUNK_SIZE: int = _CONST["OD_DEFAULT_CHUNK_SIZE"]
OD_MAX_CHUNK_SIZE: int = _CONST["OD_MAX_CHUNK_SIZE"]
OD_DEFAULT_SIMPLE_UPLOAD_LIMIT: int = _CONST["OD_DEFAULT_SIMPLE_UPLOAD_LIMIT"]
OD_MAX_SIMPLE_UPLOAD_LIMIT: int = _CONST["OD_MAX_SIMPLE_UPLOAD_LIMIT"]
OD_LOG_ERROR: int = _CONST["OD_LOG_ERROR"]
OD_LOG_WARN: int = _CONST["OD_LOG_WARN"]
OD_LOG_INFO: int = _CONST["OD_LOG_INFO"]
OD_LOG_DEBUG: int = _CONST["OD_LOG_DEBUG"]

_FIELD: Dict[str, int] = ABI["enums"]["od_error_field"]["values"]
OD_ERROR_MESSAGE: int = _FIELD["OD_ERROR_MESSAGE"]
OD_ERROR_CODE: int = _FIELD["OD_ERROR_CODE"]
OD_ERROR_INNER_CODE: int = _FIELD["OD_ERROR_INNER_CODE"]
OD_ERROR_REQUEST_ID: int = _FIELD["OD_ERROR_REQUEST_ID"]

# --- every exported function: name -> (restype, argtypes) -------------------

_Sig = Tuple[Any, List[Any]]

FUNCTIONS: Dict[str, _Sig] = {
    "od_version": (c_char_p, []),
    # client
    "od_client_new": (od_status, [c_char_p, c_char_p, c_uint32, POINTER(od_client_p)]),
    "od_client_free": (None, [od_client_p]),
    "od_client_set_token": (od_status, [od_client_p, c_char_p]),
    "od_client_set_token_with_expiry": (od_status, [od_client_p, c_char_p, c_int64]),
    "od_client_set_token_callback": (od_status, [od_client_p, TOKEN_FN, c_void_p]),
    "od_client_set_timeouts": (od_status, [od_client_p, c_uint32, c_uint32]),
    "od_client_set_retry": (od_status, [od_client_p, c_uint32, c_uint64]),
    "od_client_set_user_agent": (od_status, [od_client_p, c_char_p]),
    # network: trusted CAs, proxy, upload rate cap, log
    "od_client_add_ca_pem": (od_status, [od_client_p, POINTER(c_uint8), c_size_t]),
    "od_client_add_ca_file": (od_status, [od_client_p, c_char_p]),
    "od_client_set_proxy": (od_status, [od_client_p, c_char_p]),
    "od_client_set_upload_rate": (od_status, [od_client_p, c_uint64]),
    "od_client_set_log_callback": (od_status, [od_client_p, c_int32, LOG_FN, c_void_p]),
    # cancel
    "od_cancel_new": (od_status, [POINTER(od_cancel_p)]),
    "od_cancel_trigger": (None, [od_cancel_p]),
    "od_cancel_reset": (None, [od_cancel_p]),
    "od_cancel_is_triggered": (c_bool, [od_cancel_p]),
    "od_cancel_free": (None, [od_cancel_p]),
    # item
    "od_item_id": (c_char_p, [od_item_p]),
    "od_item_name": (c_char_p, [od_item_p]),
    "od_item_etag": (c_char_p, [od_item_p]),
    "od_item_ctag": (c_char_p, [od_item_p]),
    "od_item_drive_id": (c_char_p, [od_item_p]),
    "od_item_parent_id": (c_char_p, [od_item_p]),
    "od_item_quick_xor_hash": (c_char_p, [od_item_p]),
    "od_item_json": (c_char_p, [od_item_p]),
    "od_item_size": (c_int64, [od_item_p]),
    "od_item_is_folder": (c_bool, [od_item_p]),
    "od_item_free": (None, [od_item_p]),
    # job
    "od_job_from_monitor_url": (od_status, [c_char_p, c_char_p, POINTER(od_job_p)]),
    "od_job_monitor_url": (c_char_p, [od_job_p]),
    "od_job_last_state": (od_job_state, [od_job_p]),
    "od_poll_job": (od_status, [od_client_p, od_job_p, POINTER(od_job_state), POINTER(c_double)]),
    "od_wait_job": (
        od_status,
        [od_client_p, od_job_p, c_uint64, PROGRESS_FN, c_void_p, od_cancel_p, POINTER(od_item_p)],
    ),
    "od_job_item": (od_status, [od_job_p, POINTER(od_item_p)]),
    "od_job_free": (None, [od_job_p]),
    # operations
    "od_upload": (
        od_status,
        [
            od_client_p,  # client
            c_char_p,  # drive
            c_char_p,  # item
            c_char_p,  # name
            POINTER(c_uint8),  # data
            c_size_t,  # len
            c_int32,  # conflict
            PROGRESS_FN,  # progress
            c_void_p,  # userdata
            od_cancel_p,  # cancel
            POINTER(od_item_p),  # out_item
        ],
    ),
    "od_url_upload": (
        od_status,
        [od_client_p, c_char_p, c_char_p, c_char_p, c_char_p, POINTER(od_job_p)],
    ),
    "od_copy": (
        od_status,
        [
            od_client_p,  # client
            c_char_p,  # drive
            c_char_p,  # source
            c_char_p,  # dest_parent
            c_char_p,  # dest_drive_id
            c_char_p,  # new_name
            c_int32,  # conflict
            c_uint32,  # flags
            POINTER(od_job_p),  # out_job
        ],
    ),
    "od_item_get": (od_status, [od_client_p, c_char_p, c_char_p, POINTER(od_item_p)]),
    "od_folder_create": (
        od_status,
        [od_client_p, c_char_p, c_char_p, c_char_p, c_int32, c_uint32, od_cancel_p, POINTER(od_item_p)],
    ),
    "od_item_delete": (od_status, [od_client_p, c_char_p, c_char_p, c_char_p, od_cancel_p]),
    # large uploads and upload sessions
    "od_client_set_upload_options": (od_status, [od_client_p, c_uint64, c_uint64, c_uint32]),
    "od_upload_file": (
        od_status,
        [
            od_client_p,  # client
            c_char_p,  # drive
            c_char_p,  # item
            c_char_p,  # name
            c_char_p,  # path
            c_int32,  # conflict
            PROGRESS_FN,  # progress
            c_void_p,  # userdata
            od_cancel_p,  # cancel
            POINTER(od_item_p),  # out_item
        ],
    ),
    "od_upload_stream": (
        od_status,
        [
            od_client_p,  # client
            c_char_p,  # drive
            c_char_p,  # item
            c_char_p,  # name
            c_uint64,  # size
            READ_FN,  # read
            c_void_p,  # read_userdata
            c_int32,  # conflict
            PROGRESS_FN,  # progress
            c_void_p,  # userdata
            od_cancel_p,  # cancel
            POINTER(od_item_p),  # out_item
        ],
    ),
    "od_session_create": (
        od_status,
        [od_client_p, c_char_p, c_char_p, c_char_p, c_uint64, c_int32, POINTER(od_session_p)],
    ),
    # out_json is an owned string: read it through a c_char_p, free it with od_string_free
    "od_session_to_json": (od_status, [od_session_p, POINTER(c_char_p)]),
    "od_session_from_json": (od_status, [c_char_p, POINTER(od_session_p)]),
    "od_session_upload_file": (
        od_status,
        [od_client_p, od_session_p, c_char_p, PROGRESS_FN, c_void_p, od_cancel_p, POINTER(od_item_p)],
    ),
    "od_session_upload_stream": (
        od_status,
        [od_client_p, od_session_p, READ_FN, c_void_p, PROGRESS_FN, c_void_p, od_cancel_p, POINTER(od_item_p)],
    ),
    "od_session_cancel": (od_status, [od_client_p, od_session_p]),
    "od_session_size": (c_uint64, [od_session_p]),
    "od_session_free": (None, [od_session_p]),
    "od_string_free": (None, [c_char_p]),
    # status and last error
    "od_status_str": (c_char_p, [c_int32]),
    "od_last_error_status": (od_status, []),
    "od_last_error_http_status": (c_int32, []),
    "od_last_error_retry_after_ms": (c_int64, []),
    "od_last_error_string": (od_status, [c_int32, c_char_p, c_size_t, POINTER(c_size_t)]),
    "od_last_error_clear": (None, []),
}

#: Functions in :data:`FUNCTIONS` that the loaded library does not export
#: (an older library named by ``$ONEDRIVE_NATIVE_LIB``). Calling one raises
#: AttributeError.
MISSING: List[str] = []


def _load() -> Tuple[ctypes.CDLL, str]:
    path = find_library()
    lib = ctypes.CDLL(path)  # CDLL, not PyDLL: the GIL is released during calls
    for name, (restype, argtypes) in FUNCTIONS.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            MISSING.append(name)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
    return lib, path


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
