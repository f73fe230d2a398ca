import COneDrive

/// The library's `od_status`, number for number: `OD_ERR_NOT_FOUND` is
/// `.notFound`, `OD_OK` is `.ok`. `bindings/swift/check.sh` checks every
/// constant of include/onedrive.h against this enum and `OneDriveError`.
public enum OneDriveStatus: Int32, CaseIterable, Sendable {
    /// Success.
    case ok = 0
    /// A required pointer argument was NULL.
    case nullArgument = 1
    /// A string argument was not valid UTF-8.
    case invalidUtf8 = 2
    /// An argument was malformed or out of range (URL, drive prefix, option).
    case invalidArgument = 3
    /// A file or folder name the service forbids.
    case invalidName = 4
    /// Connection refused or reset, DNS failure, a cut response.
    case network = 5
    /// A timeout: connecting, a stalled transfer, or a wait's deadline.
    case timeout = 6
    /// Cancelled through a `CancelFlag` (or the calling `Task`).
    case cancelled = 7
    /// A progress handler returned `false`.
    case abortedByCallback = 8
    /// HTTP 401: the token is missing, expired or wrong.
    case unauthorized = 9
    /// HTTP 403.
    case forbidden = 10
    /// HTTP 404: no such item, drive or job.
    case notFound = 11
    /// HTTP 409 / 412: the name is in use, or the eTag no longer matches.
    case conflict = 12
    /// HTTP 413, or a body above what the operation accepts.
    case tooLarge = 13
    /// HTTP 429 / 503 beyond the retry policy's patience (see `retryAfter`).
    case throttled = 14
    /// HTTP 507: the drive is full.
    case quota = 15
    /// The service does not offer this (e.g. upload from URL on Business).
    case notSupported = 16
    /// Another HTTP 400.
    case badRequest = 17
    /// HTTP 5xx that retries did not cure.
    case service = 18
    /// The service answered something the library cannot make sense of.
    case `protocol` = 19
    /// An asynchronous job failed.
    case jobFailed = 20
    /// An asynchronous job was cancelled on the service.
    case jobCancelled = 21
    /// A local read or write failed.
    case io = 22
    /// A caller's buffer is too small.
    case bufferTooSmall = 23
    /// The call is not valid in the object's present state.
    case invalidState = 24
    /// A bug in the library: a Rust panic caught at the boundary.
    case panic = 25
    /// The uploaded file's size or hash differs from what was read.
    case hashMismatch = 26
    /// TLS failed: the server's certificate is not trusted (add its CA with
    /// `addCA(pem:)`), has expired, or names another host; or the handshake
    /// broke. Never retried.
    case tls = 27
    /// The proxy refused: wrong or missing credentials (HTTP 407), or it
    /// would not open a tunnel to the target.
    case proxy = 28

    /// The library's description of the status (`od_status_str`).
    public var text: String {
        return String(cString: od_status_str(rawValue))
    }
}

/// What the library reported about a failure: the thread's last-error
/// detail, read right after the failing call, on its thread.
public struct ErrorDetail: Sendable, CustomStringConvertible {
    /// The `od_status` number (also for numbers newer than this binding).
    public let statusCode: Int32
    /// A human-readable message.
    public let message: String
    /// The HTTP status behind the failure; 0 when there was none.
    public let httpStatus: Int
    /// Graph's `error.code`, e.g. `nameAlreadyExists`.
    public let code: String?
    /// The innermost `innerError.code`.
    public let innerCode: String?
    /// The service's `request-id`.
    public let requestId: String?
    /// The service's Retry-After, in seconds.
    public let retryAfter: Double?

    public init(statusCode: Int32, message: String, httpStatus: Int = 0, code: String? = nil,
                innerCode: String? = nil, requestId: String? = nil, retryAfter: Double? = nil) {
        self.statusCode = statusCode
        self.message = message
        self.httpStatus = httpStatus
        self.code = code
        self.innerCode = innerCode
        self.requestId = requestId
        self.retryAfter = retryAfter
    }

    /// The status, when this binding knows its number.
    public var status: OneDriveStatus? {
        return OneDriveStatus(rawValue: statusCode)
    }

    public var description: String {
        var s = message + " [status \(statusCode)"
        if httpStatus != 0 { s += ", http \(httpStatus)" }
        if let code = code { s += ", code \(code)" }
        if let innerCode = innerCode { s += ", inner \(innerCode)" }
        if let requestId = requestId { s += ", request-id \(requestId)" }
        return s + "]"
    }
}

/// A failed call: one case per `od_status` (but `OD_OK`), each with the
/// failure's detail; `.unknown` for a status newer than this binding.
public enum OneDriveError: Error, Sendable, CustomStringConvertible {
    /// A required pointer argument was NULL.
    case nullArgument(ErrorDetail)
    /// A string argument was not valid UTF-8.
    case invalidUtf8(ErrorDetail)
    /// An argument was malformed or out of range (URL, drive prefix, option).
    case invalidArgument(ErrorDetail)
    /// A file or folder name the service forbids.
    case invalidName(ErrorDetail)
    /// Connection refused or reset, DNS failure, a cut response.
    case network(ErrorDetail)
    /// A timeout: connecting, a stalled transfer, or a wait's deadline.
    case timeout(ErrorDetail)
    /// Cancelled through a `CancelFlag` (or the calling `Task`).
    case cancelled(ErrorDetail)
    /// A progress handler returned `false`.
    case abortedByCallback(ErrorDetail)
    /// HTTP 401: the token is missing, expired or wrong.
    case unauthorized(ErrorDetail)
    /// HTTP 403.
    case forbidden(ErrorDetail)
    /// HTTP 404: no such item, drive or job.
    case notFound(ErrorDetail)
    /// HTTP 409 / 412: the name is in use, or the eTag no longer matches.
    case conflict(ErrorDetail)
    /// HTTP 413, or a body above what the operation accepts.
    case tooLarge(ErrorDetail)
    /// HTTP 429 / 503 beyond the retry policy's patience (see `retryAfter`).
    case throttled(ErrorDetail)
    /// HTTP 507: the drive is full.
    case quota(ErrorDetail)
    /// The service does not offer this (e.g. upload from URL on Business).
    case notSupported(ErrorDetail)
    /// Another HTTP 400.
    case badRequest(ErrorDetail)
    /// HTTP 5xx that retries did not cure.
    case service(ErrorDetail)
    /// The service answered something the library cannot make sense of.
    case `protocol`(ErrorDetail)
    /// An asynchronous job failed.
    case jobFailed(ErrorDetail)
    /// An asynchronous job was cancelled on the service.
    case jobCancelled(ErrorDetail)
    /// A local read or write failed.
    case io(ErrorDetail)
    /// A caller's buffer is too small.
    case bufferTooSmall(ErrorDetail)
    /// The call is not valid in the object's present state.
    case invalidState(ErrorDetail)
    /// A bug in the library: a Rust panic caught at the boundary.
    case panic(ErrorDetail)
    /// The uploaded file's size or hash differs from what was read.
    case hashMismatch(ErrorDetail)
    /// TLS failed: the server's certificate is not trusted (add its CA with
    /// `addCA(pem:)`), has expired, or names another host; or the handshake
    /// broke. Never retried.
    case tls(ErrorDetail)
    /// The proxy refused: wrong or missing credentials (HTTP 407), or it
    /// would not open a tunnel to the target. (A proxy nobody answers on is
    /// `.network`.)
    case proxy(ErrorDetail)
    /// A status this binding does not know (the library is newer).
    case unknown(ErrorDetail)

    /// The error for a failure's detail.
    public init(detail: ErrorDetail) {
        switch OneDriveStatus(rawValue: detail.statusCode) {
        case .some(.nullArgument): self = .nullArgument(detail)
        case .some(.invalidUtf8): self = .invalidUtf8(detail)
        case .some(.invalidArgument): self = .invalidArgument(detail)
        case .some(.invalidName): self = .invalidName(detail)
        case .some(.network): self = .network(detail)
        case .some(.timeout): self = .timeout(detail)
        case .some(.cancelled): self = .cancelled(detail)
        case .some(.abortedByCallback): self = .abortedByCallback(detail)
        case .some(.unauthorized): self = .unauthorized(detail)
        case .some(.forbidden): self = .forbidden(detail)
        case .some(.notFound): self = .notFound(detail)
        case .some(.conflict): self = .conflict(detail)
        case .some(.tooLarge): self = .tooLarge(detail)
        case .some(.throttled): self = .throttled(detail)
        case .some(.quota): self = .quota(detail)
        case .some(.notSupported): self = .notSupported(detail)
        case .some(.badRequest): self = .badRequest(detail)
        case .some(.service): self = .service(detail)
        case .some(.`protocol`): self = .`protocol`(detail)
        case .some(.jobFailed): self = .jobFailed(detail)
        case .some(.jobCancelled): self = .jobCancelled(detail)
        case .some(.io): self = .io(detail)
        case .some(.bufferTooSmall): self = .bufferTooSmall(detail)
        case .some(.invalidState): self = .invalidState(detail)
        case .some(.panic): self = .panic(detail)
        case .some(.hashMismatch): self = .hashMismatch(detail)
        case .some(.tls): self = .tls(detail)
        case .some(.proxy): self = .proxy(detail)
        case .some(.ok), .none: self = .unknown(detail)
        }
    }

    /// The failure's detail.
    public var detail: ErrorDetail {
        switch self {
        case .nullArgument(let d),
             .invalidUtf8(let d),
             .invalidArgument(let d),
             .invalidName(let d),
             .network(let d),
             .timeout(let d),
             .cancelled(let d),
             .abortedByCallback(let d),
             .unauthorized(let d),
             .forbidden(let d),
             .notFound(let d),
             .conflict(let d),
             .tooLarge(let d),
             .throttled(let d),
             .quota(let d),
             .notSupported(let d),
             .badRequest(let d),
             .service(let d),
             .`protocol`(let d),
             .jobFailed(let d),
             .jobCancelled(let d),
             .io(let d),
             .bufferTooSmall(let d),
             .invalidState(let d),
             .panic(let d),
             .hashMismatch(let d),
             .tls(let d),
             .proxy(let d),
             .unknown(let d):
            return d
        }
    }

    public var status: OneDriveStatus? { return detail.status }
    public var httpStatus: Int { return detail.httpStatus }
    public var code: String? { return detail.code }
    public var innerCode: String? { return detail.innerCode }
    public var requestId: String? { return detail.requestId }
    public var retryAfter: Double? { return detail.retryAfter }
    public var message: String { return detail.message }
    public var description: String { return detail.description }

    /// A failure to reach the service: `.network`, and the TLS and proxy
    /// failures that have their own case (TLS failures were `.network`
    /// before they had one).
    public var isNetworkFailure: Bool {
        switch self {
        case .network, .tls, .proxy: return true
        default: return false
        }
    }
}

/// How much a log line matters (`OD_LOG_*`); a handler set with a level gets
/// that level and the more severe ones.
public enum LogLevel: Int32, CaseIterable, Comparable, Sendable {
    /// A call failed.
    case error = 1
    /// A request failed and will be retried, or a recovery began.
    case warning = 2
    /// One line per request (method, host, path without query, status,
    /// duration, attempt, request-id), each upload-session decision.
    case info = 3
    /// Every look at an asynchronous job and the wait before the next.
    case debug = 4

    /// More severe first: `.error < .warning < .info < .debug`.
    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool {
        return lhs.rawValue < rhs.rawValue
    }
}

/// Where a job stands (`od_job_state`).
public enum JobState: Int32, CaseIterable, Sendable {
    case notStarted = 0
    case running = 1
    case completed = 2
    case failed = 3
    case cancelled = 4
    /// A status word the library does not know, or not looked at yet: treat as running.
    case unknown = 5
}

/// What to do when the name is taken (`od_conflict`).
public enum ConflictBehavior: Int32, CaseIterable, Sendable {
    /// Send nothing: the service decides (uploads replace, copies fail).
    case serviceDefault = 0
    case fail = 1
    case replace = 2
    /// Keep both: the new one gets a free name ("name 1.txt").
    case rename = 3
}

/// Extra digests to check after an upload; quickXorHash is always checked.
public struct HashChecks: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let sha1 = HashChecks(rawValue: UInt32(OD_HASH_SHA1))
    public static let sha256 = HashChecks(rawValue: UInt32(OD_HASH_SHA256))
}

/// What one look at a job saw.
public struct JobStatus: Sendable {
    public let state: JobState
    /// 0–100, or nil when the service gave no percentage.
    public let percent: Double?
    /// The service's error when the job failed or was cancelled.
    public let error: OneDriveError?

    public var isFinished: Bool {
        return state == .completed || state == .failed || state == .cancelled
    }
}
