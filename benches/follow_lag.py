#!/usr/bin/env python3
"""Whether `mailtrace follow` keeps up with a busy log: lines are appended to a file at a
steady rate while `follow` tails it into a fresh store; the lag is how long a line waits
between being written and being committed (the file position `store info` reports).

    benches/follow_lag.py SOURCE_LOG [--rate LINES_PER_S] [--seconds N] [--interval S]
                                     [--bin PATH] [--work DIR]

SOURCE_LOG gives the lines (e.g. a log from examples/genlog.rs); --rate (default 50000) of
them are appended per second, in tenths of a second, for --seconds (default 30). `follow`
runs with --interval (default 2, its default). `store info` is polled every 0.25 s. Printed:
lines written and committed, the median, 90th percentile and largest lag, the time from the
last write to its commit, and follow's peak RSS (from /proc while it runs).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("source")
    ap.add_argument("--rate", type=int, default=50000)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--interval", type=float, default=2)
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "mailtrace"))
    ap.add_argument("--work", default=None)
    a = ap.parse_args()

    work = a.work or tempfile.mkdtemp(prefix="mailtrace-follow-")
    live = os.path.join(work, "mail.log")
    store = os.path.join(work, "store")
    shutil.rmtree(store, ignore_errors=True)
    open(live, "wb").close()

    need = a.rate * a.seconds
    with open(a.source, "rb") as f:
        lines = []
        for line in f:
            lines.append(line)
            if len(lines) == need:
                break
    if len(lines) < need:
        sys.exit(f"{a.source} has {len(lines)} lines, {need} needed")

    follow = subprocess.Popen(
        [a.bin, "follow", "--store", store, "--interval", str(a.interval), "--year", "2026", "--timezone", "UTC", live],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    peak_kib = [0]
    written = []  # (time, lines written so far)
    done = threading.Event()

    def watch_rss():
        while not done.is_set():
            try:
                with open(f"/proc/{follow.pid}/status") as s:
                    for l in s:
                        if l.startswith("VmHWM:"):
                            peak_kib[0] = max(peak_kib[0], int(l.split()[1]))
            except OSError:
                pass
            time.sleep(0.05)

    threading.Thread(target=watch_rss, daemon=True).start()
    time.sleep(1.0)  # follow is up and waiting

    def committed():
        r = subprocess.run([a.bin, "store", "info", "--store", store, "--format", "json"], capture_output=True, text=True)
        if r.returncode != 0:
            return 0
        try:
            info = json.loads(r.stdout)
        except json.JSONDecodeError:
            return 0
        return sum(f.get("done", {}).get("line", 0) for f in info.get("files", []))

    seen = []  # (time, committed lines)

    def poll():
        while not done.is_set():
            seen.append((time.time(), committed()))
            time.sleep(0.25)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()

    step = a.rate // 10
    start = time.time()
    with open(live, "ab", buffering=0) as out:
        for i in range(0, need, step):
            due = start + (i // step) * 0.1
            pause = due - time.time()
            if pause > 0:
                time.sleep(pause)
            out.write(b"".join(lines[i : i + step]))
            written.append((time.time(), min(i + step, need)))
    wrote_all = time.time()
    deadline = wrote_all + 60
    while committed() < need and time.time() < deadline:
        time.sleep(0.1)
    caught_up = time.time()
    done.set()
    poller.join()
    follow.terminate()
    follow.wait()

    # lag of each write: from when it was written to the first poll that saw it committed
    lags = []
    for t, n in written:
        for ts, c in seen:
            if ts >= t and c >= n:
                lags.append(ts - t)
                break
        else:
            lags.append(caught_up - t)
    lags.sort()
    p90 = lags[int(len(lags) * 0.9)]
    print(f"rate {a.rate} lines/s for {a.seconds} s ({need} lines, {sum(map(len, lines)) / 1e6:.0f} MB), follow --interval {a.interval}")
    print(f"written in {wrote_all - start:.1f} s; all committed {caught_up - wrote_all:.1f} s after the last write")
    print(f"lag: median {statistics.median(lags):.2f} s, p90 {p90:.2f} s, max {lags[-1]:.2f} s (polled every 0.25 s)")
    print(f"follow peak RSS {peak_kib[0] / 1024:.0f} MiB")
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
