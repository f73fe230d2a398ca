import Foundation
import COneDrive

/// What a transfer does (`od_transfer_kind`).
public enum TransferKind: Int32, CaseIterable, Sendable {
    /// A local file to a drive (`TransferQueue.enqueueUpload`).
    case upload = 0
    /// The service fetches a URL (`TransferQueue.enqueueURLUpload`).
    case urlUpload = 1
    /// A server-side copy (`TransferQueue.enqueueCopy`).
    case copy = 2
}

/// Where a transfer stands (`od_transfer_state`).
public enum TransferState: Int32, CaseIterable, Sendable {
    /// Waiting for a free slot.
    case queued = 0
    /// Being sent (`Transfer.done` of `Transfer.total`).
    case running = 1
    /// Paused by the app (`TransferQueue.resume(_:)`).
    case paused = 2
    /// Waiting for the network or for a retry (`Transfer.waitReason`).
    case waiting = 3
    /// Done: `Transfer.item`.
    case completed = 4
    /// Ended by a permanent error: `Transfer.error`.
    case failed = 5
    /// Cancelled by the app.
    case cancelled = 6

    /// Completed, failed or cancelled: it will not change again.
    public var isFinished: Bool {
        return self == .completed || self == .failed || self == .cancelled
    }
}

/// Why a waiting transfer waits (`od_wait_reason`).
public enum WaitReason: Int32, CaseIterable, Sendable {
    /// It does not wait.
    case notWaiting = 0
    /// The app said "not now" (`TransferQueue.setOnline(false)`).
    case offline = 1
    /// A transient error: retried at `Transfer.retryAt`.
    case retry = 2
}

/// What a queue event tells (`od_queue_event_kind`).
enum QueueEventKind: Int32 {
    case state = 0
    case progress = 1
}

/// One transfer as it was when read: a Swift copy (the native snapshot is
/// freed at once).
public struct Transfer: Sendable, Identifiable {
    /// Stable across reopenings of the queue, never reused.
    public let id: UInt64
    public let kind: TransferKind
    public let state: TransferState
    public let waitReason: WaitReason
    /// When a transfer waiting for a retry is due; nil when it waits for none.
    public let retryAt: Date?
    /// Progress: an upload's bytes of its file's size; a copy's or an upload
    /// from URL's hundredths of a percent, of 10000.
    public let done: UInt64
    public let total: UInt64
    /// The destination name (empty for a copy that keeps its source's name).
    public let name: String
    /// A completed transfer's item; nil before it completed.
    public let item: DriveItem?
    /// The same item as the driveItem JSON the service sent.
    public let itemJSON: String?
    /// Why a failed transfer failed, or the transient error a waiting one waits after.
    public let error: OneDriveError?

    init(_ t: OpaquePointer) {
        id = od_transfer_id(t)
        kind = TransferKind(rawValue: od_transfer_get_kind(t)) ?? .upload
        state = TransferState(rawValue: od_transfer_get_state(t)) ?? .failed
        waitReason = WaitReason(rawValue: od_transfer_wait_reason(t)) ?? .notWaiting
        let retryMs = od_transfer_retry_at_ms(t)
        retryAt = retryMs >= 0 ? Date(timeIntervalSince1970: Double(retryMs) / 1000) : nil
        done = od_transfer_done(t)
        total = od_transfer_total(t)
        name = borrowedString(od_transfer_name(t)) ?? ""
        var itemRaw: OpaquePointer? = nil
        // OD_ERR_INVALID_STATE (no item) before the transfer completed.
        item = succeeded(od_transfer_item(t, &itemRaw)) ? try? DriveItem.take(itemRaw) : nil
        itemJSON = borrowedString(od_transfer_item_json(t))
        let status = od_transfer_error_status(t)
        if succeeded(status) {
            error = nil
        } else {
            error = OneDriveError(OneDriveError.Code(rawValue: status),
                                  message: borrowedString(od_transfer_error_message(t)),
                                  httpStatus: Int(od_transfer_error_http_status(t)),
                                  graphCode: borrowedString(od_transfer_error_code(t)),
                                  innerCode: borrowedString(od_transfer_error_inner_code(t)),
                                  requestId: borrowedString(od_transfer_error_request_id(t)))
        }
    }

    /// `done` of `total` as a fraction, 0–1; nil while the total is 0.
    public var fractionCompleted: Double? {
        return total > 0 ? min(1, Double(done) / Double(total)) : nil
    }
}

/// Files and bytes of a whole queue.
public struct TransferTotals: Sendable {
    /// Transfers in every state.
    public let transfers: UInt64
    public let completed: UInt64
    public let failed: UInt64
    public let cancelled: UInt64
    /// Bytes of the uploads: a completed one counts whole, failed and
    /// cancelled ones not at all.
    public let bytesDone: UInt64
    public let bytesTotal: UInt64
}

/// Something that happened to a transfer.
public enum TransferEvent: Sendable, Equatable {
    /// The transfer entered a state.
    case state(id: UInt64, state: TransferState)
    /// A running transfer moved on: `done` of `total` (bytes for an upload;
    /// hundredths of a percent, of 10000, for a copy or an upload from URL).
    case progress(id: UInt64, done: UInt64, total: UInt64)

    /// The transfer the event is about.
    public var id: UInt64 {
        switch self {
        case .state(let id, _):
            return id
        case .progress(let id, _, _):
            return id
        }
    }

    /// From the library's fields; nil for a kind or state newer than this binding.
    init?(id: UInt64, kind: Int32, state: Int32, done: UInt64, total: UInt64) {
        switch QueueEventKind(rawValue: kind) {
        case .state?:
            guard let entered = TransferState(rawValue: state) else { return nil }
            self = .state(id: id, state: entered)
        case .progress?:
            self = .progress(id: id, done: done, total: total)
        case nil:
            return nil
        }
    }
}

/// Receives a queue's events, on the queue's event thread, one at a time,
/// in order. It may call the queue's methods except `closeBlocking()` /
/// `close()` and `waitIdleBlocking` / `waitIdle`; capture the queue weakly
/// (a handler holding it keeps it alive).
public typealias TransferEventHandler = @Sendable (_ event: TransferEvent) -> Void

/// Holds the event handler a queue's event callback calls.
final class EventBox {
    let handler: TransferEventHandler
    init(_ handler: @escaping TransferEventHandler) {
        self.handler = handler
    }
}

let queueEventThunk: od_queue_event_fn = { userdata, id, kind, state, done, total in
    guard let userdata = userdata else { return }
    let box = Unmanaged<EventBox>.fromOpaque(userdata).takeUnretainedValue()
    if let event = TransferEvent(id: id, kind: kind, state: state, done: done, total: total) {
        box.handler(event)
    }
}

/// A durable transfer queue (`od_queue`): uploads of local files, uploads
/// from URL and server-side copies, recorded in a directory of the app's
/// own storage and run on the queue's threads through a client, so that
/// they survive the app being stopped or killed: opening the queue again
/// restores every transfer and goes on with those that were under way
/// (upload sessions resumed, jobs followed; a request that may have
/// reached the service without its answer is never sent twice).
///
/// Any number of threads and tasks may use one queue (`Sendable`). The
/// methods that change or read it do not block on the network; `close` and
/// `waitIdle` wait (each with its `…Blocking` twin). Events: `events` (an
/// `AsyncStream`) or `setEventHandler(_:)`. Freed in deinit, which closes it
/// (running transfers stop at a safe point and go on at the next open).
public final class TransferQueue: @unchecked Sendable {
    // Sendable: the library allows any number of threads on one queue; the
    // Swift state (event boxes, closed) is behind a lock.
    let raw: OpaquePointer
    /// The client the transfers run through, kept alive as long as the
    /// queue: its token provider and log handler live in it.
    let client: OneDriveClient
    private let lock = NSLock()
    private var eventBoxes: [Unmanaged<EventBox>] = []
    private var closed = false

    /// Opens (creating) the queue kept in `directory` (a file URL of the
    /// app's private storage) and restores every transfer recorded there.
    /// One queue per directory: a second open, in any process, is
    /// `.invalidState`.
    /// - Parameters:
    ///   - maxRunning: transfers at once, at least 1.
    ///   - startOffline: nothing runs until `setOnline(true)`.
    ///   - keepsEventsForPolling: false when only `setEventHandler` is used:
    ///     `events` then gets nothing, and no state change piles up unread.
    public init(client: OneDriveClient, directory: URL, maxRunning: UInt32 = 2, startOffline: Bool = false,
                keepsEventsForPolling: Bool = true) throws {
        let args = CStrings()
        let dirArg = try args.add(try filePath(directory, "directory"), "directory")
        var flags: UInt32 = startOffline ? UInt32(OD_QUEUE_START_OFFLINE) : 0
        if !keepsEventsForPolling {
            flags |= UInt32(OD_QUEUE_NO_POLLING)
        }
        var out: OpaquePointer? = nil
        let status = withExtendedLifetime((args, client)) {
            od_queue_open(client.raw, dirArg, maxRunning, flags, &out)
        }
        guard succeeded(status), let queue = out else {
            throw LastError.read(status)
        }
        raw = queue
        self.client = client
    }

    deinit {
        // Closes, then frees; the event callback has ended when it returns.
        od_queue_free(raw)
        for box in eventBoxes {
            box.release()
        }
    }

    // MARK: enqueue

    /// Enqueues the upload of a local file (a file URL) as `name` (nil: the
    /// file's own name) in the folder `parent` (`/a/b`, an id, `ID:/rel`),
    /// and returns the transfer's id. The file's size and modification time
    /// are recorded now: a file changed before or while it is sent fails the
    /// transfer (`.hashMismatch`). On disk when this returns (it writes and
    /// syncs the queue's journal).
    public func enqueueUpload(from file: URL, to parent: String, name: String? = nil,
                              conflict: ConflictBehavior = .serviceDefault, drive: String? = nil) throws -> UInt64 {
        let args = CStrings()
        let pathArg = try args.add(try filePath(file, "from"), "from")
        let driveArg = try args.add(drive, "drive")
        let parentArg = try args.add(parent, "parent")
        let nameArg = try args.add(name ?? file.lastPathComponent, "name")
        return try enqueued(args) { out in
            od_queue_enqueue_upload(raw, pathArg, driveArg, parentArg, nameArg, conflict.rawValue, out)
        }
    }

    /// Enqueues an upload from URL: the service fetches `sourceURL` into a
    /// new file `name` in `parent`. A request that may have reached the
    /// service without its answer being kept is never sent again: the
    /// transfer completes when the file shows, else fails (`.unknownOutcome`).
    public func enqueueURLUpload(sourceURL: String, to parent: String, name: String,
                                 drive: String? = nil) throws -> UInt64 {
        let args = CStrings()
        let urlArg = try args.add(sourceURL, "sourceURL")
        let driveArg = try args.add(drive, "drive")
        let parentArg = try args.add(parent, "parent")
        let nameArg = try args.add(name, "name")
        return try enqueued(args) { out in
            od_queue_enqueue_url_upload(raw, urlArg, driveArg, parentArg, nameArg, out)
        }
    }

    /// Enqueues a server-side copy of `source` into the folder
    /// `destinationParent` (of the drive `destinationDriveId`, nil: the same),
    /// named `newName` (nil: the source's name); never posted twice.
    public func enqueueCopy(_ source: String, to destinationParent: String, newName: String? = nil,
                            conflict: ConflictBehavior = .serviceDefault, destinationDriveId: String? = nil,
                            drive: String? = nil) throws -> UInt64 {
        let args = CStrings()
        let driveArg = try args.add(drive, "drive")
        let sourceArg = try args.add(source, "source")
        let parentArg = try args.add(destinationParent, "destinationParent")
        let destDrive = try args.add(destinationDriveId, "destinationDriveId")
        let nameArg = try args.add(newName, "newName")
        return try enqueued(args) { out in
            od_queue_enqueue_copy(raw, driveArg, sourceArg, parentArg, destDrive, nameArg, conflict.rawValue, out)
        }
    }

    /// Runs an enqueue call, its strings kept alive across it; returns the
    /// new transfer's id, which the call writes through `out`.
    private func enqueued(_ args: CStrings, _ call: (UnsafeMutablePointer<UInt64>) -> Int32) throws -> UInt64 {
        var id: UInt64 = 0
        let status = withExtendedLifetime(args) {
            withUnsafeMutablePointer(to: &id) { out in call(out) }
        }
        try LastError.check(status)
        return id
    }

    // MARK: control

    /// Pauses a transfer (a running one stops at once; an upload session is
    /// kept). A finished one is `.invalidState`, an unknown id `.notFound`.
    public func pause(_ id: UInt64) throws {
        try LastError.check(od_queue_pause(raw, id))
    }

    /// Resumes a paused transfer (nothing for one that is not paused).
    public func resume(_ id: UInt64) throws {
        try LastError.check(od_queue_resume(raw, id))
    }

    /// Cancels a transfer (a running one stops at once; its upload session
    /// is deleted on the service). A completed or failed one is `.invalidState`.
    public func cancel(_ id: UInt64) throws {
        try LastError.check(od_queue_cancel(raw, id))
    }

    /// `pause(_:)` for every unfinished transfer.
    public func pauseAll() throws {
        try LastError.check(od_queue_pause_all(raw))
    }

    /// `resume(_:)` for every paused transfer.
    public func resumeAll() throws {
        try LastError.check(od_queue_resume_all(raw))
    }

    /// `cancel(_:)` for every unfinished transfer.
    public func cancelAll() throws {
        try LastError.check(od_queue_cancel_all(raw))
    }

    /// Removes a finished transfer (its id is never used again); one that
    /// has not finished is `.invalidState`.
    public func remove(_ id: UInt64) throws {
        try LastError.check(od_queue_remove(raw, id))
    }

    /// Removes every finished transfer; returns how many.
    @discardableResult
    public func removeFinished() throws -> UInt64 {
        var count: UInt64 = 0
        try LastError.check(od_queue_remove_finished(raw, &count))
        return count
    }

    /// How many transfers may run at once (at least 1); lowering it lets
    /// running ones finish.
    public func setMaxRunning(_ n: UInt32) throws {
        try LastError.check(od_queue_set_max_running(raw, n))
    }

    /// "Not now" (offline, a metered network): false stops running
    /// transfers at once and makes every unfinished one wait (`.offline`),
    /// not counted as a failure; true lets them go on.
    public func setOnline(_ online: Bool) throws {
        try LastError.check(od_queue_set_online(raw, online ? 1 : 0))
    }

    // MARK: read

    /// One transfer as it is now; an id the queue does not hold is `.notFound`.
    public func transfer(_ id: UInt64) throws -> Transfer {
        var out: OpaquePointer? = nil
        try LastError.check(od_queue_get(raw, id, &out))
        guard let t = out else {
            throw LastError.local(.`protocol`, "the library returned no transfer")
        }
        defer { od_transfer_free(t) }
        return Transfer(t)
    }

    /// The transfers in the given states (all by default), in id order.
    public func list(_ states: Set<TransferState> = Set(TransferState.allCases)) throws -> [Transfer] {
        var mask: UInt32 = 0
        for state in states {
            mask |= UInt32(1) << UInt32(state.rawValue)
        }
        var out: OpaquePointer? = nil
        try LastError.check(od_queue_list(raw, mask, &out))
        guard let list = out else {
            throw LastError.local(.`protocol`, "the library returned no list")
        }
        defer { od_transfer_list_free(list) }
        let count = od_transfer_list_count(list)
        var transfers: [Transfer] = []
        transfers.reserveCapacity(count)
        for index in 0..<count {
            if let t = od_transfer_list_get(list, index) {
                transfers.append(Transfer(t))
            }
        }
        return transfers
    }

    /// Files and bytes of the whole queue.
    public func totals() throws -> TransferTotals {
        var transfers: UInt64 = 0
        var completed: UInt64 = 0
        var failed: UInt64 = 0
        var cancelled: UInt64 = 0
        var bytesDone: UInt64 = 0
        var bytesTotal: UInt64 = 0
        try LastError.check(od_queue_totals(raw, &transfers, &completed, &failed, &cancelled, &bytesDone, &bytesTotal))
        return TransferTotals(transfers: transfers, completed: completed, failed: failed, cancelled: cancelled,
                              bytesDone: bytesDone, bytesTotal: bytesTotal)
    }

    // MARK: events

    /// Installs (nil: removes) a handler for every event, called on the
    /// queue's event thread (see `TransferEventHandler`). When this returns
    /// a replaced handler has ended and is never called again.
    public func setEventHandler(_ handler: TransferEventHandler?) throws {
        guard let handler = handler else {
            try LastError.check(od_queue_set_event_callback(raw, nil, nil))
            return
        }
        let box = Unmanaged.passRetained(EventBox(handler))
        // Kept until deinit: replaced from inside a handler, the old one
        // may still be running.
        lock.lock()
        eventBoxes.append(box)
        lock.unlock()
        try LastError.check(od_queue_set_event_callback(raw, queueEventThunk, box.toOpaque()))
    }

    /// The next event kept for polling, waiting up to `timeout` seconds for
    /// one (0: do not wait); nil when none came (or its kind is newer than
    /// this binding). State changes are all kept, in order; progress as the
    /// latest per transfer. Blocks the calling thread up to `timeout`.
    public func nextEventBlocking(timeout: TimeInterval = 0) throws -> TransferEvent? {
        guard timeout >= 0, timeout.isFinite else {
            throw LastError.local(.invalidArgument, "timeout must be 0 or more seconds")
        }
        let ms = UInt32(min(Double(UInt32.max), (timeout * 1000).rounded(.up)))
        var id: UInt64 = 0
        var kind: Int32 = -1
        var state: Int32 = -1
        var done: UInt64 = 0
        var total: UInt64 = 0
        let status = od_queue_next_event(raw, ms, &id, &kind, &state, &done, &total)
        if status == OneDriveError.Code.timeout.rawValue {
            return nil
        }
        try LastError.check(status)
        return TransferEvent(id: id, kind: kind, state: state, done: done, total: total)
    }

    /// The queue's events as they come, read lazily (`for await event in
    /// queue.events`): every state change in order, and the latest progress
    /// of each running transfer (a consumer slower than the progress gets it
    /// folded, never piled up). One reader at a time: the events go to
    /// whichever stream or `nextEventBlocking` takes them first. The stream
    /// ends when the reading task is cancelled or the queue is closed and
    /// has no event left. Each wait runs on a global queue (a quarter of a
    /// second at a time), never on the reading task's thread.
    public var events: AsyncStream<TransferEvent> {
        return AsyncStream(unfolding: { () async -> TransferEvent? in
            while !Task.isCancelled {
                let next: Result<TransferEvent?, Error> = await withCheckedContinuation {
                    (continuation: CheckedContinuation<Result<TransferEvent?, Error>, Never>) in
                    DispatchQueue.global(qos: .utility).async {
                        continuation.resume(returning: Result(catching: { try self.nextEventBlocking(timeout: 0.25) }))
                    }
                }
                switch next {
                case .success(let event?):
                    return event
                case .success(nil):
                    if self.isClosed {
                        return nil
                    }
                case .failure:
                    return nil
                }
            }
            return nil
        })
    }

    // MARK: wait, close

    /// Waits until nothing is queued, running or waiting (paused and
    /// finished transfers do not count): `.timeout` after `timeout` seconds
    /// (nil: no limit), `.cancelled` when `cancel` is raised. Not from the
    /// event handler. Blocks the calling thread (`async`: `waitIdle(timeout:)`).
    public func waitIdleBlocking(timeout: TimeInterval? = nil, cancel: CancelFlag? = nil) throws {
        var ms: Int64 = -1
        if let timeout = timeout {
            guard timeout >= 0, timeout.isFinite else {
                throw LastError.local(.invalidArgument, "timeout must be 0 or more seconds")
            }
            ms = Int64(min(Double(Int64.max / 2), (timeout * 1000).rounded(.up)))
        }
        let status = withExtendedLifetime(cancel) {
            od_queue_wait_idle(raw, ms, cancel?.raw)
        }
        try LastError.check(status)
    }

    /// `waitIdleBlocking(timeout:)`, off the caller's task; cancelling the task stops the wait.
    public func waitIdle(timeout: TimeInterval? = nil) async throws {
        try await runBlocking { flag in try self.waitIdleBlocking(timeout: timeout, cancel: flag) }
    }

    /// Stops the queue: running transfers are interrupted at a safe point
    /// and go on at the next open; its threads end and the directory is
    /// unlocked. It can still be read (`transfer`, `list`, `totals`);
    /// changes are `.invalidState`. Closing twice is fine. Not from the
    /// event handler. Blocks the calling thread until the queue's threads
    /// ended (`async`: `close()`).
    public func closeBlocking() throws {
        try LastError.check(od_queue_close(raw))
        lock.lock()
        closed = true
        lock.unlock()
    }

    /// `closeBlocking()`, off the caller's task.
    public func close() async throws {
        try await runBlocking { _ in try self.closeBlocking() }
    }

    private var isClosed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return closed
    }
}
