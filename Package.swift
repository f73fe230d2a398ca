// swift-tools-version:5.9
// onedrive-native as a Swift package: add this repository by URL,
//     .package(url: "<this repository's URL>", from: "0.1.0"),
// and depend on the product "OneDriveNative" (`import OneDriveNative`).
//
// The C library is the binary target COneDrive: an XCFramework (the static
// library for iOS devices, the iOS simulator and macOS, with the header and a
// module map) attached to each release. bindings/swift/release.sh builds it
// (build-xcframework.sh, on macOS with Xcode), zips it and writes its URL
// and SHA-256 checksum into the two constants below; SwiftPM downloads the
// zip and refuses it unless its checksum matches. On a commit no release was
// cut from, the checksum is the placeholder "unreleased" and COneDrive is the
// module map over include/onedrive.h instead, linking a libonedrive_native
// built or installed on the machine (`swift build -Xlinker -Ltarget/release`,
// or `make install`, whose pkg-config file is named below). See
// bindings/swift/README.md.
import PackageDescription
import Foundation

// Written by bindings/swift/release.sh: where the release's zipped
// XCFramework is, and its SHA-256 (`swift package compute-checksum`).
let xcframeworkURL = "https://example.invalid/onedrive-native/unreleased/COneDrive.xcframework.zip"
let xcframeworkChecksum = "unreleased"

// An XCFramework built in this checkout by build-xcframework.sh wins (for
// development on macOS); elsewhere than on Apple platforms, where SwiftPM
// takes no XCFramework, and before a release, the module map.
let localXCFramework = "bindings/swift/COneDrive.xcframework"
#if canImport(Darwin)
let hostTakesXCFramework = true
#else
let hostTakesXCFramework = false
#endif

let cModule: Target
if FileManager.default.fileExists(atPath: Context.packageDirectory + "/" + localXCFramework) {
    cModule = .binaryTarget(name: "COneDrive", path: localXCFramework)
} else if xcframeworkChecksum == "unreleased" || !hostTakesXCFramework {
    cModule = .systemLibrary(name: "COneDrive", path: "bindings/swift/Sources/COneDrive",
                             pkgConfig: "onedrive-native")
} else {
    cModule = .binaryTarget(name: "COneDrive", url: xcframeworkURL, checksum: xcframeworkChecksum)
}

let package = Package(
    name: "OneDriveNative",
    platforms: [.iOS(.v13), .macOS(.v10_15)],
    products: [
        .library(name: "OneDriveNative", targets: ["OneDriveNative"]),
    ],
    targets: [
        cModule,
        .target(
            name: "OneDriveNative",
            dependencies: ["COneDrive"],
            path: "bindings/swift/Sources/OneDriveNative",
            linkerSettings: [
                // What a Rust static library needs on Apple platforms beyond
                // libSystem; build-xcframework.sh prints the exact list
                // (`--print native-static-libs`) for the targets it builds.
                .linkedFramework("Security", .when(platforms: [.iOS, .macOS])),
                .linkedFramework("CoreFoundation", .when(platforms: [.iOS, .macOS])),
                .linkedLibrary("iconv", .when(platforms: [.iOS, .macOS])),
            ]
        ),
        .testTarget(
            name: "OneDriveNativeTests",
            dependencies: ["OneDriveNative"],
            path: "bindings/swift/Tests/OneDriveNativeTests"
        ),
    ]
)
