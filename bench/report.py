#!/usr/bin/env python3
"""bench/RESULTS.md from one run dir: the machine, the shared harness's own
report (mkreport.py) and yaowen's targets checked against the same run."""
import argparse
import datetime
import json
import os
import platform
import subprocess


def sh(cmd, cwd=None):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60, cwd=cwd).stdout.strip()
    except Exception:
        return "?"


def machine(root):
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem_kb = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    commit = sh("git rev-parse --short HEAD", root) + (" (+ uncommitted changes)" if sh("git status --porcelain -- src Cargo.toml", root) else "")
    return ["| | |", "|---|---|",
            "| date | %s |" % datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "| CPU | %s, nproc %s |" % (model, sh("nproc")),
            "| memory | %.1f GiB |" % (mem_kb / 1024 / 1024),
            "| kernel | %s |" % platform.release(),
            "| yaowen | %s, `cargo build --release`, %s |" % (commit, sh("rustc --version")),
            "| load at end | %s (the box is shared; see other-CPU per pass) |" % open("/proc/loadavg").read().split()[0]]


def load(run):
    recs = [json.loads(l) for l in open(os.path.join(run, "results.jsonl")) if l.strip()]
    passes = {(r["peer"], r["n"], str(r["pass_"])): r for r in recs if "pass_" in r and not r.get("skipped")}
    dedupe = {(r["peer"], r["n"]): r["dedupe"] for r in recs if "dedupe" in r}
    return passes, dedupe


def fmt(x, unit=""):
    return "-" if x is None else "%.2f%s" % (x, unit)


def targets(passes, dedupe, merges, idle):
    out = ["| target | measured | met |", "|---|---|---|"]
    yw = [k for k in passes if k[0].startswith("yw") and k[1] == 1000 and k[2] == "1"]
    nb = [k for k in passes if k[0].startswith("nb") and k[1] == 1000 and k[2] == "1"]
    if yw and nb:
        y = passes[yw[0]]
        fastest = min(nb, key=lambda k: passes[k]["wall_s"])
        ratio = passes[fastest]["wall_s"] / y["wall_s"]
        out.append("| N=1000 cold ≥ 10× faster than newsboat | %s %.2f s vs %s %.2f s: **%.1f×** | %s |" % (
            yw[0][0], y["wall_s"], fastest[0], passes[fastest]["wall_s"], ratio, "yes" if ratio >= 10 else "**no**"))
        nb_rss = min(max(passes[(k[0], 1000, p)]["maxrss_mb"] for p in "123" if (k[0], 1000, p) in passes) for k in nb)
        y_rss = max(passes[(yw[0][0], 1000, p)]["maxrss_mb"] for p in "123" if (yw[0][0], 1000, p) in passes)
        out.append("| peak RSS below newsboat's (its lowest) | %.1f MB vs %.1f MB | %s |" % (
            y_rss, nb_rss, "yes" if y_rss < nb_rss else "**no**"))
    second = [k for k in passes if k[0].startswith("yw") and k[1] == 1000 and k[2] == "2"]
    if second:
        r = passes[second[0]]
        out.append("| N=1000 second pass (all 304) < 1 s | %.2f s (%d×304, %d×200) | %s |" % (
            r["wall_s"], r["farm_feed_304"], r["farm_feed_200"], "yes" if r["wall_s"] < 1 else "**no**"))
    for (peer, n), d in sorted(dedupe.items()):
        if not peer.startswith("yw"):
            continue
        m = merges.get((peer, n), {})
        wrong = m.get("wrongly_merged_items", 0) + m.get("groups_misfiled", 0)
        ok = d["residual_dupes"] == 0 and d["groups_lost"] == 0 and wrong == 0
        out.append("| N=%d: 0 cross-post copies shown, no different stories merged | %d of %d copies shown; %d groups lost; %d wrong merges | %s |" % (
            n, d["residual_dupes"], d["copies"], d["groups_lost"], wrong, "yes" if ok else "**no**"))
    if idle:
        out.append("| idle daemon, %d sources < 30 MB RSS | %.1f MB (%.1f-%.1f over %d s; VmHWM %.1f MB) | %s |" % (
            idle["feeds"], idle["idle_rss_mb_last"], idle["idle_rss_mb_min"], idle["idle_rss_mb_max"],
            idle["sample_s"], idle["vm_hwm_mb"], "yes" if idle["idle_rss_mb_max"] < 30 else "**no**"))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--mkreport", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--root", required=True)
    a = ap.parse_args()
    passes, dedupe = load(a.run)
    merges = {}
    if os.path.exists(os.path.join(a.run, "merges.jsonl")):
        for l in open(os.path.join(a.run, "merges.jsonl")):
            if l.strip():
                r = json.loads(l)
                merges[(r["peer"], r["n"])] = r
    idle = json.load(open(os.path.join(a.run, "idle.json"))) if os.path.exists(os.path.join(a.run, "idle.json")) else None
    peers = sh("%s %s %s" % (a.python, a.mkreport, a.run))
    w = []
    w.append("# yaowen beside its peers: measured\n")
    w.append("Written by `bench/run.sh` (one run, every peer on the same farm, one after the other). "
             "Do not edit by hand: run it again.\n")
    w.append("## Machine\n")
    w += machine(a.root)
    w.append("\n## yaowen's targets (issue 6)\n")
    w += targets(passes, dedupe, merges, idle)
    w.append("")
    w.append("yaowen peer `ywT`: `yaowen run --once` (fetch, decode, parse, dedupe, summarise, store, write every "
             "digest page and feed) with `[fetch] concurrency = per_host = T` (the peers' T threads) and "
             "`min_host_interval_ms = 0`: every farm feed is on one host, 127.0.0.1, and the shipped politeness "
             "pause of 1000 ms per host would serialise 1000 feeds into 1000 s. A real feed list spreads over "
             "many hosts. *dup copies left* for yaowen counts the copies a reader sees (every copy is stored, "
             "folded into its story as `also_at`); the other peers show all they store.\n")
    for (peer, n), m in sorted(merges.items()):
        w.append("- %s N=%d: %d items stored, %d stories shown (ground truth %d unique articles before rounds), "
                 "%d items wrongly merged into another story, %d duplicate groups split, %d filed under a story outside them."
                 % (peer, n, m["items"], m["shown"], m["unique_articles"], m["wrongly_merged_items"],
                    m["groups_split"], m["groups_misfiled"]))
    if idle:
        w.append("- idle daemon: `yaowen run` with %d farm sources (%d items each); first cycle %.1f s; then "
                 "VmRSS sampled each second for %d s while idle: %.1f-%.1f MB (anon %.1f MB, file-backed %.1f MB), "
                 "%s threads; VmHWM (peak during the first cycle) %.1f MB."
                 % (idle["feeds"], idle["items_per_feed"], idle["first_cycle_s"], idle["sample_s"], idle["idle_rss_mb_min"],
                    idle["idle_rss_mb_max"], idle["rss_anon_mb_last"], idle["rss_file_mb_last"], idle["threads"],
                    idle["vm_hwm_mb"]))
    w.append("")
    w.append(peers.replace("# Peer measurements (feedfarm on 127.0.0.1)",
                          "## Every peer: the shared harness's report (mkreport.py, feedfarm on 127.0.0.1)", 1)
             .replace("\n## Every pass", "\n### Every pass"))
    print("\n".join(w))


if __name__ == "__main__":
    main()
