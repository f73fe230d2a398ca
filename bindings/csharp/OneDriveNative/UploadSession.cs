using System;

namespace OneDriveNative
{
    /// <summary>An upload session that can be saved (<see cref="ToJson"/>) and
    /// finished later, by another client or process. Create it with
    /// <see cref="OneDriveClient.CreateUploadSession"/>; send the bytes with
    /// <see cref="OneDriveClient.UploadFile(UploadSession, string, IProgress{OneDriveProgress}, System.Threading.CancellationToken)"/>
    /// or the stream overload. One upload at a time per session. Disposing it
    /// does not cancel it on the service (see CancelUploadSession).</summary>
    public sealed class UploadSession : IDisposable
    {
        internal readonly SessionHandle Handle;

        internal UploadSession(SessionHandle handle) { Handle = handle; }

        /// <summary>Rebuilds a session saved with <see cref="ToJson"/> (no request is made).</summary>
        public static UploadSession FromJson(string json)
        {
            if (json == null) throw new ArgumentNullException("json");
            SessionHandle h;
            int st = NativeMethods.od_session_from_json(Utf8.ToNative(json, "json"), out h);
            if (st != 0)
            {
                var e = LastError.Read(st);
                h.Dispose();
                throw e;
            }
            return new UploadSession(h);
        }

        /// <summary>The session as JSON text, to save. It holds the upload URL, a
        /// credential for this one upload: store it as you would a token.</summary>
        public string ToJson()
        {
            ThrowIfDisposed();
            IntPtr json;
            int st = NativeMethods.od_session_to_json(Handle, out json);
            LastError.Check(st);
            try
            {
                return Utf8.FromNative(json);
            }
            finally
            {
                NativeMethods.od_string_free(json);
            }
        }

        /// <summary>The file size the session was made for.</summary>
        public long Size
        {
            get { ThrowIfDisposed(); return (long)NativeMethods.od_session_size(Handle); }
        }

        public bool IsDisposed { get { return Handle.IsClosed; } }

        /// <summary>Frees the native handle; safe to call more than once.</summary>
        public void Dispose() { Handle.Dispose(); }

        internal void ThrowIfDisposed()
        {
            if (Handle.IsClosed) throw new ObjectDisposedException("UploadSession");
        }
    }
}
