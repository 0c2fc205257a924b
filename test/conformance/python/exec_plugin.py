"""An exec plugin from docs/protocol/exec.md, Python standard library only.

Handshake line first, then requests on stdin and replies on stdout; logs on stderr; exits once
stdin closes and the requests in flight are answered.
"""
import json
import sys
import threading

import ndjson

_lock = threading.Lock()


def write(obj):
    with _lock:  # one whole line at a time
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


write({"type": "handshake", "protocol": 1, "name": "python-conformance", "version": "1.0.0"})
ndjson.serve_lines(sys.stdin, write)
print("stdin closed, exiting", file=sys.stderr)
