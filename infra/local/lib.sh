# shellcheck shell=bash
# Shared helpers for infra/local/*.sh. Sourced, never executed.
#
# Conventions used by every script:
#   - messages go to stderr prefixed with the script name, and (once LT_LOG_DIR is known) are
#     appended with a UTC timestamp to "$LT_LOG_FILE";
#   - lt_die stops with a message that names what failed and where to look;
#   - a component "summary" is one line on stdout, so `up.sh test 2>/dev/null` is a status table.

LT_INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
LT_REPO_DIR="$(cd "$LT_INFRA_DIR/../.." && pwd -P)"
LT_SCRIPT_NAME="infra/local/$(basename "$0")"
LT_LOG_FILE="${LT_LOG_FILE:-}"

# Appends one timestamped line (ISO 8601, +07:00) to $LT_LOG_FILE, if set.
lt_log_to_file() {
    [[ -n "$LT_LOG_FILE" ]] || return 0
    printf '%s %s: %s\n' "$(TZ=Asia/Ho_Chi_Minh date +%Y-%m-%dT%H:%M:%S%:z)" \
        "$LT_SCRIPT_NAME" "$*" >>"$LT_LOG_FILE" 2>/dev/null || true
}

lt_log() {
    printf '%s: %s\n' "$LT_SCRIPT_NAME" "$*" >&2
    lt_log_to_file "$@"
}

lt_die() {
    lt_log "error: $*"
    exit 1
}

# One status line per component on stdout (and in the log).
lt_summary() {
    printf '%s\n' "$*"
    lt_log_to_file "$@"
}

lt_now_ms() { date +%s%3N; }

lt_elapsed() {  # lt_elapsed <start_ms> -> "1.23s"
    local start_ms=$1 now_ms
    now_ms=$(lt_now_ms)
    printf '%d.%02ds' $(((now_ms - start_ms) / 1000)) $((((now_ms - start_ms) % 1000) / 10))
}

# The interpreter for wait_ready.py: the project venv has kafka-python and python-pkcs11.
lt_python() {
    if [[ -x "$LT_REPO_DIR/.venv/bin/python" ]]; then
        printf '%s\n' "$LT_REPO_DIR/.venv/bin/python"
    elif command -v python3 >/dev/null 2>&1; then
        command -v python3
    else
        lt_die "no Python found: neither $LT_REPO_DIR/.venv/bin/python nor python3 on PATH"
    fi
}

# Kafka version, read from the one place it is pinned.
lt_kafka_version() {
    local version
    version=$(sed -n 's:.*<kafka\.version>\([^<]*\)</kafka\.version>.*:\1:p' \
        "$LT_INFRA_DIR/kafka/pom.xml" | head -n 1)
    [[ -n "$version" ]] || lt_die "cannot read <kafka.version> from $LT_INFRA_DIR/kafka/pom.xml"
    printf '%s\n' "$version"
}

lt_default_kafka_lib_dir() {
    printf '%s/lienthong/kafka-%s\n' "${XDG_CACHE_HOME:-$HOME/.cache}" "$(lt_kafka_version)"
}

# True when something accepts TCP connections on 127.0.0.1:<port>.
lt_port_in_use() {
    local port=$1
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

# Best-effort description of who listens on <port>, for error messages.
lt_port_holder() {
    local port=$1 holder=""
    if command -v ss >/dev/null 2>&1; then
        holder=$(ss -ltnpH "sport = :$port" 2>/dev/null | awk '{print $4, $6}' | head -n 1)
    fi
    printf '%s\n' "${holder:-unknown process (install iproute2 for details)}"
}

lt_require_free_port() {  # lt_require_free_port <port> <what>
    local port=$1 what=$2
    if lt_port_in_use "$port"; then
        lt_die "$what port 127.0.0.1:$port is already taken by something that is not this" \
            "profile's $what ($(lt_port_holder "$port")); stop it or override the port" \
            "(see infra/local/profiles/$LT_PROFILE.env)"
    fi
}

# Load the profile's environment exactly as callers see it (env.sh is the single source).
lt_load_profile() {  # lt_load_profile <profile>
    local profile=$1 exports
    exports=$("$LT_INFRA_DIR/env.sh" "$profile") || exit 1
    eval "$exports"
}

# Creates the profile's state dir, or adopts it only if it is ours: the marker file also lets
# `down.sh --wipe` refuse to delete a directory that infra/local did not create.
lt_prepare_var_dir() {
    local marker="$LT_VAR_DIR/.lienthong-profile"
    if [[ -d "$LT_VAR_DIR" && ! -f "$marker" ]] \
        && [[ -n "$(ls -A "$LT_VAR_DIR" 2>/dev/null)" ]]; then
        lt_die "LT_VAR_DIR=$LT_VAR_DIR exists, is not empty and was not created by infra/local" \
            "(no .lienthong-profile marker); choose another LT_VAR_DIR"
    fi
    mkdir -p "$LT_VAR_DIR" "$LT_LOG_DIR"
    [[ -f "$marker" ]] || printf '%s\n' "$LT_PROFILE" >"$marker"
}

# Serialise up/down of one profile: two `make test` runs at once must not both run initdb.
# Daemons are started with fd 9 closed so that they never inherit (and keep) this lock.
# (The file is not called `.lock`: servers started by a first draft of up.sh still hold that.)
lt_lock_profile() {
    local lock_file="$LT_VAR_DIR/.infra.lock"
    exec 9>"$lock_file"
    if ! flock -w 300 9; then
        lt_die "another up.sh/down.sh for profile $LT_PROFILE held $lock_file for 300 s" \
            "(holders: $(fuser "$lock_file" 2>/dev/null || echo unknown))"
    fi
}

# Prints the pid of the Kafka broker running with <server.properties>, if any. The pid file is
# tried first; if it is missing or stale, /proc is searched for that exact command line, so a
# lost pid file cannot leave an orphan broker holding the profile's ports.
lt_kafka_pid() {  # lt_kafka_pid <kafka dir>
    local kafka_dir=$1 pid candidate
    pid=$(cat "$kafka_dir/kafka.pid" 2>/dev/null || true)
    if [[ "$pid" =~ ^[0-9]+$ ]] && lt_is_kafka_of "$pid" "$kafka_dir"; then
        printf '%s\n' "$pid"
        return 0
    fi
    for candidate in /proc/[0-9]*; do
        if lt_is_kafka_of "${candidate#/proc/}" "$kafka_dir"; then
            printf '%s\n' "${candidate#/proc/}"
            return 0
        fi
    done
    return 1
}

# True when <pid> is a JVM running kafka.Kafka with <kafka dir>/server.properties (a recycled
# pid, or a `grep` for that path, is not).
lt_is_kafka_of() {  # lt_is_kafka_of <pid> <kafka dir>
    local pid=$1 kafka_dir=$2 arguments=()
    mapfile -d '' -t arguments <"/proc/$pid/cmdline" 2>/dev/null || return 1
    [[ ${#arguments[@]} -ge 3 && "${arguments[0]##*/}" == java ]] || return 1
    [[ "${arguments[-2]}" == kafka.Kafka \
        && "${arguments[-1]}" == "$kafka_dir/server.properties" ]]
}

# Runs a PostgreSQL server binary. PostgreSQL refuses to run as root, so root runs it as the
# `postgres` OS user (created by the Debian package); any other user simply runs it as itself.
lt_as_postgres() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}
