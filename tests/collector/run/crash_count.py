"""Counts what a kill -9 of the collector cost (kill_e2e.sh): events sent, archived, lost and
duplicated, in the MRT archive and in the SQL archive, and how long before the kill the lost
events were sent.

Usage: crash_count.py BGPSCRIBE DSN KILL_TIME_US SENT_MRT -- MRT_FILE...
SENT_MRT is replay's --record file (the time of each record is when replay sent it). An event is
(peer, prefix, path id, announce or withdraw, attributes); an event sent n times and archived m
times counts n - m lost (the last ones sent) or m - n duplicated. SQL events are the log rows of
the peers' own UPDATEs (cause 'update'). Prints one line per archive:
  <archive> sent N archived N lost N duplicated N window S
where window is how long before the kill the earliest lost event was sent (0 when none).
Exits 0; the caller decides what is acceptable."""
import collections
import json
import subprocess
import sys

bgpscribe, dsn, kill_us = sys.argv[1], sys.argv[2], int(sys.argv[3])
sep = sys.argv.index("--")
sent_file, mrt_files = sys.argv[4], sys.argv[sep + 1:]


def mrt_events(files):
    """(time µs, key) of every route event in the files, in file order."""
    if not files:
        return []
    out = subprocess.run([bgpscribe, "dump", "--json"] + files, check=True, capture_output=True,
                         text=True).stdout
    events = []
    for line in out.splitlines():
        j = json.loads(line)
        if j.get("kind") not in ("announce", "withdraw"):
            continue
        attrs = None
        if j["kind"] == "announce":
            attrs = (j.get("as_path", ""), j.get("next_hop") or j.get("mp_next_hop") or "",
                     tuple(sorted(j.get("communities", []))), str(j.get("med", "")))
        events.append((round(float(j["timestamp"]) * 1e6),
                       (j["peer_ip"], int(j["peer_as"]), j["prefix"], int(j.get("path_id", 0)),
                        j["kind"][0].upper(), attrs)))
    return events


def sql_events():
    out = subprocess.run(
        ["psql", dsn, "-X", "-q", "-A", "-t", "-F", "\t", "-c",
         """SELECT host(p.address), p.asn, u.prefix, u.path_id, u.attr_id IS NULL, a.as_path_text,
                   host(a.next_hop), array_to_string(a.communities, ','), a.med
            FROM bgp.updates u JOIN bgp.peers p USING (peer_id)
            LEFT JOIN bgp.attr_sets a USING (attr_id) WHERE u.cause = 'update'"""],
        check=True, capture_output=True, text=True).stdout
    events = []
    for line in out.splitlines():
        ip, asn, prefix, path_id, withdrawn, path, nh, comm, med = line.split("\t")
        attrs = None
        if withdrawn != "t":
            attrs = (path, nh, tuple(sorted(c for c in comm.split(",") if c)), med)
        events.append((0, (ip, int(asn), prefix, int(path_id), "W" if withdrawn == "t" else "A",
                           attrs)))
    return events


def count(name, sent, archived):
    sent_times = collections.defaultdict(list)
    for t, k in sent:
        sent_times[k].append(t)
    got = collections.Counter(k for _, k in archived)
    lost = duplicated = 0
    earliest = None
    for k, times in sent_times.items():
        missing = len(times) - got.get(k, 0)
        if missing > 0:
            lost += missing
            first_lost = sorted(times)[len(times) - missing]
            earliest = first_lost if earliest is None else min(earliest, first_lost)
    for k, n in got.items():
        duplicated += max(0, n - len(sent_times.get(k, [])))
    window = (kill_us - earliest) / 1e6 if earliest is not None else 0.0
    print("%s sent %d archived %d lost %d duplicated %d window %.3f" % (
        name, len(sent), len(archived), lost, duplicated, window))


sent = mrt_events([sent_file])
count("mrt", sent, mrt_events(mrt_files))
if dsn != "-":
    count("sql", sent, sql_events())
