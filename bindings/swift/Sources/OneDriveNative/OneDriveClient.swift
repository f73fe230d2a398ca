import Foundation
import COneDrive

/// A client of one Graph endpoint with one token (`od_client`).
///
/// Any number of threads and tasks may use one client at once (it is
/// `Sendable`). Each operation comes twice, under two names that never
/// clash: `item(_:)`, `uploadFile(to:name:from:)`, `copy(_:to:)`,
/// `wait(for:)`… are `async` (run off the caller's task, stopped when the
/// task is cancelled), and `itemBlocking(_:)`, `uploadFileBlocking(…)`,
/// `copyBlocking(…)`, `waitBlocking(for:)`… block the calling thread on
/// network I/O (stopped through a `CancelFlag`). Only the two uploads fed
/// by a `ReadHandler` (`uploadStreamBlocking`, `uploadBlocking(session:read:)`)
/// have no `async` form: the handler runs on the calling thread, during
/// the call. Settings (`setToken`, `addCA`, `setProxy`…) make no request
/// and have one form. The native client is freed in deinit.
///
/// Progress: transfers report bytes (`ProgressHandler`), job waits the
/// service's percent, 0–100 (`JobProgressHandler`); every such method also
/// takes `reportingTo:` a `Foundation.Progress` whose `totalUnitCount` /
/// `completedUnitCount` follow the same reports (bytes, or 100 and the
/// percent for a job) and whose `cancel()` stops the call (`.cancelled`).
///
/// Item references (`item`, `source`, `destinationParent`) are paths
/// (`/a/b.txt`, `/` for the root), ids, or `ID:/rel`. `drive` arguments are
/// drive prefixes (`/me/drive`, `/drives/ID`, `/groups/ID/drive`,
/// `/sites/ID/drive`, `/users/ID/drive`); nil means `/me/drive`.
public final class OneDriveClient: @unchecked Sendable {
    // Sendable: the library allows any number of threads on one client; the
    // Swift state (token boxes) is behind a lock.
    let raw: OpaquePointer
    private let lock = NSLock()
    private var tokenBoxes: [Unmanaged<TokenBox>] = []
    private var logBoxes: [Unmanaged<LogBox>] = []
    /// The async token provider, when one is installed: the `async`
    /// methods ask it before their blocking call (`perform`).
    private var asyncTokenSource: AsyncTokenSource?

    /// Creates a client.
    /// - Parameters:
    ///   - baseURL: the API root; nil = `https://graph.microsoft.com/v1.0`.
    ///   - token: the bearer token; nil = none yet.
    ///   - allowInsecureHTTP: allow plain `http://` to non-loopback hosts.
    public init(baseURL: String? = nil, token: String? = nil, allowInsecureHTTP: Bool = false) throws {
        let args = CStrings()
        let base = try args.add(baseURL, "baseURL")
        let bearer = try args.add(token, "token")
        let flags: UInt32 = allowInsecureHTTP ? UInt32(OD_CLIENT_ALLOW_INSECURE_HTTP) : 0
        var out: OpaquePointer? = nil
        let status = withExtendedLifetime(args) {
            od_client_new(base, bearer, flags, &out)
        }
        guard succeeded(status), let client = out else {
            throw LastError.read(status)
        }
        raw = client
    }

    deinit {
        // No call can be running: each holds a reference to the client.
        od_client_free(raw)
        for box in tokenBoxes {
            box.release()
        }
        for box in logBoxes {
            box.release()
        }
    }

    /// The native library's version ("MAJOR.MINOR.PATCH").
    public static var libraryVersion: String {
        return String(cString: od_version())
    }

    // MARK: settings

    /// Replaces the bearer token for every request from now on.
    public func setToken(_ token: String) throws {
        let args = CStrings()
        let bearer = try args.add(token, "token")
        try withExtendedLifetime(args) {
            try LastError.check(od_client_set_token(raw, bearer))
        }
    }

    /// Replaces the bearer token and says when it expires: with a token
    /// provider set, it is refreshed 5 minutes before then, and after a 401.
    public func setToken(_ token: String, expiresOn: Date) throws {
        let args = CStrings()
        let bearer = try args.add(token, "token")
        try withExtendedLifetime(args) {
            try LastError.check(od_client_set_token_with_expiry(raw, bearer, Int64(expiresOn.timeIntervalSince1970)))
        }
    }

    /// Installs an async provider of a token and its expiry (what MSAL's
    /// `acquireTokenSilent` gives); concurrent requests share one call of it.
    /// It is asked when a token is missing or due (5 minutes before it
    /// expires) and after a 401; nil means "no token" (a 401 then stands).
    ///
    /// No thread of Swift's cooperative pool is blocked waiting for it: the
    /// `async` methods ask it in the caller's task before their blocking
    /// call starts. Asked during a call (after a 401; in a `…Blocking`
    /// call), it is waited for on a thread that runs no task (the queue the
    /// `async` methods use, a thread of your own); a `…Blocking` call made
    /// from inside a task does not wait for it (that thread may be the one
    /// the provider needs): the request goes on with the token it has and the
    /// next one gets the new token. In an `async` function, call the `async`
    /// methods.
    public func setTokenProvider(_ provider: @escaping @Sendable () async -> (token: String, expiresOn: Date)?) throws {
        let source = AsyncTokenSource(provider)
        try installTokenProvider(asyncSource: source) { () -> (String, Date?)? in
            return source.callbackAnswer().map { ($0.token, $0.expiresOn) }
        }
    }

    /// Installs (nil: removes) a function asked for a fresh token after the
    /// service answered 401. It runs on the thread that made the request,
    /// possibly on several at once; returning nil lets the 401 stand.
    public func setTokenProvider(_ provider: (@Sendable () -> String?)?) throws {
        guard let provider = provider else {
            lock.lock()
            asyncTokenSource = nil
            lock.unlock()
            try LastError.check(od_client_set_token_callback(raw, nil, nil))
            return
        }
        try installTokenProvider(asyncSource: nil) { provider().map { ($0, nil) } }
    }

    /// Installs a provider of a token and its expiry (nil: unknown), and
    /// the async source behind it (nil: none).
    private func installTokenProvider(asyncSource source: AsyncTokenSource?,
                                      _ provider: @escaping @Sendable () -> (String, Date?)?) throws {
        let box = Unmanaged.passRetained(TokenBox(provider))
        // Kept until deinit: a request on another thread may still be
        // running an earlier provider when it is replaced.
        lock.lock()
        tokenBoxes.append(box)
        asyncTokenSource = source
        lock.unlock()
        try LastError.check(od_client_set_token_callback(raw, tokenThunk, box.toOpaque()))
    }

    /// The async token provider's source, if one is installed.
    private func currentAsyncTokenSource() -> AsyncTokenSource? {
        lock.lock()
        defer { lock.unlock() }
        return asyncTokenSource
    }

    /// Runs a blocking call off the caller's task (`runBlocking`), after an
    /// async token provider gave a token that was missing or due, here in
    /// the caller's task: the blocking call then finds it set.
    func perform<T: Sendable>(_ body: @escaping @Sendable (CancelFlag) throws -> T) async throws -> T {
        if let source = currentAsyncTokenSource(), let answer = await source.dueAnswer() {
            try setToken(answer.token, expiresOn: answer.expiresOn)
        }
        return try await runBlocking(body)
    }

    /// Connect timeout and request (stall) timeout, in seconds (above 0).
    public func setTimeouts(connect: TimeInterval, request: TimeInterval) throws {
        try LastError.check(od_client_set_timeouts(raw, try millis32(connect, "connect"), try millis32(request, "request")))
    }

    /// The retry policy: `maxAttempts` in all (1 = never retry), and the
    /// most time, in seconds, one request spends waiting between attempts.
    public func setRetry(maxAttempts: UInt32, maxWait: TimeInterval) throws {
        guard maxAttempts >= 1, maxWait >= 0, maxWait.isFinite else {
            throw LastError.local(.invalidArgument, "maxAttempts must be at least 1 and maxWait at least 0")
        }
        try LastError.check(od_client_set_retry(raw, maxAttempts, UInt64(maxWait * 1000)))
    }

    /// Sets the User-Agent header.
    public func setUserAgent(_ userAgent: String) throws {
        let args = CStrings()
        let agent = try args.add(userAgent, "userAgent")
        try withExtendedLifetime(args) {
            try LastError.check(od_client_set_user_agent(raw, agent))
        }
    }

    /// How files are uploaded: bodies up to `simpleLimit` bytes in one PUT,
    /// larger ones through an upload session in chunks of `chunkSize` bytes
    /// (a positive multiple of 320 KiB below 60 MiB); extra digests to check.
    public func setUploadOptions(simpleLimit: UInt64, chunkSize: UInt64, hashes: HashChecks = []) throws {
        try LastError.check(od_client_set_upload_options(raw, simpleLimit, chunkSize, hashes.rawValue))
    }

    // MARK: network: trusted CAs, proxy, upload rate cap, log

    /// Trusts the CA certificates of a PEM bundle (one or more
    /// `-----BEGIN CERTIFICATE-----` sections; other sections are skipped)
    /// besides the system's trust store (on Apple platforms the keychain, so
    /// a CA that an MDM profile installed is trusted already), for
    /// connections opened from now on. Call again to add more. A bundle with
    /// no certificate, or a malformed one, is `.invalidArgument`.
    /// Certificate checks cannot be turned off.
    public func addCA(pem: Data) throws {
        let status = pem.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Int32 in
            od_client_add_ca_pem(raw, bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count)
        }
        try LastError.check(status)
    }

    /// As `addCA(pem:)`, with the PEM text.
    public func addCA(pem: String) throws {
        try addCA(pem: Data(pem.utf8))
    }

    /// As `addCA(pem:)`, with the bundle read from a file (a file URL:
    /// another URL is `.invalidArgument`); a file that cannot be read is `.io`.
    public func addCA(fileAt file: URL) throws {
        let args = CStrings()
        let pathArg = try args.add(try filePath(file, "fileAt"), "fileAt")
        try withExtendedLifetime(args) {
            try LastError.check(od_client_add_ca_file(raw, pathArg))
        }
    }

    /// Sends every request of this client (the API, monitor and upload
    /// hosts, loopback too) through a proxy, for connections opened from now
    /// on: `http://[user:password@]host:port` (a CONNECT tunnel, Basic
    /// authentication when the URL has credentials; percent-encode `@ : /`
    /// in them), `https://…` (TLS to the proxy too), `socks5://`,
    /// `socks5h://` (names resolved by the proxy), `socks4://`, `socks4a://`.
    /// nil removes it; then a proxy from the environment (`HTTPS_PROXY`,
    /// `ALL_PROXY`, `NO_PROXY`…) is used, never for loopback. Another scheme
    /// or a malformed URL is `.invalidArgument` (whose message never repeats
    /// the URL); a proxy that refuses the credentials or the tunnel makes
    /// calls fail with `.proxy`.
    public func setProxy(_ url: String?) throws {
        let args = CStrings()
        let proxyArg = try args.add(url, "proxy")
        try withExtendedLifetime(args) {
            try LastError.check(od_client_set_proxy(raw, proxyArg))
        }
    }

    /// Caps what this client's uploads send, all together, at
    /// `bytesPerSecond` (0: no cap, the default), simple uploads and upload
    /// sessions alike; uploads under way follow a new cap from their next
    /// piece. A capped upload's total deadline grows to match.
    public func setUploadRate(_ bytesPerSecond: UInt64) throws {
        try LastError.check(od_client_set_upload_rate(raw, bytesPerSecond))
    }

    /// Installs (nil: removes) a handler for the library's log lines of
    /// `level` and the more severe levels; lines of other levels are never
    /// made. It runs on the thread of the request that made the line,
    /// possibly on several at once: keep it short, and hand lines to your
    /// logger (`os.Logger`, swift-log). Call again to change the level.
    /// When this returns, a replaced handler is not running and will not
    /// be called again (unless this is called from inside a handler).
    public func setLogHandler(level: LogLevel = .info, _ handler: LogHandler?) throws {
        guard let handler = handler else {
            try LastError.check(od_client_set_log_callback(raw, 0, nil, nil))
            return
        }
        let box = Unmanaged.passRetained(LogBox(handler))
        // Kept until deinit: replaced from inside a handler, an earlier one
        // may still be running on another thread.
        lock.lock()
        logBoxes.append(box)
        lock.unlock()
        try LastError.check(od_client_set_log_callback(raw, level.rawValue, logThunk, box.toOpaque()))
    }

    // MARK: items

    /// Reads an item's metadata, blocking the calling thread (`async`:
    /// `item(_:drive:)`).
    public func itemBlocking(_ item: String, drive: String? = nil) throws -> DriveItem {
        let args = CStrings()
        let driveArg = try args.add(drive, "drive")
        let itemArg = try args.add(item, "item")
        var out: OpaquePointer? = nil
        let status = withExtendedLifetime(args) {
            od_item_get(raw, driveArg, itemArg, &out)
        }
        try LastError.check(status)
        return try DriveItem.take(out)
    }

    /// Creates the folder `name` in `parent` (`/`, `/a/b`, an id, `ID:/rel`)
    /// and returns it. A name in use throws unless `conflict` says rename or
    /// replace; with `parents` it works as `mkdir -p`: missing folders of the
    /// path are made, existing ones (the folder itself too) are kept.
    /// Blocks the calling thread (`async`: `createFolder(_:in:)`).
    public func createFolderBlocking(_ name: String, in parent: String, conflict: ConflictBehavior = .serviceDefault,
                                     parents: Bool = false, drive: String? = nil,
                                     cancel: CancelFlag? = nil) throws -> DriveItem {
        let args = CStrings()
        let driveArg = try args.add(drive, "drive")
        let parentArg = try args.add(parent, "parent")
        let nameArg = try args.add(name, "name")
        let flags: UInt32 = parents ? UInt32(OD_FOLDER_PARENTS) : 0
        var out: OpaquePointer? = nil
        let status = withExtendedLifetime((args, cancel)) {
            od_folder_create(raw, driveArg, parentArg, nameArg, conflict.rawValue, flags, cancel?.raw, &out)
        }
        try LastError.check(status)
        return try DriveItem.take(out)
    }

    /// Deletes an item (a folder with all it holds). With `ifMatch` (an eTag
    /// read earlier) a changed item is not deleted (`.conflict`); a missing
    /// item is `.notFound`. Blocks the calling thread (`async`: `delete(_:)`).
    public func deleteBlocking(_ item: String, ifMatch: String? = nil, drive: String? = nil,
                               cancel: CancelFlag? = nil) throws {
        let args = CStrings()
        let driveArg = try args.add(drive, "drive")
        let itemArg = try args.add(item, "item")
        let tagArg = try args.add(ifMatch, "ifMatch")
        let status = withExtendedLifetime((args, cancel)) {
            od_item_delete(raw, driveArg, itemArg, tagArg, cancel?.raw)
        }
        try LastError.check(status)
    }

    // MARK: upload

    /// Uploads `data` as a file: one PUT up to the simple-upload limit
    /// (4 MiB by default), an upload session above it. Blocks the calling
    /// thread (`async`: `upload(to:name:data:)`).
    /// - Parameters:
    ///   - item: with a `name`, the parent folder (`/`, `/a/b`, an id,
    ///     `ID:/rel`); with `name` nil, the file itself (a path is created or
    ///     replaced, an id replaced).
    ///   - progress: bytes sent of the size; return false to stop.
    ///   - reportingTo: a `Progress` whose unit counts follow the bytes sent
    ///     of the size; its `cancel()` stops the call (`.cancelled`).
    ///   - cancel: raise it from another thread to stop the call.
    public func uploadBlocking(to item: String, name: String?, data: Data,
                               conflict: ConflictBehavior = .serviceDefault, drive: String? = nil,
                               progress: ProgressHandler? = nil, reportingTo reporter: Progress? = nil,
                               cancel: CancelFlag? = nil) throws -> DriveItem {
        let args = CStrings()
        let driveArg = try args.add(drive, "drive")
        let itemArg = try args.add(item, "item")
        let nameArg = try args.add(name, "name")
        let box = CallBox(progress: progress, reportingTo: reporter)
        var out: OpaquePointer? = nil
        let status: Int32 = withExtendedLifetime((args, box, cancel)) {
            data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Int32 in
                od_upload(raw, driveArg, itemArg, nameArg,
                          bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count,
                          conflict.rawValue, box.progressFn, box.userdata, cancel?.raw, &out)
            }
        }
        try box.check(status)
        return try DriveItem.take(out)
    }

    /// Uploads a local file, `from` a file URL (another URL is
    /// `.invalidArgument`): one PUT up to the simple-upload limit, an
    /// upload session above it (streamed from disk, resumed after dropped
    /// connections, hashes checked). Arguments as for
    /// `uploadBlocking(to:name:data:)`. Blocks the calling thread (`async`:
    /// `uploadFile(to:name:from:)`).
    public func uploadFileBlocking(to item: String, name: String?, from file: URL,
                                   conflict: ConflictBehavior = .serviceDefault, drive: String? = nil,
                                   progress: ProgressHandler? = nil, reportingTo reporter: Progress? = nil,
                                   cancel: CancelFlag? = nil) throws -> DriveItem {
        let args = CStrings()
        let driveArg = try args.add(drive, "drive")
        let itemArg = try args.add(item, "item")
        let nameArg = try args.add(name, "name")
        let pathArg = try args.add(try filePath(file, "from"), "from")
        let box = CallBox(progress: progress, reportingTo: reporter)
        var out: OpaquePointer? = nil
        let status = withExtendedLifetime((args, box, cancel)) {
            od_upload_file(raw, driveArg, itemArg, nameArg, pathArg, conflict.rawValue,
                           box.progressFn, box.userdata, cancel?.raw, &out)
        }
        try box.check(status)
        return try DriveItem.take(out)
    }

    /// Uploads `size` bytes that `read` supplies (an app's own storage, a
    /// stream), on the calling thread, during the call only; so there is no
    /// `async` form: call it from a task or thread of your own.
    public func uploadStreamBlocking(to item: String, name: String?, size: UInt64, read: ReadHandler,
                                     conflict: ConflictBehavior = .serviceDefault, drive: String? = nil,
                                     progress: ProgressHandler? = nil, reportingTo reporter: Progress? = nil,
                                     cancel: CancelFlag? = nil) throws -> DriveItem {
        let args = CStrings()
        let driveArg = try args.add(drive, "drive")
        let itemArg = try args.add(item, "item")
        let nameArg = try args.add(name, "name")
        return try withoutActuallyEscaping(read) { (reader: @escaping ReadHandler) throws -> DriveItem in
            let box = CallBox(progress: progress, reportingTo: reporter, read: reader)
            var out: OpaquePointer? = nil
            let status = withExtendedLifetime((args, box, cancel)) {
                od_upload_stream(raw, driveArg, itemArg, nameArg, size, readThunk, box.userdata,
                                 conflict.rawValue, box.progressFn, box.userdata, cancel?.raw, &out)
            }
            try box.check(status)
            return try DriveItem.take(out)
        }
    }

    // MARK: upload sessions

    /// Creates an upload session for a file of `size` bytes (above 0) going
    /// to (`item`, `name`) as for `uploadBlocking(to:name:data:)`. Blocks the
    /// calling thread (`async`: `createUploadSession(for:name:size:)`).
    public func createUploadSessionBlocking(for item: String, name: String?, size: UInt64,
                                            conflict: ConflictBehavior = .serviceDefault,
                                            drive: String? = nil) throws -> UploadSession {
        let args = CStrings()
        let driveArg = try args.add(drive, "drive")
        let itemArg = try args.add(item, "item")
        let nameArg = try args.add(name, "name")
        var out: OpaquePointer? = nil
        let status = withExtendedLifetime(args) {
            od_session_create(raw, driveArg, itemArg, nameArg, size, conflict.rawValue, &out)
        }
        try LastError.check(status)
        guard let session = out else {
            throw LastError.local(.`protocol`, "the library returned no session")
        }
        return UploadSession(raw: session)
    }

    /// Sends a local file (a file URL) through a session, from wherever the
    /// service stands. On failure the session stays on the service: save it
    /// and try again later, or cancel it. Blocks the calling thread
    /// (`async`: `upload(session:fromFile:)`).
    public func uploadBlocking(session: UploadSession, fromFile file: URL,
                               progress: ProgressHandler? = nil, reportingTo reporter: Progress? = nil,
                               cancel: CancelFlag? = nil) throws -> DriveItem {
        let args = CStrings()
        let pathArg = try args.add(try filePath(file, "fromFile"), "fromFile")
        let box = CallBox(progress: progress, reportingTo: reporter)
        var out: OpaquePointer? = nil
        let status = session.exclusive {
            withExtendedLifetime((args, box, cancel)) {
                od_session_upload_file(raw, session.raw, pathArg, box.progressFn, box.userdata, cancel?.raw, &out)
            }
        }
        try box.check(status)
        return try DriveItem.take(out)
    }

    /// Sends a session's bytes from `read`, starting at byte 0 of the file,
    /// on the calling thread (no `async` form, as `uploadStreamBlocking`).
    public func uploadBlocking(session: UploadSession, read: ReadHandler,
                               progress: ProgressHandler? = nil, reportingTo reporter: Progress? = nil,
                               cancel: CancelFlag? = nil) throws -> DriveItem {
        return try withoutActuallyEscaping(read) { (reader: @escaping ReadHandler) throws -> DriveItem in
            let box = CallBox(progress: progress, reportingTo: reporter, read: reader)
            var out: OpaquePointer? = nil
            let status = session.exclusive {
                withExtendedLifetime((box, cancel)) {
                    od_session_upload_stream(raw, session.raw, readThunk, box.userdata,
                                             box.progressFn, box.userdata, cancel?.raw, &out)
                }
            }
            try box.check(status)
            return try DriveItem.take(out)
        }
    }

    /// Cancels a session on the service (one it no longer knows counts as
    /// cancelled). Blocks the calling thread (`async`: `cancel(session:)`).
    public func cancelBlocking(session: UploadSession) throws {
        let status = withExtendedLifetime(session) {
            od_session_cancel(raw, session.raw)
        }
        try LastError.check(status)
    }

    // MARK: url_upload, copy

    /// Asks the service to download `sourceURL` into a new file `name` in
    /// `parent`. The service has retired this (and never offered it on
    /// Business drives): its refusal is `.notSupported`. Blocks the calling
    /// thread (`async`: `urlUpload(parent:name:sourceURL:)`).
    public func urlUploadBlocking(parent: String, name: String, sourceURL: String,
                                  drive: String? = nil) throws -> OneDriveJob {
        let args = CStrings()
        let driveArg = try args.add(drive, "drive")
        let parentArg = try args.add(parent, "parent")
        let nameArg = try args.add(name, "name")
        let urlArg = try args.add(sourceURL, "sourceURL")
        var out: OpaquePointer? = nil
        let status = withExtendedLifetime(args) {
            od_url_upload(raw, driveArg, parentArg, nameArg, urlArg, &out)
        }
        return try takeJob(status, out)
    }

    /// Starts a server-side copy of `source` into the folder
    /// `destinationParent`; follow it with `waitBlocking(for:)`. Blocks the
    /// calling thread (`async`: `copy(_:to:)`).
    /// - Parameters:
    ///   - newName: a name for the copy; nil keeps the source's.
    ///   - conflict: a name in use with `.fail` (the service's default) may be
    ///     refused at once: `.conflict`.
    ///   - destinationDriveId: the destination drive's id; nil = the same drive.
    ///   - drive: the source's drive prefix.
    ///   - legacy: send the older OneDrive API form (`…/action.copy`).
    public func copyBlocking(_ source: String, to destinationParent: String, newName: String? = nil,
                             conflict: ConflictBehavior = .serviceDefault, destinationDriveId: String? = nil,
                             drive: String? = nil, legacy: Bool = false) throws -> OneDriveJob {
        let args = CStrings()
        let driveArg = try args.add(drive, "drive")
        let sourceArg = try args.add(source, "source")
        let parentArg = try args.add(destinationParent, "destinationParent")
        let destDrive = try args.add(destinationDriveId, "destinationDriveId")
        let nameArg = try args.add(newName, "newName")
        let flags: UInt32 = legacy ? UInt32(OD_COPY_LEGACY) : 0
        var out: OpaquePointer? = nil
        let status = withExtendedLifetime(args) {
            od_copy(raw, driveArg, sourceArg, parentArg, destDrive, nameArg, conflict.rawValue, flags, &out)
        }
        return try takeJob(status, out)
    }

    // MARK: jobs

    /// Looks at a job once. A failed or cancelled job is not thrown here: its
    /// `state` says so and `error` holds the service's error. A job the
    /// service no longer knows throws `.notFound`. Blocks the calling thread
    /// (`async`: `poll(_:)`).
    public func pollBlocking(_ job: OneDriveJob) throws -> JobStatus {
        var state: od_job_state = 0
        var percent: Double = -1
        let status = withExtendedLifetime(job) {
            od_poll_job(raw, job.raw, &state, &percent)
        }
        try LastError.check(status)
        let jobState = JobState(rawValue: state) ?? .unknown
        var error: OneDriveError? = nil
        if jobState == .failed || jobState == .cancelled {
            let why = od_last_error_status()
            if !succeeded(why) {
                error = LastError.read(why)
            }
        }
        return JobStatus(state: jobState, percent: percent >= 0 ? percent : nil, error: error)
    }

    /// Follows a job until it ends and returns the new item; `.jobFailed` /
    /// `.jobCancelled` when it did not complete, `.timeout` after `timeout`
    /// seconds (nil: no limit), `.cancelled` when `cancel` was raised (the
    /// job goes on, on the service). Blocks the calling thread (`async`:
    /// `wait(for:)`).
    /// - Parameters:
    ///   - progress: after each look, the percent the service gave (0–100).
    ///   - reportingTo: a `Progress` of 100 units following that percent,
    ///     complete when the job is; its `cancel()` stops the wait.
    public func waitBlocking(for job: OneDriveJob, timeout: TimeInterval? = nil,
                             progress: JobProgressHandler? = nil, reportingTo reporter: Progress? = nil,
                             cancel: CancelFlag? = nil) throws -> DriveItem {
        var ms: UInt64 = 0
        if let timeout = timeout {
            guard timeout > 0, timeout.isFinite else {
                throw LastError.local(.invalidArgument, "timeout must be above 0")
            }
            ms = UInt64(max(1.0, (timeout * 1000).rounded(.up)))
        }
        let box = CallBox(jobProgress: progress, reportingTo: reporter)
        var out: OpaquePointer? = nil
        let status = withExtendedLifetime((job, box, cancel)) {
            od_wait_job(raw, job.raw, ms, box.progressFn, box.userdata, cancel?.raw, &out)
        }
        try box.check(status)
        return try DriveItem.take(out)
    }

    // MARK: helpers

    private func takeJob(_ status: Int32, _ out: OpaquePointer?) throws -> OneDriveJob {
        try LastError.check(status)
        guard let job = out else {
            throw LastError.local(.`protocol`, "the library returned no job")
        }
        return OneDriveJob(raw: job)
    }

    private func millis32(_ seconds: TimeInterval, _ name: String) throws -> UInt32 {
        let ms = (seconds * 1000).rounded(.up)
        guard ms >= 1, ms <= Double(UInt32.max) else {
            throw LastError.local(.invalidArgument, "`\(name)` must be between 1 ms and \(UInt32.max) ms")
        }
        return UInt32(ms)
    }
}

// MARK: - async: the natural names

extension OneDriveClient {
    /// Reads an item's metadata, off the caller's task.
    public func item(_ item: String, drive: String? = nil) async throws -> DriveItem {
        return try await perform { _ in try self.itemBlocking(item, drive: drive) }
    }

    /// `createFolderBlocking(_:in:)`, off the caller's task; cancelling the task stops it.
    public func createFolder(_ name: String, in parent: String, conflict: ConflictBehavior = .serviceDefault,
                             parents: Bool = false, drive: String? = nil) async throws -> DriveItem {
        return try await perform { flag in
            try self.createFolderBlocking(name, in: parent, conflict: conflict, parents: parents, drive: drive,
                                          cancel: flag)
        }
    }

    /// `deleteBlocking(_:ifMatch:drive:)`, off the caller's task; cancelling the task stops it.
    public func delete(_ item: String, ifMatch: String? = nil, drive: String? = nil) async throws {
        try await perform { flag in try self.deleteBlocking(item, ifMatch: ifMatch, drive: drive, cancel: flag) }
    }

    /// `uploadBlocking(to:name:data:)`, off the caller's task; cancelling the task stops it.
    public func upload(to item: String, name: String?, data: Data,
                       conflict: ConflictBehavior = .serviceDefault, drive: String? = nil,
                       progress: ProgressHandler? = nil, reportingTo reporter: Progress? = nil) async throws -> DriveItem {
        return try await perform { flag in
            try self.uploadBlocking(to: item, name: name, data: data, conflict: conflict, drive: drive,
                                    progress: progress, reportingTo: reporter, cancel: flag)
        }
    }

    /// `uploadFileBlocking(to:name:from:)`, off the caller's task; cancelling the task stops it.
    public func uploadFile(to item: String, name: String?, from file: URL,
                           conflict: ConflictBehavior = .serviceDefault, drive: String? = nil,
                           progress: ProgressHandler? = nil, reportingTo reporter: Progress? = nil) async throws -> DriveItem {
        return try await perform { flag in
            try self.uploadFileBlocking(to: item, name: name, from: file, conflict: conflict, drive: drive,
                                        progress: progress, reportingTo: reporter, cancel: flag)
        }
    }

    /// `createUploadSessionBlocking(for:name:size:)`, off the caller's task.
    public func createUploadSession(for item: String, name: String?, size: UInt64,
                                    conflict: ConflictBehavior = .serviceDefault,
                                    drive: String? = nil) async throws -> UploadSession {
        return try await perform { _ in
            try self.createUploadSessionBlocking(for: item, name: name, size: size, conflict: conflict, drive: drive)
        }
    }

    /// `uploadBlocking(session:fromFile:)`, off the caller's task; cancelling the task stops it.
    public func upload(session: UploadSession, fromFile file: URL,
                       progress: ProgressHandler? = nil, reportingTo reporter: Progress? = nil) async throws -> DriveItem {
        return try await perform { flag in
            try self.uploadBlocking(session: session, fromFile: file, progress: progress, reportingTo: reporter,
                                    cancel: flag)
        }
    }

    /// `cancelBlocking(session:)`, off the caller's task.
    public func cancel(session: UploadSession) async throws {
        try await perform { _ in try self.cancelBlocking(session: session) }
    }

    /// `urlUploadBlocking(parent:name:sourceURL:)`, off the caller's task.
    public func urlUpload(parent: String, name: String, sourceURL: String,
                          drive: String? = nil) async throws -> OneDriveJob {
        return try await perform { _ in
            try self.urlUploadBlocking(parent: parent, name: name, sourceURL: sourceURL, drive: drive)
        }
    }

    /// `copyBlocking(_:to:)`, off the caller's task; follow the job with `wait(for:)`.
    public func copy(_ source: String, to destinationParent: String, newName: String? = nil,
                     conflict: ConflictBehavior = .serviceDefault, destinationDriveId: String? = nil,
                     drive: String? = nil, legacy: Bool = false) async throws -> OneDriveJob {
        return try await perform { _ in
            try self.copyBlocking(source, to: destinationParent, newName: newName, conflict: conflict,
                                  destinationDriveId: destinationDriveId, drive: drive, legacy: legacy)
        }
    }

    /// `pollBlocking(_:)`, off the caller's task.
    public func poll(_ job: OneDriveJob) async throws -> JobStatus {
        return try await perform { _ in try self.pollBlocking(job) }
    }

    /// `waitBlocking(for:)`, off the caller's task; cancelling the task stops
    /// the wait (throwing `CancellationError`), not the job.
    public func wait(for job: OneDriveJob, timeout: TimeInterval? = nil,
                     progress: JobProgressHandler? = nil, reportingTo reporter: Progress? = nil) async throws -> DriveItem {
        return try await perform { flag in
            try self.waitBlocking(for: job, timeout: timeout, progress: progress, reportingTo: reporter, cancel: flag)
        }
    }
}
