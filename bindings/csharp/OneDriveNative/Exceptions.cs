using System;

namespace OneDriveNative
{
    /// <summary>A call into the library failed: <see cref="Status"/> is its
    /// <c>od_status</c>; the other properties are the thread's last-error
    /// detail, read right after the call.</summary>
    [Serializable]
    public partial class OneDriveException : Exception
    {
        public OneDriveException(OneDriveStatus status, string message)
            : this(status, message, 0, null, null, null, null) { }

        public OneDriveException(OneDriveStatus status, string message, int httpStatus, string code,
            string innerCode, string requestId, TimeSpan? retryAfter)
            : base(string.IsNullOrEmpty(message) ? status.ToString() : message)
        {
            Status = status;
            HttpStatus = httpStatus;
            Code = code;
            InnerCode = innerCode;
            RequestId = requestId;
            RetryAfter = retryAfter;
        }

        public OneDriveStatus Status { get; private set; }

        /// <summary>The HTTP status behind the failure; 0 when there was none
        /// (a local or network error).</summary>
        public int HttpStatus { get; private set; }

        /// <summary>Graph's <c>error.code</c> (e.g. <c>nameAlreadyExists</c>), or null.</summary>
        public string Code { get; private set; }

        /// <summary>The innermost <c>innerError.code</c>, or null.</summary>
        public string InnerCode { get; private set; }

        /// <summary>The service's request-id, or null.</summary>
        public string RequestId { get; private set; }

        /// <summary>The service's Retry-After, or null when it gave none.</summary>
        public TimeSpan? RetryAfter { get; private set; }

        public override string ToString()
        {
            return base.ToString() + " [status " + Status + ", http " + HttpStatus
                + (Code != null ? ", code " + Code : "")
                + (InnerCode != null ? ", inner " + InnerCode : "")
                + (RequestId != null ? ", request-id " + RequestId : "") + "]";
        }
    }
}
