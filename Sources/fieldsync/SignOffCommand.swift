import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import FieldSyncStore

struct SignOffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signoff",
        abstract: "Take the customer's sign-off (客户签字) of the work and the bill.",
        discussion: """
            Show the customer the bill first: `fieldsync signoff ORDER --preview`. The sign-off
            is tied to exactly what is shown (a SHA-256 of the work, boundary, parts, charges and
            photos); after it those facts are frozen until a dispatcher reopens the order.
            """)

    @OptionGroup var options: CommonOptions
    @Argument(help: "The order id, or any unique part of it.") var order: String
    @Flag(help: "Only show what the customer signs for.") var preview = false
    @Option(help: "Signer's name.") var name: String?
    @Option(help: "Signer's role: customer, or e.g. 'property manager'.") var role: String = "customer"
    @Option(help: "Satisfaction 1 (very dissatisfied) to 5 (very satisfied).") var rating: Int?
    @Option(help: "The customer's comment.") var comment: String?
    @Option(help: "Signature image file: PNG or SVG, checked by content.", completion: .file()) var signature: String?

    func validate() throws {
        guard preview || (name != nil && rating != nil && signature != nil) else {
            throw ValidationError("a sign-off needs --name, --rating and --signature (or use --preview)")
        }
        if let rating, !(1...5).contains(rating) {
            throw ValidationError("--rating must be 1 to 5")
        }
    }

    func run() throws {
        try guarded {
            let (store, _) = try options.openAccount()
            let id = try store.resolveOrderId(order)
            guard let current = try store.order(id: id) else { throw StoreError.unknownOrder(order) }
            if preview {
                print("\(id)  \(current[.customerName] ?? "")  \(current[.address] ?? "")")
                print("work done: \(current[.workDone] ?? "-")")
                print("boundary 产权分界: \(current[.boundary] ?? "-")   labour: \(current[.labourMinutes] ?? "-") min")
                print(renderBill(Bill(order: current)))
                print("content hash: \(SignOffContent.hash(of: current))")
                return
            }
            guard let name, let rating, let signature else { return }
            let blob = try BlobCache(home: options.homePath).ingest(signature, purpose: .signature, maxBytes: options.maxBlobBytes)
            let digest = blob.digest
            try record(options, order: order, saying: { _ in "signed off by \(name), rating \(rating)/5" }) { view in
                guard let view else { throw StoreError.unknownOrder(order) }
                return .signOff(SignOff(
                    signerName: name, signerRole: role, signatureDigest: digest, rating: rating,
                    comment: comment, signedAt: WallClock.now(), contentHash: SignOffContent.hash(of: view)))
            }
            try options.openStore().addBlob(digest: digest, size: blob.size, type: blob.type)
        }
    }
}
