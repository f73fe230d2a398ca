using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace OneDriveNative
{
    /// <summary>
    /// A client of one Graph endpoint with one token (<c>od_client</c>).
    ///
    /// Thread-safe: any number of threads may call it at once. Every method
    /// blocks on network I/O; the <c>…Async</c> variants run the same call on
    /// the thread pool. Dispose it when done (twice is harmless); a client
    /// that is never disposed is freed by its finalizer.
    ///
    /// Item references (<c>item</c>, <c>source</c>, <c>destParent</c>) are
    /// paths (<c>/a/b.txt</c>, <c>/</c> for the root), ids, or <c>ID:/rel</c>.
    /// <c>drive</c> arguments are drive prefixes (<c>/me/drive</c>,
    /// <c>/drives/ID</c>, <c>/groups/ID/drive</c>, <c>/sites/ID/drive</c>,
    /// <c>/users/ID/drive</c>); null means <c>/me/drive</c>.
    /// </summary>
    public sealed class OneDriveClient : IDisposable
#if ONEDRIVE_ASYNC_INTERFACES
        , IAsyncDisposable
#endif
    {
        private static readonly OdTokenFn TokenThunk = OnTokenNeeded;

        internal readonly ClientHandle Handle;

        /// <summary>Creates a client.</summary>
        /// <param name="baseUrl">the API root; null = https://graph.microsoft.com/v1.0</param>
        /// <param name="token">the bearer token; null = none yet</param>
        /// <param name="allowInsecureHttp">allow plain http:// to non-loopback hosts</param>
        public OneDriveClient(string baseUrl = null, string token = null, bool allowInsecureHttp = false)
        {
            ClientHandle h;
            int st = NativeMethods.od_client_new(Utf8.ToNative(baseUrl, "baseUrl"), Utf8.ToNative(token, "token"),
                allowInsecureHttp ? NativeMethods.OD_CLIENT_ALLOW_INSECURE_HTTP : 0u, out h);
            if (st != 0)
            {
                var e = LastError.Read(st);
                h.Dispose();
                throw e;
            }
            Handle = h;
        }

        /// <summary>The native library's version ("MAJOR.MINOR.PATCH").</summary>
        public static string LibraryVersion
        {
            get { return Utf8.FromNative(NativeMethods.od_version()); }
        }

        /// <summary>The library's description of a status.</summary>
        public static string StatusText(OneDriveStatus status)
        {
            return LastError.StatusText((int)status);
        }

        // Set by Dispose: the handle may stay open while a queue holds the
        // native client (OneDriveQueue.Open), yet this object is disposed.
        private volatile bool disposed;

        public bool IsDisposed { get { return disposed || Handle.IsClosed; } }

        /// <summary>Frees the native client once no call is using it (a call
        /// in progress on another thread keeps it alive until it returns).
        /// Safe to call more than once. Jobs and sessions stay valid.</summary>
        public void Dispose()
        {
            disposed = true;
            Handle.Dispose();
        }

#if ONEDRIVE_ASYNC_INTERFACES
        /// <summary>As <see cref="Dispose"/> (<c>await using</c>): nothing to
        /// wait for, since a call still running keeps the native client alive
        /// until it returns; completes at once.</summary>
        public ValueTask DisposeAsync()
        {
            Dispose();
            return default(ValueTask);
        }
#else
        /// <summary>As <see cref="Dispose"/>, completing at once (a call still
        /// running keeps the native client alive until it returns). The
        /// netstandard2.0 assembly has no <c>IAsyncDisposable</c> (it comes
        /// with netstandard2.1, or the Microsoft.Bcl.AsyncInterfaces package
        /// this one does not depend on): the netstandard2.1 assembly of the
        /// package implements it.</summary>
        public Task DisposeAsync()
        {
            Dispose();
            return Task.FromResult(true);
        }
#endif

        private void ThrowIfDisposed()
        {
            if (IsDisposed) throw new ObjectDisposedException("OneDriveClient");
        }

        // ------------------------------------------------------------------
        // settings

        /// <summary>Replaces the bearer token for every request from now on.</summary>
        public void SetToken(string token)
        {
            if (token == null) throw new ArgumentNullException("token");
            ThrowIfDisposed();
            LastError.Check(NativeMethods.od_client_set_token(Handle, Utf8.ToNative(token, "token")));
        }

        /// <summary>Replaces the bearer token and says when it expires: with a
        /// token callback set, it is refreshed 5 minutes before then (once for
        /// all requests that need it), as well as after a 401.</summary>
        public void SetToken(string token, DateTimeOffset expiresOn)
        {
            if (token == null) throw new ArgumentNullException("token");
            ThrowIfDisposed();
            LastError.Check(NativeMethods.od_client_set_token_with_expiry(Handle, Utf8.ToNative(token, "token"),
                expiresOn.ToUnixTimeSeconds()));
        }

        /// <summary>Installs a function that gives a token and its expiry,
        /// shaped like Azure.Core's <c>TokenCredential.GetTokenAsync</c> (wrap one
        /// as <c>ct =&gt; cred.GetTokenAsync(ctx, ct).AsTask()</c> and map its
        /// <c>AccessToken</c> to <see cref="OneDriveAccessToken"/>). It is asked
        /// 5 minutes before the current token expires and after a 401, on the
        /// thread of the request that needs it (which waits for the task);
        /// concurrent requests share one call. When it throws (or its task
        /// faults) the request goes with the old token; a 401 it then gets is
        /// <see cref="OneDriveUnauthorizedException"/> with that exception as
        /// its <see cref="Exception.InnerException"/> (on the thread that ran the
        /// callback; requests that shared the call get the 401 alone).</summary>
        public void SetTokenCallback(Func<CancellationToken, Task<OneDriveAccessToken>> getTokenAsync)
        {
            ThrowIfDisposed();
            if (getTokenAsync == null)
            {
                LastError.Check(NativeMethods.od_client_set_token_callback(Handle, null, IntPtr.Zero));
                return;
            }
            var state = GCHandle.Alloc(getTokenAsync);
            Handle.KeepUntilFreed(state);
            LastError.Check(NativeMethods.od_client_set_token_callback(Handle, ExpiringTokenThunk, GCHandle.ToIntPtr(state)));
        }

        private static readonly OdTokenFn ExpiringTokenThunk = OnExpiringTokenNeeded;

        [MonoPInvokeCallback(typeof(OdTokenFn))]
        private static int OnExpiringTokenNeeded(IntPtr userdata, IntPtr client)
        {
            try
            {
                LastError.SetTokenCallbackError(null);
                var get = (Func<CancellationToken, Task<OneDriveAccessToken>>)GCHandle.FromIntPtr(userdata).Target;
                OneDriveAccessToken t = get(CancellationToken.None).GetAwaiter().GetResult();
                if (t.Token == null) return 1;
                return NativeMethods.od_client_set_token_with_expiry_raw(client, Utf8.ToNative(t.Token, "token"),
                    t.ExpiresOn.ToUnixTimeSeconds()) == 0 ? 0 : 1;
            }
            catch (Exception e)
            {
                // never unwind into native code: the 401 it lets stand carries it
                LastError.SetTokenCallbackError(e);
                return 1;
            }
        }

        /// <summary>Installs (null: removes) a function asked for a fresh token
        /// after the service answered 401. It runs on the thread that made the
        /// request (possibly several at once); returning null, or throwing,
        /// lets the 401 stand: the call throws
        /// <see cref="OneDriveUnauthorizedException"/>, whose
        /// <see cref="Exception.InnerException"/> is what it threw. It must not
        /// dispose this client, and should not capture it (that would keep the
        /// client alive until disposed).</summary>
        public void SetTokenCallback(Func<string> refresh)
        {
            ThrowIfDisposed();
            if (refresh == null)
            {
                LastError.Check(NativeMethods.od_client_set_token_callback(Handle, null, IntPtr.Zero));
                return;
            }
            var state = GCHandle.Alloc(refresh);
            // The client keeps the state until it is freed: a request on
            // another thread may still run an earlier callback.
            Handle.KeepUntilFreed(state);
            LastError.Check(NativeMethods.od_client_set_token_callback(Handle, TokenThunk, GCHandle.ToIntPtr(state)));
        }

        [MonoPInvokeCallback(typeof(OdTokenFn))]
        private static int OnTokenNeeded(IntPtr userdata, IntPtr client)
        {
            try
            {
                LastError.SetTokenCallbackError(null);
                var refresh = (Func<string>)GCHandle.FromIntPtr(userdata).Target;
                string token = refresh();
                if (token == null) return 1;
                return NativeMethods.od_client_set_token_raw(client, Utf8.ToNative(token, "token")) == 0 ? 0 : 1;
            }
            catch (Exception e)
            {
                // never unwind into native code: the 401 it lets stand carries it
                LastError.SetTokenCallbackError(e);
                return 1;
            }
        }

        /// <summary>Connect timeout and request (stall) timeout, both above zero.</summary>
        public void SetTimeouts(TimeSpan connect, TimeSpan request)
        {
            ThrowIfDisposed();
            LastError.Check(NativeMethods.od_client_set_timeouts(Handle, Millis32(connect, "connect"), Millis32(request, "request")));
        }

        /// <summary>The retry policy: <paramref name="maxAttempts"/> in all (1 =
        /// never retry), and the most time one request spends waiting between attempts.</summary>
        public void SetRetry(int maxAttempts, TimeSpan maxWait)
        {
            if (maxAttempts < 1) throw new ArgumentOutOfRangeException("maxAttempts");
            if (maxWait < TimeSpan.Zero) throw new ArgumentOutOfRangeException("maxWait");
            ThrowIfDisposed();
            LastError.Check(NativeMethods.od_client_set_retry(Handle, (uint)maxAttempts, (ulong)maxWait.TotalMilliseconds));
        }

        /// <summary>Sets the User-Agent header.</summary>
        public void SetUserAgent(string userAgent)
        {
            if (userAgent == null) throw new ArgumentNullException("userAgent");
            ThrowIfDisposed();
            LastError.Check(NativeMethods.od_client_set_user_agent(Handle, Utf8.ToNative(userAgent, "userAgent")));
        }

        /// <summary>How files are uploaded: bodies up to
        /// <paramref name="simpleLimit"/> bytes in one PUT, larger ones through
        /// an upload session in chunks of <paramref name="chunkSize"/> bytes (a
        /// positive multiple of 320 KiB below 60 MiB); extra digests to check.</summary>
        public void SetUploadOptions(long simpleLimit, long chunkSize, HashChecks hashes = HashChecks.None)
        {
            if (simpleLimit < 0) throw new ArgumentOutOfRangeException("simpleLimit");
            if (chunkSize <= 0) throw new ArgumentOutOfRangeException("chunkSize");
            ThrowIfDisposed();
            LastError.Check(NativeMethods.od_client_set_upload_options(Handle, (ulong)simpleLimit, (ulong)chunkSize, (uint)hashes));
        }

        // ------------------------------------------------------------------
        // network: trusted CAs, proxy, upload rate cap

        /// <summary>Trusts the CA certificates of a PEM bundle (one or more
        /// <c>-----BEGIN CERTIFICATE-----</c> sections; other sections are
        /// skipped) besides the system's trust store, for connections opened
        /// from now on. Call again to add more. A bundle with no certificate,
        /// or a malformed one, throws <see cref="OneDriveInvalidArgumentException"/>.
        /// Certificate checks cannot be turned off.</summary>
        public void AddCaPem(byte[] pem)
        {
            if (pem == null) throw new ArgumentNullException("pem");
            ThrowIfDisposed();
            var pin = GCHandle.Alloc(pem, GCHandleType.Pinned);
            try
            {
                LastError.Check(NativeMethods.od_client_add_ca_pem(Handle, pin.AddrOfPinnedObject(), new UIntPtr((uint)pem.Length)));
            }
            finally
            {
                pin.Free();
            }
        }

        /// <summary>As <see cref="AddCaPem(byte[])"/>, with the PEM text.</summary>
        public void AddCaPem(string pem)
        {
            if (pem == null) throw new ArgumentNullException("pem");
            AddCaPem(System.Text.Encoding.UTF8.GetBytes(pem));
        }

        /// <summary>As <see cref="AddCaPem(byte[])"/>, with the bundle read from
        /// the file at <paramref name="path"/>; a file that cannot be read
        /// throws <see cref="OneDriveIOException"/>.</summary>
        public void AddCaFile(string path)
        {
            if (path == null) throw new ArgumentNullException("path");
            ThrowIfDisposed();
            LastError.Check(NativeMethods.od_client_add_ca_file(Handle, Utf8.ToNative(path, "path")));
        }

        /// <summary>Sends every request of this client (the API, monitor and
        /// upload hosts, loopback too) through a proxy, for connections opened
        /// from now on: <c>http://[user:password@]host:port</c> (a CONNECT
        /// tunnel, Basic authentication when the URL has credentials;
        /// percent-encode <c>@ : /</c> in them), <c>https://…</c> (TLS to the
        /// proxy too), <c>socks5://</c>, <c>socks5h://</c> (names resolved by the
        /// proxy), <c>socks4://</c>, <c>socks4a://</c>. Null removes it; then a
        /// proxy from the environment (<c>HTTPS_PROXY</c>, <c>ALL_PROXY</c>,
        /// <c>NO_PROXY</c>…) is used, never for loopback. Another scheme or a
        /// malformed URL throws <see cref="OneDriveInvalidArgumentException"/>
        /// (whose message never repeats the URL); a proxy that refuses the
        /// credentials or the tunnel makes calls throw
        /// <see cref="OneDriveProxyException"/>.</summary>
        public void SetProxy(string proxy)
        {
            ThrowIfDisposed();
            LastError.Check(NativeMethods.od_client_set_proxy(Handle, Utf8.ToNative(proxy, "proxy")));
        }

        /// <summary>Caps what this client's uploads send, all together, at
        /// <paramref name="bytesPerSecond"/> (0: no cap, the default), simple
        /// uploads and upload sessions alike; uploads under way follow a new cap
        /// from their next piece. A capped upload's total deadline grows to match.</summary>
        public void SetUploadRate(long bytesPerSecond)
        {
            if (bytesPerSecond < 0)
                throw new ArgumentOutOfRangeException("bytesPerSecond", bytesPerSecond, "0 (no cap) or more bytes per second");
            ThrowIfDisposed();
            LastError.Check(NativeMethods.od_client_set_upload_rate(Handle, (ulong)bytesPerSecond));
        }

        /// <summary>Caps the bytes per second all this client's downloads
        /// receive together (0: no cap, the default). Apart from the upload
        /// cap: one does not slow the other. Takes effect for the next piece
        /// read.</summary>
        public void SetDownloadRate(long bytesPerSecond)
        {
            if (bytesPerSecond < 0)
                throw new ArgumentOutOfRangeException("bytesPerSecond", bytesPerSecond, "0 (no cap) or more bytes per second");
            ThrowIfDisposed();
            LastError.Check(NativeMethods.od_client_set_download_rate(Handle, (ulong)bytesPerSecond));
        }

        // ------------------------------------------------------------------
        // log

        /// <summary>What the native log callback reaches through its userdata:
        /// the event's handlers, and nothing that refers to the client (so the
        /// GCHandle to it does not keep the client alive by itself).</summary>
        private sealed class LogSink
        {
            internal volatile OneDriveLogHandler Handlers;
        }

        private static readonly OdLogFn LogThunk = OnLog;

        // logGate guards the log fields and is never held across a native
        // call: a handler that subscribes from inside a callback would wait
        // for it while the native setter waits for that handler.
        private readonly object logGate = new object();
        private readonly object logApplyGate = new object();
        private LogSink logSink;
        private IntPtr logUserdata;
        private OneDriveLogLevel logLevel = OneDriveLogLevel.Info;
        private int logWanted, logApplied; // versions of the log settings: asked for, told to the library

        /// <summary>The library's log lines, on the thread of the request that
        /// made them (several at once possible), at <see cref="LogLevel"/> and
        /// the more severe levels. Nothing is installed in the library while no
        /// handler is subscribed, so an unused log costs nothing. Keep handlers
        /// short; what they throw is dropped (it never reaches native code, and
        /// the other handlers still run). A handler that captures the client
        /// keeps it alive until it is disposed or the handler removed.
        /// Route it to your logger, e.g.
        /// <c>client.Log += (level, message) =&gt; trace.TraceEvent(…, message);</c></summary>
        public event OneDriveLogHandler Log
        {
            add
            {
                if (value == null) return;
                lock (logGate)
                {
                    ThrowIfDisposed();
                    if (logSink == null)
                    {
                        var sink = new LogSink();
                        var state = GCHandle.Alloc(sink);
                        Handle.KeepUntilFreed(state);
                        logUserdata = GCHandle.ToIntPtr(state);
                        logSink = sink;
                    }
                    bool first = logSink.Handlers == null;
                    logSink.Handlers = (OneDriveLogHandler)Delegate.Combine(logSink.Handlers, value);
                    if (!first) return;
                    logWanted++;
                }
                ApplyLogSettings();
            }
            remove
            {
                if (value == null) return;
                lock (logGate)
                {
                    if (logSink == null || logSink.Handlers == null) return;
                    logSink.Handlers = (OneDriveLogHandler)Delegate.Remove(logSink.Handlers, value);
                    if (logSink.Handlers != null || IsDisposed) return;
                    logWanted++;
                }
                ApplyLogSettings();
            }
        }

        /// <summary>The most verbose level <see cref="Log"/> gets (default
        /// <see cref="OneDriveLogLevel.Info"/>: one line per request).</summary>
        public OneDriveLogLevel LogLevel
        {
            get { lock (logGate) return logLevel; }
        }

        /// <summary>Sets the most verbose level <see cref="Log"/> gets: that level
        /// and the more severe ones. Lines of other levels are never made.</summary>
        public void SetLogLevel(OneDriveLogLevel level)
        {
            if (level < OneDriveLogLevel.Error || level > OneDriveLogLevel.Debug)
                throw new ArgumentOutOfRangeException("level", level, "Error, Warning, Info or Debug");
            lock (logGate)
            {
                ThrowIfDisposed();
                if (level == logLevel) return;
                logLevel = level;
                logWanted++;
            }
            ApplyLogSettings();
        }

        /// <summary>Tells the library the latest log settings. One thread at a
        /// time does; one that finds another at it leaves its change to that
        /// thread, which looks again after letting go (so a handler that
        /// subscribes from inside a callback never waits).</summary>
        private void ApplyLogSettings()
        {
            while (true)
            {
                if (!Monitor.TryEnter(logApplyGate)) return;
                int status = 0;
                try
                {
                    int version;
                    bool on;
                    OneDriveLogLevel level;
                    IntPtr userdata;
                    lock (logGate)
                    {
                        version = logWanted;
                        on = logSink != null && logSink.Handlers != null;
                        level = logLevel;
                        userdata = logUserdata;
                    }
                    if (version != logApplied)
                    {
                        status = on
                            ? NativeMethods.od_client_set_log_callback(Handle, (int)level, LogThunk, userdata)
                            : NativeMethods.od_client_set_log_callback(Handle, 0, null, IntPtr.Zero);
                        logApplied = version;
                    }
                }
                finally
                {
                    Monitor.Exit(logApplyGate);
                }
                LastError.Check(status);
                lock (logGate)
                {
                    if (logWanted == logApplied) return;
                }
            }
        }

        [MonoPInvokeCallback(typeof(OdLogFn))]
        private static void OnLog(IntPtr userdata, int level, IntPtr message)
        {
            try
            {
                var sink = (LogSink)GCHandle.FromIntPtr(userdata).Target;
                OneDriveLogHandler handlers = sink.Handlers;
                if (handlers == null) return;
                string line = Utf8.FromNative(message);
                foreach (OneDriveLogHandler h in handlers.GetInvocationList())
                {
                    try { h((OneDriveLogLevel)level, line); }
                    catch { } // a handler's failure is its own: the others still run
                }
            }
            catch
            {
                // never unwind into native code
            }
        }

        // ------------------------------------------------------------------
        // items

        /// <summary>Reads an item's metadata.</summary>
        public DriveItem GetItem(string item, string drive = null)
        {
            if (item == null) throw new ArgumentNullException("item");
            ThrowIfDisposed();
            ItemHandle h;
            int st = NativeMethods.od_item_get(Handle, Utf8.ToNative(drive, "drive"), Utf8.ToNative(item, "item"), out h);
            return TakeItem(st, h);
        }

        public Task<DriveItem> GetItemAsync(string item, string drive = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return AsyncRunner.Run(() => GetItem(item, drive), cancellationToken);
        }

        /// <summary>Creates the folder <paramref name="name"/> in <paramref name="parent"/>
        /// (<c>/</c>, <c>/a/b</c>, an id, <c>ID:/rel</c>) and returns it. A name in use
        /// throws unless <paramref name="conflict"/> says rename or replace; with
        /// <paramref name="parents"/> it works as <c>mkdir -p</c>: missing folders of
        /// the path are made, existing ones (the folder itself too) are kept.</summary>
        public DriveItem CreateFolder(string parent, string name,
            ConflictBehavior conflict = ConflictBehavior.Default, bool parents = false, string drive = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (parent == null) throw new ArgumentNullException("parent");
            if (name == null) throw new ArgumentNullException("name");
            ThrowIfDisposed();
            using (var call = new CallContext(null, null, cancellationToken))
            {
                ItemHandle h;
                int st = NativeMethods.od_folder_create(Handle, Utf8.ToNative(drive, "drive"), Utf8.ToNative(parent, "parent"),
                    Utf8.ToNative(name, "name"), (int)conflict, parents ? NativeMethods.OD_FOLDER_PARENTS : 0u, call.Cancel, out h);
                return TakeItem(st, h, call);
            }
        }

        public Task<DriveItem> CreateFolderAsync(string parent, string name,
            ConflictBehavior conflict = ConflictBehavior.Default, bool parents = false, string drive = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return AsyncRunner.Run(() => CreateFolder(parent, name, conflict, parents, drive, cancellationToken), cancellationToken);
        }

        /// <summary>Deletes an item (a folder with all it holds). With
        /// <paramref name="ifMatch"/> (an eTag read earlier) a changed item is not
        /// deleted (a conflict); a missing item is not found.</summary>
        public void Delete(string item, string ifMatch = null, string drive = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (item == null) throw new ArgumentNullException("item");
            ThrowIfDisposed();
            using (var call = new CallContext(null, null, cancellationToken))
            {
                int st = NativeMethods.od_item_delete(Handle, Utf8.ToNative(drive, "drive"), Utf8.ToNative(item, "item"),
                    Utf8.ToNative(ifMatch, "ifMatch"), call.Cancel);
                call.Check(st);
            }
        }

        public Task DeleteAsync(string item, string ifMatch = null, string drive = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return AsyncRunner.Run(() => Delete(item, ifMatch, drive, cancellationToken), cancellationToken);
        }

        // ------------------------------------------------------------------
        // download

        /// <summary>Downloads the file <paramref name="item"/> to
        /// <paramref name="path"/> and returns its item (as read before the
        /// download). The bytes go to a temporary file beside the target
        /// (<c>.NAME.odpart</c>), renamed to <paramref name="path"/> only once
        /// complete and verified (size, quickXorHash, SHA-1 where the drive gives
        /// it: <see cref="OneDriveHashMismatchException"/> otherwise), so an
        /// interrupted download never leaves a partial file under the target's
        /// name; a later call for the same path resumes from the temporary
        /// file when the file on the service is unchanged (<c>Range</c> +
        /// <c>If-Range</c>), and starts over when it changed.</summary>
        /// <param name="item">the file: <c>/a/b.txt</c>, an id, or <c>ID:/rel</c>;
        /// a folder is <see cref="OneDriveInvalidArgumentException"/></param>
        /// <param name="path">the local file; its folder must exist; a file there is
        /// replaced. Local failures: <see cref="OneDriveIOException"/></param>
        /// <param name="drive">the drive prefix; null = /me/drive</param>
        /// <param name="progress">bytes had of the file's size, at least every 64 KiB, on the calling thread</param>
        /// <param name="cancellationToken">stops the call within about 100 ms
        /// (OperationCanceledException); the temporary file is kept for a resume</param>
        public DriveItem DownloadFile(string item, string path, string drive = null,
            IProgress<OneDriveProgress> progress = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (item == null) throw new ArgumentNullException("item");
            if (path == null) throw new ArgumentNullException("path");
            ThrowIfDisposed();
            byte[] d = Utf8.ToNative(drive, "drive"), i = Utf8.ToNative(item, "item"), p = Utf8.ToNative(path, "path");
            using (var call = new CallContext(progress, null, cancellationToken))
            {
                ItemHandle h;
                int st = NativeMethods.od_download_file(Handle, d, i, p, call.Progress, call.UserData, call.Cancel, out h);
                return TakeItem(st, h, call);
            }
        }

        public Task<DriveItem> DownloadFileAsync(string item, string path, string drive = null,
            IProgress<OneDriveProgress> progress = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return AsyncRunner.Run(() => DownloadFile(item, path, drive, progress, cancellationToken), cancellationToken);
        }

        /// <summary>Downloads the file <paramref name="item"/> into
        /// <paramref name="destination"/> (written from its current position, on
        /// the calling thread, during the call only) and returns its item. A
        /// connection cut mid-way is resumed within the call: the stream never
        /// gets a byte twice. What it received is the file only when the call
        /// returns: after an exception (a
        /// <see cref="OneDriveHashMismatchException"/> included) drop it. An
        /// exception from the stream stops the call and is rethrown as is.
        /// Other arguments as for <see cref="DownloadFile"/>.</summary>
        public DriveItem Download(string item, Stream destination, string drive = null,
            IProgress<OneDriveProgress> progress = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (item == null) throw new ArgumentNullException("item");
            if (destination == null) throw new ArgumentNullException("destination");
            if (!destination.CanWrite) throw new ArgumentException("the stream cannot be written", "destination");
            ThrowIfDisposed();
            byte[] d = Utf8.ToNative(drive, "drive"), i = Utf8.ToNative(item, "item");
            using (var call = CallContext.Writing(progress, destination, cancellationToken))
            {
                ItemHandle h;
                int st = NativeMethods.od_download_stream(Handle, d, i, call.Write, call.UserData,
                    call.Progress, call.UserData, call.Cancel, out h);
                return TakeItem(st, h, call);
            }
        }

        public Task<DriveItem> DownloadAsync(string item, Stream destination, string drive = null,
            IProgress<OneDriveProgress> progress = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return AsyncRunner.Run(() => Download(item, destination, drive, progress, cancellationToken), cancellationToken);
        }

        // ------------------------------------------------------------------
        // listing, move / rename

        /// <summary>Opens a listing of the children of the folder
        /// <paramref name="folder"/> (<c>/</c>, <c>/a/b</c>, an id, <c>ID:/rel</c>).
        /// Nothing is sent yet: the first <see cref="OneDriveListing.Next"/>
        /// fetches the first page (a missing folder throws there).</summary>
        /// <param name="folder">the folder</param>
        /// <param name="pageSize">children asked for per page (<c>$top</c>); 0: the
        /// service's default (200 on Graph); the service may give fewer</param>
        /// <param name="drive">the drive prefix; null = /me/drive</param>
        public OneDriveListing OpenListing(string folder, int pageSize = 0, string drive = null)
        {
            if (folder == null) throw new ArgumentNullException("folder");
            if (pageSize < 0) throw new ArgumentOutOfRangeException("pageSize");
            ThrowIfDisposed();
            ListingHandle h;
            int st = NativeMethods.od_list_open(Handle, Utf8.ToNative(drive, "drive"), Utf8.ToNative(folder, "folder"),
                (uint)pageSize, out h);
            if (st != 0)
            {
                var e = LastError.Read(st);
                h.Dispose();
                throw e;
            }
            return new OneDriveListing(h);
        }

        /// <summary>The children of <paramref name="folder"/>, fetched a page at
        /// a time as the enumeration goes (on the enumerating thread, which
        /// blocks while a page comes). Each enumeration lists afresh; stopping
        /// early (<c>break</c>, LINQ's <c>Take</c>) frees the listing. Arguments
        /// as for <see cref="OpenListing"/>; a missing folder throws
        /// <see cref="OneDriveNotFoundException"/> at the first MoveNext.</summary>
        public IEnumerable<DriveItem> List(string folder, int pageSize = 0, string drive = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (folder == null) throw new ArgumentNullException("folder");
            if (pageSize < 0) throw new ArgumentOutOfRangeException("pageSize");
            return ListAll(folder, pageSize, drive, cancellationToken);
        }

        private IEnumerable<DriveItem> ListAll(string folder, int pageSize, string drive, CancellationToken cancellationToken)
        {
            using (OneDriveListing listing = OpenListing(folder, pageSize, drive))
                foreach (DriveItem item in listing.Remaining(cancellationToken))
                    yield return item;
        }

#if ONEDRIVE_ASYNC_INTERFACES
        /// <summary>The children of <paramref name="folder"/> as an
        /// <c>IAsyncEnumerable</c> (<c>await foreach</c>), fetched a page at a
        /// time on the thread pool; no thread is blocked while the caller
        /// awaits. Each enumeration lists afresh; the token given here and the
        /// one given to <c>WithCancellation</c> both stop it
        /// (<see cref="OperationCanceledException"/>). In the netstandard2.1
        /// assembly; with netstandard2.0, loop on
        /// <see cref="OneDriveListing.NextAsync"/> (see <see cref="OneDriveListing"/>).</summary>
        public IAsyncEnumerable<DriveItem> ListAsync(string folder, int pageSize = 0, string drive = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (folder == null) throw new ArgumentNullException("folder");
            if (pageSize < 0) throw new ArgumentOutOfRangeException("pageSize");
            return new AsyncSequence<DriveItem>(() => OpenListing(folder, pageSize, drive), cancellationToken);
        }
#endif

        /// <summary>Moves <paramref name="item"/> into the folder
        /// <paramref name="destParent"/> and/or renames it, and returns it as it
        /// is now (its id does not change).</summary>
        /// <param name="item">the item: <c>/a/b.txt</c>, an id, or <c>ID:/rel</c> (not the root)</param>
        /// <param name="destParent">the new parent folder (as for Copy); null: stay in the same folder</param>
        /// <param name="newName">the new name; null: keep it. A name the service forbids:
        /// <see cref="OneDriveInvalidNameException"/> before any request</param>
        /// <param name="conflict">a name in use with Fail: <see cref="OneDriveConflictException"/>;
        /// Replace replaces what is there; Rename picks a free name ("name 1.txt")</param>
        /// <param name="ifMatch">an eTag (or cTag) read earlier: an item changed since is not
        /// moved (<see cref="OneDriveConflictException"/>)</param>
        /// <param name="destDriveId">null: the item's drive. Graph does not move between
        /// drives: another drive's id is <see cref="OneDriveNotSupportedException"/> (copy, then delete)</param>
        /// <param name="drive">the item's drive prefix; null = /me/drive</param>
        /// <param name="cancellationToken">stops the call (OperationCanceledException)</param>
        /// <remarks>A folder moved into itself or below itself is refused by the
        /// service (<see cref="OneDriveBadRequestException"/> or
        /// <see cref="OneDriveConflictException"/>). The move is never sent
        /// twice: when its answer is lost the call throws
        /// <see cref="OneDriveNetworkException"/> or <see cref="OneDriveTimeoutException"/>
        /// and the item may or may not have moved; read it by its id to know.</remarks>
        public DriveItem Move(string item, string destParent, string newName = null,
            ConflictBehavior conflict = ConflictBehavior.Default, string ifMatch = null, string destDriveId = null,
            string drive = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (item == null) throw new ArgumentNullException("item");
            if (destParent == null && newName == null)
                throw new ArgumentException("a move needs destParent, newName or both", "destParent");
            ThrowIfDisposed();
            using (var call = new CallContext(null, null, cancellationToken))
            {
                ItemHandle h;
                int st = NativeMethods.od_item_move(Handle, Utf8.ToNative(drive, "drive"), Utf8.ToNative(item, "item"),
                    Utf8.ToNative(destParent, "destParent"), Utf8.ToNative(destDriveId, "destDriveId"),
                    Utf8.ToNative(newName, "newName"), (int)conflict, Utf8.ToNative(ifMatch, "ifMatch"), call.Cancel, out h);
                return TakeItem(st, h, call);
            }
        }

        public Task<DriveItem> MoveAsync(string item, string destParent, string newName = null,
            ConflictBehavior conflict = ConflictBehavior.Default, string ifMatch = null, string destDriveId = null,
            string drive = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return AsyncRunner.Run(() => Move(item, destParent, newName, conflict, ifMatch, destDriveId, drive,
                cancellationToken), cancellationToken);
        }

        /// <summary>Renames <paramref name="item"/> where it is: <see cref="Move"/>
        /// with no destination.</summary>
        public DriveItem Rename(string item, string newName, ConflictBehavior conflict = ConflictBehavior.Default,
            string ifMatch = null, string drive = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (newName == null) throw new ArgumentNullException("newName");
            return Move(item, null, newName, conflict, ifMatch, null, drive, cancellationToken);
        }

        public Task<DriveItem> RenameAsync(string item, string newName, ConflictBehavior conflict = ConflictBehavior.Default,
            string ifMatch = null, string drive = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return AsyncRunner.Run(() => Rename(item, newName, conflict, ifMatch, drive, cancellationToken), cancellationToken);
        }

        // ------------------------------------------------------------------
        // upload

        /// <summary>Uploads a buffer as a file: in one PUT up to the simple-upload
        /// limit (4 MiB by default, see SetUploadOptions), through an upload
        /// session above it.</summary>
        /// <param name="item">with a <paramref name="name"/>, the parent folder
        /// (<c>/</c>, <c>/a/b</c>, an id, <c>ID:/rel</c>); with name null, the
        /// file itself (a path is created or replaced, an id replaced)</param>
        /// <param name="name">the file's name in <paramref name="item"/>, or null</param>
        /// <param name="data">the content</param>
        /// <param name="conflict">what to do when the name is taken</param>
        /// <param name="drive">the drive prefix; null = /me/drive</param>
        /// <param name="progress">bytes sent of the size, reported on the calling thread</param>
        /// <param name="cancellationToken">stops the call (OperationCanceledException)</param>
        public DriveItem Upload(string item, string name, byte[] data,
            ConflictBehavior conflict = ConflictBehavior.Default, string drive = null,
            IProgress<OneDriveProgress> progress = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (data == null) throw new ArgumentNullException("data");
            return Upload(item, name, new ArraySegment<byte>(data), conflict, drive, progress, cancellationToken);
        }

        /// <summary>As <see cref="Upload(string, string, byte[], ConflictBehavior, string, IProgress{OneDriveProgress}, CancellationToken)"/>, for a part of an array.</summary>
        public DriveItem Upload(string item, string name, ArraySegment<byte> data,
            ConflictBehavior conflict = ConflictBehavior.Default, string drive = null,
            IProgress<OneDriveProgress> progress = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (item == null) throw new ArgumentNullException("item");
            if (data.Array == null) throw new ArgumentNullException("data");
            ThrowIfDisposed();
            byte[] d = Utf8.ToNative(drive, "drive"), i = Utf8.ToNative(item, "item"), n = Utf8.ToNative(name, "name");
            var pin = GCHandle.Alloc(data.Array, GCHandleType.Pinned);
            try
            {
                IntPtr ptr = data.Count == 0 ? IntPtr.Zero : IntPtr.Add(pin.AddrOfPinnedObject(), data.Offset);
                using (var call = new CallContext(progress, null, cancellationToken))
                {
                    ItemHandle h;
                    int st = NativeMethods.od_upload(Handle, d, i, n, ptr, new UIntPtr((uint)data.Count), (int)conflict,
                        call.Progress, call.UserData, call.Cancel, out h);
                    return TakeItem(st, h, call);
                }
            }
            finally
            {
                pin.Free();
            }
        }

        public Task<DriveItem> UploadAsync(string item, string name, byte[] data,
            ConflictBehavior conflict = ConflictBehavior.Default, string drive = null,
            IProgress<OneDriveProgress> progress = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return AsyncRunner.Run(() => Upload(item, name, data, conflict, drive, progress, cancellationToken), cancellationToken);
        }

        /// <summary>Uploads a local file: one PUT up to the simple-upload limit,
        /// an upload session above it (streamed from disk, resumed after dropped
        /// connections, hashes checked). Arguments as for Upload.</summary>
        public DriveItem UploadFile(string item, string name, string path,
            ConflictBehavior conflict = ConflictBehavior.Default, string drive = null,
            IProgress<OneDriveProgress> progress = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (item == null) throw new ArgumentNullException("item");
            if (path == null) throw new ArgumentNullException("path");
            ThrowIfDisposed();
            byte[] d = Utf8.ToNative(drive, "drive"), i = Utf8.ToNative(item, "item"), n = Utf8.ToNative(name, "name"),
                p = Utf8.ToNative(path, "path");
            using (var call = new CallContext(progress, null, cancellationToken))
            {
                ItemHandle h;
                int st = NativeMethods.od_upload_file(Handle, d, i, n, p, (int)conflict,
                    call.Progress, call.UserData, call.Cancel, out h);
                return TakeItem(st, h, call);
            }
        }

        public Task<DriveItem> UploadFileAsync(string item, string name, string path,
            ConflictBehavior conflict = ConflictBehavior.Default, string drive = null,
            IProgress<OneDriveProgress> progress = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return AsyncRunner.Run(() => UploadFile(item, name, path, conflict, drive, progress, cancellationToken), cancellationToken);
        }

        /// <summary>Uploads <paramref name="size"/> bytes read from
        /// <paramref name="stream"/> (from its current position): one PUT up to
        /// the simple-upload limit, an upload session above it. The stream is
        /// read on the calling thread, during the call only; an exception from
        /// it is rethrown as is.</summary>
        public DriveItem UploadStream(string item, string name, Stream stream, long size,
            ConflictBehavior conflict = ConflictBehavior.Default, string drive = null,
            IProgress<OneDriveProgress> progress = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (item == null) throw new ArgumentNullException("item");
            if (stream == null) throw new ArgumentNullException("stream");
            if (size < 0) throw new ArgumentOutOfRangeException("size");
            ThrowIfDisposed();
            byte[] d = Utf8.ToNative(drive, "drive"), i = Utf8.ToNative(item, "item"), n = Utf8.ToNative(name, "name");
            using (var call = new CallContext(progress, stream, cancellationToken))
            {
                ItemHandle h;
                int st = NativeMethods.od_upload_stream(Handle, d, i, n, (ulong)size, call.Read, call.UserData,
                    (int)conflict, call.Progress, call.UserData, call.Cancel, out h);
                return TakeItem(st, h, call);
            }
        }

        public Task<DriveItem> UploadStreamAsync(string item, string name, Stream stream, long size,
            ConflictBehavior conflict = ConflictBehavior.Default, string drive = null,
            IProgress<OneDriveProgress> progress = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return AsyncRunner.Run(() => UploadStream(item, name, stream, size, conflict, drive, progress, cancellationToken), cancellationToken);
        }

        // ------------------------------------------------------------------
        // upload sessions

        /// <summary>Creates an upload session for a file of <paramref name="size"/>
        /// bytes (above 0) going to (item, name) as for Upload. Nothing is sent yet.</summary>
        public UploadSession CreateUploadSession(string item, string name, long size,
            ConflictBehavior conflict = ConflictBehavior.Default, string drive = null)
        {
            if (item == null) throw new ArgumentNullException("item");
            if (size <= 0) throw new ArgumentOutOfRangeException("size");
            ThrowIfDisposed();
            SessionHandle h;
            int st = NativeMethods.od_session_create(Handle, Utf8.ToNative(drive, "drive"), Utf8.ToNative(item, "item"),
                Utf8.ToNative(name, "name"), (ulong)size, (int)conflict, out h);
            if (st != 0)
            {
                var e = LastError.Read(st);
                h.Dispose();
                throw e;
            }
            return new UploadSession(h);
        }

        public Task<UploadSession> CreateUploadSessionAsync(string item, string name, long size,
            ConflictBehavior conflict = ConflictBehavior.Default, string drive = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return AsyncRunner.Run(() => CreateUploadSession(item, name, size, conflict, drive), cancellationToken);
        }

        /// <summary>Sends a local file through a session, from wherever the
        /// service stands. On failure the session stays on the service: save it
        /// and try again later, or cancel it.</summary>
        public DriveItem UploadFile(UploadSession session, string path,
            IProgress<OneDriveProgress> progress = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (session == null) throw new ArgumentNullException("session");
            if (path == null) throw new ArgumentNullException("path");
            ThrowIfDisposed();
            session.ThrowIfDisposed();
            byte[] p = Utf8.ToNative(path, "path");
            using (var call = new CallContext(progress, null, cancellationToken))
            {
                ItemHandle h;
                int st = NativeMethods.od_session_upload_file(Handle, session.Handle, p,
                    call.Progress, call.UserData, call.Cancel, out h);
                return TakeItem(st, h, call);
            }
        }

        public Task<DriveItem> UploadFileAsync(UploadSession session, string path,
            IProgress<OneDriveProgress> progress = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return AsyncRunner.Run(() => UploadFile(session, path, progress, cancellationToken), cancellationToken);
        }

        /// <summary>Sends a session's bytes from a stream positioned at byte 0 of
        /// the file; its length must be the session's size.</summary>
        public DriveItem UploadStream(UploadSession session, Stream stream,
            IProgress<OneDriveProgress> progress = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (session == null) throw new ArgumentNullException("session");
            if (stream == null) throw new ArgumentNullException("stream");
            ThrowIfDisposed();
            session.ThrowIfDisposed();
            using (var call = new CallContext(progress, stream, cancellationToken))
            {
                ItemHandle h;
                int st = NativeMethods.od_session_upload_stream(Handle, session.Handle, call.Read, call.UserData,
                    call.Progress, call.UserData, call.Cancel, out h);
                return TakeItem(st, h, call);
            }
        }

        public Task<DriveItem> UploadStreamAsync(UploadSession session, Stream stream,
            IProgress<OneDriveProgress> progress = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return AsyncRunner.Run(() => UploadStream(session, stream, progress, cancellationToken), cancellationToken);
        }

        /// <summary>Cancels the session on the service (one it no longer knows
        /// counts as cancelled). The session object still needs disposing.</summary>
        public void CancelUploadSession(UploadSession session)
        {
            if (session == null) throw new ArgumentNullException("session");
            ThrowIfDisposed();
            session.ThrowIfDisposed();
            LastError.Check(NativeMethods.od_session_cancel(Handle, session.Handle));
        }

        public Task CancelUploadSessionAsync(UploadSession session,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return AsyncRunner.Run(() => CancelUploadSession(session), cancellationToken);
        }

        // ------------------------------------------------------------------
        // url_upload, copy

        /// <summary>Asks the service to download <paramref name="sourceUrl"/> into
        /// a new file <paramref name="name"/> in <paramref name="parent"/>. The
        /// service has retired this (and never offered it on Business drives):
        /// its refusal is OneDriveNotSupportedException.</summary>
        public OneDriveJob UrlUpload(string parent, string name, string sourceUrl, string drive = null)
        {
            if (parent == null) throw new ArgumentNullException("parent");
            if (name == null) throw new ArgumentNullException("name");
            if (sourceUrl == null) throw new ArgumentNullException("sourceUrl");
            ThrowIfDisposed();
            JobHandle h;
            int st = NativeMethods.od_url_upload(Handle, Utf8.ToNative(drive, "drive"), Utf8.ToNative(parent, "parent"),
                Utf8.ToNative(name, "name"), Utf8.ToNative(sourceUrl, "sourceUrl"), out h);
            return TakeJob(st, h);
        }

        public Task<OneDriveJob> UrlUploadAsync(string parent, string name, string sourceUrl, string drive = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return AsyncRunner.Run(() => UrlUpload(parent, name, sourceUrl, drive), cancellationToken);
        }

        /// <summary>Starts a server-side copy of <paramref name="source"/> into
        /// the folder <paramref name="destParent"/>.</summary>
        /// <param name="source">the item to copy</param>
        /// <param name="destParent">the destination folder</param>
        /// <param name="newName">a name for the copy; null keeps the source's</param>
        /// <param name="conflict">a name in use with Fail (the service's default)
        /// may be refused at once: OneDriveConflictException</param>
        /// <param name="destDriveId">the destination drive's id; null = the same drive</param>
        /// <param name="drive">the source's drive prefix; null = /me/drive</param>
        /// <param name="legacy">send the older OneDrive API form (…/action.copy)</param>
        public OneDriveJob Copy(string source, string destParent, string newName = null,
            ConflictBehavior conflict = ConflictBehavior.Default, string destDriveId = null, string drive = null,
            bool legacy = false)
        {
            if (source == null) throw new ArgumentNullException("source");
            if (destParent == null) throw new ArgumentNullException("destParent");
            ThrowIfDisposed();
            JobHandle h;
            int st = NativeMethods.od_copy(Handle, Utf8.ToNative(drive, "drive"), Utf8.ToNative(source, "source"),
                Utf8.ToNative(destParent, "destParent"), Utf8.ToNative(destDriveId, "destDriveId"),
                Utf8.ToNative(newName, "newName"), (int)conflict, legacy ? NativeMethods.OD_COPY_LEGACY : 0u, out h);
            return TakeJob(st, h);
        }

        public Task<OneDriveJob> CopyAsync(string source, string destParent, string newName = null,
            ConflictBehavior conflict = ConflictBehavior.Default, string destDriveId = null, string drive = null,
            bool legacy = false, CancellationToken cancellationToken = default(CancellationToken))
        {
            return AsyncRunner.Run(() => Copy(source, destParent, newName, conflict, destDriveId, drive, legacy), cancellationToken);
        }

        // ------------------------------------------------------------------
        // jobs

        /// <summary>Looks at a job once. A failed or cancelled job is not an
        /// exception here: its State says so and Error holds the service's error.
        /// A job the service no longer knows is OneDriveNotFoundException.</summary>
        public JobStatus PollJob(OneDriveJob job)
        {
            if (job == null) throw new ArgumentNullException("job");
            ThrowIfDisposed();
            job.ThrowIfDisposed();
            int state;
            double percent;
            int st = NativeMethods.od_poll_job(Handle, job.Handle, out state, out percent);
            LastError.Check(st);
            OneDriveException error = null;
            if (state == (int)JobState.Failed || state == (int)JobState.Cancelled)
            {
                int why = NativeMethods.od_last_error_status();
                if (why != 0) error = LastError.ReadServiceError(why);
            }
            return new JobStatus((JobState)state, percent >= 0 ? percent : (double?)null, error);
        }

        public Task<JobStatus> PollJobAsync(OneDriveJob job, CancellationToken cancellationToken = default(CancellationToken))
        {
            return AsyncRunner.Run(() => PollJob(job), cancellationToken);
        }

        /// <summary>Follows a job until it ends and returns the new item.
        /// OneDriveJobFailedException when it failed or was cancelled on the
        /// service; OneDriveTimeoutException after <paramref name="timeout"/>;
        /// OperationCanceledException when the token is cancelled (the job goes
        /// on, on the service).</summary>
        /// <param name="job">the job</param>
        /// <param name="timeout">null: no limit</param>
        /// <param name="progress">after each look: the percent the service gave, 0–100 (0 before
        /// it gave any), reported on the calling thread</param>
        /// <param name="cancellationToken">stops the wait</param>
        public DriveItem WaitJob(OneDriveJob job, TimeSpan? timeout = null,
            IProgress<double> progress = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (job == null) throw new ArgumentNullException("job");
            ulong ms = 0;
            if (timeout.HasValue)
            {
                if (timeout.Value <= TimeSpan.Zero) throw new ArgumentOutOfRangeException("timeout");
                ms = (ulong)Math.Max(1.0, Math.Ceiling(timeout.Value.TotalMilliseconds));
            }
            ThrowIfDisposed();
            job.ThrowIfDisposed();
            using (var call = new CallContext(progress, cancellationToken))
            {
                ItemHandle h;
                int st = NativeMethods.od_wait_job(Handle, job.Handle, ms, call.Progress, call.UserData, call.Cancel, out h);
                return TakeItem(st, h, call);
            }
        }

        public Task<DriveItem> WaitJobAsync(OneDriveJob job, TimeSpan? timeout = null,
            IProgress<double> progress = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return AsyncRunner.Run(() => WaitJob(job, timeout, progress, cancellationToken), cancellationToken);
        }

        // ------------------------------------------------------------------

        private static uint Millis32(TimeSpan t, string name)
        {
            double ms = Math.Ceiling(t.TotalMilliseconds);
            if (ms < 1 || ms > uint.MaxValue) throw new ArgumentOutOfRangeException(name);
            return (uint)ms;
        }

        internal static DriveItem TakeItem(int status, ItemHandle h, CallContext call = null)
        {
            if (status != 0)
            {
                // Read the detail first, right after the call, then free.
                try
                {
                    if (call != null) call.Check(status);
                    LastError.Check(status);
                }
                finally
                {
                    h.Dispose();
                }
            }
            return DriveItem.Take(h);
        }

        private static OneDriveJob TakeJob(int status, JobHandle h)
        {
            if (status != 0)
            {
                var e = LastError.Read(status);
                h.Dispose();
                throw e;
            }
            return new OneDriveJob(h);
        }
    }
}
