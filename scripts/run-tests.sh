#!/usr/bin/env bash
# The test suite in two lanes that run side by side (2 cores: most tests wait on sandboxed
# kernels, Docker builds and browsers). Lane 2 holds the long notebook-heavy suites; lane 1
# everything else. TEST_LANES=1 runs one lane, serially. Extra arguments go to pytest.
set -uo pipefail
PY=${PY:-.venv/bin/python}
HEAVY=(tests/docker tests/hub tests/lectures tests/assignments)  # tests/hub shares tests/docker's engine
mkdir -p build/test-logs
if [ "${TEST_LANES:-2}" = 1 ] || [ $# -gt 0 ]; then
  exec "$PY" -m pytest "$@"
fi
ignore=()
for d in "${HEAVY[@]}"; do ignore+=("--ignore=$d"); done
started=$(date +%s)
"$PY" -m pytest -p no:cacheprovider "${HEAVY[@]}" >build/test-logs/lane2.log 2>&1 &
lane2=$!
# Lane 2 runs in the background of a non-interactive shell, so it ignores SIGINT: pass a
# Ctrl-C on to it ourselves.
trap 'kill -TERM "$lane2" 2>/dev/null; exit 130' INT TERM
"$PY" -m pytest "${ignore[@]}"
lane1_rc=$?
wait "$lane2"
lane2_rc=$?
echo
echo "=================== lane 2: ${HEAVY[*]} (log: build/test-logs/lane2.log) ==================="
cat build/test-logs/lane2.log
echo "test suite: lane 1 exit $lane1_rc, lane 2 exit $lane2_rc, $(( $(date +%s) - started )) s in all"
[ "$lane1_rc" = 0 ] && [ "$lane2_rc" = 0 ]
