#!/usr/bin/env python3
"""FieldSync against the floor: raw `sqlite3` and raw `curl` on the same data.

Run through tools/bench, which builds the binaries and makes the work folder. Python 3.11
standard library only. Every figure is the median of wall-clock times of whole processes
(time.perf_counter() around subprocess.run), so process start-up is in every number, the
floor's included.
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


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], *, stdin_path: Path | None = None, what: str = "") -> subprocess.CompletedProcess:
    """Runs cmd to completion; raises BenchError with its stderr when it fails."""
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    try:
        p = subprocess.run(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=CMD_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        raise BenchError(f"{what or cmd[0]}: timed out after {CMD_TIMEOUT} s: {short(cmd)}") from e
    finally:
        if stdin_path:
            stdin.close()
    if p.returncode != 0:
        raise BenchError(
            f"{what or Path(cmd[0]).name} exited {p.returncode}: {short(cmd)}\n"
            f"--- stderr ---\n{p.stderr.decode(errors='replace').strip()}\n"
            f"--- stdout (first 2000 bytes) ---\n{p.stdout[:2000].decode(errors='replace').strip()}")
    return p


def timed(cmd: list[str], *, stdin_path: Path | None = None, what: str = "") -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    p = run(cmd, stdin_path=stdin_path, what=what)
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

    def __init__(self, binary: str, db: Path, work: Path):
        self.work = work
        self.stderr_path = work / "server.stderr"
        self.stdout_path = work / "server.stdout"
        self.stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [binary, "serve", "--db", str(db), "--host", "127.0.0.1", "--port", "0"],
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
        if report.get("pulledOrders") != ORDERS:
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
            if report.get("pulledOrders") != ORDERS or report.get("repaired"):
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
        device = f"dev-bench-{uuid.uuid4()}"
        now_ms = int(time.time() * 1000)
        intents = []
        for seq, (_, body) in enumerate(self.push_rows, start=1):
            it = json.loads(body)
            it.update(opId=str(uuid.uuid4()), deviceId=device, deviceSeq=seq, orderId=twin[it["orderId"]])
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
    args = ap.parse_args()
    for tool in ("sqlite3", "curl", "ldd"):
        if not shutil.which(tool):
            print(f"bench: {tool} is not installed (tools/setup installs sqlite3 and curl)", file=sys.stderr)
            return 1

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

    bench = Bench(args)
    busy0, ours0, t0 = cpu_busy_seconds(), own_cpu_seconds(), time.perf_counter()
    try:
        bench.run_all()
    except BenchError as e:
        print(f"bench: FAILED: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted; the server was stopped", file=sys.stderr)
        return 130
    elapsed = time.perf_counter() - t0
    # CPU time the machine spent on other processes while we measured (the server is our
    # child and has been waited for, so its time is ours).
    foreign = max(0.0, (cpu_busy_seconds() - busy0) - (own_cpu_seconds() - ours0))
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


if __name__ == "__main__":
    sys.exit(main())
