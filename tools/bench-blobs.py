#!/usr/bin/env python3
"""tools/bench --blobs: photo upload throughput against curl, same server, same run.

100 photos of 2 MB (JPEG-typed random bytes) are attached offline with `fieldsync photo`;
then `fieldsync sync` is timed: it uploads each photo with a streamed, resumable PUT (a
HEAD only when continuing an earlier attempt) before it pushes the 100 intents that name
them, and pulls. The floor is one
`curl` process uploading the same 100 files to the same routes (PUT /v1/blobs/{sha256},
one reused connection). Between runs the server's blob folder is emptied so every run
uploads every byte. Rounds alternate (fieldsync, curl) and the medians are compared:
target fieldsync ≥ 0.8 × curl in MB/s.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time


def run(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--fieldsync", required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--photos", type=int, default=100)
    ap.add_argument("--mb", type=float, default=2.0)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    work = args.work
    db = os.path.join(work, "server", "db.sqlite")
    os.makedirs(os.path.dirname(db), exist_ok=True)
    log = open(os.path.join(work, "server.log"), "w")
    server = subprocess.Popen([args.server, "serve", "--db", db, "--host", "127.0.0.1", "--port", "0"],
                              stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        line = server.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:\d+", line)
        if not m:
            print(f"bench-blobs: the server did not start: {line!r}", file=sys.stderr)
            return 1
        url = m.group(0)
        disp = run([args.server, "user", "add", "--db", db, "--role", "dispatcher", "wang"]).stdout.strip()
        tech = run([args.server, "user", "add", "--db", db, "--role", "technician", "li"]).stdout.strip()
        desk = ["--home", os.path.join(work, "desk")]
        run([args.fieldsync, "login", *desk, "--server", url, "--token", disp])
        run([args.fieldsync, "dispatch", "create", *desk, "--id", "WO-BLOB-1", "--urgency", "2",
             "--customer", "王秀英", "--address", "和平路 12 号", "--assign", "li"])

        size = int(args.mb * 1024 * 1024)
        files = []
        os.makedirs(os.path.join(work, "photos"), exist_ok=True)
        for i in range(args.photos):
            path = os.path.join(work, "photos", f"p{i:03}.jpg")
            with open(path, "wb") as f:
                f.write(b"\xff\xd8\xff\xe0" + os.urandom(size - 4))
            files.append(path)
        digests = [hashlib.sha256(open(p, "rb").read()).hexdigest() for p in files]
        total_mb = size * len(files) / 1e6
        blobs = db + ".blobs"

        def wipe():
            for name in os.listdir(blobs):
                if name != "partial":
                    shutil.rmtree(os.path.join(blobs, name))

        def held():
            return sum(1 for d in digests if os.path.exists(os.path.join(blobs, d[:2], d)))

        fs_times, curl_times = [], []
        for r in range(args.rounds):
            home = ["--home", os.path.join(work, f"tech{r}")]
            run([args.fieldsync, "login", *home, "--server", url, "--token", tech])
            run([args.fieldsync, "sync", *home])
            for p in files:
                run([args.fieldsync, "photo", *home, "WO-BLOB-1", p])
            wipe()
            start = time.perf_counter()
            out = run([args.fieldsync, "sync", *home, "--json"]).stdout
            fs_times.append(time.perf_counter() - start)
            report = json.loads(out)
            if held() != len(files) or report.get("uploadedBlobs") != len(files) or report.get("applied") != len(files):
                print(f"bench-blobs: fieldsync did not upload everything: {report}", file=sys.stderr)
                return 1

            wipe()
            cmd = ["curl", "-sS", "--fail", "-H", f"Authorization: Bearer {tech}",
                   "-H", "Content-Type: application/octet-stream", "-H", "Expect:"]
            for p, d in zip(files, digests):
                cmd += ["-T", p, f"{url}/v1/blobs/{d}"]
            start = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            curl_times.append(time.perf_counter() - start)
            if held() != len(files):
                print("bench-blobs: curl did not upload everything", file=sys.stderr)
                return 1
            print(f"round {r + 1}: fieldsync sync {fs_times[-1]:.2f} s, curl {curl_times[-1]:.2f} s", file=sys.stderr)

        fs = statistics.median(fs_times)
        cu = statistics.median(curl_times)
        ratio = (total_mb / fs) / (total_mb / cu)
        result = {
            "photos": len(files), "bytesEach": size, "rounds": args.rounds,
            "fieldsyncSeconds": fs_times, "curlSeconds": curl_times,
            "fieldsyncMBps": round(total_mb / fs, 1), "curlMBps": round(total_mb / cu, 1),
            "ratio": round(ratio, 3), "target": 0.8, "meets": ratio >= 0.8,
        }
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
        print(f"blobs:    {len(files)} photos × {args.mb:g} MB over loopback, median of {args.rounds} rounds")
        print(f"fieldsync sync (streamed PUT each, then push and pull): {total_mb / fs:7.1f} MB/s  ({fs:.2f} s)")
        print(f"curl, one process, same files and routes:               {total_mb / cu:7.1f} MB/s  ({cu:.2f} s)")
        print(f"ratio {ratio:.2f} × curl (target ≥ 0.8): {'meets' if ratio >= 0.8 else 'MISSES'}")
        return 0 if ratio >= 0.8 else 2
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    sys.exit(main())
