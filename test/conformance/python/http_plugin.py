"""An HTTP plugin from docs/protocol/http.md, Python standard library only.

Prints "LISTENING <port>" once it serves on 127.0.0.1.
"""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import common


class Plugin(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self):
        try:
            envelope = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        except ValueError:
            return self.reply(400, {"error": "bad JSON"})
        rid = envelope.get("request_id")
        timeout = envelope.get("timeout")
        try:
            timeout_ms, parse_error = common.parse_go_duration(timeout), None
        except ValueError as error:
            timeout_ms, parse_error = 0, str(error)
        try:
            data = common.handle(envelope.get("data"), rid, timeout, timeout_ms, threading.Event(), parse_error)
        except common.Declined as error:  # the plugin's own "no": 200 with error
            return self.reply(200, {"data": None, "error": str(error), "request_id": rid})
        except Exception as error:
            return self.reply(500, {"error": str(error)})
        self.reply(200, {"data": data, "error": "", "request_id": rid, "metadata": {}})

    def do_GET(self):
        if self.path.endswith("/health"):
            return self.reply(200, {"status": "healthy"})
        if self.path.endswith("/info"):
            return self.reply(200, {"name": "python-conformance", "version": "1.0.0"})
        self.reply(404, {"error": "not found"})


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", 0), Plugin)
    server.daemon_threads = True
    print("LISTENING %d" % server.server_address[1], flush=True)
    server.serve_forever()
