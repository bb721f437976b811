#!/usr/bin/python3
# Python's grpcio as a Subscribe client, for bench/api/run: counts route events until COUNT (or
# IDLE seconds after the last event, or DEADLINE) and prints the RESULT line of subscribe_client.
# The stubs come from Debian's protoc and grpc_python_plugin (docs/api.md), in STUBS.
#
#   py_subscribe.py STUBS TARGET COUNT DEADLINE
import resource
import sys
import threading
import time

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
from bgpscribe.v1 import api_pb2, api_pb2_grpc  # noqa: E402

target, count, deadline = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
stub = api_pb2_grpc.CollectorStub(grpc.insecure_channel(target))
start = time.monotonic()
call = stub.Subscribe(api_pb2.SubscribeRequest(routes_only=True), timeout=deadline)
print("py_subscribe: subscribed to " + target, file=sys.stderr, flush=True)
last = [0.0]


def watch():  # cancels the call once it has been idle for 5 s
    while True:
        time.sleep(0.1)
        if last[0] and time.monotonic() - last[0] > 5:
            call.cancel()
            return


threading.Thread(target=watch, daemon=True).start()
routes = announce = withdraw = dropped = 0
first = 0.0
end = "ended"
try:
    for e in call:
        now = time.monotonic()
        last[0] = now
        kind = e.WhichOneof("kind")
        if kind == "route":
            if routes == 0:
                first = now
            routes += 1
            if e.route.action == 1:
                withdraw += 1
            else:
                announce += 1
            if routes >= count:
                end = "count"
                call.cancel()
                break
        elif kind == "lagging":
            dropped = e.lagging.dropped
            end = "lagging"
except grpc.RpcError as err:
    if end == "ended":
        end = "idle" if err.code() == grpc.StatusCode.CANCELLED else "error"
        if end == "error":
            print("py_subscribe: %s" % err, file=sys.stderr)
span = last[0] - first if routes > 1 else 0.0
ru = resource.getrusage(resource.RUSAGE_SELF)
print("RESULT events=%d announce=%d withdraw=%d peer=0 snapshot=0 dropped=%d seconds=%.3f "
      "events_per_s=%.0f first_after_s=%.3f total_s=%.3f cpu_s=%.2f end=%s"
      % (routes, announce, withdraw, dropped, span, routes / span if span > 0 else 0,
         first - start if routes else 0, time.monotonic() - start, ru.ru_utime + ru.ru_stime, end))
