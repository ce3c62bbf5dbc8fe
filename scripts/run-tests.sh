#!/usr/bin/env bash
# The test suite in three lanes that run side by side (2 cores: most tests wait on sandboxed
# kernels, Docker builds and browsers). Lane 3 is the lectures: every lecture in full (about
# 4½ minutes of two notebooks at a time on idle cores) and the Keras lectures on JAX — it
# starts first so that the longest single job is not left for the end of another lane.
# Lane 2 holds the other notebook-heavy suites (Docker images, the labs graded in the
# sandbox); lane 1 everything else. TEST_LANES=1 runs everything in one lane, serially.
# Extra arguments go to pytest (one lane). Each lane's log: build/test-logs/laneN.log.
set -uo pipefail
PY=${PY:-.venv/bin/python}
LANE2=(tests/docker tests/assignments)
LANE3=(tests/lectures)
mkdir -p build/test-logs
if [ "${TEST_LANES:-3}" = 1 ] || [ $# -gt 0 ]; then
  exec "$PY" -m pytest "$@"
fi
ignore=()
for d in "${LANE2[@]}" "${LANE3[@]}"; do ignore+=("--ignore=$d"); done
started=$(date +%s)
"$PY" -m pytest -p no:cacheprovider "${LANE3[@]}" >build/test-logs/lane3.log 2>&1 &
lane3=$!
"$PY" -m pytest -p no:cacheprovider "${LANE2[@]}" >build/test-logs/lane2.log 2>&1 &
lane2=$!
# Lanes 2 and 3 run in the background of a non-interactive shell, so they ignore SIGINT:
# pass a Ctrl-C on to them ourselves.
trap 'kill -TERM "$lane2" "$lane3" 2>/dev/null; exit 130' INT TERM
"$PY" -m pytest "${ignore[@]}"
lane1_rc=$?
lane1_s=$(( $(date +%s) - started ))
wait "$lane2"
lane2_rc=$?
wait "$lane3"
lane3_rc=$?
for n in 2 3; do
  if [ $n = 2 ]; then what="${LANE2[*]}"; else what="${LANE3[*]}"; fi
  echo
  echo "=================== lane $n: $what (log: build/test-logs/lane$n.log) ==================="
  cat "build/test-logs/lane$n.log"
done
if [ -f build/test-logs/lectures-full.json ]; then
  echo "lecture full runs (seconds): $(tr -d '\n' <build/test-logs/lectures-full.json)"
fi
echo "test suite: lane 1 exit $lane1_rc (${lane1_s} s), lane 2 exit $lane2_rc, lane 3 exit $lane3_rc," \
     "$(( $(date +%s) - started )) s in all"
[ "$lane1_rc" = 0 ] && [ "$lane2_rc" = 0 ] && [ "$lane3_rc" = 0 ]
