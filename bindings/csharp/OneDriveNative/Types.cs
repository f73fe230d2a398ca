using System;

namespace OneDriveNative
{
    /// <summary>How much a log line matters (<c>OD_LOG_*</c>); a level set
    /// with <see cref="OneDriveClient.SetLogLevel"/> gets its lines and the
    /// more severe ones.</summary>
    public enum OneDriveLogLevel
    {
        /// <summary>A call failed.</summary>
        Error = NativeMethods.OD_LOG_ERROR,
        /// <summary>A request failed and will be retried, or a recovery began.</summary>
        Warning = NativeMethods.OD_LOG_WARN,
        /// <summary>One line per request (method, host, path without query,
        /// status, duration, attempt, request-id), each upload-session decision.</summary>
        Info = NativeMethods.OD_LOG_INFO,
        /// <summary>Every look at an asynchronous job and the wait before the next.</summary>
        Debug = NativeMethods.OD_LOG_DEBUG,
    }

    /// <summary>Receives one of the library's log lines (see
    /// <see cref="OneDriveClient.Log"/>). The line never holds the token, a
    /// query string or an upload URL's path.</summary>
    public delegate void OneDriveLogHandler(OneDriveLogLevel level, string message);

    /// <summary>Where a job stands (<c>od_job_state</c>).</summary>
    public enum JobState
    {
        NotStarted = NativeMethods.OD_JOB_NOT_STARTED,
        Running = NativeMethods.OD_JOB_RUNNING,
        Completed = NativeMethods.OD_JOB_COMPLETED,
        Failed = NativeMethods.OD_JOB_FAILED,
        Cancelled = NativeMethods.OD_JOB_CANCELLED,
        /// <summary>A status word the library does not know, or not looked at yet: treat as running.</summary>
        Unknown = NativeMethods.OD_JOB_UNKNOWN,
    }

    /// <summary>What to do when the name is taken (<c>od_conflict</c>).</summary>
    public enum ConflictBehavior
    {
        /// <summary>Send nothing: the service decides (uploads replace, copies fail).</summary>
        Default = NativeMethods.OD_CONFLICT_DEFAULT,
        Fail = NativeMethods.OD_CONFLICT_FAIL,
        Replace = NativeMethods.OD_CONFLICT_REPLACE,
        /// <summary>Keep both: the new one gets a free name ("name 1.txt").</summary>
        Rename = NativeMethods.OD_CONFLICT_RENAME,
    }

    /// <summary>Extra digests to check after an upload (<c>OD_HASH_*</c>);
    /// quickXorHash is always checked.</summary>
    [Flags]
    public enum HashChecks
    {
        None = 0,
        Sha1 = NativeMethods.OD_HASH_SHA1,
        Sha256 = NativeMethods.OD_HASH_SHA256,
    }

    /// <summary>Progress of a transfer: bytes sent of the size. (A job wait
    /// reports its percent, 0–100, through an <c>IProgress&lt;double&gt;</c>.)</summary>
    public struct OneDriveProgress
    {
        public OneDriveProgress(long done, long total) : this()
        {
            if (done < 0) throw new ArgumentOutOfRangeException("done");
            if (total < 0) throw new ArgumentOutOfRangeException("total");
            Done = done;
            Total = total;
        }

        /// <summary>Bytes transferred so far (a <c>long</c>, like
        /// <see cref="DriveItem.Size"/> and <see cref="System.IO.Stream.Length"/>).</summary>
        public long Done { get; private set; }

        /// <summary>The transfer's size in bytes.</summary>
        public long Total { get; private set; }

        /// <summary>Done / Total, between 0 and 1 (0 when Total is 0).</summary>
        public double Fraction { get { return Total == 0 ? 0.0 : (double)Done / Total; } }

        /// <summary>Done / Total as a percent, between 0 and 100 (0 when Total is 0).</summary>
        public double Percent { get { return Fraction * 100.0; } }

        public override string ToString() { return Done + "/" + Total; }
    }

    /// <summary>What one look at a job (<see cref="OneDriveClient.PollJob"/>) saw.</summary>
    public sealed class JobStatus
    {
        internal JobStatus(JobState state, double? percent, OneDriveException error)
        {
            State = state;
            Percent = percent;
            Error = error;
        }

        public JobState State { get; private set; }

        /// <summary>0–100, or null when the service gave no percentage.</summary>
        public double? Percent { get; private set; }

        /// <summary>The service's error when the job failed or was cancelled; otherwise null.</summary>
        public OneDriveException Error { get; private set; }

        /// <summary>Completed, failed or cancelled.</summary>
        public bool IsFinished
        {
            get { return State == JobState.Completed || State == JobState.Failed || State == JobState.Cancelled; }
        }

        public override string ToString()
        {
            return State + (Percent.HasValue ? " " + Percent.Value + "%" : "");
        }
    }

    /// <summary>A bearer token and when it expires (the shape of Azure.Core's
    /// <c>AccessToken</c>, without depending on it).</summary>
    public struct OneDriveAccessToken
    {
        public OneDriveAccessToken(string token, DateTimeOffset expiresOn)
        {
            Token = token;
            ExpiresOn = expiresOn;
        }

        public string Token { get; private set; }
        public DateTimeOffset ExpiresOn { get; private set; }
    }
}
