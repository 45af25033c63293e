#!/usr/bin/env python3
"""Load bench (tools/bench --load): many devices syncing at once against one or more servers.

Run through tools/bench, which builds the release server and makes the work folder. Python
3.11 standard library only: asyncio with a small HTTP/1.1 client of its own (one keep-alive
connection per device, as the phone app keeps one), so 500 devices need no threads.

Set-up: `fieldsync-server user add` makes T technicians and a dispatcher; the dispatcher opens
ORDERS_PER_TECH orders per technician and assigns them (through the push API). Then D devices
(device i belongs to technician i mod T) start together and each does R rounds of
  push of I intents (log entries on its technician's orders) + pull until `hasMore` is false.
Every answer is checked (HTTP 200, one `applied` outcome per intent), so a fast wrong server
cannot look good. Reports requests/s and p50/p99 latency per route, and the servers' own
`/metrics` counters, as a table and as JSON.

--servers URL1,URL2 points it at running servers (round robin by device) instead of starting
one; --db then names the database they share, for `user add` (a path or a postgres:// URL).
--engine postgres starts a throwaway PostgreSQL of its own (tools/postgres, on a free loopback
port, with fsync and synchronous_commit as a production server has them) and --instances N
servers on it. --rate R spaces the syncs out: R device syncs start per second (each device's
rounds evenly spread), so the latencies are those of that load, not of a queue of every
device at once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import Api, BenchError, Feed, Server, log, scale_order_fields  # noqa: E402

ORDERS_PER_TECH = 10
PULL_LIMIT = 200
TIMEOUT = 120  # seconds for one request; none comes near it


class Connection:
    """One keep-alive HTTP/1.1 connection; reconnects once when the server closed it."""

    def __init__(self, url: str):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.connects = 0

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.connects += 1

    async def request(self, method: str, path: str, token: str, body: bytes = b"") -> tuple[int, bytes, float]:
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n")
        if body:
            head += "Content-Type: application/json\r\n"
        data = head.encode() + b"\r\n" + body
        for attempt in (1, 2):
            try:
                if self.writer is None:
                    await self._open()
                t0 = time.perf_counter()
                self.writer.write(data)
                await self.writer.drain()
                status, payload, close = await asyncio.wait_for(self._response(), TIMEOUT)
                elapsed = time.perf_counter() - t0
                if close:
                    self.close()
                return status, payload, elapsed
            except (ConnectionError, asyncio.IncompleteReadError, OSError) as e:
                self.close()
                if attempt == 2:
                    raise BenchError(f"{method} {path}: {e!r}") from e
        raise AssertionError("unreachable")

    async def _response(self) -> tuple[int, bytes, bool]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        payload = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return status, payload, headers.get("connection", "").lower() == "close"

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) by nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


class LoadBench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.work = Path(args.work)
        self.server: Server | None = None
        self.urls: list[str] = []
        self.db = args.db
        self.tokens: dict[str, str] = {}
        self.orders: dict[str, list[str]] = {}
        self.create_op: dict[str, str] = {}
        self.latencies: dict[str, list[float]] = {"POST /v1/sync/push": [], "GET /v1/sync/pull": []}
        self.pulled_orders = 0
        self.failures: list[str] = []
        # The most seen at once by the /metrics sampler: requests in flight, database calls
        # running, database calls waiting for a thread.
        self.peaks = {"fieldsync_http_requests_in_flight": 0.0, "fieldsync_database_pool_in_flight": 0.0,
                      "fieldsync_database_pool_waiting": 0.0}

    # set-up -------------------------------------------------------------------

    def start(self) -> None:
        if self.args.engine == "postgres" and not self.args.servers:
            self.start_postgres()
            return
        if self.args.servers:
            self.urls = [u.strip().rstrip("/") for u in self.args.servers.split(",") if u.strip()]
            if not self.db:
                raise BenchError("--servers needs --db: the database the servers share, for `fieldsync-server user add`")
            log(f"using the running servers {', '.join(self.urls)} (database {self.db})")
        else:
            self.db = str(self.work / "server.sqlite")
            self.server = Server(self.args.server, Path(self.db), self.work)
            self.urls = [self.server.url]
            log(f"started {self.args.server} on {self.server.url} (SQLite {self.db})")

    def start_postgres(self) -> None:
        """A throwaway PostgreSQL (tools/postgres), a database on it, and the instances."""
        import tempfile
        tools = Path(__file__).resolve().parent
        # Its own folder under /tmp: as root, tools/postgres hands it to the postgres user,
        # who may not enter the bench's work folder.
        self.pg_dir = Path(tempfile.mkdtemp(prefix="fieldsync-bench-pg."))
        url = subprocess.run([str(tools / "postgres"), "start", str(self.pg_dir), "--durable"],
                             capture_output=True, text=True, check=True, timeout=TIMEOUT).stdout.strip()
        subprocess.run(["psql", url, "-qc", "CREATE DATABASE fieldsync_load"], check=True, capture_output=True, timeout=TIMEOUT)
        self.db = url.rsplit("/", 1)[0] + "/fieldsync_load"
        migrated = subprocess.run([self.args.server, "migrate", "--db", self.db], capture_output=True, text=True, timeout=TIMEOUT)
        if migrated.returncode != 0:
            raise BenchError(f"migrate: {migrated.stderr.strip()}")
        self.instances = []
        for n in range(self.args.instances):
            folder = self.work / f"instance-{n + 1}"
            folder.mkdir(parents=True, exist_ok=True)
            # The instances share one folder of photos and signatures, as in production.
            self.instances.append(Server(self.args.server, self.db, folder, ("--blob-dir", str(self.work / "blobs"))))
        self.urls = [server.url for server in self.instances]
        log(f"started {len(self.instances)} instance(s) of {self.args.server} on PostgreSQL {self.db}: {', '.join(self.urls)}")

    def user(self, name: str, role: str) -> str:
        p = subprocess.run([self.args.server, "user", "add", "--db", self.db, "--role", role, name],
                           capture_output=True, text=True, timeout=TIMEOUT)
        if p.returncode != 0:
            raise BenchError(f"user add {name}: {p.stderr.strip()}")
        return p.stdout.strip()

    def setup(self) -> None:
        t = self.args.technicians
        run_tag = f"{int(time.time()) % 100000:05d}"
        self.techs = [f"load{run_tag}-t{i:03d}" for i in range(1, t + 1)]
        log(f"adding {t} technicians and a dispatcher")
        self.dispatcher = f"load{run_tag}-desk"
        self.tokens[self.dispatcher] = self.user(self.dispatcher, "dispatcher")
        for tech in self.techs:
            self.tokens[tech] = self.user(tech, "technician")
        log(f"opening {ORDERS_PER_TECH * t} orders ({ORDERS_PER_TECH} per technician)")
        desk = Feed(f"{self.dispatcher}-dev", self.dispatcher, "dispatcher")
        api = Api(self.urls[0])
        now_ms = int(time.time() * 1000)
        intents: list[dict] = []
        n = 0
        for tech in self.techs:
            self.orders[tech] = []
            for _ in range(ORDERS_PER_TECH):
                n += 1
                oid = f"LOAD-{run_tag}-{n:05d}"
                create = desk.intent(oid, {"kind": "create", "fields": scale_order_fields(n, now_ms)})
                intents += [create, desk.intent(oid, {"kind": "assign", "technician": tech}, create["opId"])]
                self.orders[tech].append(oid)
                self.create_op[oid] = create["opId"]
        for i in range(0, len(intents), 200):
            r = api.json("POST", "/v1/sync/push", self.tokens[self.dispatcher], desk.body(intents[i:i + 200]))
            bad = [o for o in r["outcomes"] if o["result"] != "applied"]
            if bad:
                raise BenchError(f"opening the orders: {bad[0]}")
        api.close()

    # the load -----------------------------------------------------------------

    async def device(self, i: int, go: asyncio.Event) -> None:
        tech = self.techs[i % len(self.techs)]
        token = self.tokens[tech]
        feed = Feed(f"{tech}-phone{i:04d}", tech, "technician")
        conn = Connection(self.urls[i % len(self.urls)])
        orders = self.orders[tech]
        cursor = 0
        await go.wait()
        try:
            for r in range(self.args.rounds):
                if self.args.rate:
                    # Open loop: sync number i + r * devices starts at its slot, whatever the
                    # answers before it took.
                    start = self.t0 + (i + r * self.args.devices) / self.args.rate
                    await asyncio.sleep(max(0.0, start - time.perf_counter()))
                intents = []
                for k in range(self.args.intents):
                    oid = orders[(i + k) % len(orders)]
                    intents.append(feed.intent(oid, {"kind": "append", "child": {
                        "id": f"{feed.device}-r{r}-{k}", "kind": "log",
                        "text": f"现场记录 第 {r + 1} 轮 第 {k + 1} 条: 检查阀门与回水温度"}}, self.create_op[oid]))
                status, payload, seconds = await conn.request("POST", "/v1/sync/push", token, feed.body(intents))
                self.latencies["POST /v1/sync/push"].append(seconds)
                if status != 200:
                    raise BenchError(f"push of {feed.device}: HTTP {status}: {payload[:300]!r}")
                outcomes = json.loads(payload)["outcomes"]
                applied = sum(1 for o in outcomes if o["result"] == "applied" and not o["duplicate"])
                if applied != len(intents):
                    raise BenchError(f"push of {feed.device}: {applied} of {len(intents)} applied: {outcomes[:2]}")
                while True:
                    status, payload, seconds = await conn.request(
                        "GET", f"/v1/sync/pull?cursor={cursor}&limit={PULL_LIMIT}&delta=1", token)
                    self.latencies["GET /v1/sync/pull"].append(seconds)
                    if status != 200:
                        raise BenchError(f"pull of {feed.device}: HTTP {status}: {payload[:300]!r}")
                    page = json.loads(payload)
                    self.pulled_orders += len(page["orders"])
                    cursor = page["cursor"]
                    if not page["hasMore"]:
                        break
        except BenchError as e:
            self.failures.append(str(e))
        finally:
            conn.close()

    async def sample(self, done: asyncio.Event) -> None:
        """Scrapes each server's gauges every 0.2 s while the load runs and keeps the peaks."""
        conns = [Connection(url) for url in self.urls]
        while not done.is_set():
            for conn in conns:
                try:
                    status, payload, _ = await conn.request("GET", "/metrics", "")
                except BenchError:
                    continue
                for line in payload.decode().splitlines():
                    name, _, value = line.partition(" ")
                    if name in self.peaks:
                        self.peaks[name] = max(self.peaks[name], float(value))
            try:
                await asyncio.wait_for(done.wait(), 0.2)
            except asyncio.TimeoutError:
                pass
        for conn in conns:
            conn.close()

    def server_cpu(self) -> float:
        """User + system CPU seconds of our own servers so far (/proc/PID/stat); nan for --servers."""
        servers = [self.server] if self.server else getattr(self, "instances", [])
        if not servers:
            return float("nan")
        try:
            total = 0.0
            for server in servers:
                f = Path(f"/proc/{server.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
            return total
        except (OSError, IndexError, ValueError):
            return float("nan")

    async def load(self) -> float:
        go, done = asyncio.Event(), asyncio.Event()
        tasks = [asyncio.create_task(self.device(i, go)) for i in range(self.args.devices)]
        sampler = asyncio.create_task(self.sample(done))
        await asyncio.sleep(0)  # every device is waiting on `go`: they start together
        t0 = time.perf_counter()
        self.t0 = t0
        go.set()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - t0
        done.set()
        await sampler
        return elapsed

    def metrics(self) -> dict:
        """The counters of each server's /metrics we report, summed over the servers."""
        wanted = ("fieldsync_push_outcomes_total", "fieldsync_pull_items_total")
        sums: dict[str, float] = {}
        for url in self.urls:
            u = urllib.parse.urlsplit(url)
            import http.client
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=TIMEOUT)
            conn.request("GET", "/metrics")
            text = conn.getresponse().read().decode()
            conn.close()
            for line in text.splitlines():
                if line.startswith(wanted):
                    series, _, value = line.rpartition(" ")
                    sums[series] = sums.get(series, 0) + float(value)
        return sums

    def stop(self) -> int | None:
        for server in getattr(self, "instances", []):
            server.stop()
        if hasattr(self, "pg_dir"):
            import shutil
            subprocess.run([str(Path(__file__).resolve().parent / "postgres"), "stop", str(self.pg_dir)],
                           capture_output=True, timeout=TIMEOUT)
            shutil.rmtree(self.pg_dir, ignore_errors=True)
        return self.server.stop() if self.server else None


def table(rows: list[dict]) -> str:
    head = ["route", "requests", "req/s", "p50 ms", "p99 ms", "max ms"]
    body = [[r["route"], f"{r['requests']:,}", f"{r['rps']:,.0f}", f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}",
             f"{r['max_ms']:.1f}"] for r in rows]
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    fmt = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(b) for b in body])


def main() -> int:
    p = argparse.ArgumentParser(description="FieldSync load bench: many devices syncing at once.")
    p.add_argument("--server", required=True, help="the fieldsync-server binary (started, and used for `user add`)")
    p.add_argument("--server-kind", default="", help="how the binary was built, for the report")
    p.add_argument("--work", required=True, help="a scratch folder (database, logs)")
    p.add_argument("--json", required=True, help="where the results go")
    p.add_argument("--servers", default="", help="comma-separated URLs of running servers, round robin by device")
    p.add_argument("--db", default="", help="with --servers: the database they share, for `user add`")
    p.add_argument("--devices", type=int, default=500)
    p.add_argument("--technicians", type=int, default=50)
    p.add_argument("--rounds", type=int, default=3, help="push + pull rounds per device")
    p.add_argument("--intents", type=int, default=20, help="intents per push")
    p.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite",
                   help="the store of the servers this bench starts (postgres: a throwaway one of its own)")
    p.add_argument("--instances", type=int, default=1, help="with --engine postgres: servers on the one database")
    p.add_argument("--rate", type=float, default=0.0,
                   help="device syncs started per second (0: every device at once, as fast as it can)")
    args = p.parse_args()
    if args.instances < 1 or (args.instances > 1 and args.engine != "postgres"):
        p.error("--instances needs --engine postgres (SQLite serves one instance) and must be at least 1")
    if args.rate < 0:
        p.error("--rate must be 0 (all at once) or more")
    for name in ("devices", "technicians", "rounds", "intents"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    if args.intents > 500:
        p.error("--intents must be at most 500 (the server's limit per push)")

    bench = LoadBench(args)
    try:
        bench.start()
        bench.setup()
        pace = f"{args.rate:g} syncs started per second" if args.rate else "all at once"
        log(f"{args.devices} devices x {args.rounds} rounds of push ({args.intents} intents) + pull, {pace}")
        cpu0 = os.times()
        server_cpu0 = bench.server_cpu()
        elapsed = asyncio.run(bench.load())
        client_cpu = (os.times().user - cpu0.user) + (os.times().system - cpu0.system)
        server_cpu = bench.server_cpu() - server_cpu0
        counters = bench.metrics()
    finally:
        bench.stop()
    if bench.failures:
        print(f"load bench FAILED: {len(bench.failures)} device(s) failed; first: {bench.failures[0]}")
        return 1

    rows = []
    total = 0
    for route, values in bench.latencies.items():
        total += len(values)
        rows.append({"route": route, "requests": len(values), "rps": len(values) / elapsed,
                     "p50_ms": percentile(values, 50) * 1000, "p99_ms": percentile(values, 99) * 1000,
                     "max_ms": max(values) * 1000, "mean_ms": statistics.fmean(values) * 1000})
    rows.append({"route": "all", "requests": total, "rps": total / elapsed,
                 "p50_ms": percentile(sum(bench.latencies.values(), []), 50) * 1000,
                 "p99_ms": percentile(sum(bench.latencies.values(), []), 99) * 1000,
                 "max_ms": max(sum(bench.latencies.values(), [])) * 1000,
                 "mean_ms": statistics.fmean(sum(bench.latencies.values(), [])) * 1000})
    intents = args.devices * args.rounds * args.intents
    info = {
        "mode": "load",
        "servers": bench.urls if args.servers else [
            f"own: {args.server_kind or args.server}, "
            + (f"{args.instances} instance(s) on PostgreSQL" if args.engine == "postgres" else "SQLite")],
        "engine": args.engine, "instances": args.instances, "rate_per_s": args.rate or None,
        "devices": args.devices, "technicians": args.technicians, "rounds": args.rounds,
        "intents_per_push": args.intents, "orders": ORDERS_PER_TECH * args.technicians,
        "seconds": round(elapsed, 2), "intents_applied": intents, "intents_per_s": round(intents / elapsed),
        "orders_pulled": bench.pulled_orders, "client_cpu_seconds": round(client_cpu, 1),
        "server_cpu_seconds": None if server_cpu != server_cpu else round(server_cpu, 1),
        "peaks": bench.peaks,
        "machine": {"nproc": os.cpu_count(), "python": platform.python_version(),
                    "load_after": Path("/proc/loadavg").read_text().split()[:3]},
        "server_metrics": counters,
        "results": [{k: (round(v, 2) if isinstance(v, float) else v) for k, v in r.items()} for r in rows],
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    print(f"load: {args.devices} devices ({args.technicians} technicians, {ORDERS_PER_TECH * args.technicians} orders) x "
          f"{args.rounds} rounds of push {args.intents} intents + pull, "
          f"{'%g syncs started per second' % args.rate if args.rate else 'all at once'}, against {', '.join(info['servers'])}")
    print()
    print(table(rows))
    print()
    print(f"{total:,} requests in {elapsed:.1f} s: {total / elapsed:,.0f} requests/s, {intents / elapsed:,.0f} intents/s "
          f"applied; {bench.pulled_orders:,} orders pulled")
    print(f"latency: from sending a request to reading its whole answer, on the client (all devices run in one Python "
          f"process, which used {client_cpu:.1f} s of CPU: on a small machine it competes with the server)")
    if server_cpu == server_cpu:
        print(f"server CPU: {server_cpu:.1f} s for the load, {server_cpu / total * 1000:.1f} ms per request "
              f"({server_cpu / elapsed:.2f} of {os.cpu_count()} cores busy on average)")
    print(f"at most at once (sampled every 0.2 s): {bench.peaks['fieldsync_http_requests_in_flight']:.0f} requests in "
          f"flight, {bench.peaks['fieldsync_database_pool_in_flight']:.0f} database calls running, "
          f"{bench.peaks['fieldsync_database_pool_waiting']:.0f} waiting for a thread")
    applied = counters.get('fieldsync_push_outcomes_total{result="applied"}')
    events = counters.get('fieldsync_pull_items_total{kind="events"}', 0)
    if applied is not None:
        print(f"server /metrics: {applied:,.0f} intents applied in all (set-up included), {events:,.0f} events pulled")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"load bench: {e}", file=sys.stderr)
        sys.exit(1)
