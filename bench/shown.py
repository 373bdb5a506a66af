#!/usr/bin/env python3
"""What a yaowen reader sees, scored against feedfarm's ground truth.

Reads `yaowen items --json` output. Writes the raw link (fetched_url) of each
shown item -- a story's head, cluster == id -- one a line, for the shared
dedupe_eval.py. Appends one JSON line to --out with the wrong merges, counted
as tests/farm.rs counts them: an item that is nobody's cross-post but sits in
another item's story, or a duplicate group filed under a story outside it.
"""
import argparse
import json

ap = argparse.ArgumentParser()
ap.add_argument("--items", required=True)
ap.add_argument("--truth", required=True)
ap.add_argument("--heads", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--peer", required=True)
ap.add_argument("--n", type=int, required=True)
a = ap.parse_args()

items = [json.loads(line) for line in open(a.items, encoding="utf-8") if line.strip()]
truth = json.load(open(a.truth, encoding="utf-8"))
by_link = {i["fetched_url"]: i for i in items}
with open(a.heads, "w", encoding="utf-8") as out:
    for i in items:
        if i["cluster"] == i["id"]:
            out.write(i["fetched_url"] + "\n")

grouped = set()
groups_split = groups_misfiled = 0
for group in truth["groups"]:
    members = [by_link[m["link"]] for m in group if m["link"] in by_link]
    grouped.update(m["link"] for m in group)
    ids = {m["id"] for m in members}
    clusters = {m["cluster"] for m in members}
    groups_split += len(clusters) > 1
    groups_misfiled += any(c not in ids for c in clusters)
merged = sum(1 for i in items if i["fetched_url"] not in grouped and i["cluster"] != i["id"])
rec = dict(peer=a.peer, n=a.n, items=len(items), shown=sum(1 for i in items if i["cluster"] == i["id"]),
           unique_articles=truth["unique_articles"], groups_split=groups_split,
           groups_misfiled=groups_misfiled, wrongly_merged_items=merged)
with open(a.out, "a", encoding="utf-8") as fh:
    fh.write(json.dumps(rec) + "\n")
print("  %s N=%d: %d items, %d shown, %d wrongly merged, %d groups misfiled" % (
    a.peer, a.n, rec["items"], rec["shown"], merged, groups_misfiled), flush=True)
