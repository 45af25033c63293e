import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import FieldSyncStore

struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "Add a visit log line (works offline).")
    @OptionGroup var options: CommonOptions
    @Argument(help: "The order id, or any unique part of it.") var order: String
    @Argument(help: "What happened, in your words.") var text: String

    func run() throws {
        try guarded {
            let entry = ChildEntry(id: newId(), kind: .log, text: text)
            try record(options, order: order, saying: { _ in "log line added" }) { _ in .append(entry) }
        }
    }
}

struct Part: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "part", abstract: "Record a part or material used (配件).")
    @OptionGroup var options: CommonOptions
    @Argument(help: "The order id, or any unique part of it.") var order: String
    @Argument(help: "Part name, e.g. 'DN20 ball valve'.") var name: String
    @Option(help: "How many.") var quantity: Int = 1
    @Option(help: "Unit price in yuan, e.g. 35.50.") var price: String = "0"
    @Option(help: "Part code from the catalogue.") var code: String?

    func run() throws {
        try guarded {
            guard let fen = parseYuan(price) else { throw CLIError("price '\(price)' is not an amount in yuan: write it like 35.50") }
            let entry = ChildEntry(id: newId(), kind: .part, text: name, code: code, quantity: quantity, amountFen: fen)
            try record(options, order: order, saying: { _ in "part \(name) ×\(quantity) recorded" }) { _ in .append(entry) }
        }
    }
}

struct Charge: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "charge", abstract: "Add a line to the customer's bill (labour, call-out fee…).")
    @OptionGroup var options: CommonOptions
    @Argument(help: "The order id, or any unique part of it.") var order: String
    @Argument(help: "What the charge is for.") var text: String
    @Argument(help: "Amount in yuan, e.g. 80 or 80.50.") var amount: String

    func run() throws {
        try guarded {
            guard let fen = parseYuan(amount) else { throw CLIError("amount '\(amount)' is not an amount in yuan: write it like 80.50") }
            let entry = ChildEntry(id: newId(), kind: .charge, text: text, amountFen: fen)
            try record(options, order: order, saying: { _ in "charge ¥\(Bill.yuan(fen)) added" }) { _ in .append(entry) }
        }
    }
}

struct Photo: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "photo", abstract: "Attach a photo as evidence: JPEG, PNG, HEIC or PDF up to 20 MB (kept on this device, uploaded at the next sync).")
    @OptionGroup var options: CommonOptions
    @Argument(help: "The order id, or any unique part of it.") var order: String
    @Argument(help: "The photo file (JPEG, PNG, HEIC or PDF, checked by content).", completion: .file()) var file: String
    @Option(help: "What the photo shows.") var caption: String = "photo"

    func run() throws {
        try guarded {
            // Checked (type by content, size) and kept before anything is recorded.
            let blob = try BlobCache(home: options.homePath).ingest(file, purpose: .photo, maxBytes: options.maxBlobBytes)
            let digest = blob.digest
            let entry = ChildEntry(id: newId(), kind: .photo, text: caption, digest: digest)
            try record(options, order: order, saying: { _ in "photo \(digest.prefix(12)) attached (\(BlobCache.megabytes(blob.size)) \(blob.type.rawValue.uppercased()), uploads at the next sync)" }) { _ in .append(entry) }
            try options.openStore().addBlob(digest: digest, size: blob.size, type: blob.type)
        }
    }
}

struct Reading: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reading", abstract: "Record a meter or gauge reading.")
    @OptionGroup var options: CommonOptions
    @Argument(help: "The order id, or any unique part of it.") var order: String
    @Argument(help: "What was read, e.g. 'supply pressure'.") var name: String
    @Argument(help: "The value as read.") var value: String
    @Option(help: "Unit, e.g. MPa or °C.") var unit: String?

    func run() throws {
        try guarded {
            let entry = ChildEntry(id: newId(), kind: .reading, text: name, value: value, unit: unit)
            try record(options, order: order, saying: { _ in "reading \(name) = \(value) recorded" }) { _ in .append(entry) }
        }
    }
}

struct VoidLine: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "void",
        abstract: "Void a line entered by mistake (it stays in history, struck out).")
    @OptionGroup var options: CommonOptions
    @Argument(help: "The order id, or any unique part of it.") var order: String
    @Argument(help: "The line id (first characters, as `fieldsync show` prints them).") var line: String
    @Option(help: "Why it is void.") var reason: String

    func run() throws {
        try guarded {
            try record(options, order: order, saying: { _ in "line voided" }) { current in
                let matches = current?.children.filter { $0.entry.id.hasPrefix(line.lowercased()) } ?? []
                guard matches.count == 1, let target = matches.first else {
                    throw CLIError(matches.isEmpty
                        ? "no line starting with '\(line)' on this order: see the ids with `fieldsync show`"
                        : "'\(line)' matches several lines: type more of the id")
                }
                return .void(childId: target.entry.id, reason: reason)
            }
        }
    }
}

struct SetField: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Record diagnosis, work done, property boundary or labour minutes.",
        discussion: "Fields: diagnosis, work_done, boundary (customer|utility|undetermined), labour_minutes.")
    @OptionGroup var options: CommonOptions
    @Argument(help: "The order id, or any unique part of it.") var order: String
    @Argument(help: "The field, e.g. work_done or boundary.") var field: String
    @Argument(help: "The value.") var value: String

    func validate() throws {
        guard OrderField(rawValue: field.replacingOccurrences(of: "-", with: "_")) != nil else {
            throw ValidationError("unknown field '\(field)': use one of \(OrderField.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        try guarded {
            guard let f = OrderField(rawValue: field.replacingOccurrences(of: "-", with: "_")) else { return }
            try record(options, order: order, saying: { _ in "\(f.rawValue) set" }) { current in
                .setField(field: f, value: value, base: current?.fields[f.rawValue]?.hlc)
            }
        }
    }
}

struct Compensate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compensate",
        abstract: "Record a compensation request (赔偿); above ¥500 it waits for a supervisor.")
    @OptionGroup var options: CommonOptions
    @Argument(help: "The order id, or any unique part of it.") var order: String
    @Argument(help: "Amount in yuan.") var amount: String
    @Option(help: "Why compensation is due.") var reason: String

    func run() throws {
        try guarded {
            guard let fen = parseYuan(amount) else { throw CLIError("amount '\(amount)' is not an amount in yuan: write it like 120.00") }
            let state = fen <= Compensation.frontLineLimitFen ? "settled on the spot" : "waiting for a supervisor's approval"
            try record(options, order: order, saying: { _ in "compensation ¥\(Bill.yuan(fen)) \(state)" }) { _ in
                .requestCompensation(id: newId(), amountFen: fen, reason: reason)
            }
        }
    }
}

/// Fen from "35", "35.5" or "35.50"; nil for anything else or a negative amount.
func parseYuan(_ text: String) -> Int? {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard (1...2).contains(parts.count), let whole = Int(parts[0]), whole >= 0, whole < 10_000_000 else { return nil }
    var fen = whole * 100
    if parts.count == 2 {
        let frac = parts[1]
        guard (1...2).contains(frac.count), let f = Int(frac), f >= 0 else { return nil }
        fen += frac.count == 1 ? f * 10 : f
    }
    return fen
}
