/// The SQL of the technician's store, one entry per named migration.
///
/// Migrations are append-only: a file written by an older release opens in a newer one.
/// `schema/client.sql` holds the same statements (a test keeps the two in step).
public enum ClientSchema {
    public static let migrations: [(name: String, sql: String)] = [
        ("v1-store", v1), ("v2-seen-conflicts", v2), ("v3-summary", v3),
        ("v4-checksum-triggers", v4),
        ("v5-status-index", v5),
        ("v6-provisional", v6),
        ("v7-blobs", v7),
        ("v8-view-counts", v8),
        ("v9-view-count-case", v9),
    ]

    static let v1 = """
        CREATE TABLE meta (
            key TEXT PRIMARY KEY NOT NULL,
            value TEXT NOT NULL
        );
        CREATE TABLE confirmed_event (
            op_id TEXT PRIMARY KEY NOT NULL,
            order_id TEXT NOT NULL,
            body TEXT NOT NULL
        );
        CREATE INDEX confirmed_event_order ON confirmed_event(order_id);
        CREATE TABLE confirmed_order (
            id TEXT PRIMARY KEY NOT NULL,
            version INTEGER NOT NULL
        );
        CREATE TABLE outbox (
            device_seq INTEGER PRIMARY KEY NOT NULL,
            op_id TEXT NOT NULL UNIQUE,
            order_id TEXT NOT NULL,
            body TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'rejected')),
            reason_code TEXT,
            reason_message TEXT
        );
        CREATE INDEX outbox_order ON outbox(order_id);
        CREATE TABLE order_view (
            id TEXT PRIMARY KEY NOT NULL,
            status TEXT NOT NULL,
            urgency INTEGER NOT NULL,
            deadline INTEGER,
            assignee TEXT,
            state TEXT NOT NULL
        );
        """

    static let v2 = """
        CREATE TABLE seen_conflict (
            id TEXT PRIMARY KEY NOT NULL,
            order_id TEXT NOT NULL
        );
        """

    /// Summary columns of the view, so `jobs`, conflicts and id lookups read indexed rows
    /// instead of decoding every order's JSON. Rows written before this migration are filled
    /// from their JSON by the migrator's backfill (`ClientDatabase.backfillSummaries`), in
    /// the same transaction, which also stores the confirmed checksum in `meta`.
    /// `view_conflict` holds each conflict the view shows; `seen = 0` until it has been
    /// reported once (`seen_conflict` still records every id ever reported).
    static let v3 = """
        ALTER TABLE order_view ADD COLUMN customer_name TEXT;
        ALTER TABLE order_view ADD COLUMN address TEXT;
        ALTER TABLE order_view ADD COLUMN customer_tier TEXT;
        ALTER TABLE order_view ADD COLUMN special_needs TEXT;
        ALTER TABLE order_view ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE order_view ADD COLUMN on_site_at INTEGER;
        CREATE INDEX order_view_rank ON order_view(urgency, deadline IS NULL, deadline, id);
        CREATE TABLE view_conflict (
            id TEXT PRIMARY KEY NOT NULL,
            order_id TEXT NOT NULL,
            at INTEGER NOT NULL,
            body TEXT NOT NULL,
            seen INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX view_conflict_order ON view_conflict(order_id);
        CREATE INDEX view_conflict_unseen ON view_conflict(at, id) WHERE seen = 0;
        """

    /// The confirmed checksum kept by the database itself: every change of
    /// `confirmed_order`, by whatever statement, moves meta 'confirmed_checksum' by the
    /// difference of its terms, in the same transaction. A sync reads one row instead of
    /// summing every held order. The terms are ``ScopeChecksum/term(orderId:version:)``,
    /// registered on every connection the store opens (`ClientDatabase.configure`); a
    /// connection without them (the sqlite3 shell) cannot change `confirmed_order`.
    /// The migrator then sets the stored sum from the rows once (a fresh sum, so an older
    /// file whose stored sum had drifted starts right).
    static let v4 = """
        CREATE TRIGGER confirmed_order_added AFTER INSERT ON confirmed_order BEGIN
            UPDATE meta SET value = fieldsync_sum_add(value, NEW.id, NEW.version) WHERE key = 'confirmed_checksum';
        END;
        CREATE TRIGGER confirmed_order_moved AFTER UPDATE ON confirmed_order BEGIN
            UPDATE meta SET value = fieldsync_sum_add(fieldsync_sum_sub(value, OLD.id, OLD.version), NEW.id, NEW.version)
                WHERE key = 'confirmed_checksum';
        END;
        CREATE TRIGGER confirmed_order_removed AFTER DELETE ON confirmed_order BEGIN
            UPDATE meta SET value = fieldsync_sum_sub(value, OLD.id, OLD.version) WHERE key = 'confirmed_checksum';
        END;
        """

    /// `jobs` says how many open orders it did not show; counting them reads this index
    /// instead of every view row (a desk holds tens of thousands).
    static let v5 = """
        CREATE INDEX order_view_status ON order_view(status);
        """

    /// Orders this device holds only from its own pushes' answers (created here, not yet
    /// pulled). A pull that reaches its last page has brought every order of the scope, so
    /// whatever is still listed here left the scope in between (archived, reassigned) and
    /// is let go.
    static let v6 = """
        CREATE TABLE provisional_order (
            id TEXT PRIMARY KEY NOT NULL
        );
        """

    /// Photos and signature images this device took (sync-protocol.md §11): size and type
    /// by content, how many bytes the server held when last asked, when it confirmed the
    /// whole blob, why the last upload failed, and whether the local copy was pruned
    /// (only ever after the server confirmed it). An intent that names a blob not yet
    /// confirmed waits in the outbox.
    static let v7 = """
        CREATE TABLE blob (
            digest TEXT PRIMARY KEY NOT NULL,
            size INTEGER NOT NULL,
            type TEXT NOT NULL,
            uploaded INTEGER NOT NULL DEFAULT 0,
            confirmed_at INTEGER,
            failure TEXT,
            pruned INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX blob_confirmed ON blob(confirmed_at) WHERE confirmed_at IS NOT NULL AND pruned = 0;
        """

    /// How many orders the view holds, open and in all, kept by triggers on `order_view`,
    /// so `jobs` says how many it did not show without counting them: at 500,000 open
    /// orders the count was 67 ms of an 80 ms command. The finished statuses are
    /// ``OrderStatus/isFinished``'s (a test compares them).
    static let v8 = """
        CREATE TABLE view_count (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            open_orders INTEGER NOT NULL,
            all_orders INTEGER NOT NULL
        );
        INSERT INTO view_count (id, open_orders, all_orders)
            SELECT 1, COALESCE(SUM(status NOT IN ('completed', 'signed_off', 'followed_up', 'closed', 'cancelled')), 0), COUNT(*) FROM order_view;
        CREATE TRIGGER view_count_added AFTER INSERT ON order_view BEGIN
            UPDATE view_count SET all_orders = all_orders + 1,
                open_orders = open_orders + (NEW.status NOT IN ('completed', 'signed_off', 'followed_up', 'closed', 'cancelled'))
                WHERE id = 1;
        END;
        CREATE TRIGGER view_count_removed AFTER DELETE ON order_view BEGIN
            UPDATE view_count SET all_orders = all_orders - 1,
                open_orders = open_orders - (OLD.status NOT IN ('completed', 'signed_off', 'followed_up', 'closed', 'cancelled'))
                WHERE id = 1;
        END;
        CREATE TRIGGER view_count_moved AFTER UPDATE OF status ON order_view
            WHEN (OLD.status NOT IN ('completed', 'signed_off', 'followed_up', 'closed', 'cancelled')) <> (NEW.status NOT IN ('completed', 'signed_off', 'followed_up', 'closed', 'cancelled')) BEGIN
            UPDATE view_count SET open_orders = open_orders + (NEW.status NOT IN ('completed', 'signed_off', 'followed_up', 'closed', 'cancelled')) - (OLD.status NOT IN ('completed', 'signed_off', 'followed_up', 'closed', 'cancelled'))
                WHERE id = 1;
        END;
        """

    /// The triggers of v8 again, with the finished statuses in a `CASE`: SQLite built a
    /// temporary index of a `NOT IN (...)` list at every run of a trigger, 2.6 µs a row
    /// (`sqlite3` inserting 200,000 rows: 0.89 s, with `CASE` 0.37 s), about 4% of a
    /// first sync's storing.
    static let v9 = """
        DROP TRIGGER view_count_added;
        DROP TRIGGER view_count_removed;
        DROP TRIGGER view_count_moved;
        CREATE TRIGGER view_count_added AFTER INSERT ON order_view BEGIN
            UPDATE view_count SET all_orders = all_orders + 1, open_orders = open_orders + (CASE NEW.status WHEN 'completed' THEN 0 WHEN 'signed_off' THEN 0 WHEN 'followed_up' THEN 0 WHEN 'closed' THEN 0 WHEN 'cancelled' THEN 0 ELSE 1 END)
                WHERE id = 1;
        END;
        CREATE TRIGGER view_count_removed AFTER DELETE ON order_view BEGIN
            UPDATE view_count SET all_orders = all_orders - 1, open_orders = open_orders - (CASE OLD.status WHEN 'completed' THEN 0 WHEN 'signed_off' THEN 0 WHEN 'followed_up' THEN 0 WHEN 'closed' THEN 0 WHEN 'cancelled' THEN 0 ELSE 1 END)
                WHERE id = 1;
        END;
        CREATE TRIGGER view_count_moved AFTER UPDATE OF status ON order_view
            WHEN (CASE OLD.status WHEN 'completed' THEN 0 WHEN 'signed_off' THEN 0 WHEN 'followed_up' THEN 0 WHEN 'closed' THEN 0 WHEN 'cancelled' THEN 0 ELSE 1 END) <> (CASE NEW.status WHEN 'completed' THEN 0 WHEN 'signed_off' THEN 0 WHEN 'followed_up' THEN 0 WHEN 'closed' THEN 0 WHEN 'cancelled' THEN 0 ELSE 1 END) BEGIN
            UPDATE view_count SET open_orders = open_orders + (CASE NEW.status WHEN 'completed' THEN 0 WHEN 'signed_off' THEN 0 WHEN 'followed_up' THEN 0 WHEN 'closed' THEN 0 WHEN 'cancelled' THEN 0 ELSE 1 END) - (CASE OLD.status WHEN 'completed' THEN 0 WHEN 'signed_off' THEN 0 WHEN 'followed_up' THEN 0 WHEN 'closed' THEN 0 WHEN 'cancelled' THEN 0 ELSE 1 END)
                WHERE id = 1;
        END;
        """
}
