using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;

namespace OneDriveNative
{
    /// <summary>Base of the handle types: a pointer owned by this object,
    /// freed exactly once, by Dispose or by the finalizer (on the finalizer
    /// thread; the library allows that for every handle type).</summary>
    internal abstract class OdHandle : SafeHandle
    {
        protected OdHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        /// <summary>Test hook: called after a handle was freed, with its type
        /// name (lets the tests see finalizers run; never set in production).</summary>
#pragma warning disable 649 // assigned by the test suite only
        internal static volatile Action<string> Released;
#pragma warning restore 649

        protected sealed override bool ReleaseHandle()
        {
            Free(handle);
            handle = IntPtr.Zero;
            var hook = Released;
            if (hook != null)
            {
                try { hook(GetType().Name); } catch { }
            }
            return true;
        }

        protected abstract void Free(IntPtr h);
    }

    // The handle class of each opaque type (constructor, Free calling its
    // od_x_free) is generated in NativeMethods.g.cs; the parts below add
    // what a type needs besides.

    internal sealed partial class ClientHandle
    {
        private readonly object gate = new object();
        private List<GCHandle> callbackStates;

        /// <summary>Keeps a callback's state (a token callback, the log sink)
        /// alive until the client is freed: a request on another thread may
        /// still be calling an earlier callback when it is replaced from
        /// inside a callback.</summary>
        internal void KeepUntilFreed(GCHandle state)
        {
            lock (gate)
            {
                if (callbackStates == null) callbackStates = new List<GCHandle>();
                callbackStates.Add(state);
            }
        }

        // After od_client_free: no callback runs any more.
        partial void AfterFree()
        {
            lock (gate)
            {
                if (callbackStates != null)
                {
                    foreach (var g in callbackStates) g.Free();
                    callbackStates = null;
                }
            }
        }
    }

    internal sealed partial class CancelHandle
    {
        /// <summary>A C NULL for the optional `cancel` arguments (the runtime
        /// refuses a null SafeHandle reference). Never freed.</summary>
        internal static readonly CancelHandle Null = new CancelHandle();
    }
}
