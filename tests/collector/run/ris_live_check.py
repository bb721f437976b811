#!/usr/bin/env python3
"""A RIS Live client written from RIPE's manual (https://ris-live.ripe.net/manual/), for
ris_live_e2e.sh: Python's standard library and Debian's python3-websockets, none of bgpscribe.

  ris_live_check.py listen URL FILTERS_JSON OUT   subscribe (with acknowledge), print
      "subscribed" once ris_subscribe_ok came, then write each ris_message's data to OUT (JSON
      lines) and each ris_error to OUT.errors until OUT.stop appears (at most 120 s)
  ris_live_check.py probe URL                     the protocol's other answers: ping gets pong,
      bad subscriptions get ris_error naming the problem and leave the connection working,
      request_rrc_list, ris_unsubscribe, a wrong path gets HTTP 404
  ris_live_check.py compare DUMP LIVE             LIVE (the data objects a client got with no
      filters) holds, peer by peer in order, the UPDATEs and RIS_PEER_STATEs of DUMP (`bgpscribe
      dump --format ris-live` of the collector's MRT archive) but End-of-RIB, on every field
      but `id` and `host` (a record number and the file name in DUMP) and the timestamp's
      fraction (the archive may keep whole seconds)
  ris_live_check.py expect ALL FILTERS_JSON GOT   GOT (JSON lines) holds exactly the messages of
      ALL (JSON lines) that FILTERS_JSON selects, as the manual describes the filters
"""
import asyncio
import ipaddress
import json
import os
import sys
import time

import websockets


async def listen(url, filters, out):
    deadline = time.monotonic() + 120
    filters = dict(filters)
    filters["socketOptions"] = dict(filters.get("socketOptions", {}), acknowledge=True)
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "ris_subscribe", "data": filters}))
        first = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert first["type"] == "ris_subscribe_ok", first
        print("subscribed", flush=True)
        n = 0
        with open(out, "w") as f, open(out + ".errors", "w") as errors:
            while time.monotonic() < deadline and not os.path.exists(out + ".stop"):
                try:
                    m = json.loads(await asyncio.wait_for(ws.recv(), 0.2))
                except asyncio.TimeoutError:
                    continue
                if m["type"] == "ris_message":
                    f.write(json.dumps(m["data"]) + "\n")
                    n += 1
                else:
                    errors.write(json.dumps(m) + "\n")
        print("messages", n, flush=True)


async def probe(url):
    async def ask(ws, message):
        await ws.send(message if isinstance(message, str) else json.dumps(message))
        return json.loads(await asyncio.wait_for(ws.recv(), 5))

    async with websockets.connect(url) as ws:
        pong = await ask(ws, {"type": "ping"})
        assert pong["type"] == "pong", pong
        for bad, words in [
            ({"type": "ris_subscribe", "data": {"prefix": "10.0.0.0/33"}}, "10.0.0.0/33"),
            ({"type": "ris_subscribe", "data": {"peer": "not-an-address"}}, "not an IP address"),
            ({"type": "ris_subscribe", "data": {"path": "3356 174"}}, "path"),
            ({"type": "ris_subscribe", "data": {"prefx": "10.0.0.0/8"}}, "unknown filter"),
            ({"type": "ris_subscribe", "data": {"type": "update"}}, "type"),
            ({"type": "ris_subscribe", "data": {"require": "both"}}, "require"),
            ({"type": "ris_bogus"}, "unknown message type"),
            ("{not json", "not JSON"),
        ]:
            e = await ask(ws, bad)
            assert e["type"] == "ris_error", (bad, e)
            assert words in e["data"]["message"], (bad, e)
        rrcs = await ask(ws, {"type": "request_rrc_list"})
        assert rrcs["type"] == "ris_rrc_list" and rrcs["data"] == ["ris-e2e"], rrcs
        # The connection still works: a good subscription is acknowledged, and unsubscribing
        # from it (socketOptions are not part of its name) is no error.
        sub = {"type": "RIS_PEER_STATE", "host": "ris-e2e"}
        ok = await ask(ws, {"type": "ris_subscribe",
                            "data": dict(sub, socketOptions={"acknowledge": True})})
        assert ok["type"] == "ris_subscribe_ok", ok
        assert ok["data"]["subscription"] == sub, ok
        await ws.send(json.dumps({"type": "ris_unsubscribe", "data": sub}))
        pong = await ask(ws, {"type": "ping"})
        assert pong["type"] == "pong", pong
    try:
        async with websockets.connect(url.replace("/v1/ws/", "/elsewhere")):
            raise AssertionError("a WebSocket on another path")
    except websockets.exceptions.InvalidStatusCode as e:
        assert e.status_code == 404, e
    print("ok: ping/pong, ris_error for 8 bad messages (the connection goes on), "
          "request_rrc_list, acknowledge, ris_unsubscribe, 404 elsewhere")


def path_flat(path):
    """The AS path as the path filter sees it: sequences' ASNs in order, a set one stand-in."""
    return [None if isinstance(a, list) else a for a in path]


def selected(m, f):
    """Whether RIS Live's filters `f` select message `m` (its data object)."""
    if "type" in f and m["type"] != f["type"]:
        return False
    if "peer" in f and ipaddress.ip_address(m["peer"]) != ipaddress.ip_address(f["peer"]):
        return False
    is_update = m["type"] == "UPDATE"
    announced = [p for a in m.get("announcements", []) for p in a["prefixes"]]
    withdrawn = m.get("withdrawals", [])
    if "path" in f:
        if not is_update:
            return False
        text = str(f["path"])
        start, end = text.startswith("^"), text.endswith("$")
        want = [int(a) for a in text.strip("^$").split(",")]
        flat = path_flat(m["path"])
        spans = [flat[i:i + len(want)] for i in range(len(flat) - len(want) + 1)]
        if start and end:
            ok = flat == want
        elif start:
            ok = flat[:len(want)] == want
        elif end:
            ok = len(flat) >= len(want) and flat[len(flat) - len(want):] == want
        else:
            ok = want in spans
        if not ok:
            return False
    if "prefix" in f:
        if not is_update:
            return False
        wanted = f["prefix"] if isinstance(f["prefix"], list) else [f["prefix"]]
        more, less = f.get("moreSpecific", True), f.get("lessSpecific", False)

        def hit(q):
            q = ipaddress.ip_network(q)
            for p in wanted:
                p = ipaddress.ip_network(p, strict=False)
                if p.version != q.version:
                    continue
                if q == p or (more and q.subnet_of(p)) or (less and p.subnet_of(q)):
                    return True
            return False
        if not any(hit(q) for q in announced + withdrawn):
            return False
    return True


def normal(m):
    m = {k: v for k, v in m.items() if k not in ("id", "host", "raw")}
    m["timestamp"] = int(m["timestamp"])
    return m


def compare(dump_path, live_path):
    dumped = [json.loads(l)["data"] for l in open(dump_path)]
    live = [json.loads(l) for l in open(live_path)]
    want = [normal(m) for m in dumped
            if m["type"] == "RIS_PEER_STATE"
            or (m["type"] == "UPDATE" and (m["announcements"] or m["withdrawals"]))]
    got = [normal(m) for m in live]

    def per_peer(ms):
        out = {}
        for m in ms:
            out.setdefault(m["peer"], []).append(m)
        return out
    w, g = per_peer(want), per_peer(got)
    assert sorted(w) == sorted(g), "peers: live %s, archive %s" % (sorted(g), sorted(w))
    for peer in w:
        first = next(((a, b) for a, b in zip(g[peer], w[peer]) if a != b), None)
        assert first is None and len(g[peer]) == len(w[peer]), \
            "peer %s: live %d messages, archive %d; first difference:\n live    %s\n archive %s" % (
                peer, len(g[peer]), len(w[peer]), *(first or ("-", "-")))
    updates = sum(1 for m in got if m["type"] == "UPDATE")
    print("ok: the live stream is the archive's `dump --format ris-live`: %d UPDATEs and %d "
          "peer states of %d peers, field for field" % (updates, len(got) - updates, len(w)))


def expect(all_path, filters, got_path):
    everything = [normal(json.loads(l)) for l in open(all_path)]
    raw = [json.loads(l).get("raw") for l in open(got_path)]
    if filters.get("socketOptions", {}).get("includeRaw"):
        # The whole UPDATE in hex: the marker, then type 2 after the length.
        bad = [r for r in raw if not r or not r.startswith("F" * 32) or r[36:38] != "02"
               or len(r) != 2 * int(r[32:36], 16) or r.upper() != r]
        assert not bad, "includeRaw: %d of %d messages without their UPDATE, e.g. %s" % (
            len(bad), len(raw), bad[:1])
    else:
        assert not any(raw), "raw without includeRaw"
    got = [normal(json.loads(l)) for l in open(got_path)]
    want = [m for m in everything if selected(m, filters)]
    assert want, "the filters %s select nothing of %d messages" % (filters, len(everything))
    assert got == want, "%s: got %d messages, want %d; first difference: %s" % (
        filters, len(got), len(want),
        next(((g, w) for g, w in zip(got, want) if g != w), "(one list is longer)"))
    print("ok: %s selected exactly the %d of %d messages the manual says" % (
        json.dumps(filters), len(got), len(everything)))


def main():
    mode = sys.argv[1]
    if mode == "listen":
        asyncio.run(listen(sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]))
    elif mode == "probe":
        asyncio.run(probe(sys.argv[2]))
    elif mode == "compare":
        compare(sys.argv[2], sys.argv[3])
    elif mode == "expect":
        expect(sys.argv[2], json.loads(sys.argv[3]), sys.argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
