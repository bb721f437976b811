#!/usr/bin/env bash
# `bgpscribe dump --json` over every MRT file of the shared data set and of the hand-made
# fixtures (tests/data/mrt): every line must be valid JSON with a kind and a timestamp, and the
# routes it lists (rib, announce, withdraw of IPv4 and IPv6 prefixes) must be as many as the B,
# A and W lines of `bgpscribe dump -m`, which the bgpdump comparison test checks against
# bgpdump itself; both formats follow one decision per record (codec/mrt/check.hpp), so they
# also report the same errors and exit alike. Skips (77) without the shared data.
set -uo pipefail
bin=${1:?usage: dump_json.sh BGPSCRIBE_BINARY [DATA_DIR [FIXTURE_DIR]]}
data=${2:-$(dirname "$0")/../../../../shared/data/mrt}
fixtures=${3:-$(dirname "$0")/../../data/mrt}
if [ ! -d "$data" ]; then
  echo "SKIP: shared MRT data not found at $data"
  exit 77
fi
python=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
while IFS= read -r -d '' f; do
  "$bin" dump --json "$f" >"$tmp/json" 2>"$tmp/json.err"
  json_status=$?
  "$bin" dump -m "$f" >"$tmp/text" 2>"$tmp/text.err"
  text_status=$?
  if [ "$json_status" != "$text_status" ] || ! cmp -s "$tmp/json.err" "$tmp/text.err"; then
    echo "FAIL: $f: --json and -m disagree on errors (exit $json_status and $text_status)"
    diff "$tmp/json.err" "$tmp/text.err" | head -4
    failures=$((failures + 1))
  fi
  text_routes=$(awk -F'|' '$3 == "A" || $3 == "W" || $3 == "B"' "$tmp/text" | wc -l)
  if ! result=$("$python" - "$tmp/json" <<'PY'
import json, sys
routes = 0
with open(sys.argv[1]) as f:
    for n, line in enumerate(f, 1):
        o = json.loads(line)
        assert "kind" in o and "timestamp" in o, f"line {n}: no kind/timestamp"
        if o["kind"] in ("rib", "announce", "withdraw") and "prefix" in o:
            routes += 1
print(routes)
PY
  ); then
    echo "FAIL: $f: invalid JSON output"
    failures=$((failures + 1))
    continue
  fi
  if [ "$result" != "$text_routes" ]; then
    echo "FAIL: $f: $result JSON routes, $text_routes text lines"
    failures=$((failures + 1))
  fi
done < <({ find "$data" -type f ! -name '*.md' -print0 | sort -z
           find "$fixtures" -type f -name '*.mrt*' -print0 | sort -z; })
if [ "$failures" -ne 0 ]; then
  echo "$failures files failed"
  exit 1
fi
echo "all JSON valid and complete"
