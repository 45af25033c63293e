-- FieldSync central server database (SQLite, WAL).
--
-- This documents migration "v1" of Sources/FieldSyncServer/ServerSchema.swift
-- (ServerDatabase runs it); FieldSyncServerTests checks that the migrated tables and
-- columns are exactly the ones below. Migrations are append-only: a change is a new
-- migration here and there, never an edit of a shipped one.
--
-- JSON columns hold the Core wire types encoded with sorted keys; times are
-- milliseconds since 1970 (INTEGER).
--
-- users        people allowed to sync; only the SHA-256 (hex) of the bearer token;
--              disabled_at (v2-users) set while an administrator has disabled them.
-- devices      owner of each device id (first user to push with it), the next
--              device_seq expected (gap-free from 1), last accepted HLC (JSON).
-- events       every accepted intent as stored (JSON of Intent, times clamped when the
--              device clock ran ahead); seq numbers all changes in commit order.
-- outcomes     the answer given to each (device_id, device_seq) and the SHA-256 of the
--              intent it answered (sorted-key JSON): exactly-once replay.
-- orders       fold of each order's events (JSON of WorkOrder); version = seq of the
--              order's latest event. Pulls select on (assignee, version) / (version).
--              child_rows (v9-order-children) = 1: the fold's lines are rows of
--              order_children and `state` holds the fold without them; 0: an older row
--              whose `state` still holds them (moved on the next push to the order).
-- order_children (v9-order-children) an order's lines (JSON of ChildRecord), in the
--              fold's order by position: a push that appends a line writes that row only.
-- revocations  the order left the technician's scope with event seq.
-- conflicts    conflict records (JSON of Conflict) and the dispatcher's resolution.
-- scope_sums   additive checksum per scope: a technician's name, or '*' for all
--              orders; the UInt64 sum stored as its Int64 bit pattern.
-- board_sessions  (v2-users) dispatchers signed in to the /board page: only the
--              SHA-256 (hex) of the random session id in their cookie, the user, and
--              when it expires (8 hours on); an expired row is refused and deleted.

CREATE TABLE users (
    name TEXT PRIMARY KEY NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('technician', 'dispatcher')),
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    disabled_at INTEGER           -- v2-users: set while the account is disabled
);

CREATE TABLE devices (
    device_id TEXT PRIMARY KEY NOT NULL,
    owner TEXT NOT NULL,
    next_seq INTEGER NOT NULL DEFAULT 1,
    last_hlc TEXT,
    number INTEGER                -- v3-trust: short number in generated order ids
);
CREATE UNIQUE INDEX devices_number ON devices(number);

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
    op_id TEXT,                   -- v3-trust: for the recovery of a restored device
    PRIMARY KEY (device_id, device_seq)
);
CREATE INDEX outcomes_device_op ON outcomes(device_id, op_id);

CREATE TABLE orders (
    id TEXT PRIMARY KEY NOT NULL,
    assignee TEXT,
    status TEXT NOT NULL,
    urgency INTEGER NOT NULL,
    version INTEGER NOT NULL,
    state TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    -- v4-scale: the board's summary of the fold, written with every order write
    kind TEXT NOT NULL DEFAULT '',
    customer_name TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    customer_tier TEXT,
    special_needs TEXT,
    created_at INTEGER NOT NULL DEFAULT 0,   -- ms, when the order was opened
    response_deadline INTEGER,               -- ms
    on_site_at INTEGER,                      -- ms, first arrival
    completed_at INTEGER,                    -- ms
    clock_clamped INTEGER NOT NULL DEFAULT 0, -- 1: a status event's time was clamped
    finished INTEGER NOT NULL DEFAULT 0,     -- 1: completed, signed_off, followed_up, closed, cancelled
    sign_off_rating INTEGER,                 -- rating of the standing sign-off
    -- v5-scope: bounded scopes and delta pulls
    archived INTEGER NOT NULL DEFAULT 0,     -- 1: finished more than the retention ago; in no device's scope
    finished_at INTEGER,                     -- ms (server time) the order last became finished
    entered_seq INTEGER NOT NULL DEFAULT 0,  -- position where it (re)entered the all-orders scope
    assigned_seq INTEGER NOT NULL DEFAULT 0, -- position where its assignee's scope took it (re)
    -- v9-order-children
    child_rows INTEGER NOT NULL DEFAULT 0,   -- 1: the lines are in order_children, not in state
    -- v10-board-rank
    warn_at INTEGER                          -- ms from when it is due soon; NULL unless waiting for its crew against a deadline
);
-- (v1's orders_assignee_version and orders_version: dropped by v13-unread-indexes; no statement read them)
CREATE INDEX orders_archive ON orders(archived, finished, finished_at);   -- v5-scope
CREATE INDEX orders_entered ON orders(archived, entered_seq);             -- v6-pull-index
CREATE INDEX orders_changed ON orders(archived, version, entered_seq);    -- v6-pull-index
CREATE INDEX orders_tech_scope ON orders(assignee, archived, assigned_seq);                             -- v8-technician-pull-index
CREATE INDEX orders_tech_changed ON orders(assignee, archived, version, assigned_seq);                  -- v8-technician-pull-index
-- v10-board-rank (replacing v4's orders_board and orders_assignee_finished, v7's orders_rank and orders_kpi): the orders at risk are the range
-- warn_at <= now; the rest rank by urgency, deadline (none last) and id straight from an index.
CREATE INDEX orders_at_risk ON orders(warn_at, response_deadline, urgency, status, assignee, id) WHERE warn_at IS NOT NULL;
CREATE INDEX orders_open_rank ON orders(urgency, COALESCE(response_deadline, 9223372036854775807), id, warn_at) WHERE finished = 0;
CREATE INDEX orders_crew_rank ON orders(assignee, urgency, COALESCE(response_deadline, 9223372036854775807), id, warn_at) WHERE finished = 0;
CREATE INDEX orders_status_rank ON orders(status, urgency, COALESCE(response_deadline, 9223372036854775807), id, warn_at);
CREATE INDEX orders_all_rank ON orders(urgency, COALESCE(response_deadline, 9223372036854775807), id, warn_at);
-- v11-crew-history: a crew's finished orders in the order of orders_crew_rank (its open ones);
-- the board with all=1&crew= reads a page of each and merges them.
CREATE INDEX orders_crew_history ON orders(assignee, urgency, COALESCE(response_deadline, 9223372036854775807), id, warn_at) WHERE finished = 1;
-- v12-crew-status: a crew's orders of one status in board order (the board with status=S&crew=X
-- read the status's whole history for a finished status).
CREATE INDEX orders_crew_status_rank ON orders(assignee, status, urgency, COALESCE(response_deadline, 9223372036854775807), id, warn_at);

CREATE TABLE order_children (                -- v9-order-children
    order_id TEXT NOT NULL,
    position INTEGER NOT NULL,               -- the fold's order of the lines
    child_id TEXT NOT NULL,
    kind TEXT NOT NULL,                      -- log | part | charge | photo | reading
    body TEXT NOT NULL,                      -- JSON of ChildRecord
    PRIMARY KEY (order_id, position)
);
CREATE UNIQUE INDEX order_children_id ON order_children(order_id, child_id);

CREATE TABLE revocations (
    technician TEXT NOT NULL,                -- the scope left: a technician, or '*' (all orders)
    order_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    entered_seq INTEGER NOT NULL DEFAULT 0,  -- v5-scope: where the ended membership began
    reason TEXT NOT NULL DEFAULT 'reassigned', -- v5-scope: reassigned | archived
    PRIMARY KEY (technician, seq)
);

CREATE TABLE conflicts (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    resolved_by TEXT,
    resolution TEXT,
    resolved_at INTEGER,
    winner_actor TEXT,                     -- v15-conflict-sides: the body's winner.actor
    loser_actor TEXT                       -- v15-conflict-sides: the body's loser.actor
);
CREATE INDEX conflicts_open ON conflicts(order_id, resolved_at);          -- v4-scale
-- v14-open-conflicts: the open conflicts in list order (GET /v1/conflicts); v1's conflicts_order(order_id), a prefix of conflicts_open, dropped
CREATE INDEX conflicts_unresolved ON conflicts(created_at, id) WHERE resolved_at IS NULL;
-- v15-conflict-sides: a technician's conflicts where he won or lost (GET /v1/conflicts)
CREATE INDEX conflicts_winner ON conflicts(winner_actor);
CREATE INDEX conflicts_loser ON conflicts(loser_actor);
-- v16-conflict-time: every conflict in list order, for a page of the whole list (GET /v1/conflicts?all=1&limit=)
CREATE INDEX conflicts_time ON conflicts(created_at, id);

CREATE TABLE scope_sums (
    principal TEXT PRIMARY KEY NOT NULL,
    sum INTEGER NOT NULL
);

CREATE TABLE board_sessions (
    id_sha256 TEXT PRIMARY KEY NOT NULL,
    user TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX board_sessions_user ON board_sessions(user);

-- v10-board-rank: the board's time-independent KPI counts over every order, one row, kept
-- by triggers on orders (orders_kpi_insert / _update / _delete; on PostgreSQL one row
-- trigger, orders_kpi, calling fieldsync_board_kpi()). On PostgreSQL (pg9-kpi-shards) the
-- counts are spread over up to 64 rows, id 1 + (hashtext(order id) & 63), so concurrent
-- pushes do not queue on one row; the board reads the sum of the rows on both engines.
CREATE TABLE board_kpi (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    met INTEGER NOT NULL,                    -- orders whose crew arrived by the deadline
    missed INTEGER NOT NULL,                 -- orders whose crew arrived after it
    signed INTEGER NOT NULL,                 -- orders with a standing sign-off
    satisfied INTEGER NOT NULL               -- of those, rated 4 or 5
);
