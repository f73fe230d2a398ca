using System;
using System.IO;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace OneDriveNative
{
    /// <summary>
    /// Marks a static method that native code calls back (required by
    /// Xamarin.iOS / full AOT, which recognise the attribute by its name).
    /// </summary>
    [AttributeUsage(AttributeTargets.Method)]
    internal sealed class MonoPInvokeCallbackAttribute : Attribute
    {
        public MonoPInvokeCallbackAttribute(Type delegateType) { DelegateType = delegateType; }
        public Type DelegateType { get; private set; }
    }

    /// <summary>The thread's last-error detail, read right after a failing
    /// call on the same thread (it is thread-local in the library).</summary>
    internal static class LastError
    {
        internal const int FieldMessage = NativeMethods.OD_ERROR_MESSAGE, FieldCode = NativeMethods.OD_ERROR_CODE,
            FieldInnerCode = NativeMethods.OD_ERROR_INNER_CODE, FieldRequestId = NativeMethods.OD_ERROR_REQUEST_ID;

        // What the token callback threw on this thread, for the failure it
        // causes (the 401 that stands): its inner exception. Reset each time
        // the callback starts, and taken by the next Read or Check.
        [ThreadStatic] private static Exception tokenCallbackError;

        /// <summary>The token callback, on the thread of the request that
        /// asked it: null when it starts, the exception when it threw.</summary>
        internal static void SetTokenCallbackError(Exception e) { tokenCallbackError = e; }

        /// <summary>Builds the exception for <paramref name="status"/> from the
        /// detail the failing call left on this thread. A 401 that the token
        /// callback's exception let stand carries that exception as its inner
        /// one. (An argument status makes an ArgumentException, hence the
        /// return type.)</summary>
        internal static Exception Read(int status)
        {
            Exception cause = tokenCallbackError;
            tokenCallbackError = null;
            if (status != (int)OneDriveStatus.Unauthorized) cause = null;
            int http = NativeMethods.od_last_error_http_status();
            long retryMs = NativeMethods.od_last_error_retry_after_ms();
            string message = Field(FieldMessage);
            string code = NullIfEmpty(Field(FieldCode));
            string inner = NullIfEmpty(Field(FieldInnerCode));
            string requestId = NullIfEmpty(Field(FieldRequestId));
            if (string.IsNullOrEmpty(message)) message = StatusText(status);
            TimeSpan? retry = retryMs >= 0 ? TimeSpan.FromMilliseconds(retryMs) : (TimeSpan?)null;
            return OneDriveException.Create((OneDriveStatus)status, message, http, code, inner, requestId, retry, cause);
        }

        /// <summary>As <see cref="Read"/>, for a service's verdict on a job
        /// (never an argument error; one would become a plain OneDriveException).</summary>
        internal static OneDriveException ReadServiceError(int status)
        {
            Exception e = Read(status);
            return e as OneDriveException ?? new OneDriveException((OneDriveStatus)status, e.Message);
        }

        /// <summary>One text field, with the buffer + needed-length protocol:
        /// ask for the length, then read into a buffer that size.</summary>
        internal static string Field(int field)
        {
            UIntPtr needed;
            int st = NativeMethods.od_last_error_string(field, null, UIntPtr.Zero, out needed);
            // A few rounds at most: the detail cannot change under us (it is
            // thread-local), but be defensive rather than loop forever.
            for (int round = 0; round < 4; round++)
            {
                if (st != (int)OneDriveStatus.BufferTooSmall && st != (int)OneDriveStatus.Ok) return null;
                ulong n = needed.ToUInt64();
                if (n == 0 || n > int.MaxValue) return null;
                var buf = new byte[(int)n];
                st = NativeMethods.od_last_error_string(field, buf, new UIntPtr(n), out needed);
                if (st == (int)OneDriveStatus.Ok) return Utf8.FromBuffer(buf);
            }
            return null;
        }

        internal static string StatusText(int status)
        {
            return Utf8.FromNative(NativeMethods.od_status_str(status)); // static string
        }

        private static string NullIfEmpty(string s) { return string.IsNullOrEmpty(s) ? null : s; }

        /// <summary>Throws the exception for a failed status (no-op on OD_OK).</summary>
        internal static void Check(int status)
        {
            if (status != 0) throw Read(status);
            tokenCallbackError = null; // the call went through: the old token still served
        }
    }

    /// <summary>
    /// What one blocking call needs on the managed side: its progress sink,
    /// its stream, its CancellationToken wired to an <c>od_cancel</c>, and an
    /// exception a callback raised. Native code reaches it through a GCHandle
    /// (the userdata), so it stays alive, and the callbacks are static
    /// delegates held in static fields, never collected.
    /// </summary>
    internal sealed class CallContext : IDisposable
    {
        private static readonly OdProgressFn ProgressThunk = OnProgress;
        private static readonly OdReadFn ReadThunk = OnRead;
        private static readonly OdWriteFn WriteThunk = OnWrite;
        private const int MaxChunk = 1 << 20;

        private readonly IProgress<OneDriveProgress> progress;
        // a job wait's sink: the library reports (percent x 100, 10000), this gets the percent
        private readonly IProgress<double> percent;
        private readonly Stream stream;      // an upload's source
        private readonly Stream destination; // a download's sink
        private readonly CancellationToken token;
        private readonly CancelHandle cancel;
        private CancellationTokenRegistration registration;
        private GCHandle self;
        private byte[] scratch;
        private ExceptionDispatchInfo callbackError;

        internal CallContext(IProgress<OneDriveProgress> progress, Stream stream, CancellationToken token)
            : this(progress, null, stream, null, token)
        {
        }

        /// <summary>A job wait: progress as the service's percent, 0–100.</summary>
        internal CallContext(IProgress<double> percent, CancellationToken token)
            : this(null, percent, null, null, token)
        {
        }

        /// <summary>A download into a stream.</summary>
        internal static CallContext Writing(IProgress<OneDriveProgress> progress, Stream destination, CancellationToken token)
        {
            return new CallContext(progress, null, null, destination, token);
        }

        private CallContext(IProgress<OneDriveProgress> progress, IProgress<double> percent, Stream stream,
            Stream destination, CancellationToken token)
        {
            token.ThrowIfCancellationRequested();
            this.progress = progress;
            this.percent = percent;
            this.stream = stream;
            this.destination = destination;
            this.token = token;
            if (token.CanBeCanceled)
            {
                CancelHandle c;
                LastError.Check(NativeMethods.od_cancel_new(out c));
                cancel = c;
                // Runs at once when the token is already cancelled: the call
                // then stops before its first request.
                registration = token.Register(state => NativeMethods.od_cancel_trigger((CancelHandle)state), cancel);
            }
            self = GCHandle.Alloc(this);
        }

        internal IntPtr UserData { get { return GCHandle.ToIntPtr(self); } }
        internal OdProgressFn Progress { get { return progress != null || percent != null ? ProgressThunk : null; } }
        internal OdReadFn Read { get { return ReadThunk; } }
        internal OdWriteFn Write { get { return WriteThunk; } }
        internal CancelHandle Cancel { get { return cancel ?? CancelHandle.Null; } }

        /// <summary>Call right after the native call returned, on its thread:
        /// throws what the failure means (the callback's own exception when a
        /// callback stopped the call; OperationCanceledException when the
        /// token did).</summary>
        internal void Check(int status)
        {
            if (status == 0) return;
            Exception error = LastError.Read(status);
            if (callbackError != null
                && (status == (int)OneDriveStatus.AbortedByCallback || status == (int)OneDriveStatus.Io))
                callbackError.Throw();
            if (status == (int)OneDriveStatus.Cancelled && token.IsCancellationRequested)
                throw new OperationCanceledException(error.Message, error, token);
            throw error;
        }

        public void Dispose()
        {
            // Waits for a cancellation callback running on another thread, so
            // the flag is never triggered after it was freed.
            registration.Dispose();
            if (cancel != null) cancel.Dispose();
            if (self.IsAllocated) self.Free();
        }

        // The buffer a stream is read into or written from, kept across callbacks.
        private byte[] Scratch(int n)
        {
            if (scratch == null || scratch.Length < n) scratch = new byte[Math.Max(n, 64 * 1024)];
            return scratch;
        }

        private static CallContext From(IntPtr userdata)
        {
            return (CallContext)GCHandle.FromIntPtr(userdata).Target;
        }

        // Never let an exception unwind into native frames: keep it, stop the
        // call, and rethrow it once the call returned.
        [MonoPInvokeCallback(typeof(OdProgressFn))]
        private static int OnProgress(IntPtr userdata, ulong done, ulong total)
        {
            CallContext ctx = null;
            try
            {
                ctx = From(userdata);
                if (ctx.percent != null)
                    ctx.percent.Report(total == 0 ? 0.0 : Math.Min(100.0, done * 100.0 / total));
                else
                    ctx.progress.Report(new OneDriveProgress(Bytes(done), Bytes(total)));
                return 0;
            }
            catch (Exception e)
            {
                Keep(ctx, e);
                return 1;
            }
        }

        // Never let an exception unwind into native frames: the first one a
        // callback of the call raised is kept, to be rethrown once it returned.
        private static void Keep(CallContext ctx, Exception e)
        {
            if (ctx != null && ctx.callbackError == null) ctx.callbackError = ExceptionDispatchInfo.Capture(e);
        }

        // A byte count as .NET counts them (a file cannot pass long.MaxValue).
        private static long Bytes(ulong n) { return n > long.MaxValue ? long.MaxValue : (long)n; }

        [MonoPInvokeCallback(typeof(OdWriteFn))]
        private static int OnWrite(IntPtr userdata, IntPtr data, UIntPtr len)
        {
            CallContext ctx = null;
            try
            {
                ctx = From(userdata);
                ulong left = len.ToUInt64();
                int offset = 0;
                while (left > 0)
                {
                    int n = (int)Math.Min(left, (ulong)MaxChunk);
                    byte[] buf = ctx.Scratch(n);
                    Marshal.Copy(IntPtr.Add(data, offset), buf, 0, n);
                    ctx.destination.Write(buf, 0, n);
                    offset += n;
                    left -= (ulong)n;
                }
                return 0;
            }
            catch (Exception e)
            {
                Keep(ctx, e);
                return 1;
            }
        }

        [MonoPInvokeCallback(typeof(OdReadFn))]
        private static long OnRead(IntPtr userdata, IntPtr buf, UIntPtr len)
        {
            CallContext ctx = null;
            try
            {
                ctx = From(userdata);
                ulong want = len.ToUInt64();
                if (want == 0) return 0;
                int n = (int)Math.Min(want, (ulong)MaxChunk);
                byte[] scratch = ctx.Scratch(n);
                int got = ctx.stream.Read(scratch, 0, n);
                if (got < 0 || got > n) throw new IOException("Stream.Read returned " + got);
                if (got > 0) Marshal.Copy(scratch, 0, buf, got);
                return got;
            }
            catch (Exception e)
            {
                Keep(ctx, e);
                return -1;
            }
        }
    }

    internal static class AsyncRunner
    {
        /// <summary>Runs a blocking call on the thread pool. The native call
        /// blocks its thread until it returns (the C API has no completion
        /// callbacks), so each running async call holds one pool thread: as
        /// many run at once as the pool has threads for them (it starts
        /// <c>ThreadPool.GetMinThreads</c> at once, then adds threads slowly
        /// while work waits). The last-error detail is read on the same
        /// thread, inside <paramref name="call"/>.</summary>
        internal static Task<T> Run<T>(Func<T> call, CancellationToken token)
        {
            return Task.Factory.StartNew(call, token, TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);
        }

        internal static Task Run(Action call, CancellationToken token)
        {
            return Task.Factory.StartNew(call, token, TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);
        }
    }
}
