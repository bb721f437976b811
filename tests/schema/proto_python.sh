#!/usr/bin/env bash
# A reader of our Protobuf events in another language: Debian's python3-protobuf, with modules
# protoc generates here from schema/proto, reads proto_sample's Event field for field.
# Skips (77) when python3-protobuf is not installed.
set -euo pipefail
sample=${1:?usage: proto_python.sh PROTO_SAMPLE SCHEMA_PROTO_DIR}
protos=${2:?usage: proto_python.sh PROTO_SAMPLE SCHEMA_PROTO_DIR}
py=/usr/bin/python3  # Debian's python3-protobuf loads only in Debian's interpreter
"$py" -c 'import google.protobuf' 2>/dev/null || { echo "SKIP: python3-protobuf not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
protoc -I "$protos" --python_out="$tmp" "$protos"/bgpscribe/v1/events.proto "$protos"/bgpscribe/v1/api.proto
"$sample" >"$tmp/event.bin"
PYTHONPATH=$tmp "$py" - "$tmp/event.bin" <<'PY'
import sys
from bgpscribe.v1 import events_pb2 as pb

e = pb.Event()
e.ParseFromString(open(sys.argv[1], "rb").read())
r = e.route
want = {
    "kind": (e.WhichOneof("kind"), "route"),
    "time_us": (r.time_us, 1700000000123456),
    "peer.id": (r.peer.id, 7),
    "peer.asn": (r.peer.asn, 4200000001),
    "peer.router": (r.peer.router, "edge1"),
    "peer.post_policy": (r.peer.post_policy, True),
    "peer.collector": (r.peer.collector, "rrc99"),
    "action": (r.action, pb.RouteEvent.ANNOUNCE),
    "prefix": (r.prefix, "203.0.113.0/24"),
    "path_id": (r.path_id, 3),
    "as_path": ([(s.type, list(s.asns)) for s in r.attributes.as_path],
                [(pb.AsPathSegment.AS_SEQUENCE, [4200000001, 64496]),
                 (pb.AsPathSegment.AS_SET, [64497, 64498])]),
    "origin_asn": (r.attributes.origin_asn, 64496),
    "med present": (r.attributes.HasField("med"), True),
    "local_pref absent": (r.attributes.HasField("local_pref"), False),
    "communities": (list(r.attributes.communities), ["65000:1"]),
    "large_communities": (list(r.attributes.large_communities), ["4200000000:1:2"]),
    "extended_communities": (list(r.attributes.extended_communities), ["rt:64496:22"]),
    "other": ([(o.type, o.flags, o.value) for o in r.attributes.other_attributes],
              [(250, 0xC0, b"\x01\x02\x00")]),
    "decision": (r.decision, pb.TREAT_AS_WITHDRAW),
    "update_seq": (r.update_seq, 123456789012),
    "raw_update": (r.raw_update, b"\xff" * 19),
}
bad = [f"{k}: got {g!r}, want {w!r}" for k, (g, w) in want.items() if g != w]
if bad:
    print("proto_python: " + "; ".join(bad))
    sys.exit(1)
print(f"proto_python: {len(want)} fields read as written")
PY
