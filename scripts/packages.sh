# Installs with apt what building Ferry needs and this machine lacks. Source this file, then call
# install_missing_packages, optionally with more packages that tell themselves missing (a test's servers).

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The C libraries Ferry links: libpq, MariaDB Connector/C and SQLite, as Debian's -dev packages.
missing_build_packages() {
  pkg-config --exists libpq 2>/dev/null || echo libpq-dev
  pkg-config --exists libmariadb 2>/dev/null || echo libmariadb-dev
  pkg-config --exists sqlite3 2>/dev/null || echo libsqlite3-dev
  command -v pkg-config >/dev/null 2>&1 || echo pkg-config
}

# Installs the build packages that are missing and any packages given as arguments.
install_missing_packages() {
  local missing
  missing=($(missing_build_packages) "$@")
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}
