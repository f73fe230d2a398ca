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

        // A pointer this object does not own (borrowed from a list): never freed.
        private bool borrowed;

        /// <summary>A handle over a pointer borrowed from another object (which
        /// the caller keeps alive while it is used): disposing it frees nothing.</summary>
        internal static T Borrow<T>(IntPtr p) where T : OdHandle, new()
        {
            var h = new T();
            h.borrowed = true;
            h.SetHandle(p);
            return h;
        }

        protected sealed override bool ReleaseHandle()
        {
            if (borrowed) return true;
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

    /// <summary>Callback states (GCHandles) kept alive until a handle is freed:
    /// a callback on another thread may still be running an earlier one when
    /// it is replaced from inside a callback, and one may run until the free.</summary>
    internal sealed class CallbackStates
    {
        private readonly object gate = new object();
        private List<GCHandle> states;

        internal void Keep(GCHandle state)
        {
            lock (gate)
            {
                if (states == null) states = new List<GCHandle>();
                states.Add(state);
            }
        }

        /// <summary>Once the handle was freed: no callback runs any more.</summary>
        internal void FreeAll()
        {
            lock (gate)
            {
                if (states == null) return;
                foreach (var g in states) g.Free();
                states = null;
            }
        }
    }

    internal sealed partial class ClientHandle
    {
        private readonly CallbackStates callbackStates = new CallbackStates();

        /// <summary>Keeps a callback's state (a token callback, the log sink)
        /// alive until the client is freed.</summary>
        internal void KeepUntilFreed(GCHandle state) { callbackStates.Keep(state); }

        // After od_client_free: no callback runs any more.
        partial void AfterFree() { callbackStates.FreeAll(); }
    }

    internal sealed partial class QueueHandle
    {
        private readonly CallbackStates callbackStates = new CallbackStates();
        private ClientHandle client;

        /// <summary>Keeps the event callback's state alive until the queue is
        /// freed (the callback may run until then).</summary>
        internal void KeepUntilFreed(GCHandle state) { callbackStates.Keep(state); }

        /// <summary>Keeps the managed client's native client, and the callback
        /// state the managed client frees with it, alive until the queue is
        /// freed: the queue's threads use them.</summary>
        internal void KeepClient(ClientHandle c)
        {
            bool added = false;
            c.DangerousAddRef(ref added);
            if (added) client = c;
        }

        // After od_queue_free: its threads have ended, no callback runs.
        partial void AfterFree()
        {
            callbackStates.FreeAll();
            ClientHandle c = Interlocked.Exchange(ref client, null);
            if (c != null) c.DangerousRelease();
        }
    }

    internal sealed partial class CancelHandle
    {
        /// <summary>A C NULL for the optional `cancel` arguments (the runtime
        /// refuses a null SafeHandle reference). Never freed.</summary>
        internal static readonly CancelHandle Null = new CancelHandle();
    }
}

