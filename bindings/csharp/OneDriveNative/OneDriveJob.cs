using System;

namespace OneDriveNative
{
    /// <summary>An asynchronous job on the service (a copy, an upload from
    /// URL). Follow it with <see cref="OneDriveClient.PollJob"/> or
    /// <see cref="OneDriveClient.WaitJob"/>. Disposing it (or letting the
    /// finalizer free it) does not stop the job on the service. Thread-safe.</summary>
    public sealed class OneDriveJob : IDisposable
    {
        internal readonly JobHandle Handle;

        internal OneDriveJob(JobHandle handle) { Handle = handle; }

        /// <summary>Rebuilds a job from a saved <see cref="MonitorUrl"/> (no request is made).</summary>
        /// <param name="monitorUrl">the saved monitor URL</param>
        /// <param name="drive">the destination's drive prefix; null = /me/drive</param>
        public static OneDriveJob FromMonitorUrl(string monitorUrl, string drive = null)
        {
            if (monitorUrl == null) throw new ArgumentNullException("monitorUrl");
            JobHandle h;
            int st = NativeMethods.od_job_from_monitor_url(Utf8.ToNative(monitorUrl, "monitorUrl"),
                Utf8.ToNative(drive, "drive"), out h);
            if (st != 0)
            {
                var e = LastError.Read(st);
                h.Dispose();
                throw e;
            }
            return new OneDriveJob(h);
        }

        /// <summary>The monitor URL: save it to follow the job after a restart.
        /// Opaque and pre-authorized (a credential): do not parse it or log it.</summary>
        public string MonitorUrl
        {
            get { ThrowIfDisposed(); return Utf8.Borrowed(Handle, NativeMethods.od_job_monitor_url); }
        }

        /// <summary>The state last seen by PollJob / WaitJob (Unknown before the first look).</summary>
        public JobState LastState
        {
            get { ThrowIfDisposed(); return (JobState)NativeMethods.od_job_last_state(Handle); }
        }

        /// <summary>The item a completed job made, as last seen (no request).
        /// OneDriveInvalidStateException when the job has not been seen completed.</summary>
        public DriveItem GetItem()
        {
            ThrowIfDisposed();
            ItemHandle item;
            int st = NativeMethods.od_job_item(Handle, out item);
            if (st != 0)
            {
                var e = LastError.Read(st);
                item.Dispose();
                throw e;
            }
            return DriveItem.Take(item);
        }

        public bool IsDisposed { get { return Handle.IsClosed; } }

        /// <summary>Frees the native job; safe to call more than once.</summary>
        public void Dispose() { Handle.Dispose(); }

        internal void ThrowIfDisposed()
        {
            if (Handle.IsClosed) throw new ObjectDisposedException("OneDriveJob");
        }
    }
}
