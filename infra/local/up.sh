#!/usr/bin/env bash
# Starts the local infrastructure of one profile and waits until each part answers for real:
#
#   postgres  a project-local PostgreSQL cluster in $LT_VAR_DIR/pg on 127.0.0.1:$LT_PG_PORT,
#             with role/database `lienthong` (services create their own schemas);
#   kafka     a single-node Kafka 4 broker+controller (KRaft) on 127.0.0.1:$LT_KAFKA_PORT,
#             plus the topics listed in infra/local/topics.txt;
#   hsm       a SoftHSM2 token `$LT_HSM_TOKEN_LABEL` in $LT_VAR_DIR/softhsm, checked by logging
#             in through p11-kit-proxy ($LT_PKCS11_MODULE).
#
# Idempotent: a component that is already running is only re-checked. Readiness is polled,
# never guessed with fixed sleeps. Prints one summary line per component on stdout.
#
# Usage: infra/local/up.sh <profile> [postgres|kafka|hsm ...]     (default: all three)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    printf 'usage: %s <profile> [postgres|kafka|hsm ...]\n' "$LT_SCRIPT_NAME" >&2
    exit 2
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

pg_ctl_as_postgres() { lt_as_postgres "$LT_PG_BIN/pg_ctl" "$@"; }

pg_is_running() { pg_ctl_as_postgres status -D "$PG_DATA" >/dev/null 2>&1; }

write_pg_settings() {
    # Regenerated on every start so that a changed port or setting takes effect.
    cat >"$PG_DATA/lienthong.conf" <<EOF
# Written by infra/local/up.sh for profile $LT_PROFILE; edits are overwritten on next start.
listen_addresses = '127.0.0.1'
port = $LT_PG_PORT
unix_socket_directories = '$PG_RUN'
unix_socket_permissions = 0700
# Integration tests open pools from several service processes at once.
max_connections = 300
shared_buffers = 128MB
work_mem = 8MB
# Crash safety stays on (fsync); only the last commits may be lost on a crash, which a local
# dev/test cluster can afford in exchange for faster test runs.
fsync = on
synchronous_commit = off
timezone = 'Asia/Ho_Chi_Minh'
log_timezone = 'Asia/Ho_Chi_Minh'
lc_messages = 'C'
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = 1000
EOF
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$PG_DATA/lienthong.conf"; fi
}

start_postgres() {
    local started state
    started=$(lt_now_ms)
    PG_DIR="$LT_VAR_DIR/pg"
    PG_DATA="$PG_DIR/data"
    PG_RUN="$PG_DIR/run"
    local pg_log="$LT_LOG_DIR/postgres.log"

    [[ -x "$LT_PG_BIN/pg_ctl" && -x "$LT_PG_BIN/initdb" ]] \
        || lt_die "PostgreSQL server binaries not found in LT_PG_BIN=$LT_PG_BIN;" \
            "run infra/local/install.sh"
    mkdir -p "$PG_DIR" "$PG_RUN"
    touch "$pg_log"
    if [[ $(id -u) -eq 0 ]]; then
        id postgres >/dev/null 2>&1 \
            || lt_die "OS user 'postgres' does not exist; run infra/local/install.sh"
        chown postgres: "$PG_DIR" "$PG_RUN" "$pg_log"
        [[ -d "$PG_DATA" ]] && chown postgres: "$PG_DATA"
    fi
    chmod 700 "$PG_RUN"
    if ! lt_as_postgres test -w "$PG_DIR"; then
        lt_die "the postgres OS user cannot write $PG_DIR: a parent directory of $LT_VAR_DIR" \
            "is not searchable by it (chmod o+x the parents, or set LT_VAR_DIR elsewhere)"
    fi

    if pg_is_running; then
        state="already running"
    else
        lt_require_free_port "$LT_PG_PORT" postgres
        if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
            # A data dir without PG_VERSION is a failed initdb; initdb refuses non-empty dirs.
            rm -rf "$PG_DATA"
            lt_log "postgres: initdb $PG_DATA (log: $LT_LOG_DIR/postgres-initdb.log)"
            if ! lt_as_postgres "$LT_PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 \
                --locale=C.UTF-8 --auth-local=peer --auth-host=scram-sha-256 \
                >"$LT_LOG_DIR/postgres-initdb.log" 2>&1; then
                lt_die "postgres: initdb of $PG_DATA failed (see $LT_LOG_DIR/postgres-initdb.log)"
            fi
            printf "\ninclude_if_exists = 'lienthong.conf'\n" \
                | lt_as_postgres tee -a "$PG_DATA/postgresql.conf" >/dev/null
        fi
        write_pg_settings
        # 9>&-: the server must not inherit (and so hold forever) the profile lock.
        if ! pg_ctl_as_postgres start -D "$PG_DATA" -l "$pg_log" -w -t 60 >/dev/null 2>&1 9>&-
        then
            lt_die "postgres: did not start on 127.0.0.1:$LT_PG_PORT; last log lines:" \
                "$(tail -n 5 "$pg_log" | tr '\n' ' ')"
        fi
        state="started"
    fi

    # Role and database are (re)asserted on every run: cheap, and repairs a half-done first run.
    if ! lt_as_postgres "$LT_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_RUN" \
        -p "$LT_PG_PORT" -U postgres -d postgres >>"$LT_LOG_FILE" 2>&1 <<'SQL'
SELECT 'CREATE ROLE lienthong LOGIN PASSWORD ''lienthong'' CREATEDB'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lienthong') \gexec
SELECT 'CREATE DATABASE lienthong OWNER lienthong ENCODING ''UTF8'' TEMPLATE template0'
       ' LOCALE ''C.UTF-8'''
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'lienthong') \gexec
SQL
    then
        lt_die "postgres: creating role/database lienthong failed (see $LT_LOG_FILE)"
    fi
    # Prove the advertised URL works: TCP on the profile port, password auth, our database.
    local login_output
    if ! login_output=$(PGPASSWORD=lienthong PGCONNECT_TIMEOUT=5 "$LT_PG_BIN/psql" -X -tA \
        -h 127.0.0.1 -p "$LT_PG_PORT" -U lienthong -d lienthong -c 'SHOW port' 2>&1); then
        lt_die "postgres: cannot log in as lienthong at 127.0.0.1:$LT_PG_PORT: $login_output"
    fi
    lt_summary "postgres   ready  127.0.0.1:$LT_PG_PORT  db=lienthong user=lienthong  ($state," \
        "$(lt_elapsed "$started"))  data=$PG_DATA  log=$pg_log"
}

# ---------------------------------------------------------------------------------------------
# Kafka

write_kafka_properties() {
    cat >"$KAFKA_DIR/server.properties" <<EOF
# Written by infra/local/up.sh for profile $LT_PROFILE; edits are overwritten on next start.
# Single-node KRaft: this one process is both broker and controller.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$LT_KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$LT_KAFKA_PORT,CONTROLLER://127.0.0.1:$LT_KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$LT_KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DIR/data

# One broker: every replication factor and ISR minimum is 1.
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Fewer internal partitions than the default 50: the first consumer group and the first
# transactional producer of a fresh test cluster then start in well under a second.
offsets.topic.num.partitions=10
transaction.state.log.num.partitions=10

# Topics come only from infra/local/topics.txt (or service migrations), never by accident.
auto.create.topics.enable=false
num.partitions=1
# Tests start consumers one after another; do not wait for more members to join.
group.initial.rebalance.delay.ms=0

log.retention.hours=168
log.segment.bytes=104857600
EOF
}

# Heap as agreed for a local broker; C1-only JIT halves the CPU the JVM burns while starting
# (measured 7.7 s -> 3.8 s of CPU) at a throughput cost that a dev/test broker does not feel.
# Override with LT_KAFKA_JVM_OPTS (e.g. drop TieredStopAtLevel for a throughput benchmark).
KAFKA_DEFAULT_JVM_OPTS="-Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
-XX:TieredStopAtLevel=1"

# Sets class_data_sharing=(...) for the broker's JVM. Loading Kafka's ~10,000 classes is most of
# its start-up CPU; an application class-data-sharing archive (JDK 17 dynamic CDS) skips the
# parsing and verification, cutting start-up CPU to ~2 s. The first start after a format (or
# after the JDK or the jars changed) records the archive as `kafka.jsa.new`, which the JVM
# writes while exiting; down.sh promotes it to `kafka.jsa` only after a clean exit, so a
# half-written archive is never used. A stale archive is merely ignored by the JVM (-Xshare:auto).
kafka_class_data_sharing_options() {  # <lib dir>
    local lib_dir=$1 archive="$KAFKA_DIR/kafka.jsa" java_binary identity
    java_binary=$(readlink -f "$(command -v java)")
    identity="$java_binary $(stat -c %Y "$java_binary") $lib_dir"
    identity+=" $(cat "$lib_dir/.lienthong-complete")"
    rm -f "$archive.new"
    if [[ "$(cat "$archive.identity" 2>/dev/null)" != "$identity" ]]; then
        rm -f "$archive" "$archive.failed"
    fi
    if [[ -f "$archive" ]]; then
        class_data_sharing=(-XX:SharedArchiveFile="$archive")
    elif [[ -f "$archive.failed" ]]; then
        # down.sh had to SIGKILL the JVM while it wrote the archive (a starved machine);
        # recording again would slow every stop the same way, so run without sharing.
        class_data_sharing=()
    else
        printf '%s\n' "$identity" >"$archive.identity"
        class_data_sharing=(-XX:ArchiveClassesAtExit="$archive.new")
    fi
}

start_kafka() {
    local started state pid
    started=$(lt_now_ms)
    KAFKA_DIR="$LT_VAR_DIR/kafka"
    local lib_dir="$LT_KAFKA_LIB_DIR" java_log="$LT_LOG_DIR/kafka.stdout.log"

    [[ -f "$lib_dir/.lienthong-complete" ]] \
        || lt_die "kafka: broker jars not found in LT_KAFKA_LIB_DIR=$lib_dir;" \
            "run infra/local/install.sh"
    command -v java >/dev/null 2>&1 || lt_die "kafka: java not found on PATH"
    mkdir -p "$KAFKA_DIR/data"

    if pid=$(lt_kafka_pid "$KAFKA_DIR"); then
        printf '%s\n' "$pid" >"$KAFKA_DIR/kafka.pid"
        state="already running"
    else
        rm -f "$KAFKA_DIR/kafka.pid"
        lt_require_free_port "$LT_KAFKA_PORT" kafka
        lt_require_free_port "$LT_KAFKA_CONTROLLER_PORT" "kafka controller"
        write_kafka_properties
        if [[ ! -f "$KAFKA_DIR/data/meta.properties" ]]; then
            # A Kafka cluster id is 16 random bytes in unpadded URL-safe base64 (22 chars).
            [[ -s "$KAFKA_DIR/cluster.id" ]] || head -c 16 /dev/urandom | base64 \
                | tr '+/' '-_' | tr -d '=\n' >"$KAFKA_DIR/cluster.id"
            lt_log "kafka: formatting storage $KAFKA_DIR/data (log: $LT_LOG_DIR/kafka-format.log)"
            if ! java -Xmx256m -cp "$lib_dir/*" \
                -Dlog4j2.configurationFile="$LT_INFRA_DIR/kafka/log4j2.properties" \
                -Dkafka.logs.dir="$LT_LOG_DIR" kafka.tools.StorageTool format \
                --cluster-id "$(cat "$KAFKA_DIR/cluster.id")" \
                --config "$KAFKA_DIR/server.properties" --ignore-formatted \
                >"$LT_LOG_DIR/kafka-format.log" 2>&1; then
                lt_die "kafka: formatting $KAFKA_DIR/data failed (see $LT_LOG_DIR/kafka-format.log)"
            fi
        fi
        local jvm_options=()
        read -r -a jvm_options <<<"${LT_KAFKA_JVM_OPTS:-$KAFKA_DEFAULT_JVM_OPTS}"
        local class_data_sharing=()
        kafka_class_data_sharing_options "$lib_dir"
        # setsid + nohup: the broker outlives this script and a Ctrl-C aimed at `make`.
        # stdout/stderr only catch JVM-level output; the broker logs to $LT_LOG_DIR/kafka.log.
        # 9>&-: the broker must not inherit (and so hold forever) the profile lock.
        cd "$KAFKA_DIR"
        setsid nohup java "${jvm_options[@]}" "${class_data_sharing[@]}" \
            -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
            -Dlog4j2.configurationFile="$LT_INFRA_DIR/kafka/log4j2.properties" \
            -Dkafka.logs.dir="$LT_LOG_DIR" \
            -cp "$lib_dir/*" kafka.Kafka "$KAFKA_DIR/server.properties" \
            </dev/null >>"$java_log" 2>&1 9>&- &
        pid=$!
        cd - >/dev/null
        printf '%s\n' "$pid" >"$KAFKA_DIR/kafka.pid"
        state="started"
    fi

    local topics_summary
    if ! topics_summary=$("$(lt_python)" "$LT_INFRA_DIR/wait_ready.py" kafka \
        --bootstrap "$LT_KAFKA_BOOTSTRAP" --topics-file "$LT_INFRA_DIR/topics.txt" \
        --pid "$pid" --timeout "${LT_KAFKA_START_TIMEOUT_S:-180}" 2>>"$LT_LOG_FILE"); then
        lt_die "kafka: broker on $LT_KAFKA_BOOTSTRAP is not ready: $(tail -n 1 "$LT_LOG_FILE");" \
            "see $LT_LOG_DIR/kafka.log and $java_log"
    fi
    lt_summary "kafka      ready  $LT_KAFKA_BOOTSTRAP " \
        "controller=127.0.0.1:$LT_KAFKA_CONTROLLER_PORT $topics_summary " \
        "($state, $(lt_elapsed "$started"))  pid=$pid  log=$LT_LOG_DIR/kafka.log"
}

# ---------------------------------------------------------------------------------------------
# SoftHSM2

token_serial() {  # prints the serial of the token labelled $LT_HSM_TOKEN_LABEL, if any
    softhsm2-util --show-slots 2>>"$LT_LOG_DIR/softhsm.log" | awk -v label="$LT_HSM_TOKEN_LABEL" '
        /^ *Serial number:/ { serial = $3 }
        /^ *Label:/ { sub(/^ *Label: */, ""); sub(/ *$/, "");
                      if ($0 == label && serial != "") { print serial; exit } }'
}

start_hsm() {
    local started state serial
    started=$(lt_now_ms)
    local token_dir="$LT_VAR_DIR/softhsm/tokens"

    command -v softhsm2-util >/dev/null 2>&1 \
        || lt_die "hsm: softhsm2-util not found; run infra/local/install.sh"
    [[ -e "$LT_PKCS11_MODULE" ]] \
        || lt_die "hsm: LT_PKCS11_MODULE=$LT_PKCS11_MODULE does not exist;" \
            "run infra/local/install.sh (packages p11-kit, p11-kit-modules)"
    if [[ "$SOFTHSM2_CONF" == "$LT_VAR_DIR/softhsm2.conf" ]]; then
        mkdir -p "$token_dir"
        chmod 700 "$LT_VAR_DIR/softhsm" "$token_dir"
        cat >"$SOFTHSM2_CONF" <<EOF
# Written by infra/local/up.sh for profile $LT_PROFILE; edits are overwritten on next start.
directories.tokendir = $token_dir
objectstore.backend = file
log.level = ERROR
slots.removable = false
slots.mechanisms = ALL
library.reset_on_fork = false
EOF
    else
        [[ -f "$SOFTHSM2_CONF" ]] \
            || lt_die "hsm: SOFTHSM2_CONF=$SOFTHSM2_CONF (set in the environment) does not exist"
    fi

    if serial=$(token_serial) && [[ -n "$serial" ]]; then
        state="already initialised"
    else
        lt_log "hsm: initialising token '$LT_HSM_TOKEN_LABEL' (log: $LT_LOG_DIR/softhsm.log)"
        if ! softhsm2-util --init-token --free --label "$LT_HSM_TOKEN_LABEL" \
            --so-pin "$LT_HSM_SO_PIN" --pin "$LT_HSM_USER_PIN" >>"$LT_LOG_DIR/softhsm.log" 2>&1
        then
            lt_die "hsm: softhsm2-util --init-token failed (see $LT_LOG_DIR/softhsm.log)"
        fi
        serial=$(token_serial) \
            || lt_die "hsm: token '$LT_HSM_TOKEN_LABEL' not listed after initialisation"
        state="initialised"
    fi

    local check
    if ! check=$("$(lt_python)" "$LT_INFRA_DIR/wait_ready.py" hsm --module "$LT_PKCS11_MODULE" \
        --label "$LT_HSM_TOKEN_LABEL" --expect-serial "$serial" 2>>"$LT_LOG_FILE"); then
        lt_die "hsm: login through $LT_PKCS11_MODULE failed: $(tail -n 1 "$LT_LOG_FILE")"
    fi
    lt_summary "hsm        ready  token=$LT_HSM_TOKEN_LABEL $check via $LT_PKCS11_MODULE" \
        "($state, $(lt_elapsed "$started"))  conf=$SOFTHSM2_CONF"
}

# ---------------------------------------------------------------------------------------------

[[ $# -ge 1 ]] || usage
lt_load_profile "$1"
shift
lt_prepare_var_dir
LT_LOG_FILE="$LT_LOG_DIR/up.log"
components=("$@")
[[ ${#components[@]} -gt 0 ]] || components=(postgres kafka hsm)
for component in "${components[@]}"; do
    case "$component" in
        postgres | kafka | hsm) ;;
        *) lt_die "unknown component '$component' (expected postgres, kafka or hsm)" ;;
    esac
done

lt_lock_profile
for component in "${components[@]}"; do
    "start_$component"
done
