import Foundation
import COneDrive

/// A cancellation flag (`od_cancel`): raise it from any thread to stop the
/// `…Blocking` calls it was passed to (they throw an `OneDriveError` with
/// code `.cancelled`). The `async` methods make their own, wired to the
/// calling `Task`.
public final class CancelFlag: @unchecked Sendable {
    // Sendable: the library allows any number of threads on one flag.
    let raw: OpaquePointer

    public init() throws {
        var out: OpaquePointer? = nil
        let status = od_cancel_new(&out)
        guard succeeded(status), let flag = out else {
            throw LastError.read(status)
        }
        raw = flag
    }

    deinit {
        od_cancel_free(raw)
    }

    /// Raises the flag: calls using it stop as soon as they can.
    public func trigger() {
        od_cancel_trigger(raw)
    }

    /// Lowers the flag so that it can serve another call.
    public func reset() {
        od_cancel_reset(raw)
    }

    public var isTriggered: Bool {
        return od_cancel_is_triggered(raw)
    }
}

/// An `od_item` owned for as long as its fields are read.
final class ItemHandle {
    let raw: OpaquePointer

    init(_ raw: OpaquePointer) {
        self.raw = raw
    }

    deinit {
        od_item_free(raw)
    }
}

/// A driveItem (file or folder) as the service returned it: a Swift copy, the
/// native item is freed as soon as it was read.
public struct DriveItem: Sendable, Equatable {
    public let id: String
    public let name: String?
    public let eTag: String?
    /// Changes with the content only.
    public let cTag: String?
    /// `parentReference.driveId`.
    public let driveId: String?
    /// The parent folder's id; nil for the root.
    public let parentId: String?
    /// The file's quickXorHash (base64); nil for folders.
    public let quickXorHash: String?
    /// Bytes; nil when the service gave none.
    public let size: Int64?
    public let isFolder: Bool
    /// When the item last changed (`lastModifiedDateTime`); nil when absent.
    public let lastModified: Date?
    /// How many children a folder holds (`folder.childCount`); nil for a
    /// file, or when the service gave none.
    public let childCount: Int64?
    /// The whole driveItem as JSON text.
    public let json: String

    init(_ handle: ItemHandle) {
        let item = handle.raw
        id = borrowedString(od_item_id(item)) ?? ""
        name = borrowedString(od_item_name(item))
        eTag = borrowedString(od_item_etag(item))
        cTag = borrowedString(od_item_ctag(item))
        driveId = borrowedString(od_item_drive_id(item))
        parentId = borrowedString(od_item_parent_id(item))
        quickXorHash = borrowedString(od_item_quick_xor_hash(item))
        json = borrowedString(od_item_json(item)) ?? "{}"
        let bytes = od_item_size(item)
        size = bytes >= 0 ? bytes : nil
        isFolder = od_item_is_folder(item)
        lastModified = borrowedString(od_item_last_modified(item)).flatMap(parseISO8601)
        let children = od_item_child_count(item)
        childCount = children >= 0 ? children : nil
        withExtendedLifetime(handle) {}
    }

    /// Takes an item a call handed out.
    static func take(_ raw: OpaquePointer?) throws -> DriveItem {
        guard let raw = raw else {
            throw LastError.local(.`protocol`, "the library returned no item")
        }
        return DriveItem(ItemHandle(raw))
    }
}

/// A time as the service writes it (ISO 8601 in UTC, "2026-01-02T03:04:05Z",
/// with or without fractions of a second); nil when it is not one.
func parseISO8601(_ text: String) -> Date? {
    let formatter = ISO8601DateFormatter()
    if let date = formatter.date(from: text) {
        return date
    }
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.date(from: text)
}

/// An asynchronous job on the service (a copy, an upload from URL). Follow
/// it with `OneDriveClient.wait(for:)` or `poll(_:)` (`…Blocking` to block
/// the calling thread instead). Freed in deinit,
/// which does not stop the job on the service.
public final class OneDriveJob: @unchecked Sendable {
    // Sendable: the library allows any number of threads on one job.
    let raw: OpaquePointer

    init(raw: OpaquePointer) {
        self.raw = raw
    }

    /// Rebuilds a job from a saved `monitorURL` (no request is made).
    /// - Parameter drive: the destination's drive prefix; nil = `/me/drive`.
    public init(monitorURL: String, drive: String? = nil) throws {
        let args = CStrings()
        let url = try args.add(monitorURL, "monitorURL")
        let driveArg = try args.add(drive, "drive")
        var out: OpaquePointer? = nil
        let status = withExtendedLifetime(args) {
            od_job_from_monitor_url(url, driveArg, &out)
        }
        guard succeeded(status), let job = out else {
            throw LastError.read(status)
        }
        raw = job
    }

    deinit {
        od_job_free(raw)
    }

    /// The monitor URL: save it to follow the job after a restart. Opaque and
    /// pre-authorized (a credential): do not parse it or log it.
    public var monitorURL: String {
        return withExtendedLifetime(self) { borrowedString(od_job_monitor_url(raw)) ?? "" }
    }

    /// The state last seen by `poll` / `wait` (`.unknown` before the first look).
    public var lastState: JobState {
        return JobState(rawValue: od_job_last_state(raw)) ?? .unknown
    }

    /// The item a completed job made, as last seen (no request);
    /// `.invalidState` when it has not been seen completed.
    public func item() throws -> DriveItem {
        var out: OpaquePointer? = nil
        let status = od_job_item(raw, &out)
        try LastError.check(status)
        return try DriveItem.take(out)
    }
}

/// An upload session that can be saved (`json()`) and finished later, by
/// another client or process. Freed in deinit, which does not cancel it on
/// the service (`OneDriveClient.cancel(session:)` does). One upload at a
/// time: uploads through one session are serialised by a lock, which makes
/// it safe to share.
public final class UploadSession: @unchecked Sendable {
    let raw: OpaquePointer
    let uploadLock = NSLock()

    init(raw: OpaquePointer) {
        self.raw = raw
    }

    /// Rebuilds a session saved with `json()` (no request is made).
    public init(json: String) throws {
        let args = CStrings()
        let text = try args.add(json, "json")
        var out: OpaquePointer? = nil
        let status = withExtendedLifetime(args) {
            od_session_from_json(text, &out)
        }
        guard succeeded(status), let session = out else {
            throw LastError.read(status)
        }
        raw = session
    }

    deinit {
        od_session_free(raw)
    }

    /// The session as JSON text, to save. It holds the upload URL, a
    /// credential for this one upload: store it as you would a token.
    public func json() throws -> String {
        var out: UnsafeMutablePointer<CChar>? = nil
        let status = od_session_to_json(raw, &out)
        try LastError.check(status)
        guard let text = out else {
            throw LastError.local(.`protocol`, "the library returned no JSON")
        }
        defer { od_string_free(text) }
        return String(cString: text)
    }

    /// The file size the session was made for.
    public var size: UInt64 {
        return od_session_size(raw)
    }

    /// Runs one upload at a time through this session.
    func exclusive<T>(_ body: () throws -> T) rethrows -> T {
        uploadLock.lock()
        defer { uploadLock.unlock() }
        return try body()
    }
}
