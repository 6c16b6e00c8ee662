# Shared by scripts/demo and scripts/test: make a fresh Debian 12 machine (with only the Rust
# toolchain) able to build, test and run modernize. Each step is a no-op when already done.

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
    echo "installing Debian packages: $*" >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Stops before the build when target/ cannot grow to `need_gib` (what a clean build of the checks
# takes, measured in Cargo.toml's [profile.dev] note): a full disk otherwise fails late, at a link.
ensure_disk_space() {
    local need_gib=$1 target=${CARGO_TARGET_DIR:-target} used_kib=0 free_kib
    mkdir -p "$target"
    used_kib=$(du -sk "$target" | cut -f1)
    free_kib=$(df -Pk "$target" | awk 'NR == 2 { print $4 }')
    if [ $((free_kib + used_kib)) -lt $((need_gib * 1024 * 1024)) ]; then
        echo "not enough disk for the build: $target needs about $need_gib GiB, it has $((used_kib / 1048576)) GiB" \
            "and the disk $((free_kib / 1048576)) GiB free; free some space (an old target/ or bench database)" >&2
        exit 1
    fi
}

# A C linker for cargo.
ensure_build_tools() {
    command -v cc >/dev/null || apt_install gcc libc6-dev
}

pg_bin_dir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# initdb, pg_ctl, pg_dump...: the private cluster of `modernize` runs on these.
ensure_postgres_binaries() {
    [ -n "$(pg_bin_dir)" ] && [ -x "$(pg_bin_dir)/initdb" ] || apt_install postgresql-15 postgresql-client-15
}

# A PostgreSQL server the tests can reach at $DATABASE_URL (each test makes its own database there).
# Without one, start the Debian cluster on 127.0.0.1:5432 and give the postgres role the password
# the default URL carries.
ensure_test_server() {
    ensure_postgres_binaries
    export DATABASE_URL="${DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"
    local psql
    psql="$(pg_bin_dir)/psql"
    if "$psql" "$DATABASE_URL" -qAtc 'SELECT 1' >/dev/null 2>&1; then
        return
    fi
    echo "no PostgreSQL reachable at the test URL: starting the local Debian cluster" >&2
    local version
    version=$(basename "$(dirname "$(pg_bin_dir)")")
    if ! as_root pg_lsclusters --no-header | grep -q "^$version *main "; then
        as_root pg_createcluster "$version" main >/dev/null
    fi
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
    for _ in $(seq 30); do
        as_root runuser -u postgres -- "$psql" -qAtc 'SELECT 1' >/dev/null 2>&1 && break
        sleep 1
    done
    as_root runuser -u postgres -- "$psql" -qc "ALTER ROLE postgres PASSWORD 'postgres'" >/dev/null
    "$psql" "$DATABASE_URL" -qAtc 'SELECT 1' >/dev/null
}

# squawk, the migration linter, in a virtualenv of its own (Debian's Python refuses global pip).
ensure_squawk() {
    local venv=target/tools
    if [ ! -x "$venv/bin/squawk" ]; then
        python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv && python3 -m venv "$venv"; }
        "$venv/bin/pip" install --quiet 'squawk-cli>=2,<3'
    fi
    export PATH="$PWD/$venv/bin:$PATH"
}

# schemathesis (a third-party OpenAPI fuzzer, from PyPI) for scripts/api-fuzz, pinned, in a
# virtualenv of its own under the user's cache directory, so it survives `cargo clean`.
SCHEMATHESIS_VERSION=4.32.5
ensure_schemathesis() {
    local venv="${XDG_CACHE_HOME:-$HOME/.cache}/modernize/schemathesis-$SCHEMATHESIS_VERSION"
    if [ ! -x "$venv/bin/schemathesis" ]; then
        mkdir -p "$(dirname "$venv")"
        rm -rf "$venv"
        python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv && rm -rf "$venv" && python3 -m venv "$venv"; }
        "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
    fi
    export PATH="$venv/bin:$PATH"
}

# Node.js and npm for the web UI (web/), from Debian's packages when missing: the build works with
# Debian 12's Node.js 18 (web/scripts/check-engines.mjs holds every package to it).
ensure_node() {
    command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
}

# Debian's Chromium for the UI's end-to-end tests (Playwright drives it; no browser download).
ensure_chromium() {
    [ -x /usr/bin/chromium ] || apt_install chromium fonts-dejavu-core
}

# The web UI type-checked and built into web/dist, which the modernize binary embeds: so before cargo.
# `npm ci` only when node_modules is missing or older than package-lock.json.
build_web() {
    ensure_node
    if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
        (cd web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
    fi
    (cd web && npm run --silent build >/dev/null)
}
