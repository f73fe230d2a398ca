using System;

namespace OneDriveNative
{
    /// <summary>A call into the library failed: <see cref="Status"/> is its
    /// <c>od_status</c>; the other properties are the thread's last-error
    /// detail, read right after the call.</summary>
    [Serializable]
    public class OneDriveException : Exception
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

        /// <summary>The exception type for a status.</summary>
        internal static OneDriveException Create(OneDriveStatus status, string message, int http, string code,
            string inner, string requestId, TimeSpan? retryAfter)
        {
            switch (status)
            {
                case OneDriveStatus.NullArgument:
                case OneDriveStatus.InvalidUtf8:
                case OneDriveStatus.InvalidArgument:
                    return new OneDriveInvalidArgumentException(status, message, http, code, inner, requestId, retryAfter);
                case OneDriveStatus.InvalidName:
                    return new OneDriveInvalidNameException(status, message, http, code, inner, requestId, retryAfter);
                case OneDriveStatus.Network:
                    return new OneDriveNetworkException(status, message, http, code, inner, requestId, retryAfter);
                case OneDriveStatus.Timeout:
                    return new OneDriveTimeoutException(status, message, http, code, inner, requestId, retryAfter);
                case OneDriveStatus.Cancelled:
                case OneDriveStatus.AbortedByCallback:
                    return new OneDriveCancelledException(status, message, http, code, inner, requestId, retryAfter);
                case OneDriveStatus.Unauthorized:
                    return new OneDriveUnauthorizedException(status, message, http, code, inner, requestId, retryAfter);
                case OneDriveStatus.Forbidden:
                    return new OneDriveForbiddenException(status, message, http, code, inner, requestId, retryAfter);
                case OneDriveStatus.NotFound:
                    return new OneDriveNotFoundException(status, message, http, code, inner, requestId, retryAfter);
                case OneDriveStatus.Conflict:
                    return new OneDriveConflictException(status, message, http, code, inner, requestId, retryAfter);
                case OneDriveStatus.TooLarge:
                    return new OneDriveTooLargeException(status, message, http, code, inner, requestId, retryAfter);
                case OneDriveStatus.Throttled:
                    return new OneDriveThrottledException(status, message, http, code, inner, requestId, retryAfter);
                case OneDriveStatus.Quota:
                    return new OneDriveQuotaException(status, message, http, code, inner, requestId, retryAfter);
                case OneDriveStatus.NotSupported:
                    return new OneDriveNotSupportedException(status, message, http, code, inner, requestId, retryAfter);
                case OneDriveStatus.BadRequest:
                    return new OneDriveBadRequestException(status, message, http, code, inner, requestId, retryAfter);
                case OneDriveStatus.Service:
                    return new OneDriveServiceException(status, message, http, code, inner, requestId, retryAfter);
                case OneDriveStatus.Protocol:
                    return new OneDriveProtocolException(status, message, http, code, inner, requestId, retryAfter);
                case OneDriveStatus.JobFailed:
                case OneDriveStatus.JobCancelled:
                    return new OneDriveJobFailedException(status, message, http, code, inner, requestId, retryAfter);
                case OneDriveStatus.Io:
                    return new OneDriveIOException(status, message, http, code, inner, requestId, retryAfter);
                case OneDriveStatus.InvalidState:
                    return new OneDriveInvalidStateException(status, message, http, code, inner, requestId, retryAfter);
                case OneDriveStatus.HashMismatch:
                    return new OneDriveHashMismatchException(status, message, http, code, inner, requestId, retryAfter);
                case OneDriveStatus.Tls:
                    return new OneDriveTlsException(status, message, http, code, inner, requestId, retryAfter);
                case OneDriveStatus.Proxy:
                    return new OneDriveProxyException(status, message, http, code, inner, requestId, retryAfter);
                default:
                    // Ok (not an error), BufferTooSmall, Panic, and numbers
                    // appended to the header after this binding was built.
                    return new OneDriveException(status, message, http, code, inner, requestId, retryAfter);
            }
        }
    }

    /// <summary>NullArgument, InvalidUtf8, InvalidArgument: a malformed argument.</summary>
    [Serializable]
    public class OneDriveInvalidArgumentException : OneDriveException
    {
        public OneDriveInvalidArgumentException(OneDriveStatus status, string message, int httpStatus, string code, string innerCode, string requestId, TimeSpan? retryAfter)
            : base(status, message, httpStatus, code, innerCode, requestId, retryAfter) { }
    }

    /// <summary>InvalidName: a name the service forbids (checked before any request).</summary>
    [Serializable]
    public class OneDriveInvalidNameException : OneDriveInvalidArgumentException
    {
        public OneDriveInvalidNameException(OneDriveStatus status, string message, int httpStatus, string code, string innerCode, string requestId, TimeSpan? retryAfter)
            : base(status, message, httpStatus, code, innerCode, requestId, retryAfter) { }
    }

    /// <summary>Network: connection refused or reset, DNS failure, a cut
    /// response; also the base of the TLS and proxy failures below.</summary>
    [Serializable]
    public class OneDriveNetworkException : OneDriveException
    {
        public OneDriveNetworkException(OneDriveStatus status, string message, int httpStatus, string code, string innerCode, string requestId, TimeSpan? retryAfter)
            : base(status, message, httpStatus, code, innerCode, requestId, retryAfter) { }
    }

    /// <summary>Tls: the server's certificate is not trusted (add its CA with
    /// <see cref="OneDriveClient.AddCaPem(byte[])"/>), has expired, or names
    /// another host; or the handshake broke. Never retried.</summary>
    [Serializable]
    public class OneDriveTlsException : OneDriveNetworkException
    {
        public OneDriveTlsException(OneDriveStatus status, string message, int httpStatus, string code, string innerCode, string requestId, TimeSpan? retryAfter)
            : base(status, message, httpStatus, code, innerCode, requestId, retryAfter) { }
    }

    /// <summary>Proxy: the proxy refused the credentials (HTTP 407) or the
    /// tunnel. A proxy that cannot be reached at all is a plain
    /// <see cref="OneDriveNetworkException"/>.</summary>
    [Serializable]
    public class OneDriveProxyException : OneDriveNetworkException
    {
        public OneDriveProxyException(OneDriveStatus status, string message, int httpStatus, string code, string innerCode, string requestId, TimeSpan? retryAfter)
            : base(status, message, httpStatus, code, innerCode, requestId, retryAfter) { }
    }

    /// <summary>Timeout: connecting, a stalled transfer, or a wait's deadline.</summary>
    [Serializable]
    public class OneDriveTimeoutException : OneDriveException
    {
        public OneDriveTimeoutException(OneDriveStatus status, string message, int httpStatus, string code, string innerCode, string requestId, TimeSpan? retryAfter)
            : base(status, message, httpStatus, code, innerCode, requestId, retryAfter) { }
    }

    /// <summary>Cancelled or AbortedByCallback. A call cancelled through its
    /// CancellationToken throws OperationCanceledException instead, with this
    /// as its inner exception.</summary>
    [Serializable]
    public class OneDriveCancelledException : OneDriveException
    {
        public OneDriveCancelledException(OneDriveStatus status, string message, int httpStatus, string code, string innerCode, string requestId, TimeSpan? retryAfter)
            : base(status, message, httpStatus, code, innerCode, requestId, retryAfter) { }
    }

    /// <summary>Unauthorized (HTTP 401): the token is missing, expired or wrong.</summary>
    [Serializable]
    public class OneDriveUnauthorizedException : OneDriveException
    {
        public OneDriveUnauthorizedException(OneDriveStatus status, string message, int httpStatus, string code, string innerCode, string requestId, TimeSpan? retryAfter)
            : base(status, message, httpStatus, code, innerCode, requestId, retryAfter) { }
    }

    /// <summary>Forbidden (HTTP 403).</summary>
    [Serializable]
    public class OneDriveForbiddenException : OneDriveException
    {
        public OneDriveForbiddenException(OneDriveStatus status, string message, int httpStatus, string code, string innerCode, string requestId, TimeSpan? retryAfter)
            : base(status, message, httpStatus, code, innerCode, requestId, retryAfter) { }
    }

    /// <summary>NotFound (HTTP 404): no such item, drive or job.</summary>
    [Serializable]
    public class OneDriveNotFoundException : OneDriveException
    {
        public OneDriveNotFoundException(OneDriveStatus status, string message, int httpStatus, string code, string innerCode, string requestId, TimeSpan? retryAfter)
            : base(status, message, httpStatus, code, innerCode, requestId, retryAfter) { }
    }

    /// <summary>Conflict (HTTP 409 / 412): the name is in use, or the eTag no longer matches.</summary>
    [Serializable]
    public class OneDriveConflictException : OneDriveException
    {
        public OneDriveConflictException(OneDriveStatus status, string message, int httpStatus, string code, string innerCode, string requestId, TimeSpan? retryAfter)
            : base(status, message, httpStatus, code, innerCode, requestId, retryAfter) { }
    }

    /// <summary>TooLarge (HTTP 413, or a body above what the operation accepts).</summary>
    [Serializable]
    public class OneDriveTooLargeException : OneDriveException
    {
        public OneDriveTooLargeException(OneDriveStatus status, string message, int httpStatus, string code, string innerCode, string requestId, TimeSpan? retryAfter)
            : base(status, message, httpStatus, code, innerCode, requestId, retryAfter) { }
    }

    /// <summary>Throttled (HTTP 429 / 503 beyond the retry policy): see RetryAfter.</summary>
    [Serializable]
    public class OneDriveThrottledException : OneDriveException
    {
        public OneDriveThrottledException(OneDriveStatus status, string message, int httpStatus, string code, string innerCode, string requestId, TimeSpan? retryAfter)
            : base(status, message, httpStatus, code, innerCode, requestId, retryAfter) { }
    }

    /// <summary>Quota (HTTP 507): the drive is full.</summary>
    [Serializable]
    public class OneDriveQuotaException : OneDriveException
    {
        public OneDriveQuotaException(OneDriveStatus status, string message, int httpStatus, string code, string innerCode, string requestId, TimeSpan? retryAfter)
            : base(status, message, httpStatus, code, innerCode, requestId, retryAfter) { }
    }

    /// <summary>NotSupported: the service does not offer this (e.g. upload from URL on Business).</summary>
    [Serializable]
    public class OneDriveNotSupportedException : OneDriveException
    {
        public OneDriveNotSupportedException(OneDriveStatus status, string message, int httpStatus, string code, string innerCode, string requestId, TimeSpan? retryAfter)
            : base(status, message, httpStatus, code, innerCode, requestId, retryAfter) { }
    }

    /// <summary>BadRequest: another HTTP 400.</summary>
    [Serializable]
    public class OneDriveBadRequestException : OneDriveException
    {
        public OneDriveBadRequestException(OneDriveStatus status, string message, int httpStatus, string code, string innerCode, string requestId, TimeSpan? retryAfter)
            : base(status, message, httpStatus, code, innerCode, requestId, retryAfter) { }
    }

    /// <summary>Service: HTTP 5xx that retries did not cure.</summary>
    [Serializable]
    public class OneDriveServiceException : OneDriveException
    {
        public OneDriveServiceException(OneDriveStatus status, string message, int httpStatus, string code, string innerCode, string requestId, TimeSpan? retryAfter)
            : base(status, message, httpStatus, code, innerCode, requestId, retryAfter) { }
    }

    /// <summary>Protocol: an answer the library cannot make sense of.</summary>
    [Serializable]
    public class OneDriveProtocolException : OneDriveException
    {
        public OneDriveProtocolException(OneDriveStatus status, string message, int httpStatus, string code, string innerCode, string requestId, TimeSpan? retryAfter)
            : base(status, message, httpStatus, code, innerCode, requestId, retryAfter) { }
    }

    /// <summary>JobFailed or JobCancelled: an asynchronous job did not complete;
    /// Code and Message are the service's.</summary>
    [Serializable]
    public class OneDriveJobFailedException : OneDriveException
    {
        public OneDriveJobFailedException(OneDriveStatus status, string message, int httpStatus, string code, string innerCode, string requestId, TimeSpan? retryAfter)
            : base(status, message, httpStatus, code, innerCode, requestId, retryAfter) { }
    }

    /// <summary>Io: a local read or write failed (a file, or a stream's Read).</summary>
    [Serializable]
    public class OneDriveIOException : OneDriveException
    {
        public OneDriveIOException(OneDriveStatus status, string message, int httpStatus, string code, string innerCode, string requestId, TimeSpan? retryAfter)
            : base(status, message, httpStatus, code, innerCode, requestId, retryAfter) { }
    }

    /// <summary>InvalidState: not valid in the object's present state.</summary>
    [Serializable]
    public class OneDriveInvalidStateException : OneDriveException
    {
        public OneDriveInvalidStateException(OneDriveStatus status, string message, int httpStatus, string code, string innerCode, string requestId, TimeSpan? retryAfter)
            : base(status, message, httpStatus, code, innerCode, requestId, retryAfter) { }
    }

    /// <summary>HashMismatch: the uploaded file's size or hash differs from what was read.</summary>
    [Serializable]
    public class OneDriveHashMismatchException : OneDriveException
    {
        public OneDriveHashMismatchException(OneDriveStatus status, string message, int httpStatus, string code, string innerCode, string requestId, TimeSpan? retryAfter)
            : base(status, message, httpStatus, code, innerCode, requestId, retryAfter) { }
    }
}
