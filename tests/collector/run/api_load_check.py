#!/usr/bin/python3
"""The live API under load (api_load_e2e.sh): subscribers written with Debian's python3-grpcio
(stubs generated from schema/proto by protoc and grpc_python_plugin), and the comparison of what
every subscriber got with the MRT archive of the same run.

Events are written one line each, `A|peer|prefix|path_id` and `W|...` for route events,
`S|peer|old|new` for a session's state change (state numbers as in events.proto), `L|dropped`
for Lagging.

    api_load_check.py STUBS_DIR SOCKET subscribe OUT
        SubscribeBatches (live, no filter), everything read as it comes and written to OUT until
        OUT.stop appears or the stream ends; prints "subscribed" first. An error other than our
        own cancel ends OUT with `E|code`.
    api_load_check.py STUBS_DIR SOCKET stall OUT QUEUE_LIMIT
        Subscribe with queue_limit QUEUE_LIMIT; reads nothing until OUT.go appears, then reads to
        the end, writes the events to OUT and {"events", "routes", "lagging", "after_lagging",
        "code"} to OUT.json.
    api_load_check.py compare BGPSCRIBE TAIL_JSONL PY_EVENTS STALL_EVENTS MRT_FILE...
        Per peer, the route events of `bgpscribe dump --json MRT_FILE...` (action, prefix, path
        id, in order) equal those of `tail --json` (TAIL_JSONL) and of the Python subscriber
        (PY_EVENTS); no session left Established in either stream; the stalled subscriber's
        events are the first ones of the Python subscriber's stream. Prints "ok: ..." lines and
        a last line "counts: k=v ...", "FAIL: ..." on a difference, exits 1 if any.
"""
import collections
import hashlib
import json
import os
import subprocess
import sys
import threading
import time

ESTABLISHED = 6
import checks  # noqa: E402  (beside this script)
from checks import fail, ok  # noqa: E402


def line_of(e):
    kind = e.WhichOneof("kind")
    if kind == "route":
        r = e.route
        return "%s|%s|%s|%d\n" % ("A" if r.action == 0 else "W", r.peer.address, r.prefix,
                                  r.path_id)
    if kind == "peer":
        p = e.peer
        return "S|%s|%d|%d\n" % (p.peer.address, p.old_state, p.new_state)
    if kind == "lagging":
        return "L|%d\n" % e.lagging.dropped
    return "%s|\n" % kind


def subscriber(mode, socket, out, args):
    sys.path.insert(0, sys.argv[1])
    import grpc
    from bgpscribe.v1 import api_pb2 as api
    from bgpscribe.v1 import api_pb2_grpc as api_grpc
    stub = api_grpc.CollectorStub(grpc.insecure_channel("unix:" + socket))
    if mode == "subscribe":
        stream = stub.SubscribeBatches(api.SubscribeRequest())
        print("subscribed", flush=True)

        def cancel_on_stop():
            while not os.path.exists(out + ".stop"):
                time.sleep(0.1)
            stream.cancel()
        threading.Thread(target=cancel_on_stop, daemon=True).start()
        with open(out, "w", buffering=1 << 20) as f:
            try:
                for batch in stream:
                    f.write("".join(line_of(e) for e in batch.events))
                    f.flush()  # the script counts the lines to know when all have come
            except grpc.RpcError as err:
                if err.code() != grpc.StatusCode.CANCELLED:
                    f.write("E|%s\n" % err.code())
        return 0
    # stall: a client that asked for a small queue and does not read while the load runs.
    stream = stub.Subscribe(api.SubscribeRequest(queue_limit=int(args[0])))
    print("subscribed", flush=True)
    while not os.path.exists(out + ".go"):
        time.sleep(0.1)
    events = routes = after_lagging = 0
    lagging = None
    code = "OK"
    with open(out, "w") as f:
        try:
            for e in stream:
                events += 1
                kind = e.WhichOneof("kind")
                if lagging is not None:
                    after_lagging += 1
                if kind == "route":
                    routes += 1
                elif kind == "lagging":
                    lagging = e.lagging.dropped
                f.write(line_of(e))
        except grpc.RpcError as err:
            code = str(err.code())
    json.dump({"events": events, "routes": routes, "lagging": lagging,
               "after_lagging": after_lagging, "code": code}, open(out + ".json", "w"))
    return 0


class PerPeer:
    """Route events per peer: counts and a digest of the sequence (action, prefix, path id), so
    that a full table of 20 peers is compared without holding it."""

    def __init__(self):
        self.count = collections.Counter()
        self.digest = collections.defaultdict(hashlib.blake2b)
        self.leaving = []  # state changes out of Established
        self.up = set()    # peers that reached Established
        self.errors = []

    def route(self, action, peer, prefix, path_id):
        self.count[(peer, action)] += 1
        self.digest[peer].update(("%s|%s|%s\n" % (action, prefix, path_id)).encode())

    def state(self, peer, old, new):
        if new == ESTABLISHED:
            self.up.add(peer)
        if old == ESTABLISHED:
            self.leaving.append((peer, old, new))

    def total(self, action=None):
        return sum(n for (p, a), n in self.count.items() if action is None or a == action)


def read_json_lines(lines, into):
    for line in lines:
        j = json.loads(line)
        kind = j["kind"]
        if kind == "announce" or kind == "withdraw":
            into.route("A" if kind == "announce" else "W", j["peer_ip"], j["prefix"],
                       j.get("path_id", 0))
        elif kind == "state":
            into.state(j["peer_ip"], j["old_state_code"], j["new_state_code"])
        elif kind in ("lagging", "error"):
            into.errors.append(line.strip())


def read_event_lines(lines, into):
    for line in lines:
        f = line.rstrip("\n").split("|")
        if f[0] in ("A", "W"):
            into.route(f[0], f[1], f[2], int(f[3]))
        elif f[0] == "S":
            into.state(f[1], int(f[2]), int(f[3]))
        elif f[0] in ("L", "E"):
            into.errors.append(line.strip())


def compare(bgpscribe, tail_file, py_file, stall_file, mrt_files):
    mrt = PerPeer()
    dump = subprocess.Popen([bgpscribe, "dump", "--json"] + mrt_files, stdout=subprocess.PIPE,
                            text=True, bufsize=1 << 20)
    read_json_lines(dump.stdout, mrt)
    if dump.wait() != 0:
        fail("bgpscribe dump --json of %s exited %d" % (mrt_files, dump.returncode))
    tail, py = PerPeer(), PerPeer()
    with open(tail_file) as f:
        read_json_lines(f, tail)
    with open(py_file) as f:
        read_event_lines(f, py)
    counts = {"mrt_announce": mrt.total("A"), "mrt_withdraw": mrt.total("W"),
              "mrt_peers": len(mrt.digest), "tail_routes": tail.total(),
              "python_routes": py.total()}
    for name, got in (("tail --json", tail), ("the Python subscriber", py)):
        if got.errors:
            fail("%s: %s" % (name, got.errors[:3]))
        if got.leaving:
            fail("%s: sessions left Established: %s" % (name, got.leaving[:5]))
        if got.up != set(mrt.digest):
            fail("%s: %d sessions came up, the archive has %d peers" % (name, len(got.up),
                                                                        len(mrt.digest)))
        bad = [p for p in set(mrt.digest) | set(got.digest)
               if mrt.digest[p].digest() != got.digest[p].digest()]
        if bad:
            for p in sorted(bad)[:5]:
                fail("%s: peer %s: %d announcements, %d withdrawals; the archive %d, %d (or "
                     "another order)" % (name, p, got.count[(p, "A")], got.count[(p, "W")],
                                         mrt.count[(p, "A")], mrt.count[(p, "W")]))
        else:
            ok("%s: %d route events of %d peers, equal to the MRT archive's in order per peer; "
               "%d sessions up, none left Established" % (name, got.total(), len(got.digest),
                                                          len(got.up)))

    # The stalled subscriber: the head of the stream, then Lagging, then nothing.
    summary = json.load(open(stall_file + ".json"))
    counts.update({"stalled_events": summary["events"], "stalled_routes": summary["routes"],
                   "stalled_dropped": summary["lagging"]})
    if not summary["lagging"] or summary["after_lagging"] != 0:
        fail("stalled subscriber: Lagging %s, %d events after it" % (summary["lagging"],
                                                                     summary["after_lagging"]))
    if summary["code"] != "StatusCode.RESOURCE_EXHAUSTED":
        fail("stalled subscriber: the stream ended with %s" % summary["code"])
    with open(stall_file) as f:
        stalled = [line for line in f if not line.startswith("L|")]
    with open(py_file) as f:
        head = [f.readline() for _ in range(len(stalled))]
    if not stalled or stalled != head:
        diff = next((i for i, (a, b) in enumerate(zip(stalled, head)) if a != b), len(stalled))
        fail("stalled subscriber: its %d events are not the first of the stream (from event %d)"
             % (len(stalled), diff))
    else:
        ok("stalled subscriber: the first %d events of the stream (%d routes), then Lagging "
           "(%d dropped) and %s" % (len(stalled), summary["routes"], summary["lagging"],
                                    summary["code"]))
    print("counts: " + " ".join("%s=%s" % kv for kv in counts.items()), flush=True)
    return 1 if checks.failures else 0


if __name__ == "__main__":
    if sys.argv[1] == "compare":
        sys.exit(compare(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:]))
    sys.exit(subscriber(sys.argv[3], sys.argv[2], sys.argv[4], sys.argv[5:]))
