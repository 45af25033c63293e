#!/usr/bin/env python3
"""FieldSync against the floor: raw `sqlite3` and raw `curl` on the same data.

Run through tools/bench, which builds the binaries and makes the work folder. Python 3.11
standard library only. Every figure is the median of wall-clock times of whole processes
(time.perf_counter() around subprocess.run), so process start-up is in every number, the
floor's included.

--scale (tools/bench --scale): the server and the devices holding many orders, loaded through
the push API; see ScaleBench and BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ORDERS = 40
READ_RUNS = 30  # step 2
RECORD_RUNS = 30  # step 3
PUSH_INTENTS = 1000  # step 4
PUSH_BATCH = 200  # the client's batch size (SyncEngine.batchSize)
FLOOR_REPEATS = 5  # curl / sqlite3 repeats of the push and pull floors
PULL_DEVICES = 5  # step 5: fresh devices, one first sync each
CMD_TIMEOUT = 120  # seconds; no single command of the bench takes near that

CUSTOMERS = ["市第一人民医院 后勤处 刘主任", "张桂兰", "王建国", "李秀英", "赵志强", "陈美玲",
             "光明小学 总务处", "周德顺", "和平小区 物业 孙经理", "吴淑芬"]
STREETS = ["解放路", "和平路", "光明路", "人民路", "建设大街", "中山路", "滨江路", "新华街"]
LOG_TEXTS = ["检查暖气片阀门, 更换密封圈, 系统排气后回水温度 52°C",
             "循环泵卡死, 更换泵轴承; 客户要求下午三点前完成",
             "到达现场, 与物业确认管道走向, 关闭单元总阀",
             "更换 DN20 球阀两只, 打压测试 0.6 MPa 保压 30 分钟无渗漏"]


class BenchError(Exception):
    pass


def run_measured(bench) -> tuple[int | None, float, float]:
    """Runs every figure of `bench`; returns an exit code when it failed (None when it ran
    through), the seconds it took, and the CPU seconds other processes used meanwhile (the
    server is our child and has been waited for, so its time is ours)."""
    busy0, ours0, t0 = cpu_busy_seconds(), own_cpu_seconds(), time.perf_counter()
    try:
        bench.run_all()
    except BenchError as e:
        print(f"bench: FAILED: {e}", file=sys.stderr)
        return 1, 0.0, 0.0
    except KeyboardInterrupt:
        print("bench: interrupted; the server was stopped", file=sys.stderr)
        return 130, 0.0, 0.0
    elapsed = time.perf_counter() - t0
    return None, elapsed, max(0.0, (cpu_busy_seconds() - busy0) - (own_cpu_seconds() - ours0))


def whole_orders(report: dict) -> int:
    """Orders a sync received whole. A first sync gets each order whole once; an order
    changed while the pages went by comes again as its new events only (`deltaOrders`)."""
    return report.get("pulledOrders", 0) - report.get("deltaOrders", 0)


def op_id(now_ms: int) -> str:
    """An operation id as `fieldsync` makes one (FieldSyncCore's `OperationID`): a version-7
    UUID, the first 48 bits the clock's milliseconds, the rest random."""
    import uuid
    r = int.from_bytes(os.urandom(10), "big")
    raw = (now_ms & 0xFFFF_FFFF_FFFF).to_bytes(6, "big") + bytes(
        [0x70 | (r & 0x0F), (r >> 4) & 0xFF, 0x80 | ((r >> 12) & 0x3F)]) + ((r >> 18) & ((1 << 56) - 1)).to_bytes(7, "big")
    return str(uuid.UUID(bytes=raw))


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], *, stdin_path: Path | None = None, what: str = "",
        timeout: float | None = None) -> subprocess.CompletedProcess:
    """Runs cmd to completion; raises BenchError with its stderr when it fails."""
    timeout = timeout or CMD_TIMEOUT
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    try:
        p = subprocess.run(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise BenchError(f"{what or cmd[0]}: timed out after {timeout:.0f} s: {short(cmd)}") from e
    finally:
        if stdin_path:
            stdin.close()
    if p.returncode != 0:
        raise BenchError(
            f"{what or Path(cmd[0]).name} exited {p.returncode}: {short(cmd)}\n"
            f"--- stderr ---\n{p.stderr.decode(errors='replace').strip()}\n"
            f"--- stdout (first 2000 bytes) ---\n{p.stdout[:2000].decode(errors='replace').strip()}")
    return p


def timed(cmd: list[str], *, stdin_path: Path | None = None, what: str = "",
          timeout: float | None = None) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    p = run(cmd, stdin_path=stdin_path, what=what, timeout=timeout)
    return time.perf_counter() - t0, p


def alternate(a, b, n: int) -> tuple[list[float], list[float]]:
    """n timings of a() and of b(), interleaved, so a load that comes and goes hits both."""
    ta, tb = [], []
    for _ in range(n):
        ta.append(a())
        tb.append(b())
    return ta, tb


def short(cmd: list[str]) -> str:
    text = " ".join(cmd)
    return text if len(text) < 400 else text[:400] + "…"


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def sql_quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


# --------------------------------------------------------------------------- the server

class Server:
    """fieldsync-server on 127.0.0.1 with --port 0; ready when it prints its URL."""

    READY = re.compile(r"fieldsync-server listening on (http://127\.0\.0\.1:\d+)")

    def __init__(self, binary: str, db: Path, work: Path, extra: tuple[str, ...] = ()):
        self.work = work
        self.stderr_path = work / "server.stderr"
        self.stdout_path = work / "server.stdout"
        self.stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [binary, "serve", "--db", str(db), "--host", "127.0.0.1", "--port", "0", *extra],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.stderr)
        (work / "server.pid").write_text(str(self.proc.pid))
        self.lines: queue.Queue[str | None] = queue.Queue()
        # Drains stdout for the server's whole life so it never blocks on a full pipe.
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()
        self.url = self._wait_ready(timeout=60)

    def _drain(self) -> None:
        with open(self.stdout_path, "wb") as out:
            for raw in self.proc.stdout:
                out.write(raw)
                out.flush()
                self.lines.put(raw.decode(errors="replace"))
        self.lines.put(None)

    def _wait_ready(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise BenchError(f"fieldsync-server did not say it was listening within {timeout:.0f} s\n{self.tail()}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                rc = self.proc.wait()
                raise BenchError(f"fieldsync-server exited {rc} before listening\n{self.tail()}")
            m = self.READY.search(line)
            if m:
                return m.group(1)

    def tail(self) -> str:
        self.stderr.flush()
        text = self.stderr_path.read_text(errors="replace").strip().splitlines()
        return "--- server stderr (last 20 lines) ---\n" + "\n".join(text[-20:])

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                log("fieldsync-server did not stop within 15 s of SIGTERM; killing it")
                self.proc.kill()
                self.proc.wait()
        self.reader.join(timeout=5)
        self.stderr.close()
        (self.work / "server.pid").unlink(missing_ok=True)
        return self.proc.returncode


# --------------------------------------------------------------------------- the bench

class Bench:
    def __init__(self, args: argparse.Namespace):
        self.fs = args.fieldsync
        self.server_bin = args.server
        self.work = Path(args.work)
        self.results: list[dict] = []
        self.notes: list[str] = []
        self.server: Server | None = None

    # helpers -----------------------------------------------------------------

    def fieldsync(self, *argv: str) -> list[str]:
        return [self.fs, *argv]

    def sqlite_db(self, path: Path, ddl: str, fresh: bool = True) -> Path:
        """A WAL-mode database with the floor's table (made outside any timing)."""
        for suffix in ("", "-wal", "-shm") if fresh else ():
            Path(str(path) + suffix).unlink(missing_ok=True)
        out = run(["sqlite3", str(path), f"PRAGMA journal_mode=WAL; {ddl}"], what="sqlite3 (setup)")
        if out.stdout.strip() != b"wal":
            raise BenchError(f"{path}: journal_mode is {out.stdout!r}, not wal")
        return path

    def curl(self, *argv: str) -> list[str]:
        return ["curl", "-s", *argv]

    def record(self, name: str, fs_samples: list[float], floor: dict[str, list[float]], note: str = "") -> dict:
        fs_med = statistics.median(fs_samples)
        parts = {k: statistics.median(v) for k, v in floor.items()}
        total = sum(parts.values())
        row = {
            "name": name,
            "fieldsync_ms": ms(fs_med),
            "fieldsync_runs": len(fs_samples),
            "fieldsync_samples_ms": [ms(s) for s in fs_samples],
            "floor_parts_ms": {k: ms(v) for k, v in parts.items()},
            "floor_runs": {k: len(v) for k, v in floor.items()},
            "floor_samples_ms": {k: [ms(s) for s in v] for k, v in floor.items()},
            "floor_ms": ms(total),
            "ratio": round(fs_med / total, 2) if total > 0 else None,
            "note": note,
        }
        self.results.append(row)
        log(f"  {name}: fieldsync {row['fieldsync_ms']} ms, floor {row['floor_ms']} ms "
            f"({', '.join(f'{k} {v} ms' for k, v in row['floor_parts_ms'].items())}), ratio {row['ratio']}×")
        return row

    # steps -------------------------------------------------------------------

    def setup(self) -> None:
        srv_db = self.work / "server" / "fieldsync.sqlite"
        srv_db.parent.mkdir()
        self.server = Server(self.server_bin, srv_db, self.work)
        self.url = self.server.url
        log(f"server listening at {self.url}")
        add = lambda role, name: run([self.server_bin, "user", "add", "--db", str(srv_db), "--role", role, name],
                                     what="fieldsync-server user add").stdout.decode().strip()
        self.dispatcher_token = add("dispatcher", "wang")
        self.token = add("technician", "li")
        if not re.fullmatch(r"\S{16,}", self.token):
            raise BenchError(f"`fieldsync-server user add` printed {self.token!r}, not a token")
        self.D = str(self.work / "dispatcher")
        self.H = str(self.work / "technician")
        run(self.fieldsync("login", "--home", self.D, "--server", self.url, "--token", self.dispatcher_token))
        run(self.fieldsync("login", "--home", self.H, "--server", self.url, "--token", self.token))

    def step1_orders(self) -> None:
        log(f"1. dispatcher opens {ORDERS} orders assigned to li; technician syncs")
        t0 = time.perf_counter()
        self.order_ids = []
        for i in range(ORDERS):
            oid = f"WO-BENCH-{i + 1:03d}"
            run(self.fieldsync(
                "dispatch", "create", "--home", self.D, "--id", oid, "--urgency", str(i % 3 + 1),
                "--customer", CUSTOMERS[i % len(CUSTOMERS)],
                "--address", f"{STREETS[i % len(STREETS)]} {i + 3} 号 {i % 6 + 1} 单元 {i % 20 + 101}",
                "--symptom", "暖气不热, 回水温度低", "--assign", "li"))
            self.order_ids.append(oid)
        create_s = time.perf_counter() - t0
        report = json.loads(run(self.fieldsync("sync", "--home", self.H, "--json")).stdout)
        if whole_orders(report) != ORDERS:
            raise BenchError(f"the technician's first sync pulled {report.get('pulledOrders')} orders, not {ORDERS}: {report}")
        log(f"   {ORDERS} `dispatch create` in {create_s:.1f} s ({ms(create_s / ORDERS)} ms each, online)")
        self.notes.append(f"{ORDERS} × `fieldsync dispatch create` (online, one POST each): "
                          f"{ms(create_s / ORDERS)} ms each on average (not compared to a floor).")

    def step0_start(self) -> None:
        log(f"0. bare process start: `fieldsync --version` vs `sqlite3 --version`, {READ_RUNS} runs each")
        fs_cmd, fl_cmd = self.fieldsync("--version"), ["sqlite3", "--version"]
        run(fs_cmd), run(fl_cmd)  # warm-up
        fs, fl = alternate(lambda: timed(fs_cmd)[0], lambda: timed(fl_cmd)[0], READ_RUNS)
        self.record("0. bare start: `--version` (reference)", fs, {"sqlite3 --version": fl},
                    note="no store opened: what every fieldsync command pays before doing anything")

    def step2_read(self) -> None:
        log(f"2. start-up / offline read: `fieldsync jobs` vs sqlite3 SELECT, {READ_RUNS} runs each")
        jobs = self.fieldsync("jobs", "--home", self.H)
        out = run(jobs).stdout.decode()  # warm-up, and a check of what it shows
        shown = sum(1 for oid in self.order_ids if oid in out)
        if shown != ORDERS:
            raise BenchError(f"`fieldsync jobs` lists {shown} of the {ORDERS} orders:\n{out[:2000]}")
        db = os.path.join(self.H, "fieldsync.sqlite")
        floor = ["sqlite3", db, "SELECT state FROM order_view ORDER BY urgency"]
        rows = run(floor).stdout.count(b"\n")
        if rows < ORDERS:
            raise BenchError(f"the floor query returned {rows} lines, expected ≥ {ORDERS}")
        fs, fl = alternate(lambda: timed(jobs)[0], lambda: timed(floor)[0], READ_RUNS)
        self.record("2. start-up: `jobs` (offline read, 40 orders)", fs, {"sqlite3 SELECT": fl})

    def step3_record(self) -> None:
        log(f"3. record one action offline: `fieldsync log` vs sqlite3 INSERT (WAL), {RECORD_RUNS} runs each")
        self.log_count = 0
        first = self._log_once()  # warm-up
        db = Path(self.H) / "fieldsync.sqlite"
        with sqlite3.connect(db) as c:
            body = c.execute("SELECT body FROM outbox ORDER BY device_seq DESC LIMIT 1").fetchone()[0]
        # A copy of the technician's store in WAL mode, with a table for the floor's row;
        # the row is a real log intent's body, so the same size.
        copy = self.work / "floor-record.sqlite"
        run(["sqlite3", str(db), f".backup {sql_quote(str(copy))}"], what="sqlite3 .backup")
        self.sqlite_db(copy, "CREATE TABLE t(x TEXT);", fresh=False)
        insert = ["sqlite3", str(copy), f"INSERT INTO t(x) VALUES({sql_quote(body)})"]
        run(insert)  # warm-up
        fs, fl = alternate(self._log_once, lambda: timed(insert)[0], RECORD_RUNS)
        self.record("3. record one action: `log` (offline write)", fs, {"sqlite3 INSERT": fl},
                    note=f"floor row: {len(body.encode())} bytes (a real log intent's body)")
        self.record_samples = [first, *fs]

    def _log_once(self) -> float:
        i = self.log_count
        self.log_count += 1
        oid = self.order_ids[i % ORDERS]
        text = f"{LOG_TEXTS[i % len(LOG_TEXTS)]} (#{i + 1})"
        return timed(self.fieldsync("log", "--home", self.H, oid, text))[0]

    def step4_push(self) -> None:
        db = Path(self.H) / "fieldsync.sqlite"
        with sqlite3.connect(db) as c:
            have = c.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0]
        more = PUSH_INTENTS - have
        if more < 0:
            raise BenchError(f"{have} intents already wait in the outbox, more than {PUSH_INTENTS}")
        log(f"4. push: recording {more} more log lines ({have} are in the outbox from step 3) …")
        t0 = time.perf_counter()
        samples = [self._log_once() for _ in range(more)]
        log(f"   {more} `fieldsync log` calls in {time.perf_counter() - t0:.1f} s "
            f"(median {ms(statistics.median(samples))} ms)")
        all_logs = self.record_samples + samples
        self.log_samples_ms = [ms(s) for s in all_logs]
        first, last = all_logs[:100], all_logs[-100:]
        self.notes.append(f"all {len(all_logs)} `fieldsync log` calls (outbox growing from 0 to {PUSH_INTENTS}): "
                          f"median {ms(statistics.median(all_logs))} ms; first 100 {ms(statistics.median(first))} ms, "
                          f"last 100 {ms(statistics.median(last))} ms (medians); max {ms(max(all_logs))} ms.")

        # The exact push requests, from the store, BEFORE the sync.
        with sqlite3.connect(db) as c:
            account = json.loads(c.execute("SELECT value FROM meta WHERE key = 'account'").fetchone()[0])
            cursor_before = int(c.execute("SELECT value FROM meta WHERE key = 'cursor'").fetchone()[0])
            rows = c.execute("SELECT op_id, body FROM outbox WHERE state = 'pending' ORDER BY device_seq").fetchall()
        if len(rows) != PUSH_INTENTS:
            raise BenchError(f"outbox holds {len(rows)} pending intents, expected {PUSH_INTENTS}")
        device = json.dumps(account["deviceId"])
        bodies = []
        for b in range(0, len(rows), PUSH_BATCH):
            path = self.work / f"push-{b // PUSH_BATCH + 1}.json"
            path.write_text('{"deviceId":' + device + ',"intents":['
                            + ",".join(body for _, body in rows[b:b + PUSH_BATCH]) + "]}", encoding="utf-8")
            bodies.append(path)
        self.push_rows, self.push_curl_s, self.push_sync_s = rows, None, None
        push_bytes = sum(p.stat().st_size for p in bodies)
        sql = self.work / "push-insert.sql"
        sql.write_text("BEGIN;\n" + "".join(f"INSERT INTO intent(op_id, body) VALUES({sql_quote(o)},{sql_quote(b)});\n"
                                            for o, b in rows) + "COMMIT;\n", encoding="utf-8")

        log(f"   timing one `fieldsync sync` ({PUSH_INTENTS} intents in {len(bodies)} POSTs, "
            f"{push_bytes / 1024:.0f} KiB, then the pull of the changed orders) …")
        sync_s, p = timed(self.fieldsync("sync", "--home", self.H, "--json"))
        report = json.loads(p.stdout)
        if report.get("pushed") != PUSH_INTENTS or report.get("applied") != PUSH_INTENTS or report.get("rejected"):
            raise BenchError(f"the sync did not apply {PUSH_INTENTS} intents: {report}")
        self.notes.append(f"push sync report: {json.dumps(report, ensure_ascii=False, sort_keys=True)}")

        # (a) transport + decode: the same bytes over one curl process, one connection.
        cfg = self.work / "push-curl.cfg"
        lines = []
        for i, path in enumerate(bodies):
            if i:
                lines.append("next")
            lines += [f'url = "{self.url}/v1/sync/push"',
                      f'header = "Authorization: Bearer {self.token}"',
                      'header = "Content-Type: application/json"',
                      f'data-binary = "@{path}"',
                      'output = "/dev/null"',
                      'write-out = "%{http_code} %{num_connects}\\n"']
        cfg.write_text("\n".join(lines) + "\n")
        replay = self.curl("-K", str(cfg))
        self._check_replay(bodies)  # untimed: every outcome is a stored duplicate
        push_curl = []
        for _ in range(FLOOR_REPEATS):
            t, p = timed(replay, what="curl push replay")
            self._check_codes(p.stdout, len(bodies), "push replay")
            push_curl.append(t)

        # (b) storage: the same 1,000 bodies, one transaction, WAL.
        ddl = "CREATE TABLE intent(op_id TEXT PRIMARY KEY, body TEXT);"
        push_sql = []
        for r in range(FLOOR_REPEATS + 1):
            target = self.sqlite_db(self.work / f"floor-push-{r}.sqlite", ddl)
            t, _ = timed(["sqlite3", str(target)], stdin_path=sql, what="sqlite3 insert 1,000")
            if r:  # the first is a warm-up
                push_sql.append(t)
        self.push_curl_s, self.push_sync_s = push_curl, sync_s
        self.record(f"4. push: one `sync`, {PUSH_INTENTS:,} intents ({len(bodies)}×{PUSH_BATCH})", [sync_s],
                    {"curl 5 POSTs": push_curl, "sqlite3 1,000 rows": push_sql},
                    note=f"{push_bytes:,} request bytes; fieldsync timed once (the sync also pulls the 40 changed orders)")

        # The same sync also pulled every changed order: its floor, for reading 4 fairly.
        pull_path = f"/v1/sync/pull?cursor={cursor_before}&limit={PUSH_BATCH}"
        pull_sql, events, nbytes = self._pull_sql(pull_path, "push-pull")
        pull_curl, pull_ins = self._pull_floor(pull_path, pull_sql, "push-pull")
        self.record(f"4b. the same `sync` vs push + pull floor", [sync_s],
                    {"curl 5 POSTs": push_curl, "sqlite3 1,000 rows": push_sql,
                     "curl GET pull": pull_curl, f"sqlite3 {events} events": pull_ins},
                    note=f"the pull after the push fetches all {ORDERS} orders with {events} events ({nbytes:,} bytes)")

    def _check_replay(self, bodies: list[Path]) -> None:
        for path in bodies:
            p = run(self.curl("-H", f"Authorization: Bearer {self.token}", "-H", "Content-Type: application/json",
                              "--data-binary", f"@{path}", "-w", "\n%{http_code}", f"{self.url}/v1/sync/push"),
                    what="curl push (check)")
            body, _, code = p.stdout.decode().rpartition("\n")
            if code != "200":
                raise BenchError(f"push replay of {path.name}: HTTP {code}: {body[:500]}")
            outcomes = json.loads(body)["outcomes"]
            bad = [o for o in outcomes if not o.get("duplicate") or o.get("result") != "applied"]
            if len(outcomes) != PUSH_BATCH or bad:
                raise BenchError(f"push replay of {path.name}: {len(outcomes)} outcomes, not duplicates: {bad[:2]}")

    @staticmethod
    def _check_codes(stdout: bytes, n: int, what: str) -> None:
        lines = stdout.decode().split()
        codes, connects = lines[0::2], [int(c) for c in lines[1::2]]
        if codes != ["200"] * n:
            raise BenchError(f"{what}: HTTP codes {codes}, expected {n} × 200")
        if sum(connects) != 1:
            raise BenchError(f"{what}: curl opened {sum(connects)} connections, expected 1 (reused)")

    def _pull_sql(self, path: str, tag: str) -> tuple[Path, int, int]:
        """Fetches a pull page once (untimed) and writes the floor's SQL for its events."""
        p = run(self.curl("-H", f"Authorization: Bearer {self.token}", "-w", "\n%{http_code}", self.url + path),
                what="curl pull (check)")
        body, _, code = p.stdout.decode().rpartition("\n")
        if code != "200":
            raise BenchError(f"GET {path}: HTTP {code}: {body[:500]}")
        page = json.loads(body)
        if len(page["orders"]) != ORDERS or page.get("hasMore"):
            raise BenchError(f"GET {path}: {len(page['orders'])} orders, hasMore {page.get('hasMore')}; expected {ORDERS} in one page")
        stmts, events = [], 0
        for order in page["orders"]:
            for ev in order["events"]:
                stmts.append(f"INSERT INTO event(op_id, order_id, body) VALUES({sql_quote(ev['opId'])},"
                             f"{sql_quote(order['id'])},{sql_quote(json.dumps(ev, ensure_ascii=False, sort_keys=True, separators=(',', ':')))});\n")
                events += 1
        sql = self.work / f"{tag}-insert.sql"
        sql.write_text("BEGIN;\n" + "".join(stmts) + "COMMIT;\n", encoding="utf-8")
        return sql, events, len(body.encode())

    def _pull_floor_once(self, path: str, sql: Path, tag: str, r: int) -> tuple[float, float]:
        """One floor pull: curl GET of the page, then sqlite3 storing its events (fresh WAL db)."""
        get = self.curl("-H", f"Authorization: Bearer {self.token}", "-o", "/dev/null",
                        "-w", "%{http_code} %{num_connects}\n", self.url + path)
        t_curl, p = timed(get, what="curl pull")
        self._check_codes(p.stdout, 1, "pull")
        ddl = "CREATE TABLE event(op_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, body TEXT NOT NULL);"
        target = self.sqlite_db(self.work / f"floor-{tag}-{r}.sqlite", ddl)
        t_sql, _ = timed(["sqlite3", str(target)], stdin_path=sql, what="sqlite3 insert events")
        return t_curl, t_sql

    def _pull_floor(self, path: str, sql: Path, tag: str) -> tuple[list[float], list[float]]:
        curl_s, sql_s = [], []
        for r in range(FLOOR_REPEATS + 1):  # the first is a warm-up
            t_curl, t_sql = self._pull_floor_once(path, sql, tag, r)
            if r:
                curl_s.append(t_curl)
                sql_s.append(t_sql)
        return curl_s, sql_s

    def step5_pull(self) -> None:
        log(f"5. pull: {PULL_DEVICES} fresh devices, each one first `fieldsync sync` of the {ORDERS} orders")
        path = f"/v1/sync/pull?cursor=0&limit={PUSH_BATCH}"
        sql, events, nbytes = self._pull_sql(path, "pull")
        samples, curl_s, sql_s = [], [], []
        for d in range(PULL_DEVICES + 1):  # the first is a warm-up; floor runs interleaved
            home = str(self.work / f"fresh-{d}")
            run(self.fieldsync("login", "--home", home, "--server", self.url, "--token", self.token))
            t, p = timed(self.fieldsync("sync", "--home", home, "--json"))
            report = json.loads(p.stdout)
            if whole_orders(report) != ORDERS or report.get("repaired"):
                raise BenchError(f"a fresh device's first sync: {report}")
            t_curl, t_sql = self._pull_floor_once(path, sql, "pull", d)
            if d:
                samples.append(t)
                curl_s.append(t_curl)
                sql_s.append(t_sql)
        self.record(f"5. pull: fresh device's first `sync`", samples,
                    {"curl GET pull": curl_s, f"sqlite3 {events} events": sql_s},
                    note=f"{ORDERS} orders, {events} events, {nbytes:,} response bytes, one page")

    def step6_server_apply(self) -> None:
        """Reference for reading 4: the floor there replays stored duplicates; this times the
        server applying the same 1,000 intents for the first time (copies from a new device,
        new ids), so the push's cost can be split between the server and the client."""
        log("6. reference: the server applying 1,000 intents for the first time (curl, 5 POSTs)")
        import uuid
        # 40 new orders like step 1's, so the server holds as many events per order as it
        # did when the sync of step 4 arrived.
        twin = {}
        for i, oid in enumerate(self.order_ids):
            twin[oid] = oid.replace("WO-BENCH-", "WO-APPLY-")
            run(self.fieldsync(
                "dispatch", "create", "--home", self.D, "--id", twin[oid], "--urgency", str(i % 3 + 1),
                "--customer", CUSTOMERS[i % len(CUSTOMERS)], "--address", f"{STREETS[i % len(STREETS)]} {i + 3} 号",
                "--symptom", "暖气不热, 回水温度低", "--assign", "li"))
        # Every intent names the create it builds on (createOp): the copies must name the
        # twins' creates, or the server refuses them as `order_id_taken`.
        with sqlite3.connect(Path(self.D) / "fieldsync.sqlite") as c:
            twin_create = {order_id: op_id for op_id, order_id in c.execute(
                "SELECT op_id, order_id FROM confirmed_event WHERE order_id LIKE 'WO-APPLY-%' "
                "AND json_extract(body, '$.action.kind') = 'create'")}
        missing = [t for t in twin.values() if t not in twin_create]
        if missing:
            raise BenchError(f"the dispatcher's store holds no create for {missing[:3]}")
        device = f"dev-bench-{uuid.uuid4()}"
        now_ms = int(time.time() * 1000)
        intents = []
        for seq, (_, body) in enumerate(self.push_rows, start=1):
            it = json.loads(body)
            it.update(opId=op_id(now_ms + seq), deviceId=device, deviceSeq=seq, orderId=twin[it["orderId"]])
            if "createOp" in it:
                it["createOp"] = twin_create[it["orderId"]]
            # After the new orders' creation, in the same order as the originals.
            it["hlc"].update(device=device, physical=now_ms + seq, logical=0)
            it["occurredAt"] = now_ms + seq
            if isinstance(it.get("action", {}).get("child"), dict):
                it["action"]["child"]["id"] = str(uuid.uuid4())
            intents.append(json.dumps(it, ensure_ascii=False, separators=(",", ":")))
        cfg, lines = self.work / "apply-curl.cfg", []
        for b in range(0, len(intents), PUSH_BATCH):
            path = self.work / f"apply-{b // PUSH_BATCH + 1}.json"
            path.write_text('{"deviceId":' + json.dumps(device) + ',"intents":[' + ",".join(intents[b:b + PUSH_BATCH]) + "]}",
                            encoding="utf-8")
            if b:
                lines.append("next")
            lines += [f'url = "{self.url}/v1/sync/push"', f'header = "Authorization: Bearer {self.token}"',
                      'header = "Content-Type: application/json"', f'data-binary = "@{path}"',
                      f'output = "{path}.response"', 'write-out = "%{http_code} %{num_connects}\\n"']
        cfg.write_text("\n".join(lines) + "\n")
        t, p = timed(self.curl("-K", str(cfg)), what="curl push (first delivery)")
        self._check_codes(p.stdout, len(intents) // PUSH_BATCH, "first-delivery push")
        for b in range(len(intents) // PUSH_BATCH):
            outcomes = json.loads((self.work / f"apply-{b + 1}.json.response").read_text())["outcomes"]
            bad = [o for o in outcomes if o.get("duplicate") or o.get("result") != "applied"]
            if bad:
                raise BenchError(f"first-delivery push {b + 1}: not applied: {bad[:2]}")
        self.record("6. reference: server applies 1,000 new intents (curl)", [t],
                    {"curl 5 POSTs (duplicates, as in 4)": self.push_curl_s},
                    note=f"40 new orders in step 1's state, so the server work matches 4's; the ratio here is "
                         "first delivery / replay of stored duplicates. 4's sync minus this first delivery, "
                         f"{ms(self.push_sync_s - t)} ms, is roughly the client's own share (its pull included)")

    # --------------------------------------------------------------------------

    def run_all(self) -> None:
        try:
            self.step0_start()
            self.setup()
            self.step1_orders()
            self.step2_read()
            self.step3_record()
            self.step4_push()
            self.step5_pull()
            self.step6_server_apply()
        finally:
            if self.server:
                rc = self.server.stop()
                if rc not in (0, -15, 143):
                    self.notes.append(f"fieldsync-server exited {rc} on SIGTERM")
                    log(f"fieldsync-server exited {rc} on SIGTERM\n{self.server.tail()}")


# --------------------------------------------------------------------------- scale mode
#
# `tools/bench --scale`: the server and the CLI holding many orders. The data is built
# through the real push API (POST /v1/sync/push, 500 intents a request, one keep-alive
# connection), then every figure is timed as the person would meet it: whole `fieldsync`
# processes (median of several runs), the board with curl. Floors are raw curl / sqlite3
# processes doing the same transfer and storage on the same data.

SCALE_ORDERS = 50_000
SCALE_QUICK_ORDERS = 1_000
SCALE_PUSH = 500  # intents per push request: the server's maximum (PushRequest.maxIntents)
SCALE_TECHNICIANS = 20  # besides li
SCALE_LI_EVERY = 10  # every 10th order goes to li, the technician whose device is measured
SCALE_TRANSITIONS = 10_000  # technician transitions pushed at N orders (quick: 1,000)
SCALE_FIGURE_BUDGET = 180.0  # seconds: a figure stops taking more runs after this

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ["桂兰", "建国", "秀英", "志强", "美玲", "德顺", "淑芬", "海燕", "国庆", "丽华", "建华", "玉珍",
         "永福", "红梅", "文杰", "雪梅"]
INSTITUTIONS = ["市第一人民医院 后勤处", "光明小学 总务处", "和平小区 物业服务中心", "滨江花园 物业",
                "新华书店 中山路门店", "市中医院 住院部", "第三中学 后勤", "阳光养老院"]
DISTRICTS = ["和平区", "河西区", "南开区", "河东区", "红桥区", "滨海新区", "西青区", "北辰区"]
ESTATES = ["和平小区", "光明里", "幸福家园", "滨江花园", "建设新村", "人民新苑", "中山公寓", "新华里"]
SYMPTOMS = ["暖气片不热, 回水温度低于 30°C, 已持续两天, 家中有老人和婴儿",
            "卧室暖气片接口漏水, 地板已泡湿, 楼下住户投诉天花板渗水",
            "单元总阀关不严, 检修时整栋楼停暖, 需要更换阀门并打压测试",
            "热力站循环泵异响, 压力表波动 0.2 MPa, 怀疑轴承损坏",
            "户内系统有空气, 暖气片上热下凉, 客户要求上门排气并检查过滤器",
            "年度安全检查: 检查管道保温, 阀门, 热表读数, 填写检查记录"]
NEEDS = [None, None, None, "独居老人, 敲门请大声, 进门前先打电话", "医院: 每小时报告一次进度",
         None, "家中有婴儿, 请勿在 12:00-14:00 上门", None]
SCALE_LOGS = ["到达现场, 与物业确认管道走向, 关闭单元总阀", "检查暖气片阀门, 更换密封圈, 系统排气后回水温度 52°C",
              "循环泵卡死, 更换泵轴承; 客户要求下午三点前完成", "更换 DN20 球阀两只, 打压测试 0.6 MPa 保压 30 分钟无渗漏"]
KINDS = ["repair", "repair", "repair", "inspection", "installation", "complaint"]
TIERS = ["normal", "normal", "normal", "small", "major", "vip"]
MINUTES = {1: 120, 2: 240, 3: 480}  # DeadlinePolicy.standard (complaints: 30/120/480)


def scale_order_fields(i: int, now_ms: int) -> dict:
    """The dispatcher-owned fields of order i: about 700 bytes of mostly Chinese text."""
    urgency = (1, 2, 2, 3, 3, 3)[i % 6]
    kind = KINDS[i % len(KINDS)]
    minutes = {1: 30, 2: 120, 3: 480}[urgency] if kind == "complaint" else MINUTES[urgency]
    if i % 7 == 0:
        customer = f"{INSTITUTIONS[i % len(INSTITUTIONS)]} {SURNAMES[i % len(SURNAMES)]}主任"
    else:
        customer = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // 3) % len(GIVEN)]
    district = DISTRICTS[i % len(DISTRICTS)]
    address = (f"{district} {STREETS[(i // 5) % len(STREETS)]} {i % 300 + 1} 号 {ESTATES[(i // 11) % len(ESTATES)]} "
               f"{i % 40 + 1} 栋 {i % 6 + 1} 单元 {i % 30 + 1:02d}{i % 4 + 1:02d} 室 (地下锅炉房入口在北侧, 找门卫取钥匙)")
    fields = {
        "kind": kind,
        "urgency": str(urgency),
        "customer_name": customer,
        "customer_phone": f"1{38 + i % 12}{(i * 7919) % 100_000_000:08d}",
        "address": address,
        "symptom": SYMPTOMS[i % len(SYMPTOMS)] + f"; 客户报修编号 {i:07d}",
        "customer_tier": TIERS[i % len(TIERS)],
        "response_deadline": str(now_ms + minutes * 60_000),
    }
    needs = NEEDS[i % len(NEEDS)]
    if needs:
        fields["special_needs"] = needs
    return fields


class Feed:
    """One device's intents: gap-free device sequence numbers and a monotonic HLC."""

    def __init__(self, device: str, actor: str, role: str):
        self.device, self.actor, self.role = device, actor, role
        self.seq = 0
        self.physical = 0
        self.logical = 0

    def intent(self, order_id: str, action: dict, create_op: str | None = None) -> dict:
        import uuid
        now = int(time.time() * 1000)
        if now > self.physical:
            self.physical, self.logical = now, 0
        else:
            self.logical += 1
        self.seq += 1
        it = {"opId": op_id(now), "deviceId": self.device, "deviceSeq": self.seq,
              "actor": self.actor, "role": self.role,
              "hlc": {"physical": self.physical, "logical": self.logical, "device": self.device},
              "occurredAt": now, "orderId": order_id, "action": action}
        if create_op is not None:
            it["createOp"] = create_op
        return it

    def body(self, intents: list[dict]) -> bytes:
        return json.dumps({"deviceId": self.device, "intents": intents},
                          ensure_ascii=False, separators=(",", ":")).encode()


class Api:
    """The bench's own HTTP client: one keep-alive connection (http.client), timed per request."""

    def __init__(self, url: str):
        import http.client
        import urllib.parse
        u = urllib.parse.urlsplit(url)
        self._new = lambda: http.client.HTTPConnection(u.hostname, u.port, timeout=CMD_TIMEOUT)
        self.conn = self._new()
        self.connects = 0

    def request(self, method: str, path: str, token: str, body: bytes | None = None) -> tuple[int, bytes, float]:
        headers = {"Authorization": f"Bearer {token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                t0 = time.perf_counter()
                if self.conn.sock is None:
                    self.connects += 1
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                return resp.status, data, time.perf_counter() - t0
            except (ConnectionError, OSError) as e:  # the server closed an idle connection
                self.conn.close()
                self.conn = self._new()
                if attempt == 2:
                    raise BenchError(f"{method} {path}: {e}") from e
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, token: str, body: bytes | None = None) -> dict:
        status, data, _ = self.request(method, path, token, body)
        if status != 200:
            raise BenchError(f"{method} {path}: HTTP {status}: {data[:500].decode(errors='replace')}")
        return json.loads(data)

    def close(self) -> None:
        self.conn.close()


def time_v(path: Path) -> dict:
    """The figures of one `/usr/bin/time -v -o path` report we use."""
    out = {}
    for line in path.read_text(errors="replace").splitlines():
        key, _, value = line.strip().rpartition(": ")
        if key == "Maximum resident set size (kbytes)":
            out["max_rss_kb"] = int(value)
        elif key == "User time (seconds)":
            out["user_s"] = float(value)
        elif key == "System time (seconds)":
            out["sys_s"] = float(value)
        elif key == "Exit status":
            out["exit"] = int(value)
        elif key == "Voluntary context switches":
            out["voluntary_cs"] = int(value)
        elif key == "File system outputs":
            out["fs_outputs"] = int(value)
    return out


def client_page_size(default: int = 200) -> tuple[int, str]:
    """SyncEngine's pull page size as its source reads (a fallback: ScaleBench.probe_page_size
    watches what the client really asks for)."""
    src = Path(__file__).resolve().parent.parent / "Sources/FieldSyncClient/SyncEngine.swift"
    try:
        text = src.read_text()
    except OSError:
        return default, "assumed (SyncEngine.swift not readable)"
    for pattern in (r"defaultPageSize\s*(?::\s*Int)?\s*=\s*(\d+)", r"pageSize:\s*Int\s*=\s*(\d+)"):
        m = re.search(pattern, text)
        if m:
            return int(m.group(1)), f"read from {src.name}"
    return default, f"assumed (no page size found in {src.name})"


class Sniffer:
    """A loopback TCP forwarder to the server that notes the query of every pull request
    passing through: how the bench learns the pages the client asks for (limit, and any
    other parameter such as `delta=1`) without trusting a source file."""

    PULL = re.compile(rb"GET /v1/sync/pull\?([^ ]*) HTTP/")

    def __init__(self, upstream: str):
        import socket
        import urllib.parse
        u = urllib.parse.urlsplit(upstream)
        self.target = (u.hostname, u.port)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.queries: list[str] = []
        self.open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        while self.open:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, src, dst, requests: bool) -> None:
        import socket
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if requests:
                    self.queries += [m.decode(errors="replace") for m in self.PULL.findall(data)]
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.open = False
        self.sock.close()


class ScaleBench:
    def __init__(self, args: argparse.Namespace):
        self.fs = args.fieldsync
        self.server_bin = args.server
        self.work = Path(args.work)
        self.quick = args.quick
        self.n = args.orders or (SCALE_QUICK_ORDERS if self.quick else SCALE_ORDERS)
        self.li_every = args.li_every
        self.k = SCALE_TECHNICIANS if not self.quick else 4
        self.transitions = args.transitions if args.transitions is not None else (
            1_000 if self.quick else SCALE_TRANSITIONS)
        self.small_runs = 5 if self.quick else 15
        self.sync_runs = 3
        self.budget = args.figure_budget
        self.timeout = args.command_timeout
        self.page, self.page_source = client_page_size()
        self.pull_rest = f"limit={self.page}"  # replaced by what the probe sees the client send
        self.rows: list[dict] = []
        self.notes: list[str] = []
        self.server: Server | None = None
        self.api: Api | None = None
        self.cursors: dict[str, int] = {}
        self.time_bin = shutil.which("time", path="/usr/bin") or "/usr/bin/time"

    # helpers -----------------------------------------------------------------

    def fieldsync(self, *argv: str) -> list[str]:
        return [self.fs, *argv]

    def runs(self, n: int, one, *, started: float | None = None, what: str = "a figure") -> list:
        """Up to n results of one(i), fewer when the figure's time budget is spent (at least 1)."""
        started = started or time.perf_counter()
        out = []
        for i in range(n):
            if out and time.perf_counter() - started > self.budget:
                self.notes.append(f"{what}: stopped after {len(out)} of {n} runs, its {self.budget:.0f} s budget spent")
                break
            out.append(one(i))
        return out

    def timed_rss(self, cmd: list[str], tag: str, stdin_path: Path | None = None) -> tuple[float, dict, subprocess.CompletedProcess]:
        """Whole-process wall time (perf_counter around /usr/bin/time -v) and time's report."""
        report = self.work / f"time-{tag}.txt"
        t, p = timed([self.time_bin, "-v", "-o", str(report), *cmd], stdin_path=stdin_path, what=Path(cmd[0]).name,
                     timeout=self.timeout)
        return t, time_v(report), p

    def add(self, figure: str, value: float | None, unit: str, *, target: str = "", meets: bool | None = None,
            floor: float | None = None, floor_parts: dict | None = None, samples: list | None = None,
            note: str = "", key: str = "", extra: dict | None = None, ratio: float | None = None) -> dict:
        """One row of the table. ratio: fieldsync's time / the floor's (by default value / floor).
        --quick compares nothing with the targets (meets is None): it only proves the bench runs."""
        if self.quick:
            meets = None
        if ratio is None:
            ratio = round(value / floor, 2) if value is not None and floor else None
        row = {"key": key, "figure": figure, "value": value, "unit": unit, "target": target, "meets": meets,
               "floor": floor, "floor_parts": floor_parts or {}, "ratio": ratio, "runs": len(samples or []),
               "samples": samples or [], "note": note, **(extra or {})}
        self.rows.append(row)
        fl = f", floor {floor} {unit} ({', '.join(f'{k} {v}' for k, v in (floor_parts or {}).items())}), ratio {ratio}×" \
            if floor else ""
        log(f"  {figure}: {value} {unit}{fl}{'' if meets is None else ('  [meets target]' if meets else '  [MISSES target ' + target + ']')}")
        return row

    def server_mem(self) -> dict:
        try:
            status = Path(f"/proc/{self.server.proc.pid}/status").read_text()
        except OSError:
            return {}
        out = {}
        for line in status.splitlines():
            k, _, v = line.partition(":")
            if k in ("VmHWM", "VmRSS"):
                out[k] = round(int(v.split()[0]) / 1024, 1)
        return out

    def cpu_of_server(self) -> float:
        """User + system CPU seconds of the server so far (/proc/PID/stat)."""
        try:
            f = Path(f"/proc/{self.server.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return float("nan")

    # setup -------------------------------------------------------------------

    def setup(self) -> None:
        self.srv_db = self.work / "server" / "fieldsync.sqlite"
        self.srv_db.parent.mkdir(parents=True)
        self.server = Server(self.server_bin, self.srv_db, self.work)
        self.url = self.server.url
        log(f"server listening at {self.url} (db {self.srv_db})")
        add = lambda role, name: run([self.server_bin, "user", "add", "--db", str(self.srv_db), "--role", role, name],
                                     what="fieldsync-server user add").stdout.decode().strip()
        self.dispatcher_token = add("dispatcher", "wang")
        self.techs = [f"t{j:02d}" for j in range(1, self.k + 1)]
        self.tokens = {"li": add("technician", "li")}
        for t in self.techs:
            self.tokens[t] = add("technician", t)
        if not re.fullmatch(r"\S{16,}", self.tokens["li"]):
            raise BenchError(f"`fieldsync-server user add` printed {self.tokens['li']!r}, not a token")
        self.api = Api(self.url)
        # Every device the bench pushes from registers first, as `fieldsync login` does.
        self.desk = Feed("bench-desk-wang", "wang", "dispatcher")
        self.api.json("POST", "/v1/devices", self.dispatcher_token, json.dumps({"deviceId": self.desk.device}).encode())
        self.feeds = {}
        for t in ["li", *self.techs]:
            self.feeds[t] = Feed(f"bench-dev-{t}", t, "technician")
            self.api.json("POST", "/v1/devices", self.tokens[t], json.dumps({"deviceId": self.feeds[t].device}).encode())

    def push(self, feed: Feed, token: str, intents: list[dict]) -> float:
        """One timed push; checks that every intent was applied. Returns the seconds."""
        body = feed.body(intents)
        status, data, t = self.api.request("POST", "/v1/sync/push", token, body)
        if status != 200:
            raise BenchError(f"push of {len(intents)} intents from {feed.device}: HTTP {status}: {data[:500].decode(errors='replace')}")
        outcomes = json.loads(data)["outcomes"]
        bad = [o for o in outcomes if o.get("result") not in ("applied", "merged") or o.get("duplicate")]
        if len(outcomes) != len(intents) or bad:
            raise BenchError(f"push from {feed.device}: {len(outcomes)} outcomes for {len(intents)} intents; "
                             f"not applied: {json.dumps(bad[:2], ensure_ascii=False)[:800]}")
        self.push_bytes += len(body)
        return t

    # 1. push: the data, through the API --------------------------------------

    def load(self) -> None:
        n = self.n
        log(f"1. loading {n:,} orders through POST /v1/sync/push ({SCALE_PUSH} intents a request: "
            f"create + assign; every {self.li_every}th order to li, the rest to {self.k} technicians)")
        self.order_ids: list[str] = []
        self.create_op: dict[str, str] = {}
        self.assignee: dict[str, str] = {}
        self.push_bytes = 0
        per_batch = SCALE_PUSH // 2
        times, counts = [], []
        cpu0, t_all = self.cpu_of_server(), time.perf_counter()
        other = 0
        last_log = time.perf_counter()
        for b0 in range(0, n, per_batch):
            now_ms = int(time.time() * 1000)
            intents = []
            for i in range(b0, min(n, b0 + per_batch)):
                oid = f"WO-SCALE-{i + 1:07d}"
                if i % self.li_every == 0:
                    tech = "li"
                else:
                    tech = self.techs[other % self.k]
                    other += 1
                create = self.desk.intent(oid, {"kind": "create", "fields": scale_order_fields(i, now_ms)})
                intents.append(create)
                intents.append(self.desk.intent(oid, {"kind": "assign", "technician": tech}, create["opId"]))
                self.order_ids.append(oid)
                self.create_op[oid] = create["opId"]
                self.assignee[oid] = tech
            times.append(self.push(self.desk, self.dispatcher_token, intents))
            counts.append(len(intents))
            if time.perf_counter() - last_log > 15:
                last_log = time.perf_counter()
                log(f"   {len(self.order_ids):,} orders loaded, last batch {counts[-1] / times[-1]:,.0f} intents/s")
        wall = time.perf_counter() - t_all
        server_cpu = self.cpu_of_server() - cpu0
        self.li_orders = [o for o in self.order_ids if self.assignee[o] == "li"]
        rates = [c / t for c, t in zip(counts, times)]
        tenth = max(1, len(rates) // 10)
        agg = sum(counts) / sum(times)
        med = statistics.median(rates)
        self.add(f"push: opening orders (create + assign), server at 0 → {n:,} orders", round(med), "intents/s",
                 key="push_open", target="≥ 10,000 intents/s", meets=med >= 10_000, samples=[round(r) for r in rates],
                 note=f"median of {len(rates)} requests of ≤ {SCALE_PUSH} intents; aggregate {agg:,.0f} intents/s over "
                      f"{sum(counts):,} intents ({sum(times):.1f} s in requests, {wall:.1f} s wall with the bench's JSON "
                      f"encoding); first 10% of requests {statistics.median(rates[:tenth]):,.0f}/s, last 10% "
                      f"{statistics.median(rates[-tenth:]):,.0f}/s; server CPU {server_cpu:.1f} s "
                      f"({server_cpu / sum(counts) * 1e6:.0f} µs per intent); {self.push_bytes / sum(counts):.0f} request bytes per intent",
                 extra={"aggregate": round(agg), "request_seconds": round(sum(times), 2), "intents": sum(counts),
                        "server_cpu_s": round(server_cpu, 2)})
        self.load_seconds = wall

    def push_transitions(self) -> None:
        """Technicians move their orders on (accepted, en_route) with the server at N orders."""
        want = self.transitions
        log(f"1b. {want:,} technician transitions (accepted + en_route), {SCALE_PUSH} per request, server at {self.n:,} orders")
        by_tech: dict[str, list[str]] = {t: [] for t in self.techs}
        for oid in self.order_ids:
            if self.assignee[oid] != "li":
                by_tech[self.assignee[oid]].append(oid)
        times, counts = [], []
        cpu0 = self.cpu_of_server()
        self.push_bytes = 0
        left = want
        for t in self.techs:  # one request per technician device, round robin
            if left <= 0:
                break
            take = by_tech[t][:min(SCALE_PUSH // 2, left // 2)]
            if not take:
                continue
            feed = self.feeds[t]
            intents = []
            for oid in take:
                intents.append(feed.intent(oid, {"kind": "transition", "to": "accepted"}, self.create_op[oid]))
                intents.append(feed.intent(oid, {"kind": "transition", "to": "en_route"}, self.create_op[oid]))
            times.append(self.push(feed, self.tokens[t], intents))
            counts.append(len(intents))
            left -= len(intents)
        if not times:
            self.notes.append("no technician transitions pushed (--transitions 0)")
            return
        server_cpu = self.cpu_of_server() - cpu0
        rates = [c / t for c, t in zip(counts, times)]
        med = statistics.median(rates)
        self.add(f"push: technician transitions, server at {self.n:,} orders", round(med), "intents/s",
                 key="push_transitions", target="≥ 10,000 intents/s", meets=med >= 10_000,
                 samples=[round(r) for r in rates],
                 note=f"median of {len(rates)} requests (one per technician device, accepted + en_route of "
                      f"{SCALE_PUSH // 2} orders each); aggregate {sum(counts) / sum(times):,.0f} intents/s; server CPU "
                      f"{server_cpu:.1f} s ({server_cpu / sum(counts) * 1e6:.0f} µs per intent)",
                 extra={"aggregate": round(sum(counts) / sum(times)), "intents": sum(counts)})

    # 2. initial sync ---------------------------------------------------------

    def latest_cursor(self, token: str) -> int:
        """The pull cursor after every change so far in the token's scope (untimed; walks
        only from the last cursor this bench saw for it)."""
        cursor = self.walk_pull(token, self.cursors.get(token, 0))["cursor"]
        self.cursors[token] = cursor
        return cursor

    def probe_page_size(self) -> None:
        """Logs a throwaway device of li in through a Sniffer and syncs it once (untimed): the
        `limit` it asks for is the page size the floors use."""
        sniffer = Sniffer(self.url)
        home = str(self.work / "probe-device")
        try:
            run(self.fieldsync("login", "--home", home, "--server", sniffer.url, "--token", self.tokens["li"]))
            run(self.fieldsync("sync", "--home", home), timeout=self.timeout)
        finally:
            sniffer.close()
            shutil.rmtree(home, ignore_errors=True)
        # Every parameter but the cursor, as the client sent them, e.g. "limit=500&delta=1".
        rests = [ "&".join(kv for kv in q.split("&") if not kv.startswith("cursor=")) for q in sniffer.queries]
        if rests:
            if len(set(rests)) > 1:
                self.notes.append(f"the client's pull requests differed: {sorted(set(rests))}; the floors use {rests[0]!r}")
            self.pull_rest = rests[0]
            m = re.search(r"(?:^|&)limit=(\d+)", self.pull_rest)
            if m:
                self.page = int(m.group(1))
            self.page_source = f"seen on the wire from `fieldsync sync`: ?cursor=N&{self.pull_rest}"
        else:
            self.notes.append(f"the probe saw no pull request; the floors ask ?cursor=N&{self.pull_rest} ({self.page_source})")
        log(f"   the client pulls pages of {self.page} ({self.page_source})")

    def pull_path(self, cursor: int) -> str:
        """The pull request the client makes for `cursor` (same parameters, same order)."""
        return f"/v1/sync/pull?cursor={cursor}&{self.pull_rest}"

    def walk_pull(self, token: str, cursor: int = 0) -> dict:
        """Walks the pull pages once (untimed) as the client would: the floor fetches the same ones.
        `orders` counts distinct ids (an order may come again on a later page with newer events)."""
        paths, ids, events, nbytes = [], set(), 0, 0
        while True:
            path = self.pull_path(cursor)
            status, data, _ = self.api.request("GET", path, token)
            if status != 200:
                raise BenchError(f"GET {path}: HTTP {status}: {data[:300].decode(errors='replace')}")
            page = json.loads(data)
            paths.append(path)
            ids.update(o["id"] for o in page["orders"])
            events += sum(len(o["events"]) for o in page["orders"])
            nbytes += len(data)
            cursor = page["cursor"]
            if not page.get("hasMore"):
                return {"paths": paths, "orders": len(ids), "events": events, "bytes": nbytes, "cursor": cursor}

    def curl_pages_cmd(self, token: str, paths: list[str], tag: str) -> tuple[list[str], list[Path]]:
        """One curl process fetching every page over one connection, each into its own file."""
        pages = self.work / f"pages-{tag}"
        pages.mkdir(exist_ok=True)
        cfg, lines, files = self.work / f"curl-{tag}.cfg", [], []
        for i, path in enumerate(paths):
            f = pages / f"p{i:06d}.json"
            files.append(f)
            if i:
                lines.append("next")
            lines += [f'url = "{self.url}{path}"', f'header = "Authorization: Bearer {token}"',
                      f'output = "{f}"', 'write-out = "%{http_code} %{num_connects}\\n"']
        cfg.write_text("\n".join(lines) + "\n")
        return ["curl", "-s", "-K", str(cfg)], files

    def import_sql(self, files: list[Path], tag: str, replace: bool = False) -> Path:
        """sqlite3 storing every event of the fetched pages, parsed by its JSON functions, in one transaction."""
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        sql = self.work / f"import-{tag}.sql"
        body = "".join(
            f"{verb} INTO confirmed_event(op_id, order_id, body) SELECT json_extract(e.value, '$.opId'), "
            f"json_extract(o.value, '$.id'), e.value FROM json_each(CAST(readfile({sql_quote(str(f))}) AS TEXT), '$.orders') o, "
            f"json_each(o.value, '$.events') e;\n" for f in files)
        sql.write_text("BEGIN;\n" + body + "COMMIT;\n", encoding="utf-8")
        return sql

    FLOOR_DDL = ("CREATE TABLE confirmed_event(op_id TEXT PRIMARY KEY NOT NULL, order_id TEXT NOT NULL, body TEXT NOT NULL);"
                 "CREATE INDEX confirmed_event_order ON confirmed_event(order_id);")

    def floor_db(self, path: Path) -> Path:
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        out = run(["sqlite3", str(path), f"PRAGMA journal_mode=WAL; {self.FLOOR_DDL}"], what="sqlite3 (setup)")
        if out.stdout.strip() != b"wal":
            raise BenchError(f"{path}: journal_mode is {out.stdout!r}, not wal")
        return path

    def check_curl(self, p: subprocess.CompletedProcess, n: int, what: str) -> None:
        lines = p.stdout.decode().split()
        codes, connects = lines[0::2], [int(c) for c in lines[1::2]]
        if codes != ["200"] * n:
            raise BenchError(f"{what}: HTTP codes {codes[:10]}…, expected {n} × 200")
        if sum(connects) != 1:
            raise BenchError(f"{what}: curl opened {sum(connects)} connections, expected 1 (reused)")

    def initial_sync(self, who: str, token: str, expect: int, runs: int, key: str, label: str) -> str:
        """`fieldsync login` + timed `fieldsync sync` into empty devices, interleaved with the floor.
        Returns the home of the first device (kept for the later figures)."""
        walk = self.walk_pull(token)
        self.cursors[token] = walk["cursor"]
        if walk["orders"] != expect:
            raise BenchError(f"{who}'s pull walk found {walk['orders']} orders, expected {expect}")
        curl_cmd, files = self.curl_pages_cmd(token, walk["paths"], key)
        sql = self.import_sql(files, key)
        log(f"2. initial sync of {who}'s device: {expect:,} orders, {walk['events']:,} events, {len(walk['paths'])} pages "
            f"of {self.page}, {walk['bytes'] / 1e6:.1f} MB; {runs} runs, each interleaved with the floor")
        fs_s, fs_rss, curl_s, sql_s, curl_rss, sql_rss, cpu, srv_cpu, waits = [], [], [], [], [], [], [], [], []
        homes = []
        started = time.perf_counter()

        def one(r: int) -> None:
            home = str(self.work / f"{key}-{r}")
            homes.append(home)
            run(self.fieldsync("login", "--home", home, "--server", self.url, "--token", token))
            c0 = self.cpu_of_server()
            t, tv, p = self.timed_rss(self.fieldsync("sync", "--home", home, "--json"), f"{key}-{r}")
            srv_cpu.append(self.cpu_of_server() - c0)
            waits.append(tv.get("voluntary_cs", 0))
            report = json.loads(p.stdout)
            if whole_orders(report) != expect or report.get("repaired"):
                raise BenchError(f"{who}'s initial sync pulled {report.get('pulledOrders')} orders (expected {expect}), "
                                 f"repaired {report.get('repaired')}: {json.dumps(report, ensure_ascii=False)[:500]}")
            fs_s.append(t)
            fs_rss.append(tv["max_rss_kb"])
            cpu.append(tv["user_s"] + tv["sys_s"])
            for f in files:
                f.unlink(missing_ok=True)
            tc, tvc, pc = self.timed_rss(curl_cmd, f"{key}-curl-{r}")
            self.check_curl(pc, len(files), f"{key} floor curl")
            db = self.floor_db(self.work / f"floor-{key}.sqlite")
            ts, tvs, _ = self.timed_rss(["sqlite3", str(db)], f"{key}-sqlite-{r}", stdin_path=sql)
            stored = int(run(["sqlite3", str(db), "SELECT count(*) FROM confirmed_event"]).stdout)
            if stored != walk["events"]:
                raise BenchError(f"the floor stored {stored} events, expected {walk['events']}")
            curl_s.append(tc)
            sql_s.append(ts)
            curl_rss.append(tvc["max_rss_kb"])
            sql_rss.append(tvs["max_rss_kb"])
            log(f"   run {r + 1}: fieldsync sync {t:.2f} s ({expect / t:,.0f} orders/s, peak RSS {tv['max_rss_kb'] / 1024:.0f} MB, "
                f"CPU {cpu[-1]:.2f} s, server CPU meanwhile {srv_cpu[-1]:.2f} s, {waits[-1]:,} voluntary context switches); "
                f"floor curl {tc:.2f} s + sqlite3 {ts:.2f} s")

        self.runs(runs, one, started=started, what=f"initial sync: {label}")
        for extra in homes[1:]:  # keep the first device; the rest only cost disk
            shutil.rmtree(extra, ignore_errors=True)
        med = statistics.median(fs_s)
        floor = statistics.median(curl_s) + statistics.median(sql_s)
        rate = expect / med
        floor_rate = expect / floor
        ratio = med / floor
        store = Path(homes[0]) / "fieldsync.sqlite"
        store_mb = sum(p.stat().st_size for p in store.parent.glob("fieldsync.sqlite*")) / 1e6
        self.add(f"initial sync: {label}", round(rate), "orders/s", key=f"{key}_rate",
                 target="≥ 25,000 orders/s and ≤ 2× floor", meets=rate >= 25_000 and ratio <= 2,
                 floor=round(floor_rate), floor_parts={"curl GET pages": round(statistics.median(curl_s) * 1000),
                                                       "sqlite3 import": round(statistics.median(sql_s) * 1000)},
                 samples=[round(s * 1000) for s in fs_s],
                 note=f"`fieldsync login` (untimed) then `fieldsync sync`, whole process: median {med:.2f} s, of which "
                      f"the sync process's CPU {statistics.median(cpu):.2f} s and the server's CPU {statistics.median(srv_cpu):.2f} s "
                      f"(the rest is waiting: disk syncs, the hand-over between the two); floor: one curl process fetching the same {len(files)} pages "
                      f"(?cursor=N&{self.pull_rest}, one connection) + one sqlite3 process storing the {walk['events']:,} events with its "
                      f"JSON functions in one transaction ({statistics.median(curl_s):.2f} s + {statistics.median(sql_s):.2f} s); "
                      f"{walk['bytes'] / expect:.0f} response bytes per order; the device store is {store_mb:.0f} MB after",
                 extra={"seconds": round(med, 3), "floor_seconds": round(floor, 3), "time_ratio": round(ratio, 2),
                        "client_cpu_s": round(statistics.median(cpu), 2),
                        "server_cpu_s": round(statistics.median(srv_cpu), 2),
                        "orders": expect, "events": walk["events"], "pages": len(files), "bytes": walk["bytes"]},
                 ratio=round(ratio, 2))  # time / floor time (the rates' ratio inverted)
        rss = statistics.median(fs_rss) / 1024
        target_n = 500_000
        self.add(f"initial sync: {label}, peak RSS", round(rss, 1), "MB", key=f"{key}_rss",
                 target="≤ 100 MB at 500,000 orders", meets=(rss <= 100) if expect >= target_n else None,
                 floor=round(max(statistics.median(curl_rss), statistics.median(sql_rss)) / 1024, 1),
                 floor_parts={"curl": round(statistics.median(curl_rss) / 1024, 1),
                              "sqlite3": round(statistics.median(sql_rss) / 1024, 1)},
                 samples=[round(x / 1024, 1) for x in fs_rss],
                 note=f"/usr/bin/time -v 'Maximum resident set size' of the sync process"
                      + ("" if expect >= target_n else f" (the target is at {target_n:,} orders; this run holds {expect:,})"))
        for f in files:
            f.unlink(missing_ok=True)
        return homes[0]

    def start_figure(self) -> None:
        log("0. reference: bare process start, `fieldsync --version` vs `sqlite3 --version`")
        self.cmd_figure("bare_start", "reference: bare start, `fieldsync --version`", None, self.small_runs,
                        lambda i: self.fieldsync("--version"), {"sqlite3 --version": lambda i: ["sqlite3", "--version"]},
                        note="no store opened: what every fieldsync command pays before doing anything")

    # 3–7. the device and server holding N orders --------------------------------

    def cmd_figure(self, key: str, figure: str, target_ms: float | None, runs: int, fs_cmd, floor: dict,
                   check=None, before=None, note: str = "", floor_check: dict | None = None) -> dict:
        """Median whole-process ms of fs_cmd(i) vs the floor commands, interleaved."""
        fs_s, fl_s = [], {k: [] for k in floor}
        started = time.perf_counter()

        def one(i: int) -> None:
            if before:
                before(i)
            t, p = timed(fs_cmd(i), what=figure, timeout=self.timeout)
            if check:
                check(i, p)
            fs_s.append(t)
            for name, cmd in floor.items():
                tf, pf = timed(cmd(i), what=f"floor of {figure}", timeout=self.timeout)
                if floor_check and name in floor_check:
                    floor_check[name](i, pf)
                fl_s[name].append(tf)

        # one warm-up of each (file cache), not counted
        if before:
            before(-1)
        run(fs_cmd(-1), timeout=self.timeout)
        for cmd in floor.values():
            run(cmd(-1), timeout=self.timeout)
        self.runs(runs, one, started=started, what=figure)
        med = statistics.median(fs_s) * 1000
        parts = {k: round(statistics.median(v) * 1000, 1) for k, v in fl_s.items()}
        total = round(sum(parts.values()), 1) if parts else None
        return self.add(figure, round(med, 1), "ms", key=key,
                        target=f"≤ {target_ms:g} ms" if target_ms else "", meets=(med <= target_ms) if target_ms else None,
                        floor=total, floor_parts=parts, samples=[round(s * 1000, 1) for s in fs_s], note=note)

    def sync_figures(self) -> None:
        log(f"3. `fieldsync sync` with nothing new, and with one order changed by another device")
        for who, home, token, count in (("dispatcher", self.D, self.dispatcher_token, self.n),
                                        ("li", self.T, self.tokens["li"], len(self.li_orders))):
            run(self.fieldsync("sync", "--home", home), timeout=self.timeout)  # untimed: catch up first
            cursor = self.latest_cursor(token)  # nothing new: one page, no orders
            get = lambda i, c=cursor, tok=token: ["curl", "-s", "-o", "/dev/null", "-H", f"Authorization: Bearer {tok}",
                                                  f"{self.url}{self.pull_path(c)}"]

            def check_none(i, p, who=who):
                r = json.loads(p.stdout)
                if r.get("pulledOrders") or r.get("pushed"):
                    raise BenchError(f"{who}'s sync with nothing new moved something: {r}")
            self.cmd_figure(f"sync_nothing_{who}", f"`sync`, nothing new ({who}'s device, {count:,} orders)", 20,
                            self.small_runs, lambda i, h=home: self.fieldsync("sync", "--home", h, "--json"),
                            {"curl GET pull": get}, check=check_none,
                            note="whole `fieldsync sync` process; floor: one curl GET of the same empty pull page")

        # One changed order: the desk appends a log line (another device), then the sync pulls it.
        floor_db = self.work / "floor-changed.sqlite"
        for who, home, token, orders in (("dispatcher", self.D, self.dispatcher_token, self.order_ids),
                                          ("li", self.T, self.tokens["li"], self.li_orders)):
            run(self.fieldsync("sync", "--home", home), timeout=self.timeout)  # untimed: catch up first
            state = {}
            page_file = self.work / f"changed-{who}.json"
            sql = self.import_sql([page_file], f"changed-{who}", replace=True)
            # The floor stores into a copy of the initial-sync floor database when it exists.
            src = self.work / "floor-initial_dispatcher.sqlite"
            if src.exists():
                for suffix in ("", "-wal", "-shm"):
                    Path(str(floor_db) + suffix).unlink(missing_ok=True)
                    if Path(str(src) + suffix).exists():
                        shutil.copy(str(src) + suffix, str(floor_db) + suffix)
            else:
                self.floor_db(floor_db)

            def change(i, who=who, orders=orders, token=token, state=state):
                oid = orders[(i * 37 + 11) % len(orders)]
                state["before"] = self.latest_cursor(token)
                intent = self.desk.intent(oid, {"kind": "append", "child": {
                    "id": f"bench-log-{who}-{i + 1}-{self.desk.seq + 1}", "kind": "log",
                    "text": f"调度回访: 客户确认上午在家 (#{i + 1})"}}, self.create_op[oid])
                self.push(self.desk, self.dispatcher_token, [intent])

            def check_one(i, p, who=who):
                r = json.loads(p.stdout)
                if r.get("pulledOrders") != 1:
                    raise BenchError(f"{who}'s sync after one change pulled {r.get('pulledOrders')} orders: {r}")
            get1 = lambda i, tok=token, st=state, pf=page_file: [
                "curl", "-s", "-o", str(pf), "-H", f"Authorization: Bearer {tok}",
                f"{self.url}{self.pull_path(st['before'])}"]
            store1 = lambda i, s=sql: ["sqlite3", str(floor_db), f".read {s}"]
            self.cmd_figure(f"sync_changed_{who}", f"`sync`, one order changed ({who}'s device, {len(orders):,} orders)",
                            20, self.small_runs, lambda i, h=home: self.fieldsync("sync", "--home", h, "--json"),
                            {"curl GET pull": get1, "sqlite3 store its events": store1},
                            check=check_one, before=change,
                            note="before each run the dispatcher desk (another device) appends a log line to one order; "
                                 "floor: curl GET of the same one-order page + sqlite3 storing its events (INSERT OR REPLACE "
                                 "into a table already holding the initial-sync floor's rows)")

    def jobs_figures(self) -> None:
        # `jobs` shows the 50 most urgent open orders and says how many more there are
        # (`--limit 0` lists every one); the floor reads the same 50 rows and the count.
        shown = 50
        log(f"4. `fieldsync jobs` (the {shown} most urgent, and the count of the rest) on the dispatcher's device and on li's")
        q = ("SELECT id, urgency, status, deadline, customer_name, address, customer_tier, special_needs "
             "FROM order_view WHERE status NOT IN ('completed','signed_off','followed_up','closed','cancelled') "
             f"ORDER BY urgency, deadline IS NULL, deadline, id LIMIT {shown}; "
             "SELECT count(*) FROM order_view WHERE status NOT IN ('completed','signed_off','followed_up','closed','cancelled')")
        for who, home, count in (("dispatcher", self.D, len(self.order_ids)), ("li", self.T, len(self.li_orders))):
            db = str(Path(home) / "fieldsync.sqlite")

            def check(i, p, count=count, who=who):
                lines = p.stdout.count(b"\n")
                if lines < min(count, shown):
                    raise BenchError(f"`fieldsync jobs` on {who}'s device printed {lines} lines, expected ≥ {min(count, shown)}")
            self.cmd_figure(f"jobs_{who}", f"`jobs` ({who}'s device, {count:,} open orders)", 50, self.small_runs,
                            lambda i, h=home: self.fieldsync("jobs", "--home", h),
                            {"sqlite3 SELECT": lambda i, d=db: ["sqlite3", d, q]}, check=check,
                            note=f"whole process, output read through a pipe: the {shown} most urgent and the count "
                                 "of the rest; floor: sqlite3 selecting the same summary columns of the same rows "
                                 "in the same order, and the count")

    def offline_figures(self) -> None:
        log("5. li records offline: `status`, `log`, `show` (server untouched)")
        db = Path(self.T) / "fieldsync.sqlite"
        copy = self.work / "floor-record.sqlite"
        run(["sqlite3", str(db), f".backup {sql_quote(str(copy))}"], what="sqlite3 .backup")
        run(["sqlite3", str(copy), "PRAGMA journal_mode=WAL; CREATE TABLE t(x TEXT);"])
        li = self.li_orders
        # Orders no earlier step touched (the sync figures changed a few).
        pick = lambda i, off: li[(off + (i + 1) * 3) % len(li)]  # i = -1 is the warm-up: its own order
        sample_body = json.dumps(self.feeds["li"].intent(li[0], {"kind": "transition", "to": "accepted"},
                                                         self.create_op[li[0]]), ensure_ascii=False)
        self.feeds["li"].seq -= 1  # that intent was never sent
        insert = lambda i: ["sqlite3", str(copy), f"INSERT INTO t(x) VALUES({sql_quote(sample_body)})"]
        self.cmd_figure("status", f"`status ORDER accepted` (li's device, {len(li):,} orders)", 15, self.small_runs,
                        lambda i: self.fieldsync("status", "--home", self.T, pick(i, 1), "accepted"),
                        {"sqlite3 INSERT": insert},
                        note="a different assigned order each run; floor: sqlite3 inserting one intent-sized row (WAL)")
        self.cmd_figure("log", f"`log ORDER TEXT` (li's device)", 15, self.small_runs,
                        lambda i: self.fieldsync("log", "--home", self.T, pick(i, 1), SCALE_LOGS[(i + 1) % len(SCALE_LOGS)]),
                        {"sqlite3 INSERT": insert}, note="floor: sqlite3 inserting one intent-sized row (WAL)")
        sel = lambda i, d=str(db): ["sqlite3", d, f"SELECT state FROM order_view WHERE id = {sql_quote(pick(i, 1))}"]
        self.cmd_figure("show", f"`show ORDER` (li's device)", 15, self.small_runs,
                        lambda i: self.fieldsync("show", "--home", self.T, pick(i, 1)), {"sqlite3 SELECT state": sel},
                        note="an order with local pending work; floor: sqlite3 reading the order's stored view")
        ddb = str(Path(self.D) / "fieldsync.sqlite")
        pickd = lambda i: self.order_ids[((i + 1) * 7919 + 5) % len(self.order_ids)]
        self.cmd_figure("show_dispatcher", f"`show ORDER` (dispatcher's device, {self.n:,} orders)", 15, self.small_runs,
                        lambda i: self.fieldsync("show", "--home", self.D, pickd(i)),
                        {"sqlite3 SELECT state": lambda i: ["sqlite3", ddb, f"SELECT state FROM order_view WHERE id = {sql_quote(pickd(i))}"]},
                        note="floor: sqlite3 reading the order's stored view")

    def dispatch_figure(self) -> None:
        log(f"6. `fieldsync dispatch create --assign li` on the dispatcher's device, server holding {self.n:,}+ orders")
        run(self.fieldsync("sync", "--home", self.D), timeout=self.timeout)  # up to date first
        created = []
        state = {}

        def create(i):
            return self.fieldsync("dispatch", "create", "--home", self.D, "--urgency", "2", "--customer",
                                  f"{SURNAMES[i % len(SURNAMES)]}{GIVEN[i % len(GIVEN)]}",
                                  "--address", f"和平区 解放路 {i + 500} 号 和平小区 3 栋 2 单元 501",
                                  "--symptom", "卧室暖气片漏水", "--assign", "li", "--json")

        def check(i, p):
            created.append(json.loads(p.stdout)["order"])

        def before(i):  # the floor's push: a new order from the bench desk, and the cursor before it
            state["cursor"] = self.latest_cursor(self.dispatcher_token)
            now_ms = int(time.time() * 1000)
            oid = f"WO-FLOOR-{i + 2:05d}"
            c = self.desk.intent(oid, {"kind": "create", "fields": scale_order_fields(i, now_ms)})
            a = self.desk.intent(oid, {"kind": "assign", "technician": "li"}, c["opId"])
            body = self.work / f"floor-create-{i + 1}.json"
            body.write_bytes(self.desk.body([c, a]))
            cfg = self.work / f"floor-create-{i + 1}.cfg"
            auth = f'header = "Authorization: Bearer {self.dispatcher_token}"'
            wo = 'write-out = "%{http_code} %{num_connects}\\n"'
            cfg.write_text("\n".join([
                f'url = "{self.url}/v1/technicians?all=1"', auth, 'output = "/dev/null"', wo, "next",
                f'url = "{self.url}/v1/sync/push"', auth, 'header = "Content-Type: application/json"',
                f'data-binary = "@{body}"', 'output = "/dev/null"', wo, "next",
                f'url = "{self.url}{self.pull_path(state["cursor"])}"', auth,
                'output = "/dev/null"', wo]) + "\n")
            state["cfg"] = cfg

        outbox = self.work / "floor-outbox.sqlite"
        run(["sqlite3", str(outbox), "PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS outbox(op_id TEXT PRIMARY KEY, body TEXT);"])
        two = lambda i: ["sqlite3", str(outbox), f"BEGIN; INSERT INTO outbox VALUES('c{i}-{time.time_ns()}', "
                                                 f"{sql_quote(json.dumps(scale_order_fields(i, 0), ensure_ascii=False))}); "
                                                 f"INSERT INTO outbox VALUES('a{i}-{time.time_ns()}', 'assign'); COMMIT;"]
        self.cmd_figure("dispatch_create", f"`dispatch create --assign li` (dispatcher's device, server at {self.n:,} orders)",
                        60, self.small_runs, create,
                        {"curl technicians + push + pull": lambda i: ["curl", "-s", "-K", str(state["cfg"])],
                         "sqlite3 2 rows": two},
                        check=check, before=before,
                        floor_check={"curl technicians + push + pull":
                                     lambda i, p: self.check_curl(p, 3, "dispatch create floor")},
                        note="online: checks the technician, records create + assign, pushes them and pulls; "
                             "floor: one curl process (GET /v1/technicians, POST the same 2 intents, GET the pull page) + "
                             "sqlite3 inserting 2 rows")
        self.notes.append(f"`dispatch create` made {len(created)} orders ({', '.join(created[:3])}…) and the floor "
                          f"{len(created) + 1} more (WO-FLOOR-…), all assigned to li")

    def board_figure(self) -> None:
        log("7. GET /v1/board, first page (dispatcher's token), curl")
        url = f"{self.url}/v1/board"
        cmd = ["curl", "-s", "-o", str(self.work / "board.json"), "-w", "%{http_code} %{time_total}",
               "-H", f"Authorization: Bearer {self.dispatcher_token}", url]
        run(cmd)  # warm-up
        board = json.loads((self.work / "board.json").read_text())
        if len(board.get("rows", [])) == 0:
            raise BenchError(f"the board's first page has no rows: {str(board)[:300]}")
        totals, procs, floor = [], [], []
        now = int(time.time() * 1000)
        # The statements as the server runs them since v10-board-rank: the orders at risk
        # (an index range), the first page of the rest in board order (an index), the
        # page's display columns, the KPI row.
        bd = "COALESCE(response_deadline, 9223372036854775807)"
        rest = (f"SELECT id, urgency, {bd} AS board_deadline FROM orders WHERE (warn_at IS NULL OR warn_at > {now}) "
                f"AND finished = 0 ORDER BY urgency, {bd}, id LIMIT 101")
        q = (f"SELECT id, urgency, response_deadline, status, assignee FROM orders "
             f"WHERE warn_at IS NOT NULL AND warn_at <= {now}; "
             f"{rest}; "
             f"SELECT id, kind, urgency, status, customer_name, address, customer_tier, special_needs, assignee, "
             f"response_deadline, created_at, on_site_at, completed_at, clock_clamped FROM orders "
             f"WHERE id IN (SELECT id FROM ({rest})); "
             f"SELECT CAST(COALESCE(SUM(met), 0) AS BIGINT), CAST(COALESCE(SUM(missed), 0) AS BIGINT), "
             f"CAST(COALESCE(SUM(signed), 0) AS BIGINT), CAST(COALESCE(SUM(satisfied), 0) AS BIGINT) FROM board_kpi;")
        fl_cmd = ["sqlite3", "-readonly", str(self.srv_db), q]
        run(fl_cmd)
        started = time.perf_counter()

        def one(i):
            t, p = timed(cmd, what="curl board")
            code, total = p.stdout.decode().split()
            if code != "200":
                raise BenchError(f"GET /v1/board: HTTP {code}")
            totals.append(float(total))
            procs.append(t)
            floor.append(timed(fl_cmd, what="sqlite3 board query")[0])
        self.runs(self.small_runs * 2, one, started=started, what="GET /v1/board")
        med = statistics.median(totals) * 1000
        self.add(f"GET /v1/board first page ({len(board['rows'])} rows, server at {self.n:,} orders)", round(med, 1), "ms",
                 key="board", target="≤ 30 ms", meets=med <= 30, floor=round(statistics.median(floor) * 1000, 1),
                 floor_parts={"sqlite3 the board's 4 queries": round(statistics.median(floor) * 1000, 1)},
                 samples=[round(s * 1000, 1) for s in totals],
                 note=f"curl's time_total (request to last byte, new connection each run); the whole curl process "
                      f"{statistics.median(procs) * 1000:.1f} ms; floor: sqlite3 process (read-only) running the server's "
                      f"board statements (orders at risk, the rest's first page, its rows, the KPI row; copied from "
                      f"SyncService+Dispatch.swift) on its database")

    # --------------------------------------------------------------------------

    def run_all(self) -> None:
        try:
            self.start_figure()
            self.setup()
            self.load()
            self.push_transitions()
            self.probe_page_size()
            mem = self.server_mem()
            size = lambda suffix: Path(str(self.srv_db) + suffix).stat().st_size / 1e6 \
                if Path(str(self.srv_db) + suffix).exists() else 0.0
            self.notes.append(f"server after loading {self.n:,} orders and the transitions: RSS {mem.get('VmRSS')} MB, "
                              f"peak {mem.get('VmHWM')} MB; database {size(''):.0f} MB + WAL {size('-wal'):.0f} MB")
            self.D = self.initial_sync("the dispatcher", self.dispatcher_token, self.n, self.sync_runs,
                                       "initial_dispatcher", f"dispatcher's empty device ← {self.n:,} orders")
            self.T = self.initial_sync("li", self.tokens["li"], len(self.li_orders), self.sync_runs,
                                       "initial_li", f"li's empty device ← his {len(self.li_orders):,} orders")
            self.sync_figures()
            self.jobs_figures()
            self.offline_figures()
            self.dispatch_figure()
            self.board_figure()
            mem = self.server_mem()
            self.notes.append(f"server at the end: RSS {mem.get('VmRSS')} MB, peak {mem.get('VmHWM')} MB")
        finally:
            if self.api:
                self.api.close()
            if self.server:
                rc = self.server.stop()
                if rc not in (0, -15, 143):
                    self.notes.append(f"fieldsync-server exited {rc} on SIGTERM")
                    log(f"fieldsync-server exited {rc} on SIGTERM\n{self.server.tail()}")


def fmt_value(row: dict) -> str:
    v, unit = row["value"], row["unit"]
    if v is None:
        return "n/a"
    if unit == "ms":
        return fmt_ms(v)
    if unit in ("orders/s", "intents/s"):
        return f"{v:,.0f} {unit}"
    return f"{v:g} {unit}"


def scale_table(rows: list[dict]) -> str:
    head = ["figure", "value", "target", "floor", "ratio", "runs", "meets"]
    out_rows = []
    for r in rows:
        floor = "—"
        if r["floor"] is not None:
            floor = fmt_value({**r, "value": r["floor"]})
        ratio = f"{r['ratio']:.1f}×" if r["ratio"] is not None else "—"
        meets = {True: "yes", False: "NO", None: "—"}[r["meets"]]
        out_rows.append([r["figure"], fmt_value(r), r["target"] or "—", floor, ratio, str(r["runs"]), meets])
    width = [max(len(h), *(len(row[i]) for row in out_rows)) for i, h in enumerate(head)]
    right = {1, 3, 4, 5}
    cell = lambda i, s: s.rjust(width[i]) if i in right else s.ljust(width[i])
    out = ["| " + " | ".join(cell(i, h) for i, h in enumerate(head)) + " |",
           "|" + "|".join(("-" * (w + 1) + ":") if i in right else ("-" * (w + 2)) for i, w in enumerate(width)) + "|"]
    out += ["| " + " | ".join(cell(i, s) for i, s in enumerate(row)) + " |" for row in out_rows]
    return "\n".join(out)


# --------------------------------------------------------------------------- report

def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    tool = lambda cmd: subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "sqlite3": tool(["sqlite3", "--version"]).split()[0],
        "curl": tool(["curl", "--version"]).split()[1],
        "python": platform.python_version(),
    }


def binary_info(path: str, kind: str) -> dict:
    ldd = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    dynamic_swift = "libswiftCore.so" in ldd
    return {
        "path": path,
        "kind": kind,
        "swift_stdlib": "dynamic (libswiftCore.so)" if dynamic_swift else "static",
        "links_libcurl": "libcurl" in ldd,
        "size_mb": round(os.path.getsize(path) / 1e6, 1),
    }


def cpu_busy_seconds() -> float:
    """Non-idle CPU time of the whole machine, all cores, from /proc/stat."""
    f = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = f[3] + (f[4] if len(f) > 4 else 0)  # idle + iowait
    busy = sum(f[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def fmt_ms(v: float) -> str:
    if v >= 1000:
        return f"{v / 1000:.2f} s"
    if v >= 100:
        return f"{v:.0f} ms"
    return f"{v:.1f} ms"


def table(results: list[dict]) -> str:
    head = ["scenario", "fieldsync (median)", "floor (medians)", "floor total", "ratio", "runs fs/floor"]
    rows = []
    for r in results:
        parts = " + ".join(f"{k} {fmt_ms(v)}" for k, v in r["floor_parts_ms"].items())
        runs = f"{r['fieldsync_runs']}/{'/'.join(str(n) for n in r['floor_runs'].values())}"
        rows.append([r["name"], fmt_ms(r["fieldsync_ms"]), parts, fmt_ms(r["floor_ms"]),
                     f"{r['ratio']:.1f}×" if r["ratio"] is not None else "n/a", runs])
    width = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    right = {1, 3, 4, 5}
    cell = lambda i, s: s.rjust(width[i]) if i in right else s.ljust(width[i])
    out = ["| " + " | ".join(cell(i, h) for i, h in enumerate(head)) + " |",
           "|" + "|".join(("-" * (w + 1) + ":") if i in right else ("-" * (w + 2)) for i, w in enumerate(width)) + "|"]
    out += ["| " + " | ".join(cell(i, s) for i, s in enumerate(row)) + " |" for row in rows]
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--fieldsync", required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--fieldsync-kind", default="?")
    ap.add_argument("--server-kind", default="?")
    ap.add_argument("--build-seconds", default="")
    ap.add_argument("--work", required=True)
    ap.add_argument("--json", required=True)
    scale = ap.add_argument_group("scale mode (tools/bench --scale)")
    scale.add_argument("--scale", action="store_true", help="the server and devices holding many orders")
    scale.add_argument("--quick", action="store_true",
                       help=f"with --scale: {SCALE_QUICK_ORDERS:,} orders, fewer runs; proves the bench runs, nothing about speed")
    scale.add_argument("--orders", type=int, default=None,
                       help=f"with --scale: orders to load (default {SCALE_ORDERS:,}; --quick {SCALE_QUICK_ORDERS:,})")
    scale.add_argument("--li-every", type=int, default=SCALE_LI_EVERY,
                       help="every Nth order goes to li, the technician whose device is measured (default %(default)s)")
    scale.add_argument("--transitions", type=int, default=None,
                       help=f"technician transitions pushed at N orders (default {SCALE_TRANSITIONS:,}; --quick 1,000)")
    scale.add_argument("--figure-budget", type=float, default=SCALE_FIGURE_BUDGET,
                       help="seconds after which a figure takes no more runs (default %(default)s)")
    scale.add_argument("--command-timeout", type=float, default=600.0,
                       help="seconds any one timed command may take (default %(default)s)")
    args = ap.parse_args()
    tools = ("sqlite3", "curl", "ldd") + (("/usr/bin/time",) if args.scale else ())
    for tool in tools:
        if not shutil.which(tool):
            print(f"bench: {tool} is not installed (tools/setup installs sqlite3 and curl; "
                  "tools/bench --scale installs the Debian package `time`)", file=sys.stderr)
            return 1
    if args.scale and args.orders is not None and args.orders < 10:
        print("bench: --orders must be at least 10", file=sys.stderr)
        return 64

    info = {
        "machine": machine(),
        "load_before": Path("/proc/loadavg").read_text().split()[:3],
        "binaries": {"fieldsync": binary_info(args.fieldsync, args.fieldsync_kind),
                     "fieldsync-server": binary_info(args.server, args.server_kind)},
        "build_seconds": dict(kv.split("=", 1) for kv in args.build_seconds.split() if "=" in kv),
    }
    m = info["machine"]
    print(f"machine:  {m['nproc']} cores, {m['cpu']}, {m['memory']}, Linux {m['kernel']}; "
          f"sqlite3 {m['sqlite3']}, curl {m['curl']}; load {' '.join(info['load_before'])}")
    for name, b in info["binaries"].items():
        print(f"binary:   {name}: {b['kind']} (Swift stdlib {b['swift_stdlib']}, "
              f"{'libcurl linked at start, ' if b['links_libcurl'] else ''}{b['size_mb']} MB)")
    if info["build_seconds"]:
        print("build:    " + ", ".join(f"{k} {v} s" for k, v in info["build_seconds"].items()))
    sys.stdout.flush()
    if args.scale:
        return scale_main(args, info)

    bench = Bench(args)
    failed, elapsed, foreign = run_measured(bench)
    if failed is not None:
        return failed
    info["other_cpu_share"] = round(foreign / (elapsed * (m["nproc"] or 1)), 3)
    info["load_after"] = Path("/proc/loadavg").read_text().split()[:3]
    info["measure_seconds"] = round(elapsed, 1)
    info["results"] = bench.results
    info["notes"] = bench.notes
    info["log_samples_ms"] = getattr(bench, "log_samples_ms", [])
    info["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")

    print()
    print(table(bench.results))
    print()
    print("ratio = fieldsync median / floor total; the floor is raw sqlite3 / curl processes doing the same")
    print("work on the same data (their process start-up included, as fieldsync's is).")
    for note in bench.notes:
        print(f"- {note}")
    for r in bench.results:
        if r["note"]:
            print(f"- {r['name'].split(':')[0]}: {r['note']}")
    print(f"measured in {elapsed:.0f} s; other processes used {info['other_cpu_share']:.0%} of the "
          f"machine's CPU meanwhile; load after {' '.join(info['load_after'])}")
    if info["other_cpu_share"] > 0.10:
        print(f"warning: something else used {info['other_cpu_share']:.0%} of the CPU during the measurement: "
              "the numbers are noisy; run again on a quiet machine")

    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


def scale_main(args: argparse.Namespace, info: dict) -> int:
    bench = ScaleBench(args)
    m = info["machine"]
    print(f"scale:    {bench.n:,} orders{' (--quick: proves the bench runs; the figures say nothing about speed)' if args.quick else ''}")
    sys.stdout.flush()
    failed, elapsed, foreign = run_measured(bench)
    if failed is not None:
        return failed
    info.update({
        "mode": "scale-quick" if args.quick else "scale",
        "orders": bench.n,
        "li_orders": len(getattr(bench, "li_orders", [])),
        "technicians": bench.k + 1,
        "pull_page": bench.page,
        "load_seconds": round(getattr(bench, "load_seconds", 0.0), 1),
        "other_cpu_share": round(foreign / (elapsed * (m["nproc"] or 1)), 3),
        "load_after": Path("/proc/loadavg").read_text().split()[:3],
        "measure_seconds": round(elapsed, 1),
        "results": bench.rows,
        "notes": bench.notes,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    })
    info["pull_page_source"] = bench.page_source
    print(f"pull:     pages of {bench.page} ({bench.page_source}); the floors fetch the same pages")
    print()
    print(scale_table(bench.rows))
    print()
    print("value: median of the runs (push: of the requests); ratio = fieldsync's time / the floor's time; the floor is")
    print("raw curl / sqlite3 processes doing the same transfer and storage on the same data (start-up included).")
    for r in bench.rows:
        if r["note"]:
            print(f"- {r['figure']}: {r['note']}")
    for note in bench.notes:
        print(f"- {note}")
    misses = [r["figure"] for r in bench.rows if r["meets"] is False]
    if args.quick:
        print("quick mode: the bench ran end to end; its figures are not compared with the targets")
    elif misses:
        print(f"misses its target: {len(misses)} figure(s): " + "; ".join(misses))
    print(f"measured in {elapsed:.0f} s; other processes used {info['other_cpu_share']:.0%} of the "
          f"machine's CPU meanwhile; load after {' '.join(info['load_after'])}")
    if info["other_cpu_share"] > 0.10:
        print(f"warning: something else used {info['other_cpu_share']:.0%} of the CPU during the measurement: "
              "the numbers are noisy; run again on a quiet machine")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
