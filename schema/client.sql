-- FieldSync client store (the technician's device): SQLite through GRDB, WAL mode.
-- One block per named migration, in order. Migrations are append-only: never edit a
-- shipped one. Tests/FieldSyncStoreTests/MigrationTests.swift checks this file against
-- Sources/FieldSyncStore/ClientSchema.swift.
--
-- meta            account (server, user, role, token, device id), next_seq, hlc, cursor
-- confirmed_event events the server accepted, as it stored them (pull pages, push acks)
-- confirmed_order the server version of each order in scope: the checksum's input
-- outbox          intents not yet acknowledged ('pending') or refused ('rejected', with
--                 the reason): nothing the technician typed disappears
-- order_view      the local view: fold(confirmed events + pending intents) per order, with
--                 the summary columns `jobs` reads without decoding `state` (v3)
-- seen_conflict   every conflict id already reported by a sync (never reported again)
-- view_conflict   the conflicts the view shows; `seen = 0` until reported once (v3)
-- meta 'confirmed_checksum' the additive checksum of confirmed_order, kept in the same
--                 transaction as every change of confirmed_order (v3 backfills it)

-- migration v1-store
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

-- migration v2-seen-conflicts
CREATE TABLE seen_conflict (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL
);

-- migration v3-summary
-- (the migrator then fills the new columns, view_conflict and meta 'confirmed_checksum'
-- from the rows an older release wrote: ClientDatabase.backfillSummaries)
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

-- migration v4-checksum-triggers
-- (fieldsync_sum_add/sub are ScopeChecksum's terms, registered by ClientDatabase on every
-- connection; the migrator then stores the sum of the rows once: ClientDatabase.resetChecksum)
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

-- migration v5-status-index
CREATE INDEX order_view_status ON order_view(status);

-- migration v6-provisional
CREATE TABLE provisional_order (
    id TEXT PRIMARY KEY NOT NULL
);

-- migration v7-blobs
-- (photos and signature images the device took: sync-protocol.md §11)
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

-- migration v8-view-counts
-- (how many orders the view holds, open and in all, for `jobs`; the finished statuses are OrderStatus.isFinished's)
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

-- migration v9-view-count-case
-- (the same counts; a status list in `NOT IN (...)` made SQLite build a temporary index of it at every
-- trigger run, 2.6 µs a row: a `CASE` reads the status once)
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
