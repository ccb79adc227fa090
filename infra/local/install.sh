#!/usr/bin/env bash
# Installs what the local infrastructure needs; safe to re-run (work already done is skipped).
#
#   1. Debian packages: PostgreSQL, SoftHSM2, p11-kit (+ proxy module), poppler-utils and the
#      fonts the PDF pipeline embeds. `apt-get update` runs only when something is missing.
#   2. The Kafka broker jars, resolved from Maven Central by infra/local/kafka/pom.xml into
#      $LT_KAFKA_LIB_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/lienthong/kafka-<version>/).
#      A completed lib dir carries a stamp with the pom's checksum; with a matching stamp Maven
#      is not run at all, so a warm re-run works offline. Needs java 17+, mvn, perl (base).
#
# Usage: infra/local/install.sh        Log: ${LT_LOG_DIR:-<repo>/var/log}/install.log
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 0 ]] || { printf 'usage: %s (no arguments)\n' "$LT_SCRIPT_NAME" >&2; exit 2; }

install_log_dir="${LT_LOG_DIR:-$LT_REPO_DIR/var/log}"
mkdir -p "$install_log_dir"
LT_LOG_FILE="$install_log_dir/install.log"

DEBIAN_PACKAGES=(
    postgresql
    softhsm2
    p11-kit
    p11-kit-modules
    poppler-utils
    fonts-dejavu-core
    fonts-liberation2
    libnss3-tools   # certutil/crlutil: a trust store for poppler's pdfsig in the signing tests
    xmlsec1         # independent XML-DSig check of the edXML packages we sign
)

install_debian_packages() {
    local started missing=() package status
    started=$(lt_now_ms)
    for package in "${DEBIAN_PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
        [[ "$status" == "install ok installed" ]] || missing+=("$package")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        lt_summary "apt       ok      ${#DEBIAN_PACKAGES[@]} packages already installed"
        return 0
    fi

    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 \
            || lt_die "missing Debian packages (${missing[*]}) and not root, no sudo to install"
        sudo=(sudo -n)
    fi
    lt_log "installing Debian packages: ${missing[*]} (output in $LT_LOG_FILE)"
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update >>"$LT_LOG_FILE" 2>&1
    then
        lt_die "apt-get update failed (see $LT_LOG_FILE)"
    fi
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y \
        --no-install-recommends "${missing[@]}" >>"$LT_LOG_FILE" 2>&1; then
        lt_die "apt-get install of ${missing[*]} failed (see $LT_LOG_FILE)"
    fi
    lt_summary "apt       ok      installed ${missing[*]} in $(lt_elapsed "$started")"
}

check_tools() {
    command -v java >/dev/null 2>&1 || lt_die "java not found: Kafka 4 needs Java 17+ on PATH"
    local java_major
    java_major=$(java -XshowSettings:properties -version 2>&1 \
        | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p')
    [[ -n "$java_major" && "$java_major" -ge 17 ]] \
        || lt_die "java on PATH is version '${java_major:-unknown}'; Kafka 4 needs 17 or newer"
    command -v flock >/dev/null 2>&1 || lt_die "flock not found (Debian package util-linux)"
    # The C.UTF-8 locale is compiled into Debian's glibc; initdb needs it for the UTF8 cluster.
    if command -v locale >/dev/null 2>&1 && ! locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
        lt_die "locale C.UTF-8 is not available (locale -a); PostgreSQL's cluster needs it"
    fi
}

# Checksum of what the pom asks for: comments and layout are left out, so editing a comment
# does not refetch (and replace the jars under a running broker).
pom_checksum() {
    perl -0777 -pe 's/<!--.*?-->//gs; s/\s+//g' "$LT_INFRA_DIR/kafka/pom.xml" | sha256sum \
        | cut -d ' ' -f 1
}

fetch_kafka_jars() {
    local started version lib_dir stamp checksum staging
    started=$(lt_now_ms)
    version=$(lt_kafka_version)
    lib_dir="${LT_KAFKA_LIB_DIR:-$(lt_default_kafka_lib_dir)}"
    stamp="$lib_dir/.lienthong-complete"
    checksum=$(pom_checksum)

    if [[ -f "$stamp" && "$(cat "$stamp")" == "$checksum" ]] \
        && compgen -G "$lib_dir/kafka_2.13-$version.jar" >/dev/null; then
        lt_summary "kafka-jars ok     Kafka $version already in $lib_dir"
        return 0
    fi

    command -v mvn >/dev/null 2>&1 || lt_die "mvn not found: Maven fetches the Kafka jars"
    mkdir -p "$(dirname "$lib_dir")"
    # Two installs at once (two worktrees, two make targets) share the cache: take turns.
    exec 8>"$(dirname "$lib_dir")/.install.lock"
    flock -w 600 8 || lt_die "another install.sh held $(dirname "$lib_dir")/.install.lock for 600 s"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$checksum" ]]; then
        lt_summary "kafka-jars ok     Kafka $version already in $lib_dir (fetched concurrently)"
        return 0
    fi
    rm -rf "$lib_dir".partial.*  # left by an interrupted run; the lock says none is in progress
    # Download into a sibling staging dir and rename at the end: an interrupted or failed
    # download never leaves a half-filled lib dir that looks complete.
    staging=$(mktemp -d "$lib_dir.partial.XXXXXX")
    chmod 755 "$staging"  # mktemp's 0700 would hide the jars from other local users
    local maven_log="$install_log_dir/install-maven.log"
    lt_log "fetching Kafka $version jars from Maven Central (output in $maven_log)"
    # The plugin is named in full so that its own download failure names it, too.
    if ! (cd "$LT_INFRA_DIR/kafka" && mvn -B -q -f pom.xml \
        org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
        -DoutputDirectory="$staging") >"$maven_log" 2>&1; then
        rm -rf "$staging"
        local reason
        reason=$(grep -m 1 -E '\[ERROR\]' "$maven_log" | sed 's/^.*\[ERROR\] *//' || true)
        lt_die "downloading org.apache.kafka:kafka_2.13:$version and its dependencies" \
            "from Maven Central failed: ${reason:-see $maven_log} (full output: $maven_log)"
    fi
    for required in "kafka_2.13-$version.jar" "kafka-clients-$version.jar" log4j-core-*.jar \
        log4j-slf4j-impl-*.jar; do
        compgen -G "$staging/$required" >/dev/null || {
            rm -rf "$staging"
            lt_die "Maven finished but $required is missing from the Kafka jars"
        }
    done
    if [[ -d "$lib_dir" ]] \
        && diff -rq --exclude=.lienthong-complete "$staging" "$lib_dir" >/dev/null 2>&1; then
        # Same jars as before: keep the directory a running broker may be loading classes from.
        rm -rf "$staging"
        printf '%s\n' "$checksum" >"$lib_dir/.lienthong-complete"
        lt_summary "kafka-jars ok     Kafka $version in $lib_dir unchanged (stamp renewed)" \
            "in $(lt_elapsed "$started")"
        return 0
    fi
    printf '%s\n' "$checksum" >"$staging/.lienthong-complete"
    rm -rf "$lib_dir"
    mv "$staging" "$lib_dir"
    lt_summary "kafka-jars ok     Kafka $version fetched to $lib_dir" \
        "($(find "$lib_dir" -name '*.jar' | wc -l) jars, $(du -sh "$lib_dir" | cut -f 1))" \
        "in $(lt_elapsed "$started")"
}

install_debian_packages
check_tools
fetch_kafka_jars
