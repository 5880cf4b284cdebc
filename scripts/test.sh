#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, runs every unit
# and integration test, then the same tests again in a sanitizer build
# (build-asan: ASan + UBSan), then each libFuzzer target for a bounded
# time (build-fuzz, clang), and ends with the line "N passed, N failed"
# counting all of them.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bash scripts/deps.sh || { echo "dependency install failed"; echo "0 passed, 1 failed"; exit 1; }
bash scripts/build.sh || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0; failed=0
count_log() { # testlog.json -> adds to passed/failed
    local log=$1 p f
    [ -f "$log" ] || return 0
    p=$(grep -c '"result": "OK"' "$log" || true)
    f=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)
    passed=$((passed + p)); failed=$((failed + f))
}

# 1. The normal build.
meson test -C build --print-errorlogs --num-processes 2 </dev/null
rc=$?
before=$failed
count_log build/meson-logs/testlog.json
if [ "$rc" -ne 0 ] && [ "$failed" -eq "$before" ]; then failed=$((failed + 1)); fi

# 2. The same tests under AddressSanitizer + UndefinedBehaviorSanitizer,
# except: submit-large (it measures peak RSS, which ASan's shadow memory
# inflates); privileges, ops-import, as-nobody, hardened and
# interop-postfix-local (they run postern as another user or set-id, with
# their own environment (Postfix's local(8) runs postern-deliver), where
# LeakSanitizer cannot work and aborts); robust-valgrind (valgrind and ASan exclude each
# other) and ops-format (nothing to sanitize). Every sanitizer report (also
# from background runners no test waits for) lands in build-asan/sanitizer/,
# and any report there fails the run.
echo "== sanitizer build (build-asan) =="
if { [ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined \
        -Db_lundef=false -Dinstall_ownership=false -Dbuildtype=debug >/dev/null; } &&
   ninja -C build-asan >/dev/null; then
    san=$here/build-asan/sanitizer
    rm -rf "$san"; mkdir -p "$san"
    mapfile -t asan_tests < <(meson test -C build-asan --list 2>/dev/null </dev/null |
        sed -n 's|^postern:[^ ]* / ||p' | grep -v -x -e submit-large -e privileges -e ops-import -e as-nobody -e hardened -e ops-format -e robust-valgrind \
            -e interop-postfix-local)
    rm -f build-asan/meson-logs/testlog.json
    ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$san/asan" \
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$san/ubsan" \
        meson test -C build-asan --print-errorlogs --num-processes 2 "${asan_tests[@]}" </dev/null
    rc=$?
    before=$failed
    count_log build-asan/meson-logs/testlog.json
    if [ "$rc" -ne 0 ] && [ "$failed" -eq "$before" ]; then failed=$((failed + 1)); fi
    # A finding is an ASan/LSan "ERROR:" or a UBSan "runtime error:".
    # Other lines in the log directory are the sanitizer's own noise, e.g.
    # LeakSanitizer's "Unable to get registers from thread" when a test
    # SIGKILLs a process while it is checking for leaks at exit: shown,
    # not counted.
    if grep -l -E 'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:' "$san"/* \
            >/dev/null 2>&1; then
        echo "sanitizer reports:"; head -n 40 "$san"/* 2>/dev/null
        failed=$((failed + 1))
    else
        if compgen -G "$san/*" >/dev/null; then
            echo "sanitizer notes (no finding):"; head -n 5 "$san"/* 2>/dev/null
        fi
        passed=$((passed + 1)) # "no sanitizer report" counts as one test
    fi
else
    echo "sanitizer build failed"; failed=$((failed + 1))
fi

# 3. libFuzzer targets, each for a bounded time (one test each), two at
# a time (each is one process on one core). Only the fuzz targets and the
# libraries they link are built, not the programs.
if [ -f fuzz/meson.build ]; then
    echo "== fuzz build (build-fuzz, clang) =="
    fuzz_time=${POSTERN_FUZZ_TIME:-10}
    # One per fuzz/fuzz_NAME.cpp; its seed corpus is fuzz/corpus/NAME/ (a
    # missing one fails that target).
    fuzz_names=()
    for src in fuzz/fuzz_*.cpp; do t=${src#fuzz/fuzz_}; fuzz_names+=("${t%.cpp}"); done
    if { [ -f build-fuzz/build.ninja ] || CC=clang-14 CXX=clang++-14 meson setup build-fuzz \
            -Dfuzz=true -Dtests=false -Dinstall_ownership=false -Dbuildtype=debugoptimized \
            -Db_sanitize=address,undefined -Db_lundef=false -Dcpp_args=-fsanitize=fuzzer-no-link \
            -Dwerror=false >/dev/null; } &&
       ninja -C build-fuzz "${fuzz_names[@]/#/fuzz/fuzz_}" >/dev/null; then
        fuzz_work=$(mktemp -d)
        for t in "${fuzz_names[@]}"; do
            while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n; done
            (
                mkdir "$fuzz_work/$t"
                { cp -r "fuzz/corpus/$t/." "$fuzz_work/$t/" &&
                  build-fuzz/fuzz/fuzz_"$t" -max_total_time="$fuzz_time" -timeout=10 \
                    -rss_limit_mb=2048 -artifact_prefix="$here/build-fuzz/crash-$t-" \
                    "$fuzz_work/$t"; } >"$fuzz_work/$t.log" 2>&1
                echo $? >"$fuzz_work/$t.rc"
            ) &
        done
        wait
        for t in "${fuzz_names[@]}"; do
            if [ "$(cat "$fuzz_work/$t.rc" 2>/dev/null)" = 0 ]; then
                echo "fuzz $t: OK ($(grep -o 'Done [0-9]* runs' "$fuzz_work/$t.log"))"
                passed=$((passed + 1))
            else
                echo "fuzz $t: FAIL"; tail -n 40 "$fuzz_work/$t.log"
                failed=$((failed + 1))
            fi
        done
        rm -rf "$fuzz_work"
    else
        echo "fuzz build failed"; failed=$((failed + 1))
    fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
