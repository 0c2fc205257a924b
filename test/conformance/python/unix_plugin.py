"""A Unix socket plugin from docs/protocol/unix.md, Python standard library only.

Usage: unix_plugin.py <socket path>; prints "LISTENING <path>" once it accepts connections.
"""
import json
import os
import socketserver
import sys
import threading

import ndjson


class Connection(socketserver.StreamRequestHandler):
    def handle(self):
        lock = threading.Lock()

        def write(obj):
            line = (json.dumps(obj) + "\n").encode()
            with lock:  # one whole line at a time
                try:
                    self.wfile.write(line)
                    self.wfile.flush()
                except OSError:
                    pass  # the host went away

        ndjson.serve_lines(self.rfile, write)


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5: more connections at once than that are
    # refused with EAGAIN (the host opens up to maxConnections = 10).
    request_queue_size = 64


if __name__ == "__main__":
    path = sys.argv[1]
    if os.path.exists(path):
        os.remove(path)
    server = Server(path, Connection)
    print("LISTENING " + path, flush=True)
    server.serve_forever()
