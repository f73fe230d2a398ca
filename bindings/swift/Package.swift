// swift-tools-version:5.9
// The Swift binding of onedrive-native: the C module `COneDrive` over
// include/onedrive.h and the `OneDriveNative` module on top of it.
//
// This manifest is for work inside bindings/swift. Apps add the repository
// by URL: its root Package.swift holds the same targets, with COneDrive as
// the released XCFramework (URL and checksum written by release.sh).
//
// COneDrive comes from one of two places:
// - COneDrive.xcframework beside this file (made by build-xcframework.sh:
//   the static library for iOS devices and simulators (and macOS), with the
//   header and a module map): a binary target, for apps;
// - otherwise Sources/COneDrive: a module map over the repository's header,
//   linking `onedrive_native` from the linker path, for development on macOS
//   or Linux: swift build -Xlinker -L../../target/debug
import PackageDescription
import Foundation

let xcframework = "COneDrive.xcframework"
let hasXCFramework = FileManager.default.fileExists(
    atPath: Context.packageDirectory + "/" + xcframework)

let cModule: Target = hasXCFramework
    ? .binaryTarget(name: "COneDrive", path: xcframework)
    : .systemLibrary(name: "COneDrive", path: "Sources/COneDrive")

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
            path: "Sources/OneDriveNative",
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
            path: "Tests/OneDriveNativeTests"
        ),
    ]
)
