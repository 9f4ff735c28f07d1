#!/usr/bin/env bash
# Runs every fuzz target for a while and says what it found.
#
#   bash tests/fuzz/run.sh [SECONDS_PER_TARGET]      (default 60)
#
# Installs cargo-fuzz if it is missing, builds all targets, then runs them one after the
# other (niced: the fuzzer must not starve other builds on a small machine). Prints, per
# target, the executions, executions per second, crashes (0, or the paths of the inputs
# libFuzzer saved) and corpus size, then a summary line and the same figures as a Markdown
# table for tests/fuzz/RESULTS.md. Exits 1 if any target crashed (or timed out, or ran out
# of memory), 2 if the build failed.
#
# cargo fuzz needs nightly-only flags (-Zsanitizer=address, sanitizer coverage passes). Only
# the stable toolchain is installed on our machines, so the build runs with
# RUSTC_BOOTSTRAP=1, which lets stable rustc accept them. AddressSanitizer works that way;
# FUZZ_SANITIZER=none turns it off if a toolchain refuses it.
#
# Environment: FUZZ_TARGETS (space-separated, default: all), FUZZ_SANITIZER (default
# address), FUZZ_TIMEOUT (seconds one input may take, default 10).
#
# Outputs (all ignored by git): corpus/<target>/ grows beyond its seed-* files,
# artifacts/<target>/ holds crashing inputs, logs/<target>.log libFuzzer's output.

set -euo pipefail

secs="${1:-60}"
case "$secs" in
    '' | *[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET]" >&2; exit 2 ;;
esac

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$fuzz_dir/../.." && pwd)"
cd "$root"

sanitizer="${FUZZ_SANITIZER:-address}"
timeout="${FUZZ_TIMEOUT:-10}"
all_targets="dhcp4 dhcp6 dhcp6_stateful ndp pure_path stateful_path binding_file config roundtrip"
targets="${FUZZ_TARGETS:-$all_targets}"

export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz missing: installing it from crates.io"
    nice -n 19 cargo install --locked cargo-fuzz
fi

# cargo fuzz SUBCOMMAND, with our options before anything meant for libFuzzer.
fuzz() {
    local cmd="$1"
    shift
    nice -n 19 cargo fuzz "$cmd" --fuzz-dir "$fuzz_dir" --sanitizer "$sanitizer" "$@"
}

echo "building fuzz targets (sanitizer: $sanitizer)"
if ! fuzz build >"$fuzz_dir/build.log" 2>&1; then
    tail -n 40 "$fuzz_dir/build.log" >&2
    echo "fuzz: build failed (full log: $fuzz_dir/build.log)" >&2
    exit 2
fi
rm -f "$fuzz_dir/build.log"

bin_dir="$fuzz_dir/target/$(rustc -vV | sed -n 's/^host: //p')/release"
mkdir -p "$fuzz_dir/logs"
date="$(date -u +%Y-%m-%d)"
rows=()
total_execs=0
crashed=0

for t in $targets; do
    log="$fuzz_dir/logs/$t.log"
    mkdir -p "$fuzz_dir/corpus/$t" "$fuzz_dir/artifacts/$t"
    echo "== $t: ${secs}s"
    # The binaries built above, run directly (as `cargo fuzz run` does after building), so
    # every target runs the same build even if the sources change meanwhile. libFuzzer
    # exits non-zero on a crash; the log says what happened.
    set +e
    ASAN_OPTIONS="${ASAN_OPTIONS:-detect_odr_violation=0}" RUST_BACKTRACE=1 \
        nice -n 19 "$bin_dir/$t" -artifact_prefix="$fuzz_dir/artifacts/$t/" \
        -max_total_time="$secs" -timeout="$timeout" -print_final_stats=1 \
        "$fuzz_dir/corpus/$t" >"$log" 2>&1
    status=$?
    set -e

    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
    if [ -z "$execs" ]; then
        # No final stats (killed hard): the last status line's count, "#1234 ...".
        execs="$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)"
    fi
    execs="${execs:-0}"
    rate="${rate:-0}"
    artifacts="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tr '\n' ' ')"
    corpus="$(find "$fuzz_dir/corpus/$t" -type f | wc -l)"
    if [ -n "$artifacts" ]; then
        crashes="$artifacts"
        crashed=$((crashed + 1))
    elif [ "$status" -ne 0 ]; then
        crashes="exit status $status, no artifact (see $log)"
        crashed=$((crashed + 1))
    else
        crashes=0
    fi
    total_execs=$((total_execs + execs))
    printf '%-13s executions=%s exec/s=%s crashes=%s corpus=%s\n' \
        "$t" "$execs" "$rate" "$crashes" "$corpus"
    rows+=("| $date | $t | $secs | $execs | $rate | $crashes | $corpus |")
done

echo
echo "| date | target | seconds | executions | exec/s | crashes | corpus |"
echo "| --- | --- | ---: | ---: | ---: | --- | ---: |"
printf '%s\n' "${rows[@]}"
echo
n=$(echo $targets | wc -w)
echo "fuzz: $n targets, ${secs}s each, $total_execs executions, $crashed crashed"
[ "$crashed" -eq 0 ]
