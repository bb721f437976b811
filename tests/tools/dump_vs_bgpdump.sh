#!/usr/bin/env bash
# Runs `bgpscribe dump` and Debian's bgpdump over every MRT file of the shared data set and of
# the hand-made fixtures (tests/data/mrt) and asserts identical output:
#   - with --strict-bgpdump, byte-identical in -m, -M and -m -l -u -p modes;
#   - by default, identical except the documented differences (docs/dump.md, "Compatibility
#     with bgpdump"): deprecated BGP (type 5) withdrawal lines may differ in their prefix, and
#     a file whose ADD-PATH NLRI we read under a plain subtype (we warn about it) has other
#     lines than bgpdump's misreading.
# Fixtures listed in tests/data/mrt/bgpdump-differences are compared as that file says (they
# hold malformed records, which bgpdump prints guesses for and we report).
# Skips (exit 77) with a message when the shared data or bgpdump is absent.
set -uo pipefail
bin=${1:?usage: dump_vs_bgpdump.sh BGPSCRIBE_BINARY [DATA_DIR [FIXTURE_DIR]]}
data=${2:-$(dirname "$0")/../../../../shared/data/mrt}
fixtures=${3:-$(dirname "$0")/../../data/mrt}
if [ ! -d "$data" ]; then
  echo "SKIP: shared MRT data not found at $data"
  exit 77
fi
if ! command -v bgpdump >/dev/null; then
  echo "SKIP: bgpdump is not installed (scripts/install-deps installs it)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
files=0
# How a fixture is compared: "full" (unlisted), "strict-only" or "none".
comparison() {
  local name list="$fixtures/bgpdump-differences"
  name=$(basename "$1")
  case "$1" in
    "$fixtures"/*) ;;
    *) echo full; return ;;
  esac
  awk -v n="$name" '$1 == n { print $2; found = 1 } END { if (!found) print "full" }' "$list"
}
# bgpdump spins forever on some damaged bzip2 streams.
reference() {
  timeout 60 bgpdump "$@" 2>/dev/null
}
while IFS= read -r -d '' f; do
  files=$((files + 1))
  how=$(comparison "$f")
  if [ "$how" = none ]; then
    # Still dumped in every mode: no crash, no usage error.
    for mode in "-m" "-M" "-m -l -u -p" "--json"; do
      # shellcheck disable=SC2086
      "$bin" dump $mode "$f" >/dev/null 2>&1
      if [ $? -gt 1 ]; then
        echo "FAIL: $f ($mode): exit status above 1"
        failures=$((failures + 1))
      fi
    done
    echo "note: $f not compared with bgpdump (tests/data/mrt/bgpdump-differences)"
    continue
  fi
  for mode in "-m" "-M" "-m -l -u -p"; do
    # shellcheck disable=SC2086
    reference $mode "$f" >"$tmp/ref"
    # shellcheck disable=SC2086
    "$bin" dump $mode --strict-bgpdump "$f" >"$tmp/strict" 2>"$tmp/err"
    if ! cmp -s "$tmp/ref" "$tmp/strict"; then
      echo "FAIL: $f ($mode --strict-bgpdump): output differs from bgpdump"
      diff "$tmp/ref" "$tmp/strict" | head -6
      failures=$((failures + 1))
    fi
  done
  if [ "$how" = strict-only ]; then
    continue
  fi
  reference -m "$f" >"$tmp/ref"
  "$bin" dump -m "$f" >"$tmp/ours" 2>"$tmp/err"
  if grep -q "warning: NLRI parse only with ADD-PATH" "$tmp/err"; then
    echo "note: $f carries ADD-PATH NLRI under plain subtypes; only --strict-bgpdump compared"
    continue
  fi
  if [ "$(wc -l <"$tmp/ref")" != "$(wc -l <"$tmp/ours")" ]; then
    echo "FAIL: $f (-m): $(wc -l <"$tmp/ours") lines, bgpdump $(wc -l <"$tmp/ref")"
    failures=$((failures + 1))
    continue
  fi
  # Every differing line must be a type-5 withdrawal whose first five fields agree.
  bad=$(paste -d '\n' "$tmp/ref" "$tmp/ours" | awk -F'|' '
    NR % 2 == 1 { ref = $0; split($0, r, "|"); next }
    $0 != ref {
      if (!($1 == "BGP" && $3 == "W" && r[1] == "BGP" && r[3] == "W" && $2 == r[2] && $4 == r[4] && $5 == r[5])) {
        print; n++
      }
    }
    END { print n + 0 }' | tail -1)
  if [ "$bad" != 0 ]; then
    echo "FAIL: $f (-m): $bad lines differ outside the documented differences"
    failures=$((failures + 1))
  fi
done < <({ find "$data" -type f ! -name '*.md' -print0 | sort -z
           find "$fixtures" -type f -name '*.mrt*' -print0 | sort -z; })
echo "compared $files files with bgpdump"
if [ "$failures" -ne 0 ]; then
  echo "$failures comparisons failed"
  exit 1
fi
echo "all outputs identical"
