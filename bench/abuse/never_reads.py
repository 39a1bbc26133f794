#!/usr/bin/env python3
"""A peer that sends and never reads, against an echo server (issue 12's backpressure case).

usage: never_reads.py SERVER_CMD... [--mb 200] [--seconds 20]

Starts the server command (it must print `listening on HOST:PORT` first), connects once,
sends up to --mb MiB without ever reading for at most --seconds, and samples the server's
resident memory (VmRSS) all along. Then closes the connection and samples again. Prints
one line: sent MiB, peak RSS and RSS after, and the baseline before the connection.
Loopback only; the server process is killed at the end.
"""
import os, select, socket, subprocess, sys, time

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

def main():
    args = sys.argv[1:]
    mb, seconds = 200, 20.0
    if "--mb" in args:
        i = args.index("--mb"); mb = int(args[i + 1]); del args[i:i + 2]
    if "--seconds" in args:
        i = args.index("--seconds"); seconds = float(args[i + 1]); del args[i:i + 2]
    srv = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        line = srv.stdout.readline().strip()
        host, port = line.rsplit(" ", 1)[1].rsplit(":", 1)
        time.sleep(0.2)
        base = rss_kib(srv.pid)
        c = socket.create_connection((host.strip("[]"), int(port)))
        c.setblocking(False)
        chunk = b"x" * (64 * 1024)
        total, goal, peak = 0, mb * 1024 * 1024, base
        start = time.time()
        stalled_since = None
        while total < goal and time.time() - start < seconds:
            _, w, _ = select.select([], [c], [], 0.05)
            if w:
                try:
                    total += c.send(chunk)
                    stalled_since = None
                except BlockingIOError:
                    pass
            else:
                stalled_since = stalled_since or time.time()
                # Blocked for 2 s: the server stopped reading (back-pressure holds).
                if time.time() - stalled_since > 2.0:
                    break
            peak = max(peak, rss_kib(srv.pid))
        peak = max(peak, rss_kib(srv.pid))
        c.close()
        time.sleep(1.0)
        after = rss_kib(srv.pid)
        print(f"sent {total / 1048576:.1f} MiB in {time.time() - start:.1f} s without reading; "
              f"server RSS baseline {base / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB "
              f"(+{(peak - base) / 1024:.1f}), after close {after / 1024:.1f} MiB")
    finally:
        srv.kill()
        srv.wait()

if __name__ == "__main__":
    main()
