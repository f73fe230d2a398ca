// XCTest suite for a machine with a Swift toolchain (macOS, or Linux with
// swift.org's toolchain): run a standalone emulator first,
//   ../../target/debug/onedrive-emulator --plain-http --port 0 --monitor-port 0 --token swift-token
// (plain HTTP: the admin helper below uses URLSession, which would need the
// emulator's CA in the system's trust settings)
// then
//   ONEDRIVE_TEST_BASE_URL=<its base_url> ONEDRIVE_TEST_TOKEN=swift-token \
//     ONEDRIVE_TEST_ADMIN_TOKEN=<its admin_token> swift test -Xlinker -L../../target/debug
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

    func testEveryStatusHasItsText() {
        for status in OneDriveStatus.allCases {
            XCTAssertTrue(status.text.hasPrefix("OD_"), status.text)
            if status != .ok {
                let error = OneDriveError(detail: ErrorDetail(statusCode: status.rawValue, message: "m"))
                XCTAssertEqual(error.status, status)
            }
        }
        let newer = OneDriveError(detail: ErrorDetail(statusCode: 9999, message: "m"))
        guard case .unknown = newer else {
            return XCTFail("a status newer than the binding is .unknown")
        }
    }

    func testUploadAndReadBack() throws {
        let c = try client()
        let dir = folder("upload")
        let data = Data((0..<10_000).map { UInt8(truncatingIfNeeded: $0) })
        let item = try c.upload(to: dir, name: "Grüße ✓.bin", data: data)
        XCTAssertEqual(item.name, "Grüße ✓.bin")
        XCTAssertEqual(item.size, 10_000)
        XCTAssertEqual(try c.item(item.id).quickXorHash, item.quickXorHash)
    }

    func testProgressAndLargeUploadThroughASession() throws {
        let c = try client()
        try c.setUploadOptions(simpleLimit: 327_680, chunkSize: 327_680)
        let data = Data(count: 327_680 * 3 + 10)
        let seen = Counter()
        let item = try c.upload(to: folder("session"), name: "big.bin", data: data,
                                progress: { done, total in seen.add(); return done <= total })
        XCTAssertEqual(item.size, Int64(data.count))
        XCTAssertGreaterThanOrEqual(seen.value, 3)
    }

    func testConflictIs409NameAlreadyExists() throws {
        let c = try client()
        let dir = folder("conflict")
        _ = try c.upload(to: dir, name: "taken.txt", data: Data([1]))
        XCTAssertThrowsError(try c.upload(to: dir, name: "taken.txt", data: Data([2]), conflict: .fail)) { error in
            guard case OneDriveError.conflict(let detail) = error else {
                return XCTFail("expected .conflict, got \(error)")
            }
            XCTAssertEqual(detail.httpStatus, 409)
            XCTAssertEqual(detail.code, "nameAlreadyExists")
            XCTAssertNotNil(detail.requestId)
        }
    }

    func testNotFoundAndInvalidName() throws {
        let c = try client()
        XCTAssertThrowsError(try c.item("/no/such/item")) { error in
            XCTAssertEqual((error as? OneDriveError)?.status, .notFound)
            XCTAssertEqual((error as? OneDriveError)?.httpStatus, 404)
        }
        XCTAssertThrowsError(try c.upload(to: "/", name: "a:b", data: Data())) { error in
            XCTAssertEqual((error as? OneDriveError)?.status, .invalidName)
        }
    }

    func testCopyAndWaitAsync() async throws {
        let c = try client()
        let dir = folder("copy")
        _ = try await c.upload(to: dir, name: "src.bin", data: Data(count: 5_000))
        let job = try await c.copy(dir + "/src.bin", to: dir, newName: "copy.bin")
        let copy = try await c.wait(for: job)
        XCTAssertEqual(copy.name, "copy.bin")
        XCTAssertEqual(job.lastState, .completed)
        let again = try OneDriveJob(monitorURL: job.monitorURL)
        XCTAssertEqual(try c.wait(for: again).id, copy.id)
    }

    func testCancellingTheTaskStopsTheWait() async throws {
        let c = try client()
        guard let admin = ProcessInfo.processInfo.environment["ONEDRIVE_TEST_BASE_URL"]
            .map({ $0.replacingOccurrences(of: "/v1.0", with: "") + "/_emulator/job" }) else { return }
        try await put(admin, body: #"{"paused":true}"#)
        defer { Task { try? await put(admin, body: "{}") } }
        let dir = folder("cancel")
        _ = try c.upload(to: dir, name: "src.bin", data: Data(count: 100))
        let job = try c.copy(dir + "/src.bin", to: dir, newName: "paused.bin")
        let looked = Counter()
        let task = Task { try await c.wait(for: job, progress: { _, _ in looked.add(); return true }) }
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
        let tls = OneDriveError(detail: ErrorDetail(statusCode: OneDriveStatus.tls.rawValue, message: "m"))
        let proxy = OneDriveError(detail: ErrorDetail(statusCode: OneDriveStatus.proxy.rawValue, message: "m"))
        guard case .tls = tls, case .proxy = proxy else {
            return XCTFail("expected .tls and .proxy, got \(tls), \(proxy)")
        }
        XCTAssertTrue(tls.isNetworkFailure && proxy.isNetworkFailure)
        XCTAssertEqual(LogLevel.allCases.map { $0.rawValue }, [1, 2, 3, 4])
        XCTAssertTrue(LogLevel.error < LogLevel.debug)
    }

    func testBadPemAndMissingCaFile() throws {
        let c = try client()
        for bad in ["hello", "", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"] {
            XCTAssertThrowsError(try c.addCA(pem: bad)) { error in
                XCTAssertEqual((error as? OneDriveError)?.status, .invalidArgument)
            }
            XCTAssertThrowsError(try c.addCA(pem: Data(bad.utf8)))
        }
        XCTAssertThrowsError(try c.addCA(fileAt: "/no/such/ca.pem")) { error in
            XCTAssertEqual((error as? OneDriveError)?.status, .io)
        }
        XCTAssertThrowsError(try c.addCA(fileAt: URL(fileURLWithPath: "/no/such/ca.pem")))
        XCTAssertTrue(try c.item("/").isFolder)
    }

    func testProxySettings() throws {
        let c = try client()
        for bad in ["ftp://x", "ftp://user:SECRET@127.0.0.1:1", ""] {
            XCTAssertThrowsError(try c.setProxy(bad)) { error in
                XCTAssertEqual((error as? OneDriveError)?.status, .invalidArgument)
                XCTAssertFalse("\(error)".contains("SECRET"))
            }
        }
        try c.setProxy(nil)
        XCTAssertTrue(try c.item("/").isFolder)
        // a proxy nobody listens on (port 9, discard, is closed on loopback): a network error
        try c.setRetry(maxAttempts: 1, maxWait: 0)
        try c.setProxy("http://127.0.0.1:9")
        XCTAssertThrowsError(try c.item("/")) { error in
            XCTAssertEqual((error as? OneDriveError)?.status, .network)
        }
        try c.setProxy(nil)
        XCTAssertTrue(try c.item("/").isFolder)
    }

    func testUploadRate() throws {
        let c = try client()
        try c.setUploadRate(0)
        try c.setUploadRate(UInt64.max)
        try c.setUploadRate(40_000)
        let started = Date()
        let item = try c.upload(to: folder("rate"), name: "slow.bin", data: Data(count: 60_000))
        XCTAssertEqual(item.size, 60_000)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 1.0)
        try c.setUploadRate(0)
    }

    func testLogLinesArriveWithTheirLevelsAndNoSecret() throws {
        let c = try client()
        let lines = LogLines()
        try c.setLogHandler(level: .debug) { level, message in lines.add(level, message) }
        let dir = folder("log")
        let item = try c.upload(to: dir, name: "logged.txt", data: Data(count: 4096))
        let job = try c.copy(item.id, to: dir, newName: "logged-copy.txt")
        _ = try c.wait(for: job, timeout: 60)
        XCTAssertThrowsError(try c.item(dir + "/no-such-file.txt"))
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
        _ = try c.item(dir)
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
