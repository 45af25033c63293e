/// The server's tables on PostgreSQL: the same tables, columns and indexes as the SQLite
/// migrations of ``ServerSchema`` leave (a contract test compares them), in PostgreSQL's
/// types. Integers are `BIGINT` and flags are 0 or 1 on both engines, so every query of
/// the service reads the same on both.
///
/// Migrations are append-only, as on SQLite: a change is a new entry. PostgreSQL starts at
/// the schema SQLite reached in eight steps, so its first migration is that whole schema.
enum PostgresSchema {
    /// Every migration, by name, in the order they apply.
    static let migrations: [(name: String, sql: String)] = [
        ("pg1", pg1), ("pg2-order-children", pg2OrderChildren), ("pg3-board-rank", pg3BoardRank),
        ("pg4-crew-history", pg4CrewHistory), ("pg5-crew-status", pg5CrewStatus),
        ("pg6-unread-indexes", pg6UnreadIndexes), ("pg7-open-conflicts", pg7OpenConflicts),
        ("pg8-conflict-sides", pg8ConflictSides), ("pg9-kpi-shards", pg9KpiShards),
        ("pg10-conflict-time", pg10ConflictTime),
    ]

    /// Migration "pg1": the schema of SQLite's v1 … v8-technician-pull-index, and
    /// `fieldsync_wrap_add`, the modulo-2^64 addition of scope checksums.
    static let pg1 = """
        CREATE TABLE users (
            name TEXT PRIMARY KEY NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('technician', 'dispatcher')),
            token_sha256 TEXT NOT NULL UNIQUE,
            created_at BIGINT NOT NULL,
            disabled_at BIGINT
        );

        CREATE TABLE board_sessions (
            id_sha256 TEXT PRIMARY KEY NOT NULL,
            "user" TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL
        );
        CREATE INDEX board_sessions_user ON board_sessions("user");

        CREATE TABLE devices (
            device_id TEXT PRIMARY KEY NOT NULL,
            owner TEXT NOT NULL,
            next_seq BIGINT NOT NULL DEFAULT 1,
            last_hlc TEXT,
            number BIGINT
        );
        CREATE UNIQUE INDEX devices_number ON devices(number);

        CREATE TABLE events (
            seq BIGSERIAL PRIMARY KEY,
            op_id TEXT NOT NULL UNIQUE,
            order_id TEXT NOT NULL,
            device_id TEXT NOT NULL,
            device_seq BIGINT NOT NULL,
            body TEXT NOT NULL
        );
        CREATE INDEX events_order ON events(order_id, seq);

        CREATE TABLE outcomes (
            device_id TEXT NOT NULL,
            device_seq BIGINT NOT NULL,
            body_sha256 TEXT NOT NULL,
            outcome TEXT NOT NULL,
            op_id TEXT,
            PRIMARY KEY (device_id, device_seq)
        );
        CREATE INDEX outcomes_device_op ON outcomes(device_id, op_id);

        CREATE TABLE orders (
            id TEXT PRIMARY KEY NOT NULL,
            assignee TEXT,
            status TEXT NOT NULL,
            urgency BIGINT NOT NULL,
            version BIGINT NOT NULL,
            state TEXT NOT NULL,
            updated_at BIGINT NOT NULL,
            kind TEXT NOT NULL DEFAULT '',
            customer_name TEXT NOT NULL DEFAULT '',
            address TEXT NOT NULL DEFAULT '',
            customer_tier TEXT,
            special_needs TEXT,
            created_at BIGINT NOT NULL DEFAULT 0,
            response_deadline BIGINT,
            on_site_at BIGINT,
            completed_at BIGINT,
            clock_clamped BIGINT NOT NULL DEFAULT 0,
            finished BIGINT NOT NULL DEFAULT 0,
            sign_off_rating BIGINT,
            archived BIGINT NOT NULL DEFAULT 0,
            finished_at BIGINT,
            entered_seq BIGINT NOT NULL DEFAULT 0,
            assigned_seq BIGINT NOT NULL DEFAULT 0
        );
        CREATE INDEX orders_assignee_version ON orders(assignee, version);
        CREATE INDEX orders_version ON orders(version);
        CREATE INDEX orders_board ON orders(finished, urgency, id);
        CREATE INDEX orders_assignee_finished ON orders(assignee, finished);
        CREATE INDEX orders_archive ON orders(archived, finished, finished_at);
        CREATE INDEX orders_entered ON orders(archived, entered_seq);
        CREATE INDEX orders_changed ON orders(archived, version, entered_seq);
        CREATE INDEX orders_rank ON orders(finished, urgency, response_deadline, on_site_at, created_at, status, assignee, id);
        CREATE INDEX orders_kpi ON orders(finished, on_site_at, response_deadline, sign_off_rating);
        CREATE INDEX orders_tech_scope ON orders(assignee, archived, assigned_seq);
        CREATE INDEX orders_tech_changed ON orders(assignee, archived, version, assigned_seq);

        CREATE TABLE revocations (
            technician TEXT NOT NULL,
            order_id TEXT NOT NULL,
            seq BIGINT NOT NULL,
            entered_seq BIGINT NOT NULL DEFAULT 0,
            reason TEXT NOT NULL DEFAULT 'reassigned',
            PRIMARY KEY (technician, seq)
        );

        CREATE TABLE conflicts (
            id TEXT PRIMARY KEY NOT NULL,
            order_id TEXT NOT NULL,
            body TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            resolved_by TEXT,
            resolution TEXT,
            resolved_at BIGINT
        );
        CREATE INDEX conflicts_order ON conflicts(order_id);
        CREATE INDEX conflicts_open ON conflicts(order_id, resolved_at);

        CREATE TABLE scope_sums (
            principal TEXT PRIMARY KEY NOT NULL,
            sum BIGINT NOT NULL
        );

        CREATE FUNCTION fieldsync_wrap_add(a BIGINT, b BIGINT) RETURNS BIGINT AS $$
            SELECT ((((a::numeric + b::numeric + 9223372036854775808) % 18446744073709551616)
                     + 18446744073709551616) % 18446744073709551616 - 9223372036854775808)::bigint
        $$ LANGUAGE SQL IMMUTABLE STRICT;
        """

    /// Migration "pg2-order-children": SQLite's v9-order-children (an order's lines as rows
    /// of their own; see ``ServerSchema/v9OrderChildren``).
    static let pg2OrderChildren = """
        CREATE TABLE order_children (
            order_id TEXT NOT NULL,
            position BIGINT NOT NULL,
            child_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (order_id, position)
        );
        CREATE UNIQUE INDEX order_children_id ON order_children(order_id, child_id);
        ALTER TABLE orders ADD COLUMN child_rows BIGINT NOT NULL DEFAULT 0;
        """

    /// Migration "pg3-board-rank": SQLite's v10-board-rank (see ``ServerSchema/v10BoardRank``):
    /// `warn_at`, the board's rank indexes, and `board_kpi` kept by a row trigger.
    static let pg3BoardRank = """
        ALTER TABLE orders ADD COLUMN warn_at BIGINT;
        UPDATE orders SET warn_at = response_deadline - FLOOR(GREATEST(response_deadline - created_at, 1)::float8 * 0.25)::bigint
        WHERE response_deadline IS NOT NULL AND on_site_at IS NULL AND finished = 0;
        DROP INDEX orders_rank;
        DROP INDEX orders_kpi;
        DROP INDEX orders_board;
        DROP INDEX orders_assignee_finished;
        CREATE INDEX orders_at_risk ON orders(warn_at, response_deadline, urgency, status, assignee, id) WHERE warn_at IS NOT NULL;
        CREATE INDEX orders_open_rank ON orders(urgency, COALESCE(response_deadline, 9223372036854775807), id, warn_at) WHERE finished = 0;
        CREATE INDEX orders_crew_rank ON orders(assignee, urgency, COALESCE(response_deadline, 9223372036854775807), id, warn_at) WHERE finished = 0;
        CREATE INDEX orders_status_rank ON orders(status, urgency, COALESCE(response_deadline, 9223372036854775807), id, warn_at);
        CREATE INDEX orders_all_rank ON orders(urgency, COALESCE(response_deadline, 9223372036854775807), id, warn_at);

        CREATE TABLE board_kpi (
            id BIGINT PRIMARY KEY NOT NULL CHECK (id = 1),
            met BIGINT NOT NULL,
            missed BIGINT NOT NULL,
            signed BIGINT NOT NULL,
            satisfied BIGINT NOT NULL
        );
        INSERT INTO board_kpi (id, met, missed, signed, satisfied)
        SELECT 1,
            COALESCE(SUM(CASE WHEN on_site_at <= response_deadline THEN 1 ELSE 0 END), 0),
            COALESCE(SUM(CASE WHEN on_site_at > response_deadline THEN 1 ELSE 0 END), 0),
            COALESCE(SUM(CASE WHEN sign_off_rating IS NOT NULL THEN 1 ELSE 0 END), 0),
            COALESCE(SUM(CASE WHEN sign_off_rating >= 4 THEN 1 ELSE 0 END), 0)
        FROM orders;
        CREATE FUNCTION fieldsync_board_kpi() RETURNS trigger AS $$
        DECLARE
            d_met BIGINT := 0; d_missed BIGINT := 0; d_signed BIGINT := 0; d_satisfied BIGINT := 0;
        BEGIN
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                d_met := d_met + (CASE WHEN NEW.on_site_at <= NEW.response_deadline THEN 1 ELSE 0 END);
                d_missed := d_missed + (CASE WHEN NEW.on_site_at > NEW.response_deadline THEN 1 ELSE 0 END);
                d_signed := d_signed + (CASE WHEN NEW.sign_off_rating IS NOT NULL THEN 1 ELSE 0 END);
                d_satisfied := d_satisfied + (CASE WHEN NEW.sign_off_rating >= 4 THEN 1 ELSE 0 END);
            END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                d_met := d_met - (CASE WHEN OLD.on_site_at <= OLD.response_deadline THEN 1 ELSE 0 END);
                d_missed := d_missed - (CASE WHEN OLD.on_site_at > OLD.response_deadline THEN 1 ELSE 0 END);
                d_signed := d_signed - (CASE WHEN OLD.sign_off_rating IS NOT NULL THEN 1 ELSE 0 END);
                d_satisfied := d_satisfied - (CASE WHEN OLD.sign_off_rating >= 4 THEN 1 ELSE 0 END);
            END IF;
            IF d_met <> 0 OR d_missed <> 0 OR d_signed <> 0 OR d_satisfied <> 0 THEN
                UPDATE board_kpi SET met = board_kpi.met + d_met,
                    missed = board_kpi.missed + d_missed,
                    signed = board_kpi.signed + d_signed,
                    satisfied = board_kpi.satisfied + d_satisfied
                WHERE id = 1;
            END IF;
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql;
        CREATE TRIGGER orders_kpi AFTER INSERT OR UPDATE OR DELETE ON orders
            FOR EACH ROW EXECUTE FUNCTION fieldsync_board_kpi();
        """

    /// Migration "pg4-crew-history": SQLite's v11-crew-history (see
    /// ``ServerSchema/v11CrewHistory``): one crew's finished orders in board order, so a
    /// page of `GET /v1/board?all=1&crew=` reads a page of each of the crew's two indexes.
    static let pg4CrewHistory = """
        CREATE INDEX orders_crew_history ON orders(assignee, urgency, COALESCE(response_deadline, 9223372036854775807), id, warn_at) WHERE finished = 1;
        """

    /// Migration "pg5-crew-status": SQLite's v12-crew-status (see
    /// ``ServerSchema/v12CrewStatus``): one crew's orders of one status in board order.
    static let pg5CrewStatus = """
        CREATE INDEX orders_crew_status_rank ON orders(assignee, status, urgency, COALESCE(response_deadline, 9223372036854775807), id, warn_at);
        """

    /// Migration "pg6-unread-indexes": SQLite's v13-unread-indexes (see
    /// ``ServerSchema/v13UnreadIndexes``).
    static let pg6UnreadIndexes = """
        DROP INDEX orders_version;
        DROP INDEX orders_assignee_version;
        """

    /// Migration "pg7-open-conflicts": SQLite's v14-open-conflicts (see
    /// ``ServerSchema/v14OpenConflicts``).
    static let pg7OpenConflicts = """
        CREATE INDEX conflicts_unresolved ON conflicts(created_at, id) WHERE resolved_at IS NULL;
        DROP INDEX conflicts_order;
        """

    /// Migration "pg8-conflict-sides": SQLite's v15-conflict-sides (see
    /// ``ServerSchema/v15ConflictSides``).
    static let pg8ConflictSides = """
        ALTER TABLE conflicts ADD COLUMN winner_actor TEXT;
        ALTER TABLE conflicts ADD COLUMN loser_actor TEXT;
        UPDATE conflicts SET winner_actor = body::jsonb -> 'winner' ->> 'actor', loser_actor = body::jsonb -> 'loser' ->> 'actor';
        CREATE INDEX conflicts_winner ON conflicts(winner_actor);
        CREATE INDEX conflicts_loser ON conflicts(loser_actor);
        """

    /// Migration "pg9-kpi-shards": the board's KPI counts kept in 64 rows instead of one,
    /// each order's changes in the row of its id's hash; the board sums them.
    ///
    /// Why: every write that moved a KPI updated the one row, so each such write of a push
    /// waited for the row lock of every other instance's push still open, and within one
    /// transaction each update walked the versions the ones before it left (500 on-site
    /// updates in one transaction: 37 ms with the one row, 17 ms without the trigger; 2,000:
    /// 207 ms against 46). A missing row is created by the first write to it.
    static let pg9KpiShards = """
        ALTER TABLE board_kpi DROP CONSTRAINT board_kpi_id_check;
        ALTER TABLE board_kpi ADD CONSTRAINT board_kpi_shard CHECK (id BETWEEN 1 AND 64);
        CREATE OR REPLACE FUNCTION fieldsync_board_kpi() RETURNS trigger AS $$
        DECLARE
            d_met BIGINT := 0; d_missed BIGINT := 0; d_signed BIGINT := 0; d_satisfied BIGINT := 0;
        BEGIN
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                d_met := d_met + (CASE WHEN NEW.on_site_at <= NEW.response_deadline THEN 1 ELSE 0 END);
                d_missed := d_missed + (CASE WHEN NEW.on_site_at > NEW.response_deadline THEN 1 ELSE 0 END);
                d_signed := d_signed + (CASE WHEN NEW.sign_off_rating IS NOT NULL THEN 1 ELSE 0 END);
                d_satisfied := d_satisfied + (CASE WHEN NEW.sign_off_rating >= 4 THEN 1 ELSE 0 END);
            END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                d_met := d_met - (CASE WHEN OLD.on_site_at <= OLD.response_deadline THEN 1 ELSE 0 END);
                d_missed := d_missed - (CASE WHEN OLD.on_site_at > OLD.response_deadline THEN 1 ELSE 0 END);
                d_signed := d_signed - (CASE WHEN OLD.sign_off_rating IS NOT NULL THEN 1 ELSE 0 END);
                d_satisfied := d_satisfied - (CASE WHEN OLD.sign_off_rating >= 4 THEN 1 ELSE 0 END);
            END IF;
            IF d_met <> 0 OR d_missed <> 0 OR d_signed <> 0 OR d_satisfied <> 0 THEN
                INSERT INTO board_kpi AS k (id, met, missed, signed, satisfied)
                VALUES (1 + (hashtext(COALESCE(NEW.id, OLD.id)) & 63), d_met, d_missed, d_signed, d_satisfied)
                ON CONFLICT (id) DO UPDATE SET met = k.met + EXCLUDED.met, missed = k.missed + EXCLUDED.missed,
                    signed = k.signed + EXCLUDED.signed, satisfied = k.satisfied + EXCLUDED.satisfied;
            END IF;
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql;
        """

    /// Migration "pg10-conflict-time": SQLite's v16-conflict-time (see
    /// ``ServerSchema/v16ConflictTime``).
    static let pg10ConflictTime = """
        CREATE INDEX conflicts_time ON conflicts(created_at, id);
        """
}
