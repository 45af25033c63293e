// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "FieldSync",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "fieldsync", targets: ["fieldsync"]),
        .executable(name: "fieldsync-server", targets: ["fieldsync-server"]),
        .library(name: "FieldSyncCore", targets: ["FieldSyncCore"]),
        .library(name: "FieldSyncClient", targets: ["FieldSyncClient"]),
        .library(name: "FieldSyncServer", targets: ["FieldSyncServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        // Pure domain: types, lifecycle, HLC, intents and the one merge function.
        .target(
            name: "FieldSyncCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // What the device's and the server's SQLite stores share: statements bound through
        // SQLite's C API (as GRDB links it) and the WAL checkpointing thread.
        .target(
            name: "FieldSyncSQLite",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        // The technician's SQLite store (GRDB): confirmed events, outbox, local view.
        .target(
            name: "FieldSyncStore",
            dependencies: [
                "FieldSyncCore", "FieldSyncSQLite",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        // libcurl's headers as a system library, the way GRDB wraps sqlite3. No pkgConfig
        // and no `link`: that would link libcurl into every binary (see CCurlLoader).
        .systemLibrary(
            name: "CCurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // libcurl bound at run time on the first request (see CCurlLoader.h): offline
        // commands do not pay the ~9 ms it costs to load at every start.
        .target(
            name: "CCurlLoader",
            dependencies: ["CCurl"],
            linkerSettings: [.linkedLibrary("dl")]
        ),
        .target(name: "FieldSyncHTTP", dependencies: ["CCurlLoader"]),
        // fieldsync's constructor: an online command starts loading libcurl at once.
        .target(name: "FieldSyncLaunch", dependencies: ["CCurlLoader"]),
        // The sync engine: push, pull, rebase, checksum repair.
        .target(
            name: "FieldSyncClient",
            dependencies: ["FieldSyncCore", "FieldSyncStore", "FieldSyncSQLite", "FieldSyncHTTP"]
        ),
        // The central server: Hummingbird routes over a SQLite or PostgreSQL store.
        .target(
            name: "FieldSyncServer",
            dependencies: [
                "FieldSyncCore",
                "FieldSyncSQLite",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .executableTarget(
            name: "fieldsync",
            dependencies: [
                "FieldSyncClient",
                "FieldSyncLaunch",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // The release CLI is linked as a position-dependent executable: the dynamic
            // linker then has none of the static Swift runtime's and Foundation's pointers to
            // relocate, nor their pages to copy, at every start. `fieldsync --version`: 11 →
            // 8 ms, a sync with nothing new 30 → 26 ms (BENCHMARKS.md). The executable's
            // own address is then not randomised (libraries, heap and stack still are), as
            // for Go's default Linux builds; the long-running, network-facing server stays
            // position-independent.
            linkerSettings: [.unsafeFlags(["-Xclang-linker", "-no-pie"], .when(configuration: .release))]
        ),
        .executableTarget(
            name: "fieldsync-server",
            dependencies: [
                "FieldSyncServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "FieldSyncCoreTests",
            dependencies: ["FieldSyncCore", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "FieldSyncStoreTests",
            dependencies: ["FieldSyncStore", "FieldSyncSQLite", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "FieldSyncHTTPTests", dependencies: ["FieldSyncHTTP"]),
        .testTarget(
            name: "FieldSyncServerTests",
            dependencies: [
                "FieldSyncServer",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "FieldSyncClientTests",
            dependencies: [
                "FieldSyncClient", "FieldSyncServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "FieldSyncEndToEndTests",
            dependencies: ["FieldSyncCore", "FieldSyncStore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
