// XCTest suite for a machine with a Swift toolchain (macOS, or Linux with
// swift.org's toolchain): run a standalone emulator first,
//   ../../target/debug/onedrive-emulator --plain-http --port 0 --monitor-port 0 --token swift-token
// (plain HTTP: the admin helper below uses URLSession, which would need the
// emulator's CA in the system's trust settings)
// then
//   ONEDRIVE_TEST_BASE_URL=<its base_url> ONEDRIVE_TEST_TOKEN=swift-token \
//     ONEDRIVE_TEST_ADMIN_TOKEN=<its admin_token> swift test -Xlinker -L../../target/debug
// in bindings/swift (or at the repository root, through its Package.swift,
// with -Xlinker -Ltarget/debug).
// Without ONEDRIVE_TEST_BASE_URL the tests that need the service are skipped.
// (This machine has no Swift compiler: check.sh parses this file and checks
// its calls against the header, nothing more.)
import Foundation
import XCTest
@testable import OneDriveNative

final class OneDriveNativeTests: XCTestCase {
    private func client() throws -> OneDriveClient {
        guard let base = ProcessInfo.processInfo.environment["ONEDRIVE_TEST_BASE_URL"] else {
            throw XCTSkip("set ONEDRIVE_TEST_BASE_URL to a running onedrive-emulator's base_url")
        }
        let token = ProcessInfo.processInfo.environment["ONEDRIVE_TEST_TOKEN"] ?? "test-token"
        return try OneDriveClient(baseURL: base, token: token)
    }

    private func folder(_ what: String) -> String {
        return "/swift-\(what)-\(UUID().uuidString.prefix(8))"
    }

    func testErrorsAreCodesWithTheLibrarysMessage() {
        let codes: [OneDriveError.Code] = [.ok, .nullArgument, .notFound, .conflict, .`protocol`, .tls, .proxy]
        for code in codes {
            XCTAssertTrue(code.text.hasPrefix("OD_"), code.text)
            XCTAssertEqual(OneDriveError.Code(rawValue: code.rawValue), code)
        }
        XCTAssertEqual(OneDriveError.Code.notFound.rawValue, 11)
        // LocalizedError: localizedDescription is the library's message
        let error = OneDriveError(.notFound, message: "no item at /x", httpStatus: 404)
        XCTAssertEqual(error.localizedDescription, "no item at /x")
        XCTAssertEqual(error.errorDescription, "no item at /x")
        XCTAssertEqual(OneDriveError(.timeout).message, OneDriveError.Code.timeout.text)
        // a status newer than the binding is a code like any other: a switch
        // over codes has a default, and no new status breaks it
        let newer = OneDriveError(OneDriveError.Code(rawValue: 9999), message: "m")
        switch newer.code {
        case .notFound, .conflict: XCTFail("9999 is neither")
        default: XCTAssertEqual(newer.code.rawValue, 9999)
        }
        // catch by code, as URLError's
        do {
            throw OneDriveError(.conflict, message: "taken")
        } catch OneDriveError.Code.notFound {
            XCTFail("a conflict is not .notFound")
        } catch OneDriveError.Code.conflict {
        } catch {
            XCTFail("expected .conflict, got \(error)")
        }
    }

    func testUploadAndReadBack() throws {
        let c = try client()
        let dir = folder("upload")
        let data = Data((0..<10_000).map { UInt8(truncatingIfNeeded: $0) })
        let item = try c.uploadBlocking(to: dir, name: "Grüße ✓.bin", data: data)
        XCTAssertEqual(item.name, "Grüße ✓.bin")
        XCTAssertEqual(item.size, 10_000)
        XCTAssertEqual(try c.itemBlocking(item.id).quickXorHash, item.quickXorHash)
    }

    func testAsyncContextCallsTheAsyncNamesAndBlockingOnesStayCallable() async throws {
        let c = try client()
        let dir = folder("names")
        let item = try await c.upload(to: dir, name: "a.bin", data: Data([1, 2, 3]))
        let readBack = try await c.item(item.id)  // XCTAssert's autoclosures cannot await
        XCTAssertEqual(readBack.size, 3)
        // a …Blocking call from an async context compiles unmarked: no async overload shares its name
        XCTAssertEqual(try c.itemBlocking(item.id).id, item.id)
        try await c.delete(item.id)
        XCTAssertThrowsError(try c.itemBlocking(item.id))
    }

    func testProgressAndLargeUploadThroughASession() throws {
        let c = try client()
        try c.setUploadOptions(simpleLimit: 327_680, chunkSize: 327_680)
        let data = Data(count: 327_680 * 3 + 10)
        let seen = Counter()
        let progress = Progress(totalUnitCount: 0)
        let item = try c.uploadBlocking(to: folder("session"), name: "big.bin", data: data,
                                        progress: { done, total in seen.add(); XCTAssertLessThanOrEqual(done, total) },
                                        reportingTo: progress)
        XCTAssertEqual(item.size, Int64(data.count))
        XCTAssertGreaterThanOrEqual(seen.value, 3)
        XCTAssertEqual(progress.totalUnitCount, Int64(data.count))
        XCTAssertEqual(progress.completedUnitCount, Int64(data.count))
        XCTAssertEqual(progress.fractionCompleted, 1.0)
    }

    func testCancellingTheProgressStopsTheUpload() throws {
        let c = try client()
        try c.setUploadOptions(simpleLimit: 327_680, chunkSize: 327_680)
        let progress = Progress(totalUnitCount: 0)
        XCTAssertThrowsError(try c.uploadBlocking(to: folder("pcancel"), name: "big.bin", data: Data(count: 327_680 * 4),
                                                  progress: { done, _ in
                                                      if done > 0 { progress.cancel() }
                                                  },
                                                  reportingTo: progress)) { error in
            XCTAssertEqual((error as? OneDriveError)?.code, .cancelled)
        }
    }

    func testFilesAreFileURLs() async throws {
        let c = try client()
        let dir = folder("files")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("swift-\(UUID().uuidString).bin")
        try Data(count: 1_000).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let item = try await c.uploadFile(to: dir, name: "from-url.bin", from: file)
        XCTAssertEqual(item.size, 1_000)
        XCTAssertThrowsError(try c.uploadFileBlocking(to: dir, name: "x.bin", from: URL(string: "https://example.com/x")!)) { error in
            XCTAssertEqual((error as? OneDriveError)?.code, .invalidArgument)
        }
    }

    func testAsyncTokenProviderIsAskedInTheTaskOncePerToken() async throws {
        guard let base = ProcessInfo.processInfo.environment["ONEDRIVE_TEST_BASE_URL"] else {
            throw XCTSkip("set ONEDRIVE_TEST_BASE_URL to a running onedrive-emulator's base_url")
        }
        let token = ProcessInfo.processInfo.environment["ONEDRIVE_TEST_TOKEN"] ?? "test-token"
        let c = try OneDriveClient(baseURL: base)  // no token: the provider gives it
        let asked = Counter()
        try c.setTokenProvider { () async -> (token: String, expiresOn: Date)? in
            asked.add()
            return (token, Date().addingTimeInterval(3600))
        }
        let root = try await c.item("/")
        XCTAssertTrue(root.isFolder)
        _ = try await c.item("/")
        XCTAssertEqual(asked.value, 1, "a token an hour from expiry is not asked for again")
        // a …Blocking call finds the token the async call set: nothing to wait for
        XCTAssertTrue(try c.itemBlocking("/").isFolder)
    }

    func testDownloadToAFileAndToAHandler() async throws {
        let c = try client()
        let dir = folder("download")
        let data = Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let item = try await c.upload(to: dir, name: "d.bin", data: data)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("swift-\(UUID().uuidString).bin")
        defer { try? FileManager.default.removeItem(at: file) }
        let progress = Progress(totalUnitCount: 0)
        let got = try await c.download(item.id, to: file, reportingTo: progress)
        XCTAssertEqual(got.id, item.id)
        XCTAssertEqual(try Data(contentsOf: file), data)
        XCTAssertEqual(progress.completedUnitCount, Int64(data.count))
        let received = Chunks()
        _ = try await c.download(item.id) { piece in received.add(piece) }
        XCTAssertEqual(received.all, data)
        // an error the write handler throws stops the download and is what the call throws
        XCTAssertThrowsError(try c.downloadBlocking(item.id) { _ in throw HandlerFailure() }) { error in
            XCTAssertTrue(error is HandlerFailure, "\(error)")
        }
        XCTAssertThrowsError(try c.downloadBlocking(item.id, to: URL(string: "https://example.com/x")!)) { error in
            XCTAssertEqual((error as? OneDriveError)?.code, .invalidArgument)
        }
    }

    func testChildrenArriveAPageAtATime() async throws {
        let c = try client()
        let dir = folder("list")
        for i in 0..<5 {
            _ = try await c.upload(to: dir, name: "f\(i).txt", data: Data([UInt8(i)]))
        }
        var names: [String] = []
        for try await child in try c.children(of: dir, pageSize: 2) {
            names.append(child.name ?? "")
        }
        XCTAssertEqual(names.sorted(), (0..<5).map { "f\($0).txt" })
        let folderItem = try await c.item(dir)
        XCTAssertEqual(folderItem.childCount, 5)
        XCTAssertNotNil(folderItem.lastModified)
        // nothing is sent before the first item: a missing folder shows there, and the listing is over
        let missing = try c.children(of: dir + "/no-such-folder")
        XCTAssertThrowsError(try missing.nextBlocking()) { error in
            XCTAssertEqual((error as? OneDriveError)?.code, .notFound)
        }
        XCTAssertNil(try missing.nextBlocking())
    }

    func testMoveAndRename() async throws {
        let c = try client()
        let dir = folder("move")
        let item = try await c.upload(to: dir, name: "a.txt", data: Data([1]))
        _ = try await c.createFolder("sub", in: dir)
        let moved = try await c.move(item.id, to: dir + "/sub", newName: "b.txt")
        XCTAssertEqual(moved.id, item.id)
        XCTAssertEqual(moved.name, "b.txt")
        let renamed = try c.renameBlocking(item.id, to: "c.txt")
        XCTAssertEqual(renamed.name, "c.txt")
        XCTAssertThrowsError(try c.renameBlocking(item.id, to: "bad:name")) { error in
            XCTAssertEqual((error as? OneDriveError)?.code, .invalidName)
        }
    }

    /// A directory of its own for a test's queue and files, removed after.
    private func scratchDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swift-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    func testQueueUploadsAndItsEventsSaySo() async throws {
        let c = try client()
        let dir = try scratchDirectory()
        let file = dir.appendingPathComponent("q.bin")
        try Data(count: 50_000).write(to: file)
        let queue = try TransferQueue(client: c, directory: dir.appendingPathComponent("queue"))
        let id = try queue.enqueueUpload(from: file, to: folder("queue"))
        var states: [TransferState] = []
        for await event in queue.events {
            if case .state(let eventID, let state) = event, eventID == id {
                states.append(state)
                if state.isFinished {
                    break
                }
            }
        }
        XCTAssertEqual(states.last, .completed)
        let done = try queue.transfer(id)
        XCTAssertEqual(done.state, .completed)
        XCTAssertEqual(done.name, "q.bin")
        XCTAssertNotNil(done.itemJSON)
        XCTAssertEqual(done.item?.name, "q.bin")
        XCTAssertEqual(done.item?.size, 50_000)
        XCTAssertNil(done.error)
        XCTAssertEqual(try queue.list([.completed]).map { $0.id }, [id])
        let totals = try queue.totals()
        XCTAssertEqual(totals.completed, 1)
        XCTAssertEqual(totals.bytesDone, 50_000)
        XCTAssertThrowsError(try queue.pause(id + 1_000)) { error in
            XCTAssertEqual((error as? OneDriveError)?.code, .notFound)
        }
        XCTAssertThrowsError(try queue.pause(id)) { error in
            XCTAssertEqual((error as? OneDriveError)?.code, .invalidState)
        }
        XCTAssertEqual(try queue.removeFinished(), 1)
        try await queue.close()
        XCTAssertThrowsError(try queue.enqueueUpload(from: file, to: "/")) { error in
            XCTAssertEqual((error as? OneDriveError)?.code, .invalidState)
        }
    }

    func testQueuePauseResumeCancelAndTheHandler() async throws {
        let c = try client()
        let dir = try scratchDirectory()
        let file = dir.appendingPathComponent("p.bin")
        try Data(count: 10_000).write(to: file)
        let queue = try TransferQueue(client: c, directory: dir.appendingPathComponent("queue"), startOffline: true)
        let seen = Counter()
        try queue.setEventHandler { _ in seen.add() }
        let target = folder("qpause")
        let a = try queue.enqueueUpload(from: file, to: target, name: "a.bin")
        let b = try queue.enqueueUpload(from: file, to: target, name: "b.bin")
        try queue.pause(a)
        try queue.cancel(b)
        XCTAssertEqual(try queue.transfer(a).state, .paused)
        XCTAssertEqual(try queue.transfer(b).state, .cancelled)
        try queue.resume(a)
        XCTAssertEqual(try queue.transfer(a).waitReason, .offline)
        try queue.setOnline(true)
        try await queue.waitIdle(timeout: 60)
        XCTAssertEqual(try queue.transfer(a).state, .completed)
        XCTAssertGreaterThan(seen.value, 0)
        try queue.setEventHandler(nil)
        try queue.closeBlocking()
    }

    func testConflictIs409NameAlreadyExists() throws {
        let c = try client()
        let dir = folder("conflict")
        _ = try c.uploadBlocking(to: dir, name: "taken.txt", data: Data([1]))
        XCTAssertThrowsError(try c.uploadBlocking(to: dir, name: "taken.txt", data: Data([2]), conflict: .fail)) { error in
            guard let error = error as? OneDriveError, error.code == .conflict else {
                return XCTFail("expected .conflict, got \(error)")
            }
            XCTAssertEqual(error.httpStatus, 409)
            XCTAssertEqual(error.graphCode, "nameAlreadyExists")
            XCTAssertNotNil(error.requestId)
            XCTAssertFalse(error.localizedDescription.isEmpty)
        }
    }

    func testNotFoundAndInvalidName() throws {
        let c = try client()
        XCTAssertThrowsError(try c.itemBlocking("/no/such/item")) { error in
            XCTAssertEqual((error as? OneDriveError)?.code, .notFound)
            XCTAssertEqual((error as? OneDriveError)?.httpStatus, 404)
        }
        XCTAssertThrowsError(try c.uploadBlocking(to: "/", name: "a:b", data: Data())) { error in
            XCTAssertEqual((error as? OneDriveError)?.code, .invalidName)
        }
    }

    func testCopyAndWaitAsync() async throws {
        let c = try client()
        let dir = folder("copy")
        _ = try await c.upload(to: dir, name: "src.bin", data: Data(count: 5_000))
        let job = try await c.copy(dir + "/src.bin", to: dir, newName: "copy.bin")
        let percents = Percents()
        let progress = Progress(totalUnitCount: 0)
        let copy = try await c.wait(for: job, progress: { percent in percents.add(percent) },
                                    reportingTo: progress)
        XCTAssertEqual(copy.name, "copy.bin")
        XCTAssertEqual(job.lastState, .completed)
        XCTAssertFalse(percents.all.isEmpty)
        XCTAssertTrue(percents.all.allSatisfy { $0 >= 0 && $0 <= 100 }, "job progress is a percent: \(percents.all)")
        XCTAssertEqual(progress.totalUnitCount, 100)
        XCTAssertEqual(progress.completedUnitCount, 100)
        let again = try OneDriveJob(monitorURL: job.monitorURL)
        XCTAssertEqual(try c.waitBlocking(for: again).id, copy.id)
    }

    func testCancellingTheTaskStopsTheWait() async throws {
        let c = try client()
        guard let admin = ProcessInfo.processInfo.environment["ONEDRIVE_TEST_BASE_URL"]
            .map({ $0.replacingOccurrences(of: "/v1.0", with: "") + "/_emulator/job" }) else { return }
        try await put(admin, body: #"{"paused":true}"#)
        defer { Task { try? await put(admin, body: "{}") } }
        let dir = folder("cancel")
        _ = try await c.upload(to: dir, name: "src.bin", data: Data(count: 100))
        let job = try await c.copy(dir + "/src.bin", to: dir, newName: "paused.bin")
        let looked = Counter()
        let task = Task { try await c.wait(for: job, progress: { _ in looked.add() }) }
        while looked.value == 0 {
            try await Task.sleep(nanoseconds: 5_000_000) // polling for the first look, not a fixed wait
        }
        task.cancel()
        do {
            _ = try await task.value
            XCTFail("a paused job cannot complete")
        } catch is CancellationError {
        }
    }

    func testTlsAndProxyHaveTheirOwnErrors() {
        let tls = OneDriveError(OneDriveError.Code(rawValue: 27), message: "m")
        let proxy = OneDriveError(OneDriveError.Code(rawValue: 28), message: "m")
        XCTAssertEqual(tls.code, .tls)
        XCTAssertEqual(proxy.code, .proxy)
        XCTAssertTrue(tls.isNetworkFailure && proxy.isNetworkFailure)
        XCTAssertFalse(OneDriveError(.notFound).isNetworkFailure)
        XCTAssertEqual(LogLevel.allCases.map { $0.rawValue }, [1, 2, 3, 4])
        XCTAssertTrue(LogLevel.error < LogLevel.debug)
    }

    func testBadPemAndMissingCaFile() throws {
        let c = try client()
        for bad in ["hello", "", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"] {
            XCTAssertThrowsError(try c.addCA(pem: bad)) { error in
                XCTAssertEqual((error as? OneDriveError)?.code, .invalidArgument)
            }
            XCTAssertThrowsError(try c.addCA(pem: Data(bad.utf8)))
        }
        XCTAssertThrowsError(try c.addCA(fileAt: URL(fileURLWithPath: "/no/such/ca.pem"))) { error in
            XCTAssertEqual((error as? OneDriveError)?.code, .io)
        }
        // a URL that is not a file URL is refused before any call
        XCTAssertThrowsError(try c.addCA(fileAt: URL(string: "https://example.com/ca.pem")!)) { error in
            XCTAssertEqual((error as? OneDriveError)?.code, .invalidArgument)
        }
        XCTAssertTrue(try c.itemBlocking("/").isFolder)
    }

    func testProxySettings() throws {
        let c = try client()
        for bad in ["ftp://x", "ftp://user:SECRET@127.0.0.1:1", ""] {
            XCTAssertThrowsError(try c.setProxy(bad)) { error in
                XCTAssertEqual((error as? OneDriveError)?.code, .invalidArgument)
                XCTAssertFalse("\(error)".contains("SECRET"))
            }
        }
        try c.setProxy(nil)
        XCTAssertTrue(try c.itemBlocking("/").isFolder)
        // a proxy nobody listens on (port 9, discard, is closed on loopback): a network error
        try c.setRetry(maxAttempts: 1, maxWait: 0)
        try c.setProxy("http://127.0.0.1:9")
        XCTAssertThrowsError(try c.itemBlocking("/")) { error in
            XCTAssertEqual((error as? OneDriveError)?.code, .network)
        }
        try c.setProxy(nil)
        XCTAssertTrue(try c.itemBlocking("/").isFolder)
    }

    func testUploadRate() throws {
        let c = try client()
        try c.setUploadRate(0)
        try c.setUploadRate(UInt64.max)
        try c.setUploadRate(40_000)
        let started = Date()
        let item = try c.uploadBlocking(to: folder("rate"), name: "slow.bin", data: Data(count: 60_000))
        XCTAssertEqual(item.size, 60_000)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 1.0)
        try c.setUploadRate(0)
    }

    func testLogLinesArriveWithTheirLevelsAndNoSecret() throws {
        let c = try client()
        let lines = LogLines()
        try c.setLogHandler(level: .debug) { level, message in lines.add(level, message) }
        let dir = folder("log")
        let item = try c.uploadBlocking(to: dir, name: "logged.txt", data: Data(count: 4096))
        let job = try c.copyBlocking(item.id, to: dir, newName: "logged-copy.txt")
        _ = try c.waitBlocking(for: job, timeout: 60)
        XCTAssertThrowsError(try c.itemBlocking(dir + "/no-such-file.txt"))
        let all = lines.all
        XCTAssertTrue(all.contains { $0.0 == .info && $0.1.hasPrefix("PUT ") && $0.1.contains("logged.txt") })
        XCTAssertTrue(all.contains { $0.0 == .debug && $0.1.hasPrefix("job look") })
        XCTAssertTrue(all.contains { $0.0 == .info && $0.1.contains("-> 404") })
        let token = ProcessInfo.processInfo.environment["ONEDRIVE_TEST_TOKEN"] ?? "test-token"
        for (_, message) in all {
            XCTAssertFalse(message.contains(token) || message.contains("tempauth") || message.contains("?"), message)
        }
        try c.setLogHandler(nil)
        let before = lines.all.count
        _ = try c.itemBlocking(dir)
        XCTAssertEqual(lines.all.count, before)
    }

    private func put(_ url: String, body: String) async throws {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "PUT"
        let admin = ProcessInfo.processInfo.environment["ONEDRIVE_TEST_ADMIN_TOKEN"] ?? ""
        request.setValue("Bearer " + admin, forHTTPHeaderField: "Authorization")
        request.httpBody = Data(body.utf8)
        _ = try await URLSession.shared.data(for: request)
    }
}

/// A thread-safe counter for callbacks.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func add() {
        lock.lock()
        count += 1
        lock.unlock()
    }

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}

/// Job percents as a handler received them.
final class Percents: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Double] = []

    func add(_ percent: Double) {
        lock.lock()
        values.append(percent)
        lock.unlock()
    }

    var all: [Double] {
        lock.lock()
        defer { lock.unlock() }
        return values
    }
}

/// Log lines as a handler received them, from any thread.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [(LogLevel, String)] = []

    func add(_ level: LogLevel, _ message: String) {
        lock.lock()
        lines.append((level, message))
        lock.unlock()
    }

    var all: [(LogLevel, String)] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }
}

/// What a write handler throws in the tests.
struct HandlerFailure: Error {}

/// A download's pieces as a handler received them.
final class Chunks: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func add(_ piece: Data) {
        lock.lock()
        data.append(piece)
        lock.unlock()
    }

    var all: Data {
        lock.lock()
        defer { lock.unlock() }
        return data
    }
}
