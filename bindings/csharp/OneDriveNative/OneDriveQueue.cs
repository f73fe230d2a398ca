using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace OneDriveNative
{
    /// <summary>What a queued transfer does (<c>od_transfer_kind</c>).</summary>
    public enum TransferKind
    {
        /// <summary>A local file to a drive.</summary>
        Upload = NativeMethods.OD_TRANSFER_UPLOAD,
        /// <summary>The service fetches a URL into a new file.</summary>
        UrlUpload = NativeMethods.OD_TRANSFER_URL_UPLOAD,
        /// <summary>A server-side copy.</summary>
        Copy = NativeMethods.OD_TRANSFER_COPY,
    }

    /// <summary>Where a queued transfer stands (<c>od_transfer_state</c>).</summary>
    public enum TransferState
    {
        /// <summary>Waiting for a free slot.</summary>
        Queued = NativeMethods.OD_TRANSFER_QUEUED,
        /// <summary>Being sent (<see cref="Transfer.Done"/> of <see cref="Transfer.Total"/>).</summary>
        Running = NativeMethods.OD_TRANSFER_RUNNING,
        /// <summary>Paused by the app: it waits for <see cref="OneDriveQueue.Resume"/>.</summary>
        Paused = NativeMethods.OD_TRANSFER_PAUSED,
        /// <summary>Waiting for the network (<see cref="OneDriveQueue.SetOnline"/>) or for a
        /// retry after a transient error (<see cref="Transfer.RetryAt"/>).</summary>
        Waiting = NativeMethods.OD_TRANSFER_WAITING,
        /// <summary>Done: <see cref="Transfer.Item"/>.</summary>
        Completed = NativeMethods.OD_TRANSFER_COMPLETED,
        /// <summary>Ended by a permanent error: <see cref="Transfer.Error"/>.</summary>
        Failed = NativeMethods.OD_TRANSFER_FAILED,
        /// <summary>Cancelled by the app.</summary>
        Cancelled = NativeMethods.OD_TRANSFER_CANCELLED,
    }

    /// <summary>Why a waiting transfer waits (<c>od_wait_reason</c>).</summary>
    public enum TransferWaitReason
    {
        None = NativeMethods.OD_WAIT_NONE,
        /// <summary>The app said "not now" (<see cref="OneDriveQueue.SetOnline"/> false).</summary>
        Offline = NativeMethods.OD_WAIT_OFFLINE,
        /// <summary>A transient error: retried at <see cref="Transfer.RetryAt"/>.</summary>
        Retry = NativeMethods.OD_WAIT_RETRY,
    }

    /// <summary>A queued transfer as it was when read (a managed copy).</summary>
    public sealed class Transfer
    {
        private Transfer() { }

        /// <summary>Stable across reopenings, never reused (from 1).</summary>
        public long Id { get; private set; }
        public TransferKind Kind { get; private set; }
        public TransferState State { get; private set; }
        public TransferWaitReason WaitReason { get; private set; }
        /// <summary>When a transfer waiting for a retry is due; null otherwise.</summary>
        public DateTimeOffset? RetryAt { get; private set; }
        /// <summary>Uploads: bytes the service has; copies and uploads from URL:
        /// hundredths of a percent (of <see cref="Total"/> 10000).</summary>
        public long Done { get; private set; }
        /// <summary>An upload's file size; 10000 for copies and uploads from URL.</summary>
        public long Total { get; private set; }
        /// <summary>The destination name (empty for a copy that keeps its source's name).</summary>
        public string Name { get; private set; }
        /// <summary>A completed transfer's item; null before.</summary>
        public DriveItem Item { get; private set; }
        /// <summary>A failed transfer's error, or the transient one a waiting transfer
        /// will retry after; null when none. Not thrown: read.</summary>
        public OneDriveException Error { get; private set; }

        /// <summary>Completed, failed or cancelled.</summary>
        public bool IsFinished
        {
            get { return State == TransferState.Completed || State == TransferState.Failed || State == TransferState.Cancelled; }
        }

        /// <summary>Done / Total, between 0 and 1 (0 when Total is 0).</summary>
        public double Fraction { get { return Total == 0 ? 0.0 : (double)Done / Total; } }

        internal static Transfer Read(TransferHandle t)
        {
            long retryAt = NativeMethods.od_transfer_retry_at_ms(t);
            int error = NativeMethods.od_transfer_error_status(t);
            return new Transfer
            {
                Id = (long)NativeMethods.od_transfer_id(t),
                Kind = (TransferKind)NativeMethods.od_transfer_get_kind(t),
                State = (TransferState)NativeMethods.od_transfer_get_state(t),
                WaitReason = (TransferWaitReason)NativeMethods.od_transfer_wait_reason(t),
                RetryAt = retryAt >= 0 ? DateTimeOffset.FromUnixTimeMilliseconds(retryAt) : (DateTimeOffset?)null,
                Done = (long)NativeMethods.od_transfer_done(t),
                Total = (long)NativeMethods.od_transfer_total(t),
                Name = Utf8.Borrowed(t, NativeMethods.od_transfer_name),
                Item = ItemOf(t),
                Error = error == 0 ? null : new OneDriveException((OneDriveStatus)error,
                    Utf8.Borrowed(t, NativeMethods.od_transfer_error_message),
                    NativeMethods.od_transfer_error_http_status(t),
                    Utf8.Borrowed(t, NativeMethods.od_transfer_error_code),
                    Utf8.Borrowed(t, NativeMethods.od_transfer_error_inner_code),
                    Utf8.Borrowed(t, NativeMethods.od_transfer_error_request_id), null),
            };
        }

        // A completed transfer's item; null before (od_transfer_item then
        // answers OD_ERR_INVALID_STATE and leaves the handle invalid).
        private static DriveItem ItemOf(TransferHandle t)
        {
            ItemHandle h;
            NativeMethods.od_transfer_item(t, out h);
            return DriveItem.Take(h);
        }

        public override string ToString() { return "transfer " + Id + " " + Kind + " " + State + " " + Done + "/" + Total; }
    }

    /// <summary>Files and bytes of a whole queue (<see cref="OneDriveQueue.GetTotals"/>).</summary>
    public struct TransferTotals
    {
        /// <summary>Transfers in the queue, every state.</summary>
        public long Files { get; internal set; }
        public long Completed { get; internal set; }
        public long Failed { get; internal set; }
        public long Cancelled { get; internal set; }
        /// <summary>Bytes of the uploads (a completed one counts whole); copies and
        /// uploads from URL have no byte count.</summary>
        public long BytesDone { get; internal set; }
        public long BytesTotal { get; internal set; }

        /// <summary>BytesDone / BytesTotal, between 0 and 1 (0 when BytesTotal is 0).</summary>
        public double Fraction { get { return BytesTotal == 0 ? 0.0 : (double)BytesDone / BytesTotal; } }

        public override string ToString()
        {
            return Completed + "/" + Files + " files, " + BytesDone + "/" + BytesTotal + " bytes";
        }
    }

    /// <summary>What a queue event tells.</summary>
    public enum TransferEventKind
    {
        /// <summary>The transfer entered <see cref="TransferEvent.State"/>.</summary>
        State = NativeMethods.OD_QUEUE_EVENT_STATE,
        /// <summary>A running transfer moved on (<see cref="TransferEvent.Done"/> of
        /// <see cref="TransferEvent.Total"/>; at most every 64 KiB or 250 ms per transfer).</summary>
        Progress = NativeMethods.OD_QUEUE_EVENT_PROGRESS,
    }

    /// <summary>One event of a queue: a state change or progress.</summary>
    public sealed class TransferEvent : EventArgs
    {
        internal TransferEvent(ulong id, int kind, int state, ulong done, ulong total)
        {
            Id = (long)id;
            Kind = (TransferEventKind)kind;
            State = state >= 0 ? (TransferState)state : (TransferState?)null;
            Done = (long)done;
            Total = (long)total;
        }

        public long Id { get; private set; }
        public TransferEventKind Kind { get; private set; }
        /// <summary>For a state event, the new state; null for progress.</summary>
        public TransferState? State { get; private set; }
        /// <summary>For progress: uploads in bytes, copies and uploads from URL in
        /// hundredths of a percent of 10000; 0 for a state event.</summary>
        public long Done { get; private set; }
        public long Total { get; private set; }

        public override string ToString()
        {
            return "transfer " + Id + (State.HasValue ? " " + State.Value : " " + Done + "/" + Total);
        }
    }

    /// <summary>
    /// A durable transfer queue in a directory the app chooses (<c>od_queue</c>):
    /// uploads of local files, uploads from URL and copies, recorded on disk
    /// before the library acts, so that a crash, a kill or a reboot loses
    /// nothing and repeats nothing; reopening the directory restores every
    /// transfer and goes on. At most <c>maxRunning</c> run at once, on the
    /// queue's own threads, through the client (its token, settings and rate
    /// caps). A transient failure waits and retries; a permanent one fails the
    /// transfer (<see cref="Transfer.Error"/>).
    ///
    /// Progress and state changes come as the <see cref="Changed"/> event
    /// (raised on the queue's event thread) and, for polling, from
    /// <see cref="NextEvent"/> / <see cref="NextEventAsync"/> (and
    /// <c>Events</c>, an <c>IAsyncEnumerable</c>, in the netstandard2.1
    /// assembly). Thread-safe. Dispose closes it (running transfers stop at a
    /// safe point and go on at the next open) and frees it; a queue never
    /// disposed is freed by its finalizer.
    /// </summary>
    public sealed class OneDriveQueue : IDisposable
#if ONEDRIVE_ASYNC_INTERFACES
        , IAsyncDisposable
#endif
    {
        private static readonly OdQueueEventFn EventThunk = OnEvent;
        /// <summary>Set on the queue's event thread while a handler runs: Dispose
        /// and Close from there would wait for themselves.</summary>
        [ThreadStatic] private static bool inEventHandler;

        internal readonly QueueHandle Handle;
        private readonly object gate = new object();
        private EventSink sink; // the handlers, reached from native code through a GCHandle

        private OneDriveQueue(QueueHandle handle) { Handle = handle; }

        /// <summary>Opens (creating) the queue kept in <paramref name="directory"/>
        /// and restores every transfer recorded there; those that were queued,
        /// running or waiting start again.</summary>
        /// <param name="client">runs the transfers; the queue keeps it alive (disposing the client
        /// first is fine: its native part lives on until the queue is freed)</param>
        /// <param name="directory">the app's private storage; one queue per directory (a
        /// second open, in any process: <see cref="OneDriveInvalidStateException"/>)</param>
        /// <param name="maxRunning">transfers at once, at least 1</param>
        /// <param name="startOffline">nothing runs until <see cref="SetOnline"/>(true)</param>
        /// <param name="keepEvents">false: keep no events for <see cref="NextEvent"/> (for an
        /// app that only uses <see cref="Changed"/>; otherwise undrained state changes
        /// accumulate)</param>
        public static OneDriveQueue Open(OneDriveClient client, string directory, int maxRunning = 4,
            bool startOffline = false, bool keepEvents = true)
        {
            if (client == null) throw new ArgumentNullException("client");
            if (directory == null) throw new ArgumentNullException("directory");
            if (maxRunning < 1) throw new ArgumentOutOfRangeException("maxRunning", maxRunning, "at least 1");
            if (client.IsDisposed) throw new ObjectDisposedException("OneDriveClient");
            uint flags = (startOffline ? (uint)NativeMethods.OD_QUEUE_START_OFFLINE : 0u)
                | (keepEvents ? 0u : (uint)NativeMethods.OD_QUEUE_NO_POLLING);
            QueueHandle h;
            int st = NativeMethods.od_queue_open(client.Handle, Utf8.ToNative(directory, "directory"), (uint)maxRunning,
                flags, out h);
            if (st != 0)
            {
                var e = LastError.Read(st);
                h.Dispose();
                throw e;
            }
            // The native client (and the token and log callbacks' state the
            // managed client frees with it) must outlive the queue's threads.
            h.KeepClient(client.Handle);
            return new OneDriveQueue(h);
        }

        public bool IsDisposed { get { return Handle.IsClosed; } }

        private void ThrowIfDisposed()
        {
            if (Handle.IsClosed) throw new ObjectDisposedException("OneDriveQueue");
        }

        private static void ThrowIfInHandler(string what)
        {
            if (inEventHandler)
                throw new InvalidOperationException(what + " from inside a Changed handler would wait for the handler itself: "
                    + "call it from another thread");
        }

        // ------------------------------------------------------------------
        // enqueue

        /// <summary>Enqueues the upload of the local file <paramref name="path"/>
        /// as <paramref name="name"/> in the folder <paramref name="parent"/>. The
        /// file's size and modification time are recorded now: a file changed
        /// before or while it is sent fails the transfer
        /// (<see cref="OneDriveStatus.HashMismatch"/>) rather than being sent half old,
        /// half new. On disk when this returns.</summary>
        /// <param name="path">the local file</param>
        /// <param name="parent">the folder: <c>/a/b</c>, an id, or <c>ID:/rel</c></param>
        /// <param name="name">the file's name there</param>
        /// <param name="conflict">Rename is sent as Fail first (a request of a killed process
        /// landing late is never a second copy), then as Rename when another file holds the name</param>
        /// <param name="drive">the drive prefix; null = /me/drive</param>
        /// <returns>the transfer's id, stable across reopenings</returns>
        public long EnqueueUpload(string path, string parent, string name,
            ConflictBehavior conflict = ConflictBehavior.Default, string drive = null)
        {
            if (path == null) throw new ArgumentNullException("path");
            if (parent == null) throw new ArgumentNullException("parent");
            if (name == null) throw new ArgumentNullException("name");
            ThrowIfDisposed();
            ulong id;
            LastError.Check(NativeMethods.od_queue_enqueue_upload(Handle, Utf8.ToNative(path, "path"),
                Utf8.ToNative(drive, "drive"), Utf8.ToNative(parent, "parent"), Utf8.ToNative(name, "name"),
                (int)conflict, out id));
            return (long)id;
        }

        /// <summary>Enqueues an upload from URL: the service fetches
        /// <paramref name="sourceUrl"/> into a new file. Never requested twice:
        /// a request that may have reached the service without its answer
        /// being kept completes when the file shows at its destination, else
        /// fails with <see cref="OneDriveStatus.UnknownOutcome"/>.</summary>
        public long EnqueueUrlUpload(string sourceUrl, string parent, string name, string drive = null)
        {
            if (sourceUrl == null) throw new ArgumentNullException("sourceUrl");
            if (parent == null) throw new ArgumentNullException("parent");
            if (name == null) throw new ArgumentNullException("name");
            ThrowIfDisposed();
            ulong id;
            LastError.Check(NativeMethods.od_queue_enqueue_url_upload(Handle, Utf8.ToNative(sourceUrl, "sourceUrl"),
                Utf8.ToNative(drive, "drive"), Utf8.ToNative(parent, "parent"), Utf8.ToNative(name, "name"), out id));
            return (long)id;
        }

        /// <summary>Enqueues a server-side copy of <paramref name="source"/> into
        /// the folder <paramref name="destParent"/> (of the drive
        /// <paramref name="destDriveId"/>; null: the same), named
        /// <paramref name="name"/> (null: the source's). Never posted twice, as
        /// for <see cref="EnqueueUrlUpload"/>.</summary>
        public long EnqueueCopy(string source, string destParent, string name = null,
            ConflictBehavior conflict = ConflictBehavior.Default, string destDriveId = null, string drive = null)
        {
            if (source == null) throw new ArgumentNullException("source");
            if (destParent == null) throw new ArgumentNullException("destParent");
            ThrowIfDisposed();
            ulong id;
            LastError.Check(NativeMethods.od_queue_enqueue_copy(Handle, Utf8.ToNative(drive, "drive"),
                Utf8.ToNative(source, "source"), Utf8.ToNative(destParent, "destParent"),
                Utf8.ToNative(destDriveId, "destDriveId"), Utf8.ToNative(name, "name"), (int)conflict, out id));
            return (long)id;
        }

        // ------------------------------------------------------------------
        // control

        /// <summary>Pauses a transfer (a running one stops at once; its upload
        /// session is kept). Finished: <see cref="OneDriveInvalidStateException"/>;
        /// unknown id: <see cref="OneDriveNotFoundException"/>. Allowed in a handler.</summary>
        public void Pause(long id) { Control(NativeMethods.od_queue_pause, id); }

        /// <summary>Resumes a paused transfer (nothing for one that is not
        /// paused). Finished: <see cref="OneDriveInvalidStateException"/>.</summary>
        public void Resume(long id) { Control(NativeMethods.od_queue_resume, id); }

        /// <summary>Cancels a transfer (a running one stops at once; its upload
        /// session is deleted on the service). Completed or failed:
        /// <see cref="OneDriveInvalidStateException"/>.</summary>
        public void Cancel(long id) { Control(NativeMethods.od_queue_cancel, id); }

        /// <summary>Removes a finished transfer. Unfinished: <see cref="OneDriveInvalidStateException"/>.</summary>
        public void Remove(long id) { Control(NativeMethods.od_queue_remove, id); }

        public void PauseAll() { Control(NativeMethods.od_queue_pause_all); }
        public void ResumeAll() { Control(NativeMethods.od_queue_resume_all); }
        public void CancelAll() { Control(NativeMethods.od_queue_cancel_all); }

        /// <summary>Removes every finished transfer; returns how many.</summary>
        public long RemoveFinished()
        {
            ThrowIfDisposed();
            ulong n;
            LastError.Check(NativeMethods.od_queue_remove_finished(Handle, out n));
            return (long)n;
        }

        /// <summary>How many transfers may run at once (at least 1); lowering it
        /// lets running ones finish.</summary>
        public void SetMaxRunning(int n)
        {
            if (n < 1) throw new ArgumentOutOfRangeException("n", n, "at least 1");
            ThrowIfDisposed();
            LastError.Check(NativeMethods.od_queue_set_max_running(Handle, (uint)n));
        }

        /// <summary>"Not now" (offline, a metered network): false stops running
        /// transfers at once and makes every unfinished one wait
        /// (<see cref="TransferWaitReason.Offline"/>) without spending retries;
        /// true lets them go on.</summary>
        public void SetOnline(bool online)
        {
            ThrowIfDisposed();
            LastError.Check(NativeMethods.od_queue_set_online(Handle, online ? 1 : 0));
        }

        private void Control(Func<QueueHandle, ulong, int> fn, long id)
        {
            if (id < 1) throw new ArgumentOutOfRangeException("id", id, "transfer ids start at 1");
            ThrowIfDisposed();
            LastError.Check(fn(Handle, (ulong)id));
        }

        private void Control(Func<QueueHandle, int> fn)
        {
            ThrowIfDisposed();
            LastError.Check(fn(Handle));
        }

        // ------------------------------------------------------------------
        // reading

        /// <summary>One transfer as it stands; unknown id: <see cref="OneDriveNotFoundException"/>.</summary>
        public Transfer Get(long id)
        {
            if (id < 1) throw new ArgumentOutOfRangeException("id", id, "transfer ids start at 1");
            ThrowIfDisposed();
            TransferHandle t;
            int st = NativeMethods.od_queue_get(Handle, (ulong)id, out t);
            using (t)
            {
                LastError.Check(st);
                return Transfer.Read(t);
            }
        }

        /// <summary>The transfers in the given states (none given: all), in id order.</summary>
        public IReadOnlyList<Transfer> List(params TransferState[] states)
        {
            uint mask = 0;
            if (states == null || states.Length == 0) mask = 0x7F;
            else foreach (TransferState s in states) mask |= 1u << (int)s;
            ThrowIfDisposed();
            TransferListHandle list;
            int st = NativeMethods.od_queue_list(Handle, mask, out list);
            using (list)
            {
                LastError.Check(st);
                int n = (int)NativeMethods.od_transfer_list_count(list).ToUInt64();
                var result = new List<Transfer>(n);
                for (int i = 0; i < n; i++)
                {
                    // borrowed from the list, which this block keeps alive
                    using (TransferHandle t = OdHandle.Borrow<TransferHandle>(NativeMethods.od_transfer_list_get(list, new UIntPtr((uint)i))))
                        result.Add(Transfer.Read(t));
                }
                return result;
            }
        }

        /// <summary>Files and bytes of the whole queue.</summary>
        public TransferTotals GetTotals()
        {
            ThrowIfDisposed();
            ulong files, completed, failed, cancelled, done, total;
            LastError.Check(NativeMethods.od_queue_totals(Handle, out files, out completed, out failed, out cancelled,
                out done, out total));
            return new TransferTotals
            {
                Files = (long)files, Completed = (long)completed, Failed = (long)failed, Cancelled = (long)cancelled,
                BytesDone = (long)done, BytesTotal = (long)total,
            };
        }

        /// <summary>Waits until nothing is queued, running or waiting (paused and
        /// finished transfers do not count). True when idle, false after
        /// <paramref name="timeout"/> (null: no limit);
        /// OperationCanceledException when the token is cancelled. Not from a handler.</summary>
        public bool WaitIdle(TimeSpan? timeout = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            long ms = -1;
            if (timeout.HasValue)
            {
                if (timeout.Value < TimeSpan.Zero) throw new ArgumentOutOfRangeException("timeout");
                ms = (long)Math.Ceiling(timeout.Value.TotalMilliseconds);
            }
            ThrowIfInHandler("WaitIdle");
            ThrowIfDisposed();
            using (var call = new CallContext(null, null, cancellationToken))
            {
                int st = NativeMethods.od_queue_wait_idle(Handle, ms, call.Cancel);
                if (st == (int)OneDriveStatus.Timeout) return false;
                call.Check(st);
                return true;
            }
        }

        /// <summary><see cref="WaitIdle"/> on the thread pool (it holds a pool thread while it waits).</summary>
        public Task<bool> WaitIdleAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return AsyncRunner.Run(() => WaitIdle(timeout, cancellationToken), cancellationToken);
        }

        // ------------------------------------------------------------------
        // events

        /// <summary>What the native callback reaches through its userdata: the
        /// handlers only (nothing that refers to the queue, so a queue nobody
        /// holds can still be finalized).</summary>
        private sealed class EventSink
        {
            internal volatile EventHandler<TransferEvent> Handlers;
        }

        /// <summary>
        /// Every state change and progress of the queue's transfers, raised on
        /// the queue's event thread, one event at a time, in order (the sender
        /// is null). Keep handlers short. Inside one, every method of the queue
        /// may be called but <see cref="Dispose"/>, <see cref="Close"/> and
        /// <see cref="WaitIdle"/> (they would wait for the handler itself:
        /// InvalidOperationException). An exception a handler throws is
        /// dropped; the other handlers still run. The callback is installed
        /// in the library only while a handler is subscribed. A UI app posts
        /// to its own thread from the handler (<c>SynchronizationContext.Post</c>).
        /// </summary>
        public event EventHandler<TransferEvent> Changed
        {
            add
            {
                if (value == null) return;
                lock (gate)
                {
                    ThrowIfDisposed();
                    if (sink != null)
                    {
                        sink.Handlers = (EventHandler<TransferEvent>)Delegate.Combine(sink.Handlers, value);
                        return;
                    }
                    var s = new EventSink { Handlers = value };
                    var state = GCHandle.Alloc(s);
                    Handle.KeepUntilFreed(state); // the callback may run until the queue is freed
                    LastError.Check(NativeMethods.od_queue_set_event_callback(Handle, EventThunk, GCHandle.ToIntPtr(state)));
                    sink = s;
                }
            }
            remove
            {
                if (value == null) return;
                lock (gate)
                {
                    if (sink == null) return;
                    sink.Handlers = (EventHandler<TransferEvent>)Delegate.Remove(sink.Handlers, value);
                    // The callback stays installed: with no handler it returns at
                    // once, and removing it would wait for a running one.
                }
            }
        }

        [MonoPInvokeCallback(typeof(OdQueueEventFn))]
        private static void OnEvent(IntPtr userdata, ulong id, int kind, int state, ulong done, ulong total)
        {
            try
            {
                var s = (EventSink)GCHandle.FromIntPtr(userdata).Target;
                EventHandler<TransferEvent> handlers = s.Handlers;
                if (handlers == null) return;
                var e = new TransferEvent(id, kind, state, done, total);
                inEventHandler = true;
                try
                {
                    foreach (EventHandler<TransferEvent> h in handlers.GetInvocationList())
                    {
                        try { h(null, e); }
                        catch { } // a handler's failure is its own: the others still run
                    }
                }
                finally
                {
                    inEventHandler = false;
                }
            }
            catch
            {
                // never unwind into native code
            }
        }

        /// <summary>The next event kept for polling, waiting up to
        /// <paramref name="timeout"/> for one (zero: do not wait); null when none
        /// came. State changes are all kept, in order; progress is kept as the
        /// latest per transfer. None are kept for a queue opened with
        /// <c>keepEvents: false</c>. Independent of <see cref="Changed"/>: both see
        /// every event.</summary>
        public TransferEvent NextEvent(TimeSpan timeout)
        {
            if (timeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException("timeout");
            double ms = Math.Ceiling(timeout.TotalMilliseconds);
            ThrowIfDisposed();
            ulong id, done, total;
            int kind, state;
            int st = NativeMethods.od_queue_next_event(Handle, (uint)Math.Min(ms, uint.MaxValue), out id, out kind,
                out state, out done, out total);
            if (st == (int)OneDriveStatus.Timeout) return null;
            LastError.Check(st);
            return new TransferEvent(id, kind, state, done, total);
        }

        // How long one native wait of NextEventAsync lasts before it looks at its token.
        private static readonly TimeSpan PollSlice = TimeSpan.FromMilliseconds(200);

        /// <summary>The next event kept for polling, waiting as long as it takes
        /// (or until the token is cancelled: OperationCanceledException). It
        /// waits on a pool thread, in slices of 200 ms between which it looks
        /// at the token.</summary>
        public Task<TransferEvent> NextEventAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return AsyncRunner.Run(() =>
            {
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    TransferEvent e = NextEvent(PollSlice);
                    if (e != null) return e;
                }
            }, cancellationToken);
        }

#if ONEDRIVE_ASYNC_INTERFACES
        /// <summary>The events kept for polling as an <c>IAsyncEnumerable</c>
        /// (<c>await foreach</c>): endless until the token (this one or
        /// <c>WithCancellation</c>'s) is cancelled or the queue disposed; each
        /// step is a <see cref="NextEventAsync"/>. In the netstandard2.1 assembly;
        /// with netstandard2.0 loop on NextEventAsync.</summary>
        public IAsyncEnumerable<TransferEvent> Events(CancellationToken cancellationToken = default(CancellationToken))
        {
            return new AsyncSequence<TransferEvent>(() => new EventSource(this), cancellationToken);
        }
#endif

#if ONEDRIVE_ASYNC_INTERFACES
        private sealed class EventSource : IAsyncSource<TransferEvent>
        {
            private readonly OneDriveQueue queue;
            internal EventSource(OneDriveQueue queue) { this.queue = queue; }
            public Task<TransferEvent> NextAsync(CancellationToken cancellationToken) { return queue.NextEventAsync(cancellationToken); }
            public void Dispose() { }
        }
#endif

        // ------------------------------------------------------------------
        // closing

        /// <summary>Stops the queue: running transfers are interrupted at a safe
        /// point and stay resumable (they go on at the next <see cref="Open"/>), its
        /// threads end, the directory is unlocked. It can still be read
        /// afterwards; changes throw <see cref="OneDriveInvalidStateException"/>.
        /// Twice is harmless. Not from inside a handler.</summary>
        public void Close()
        {
            ThrowIfInHandler("Close");
            ThrowIfDisposed();
            LastError.Check(NativeMethods.od_queue_close(Handle));
        }

        /// <summary>Closes (as <see cref="Close"/>) and frees the queue once no call
        /// is using it. Twice is harmless. Not from inside a handler.</summary>
        public void Dispose()
        {
            ThrowIfInHandler("Dispose");
            Handle.Dispose();
        }

#if ONEDRIVE_ASYNC_INTERFACES
        /// <summary>As <see cref="Dispose"/>, on the thread pool (closing waits for
        /// running transfers to reach a safe point).</summary>
        public ValueTask DisposeAsync()
        {
            ThrowIfInHandler("DisposeAsync");
            return new ValueTask(Task.Run(() => Handle.Dispose()));
        }
#else
        /// <summary>As <see cref="Dispose"/>, on the thread pool (closing waits for
        /// running transfers to reach a safe point).</summary>
        public Task DisposeAsync()
        {
            ThrowIfInHandler("DisposeAsync");
            return Task.Run(() => Handle.Dispose());
        }
#endif
    }
}
