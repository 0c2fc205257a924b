"""What every conformance plugin does, whatever its transport (written from docs/protocol only).

Operations (the request's "op"): echo (round trip, with the request id and the deadline as the
plugin received them), fail (the plugin's own "no"), hang (until the host gives up), seen and
cancelled (whether a request id arrived / was cancelled).
"""
import re
import threading

# Go duration syntax (docs/protocol/http.md: "timeout" is a Go duration string).
_UNITS = {"ns": 1e-6, "us": 1e-3, "\u00b5s": 1e-3, "\u03bcs": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}
_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")


def parse_go_duration(text):
    """Milliseconds of a Go duration string ("2.5s", "1m30s", "0s"); ValueError if it is not one."""
    if not isinstance(text, str):
        raise ValueError("not a string: %r" % (text,))
    if text in ("0", "+0", "-0"):
        return 0.0
    sign, body = (-1, text[1:]) if text.startswith("-") else (1, text.lstrip("+"))
    total, end = 0.0, 0
    for match in _PART.finditer(body):
        if match.start() != end:
            raise ValueError("not a Go duration: %r" % text)
        total += float(match.group(1)) * _UNITS[match.group(2)]
        end = match.end()
    if end == 0 or end != len(body):
        raise ValueError("not a Go duration: %r" % text)
    return sign * total


class Declined(Exception):
    """The plugin's own "no"."""


_lock = threading.Lock()
_seen = set()
_cancelled = set()


def mark_cancelled(request_id):
    with _lock:
        _cancelled.add(request_id)


def handle(req, request_id, timeout, timeout_ms, stopped, parse_error=None):
    """Runs one request. `stopped` is a threading.Event set when the host gives up on it."""
    with _lock:
        _seen.add(request_id)
    op = (req or {}).get("op")
    out = {"value": (req or {}).get("value", ""), "request_id": request_id, "timeout": timeout,
           "timeout_ms": timeout_ms, "flag": False}
    if parse_error:
        out["parse_error"] = parse_error
    if op == "echo":
        return out
    if op == "fail":
        raise Declined("card declined")
    if op == "hang":
        # Until the host gives up (a cancel), or well after its deadline: answering at the deadline
        # itself would race the host's timer, and this operation is there to prove the host gives up.
        wait = timeout_ms / 1000.0 + 2 if timeout_ms and timeout_ms > 0 else 30.0
        stopped.wait(wait)
        raise Exception("gave up")
    if op in ("seen", "cancelled"):
        with _lock:
            out["flag"] = req.get("id") in (_seen if op == "seen" else _cancelled)
        return out
    raise Exception("unknown op %r" % op)
