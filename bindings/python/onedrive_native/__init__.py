"""onedrive-native for Python: upload, import and copy files on OneDrive /
SharePoint through Microsoft Graph, over the native library's C ABI.

    from onedrive_native import Client, Conflict

    with Client(token=TOKEN) as od:
        item = od.upload("/Documents", "report.pdf", "report.pdf", conflict=Conflict.RENAME)
        job = od.copy(item.id, "/Backup", name="report-copy.pdf")
        copy = job.wait(timeout=120)
"""

from __future__ import annotations

from . import _ffi
from ._ffi import LIB_ENV, SKIP_VERSION_CHECK_ENV, LibraryNotFoundError, LibraryVersionError
from .aio import AsyncClient, AsyncJob, AsyncListing
from .client import (
    DEFAULT_CHUNK_SIZE,
    GRAPH_SCOPE,
    DEFAULT_SIMPLE_LIMIT,
    CancelToken,
    Client,
    Conflict,
    Data,
    Hash,
    Item,
    Job,
    JobProgress,
    JobState,
    JobStatus,
    Listing,
    Progress,
    Sink,
    Stream,
    UploadSession,
)
from .transfers import (
    AsyncTransferQueue,
    EventKind,
    QueueEvent,
    QueueTotals,
    Transfer,
    TransferKind,
    TransferQueue,
    TransferState,
    WaitReason,
)
from ._exceptions import *  # noqa: F401,F403  (one class per od_status, generated)
from ._exceptions import __all__ as _exception_names
from .errors import EXCEPTIONS, OneDriveError, Status, exception_class

def _package_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover
        return _ffi.version()
    try:
        return version("onedrive-native")
    except PackageNotFoundError:  # run from a source tree
        return _ffi.version()


#: The package's version: the onedrive-native crate's it was built from.
__version__ = _package_version()


def native_version() -> str:
    """The loaded native library's version (``od_version``)."""
    return _ffi.version()


def library_path() -> str:
    """The path of the shared library in use."""
    return _ffi.library_path


__all__ = [
    "LIB_ENV",
    "LibraryNotFoundError",
    "LibraryVersionError",
    "SKIP_VERSION_CHECK_ENV",
    "AsyncClient",
    "AsyncJob",
    "AsyncListing",
    "AsyncTransferQueue",
    "EventKind",
    "QueueEvent",
    "QueueTotals",
    "Transfer",
    "TransferKind",
    "TransferQueue",
    "TransferState",
    "WaitReason",
    "Listing",
    "Sink",
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_SIMPLE_LIMIT",
    "GRAPH_SCOPE",
    "CancelToken",
    "Client",
    "Conflict",
    "Data",
    "Item",
    "Job",
    "JobProgress",
    "JobState",
    "JobStatus",
    "Progress",
    "Stream",
    "UploadSession",
    "Hash",
    "EXCEPTIONS",
    "OneDriveError",
    "Status",
    "exception_class",
    "native_version",
    "library_path",
    *_exception_names,
]
