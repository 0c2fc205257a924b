"""A gRPC plugin from docs/protocol/grpc.md, with Debian's python3-grpcio.

Usage: grpc_plugin.py <dir with stubs generated from proto/plugin.proto and
proto/grpc/health/v1/health.proto>; prints "LISTENING <port>" once it serves on 127.0.0.1.
"""
import json
import sys
import threading
from concurrent import futures

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402

import common  # noqa: E402
import plugin_pb2  # noqa: E402
import plugin_pb2_grpc  # noqa: E402
import health_pb2  # noqa: E402  (grpc.health.v1, generated with -I proto/grpc/health/v1)
import health_pb2_grpc  # noqa: E402


class Plugin(plugin_pb2_grpc.PluginServicer):
    def Execute(self, request, context):
        remaining = context.time_remaining()  # the host's deadline (grpc-timeout), seconds
        timeout_ms = remaining * 1000.0 if remaining is not None else 0
        stopped = threading.Event()
        finished = threading.Event()

        def on_done():
            if not finished.is_set():  # the call ended before we answered: the host gave up
                common.mark_cancelled(request.request_id)
            stopped.set()

        context.add_callback(on_done)
        try:
            req = json.loads(request.data) if request.data else None
            data = common.handle(req, request.request_id, str(timeout_ms), timeout_ms, stopped)
            finished.set()
            return plugin_pb2.ExecuteResponse(data=json.dumps(data).encode(), request_id=request.request_id)
        except common.Declined as error:
            finished.set()
            return plugin_pb2.ExecuteResponse(error=str(error), request_id=request.request_id)
        except Exception as error:
            finished.set()
            context.abort(grpc.StatusCode.UNAVAILABLE, str(error))

    def Info(self, request, context):
        return plugin_pb2.InfoResponse(name="python-conformance", version="1.0.0")


class Health(health_pb2_grpc.HealthServicer):
    def Check(self, request, context):
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)


if __name__ == "__main__":
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
    plugin_pb2_grpc.add_PluginServicer_to_server(Plugin(), server)
    health_pb2_grpc.add_HealthServicer_to_server(Health(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print("LISTENING %d" % port, flush=True)
    server.wait_for_termination()
