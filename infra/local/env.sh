#!/usr/bin/env bash
# Prints `export NAME=value` lines describing one local infrastructure profile, for
#     eval "$(infra/local/env.sh test)"
# Values come from infra/local/profiles/<profile>.env plus derived defaults; a variable that is
# already set (non-empty) in the environment wins over both.
#
# One exception protects against mixing profiles: after `eval "$(env.sh dev)"` the shell holds
# LT_PROFILE=dev, and `env.sh test` must not inherit dev's ports and directories. So when the
# environment's LT_PROFILE names another profile, inherited LT_* and SOFTHSM2_CONF values are
# ignored (with a note on stderr).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    local profile_files=("$LT_INFRA_DIR"/profiles/*.env)
    profile_files=("${profile_files[@]##*/}")
    printf 'usage: %s <profile>\n  profiles: %s\n' "$LT_SCRIPT_NAME" \
        "${profile_files[*]%.env}" >&2
    exit 2
}

[[ $# -eq 1 ]] || usage
profile=$1
[[ "$profile" =~ ^[a-z][a-z0-9_-]*$ ]] || lt_die "profile '$profile' is not a valid profile name"
profile_file="$LT_INFRA_DIR/profiles/$profile.env"
[[ -f "$profile_file" ]] || lt_die "unknown profile '$profile': $profile_file does not exist"

if [[ -n "${LT_PROFILE:-}" && "$LT_PROFILE" != "$profile" ]]; then
    lt_log "note: ignoring LT_* and SOFTHSM2_CONF inherited from profile '$LT_PROFILE'"
    while IFS= read -r inherited; do
        unset "$inherited"
    done < <(compgen -e | grep -E '^(LT_[A-Z0-9_]*|SOFTHSM2_CONF)$' || true)
fi

# NAME -> value, in output order.
declare -A values=()
declare -a names=()

# set_value NAME DEFAULT: the environment's value if set and non-empty, else DEFAULT.
set_value() {
    local name=$1 default=$2
    if [[ -n "${!name:-}" ]]; then
        values[$name]=${!name}
    else
        values[$name]=$default
    fi
    # Later derivations read earlier results through ordinary variables.
    printf -v "$name" '%s' "${values[$name]}"
    local existing
    for existing in "${names[@]}"; do
        [[ "$existing" == "$name" ]] && return 0
    done
    names+=("$name")
}

# Read the profile file as data (NAME=value lines), never as code.
declare -A profile_values=()
declare -a profile_names=()
line_no=0
while IFS= read -r line || [[ -n "$line" ]]; do
    line_no=$((line_no + 1))
    [[ "$line" =~ ^[[:space:]]*(#.*)?$ ]] && continue
    if [[ "$line" =~ ^([A-Z_][A-Z0-9_]*)=(.*)$ ]]; then
        profile_values[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
        profile_names+=("${BASH_REMATCH[1]}")
    else
        lt_die "$profile_file line $line_no is not NAME=value: $line"
    fi
done <"$profile_file"

for required in LT_PG_PORT LT_KAFKA_PORT LT_KAFKA_CONTROLLER_PORT; do
    [[ -n "${profile_values[$required]:-}" ]] || lt_die "$profile_file does not set $required"
done

# The interpreter-independent location of p11-kit's proxy module (multiarch path on Debian).
default_pkcs11_module=/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so
for candidate in /usr/lib/*/p11-kit-proxy.so /usr/lib/p11-kit-proxy.so; do
    if [[ -e "$candidate" ]]; then
        default_pkcs11_module=$candidate
        break
    fi
done

default_pg_bin=/usr/lib/postgresql/15/bin
if [[ ! -x "$default_pg_bin/postgres" ]]; then
    # Another Debian release ships another major version; take the newest one installed.
    newest=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    [[ -d "$newest" ]] || newest=""
    [[ -n "$newest" ]] && default_pg_bin=$newest
fi

set_value LT_PROFILE "$profile"
set_value LT_VAR_DIR "$LT_REPO_DIR/var/$profile"
if [[ "$LT_VAR_DIR" != /* ]]; then
    LT_VAR_DIR="$(pwd -P)/$LT_VAR_DIR"  # callers are promised an absolute path
    values[LT_VAR_DIR]=$LT_VAR_DIR
fi
set_value LT_LOG_DIR "$LT_VAR_DIR/log"
for name in "${profile_names[@]}"; do
    set_value "$name" "${profile_values[$name]}"
done
set_value LT_HSM_TOKEN_LABEL lienthong
set_value LT_HSM_USER_PIN lt-test-user-pin
set_value LT_HSM_SO_PIN lt-test-so-pin
set_value LT_PG_BIN "$default_pg_bin"
set_value LT_DATABASE_URL \
    "postgresql+psycopg://lienthong:lienthong@127.0.0.1:$LT_PG_PORT/lienthong"
set_value LT_KAFKA_BOOTSTRAP "127.0.0.1:$LT_KAFKA_PORT"
set_value LT_KAFKA_LIB_DIR "$(lt_default_kafka_lib_dir)"
set_value LT_PKCS11_MODULE "$default_pkcs11_module"
set_value SOFTHSM2_CONF "$LT_VAR_DIR/softhsm2.conf"

for name in "${names[@]}"; do
    printf 'export %s=%q\n' "$name" "${values[$name]}"
done
