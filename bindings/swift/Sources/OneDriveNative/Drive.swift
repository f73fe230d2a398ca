import Foundation
import COneDrive

/// The children of a folder (`OneDriveClient.children(of:)`), fetched a page
/// at a time as they are read, never all at once: an `AsyncSequence`
///
/// ```swift
/// for try await item in try client.children(of: "/Documents") { print(item.name ?? "") }
/// ```
///
/// and, on a thread of your own, `nextBlocking()`. Nothing is sent before
/// the first item is asked for, so a folder that does not exist shows
/// there (`.notFound`). One pass: a listing read to its end, or ended by an
/// error, stays at its end (open another for a fresh look); a page fetch
/// stopped by cancellation can be asked for again. Calls on one listing run
/// one at a time (a second waits for the first); it may be used from any
/// thread. Freed in deinit.
public final class FolderListing: AsyncSequence, AsyncIteratorProtocol, @unchecked Sendable {
    // Sendable: the library serialises calls on one listing.
    public typealias Element = DriveItem

    let raw: OpaquePointer
    /// The client the listing reads through, kept alive as long as it.
    let client: OneDriveClient

    init(raw: OpaquePointer, client: OneDriveClient) {
        self.raw = raw
        self.client = client
    }

    deinit {
        od_list_free(raw)
    }

    /// The next child, nil at the end. Blocks the calling thread while a
    /// page is fetched (under the client's retries and timeouts); the items
    /// of a fetched page come at once (`async`: `next()`).
    public func nextBlocking(cancel: CancelFlag? = nil) throws -> DriveItem? {
        var out: OpaquePointer? = nil
        let status = withExtendedLifetime(cancel) {
            od_list_next(raw, cancel?.raw, &out)
        }
        try LastError.check(status)
        guard let item = out else {
            return nil
        }
        return DriveItem(ItemHandle(item))
    }

    /// `nextBlocking()`, off the caller's task; cancelling the task stops a
    /// page fetch (`CancellationError`), and the same page can be asked for again.
    public func next() async throws -> DriveItem? {
        return try await client.perform { flag in try self.nextBlocking(cancel: flag) }
    }

    /// The listing is its own iterator: one pass over the folder.
    public func makeAsyncIterator() -> FolderListing {
        return self
    }
}

extension OneDriveClient {
    // MARK: download

    /// Downloads a file to a local file URL (another URL is
    /// `.invalidArgument`) and returns its item (as read before the
    /// download). The folder of `file` must exist; a file there is replaced.
    ///
    /// The bytes go to a temporary file beside it (`.NAME.odpart`), renamed
    /// to `file` only once complete and verified (size, quickXorHash, and
    /// SHA-1 where the service gives one: else `.hashMismatch`): an
    /// interrupted download never leaves a partial file under its name, and
    /// a later call for the same `file` resumes where it stopped when the
    /// file on the service is unchanged. Local failures are `.io`. Two
    /// downloads to one `file` at once are not supported. Blocks the calling
    /// thread (`async`: `download(_:to:)`).
    /// - Parameters:
    ///   - item: the file: `/a/b.txt`, an id, or `ID:/rel`; a folder is `.invalidArgument`.
    ///   - progress: bytes received of the file's size, at least every 64 KiB.
    ///   - reportingTo: a `Progress` whose unit counts follow the same
    ///     bytes; its `cancel()` stops the call (`.cancelled`).
    ///   - cancel: raise it from another thread to stop the call (the
    ///     temporary file is kept for a resume).
    public func downloadBlocking(_ item: String, to file: URL, drive: String? = nil,
                                 progress: ProgressHandler? = nil, reportingTo reporter: Progress? = nil,
                                 cancel: CancelFlag? = nil) throws -> DriveItem {
        let args = CStrings()
        let driveArg = try args.add(drive, "drive")
        let itemArg = try args.add(item, "item")
        let pathArg = try args.add(try filePath(file, "to"), "to")
        let box = CallBox(progress: progress, reportingTo: reporter)
        var out: OpaquePointer? = nil
        let status = withExtendedLifetime((args, box, cancel)) {
            od_download_file(raw, driveArg, itemArg, pathArg, box.progressFn, box.userdata, cancel?.raw, &out)
        }
        try box.check(status)
        return try DriveItem.take(out)
    }

    /// Downloads a file into `write`, called with its bytes in order on the
    /// calling thread, and returns its item (as read before the download).
    /// A connection cut mid-way is resumed within the call: `write` never
    /// sees a byte twice. The bytes are the file's only when this returns:
    /// after an error (`.hashMismatch` among them) drop what `write` had. An
    /// error `write` throws stops the download and is rethrown. Blocks the
    /// calling thread (`async`: `download(_:write:)`, whose handler gets
    /// `Data` on the queue the call runs on).
    public func downloadBlocking(_ item: String, drive: String? = nil,
                                 progress: ProgressHandler? = nil, reportingTo reporter: Progress? = nil,
                                 cancel: CancelFlag? = nil, write: WriteHandler) throws -> DriveItem {
        let args = CStrings()
        let driveArg = try args.add(drive, "drive")
        let itemArg = try args.add(item, "item")
        return try withoutActuallyEscaping(write) { (writer: @escaping WriteHandler) throws -> DriveItem in
            let box = CallBox(progress: progress, reportingTo: reporter, write: writer)
            var out: OpaquePointer? = nil
            let status = withExtendedLifetime((args, box, cancel)) {
                od_download_stream(raw, driveArg, itemArg, writeThunk, box.userdata,
                                   box.progressFn, box.userdata, cancel?.raw, &out)
            }
            try box.check(status)
            return try DriveItem.take(out)
        }
    }

    /// Caps what this client's downloads receive, all together, at
    /// `bytesPerSecond` (0: no cap, the default); apart from the upload cap.
    /// Downloads under way follow a new cap from their next piece.
    public func setDownloadRate(_ bytesPerSecond: UInt64) throws {
        try LastError.check(od_client_set_download_rate(raw, bytesPerSecond))
    }

    // MARK: listing

    /// The children of the folder `folder` (`/`, `/a/b`, an id, `ID:/rel`),
    /// fetched a page at a time as the `FolderListing` is read. Sends
    /// nothing itself (a missing folder shows at the first item).
    /// - Parameter pageSize: children asked for per page (`$top`); 0 = the
    ///   service's default (200 on Graph). The service may give fewer.
    public func children(of folder: String, drive: String? = nil, pageSize: UInt32 = 0) throws -> FolderListing {
        let args = CStrings()
        let driveArg = try args.add(drive, "drive")
        let folderArg = try args.add(folder, "folder")
        var out: OpaquePointer? = nil
        let status = withExtendedLifetime(args) {
            od_list_open(raw, driveArg, folderArg, pageSize, &out)
        }
        try LastError.check(status)
        guard let listing = out else {
            throw LastError.local(.`protocol`, "the library returned no listing")
        }
        return FolderListing(raw: listing, client: self)
    }

    // MARK: move, rename

    /// Moves an item into the folder `destinationParent` (`/`, `/a/b`, an
    /// id, `ID:/rel`), renaming it on the way with `newName`, and returns it
    /// as it is now (its id does not change). Blocks the calling thread
    /// (`async`: `move(_:to:)`).
    /// - Parameters:
    ///   - conflict: a name in use with `.fail` is `.conflict`; `.replace`
    ///     replaces what is there; `.rename` gives the item a free name.
    ///   - ifMatch: an eTag read earlier: an item changed since is not
    ///     moved (`.conflict`).
    ///   - destinationDriveId: Graph moves no item between drives: another
    ///     drive's id is `.notSupported` (copy, then delete).
    ///
    /// The request is never sent twice once the service may have acted: when
    /// its answer is lost the call throws `.network` or `.timeout` and the
    /// item may or may not have moved; read it by its id to know. A folder
    /// moved into its own subtree is refused (`.badRequest` or `.conflict`).
    public func moveBlocking(_ item: String, to destinationParent: String, newName: String? = nil,
                             conflict: ConflictBehavior = .serviceDefault, ifMatch: String? = nil,
                             destinationDriveId: String? = nil, drive: String? = nil,
                             cancel: CancelFlag? = nil) throws -> DriveItem {
        return try patchItem(item, parent: destinationParent, newName: newName, conflict: conflict,
                             ifMatch: ifMatch, destinationDriveId: destinationDriveId, drive: drive, cancel: cancel)
    }

    /// Renames an item in its folder and returns it as it is now; as
    /// `moveBlocking(_:to:)` for `conflict`, `ifMatch` and a lost answer.
    /// A name the service forbids is `.invalidName`, before any request.
    /// Blocks the calling thread (`async`: `rename(_:to:)`).
    public func renameBlocking(_ item: String, to newName: String, conflict: ConflictBehavior = .serviceDefault,
                               ifMatch: String? = nil, drive: String? = nil,
                               cancel: CancelFlag? = nil) throws -> DriveItem {
        return try patchItem(item, parent: nil, newName: newName, conflict: conflict, ifMatch: ifMatch,
                             destinationDriveId: nil, drive: drive, cancel: cancel)
    }

    /// The one request behind a move and a rename.
    private func patchItem(_ item: String, parent: String?, newName: String?, conflict: ConflictBehavior,
                           ifMatch: String?, destinationDriveId: String?, drive: String?,
                           cancel: CancelFlag?) throws -> DriveItem {
        let args = CStrings()
        let driveArg = try args.add(drive, "drive")
        let itemArg = try args.add(item, "item")
        let parentArg = try args.add(parent, "destinationParent")
        let destDrive = try args.add(destinationDriveId, "destinationDriveId")
        let nameArg = try args.add(newName, "newName")
        let tagArg = try args.add(ifMatch, "ifMatch")
        var out: OpaquePointer? = nil
        let status = withExtendedLifetime((args, cancel)) {
            od_item_move(raw, driveArg, itemArg, parentArg, destDrive, nameArg, conflict.rawValue, tagArg,
                         cancel?.raw, &out)
        }
        try LastError.check(status)
        return try DriveItem.take(out)
    }

    // MARK: async

    /// `downloadBlocking(_:to:)`, off the caller's task; cancelling the task
    /// stops it (the temporary file is kept for a resume).
    public func download(_ item: String, to file: URL, drive: String? = nil,
                         progress: ProgressHandler? = nil, reportingTo reporter: Progress? = nil) async throws -> DriveItem {
        return try await perform { flag in
            try self.downloadBlocking(item, to: file, drive: drive, progress: progress, reportingTo: reporter,
                                      cancel: flag)
        }
    }

    /// `downloadBlocking(_:write:)`, off the caller's task: `write` gets each
    /// piece as `Data`, in order, one at a time, on the queue the call runs
    /// on; cancelling the task stops it.
    public func download(_ item: String, drive: String? = nil,
                         progress: ProgressHandler? = nil, reportingTo reporter: Progress? = nil,
                         write: @escaping @Sendable (Data) throws -> Void) async throws -> DriveItem {
        return try await perform { flag in
            try self.downloadBlocking(item, drive: drive, progress: progress, reportingTo: reporter,
                                      cancel: flag) { bytes in
                try write(Data(bytes))
            }
        }
    }

    /// `moveBlocking(_:to:)`, off the caller's task; cancelling the task stops it
    /// (after the request went out, the item may or may not have moved).
    public func move(_ item: String, to destinationParent: String, newName: String? = nil,
                     conflict: ConflictBehavior = .serviceDefault, ifMatch: String? = nil,
                     destinationDriveId: String? = nil, drive: String? = nil) async throws -> DriveItem {
        return try await perform { flag in
            try self.moveBlocking(item, to: destinationParent, newName: newName, conflict: conflict, ifMatch: ifMatch,
                                  destinationDriveId: destinationDriveId, drive: drive, cancel: flag)
        }
    }

    /// `renameBlocking(_:to:)`, off the caller's task; cancelling the task stops it.
    public func rename(_ item: String, to newName: String, conflict: ConflictBehavior = .serviceDefault,
                       ifMatch: String? = nil, drive: String? = nil) async throws -> DriveItem {
        return try await perform { flag in
            try self.renameBlocking(item, to: newName, conflict: conflict, ifMatch: ifMatch, drive: drive,
                                    cancel: flag)
        }
    }
}
