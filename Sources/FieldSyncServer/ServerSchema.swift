/// The SQL of the server's migrations, kept word for word in step with
/// `schema/server.sql` (a test compares the migrated tables with that document).
///
/// Migrations are append-only: a shipped one is never edited; a change is a new entry.
enum ServerSchema {
    /// Every migration, by name, in the order they apply.
    static let migrations: [(name: String, sql: String)] = [
        ("v1", v1), ("v2-users", v2Users), ("v3-trust", v3Trust), ("v4-scale", v4Scale),
        ("v5-scope", v5Scope), ("v6-pull-index", v6PullIndex), ("v7-board-index", v7BoardIndex),
        ("v8-technician-pull-index", v8TechnicianPullIndex), ("v9-order-children", v9OrderChildren),
        ("v10-board-rank", v10BoardRank), ("v11-crew-history", v11CrewHistory),
        ("v12-crew-status", v12CrewStatus), ("v13-unread-indexes", v13UnreadIndexes),
        ("v14-open-conflicts", v14OpenConflicts), ("v15-conflict-sides", v15ConflictSides),
        ("v16-conflict-time", v16ConflictTime),
    ]

    /// Migration "v1": users, devices, the event log, stored push outcomes, the order
    /// projection, revocations, conflicts and the incremental scope checksums.
    static let v1 = """
        CREATE TABLE users (
            name TEXT PRIMARY KEY NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('technician', 'dispatcher')),
            token_sha256 TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL
        );

        CREATE TABLE devices (
            device_id TEXT PRIMARY KEY NOT NULL,
            owner TEXT NOT NULL,
            next_seq INTEGER NOT NULL DEFAULT 1,
            last_hlc TEXT
        );

        CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            op_id TEXT NOT NULL UNIQUE,
            order_id TEXT NOT NULL,
            device_id TEXT NOT NULL,
            device_seq INTEGER NOT NULL,
            body TEXT NOT NULL
        );
        CREATE INDEX events_order ON events(order_id, seq);

        CREATE TABLE outcomes (
            device_id TEXT NOT NULL,
            device_seq INTEGER NOT NULL,
            body_sha256 TEXT NOT NULL,
            outcome TEXT NOT NULL,
            PRIMARY KEY (device_id, device_seq)
        );

        CREATE TABLE orders (
            id TEXT PRIMARY KEY NOT NULL,
            assignee TEXT,
            status TEXT NOT NULL,
            urgency INTEGER NOT NULL,
            version INTEGER NOT NULL,
            state TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX orders_assignee_version ON orders(assignee, version);
        CREATE INDEX orders_version ON orders(version);

        CREATE TABLE revocations (
            technician TEXT NOT NULL,
            order_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY (technician, seq)
        );

        CREATE TABLE conflicts (
            id TEXT PRIMARY KEY NOT NULL,
            order_id TEXT NOT NULL,
            body TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            resolved_by TEXT,
            resolution TEXT,
            resolved_at INTEGER
        );
        CREATE INDEX conflicts_order ON conflicts(order_id);

        CREATE TABLE scope_sums (
            principal TEXT PRIMARY KEY NOT NULL,
            sum INTEGER NOT NULL
        );
        """

    /// Migration "v2-users": accounts can be disabled (their token stops working, nothing
    /// they pushed is lost), and dispatchers sign in to the board page with a session
    /// cookie instead of a token in the address; only the SHA-256 of a session id is kept.
    static let v2Users = """
        ALTER TABLE users ADD COLUMN disabled_at INTEGER;

        CREATE TABLE board_sessions (
            id_sha256 TEXT PRIMARY KEY NOT NULL,
            user TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL
        );
        CREATE INDEX board_sessions_user ON board_sessions(user);
        """

    /// Migration "v3-trust": outcomes findable by op id (recovery of a restored device),
    /// and short device numbers for collision-free order ids.
    static let v3Trust = """
        ALTER TABLE outcomes ADD COLUMN op_id TEXT;
        UPDATE outcomes SET op_id = json_extract(outcome, '$.opId');
        CREATE INDEX outcomes_device_op ON outcomes(device_id, op_id);
        ALTER TABLE devices ADD COLUMN number INTEGER;
        CREATE UNIQUE INDEX devices_number ON devices(number);
        """

    /// Migration "v4-scale": the board's summary columns on `orders`, so the board and
    /// its filters are SQL over plain columns instead of a decode of every order's JSON.
    /// Written on every order write by the push; backfilled here from the stored fold
    /// (`json_extract` only in this migration: queries stay portable to PostgreSQL).
    /// `finished` is 1 for completed, signed_off, followed_up, closed and cancelled;
    /// `sign_off_rating` is the rating of the standing sign-off, if any.
    static let v4Scale = """
        ALTER TABLE orders ADD COLUMN kind TEXT NOT NULL DEFAULT '';
        ALTER TABLE orders ADD COLUMN customer_name TEXT NOT NULL DEFAULT '';
        ALTER TABLE orders ADD COLUMN address TEXT NOT NULL DEFAULT '';
        ALTER TABLE orders ADD COLUMN customer_tier TEXT;
        ALTER TABLE orders ADD COLUMN special_needs TEXT;
        ALTER TABLE orders ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE orders ADD COLUMN response_deadline INTEGER;
        ALTER TABLE orders ADD COLUMN on_site_at INTEGER;
        ALTER TABLE orders ADD COLUMN completed_at INTEGER;
        ALTER TABLE orders ADD COLUMN clock_clamped INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE orders ADD COLUMN finished INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE orders ADD COLUMN sign_off_rating INTEGER;
        UPDATE orders SET
            kind = COALESCE(json_extract(state, '$.fields.kind.value'), ''),
            customer_name = COALESCE(json_extract(state, '$.fields.customer_name.value'), ''),
            address = COALESCE(json_extract(state, '$.fields.address.value'), ''),
            customer_tier = json_extract(state, '$.fields.customer_tier.value'),
            special_needs = json_extract(state, '$.fields.special_needs.value'),
            created_at = json_extract(state, '$.createdAt'),
            response_deadline = CAST(json_extract(state, '$.fields.response_deadline.value') AS INTEGER),
            on_site_at = json_extract(state, '$.onSiteAt'),
            completed_at = json_extract(state, '$.completedAt'),
            clock_clamped = EXISTS (
                SELECT 1 FROM json_each(state, '$.history')
                WHERE json_extract(value, '$.clockClamped') = 1),
            finished = status IN ('completed', 'signed_off', 'followed_up', 'closed', 'cancelled'),
            sign_off_rating = json_extract(state, '$.signOff.signOff.rating');
        CREATE INDEX orders_board ON orders(finished, urgency, id);
        CREATE INDEX orders_assignee_finished ON orders(assignee, finished);
        CREATE INDEX conflicts_open ON conflicts(order_id, resolved_at);
        """

    /// Migration "v5-scope": bounded scopes and delta pulls (sync-protocol.md §3).
    /// An order finished longer ago than the retention is `archived`: it leaves every
    /// device's scope, with a `revocations` row (reason `archived`) per scope it leaves;
    /// `'*'` stands for the all-orders scope of dispatchers. `entered_seq` and
    /// `assigned_seq` say where the order's current membership of a scope began: a device
    /// whose cursor is at or past it holds the order, so a pull sends it only the events
    /// after its cursor. Existing rows start conservatively (membership begins at their
    /// version: whole histories, as before).
    static let v5Scope = """
        ALTER TABLE orders ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE orders ADD COLUMN finished_at INTEGER;
        ALTER TABLE orders ADD COLUMN entered_seq INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE orders ADD COLUMN assigned_seq INTEGER NOT NULL DEFAULT 0;
        UPDATE orders SET entered_seq = version, assigned_seq = version,
            finished_at = CASE WHEN finished = 1 THEN updated_at END;
        CREATE INDEX orders_archive ON orders(archived, finished, finished_at);
        ALTER TABLE revocations ADD COLUMN entered_seq INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE revocations ADD COLUMN reason TEXT NOT NULL DEFAULT 'reassigned';
        """

    /// Migration "v6-pull-index": a dispatcher's pull reads whole orders in the order
    /// they joined the scope (`entered_seq`, v5-scope) and the new events of orders changed
    /// after the cursor; these two indexes let each page read just its rows, in order,
    /// instead of scanning and sorting every order (measured: 1–2 ms a page at 20,000
    /// orders, against a sort of the whole table before).
    static let v6PullIndex = """
        CREATE INDEX orders_entered ON orders(archived, entered_seq);
        CREATE INDEX orders_changed ON orders(archived, version, entered_seq);
        """

    /// Migration "v7-board-index": the board ranks every unfinished order (the rank
    /// depends on the time of the request) and sums its KPIs over every order; these two
    /// narrow covering indexes let both read index entries instead of the orders' rows,
    /// which carry each order's folded JSON (measured at 50,000 orders: the page 90 → 19 ms,
    /// the KPIs 66 → 12 ms).
    static let v7BoardIndex = """
        CREATE INDEX orders_rank ON orders(finished, urgency, response_deadline, on_site_at, created_at, status, assignee, id);
        CREATE INDEX orders_kpi ON orders(finished, on_site_at, response_deadline, sign_off_rating);
        """

    /// Migration "v8-technician-pull-index": a technician's pull reads his whole orders in
    /// the order they were assigned to him and his changed orders, through these indexes
    /// instead of sorting all his orders on every page (a first sync of 50,000 of them on a
    /// 500,000-order server spent 0.7 s of server time a page).
    static let v8TechnicianPullIndex = """
        CREATE INDEX orders_tech_scope ON orders(assignee, archived, assigned_seq);
        CREATE INDEX orders_tech_changed ON orders(assignee, archived, version, assigned_seq);
        """

    /// Migration "v9-order-children": an order's lines (log, part, charge, photo, reading)
    /// as rows of their own, so a push that appends one line writes that line, not the
    /// order's whole history again; `orders.state` then holds the fold without them
    /// (`child_rows = 1`). A row written before keeps its lines in `state` (`child_rows = 0`)
    /// until the next push that touches the order moves them here.
    static let v9OrderChildren = """
        CREATE TABLE order_children (
            order_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            child_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (order_id, position)
        );
        CREATE UNIQUE INDEX order_children_id ON order_children(order_id, child_id);
        ALTER TABLE orders ADD COLUMN child_rows INTEGER NOT NULL DEFAULT 0;
        """

    /// Migration "v10-board-rank": the board costs the orders at risk plus one page, not a
    /// rank of every open order and a sum over every order (360 ms at 500,000 orders).
    ///
    /// - `warn_at`: from when an order waiting for its crew is due soon (NULL when it is
    ///   not waiting against a deadline), computed with the standard warning share of a
    ///   quarter of the window here and by ``DeadlinePolicy/warnAt`` on every write. The
    ///   orders at risk are the index range `warn_at <= now`; the others rank after them by
    ///   urgency, deadline and id straight from an index (open orders, one crew's, one
    ///   status, or every order).
    /// - `board_kpi`: the counts the KPIs need that do not depend on the time (arrivals met
    ///   and missed, sign-offs, satisfied sign-offs), kept by triggers on every write of
    ///   `orders`. The overdue count, which does, comes from the orders at risk.
    /// - The old board's indexes (v4's `orders_board` and `orders_assignee_finished`, v7's
    ///   `orders_rank` and `orders_kpi`) go: nothing reads them now, and the planner
    ///   preferred `orders_board` to the new ones and sorted every open order.
    static let v10BoardRank = """
        ALTER TABLE orders ADD COLUMN warn_at INTEGER;
        UPDATE orders SET warn_at = response_deadline - CAST(MAX(response_deadline - created_at, 1) * 0.25 AS INTEGER)
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
            id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
            met INTEGER NOT NULL,
            missed INTEGER NOT NULL,
            signed INTEGER NOT NULL,
            satisfied INTEGER NOT NULL
        );
        INSERT INTO board_kpi (id, met, missed, signed, satisfied)
        SELECT 1,
            COALESCE(SUM(CASE WHEN on_site_at <= response_deadline THEN 1 ELSE 0 END), 0),
            COALESCE(SUM(CASE WHEN on_site_at > response_deadline THEN 1 ELSE 0 END), 0),
            COALESCE(SUM(CASE WHEN sign_off_rating IS NOT NULL THEN 1 ELSE 0 END), 0),
            COALESCE(SUM(CASE WHEN sign_off_rating >= 4 THEN 1 ELSE 0 END), 0)
        FROM orders;
        CREATE TRIGGER orders_kpi_insert AFTER INSERT ON orders
        WHEN NEW.on_site_at IS NOT NULL OR NEW.sign_off_rating IS NOT NULL BEGIN
            UPDATE board_kpi SET
                met = met + (CASE WHEN NEW.on_site_at <= NEW.response_deadline THEN 1 ELSE 0 END),
                missed = missed + (CASE WHEN NEW.on_site_at > NEW.response_deadline THEN 1 ELSE 0 END),
                signed = signed + (CASE WHEN NEW.sign_off_rating IS NOT NULL THEN 1 ELSE 0 END),
                satisfied = satisfied + (CASE WHEN NEW.sign_off_rating >= 4 THEN 1 ELSE 0 END)
            WHERE id = 1;
        END;
        CREATE TRIGGER orders_kpi_update AFTER UPDATE OF on_site_at, response_deadline, sign_off_rating ON orders
        WHEN OLD.on_site_at IS NOT NEW.on_site_at OR OLD.response_deadline IS NOT NEW.response_deadline
            OR OLD.sign_off_rating IS NOT NEW.sign_off_rating BEGIN
            UPDATE board_kpi SET
                met = met + (CASE WHEN NEW.on_site_at <= NEW.response_deadline THEN 1 ELSE 0 END)
                          - (CASE WHEN OLD.on_site_at <= OLD.response_deadline THEN 1 ELSE 0 END),
                missed = missed + (CASE WHEN NEW.on_site_at > NEW.response_deadline THEN 1 ELSE 0 END)
                                - (CASE WHEN OLD.on_site_at > OLD.response_deadline THEN 1 ELSE 0 END),
                signed = signed + (CASE WHEN NEW.sign_off_rating IS NOT NULL THEN 1 ELSE 0 END)
                                - (CASE WHEN OLD.sign_off_rating IS NOT NULL THEN 1 ELSE 0 END),
                satisfied = satisfied + (CASE WHEN NEW.sign_off_rating >= 4 THEN 1 ELSE 0 END)
                                      - (CASE WHEN OLD.sign_off_rating >= 4 THEN 1 ELSE 0 END)
            WHERE id = 1;
        END;
        CREATE TRIGGER orders_kpi_delete AFTER DELETE ON orders
        WHEN OLD.on_site_at IS NOT NULL OR OLD.sign_off_rating IS NOT NULL BEGIN
            UPDATE board_kpi SET
                met = met - (CASE WHEN OLD.on_site_at <= OLD.response_deadline THEN 1 ELSE 0 END),
                missed = missed - (CASE WHEN OLD.on_site_at > OLD.response_deadline THEN 1 ELSE 0 END),
                signed = signed - (CASE WHEN OLD.sign_off_rating IS NOT NULL THEN 1 ELSE 0 END),
                satisfied = satisfied - (CASE WHEN OLD.sign_off_rating >= 4 THEN 1 ELSE 0 END)
            WHERE id = 1;
        END;
        """

    /// Migration "v11-crew-history": one crew's board with its finished orders
    /// (`GET /v1/board?all=1&crew=`) costs a page, not the crew's whole history. No index
    /// held every order of one crew in board order (`orders_crew_rank` holds its open ones
    /// only), so each page read all the crew's orders and sorted them (on a generated depot
    /// of 365,000 orders and 200 crews: 1,825 rows and 2,304 pages of the file a page).
    ///
    /// The crew's finished orders get an index of their own, in the order of its open ones
    /// in `orders_crew_rank`; the board reads a page of each and merges the two. An order is
    /// in exactly one of the two, so a write to an open order costs what it did, and a
    /// write to a finished one maintains one index more. (One index of all a crew's orders
    /// would cost every write an index more, and SQLite, planning without statistics, took
    /// it instead of `orders_crew_rank` for the crew's open orders, reading the crew's whole
    /// history there instead.)
    static let v11CrewHistory = """
        CREATE INDEX orders_crew_history ON orders(assignee, urgency, COALESCE(response_deadline, 9223372036854775807), id, warn_at) WHERE finished = 1;
        """

    /// Migration "v12-crew-status": one crew's orders of one status in board order, so
    /// `GET /v1/board?status=S&crew=X` costs a page. It read `orders_status_rank` and
    /// checked the crew row by row: for a finished status (`closed`, `cancelled`), the
    /// status's whole history, which grows by about a thousand orders a day (on a generated
    /// depot of 365,000 orders and 200 crews, one crew's closed orders read 1,800 pages of
    /// the file where a page of rows needs a few).
    ///
    /// Every write that changes an order's crew, status or rank maintains one index more.
    static let v12CrewStatus = """
        CREATE INDEX orders_crew_status_rank ON orders(assignee, status, urgency, COALESCE(response_deadline, 9223372036854775807), id, warn_at);
        """

    /// Migration "v13-unread-indexes": drops `orders_version` and `orders_assignee_version`
    /// (v1), which no statement reads: the pulls read v6's and v8's indexes, which lead with
    /// `archived` (a plan test pins them). Every order write moves `version`, so each write
    /// maintained both for nothing.
    static let v13UnreadIndexes = """
        DROP INDEX orders_version;
        DROP INDEX orders_assignee_version;
        """

    /// Migration "v14-open-conflicts": the open conflicts in the order the dispatcher lists
    /// them, so `GET /v1/conflicts` reads those, not every conflict ever recorded, and does
    /// not sort them. `conflicts_order` (v1) goes: `conflicts_open` (v4) starts with the same
    /// column and serves every lookup by order.
    static let v14OpenConflicts = """
        CREATE INDEX conflicts_unresolved ON conflicts(created_at, id) WHERE resolved_at IS NULL;
        DROP INDEX conflicts_order;
        """

    /// Migration "v15-conflict-sides": who won and who lost each conflict, as columns with
    /// an index each, so a technician's `GET /v1/conflicts` reads his own (the orders
    /// assigned to him, and those two indexes) instead of reading the JSON of every
    /// conflict ever recorded. Filled from the JSON for the conflicts already recorded.
    static let v15ConflictSides = """
        ALTER TABLE conflicts ADD COLUMN winner_actor TEXT;
        ALTER TABLE conflicts ADD COLUMN loser_actor TEXT;
        UPDATE conflicts SET winner_actor = json_extract(body, '$.winner.actor'), loser_actor = json_extract(body, '$.loser.actor');
        CREATE INDEX conflicts_winner ON conflicts(winner_actor);
        CREATE INDEX conflicts_loser ON conflicts(loser_actor);
        """

    /// Migration "v16-conflict-time": every conflict, open or reviewed, in list order, so a
    /// page of `GET /v1/conflicts?all=1&limit=` reads its rows backwards from where the
    /// page before ended instead of every conflict ever recorded.
    static let v16ConflictTime = """
        CREATE INDEX conflicts_time ON conflicts(created_at, id);
        """
}
