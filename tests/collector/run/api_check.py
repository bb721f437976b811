#!/usr/bin/python3
"""The live API of a running collector read by a client that is not ours: Debian's python3-grpcio
with stubs generated here (protoc and grpc_python_plugin) from schema/proto.

    api_check.py STUBS_DIR SOCKET subscribe OUT_JSONL
        Subscribes (SubscribeBatches, live, no filter) and writes one line per event until the
        stream ends or OUT_JSONL + ".stop" appears; prints "subscribed" first.
    api_check.py STUBS_DIR SOCKET stall OUT_JSON
        Subscribes and reads nothing until OUT_JSON + ".go" appears, then reads to the end and
        writes {"routes": n, "lagging": dropped, "code": "..."}.
    api_check.py STUBS_DIR SOCKET check EXPECTED_JSON
        Status, Rib and Subscribe(snapshot) against EXPECTED_JSON (what the MRT archive of the
        same run holds, written by api_e2e.sh): prints "ok: ..." lines, "FAIL: ..." on a
        difference, exits 1 if any.
"""
import json
import os
import sys
import threading
import time

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
from bgpscribe.v1 import api_pb2 as api  # noqa: E402
from bgpscribe.v1 import api_pb2_grpc as api_grpc  # noqa: E402
from bgpscribe.v1 import events_pb2 as ev  # noqa: E402

socket, mode, arg = sys.argv[2], sys.argv[3], sys.argv[4]
channel = grpc.insecure_channel("unix:" + socket)
stub = api_grpc.CollectorStub(channel)
import checks  # noqa: E402  (beside this script)
from checks import fail, ok  # noqa: E402


def path_text(attrs):
    out = []
    for s in attrs.as_path:
        asns = [str(a) for a in s.asns]
        if s.type == ev.AsPathSegment.AS_SEQUENCE:
            out.append(" ".join(asns))
        elif s.type == ev.AsPathSegment.AS_SET:
            out.append("{" + ",".join(asns) + "}")
        else:
            out.append("(" + " ".join(asns) + ")")
    return " ".join(out)


def route_key(r):
    return "%s|%s|%s|%s" % (r.peer.address, r.prefix, path_text(r.attributes),
                            r.attributes.next_hop)


if mode == "subscribe":
    stop = arg + ".stop"
    # The whole feed: SubscribeBatches (the same events as Subscribe, many per message).
    stream = stub.SubscribeBatches(api.SubscribeRequest())
    # The first event may be long in coming; say we are in once the call is up.
    print("subscribed", flush=True)
    with open(arg, "w") as out:
        def cancel_on_stop():
            while not os.path.exists(stop):
                time.sleep(0.1)
            stream.cancel()
        threading.Thread(target=cancel_on_stop, daemon=True).start()
        try:
            for e in (e for batch in stream for e in batch.events):
                kind = e.WhichOneof("kind")
                if kind == "route":
                    r = e.route
                    out.write(json.dumps({"kind": "route", "action": r.action, "key": route_key(r),
                                          "prefix": r.prefix, "peer": r.peer.address}) + "\n")
                else:
                    out.write(json.dumps({"kind": kind}) + "\n")
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.CANCELLED:
                out.write(json.dumps({"kind": "error", "code": str(err.code())}) + "\n")
    sys.exit(0)

if mode == "stall":
    go = arg + ".go"
    stream = stub.Subscribe(api.SubscribeRequest(routes_only=True, queue_limit=1000))
    print("subscribed", flush=True)
    while not os.path.exists(go):
        time.sleep(0.1)
    routes = 0
    lagging = 0
    code = "OK"
    try:
        for e in stream:
            if e.WhichOneof("kind") == "route":
                routes += 1
            elif e.WhichOneof("kind") == "lagging":
                lagging = e.lagging.dropped
    except grpc.RpcError as err:
        code = str(err.code())
    json.dump({"routes": routes, "lagging": lagging, "code": code}, open(arg, "w"))
    sys.exit(0)

# ---- check ---------------------------------------------------------------------------------
want = json.load(open(arg))

status = stub.Status(api.StatusRequest(), timeout=5)
c = status.collector
if c.name != want["collector"]:
    fail("Status: collector name %r, want %r" % (c.name, want["collector"]))
established = [p for p in status.peers if p.state == ev.PeerEvent.ESTABLISHED]
if len(established) != want["peers"]:
    fail("Status: %d peers Established, want %d" % (len(established), want["peers"]))
for p in established:
    n = sum(f.prefixes for f in p.prefixes)
    w = want["routes_per_peer"].get(p.peer.address)
    if n != w:
        fail("Status: peer %s holds %d routes, the MRT archive says %s" % (p.peer.address, n, w))
    if "ipv4/unicast" not in p.families or p.messages == 0 or p.state_since_us == 0:
        fail("Status: peer %s: families %s, messages %d, since %d" %
             (p.peer.address, list(p.families), p.messages, p.state_since_us))
if c.routes != sum(want["routes_per_peer"].values()):
    fail("Status: collector routes %d, want %d" % (c.routes, sum(want["routes_per_peer"].values())))
if not any(e.name == "mrt" and e.type == "mrt" and e.delivered > 0 for e in status.exporters):
    fail("Status: no mrt exporter that delivered: %s" % status.exporters)
if not any(l.kind == "bgp" and l.port == want["bgp_port"] for l in c.listeners):
    fail("Status: listeners %s lack bgp port %d" % (list(c.listeners), want["bgp_port"]))
ok("Status: %d peers Established, %d routes, exporters %s" %
   (len(established), c.routes, [e.name for e in status.exporters]))

# Rib, exact: every route of the sample prefixes, as the archive has them.
for prefix, keys in want["exact"].items():
    got = sorted(route_key(r) for r in stub.Rib(api.RibRequest(prefix=prefix), timeout=5).routes)
    if got != sorted(keys):
        fail("Rib %s exact: %s, want %s" % (prefix, got, sorted(keys)))
ok("Rib exact: %d sample prefixes equal to the archive" % len(want["exact"]))

# Rib, longest match: an address inside each sample prefix finds at least that prefix's routes
# (or a longer one's) on every peer that has it.
for prefix, keys in want["exact"].items():
    addr = prefix.split("/")[0]
    got = stub.Rib(api.RibRequest(prefix=addr, match=api.RibRequest.LONGEST), timeout=5).routes
    peers = {k.split("|")[0] for k in keys}
    for r in got:
        if int(r.prefix.split("/")[1]) < int(prefix.split("/")[1]):
            fail("Rib %s longest: %s is shorter than %s" % (addr, r.prefix, prefix))
    if not peers <= {r.peer.address for r in got}:
        fail("Rib %s longest: peers %s, want at least %s" % (addr, {r.peer.address for r in got},
                                                            peers))
ok("Rib longest match: every sample address finds its routes")

# Rib, more-specifics with paging: every route inside the cover prefix, pages joined.
cover = want["cover"]
routes = []
token = ""
pages = 0
while True:
    reply = stub.Rib(api.RibRequest(prefix=cover, match=api.RibRequest.MORE_SPECIFIC,
                                    page_size=50, page_token=token), timeout=5)
    routes += [route_key(r) for r in reply.routes]
    pages += 1
    token = reply.next_page_token
    if not token or pages > 10000:
        break
if sorted(routes) != sorted(want["inside_cover"]):
    fail("Rib %s more-specific: %d routes, want %d" % (cover, len(routes),
                                                      len(want["inside_cover"])))
ok("Rib more-specific %s: %d routes in %d pages, equal to the archive" % (cover, len(routes),
                                                                          pages))

try:
    stub.Rib(api.RibRequest(prefix="10.0.0.0/33"), timeout=5)
    fail("Rib with a bad prefix answered")
except grpc.RpcError as err:
    if err.code() != grpc.StatusCode.INVALID_ARGUMENT or "10.0.0.0/33" not in err.details():
        fail("Rib bad prefix: %s %s" % (err.code(), err.details()))
ok("Rib: a bad prefix is INVALID_ARGUMENT naming it")

# Subscribe with a snapshot and a prefix filter: BEGIN, exactly the archive's routes inside the
# cover, END; then live (nothing comes: the feed is over), cancelled by us.
stream = stub.Subscribe(api.SubscribeRequest(snapshot=True, prefix=cover, more_specific=True))
kinds = []
snap = []
for e in stream:
    k = e.WhichOneof("kind")
    if k == "snapshot":
        kinds.append(e.snapshot.kind)
        if e.snapshot.kind == ev.SnapshotMarker.END:
            end_count = e.snapshot.routes
            stream.cancel()
            break
    elif k == "route":
        snap.append(route_key(e.route))
if kinds != [ev.SnapshotMarker.BEGIN, ev.SnapshotMarker.END]:
    fail("Subscribe snapshot: markers %s" % kinds)
if sorted(snap) != sorted(want["inside_cover"]) or end_count != len(snap):
    fail("Subscribe snapshot: %d routes (END says %d), want %d" % (len(snap), end_count,
                                                                   len(want["inside_cover"])))
ok("Subscribe snapshot of %s: %d routes between BEGIN and END, equal to the archive" %
   (cover, len(snap)))

try:
    for e in stub.Subscribe(api.SubscribeRequest(as_path_regex="(")):
        break
    fail("Subscribe with a bad regex streamed")
except grpc.RpcError as err:
    if err.code() != grpc.StatusCode.INVALID_ARGUMENT or "as_path_regex" not in err.details():
        fail("Subscribe bad regex: %s %s" % (err.code(), err.details()))
ok("Subscribe: a bad regex is INVALID_ARGUMENT naming the field")
sys.exit(1 if checks.failures else 0)
