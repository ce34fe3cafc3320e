#!/usr/bin/env python3
"""Runs a command and records what it prints, as a launcher reading its pipes sees it: `stdout.txt`,
`stderr.txt`, and `combined.txt` (both streams interleaved in the order the chunks arrived, as a terminal shows
them), `chunks.jsonl` (one `{"stream": "stdout"|"stderr", "text": ...}` per read, in arrival order: what a
replay needs to feed a parser both pipes as the launcher saw them) and `exit_code.txt`. Bytes are written as they
came (tqdm's carriage returns and escape codes included).

    python3 scripts/reference/record_streams.py OUT_DIR -- COMMAND [ARG...]
"""
import os
import selectors
import codecs
import json
import subprocess
import sys

out = sys.argv[1]
if len(sys.argv) < 4 or sys.argv[2] != "--":
    sys.exit("usage: record_streams.py OUT_DIR -- COMMAND [ARG...]")
os.makedirs(out, exist_ok=True)
proc = subprocess.Popen(sys.argv[3:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
files = {
    proc.stdout.fileno(): open(os.path.join(out, "stdout.txt"), "wb"),
    proc.stderr.fileno(): open(os.path.join(out, "stderr.txt"), "wb"),
}
names = {proc.stdout.fileno(): "stdout", proc.stderr.fileno(): "stderr"}
decoders = {fd: codecs.getincrementaldecoder("utf-8")("replace") for fd in files}
combined = open(os.path.join(out, "combined.txt"), "wb")
chunks = open(os.path.join(out, "chunks.jsonl"), "w", encoding="utf-8")
sel = selectors.DefaultSelector()
for fd in files:
    sel.register(fd, selectors.EVENT_READ)
while sel.get_map():
    for key, _ in sel.select():
        chunk = os.read(key.fd, 65536)
        if not chunk:
            sel.unregister(key.fd)
            continue
        files[key.fd].write(chunk)
        combined.write(chunk)
        text = decoders[key.fd].decode(chunk)
        if text:
            chunks.write(json.dumps({"stream": names[key.fd], "text": text}, ensure_ascii=False) + "\n")
code = proc.wait()
for f in (*files.values(), combined, chunks):
    f.close()
with open(os.path.join(out, "exit_code.txt"), "w") as f:
    f.write(f"{code}\n")
print(f"{' '.join(sys.argv[3:])}: exit {code}, recorded in {out}", file=sys.stderr)
