#!/usr/bin/env bash
# Stops what infra/local/up.sh started for one profile; stopping what is not running is fine.
#
#   postgres  `pg_ctl stop -m fast` on $LT_VAR_DIR/pg/data;
#   kafka     SIGTERM to the broker in $LT_VAR_DIR/kafka/kafka.pid (controlled shutdown),
#             SIGKILL only if it is still alive after $LT_KAFKA_STOP_TIMEOUT_S (default 120) s;
#   hsm       nothing runs (SoftHSM2 is a library); listed for symmetry.
#
# --wipe additionally deletes the profile's state dir ($LT_VAR_DIR: databases, Kafka data,
# tokens, logs), but only if it carries the marker file up.sh writes, so a mistyped
# LT_VAR_DIR can never delete a stranger's directory.
#
# Usage: infra/local/down.sh <profile> [--wipe] [postgres|kafka|hsm ...]   (default: all)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    printf 'usage: %s <profile> [--wipe] [postgres|kafka|hsm ...]\n' "$LT_SCRIPT_NAME" >&2
    exit 2
}

stop_postgres() {
    local started pg_data="$LT_VAR_DIR/pg/data"
    started=$(lt_now_ms)
    if [[ -x "$LT_PG_BIN/pg_ctl" ]] \
        && lt_as_postgres "$LT_PG_BIN/pg_ctl" status -D "$pg_data" >/dev/null 2>&1; then
        if ! lt_as_postgres "$LT_PG_BIN/pg_ctl" stop -D "$pg_data" -m fast -w -t 60 \
            >>"$LT_LOG_FILE" 2>&1; then
            lt_die "postgres: pg_ctl stop -D $pg_data failed (see $LT_LOG_FILE)"
        fi
        lt_summary "postgres   stopped  ($(lt_elapsed "$started"))"
    else
        lt_summary "postgres   not running"
    fi
}

stop_kafka() {
    local started pid_file="$LT_VAR_DIR/kafka/kafka.pid" pid
    started=$(lt_now_ms)
    if ! pid=$(lt_kafka_pid "$LT_VAR_DIR/kafka"); then
        rm -f "$pid_file"
        lt_summary "kafka      not running"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    # Poll for exit; a controlled shutdown of a single node normally takes a few seconds (the
    # first one after a format also writes the class-data-sharing archive, see up.sh).
    local grace_s=${LT_KAFKA_STOP_TIMEOUT_S:-120} killed=false
    local deadline=$((SECONDS + grace_s))
    # Checked by command line, not `kill -0`: an unreaped zombie (no init to reap it in some
    # containers) has an empty one and counts as gone.
    while lt_is_kafka_of "$pid" "$LT_VAR_DIR/kafka"; do
        if ((SECONDS >= deadline)) && ! $killed; then
            lt_log "kafka: pid $pid still running ${grace_s} s after SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            killed=true
        fi
        sleep 0.1
    done
    rm -f "$pid_file"
    # Class-data-sharing archive (see up.sh): a JVM that was recording one writes it while
    # exiting. Keep it only after a clean exit; after a SIGKILL, stop recording for good (until
    # the JDK or the jars change), since the next recording would be as slow to stop.
    local archive="$LT_VAR_DIR/kafka/kafka.jsa"
    if $killed; then
        rm -f "$archive.new"
        [[ -f "$archive" ]] || touch "$archive.failed"
    elif [[ -f "$archive.new" ]]; then
        mv -f "$archive.new" "$archive"
    fi
    lt_summary "kafka      stopped  ($(lt_elapsed "$started"))"
}

stop_hsm() {
    lt_summary "hsm        nothing to stop (SoftHSM2 is a library; token kept unless --wipe)"
}

[[ $# -ge 1 ]] || usage
profile=$1
shift
wipe=false
components=()
for argument in "$@"; do
    case "$argument" in
        --wipe) wipe=true ;;
        postgres | kafka | hsm) components+=("$argument") ;;
        *) lt_die "unknown argument '$argument' (expected --wipe, postgres, kafka or hsm)" ;;
    esac
done
[[ ${#components[@]} -gt 0 ]] || components=(kafka postgres hsm)

lt_load_profile "$profile"
if [[ ! -d "$LT_VAR_DIR" ]]; then
    lt_summary "nothing    $LT_VAR_DIR does not exist: nothing runs, nothing to wipe"
    exit 0
fi
if $wipe && [[ ! -f "$LT_VAR_DIR/.lienthong-profile" ]]; then
    lt_die "refusing to wipe $LT_VAR_DIR: it has no .lienthong-profile marker, so infra/local" \
        "did not create it"
fi
mkdir -p "$LT_LOG_DIR"
LT_LOG_FILE="$LT_LOG_DIR/down.log"
lt_lock_profile
for component in "${components[@]}"; do
    "stop_$component"
done

if $wipe; then
    # Anything still running from this state dir would keep writing into a deleted tree.
    for component in postgres kafka; do
        [[ " ${components[*]} " == *" $component "* ]] || "stop_$component" >/dev/null
    done
    LT_LOG_FILE=""
    rm -rf "$LT_VAR_DIR"
    lt_summary "wipe       deleted $LT_VAR_DIR"
fi
