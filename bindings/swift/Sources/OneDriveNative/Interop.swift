import Foundation
import COneDrive

/// Progress of a transfer: `done` bytes of `total`. Runs on the thread that
/// made the call, during the call. It only reports: to stop the call, cancel
/// its task (`async` methods), raise its `CancelFlag` or cancel its
/// `Progress` (`reportingTo:`).
public typealias ProgressHandler = @Sendable (_ done: UInt64, _ total: UInt64) -> Void

/// Progress of a job (a copy, an upload from URL) after each look: the
/// percent the service gave, 0–100 (0 before it gave any). Runs on the
/// thread that made the call. It only reports: to stop the wait (the job
/// goes on), cancel the task, raise the `CancelFlag` or cancel the `Progress`.
public typealias JobProgressHandler = @Sendable (_ percent: Double) -> Void

/// Fills the buffer with the next bytes of an upload and returns how many
/// (0 only at the end). Runs on the thread that made the call; an error it
/// throws stops the upload and is rethrown by the call.
public typealias ReadHandler = (_ buffer: UnsafeMutableRawBufferPointer) throws -> Int

/// Takes the next bytes of a download, in order; the buffer is valid only
/// during the call (copy what you keep). Runs on the thread that made the
/// call; an error it throws stops the download and is rethrown by the call.
/// The bytes are the file's only when the call returns: after an error,
/// drop what it received.
public typealias WriteHandler = (_ bytes: UnsafeRawBufferPointer) throws -> Void

/// Receives one of the library's log lines: its level, and the line (never
/// the token, a query string or an upload URL's path). Runs on the thread
/// of the request that made it, possibly on several at once; keep it short.
public typealias LogHandler = @Sendable (_ level: LogLevel, _ message: String) -> Void

/// The thread's last-error detail, read right after a failing call on the
/// same thread (it is thread-local in the library).
enum LastError {
    static let fieldMessage: Int32 = 0
    static let fieldCode: Int32 = 1
    static let fieldInnerCode: Int32 = 2
    static let fieldRequestId: Int32 = 3

    /// The error for `status` from what the failing call left on this thread.
    static func read(_ status: Int32) -> OneDriveError {
        let http = od_last_error_http_status()
        let retryMs = od_last_error_retry_after_ms()
        var message = field(fieldMessage) ?? ""
        if message.isEmpty {
            message = String(cString: od_status_str(status))
        }
        return OneDriveError(
            OneDriveError.Code(rawValue: status),
            message: message,
            httpStatus: Int(http),
            graphCode: nonEmpty(field(fieldCode)),
            innerCode: nonEmpty(field(fieldInnerCode)),
            requestId: nonEmpty(field(fieldRequestId)),
            retryAfter: retryMs >= 0 ? Double(retryMs) / 1000.0 : nil
        )
    }

    /// One text field, with the buffer + needed-length protocol: ask for
    /// the length, then read into a buffer of that size.
    static func field(_ which: Int32) -> String? {
        var needed: Int = 0
        var status = od_last_error_string(which, nil, 0, &needed)
        for _ in 0..<4 {
            guard succeeded(status) || status == OneDriveError.Code.bufferTooSmall.rawValue,
                  needed > 0 else { return nil }
            var buffer = [CChar](repeating: 0, count: needed)
            let size = buffer.count
            status = buffer.withUnsafeMutableBufferPointer { buf in
                od_last_error_string(which, buf.baseAddress, size, &needed)
            }
            if succeeded(status) {
                return buffer.withUnsafeBufferPointer { buf in String(cString: buf.baseAddress!) }
            }
        }
        return nil
    }

    /// Forgets the last failure on this thread.
    static func clear() {
        od_last_error_clear()
    }

    static func nonEmpty(_ s: String?) -> String? {
        guard let s = s, !s.isEmpty else { return nil }
        return s
    }

    /// Throws the error for a failed status; nothing on `OD_OK`.
    static func check(_ status: Int32) throws {
        if !succeeded(status) {
            throw read(status)
        }
    }

    /// An error raised on the Swift side before any call.
    static func local(_ code: OneDriveError.Code, _ message: String) -> OneDriveError {
        return OneDriveError(code, message: message)
    }
}

/// Whether a call's `od_status` is `OD_OK`.
func succeeded(_ status: Int32) -> Bool {
    return status == OneDriveError.Code.ok.rawValue
}

/// NUL-terminated UTF-8 copies of a call's string arguments, freed with the
/// bag. Keep the bag alive across the call (`withExtendedLifetime`).
final class CStrings {
    private var owned: [UnsafeMutablePointer<CChar>] = []

    func add(_ value: String?, _ name: String) throws -> UnsafePointer<CChar>? {
        guard let value = value else { return nil }
        if value.utf8.contains(0) {
            throw LastError.local(.invalidArgument, "`\(name)` contains a NUL character")
        }
        guard let copy = strdup(value) else {
            throw LastError.local(.io, "out of memory copying `\(name)`")
        }
        owned.append(copy)
        return UnsafePointer(copy)
    }

    deinit {
        for p in owned {
            free(p)
        }
    }
}

/// What native callbacks of one call reach through their userdata (an
/// unretained `Unmanaged` pointer; the call keeps the box alive).
final class CallBox {
    /// What the library's (done, total) counts: bytes of a transfer, or for
    /// a job (percent × 100, 10000).
    enum Unit {
        case bytes
        case jobPercent
    }

    let unit: Unit
    let progress: ProgressHandler?
    let jobProgress: JobProgressHandler?
    /// A `Foundation.Progress` that follows the callbacks (and whose
    /// `cancel()` stops the call).
    let reporter: Progress?
    let read: ReadHandler?
    var readError: Error?
    let write: WriteHandler?
    var writeError: Error?
    var cancelledThroughReporter = false

    /// A transfer: bytes.
    init(progress: ProgressHandler?, reportingTo reporter: Progress? = nil, read: ReadHandler? = nil,
         write: WriteHandler? = nil) {
        unit = .bytes
        self.progress = progress
        jobProgress = nil
        self.reporter = reporter
        self.read = read
        self.write = write
    }

    /// A job wait: percent.
    init(jobProgress: JobProgressHandler?, reportingTo reporter: Progress?) {
        unit = .jobPercent
        progress = nil
        self.jobProgress = jobProgress
        self.reporter = reporter
        read = nil
        write = nil
    }

    var userdata: UnsafeMutableRawPointer {
        return Unmanaged.passUnretained(self).toOpaque()
    }

    var progressFn: od_progress_fn? {
        return progress == nil && jobProgress == nil && reporter == nil ? nil : progressThunk
    }

    /// One report from the library; false (the reporter was cancelled)
    /// stops the call.
    func report(done: UInt64, total: UInt64) -> Bool {
        if let reporter = reporter, reporter.isCancelled {
            cancelledThroughReporter = true
            return false
        }
        switch unit {
        case .bytes:
            if let reporter = reporter {
                reporter.totalUnitCount = Int64(clamping: total)
                reporter.completedUnitCount = Int64(clamping: done)
            }
            progress?(done, total)
        case .jobPercent:
            let percent = total == 0 ? 0 : min(100, Double(done) * 100 / Double(total))
            if let reporter = reporter {
                reporter.totalUnitCount = 100
                reporter.completedUnitCount = Int64(percent.rounded(.down))
            }
            jobProgress?(percent)
        }
        return true
    }

    /// After success: the reporter shows the call complete (a job whose
    /// service gave no last percent, an empty file).
    func finish() {
        guard let reporter = reporter else { return }
        if unit == .jobPercent {
            reporter.totalUnitCount = 100
        } else if reporter.totalUnitCount <= 0 {
            reporter.totalUnitCount = 1
        }
        reporter.completedUnitCount = reporter.totalUnitCount
    }

    /// The error to throw for a failed call: the read or write handler's
    /// own error when it stopped the call, `.cancelled` when the reporter's
    /// `cancel()` did, else the library's.
    func failure(_ status: Int32) -> Error {
        let error = LastError.read(status)
        if let readError = readError, status == OneDriveError.Code.io.rawValue {
            return readError
        }
        if let writeError = writeError, status == OneDriveError.Code.abortedByCallback.rawValue {
            return writeError
        }
        if cancelledThroughReporter, status == OneDriveError.Code.abortedByCallback.rawValue {
            return LastError.local(.cancelled, "cancelled through the call's Progress")
        }
        return error
    }

    func check(_ status: Int32) throws {
        if !succeeded(status) {
            throw failure(status)
        }
        finish()
    }
}

/// C-convention thunks: they capture nothing, so Swift can hand them to C.
let progressThunk: od_progress_fn = { userdata, done, total in
    guard let userdata = userdata else { return 1 }
    let box = Unmanaged<CallBox>.fromOpaque(userdata).takeUnretainedValue()
    return box.report(done: done, total: total) ? 0 : 1
}

let readThunk: od_read_fn = { userdata, buf, len in
    guard let userdata = userdata else { return -1 }
    let box = Unmanaged<CallBox>.fromOpaque(userdata).takeUnretainedValue()
    guard let read = box.read else { return -1 }
    do {
        let n = try read(UnsafeMutableRawBufferPointer(start: buf, count: len))
        if n < 0 || n > len {
            box.readError = LastError.local(.io, "the read handler returned \(n) for a \(len)-byte buffer")
            return -1
        }
        return Int64(n)
    } catch {
        box.readError = error
        return -1
    }
}

/// A token and when it expires, as an async token provider answers.
typealias TokenAnswer = (token: String, expiresOn: Date)

/// Hands a download's bytes to the call's write handler; an error it
/// throws is kept for the call to rethrow, and stops the download.
let writeThunk: od_write_fn = { userdata, data, len in
    guard let userdata = userdata else { return 1 }
    let box = Unmanaged<CallBox>.fromOpaque(userdata).takeUnretainedValue()
    guard let write = box.write else { return 1 }
    do {
        try write(UnsafeRawBufferPointer(start: data, count: len))
        return 0
    } catch {
        box.writeError = error
        return 1
    }
}

/// Carries an async token provider's answer to a blocking thread waiting for it.
final class AsyncTokenResult: @unchecked Sendable {
    var value: TokenAnswer?
}

/// An async token provider behind the library's synchronous token callback,
/// so that no thread of Swift's cooperative pool blocks on it.
///
/// One provider call at a time, shared by all who need a token while it
/// runs. The client's `async` methods ask (`dueAnswer()`) before their
/// blocking call starts, in the caller's task, when the token is missing or
/// due (5 minutes before it expires, the library's margin), and set it on the
/// client: the library's callback then has nothing to wait for. When the
/// callback is still asked (after a 401, or in a `…Blocking` call):
/// - on a thread that runs no task (the global queue the `async` methods
///   run their blocking call on, or an app's own thread), it waits for the
///   provider;
/// - on a thread that runs a task (a `…Blocking` call made from an `async`
///   function, on the cooperative pool), it does not wait, since the
///   provider may need that very thread: it starts the provider and the
///   request goes on with the token it has; the next request gets the new one.
final class AsyncTokenSource: @unchecked Sendable {
    // Sendable: its state is behind the lock.
    private let provider: @Sendable () async -> TokenAnswer?
    private let lock = NSLock()
    private var latest: TokenAnswer?
    /// Whether `latest` was handed to the client already.
    private var delivered = false
    private var running: Task<TokenAnswer?, Never>?
    /// Seconds before its expiry a token is renewed (the library's margin).
    static let margin: TimeInterval = 300

    init(_ provider: @escaping @Sendable () async -> TokenAnswer?) {
        self.provider = provider
    }

    /// The provider call under way, or a new one.
    func refresh() -> Task<TokenAnswer?, Never> {
        lock.lock()
        defer { lock.unlock() }
        if let task = running {
            return task
        }
        // `finished` takes the lock: it runs after `running` is set.
        let task = Task.detached { () async -> TokenAnswer? in
            let answer = await self.provider()
            self.finished(answer)
            return answer
        }
        running = task
        return task
    }

    private func finished(_ answer: TokenAnswer?) {
        lock.lock()
        if let answer = answer {
            latest = answer
            delivered = false
        }
        running = nil
        lock.unlock()
    }

    /// The newest answer, when the client has not had it yet; marks it handed over.
    private func takeUndelivered() -> TokenAnswer? {
        lock.lock()
        defer { lock.unlock() }
        guard let answer = latest, !delivered else { return nil }
        delivered = true
        return answer
    }

    private var isDue: Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let answer = latest else { return true }
        return answer.expiresOn.timeIntervalSinceNow <= AsyncTokenSource.margin
    }

    /// In a task, before a blocking call: runs the provider when the token
    /// is missing or due, and returns what the client should be given (nil:
    /// it has the newest already, or the provider gave none).
    func dueAnswer() async -> TokenAnswer? {
        if isDue {
            _ = await refresh().value
        }
        return takeUndelivered()
    }

    /// For the library's token callback, on the request's thread (see the
    /// type's doc): a token to hand over, or nil for none.
    func callbackAnswer() -> TokenAnswer? {
        if let answer = takeUndelivered(), answer.expiresOn.timeIntervalSinceNow > AsyncTokenSource.margin {
            return answer
        }
        let task = refresh()
        let onTaskThread = withUnsafeCurrentTask { current in current != nil }
        if onTaskThread {
            return nil
        }
        let result = AsyncTokenResult()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            result.value = await task.value
            done.signal()
        }
        done.wait()
        _ = takeUndelivered()
        return result.value
    }
}

/// Holds the token provider a client's token callback calls.
final class TokenBox {
    /// A token and its expiry (nil: unknown).
    let provider: @Sendable () -> (String, Date?)?
    init(_ provider: @escaping @Sendable () -> (String, Date?)?) {
        self.provider = provider
    }
}

let tokenThunk: od_token_fn = { userdata, client in
    guard let userdata = userdata, let client = client else { return 1 }
    let box = Unmanaged<TokenBox>.fromOpaque(userdata).takeUnretainedValue()
    guard let (token, expiresOn) = box.provider(), !token.utf8.contains(0) else { return 1 }
    let seconds = expiresOn.map { Int64($0.timeIntervalSince1970) } ?? 0
    return succeeded(od_client_set_token_with_expiry(client, token, seconds)) ? 0 : 1
}

/// Holds the log handler a client's log callback calls.
final class LogBox {
    let handler: LogHandler
    init(_ handler: @escaping LogHandler) {
        self.handler = handler
    }
}

/// The message is borrowed for the call: copied into a String at once.
let logThunk: od_log_fn = { userdata, level, message in
    guard let userdata = userdata, let message = message else { return }
    let box = Unmanaged<LogBox>.fromOpaque(userdata).takeUnretainedValue()
    box.handler(LogLevel(rawValue: level) ?? .debug, String(cString: message))
}

/// The path of a file URL, for the C calls that take a path; another URL
/// (`https:`…) is `.invalidArgument`.
func filePath(_ url: URL, _ name: String) throws -> String {
    guard url.isFileURL else {
        throw LastError.local(.invalidArgument, "`\(name)` is not a file URL (scheme \(url.scheme ?? "none"))")
    }
    return url.path
}

/// Reads a string borrowed from a handle (NULL: nil).
func borrowedString(_ p: UnsafePointer<CChar>?) -> String? {
    guard let p = p else { return nil }
    return String(cString: p)
}

/// Runs a blocking call off the caller's task, on a global queue, with the
/// task's cancellation wired to a `CancelFlag`. A call stopped because the
/// task was cancelled throws `CancellationError`.
func runBlocking<T: Sendable>(_ body: @escaping @Sendable (CancelFlag) throws -> T) async throws -> T {
    let flag = try CancelFlag()
    do {
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
                DispatchQueue.global(qos: .userInitiated).async {
                    continuation.resume(with: Result(catching: { try body(flag) }))
                }
            }
        } onCancel: {
            flag.trigger()
        }
    } catch let error as OneDriveError where error.code == .cancelled && Task.isCancelled {
        throw CancellationError()
    }
}
