#!/usr/bin/env python3
"""The idle daemon's memory: `yaowen run` with FEEDS farm sources configured.

Starts feedfarm.py on 127.0.0.1, imports its OPML into a fresh config, starts
the daemon, waits for its first cycle (log line "cycle done") and then samples
VmRSS / VmHWM from /proc/PID/status once a second while it idles. Writes one
JSON record to --out. Everything it starts it stops, also on failure.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request


def wait_healthy(port, proc, deadline_s=120):
    end = time.time() + deadline_s
    while time.time() < end:
        if proc.poll() is not None:
            sys.exit("feedfarm exited early")
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=2) as r:
                if r.read().startswith(b"ok"):
                    return
        except OSError:
            time.sleep(0.25)
    sys.exit("feedfarm not healthy in time")


def status_kb(pid):
    out = {}
    with open("/proc/%d/status" % pid) as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
                out[key] = int(value.split()[0])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--yaowen", required=True)
    ap.add_argument("--farm", required=True)
    ap.add_argument("--port", type=int, default=18765)
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--sample-s", type=int, default=25)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    farm = subprocess.Popen([sys.executable, a.farm, "--port", str(a.port), "--feeds", str(a.feeds),
                             "--items", "20", "--seed", "1", "--max-lifetime", "600",
                             "--truth", os.path.join(a.dir, "truth.json")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    daemon = None
    try:
        wait_healthy(a.port, farm)
        opml = os.path.join(a.dir, "feeds.opml")
        with urllib.request.urlopen("http://127.0.0.1:%d/feeds.opml" % a.port, timeout=30) as r:
            open(opml, "wb").write(r.read())
        config = os.path.join(a.dir, "config.toml")
        with open(config, "w") as fh:
            fh.write('[store]\npath = "store"\n[output]\ndir = "public"\n'
                     "[fetch]\nconcurrency = %d\nper_host = %d\nmin_host_interval_ms = 0\n" % (a.threads, a.threads))
        subprocess.run([a.yaowen, "--config", config, "opml", "import", opml, "--allow-private"],
                       check=True, stdout=subprocess.DEVNULL)
        log_path = os.path.join(a.dir, "daemon.log")
        log = open(log_path, "wb")
        env = dict(os.environ, RUST_LOG="info")
        env.pop("JOURNAL_STREAM", None)
        t0 = time.time()
        daemon = subprocess.Popen([a.yaowen, "--config", config, "run"], stdout=log, stderr=log, env=env)
        while b"cycle done" not in open(log_path, "rb").read():
            if daemon.poll() is not None or time.time() - t0 > 300:
                sys.exit("daemon did not finish its first cycle: see %s" % log_path)
            time.sleep(0.2)
        first_cycle_s = time.time() - t0
        time.sleep(1)  # let it write the outputs and go idle
        samples = []
        for _ in range(a.sample_s):
            samples.append(status_kb(daemon.pid))
            time.sleep(1)
        rss = [s["VmRSS"] for s in samples]
        rec = dict(feeds=a.feeds, items_per_feed=20, first_cycle_s=round(first_cycle_s, 1),
                   sample_s=a.sample_s, idle_rss_mb_min=round(min(rss) / 1024, 1),
                   idle_rss_mb_max=round(max(rss) / 1024, 1), idle_rss_mb_last=round(rss[-1] / 1024, 1),
                   rss_anon_mb_last=round(samples[-1].get("RssAnon", 0) / 1024, 1),
                   rss_file_mb_last=round(samples[-1].get("RssFile", 0) / 1024, 1),
                   vm_hwm_mb=round(samples[-1]["VmHWM"] / 1024, 1), threads=samples[-1].get("Threads"))
        with open(a.out, "w") as fh:
            json.dump(rec, fh)
        print("  idle daemon, %d sources: first cycle %.1fs; idle RSS %.1f-%.1f MB, peak (VmHWM) %.1f MB" % (
            a.feeds, first_cycle_s, rec["idle_rss_mb_min"], rec["idle_rss_mb_max"], rec["vm_hwm_mb"]))
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=15)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        farm.terminate()
        farm.wait()


if __name__ == "__main__":
    main()
