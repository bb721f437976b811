"""The e2e checkers' report lines: "ok: ..." and "FAIL: ...", the failures counted for the exit
status (checks.failures)."""

failures = 0


def fail(what):
    global failures
    failures += 1
    print("FAIL: " + what, flush=True)


def ok(what):
    print("ok: " + what, flush=True)
