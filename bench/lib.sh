# Shared by the benchmarks: a private server (its own state and ports), wrk
# runs, and ratios against a baseline measured in the same run.
set -euo pipefail
BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export AICHAT_PORT=${AICHAT_BENCH_PORT:-28080}
export AICHAT_STATE=$BENCH_ROOT/.state/bench
BENCH_URL=http://127.0.0.1:$AICHAT_PORT
BENCH_DURATION=${BENCH_DURATION:-10s}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-32}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}

bench_up() {
    command -v wrk >/dev/null || {
        if [ "$(id -u)" -eq 0 ]; then apt-get install -y -qq wrk >/dev/null; else sudo apt-get install -y -qq wrk >/dev/null; fi
    }
    "$BENCH_ROOT/scripts/dev" up >/dev/null
    trap '"$BENCH_ROOT/scripts/dev" down >/dev/null 2>&1 || true' EXIT
}

# Requests per second of one wrk run: rps URL [header...]
rps() {
    local url=$1
    shift
    local args=()
    for h in "$@"; do args+=(-H "$h"); done
    wrk -t2 -c"$BENCH_CONNECTIONS" -d"$BENCH_DURATION" "${args[@]}" "$url" |
        awk '/^Requests\/sec:/ {print $2}'
}

# Alternate baseline and subject BENCH_ROUNDS times (so drift hits both) and
# print each round, the medians and their ratio.
# compare NAME BASELINE_URL SUBJECT_URL [header...]
compare() {
    local name=$1 base_url=$2 subject_url=$3
    shift 3
    BASE_HEADERS=("$@")
    SUBJECT_HEADERS=("$@")
    compare_headers "$name" "$base_url" "$subject_url"
}

# The same, with the baseline's headers in BASE_HEADERS and the subject's in
# SUBJECT_HEADERS (arrays).
compare_headers() {
    local name=$1 base_url=$2 subject_url=$3
    local base=() subj=() b s
    for round in $(seq "$BENCH_ROUNDS"); do
        b=$(rps "$base_url" "${BASE_HEADERS[@]}")
        s=$(rps "$subject_url" "${SUBJECT_HEADERS[@]}")
        base+=("$b") subj+=("$s")
        printf '%s round %d: baseline %s req/s, subject %s req/s\n' "$name" "$round" "$b" "$s"
    done
    b=$(printf '%s\n' "${base[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    s=$(printf '%s\n' "${subj[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf '%s: median baseline %s req/s, median subject %s req/s, ratio %.2f (%s, wrk -t2 -c%s -d%s, %s rounds, %s cores)\n' \
        "$name" "$b" "$s" "$(echo "$s / $b" | bc -l)" "$(date -u +%F)" "$BENCH_CONNECTIONS" "$BENCH_DURATION" \
        "$BENCH_ROUNDS" "$(nproc)"
}

# The slow model bench-slow on provider benchslow (which extra.conf must
# declare with a timeout longer than HOLD): 5 text chunks a second for HOLD
# seconds (created, or brought up to date when an earlier run left it behind).
# bench_slow_model HOLD
bench_slow_model() {
    local slow="\"provider\":\"benchslow\",\"model_id\":\"mock@rate=5;tokens=$(($1 * 5))\"" status
    status=$(curl -s -o /dev/null -w '%{http_code}' -u admin:admin -X PATCH -H 'Content-Type: application/json' \
        -d "{$slow}" "$BENCH_URL/chat/api/v1/admin/tools/bench-slow")
    if [ "$status" = 404 ]; then
        status=$(curl -s -o /dev/null -w '%{http_code}' -u admin:admin -X POST -H 'Content-Type: application/json' \
            -d "{\"slug\":\"bench-slow\",\"name\":\"Bench slow\",$slow}" "$BENCH_URL/chat/api/v1/admin/tools")
    fi
    case $status in 2*) ;; *) echo "bench: could not set up the bench-slow model ($status)" >&2; exit 1 ;; esac
}
