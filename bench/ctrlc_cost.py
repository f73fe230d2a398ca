"""What the Python binding's Ctrl-C design costs per call (issue 25 item 2):
the `_Callback` made for every call that can report progress, and each
progress report through the shared C trampoline, next to a ctypes round trip
into a bare function. No signal handler is installed, so that is all of it
(issue 16's install/restore of a handler cost 75 us per call).

    ONEDRIVE_NATIVE_LIB=target/release/libonedrive_native.so python3 bench/ctrlc_cost.py
"""
import ctypes, time, sys
sys.path.insert(0, "bindings/python")
from onedrive_native import client as C
N = 200_000
def per(f, n=N):
    best = 1e9
    for _ in range(5):
        t = time.perf_counter(); f(n); best = min(best, time.perf_counter() - t)
    return best / n * 1e6
# a report through the C function pointer, as the library makes it
cb = C._Callback(None)
fn, ud = cb.args
fp = ctypes.cast(fn, ctypes.c_void_p).value
call = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64)(fp)
def reports(n):
    for _ in range(n): call(ud, 1, 2)
def baseline(n):  # the same ctypes round trip into a trivial Python function
    f = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64)(lambda u, d, t: 0)
    for _ in range(n): f(None, 1, 2)
def make_callbacks(n):
    for _ in range(n): C._Callback(None)
print(f"progress report through the trampoline: {per(reports):.2f} us; ctypes round trip to a bare function: {per(baseline):.2f} us")
print(f"_Callback made per call (key, registry, args): {per(make_callbacks):.2f} us")
