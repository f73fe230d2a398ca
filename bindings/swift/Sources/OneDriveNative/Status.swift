import Foundation
import COneDrive

/// A failed call, shaped like Foundation's `URLError`: a `code` (the
/// library's `od_status`) and what the library said about the failure.
///
/// ```swift
/// do {
///     _ = try await client.item("/no/such/file")
/// } catch let error as OneDriveError where error.code == .notFound {
///     print(error.httpStatus, error.graphCode ?? "", error.requestId ?? "")
/// }
/// ```
///
/// `error.localizedDescription` is the library's message (`LocalizedError`).
/// `catch OneDriveError.Code.conflict { … }` matches on the code alone.
public struct OneDriveError: Error, LocalizedError, CustomStringConvertible, Sendable {
    /// The library's `od_status`, number for number: `OD_ERR_NOT_FOUND` is
    /// `.notFound`. A struct with a static member per status, not an enum:
    /// a status that a newer library adds is one more value, so no `switch`
    /// over codes stops compiling (give such a switch a `default:`).
    /// The members are generated from the header (StatusCodes.swift).
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The `od_status` number (also for a status newer than this binding).
        public let rawValue: Int32

        public init(rawValue: Int32) {
            self.rawValue = rawValue
        }

        // One `public static let` per od_status (`.ok`, `.notFound`, …):
        // StatusCodes.swift, generated from include/onedrive.abi.json.

        /// The library's name and description of the status (`od_status_str`).
        public var text: String {
            return String(cString: od_status_str(rawValue))
        }

        public var description: String {
            return text
        }

        /// Lets `catch OneDriveError.Code.notFound { … }` (and `case` in a
        /// `switch` over an `Error`) match a `OneDriveError` with this code.
        public static func ~= (code: Code, error: Error) -> Bool {
            return (error as? OneDriveError)?.code == code
        }
    }

    /// What failed.
    public let code: Code
    /// The library's message about the failure (the status's text when it
    /// gave none). Also `localizedDescription`.
    public let message: String
    /// The HTTP status behind the failure; 0 when there was none.
    public let httpStatus: Int
    /// Graph's `error.code`, e.g. `nameAlreadyExists`.
    public let graphCode: String?
    /// The innermost `innerError.code`.
    public let innerCode: String?
    /// The service's `request-id`.
    public let requestId: String?
    /// The service's Retry-After, in seconds.
    public let retryAfter: Double?

    /// An error with `code`; `message` nil takes the status's text.
    public init(_ code: Code, message: String? = nil, httpStatus: Int = 0, graphCode: String? = nil,
                innerCode: String? = nil, requestId: String? = nil, retryAfter: Double? = nil) {
        self.code = code
        self.message = message ?? code.text
        self.httpStatus = httpStatus
        self.graphCode = graphCode
        self.innerCode = innerCode
        self.requestId = requestId
        self.retryAfter = retryAfter
    }

    // LocalizedError: what `localizedDescription` shows.
    public var errorDescription: String? {
        return message
    }

    /// The status's own text (`od_status_str`), e.g. for a log line beside
    /// `errorDescription`.
    public var failureReason: String? {
        return code.text
    }

    public var description: String {
        var s = message + " [status \(code.rawValue)"
        if httpStatus != 0 { s += ", http \(httpStatus)" }
        if let graphCode = graphCode { s += ", code \(graphCode)" }
        if let innerCode = innerCode { s += ", inner \(innerCode)" }
        if let requestId = requestId { s += ", request-id \(requestId)" }
        return s + "]"
    }

    /// A failure to reach the service: `.network`, and the TLS and proxy
    /// failures that have their own code (TLS failures were `.network`
    /// before they had one).
    public var isNetworkFailure: Bool {
        return code == .network || code == .tls || code == .proxy
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
