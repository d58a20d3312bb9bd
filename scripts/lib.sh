# shellcheck shell=bash
# Shared by scripts/up and scripts/pulumi (sourced, not run): which Pulumi CLI, which backend.
#
# The Pulumi CLI: the one PULUMI names (`make up PULUMI=/path/to/pulumi`), else the one on PATH when
# it is at least the version the program's SDK is pinned to (`pulumi==` in requirements.txt), else
# that exact version installed into .pulumi-cli by Pulumi's official installer. Nothing outside the
# repository is written while installing.
#
# The backend: whatever the user chose, by the CLI's own precedence (PULUMI_BACKEND_URL, then the
# project's `backend.url`, then the stored `pulumi login`; pulumi/pulumi
# pkg/workspace/creds.go, GetCurrentCloudURL). Only when nothing is chosen does this log in to
# the project-local file backend, with `pulumi login`, so that every later `pulumi` command in any
# shell reaches the same state. See docs/decisions.md, "Where state lives".

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PULUMI_CLI_ROOT="$REPO_ROOT/.pulumi-cli"
LOCAL_STATE_DIR="$REPO_ROOT/.pulumi-state"
LOCAL_BACKEND_URL="file://$LOCAL_STATE_DIR"
# The official installer, as the pinned SDK's own PulumiCommand.install() fetches and runs it
# (pulumi/pulumi sdk/python/lib/pulumi/automation/_cmd.py, _install_posix).
PULUMI_INSTALL_SCRIPT_URL="https://get.pulumi.com/install.sh"

note() { printf '%s\n' "$*" >&2; }
# Prints `error: $1`, then each further argument (a line, or several) indented under it.
report() {
  printf 'error: %s\n' "$1" >&2
  shift
  local lines
  for lines in "$@"; do printf '%s\n' "$lines" | sed 's/^/       /' >&2; done
}
die() {
  report "$@"
  exit 1
}

# The CLI version the program is built for: the SDK pin, since the CLI and the Python SDK are
# released together under one version number.
pinned_pulumi_version() {
  sed -n 's/^pulumi==\([0-9][0-9.]*\).*/\1/p' "$REPO_ROOT/requirements.txt"
}

# `pulumi version` prints e.g. "v3.272.0" (or "v3.272.0-dev.0" for a dev build): the release part.
cli_version() {
  "$1" version 2>/dev/null | head -n 1 | sed -e 's/^v//' -e 's/[-+].*//'
}

# True when version $1 >= version $2 (both N.N.N; anything else is not new enough).
version_at_least() {
  [[ "$1" =~ ^[0-9]+(\.[0-9]+)*$ && "$2" =~ ^[0-9]+(\.[0-9]+)*$ ]] || return 1
  local IFS=. index
  local -a have want
  read -r -a have <<<"$1"
  read -r -a want <<<"$2"
  for index in 0 1 2; do
    ((10#${have[index]:-0} > 10#${want[index]:-0})) && return 0
    ((10#${have[index]:-0} < 10#${want[index]:-0})) && return 1
  done
  return 0
}

# What to do when no Pulumi CLI can be installed: install one by hand, or name one.
install_by_hand() {
  printf '%s\n' \
    "Install the Pulumi CLI $1 or newer yourself, then run make again:" \
    "  Linux or macOS: curl -fsSL https://get.pulumi.com | sh -s -- --version $1" \
    "  macOS with Homebrew: brew install pulumi/tap/pulumi" \
    "and put it on your PATH, or name it: make up PULUMI=/path/to/pulumi (every make target" \
    "takes PULUMI=). See README, Troubleshooting."
}

# Sets PULUMI_BIN to a Pulumi CLI of at least the pinned version, installing it if need be.
resolve_pulumi() {
  local pinned on_path on_path_version="" local_cli named named_version
  pinned="$(pinned_pulumi_version)"
  [ -n "$pinned" ] || die "requirements.txt pins no pulumi== version"
  if [ -n "${PULUMI:-}" ]; then
    named="$(command -v "$PULUMI" || true)"
    [ -n "$named" ] || die "PULUMI=$PULUMI is not an executable: name the Pulumi CLI by its path"
    named_version="$(cli_version "$named")"
    version_at_least "$named_version" "$pinned" ||
      die "PULUMI=$PULUMI is ${named_version:+version }${named_version:-not a Pulumi CLI (no version)};" \
        "this project needs the Pulumi CLI $pinned or newer."
    PULUMI_BIN="$named"
    return
  fi
  on_path="$(command -v pulumi || true)"
  [ -z "$on_path" ] || on_path_version="$(cli_version "$on_path")"
  if [ -n "$on_path" ] && version_at_least "$on_path_version" "$pinned"; then
    PULUMI_BIN="$on_path"
    return
  fi
  local_cli="$PULUMI_CLI_ROOT/bin/pulumi"
  if [ -x "$local_cli" ] && [ "$(cli_version "$local_cli")" = "$pinned" ]; then
    PULUMI_BIN="$local_cli"
    return
  fi
  if [ -n "$on_path" ]; then
    note "The Pulumi CLI on PATH ($on_path, ${on_path_version:-version unknown}) is older than $pinned."
  fi
  install_pulumi "$pinned"
  PULUMI_BIN="$local_cli"
}

# Installs Pulumi $1 into .pulumi-cli with the official installer. HOME, TMPDIR and the working
# directory point inside .pulumi-cli while it runs, so even an installer that ignored
# --install-root or --no-edit-path could write nothing outside the repository.
install_pulumi() {
  local version="$1" root="$PULUMI_CLI_ROOT" installed
  local by_hand
  by_hand="$(install_by_hand "$version")"
  command -v curl >/dev/null 2>&1 ||
    die "curl is needed to install the Pulumi CLI $version (Pulumi's installer uses it too)." \
      "Install curl, or:" "$by_hand"
  note "Installing the Pulumi CLI $version into $root (nothing outside this directory is touched)."
  rm -rf "$root"
  mkdir -p "$root/.install/home" "$root/.install/tmp"
  curl -fsSL --retry 3 -o "$root/.install/install.sh" "$PULUMI_INSTALL_SCRIPT_URL" ||
    die "could not download $PULUMI_INSTALL_SCRIPT_URL (see curl's message above)." "$by_hand"
  (
    cd "$root/.install/tmp"
    HOME="$root/.install/home" TMPDIR="$root/.install/tmp" \
      sh "$root/.install/install.sh" --no-edit-path --install-root "$root" --version "$version"
  ) >&2 || die "the Pulumi installer failed (see its output above)." "$by_hand"
  rm -rf "$root/.install"
  installed="$(cli_version "$root/bin/pulumi")"
  [ "$installed" = "$version" ] ||
    die "the installer left ${installed:-no} Pulumi CLI in $root/bin, not $version." "$by_hand"
}

# The backend URL the CLI will use, by its own precedence; empty when the user chose none.
current_backend() {
  if [ -n "${PULUMI_BACKEND_URL:-}" ]; then
    printf '%s\n' "$PULUMI_BACKEND_URL"
    return
  fi
  local from_project from_login
  # `backend:` / `  url: ...` in Pulumi.yaml (this project sets none; a fork may).
  from_project="$(sed -n '/^backend:/,/^[^[:space:]#]/s/^[[:space:]]\{1,\}url:[[:space:]]*//p' \
    "$REPO_ROOT/Pulumi.yaml" | head -n 1 | tr -d "\"'")"
  if [ -n "$from_project" ]; then
    printf '%s\n' "$from_project"
    return
  fi
  from_login="$(stored_login)"
  if [ -n "$from_login" ]; then
    printf '%s\n' "$from_login"
  elif [ -n "${PULUMI_ACCESS_TOKEN:-}" ]; then
    # With a token and no login, the CLI logs in to Pulumi Cloud by itself.
    printf '%s\n' "https://api.pulumi.com"
  fi
}

# The backend `pulumi login` stored as current (credentials.json, in PULUMI_CREDENTIALS_PATH or
# PULUMI_HOME, default ~/.pulumi; pulumi/pulumi sdk/go/common/workspace/creds.go).
stored_login() {
  local credentials="${PULUMI_CREDENTIALS_PATH:-${PULUMI_HOME:-$HOME/.pulumi}}/credentials.json"
  [ -f "$credentials" ] || return 0
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("current") or "")' \
    "$credentials"
}

# Sets BACKEND_URL; logs in to the project-local file backend when the user chose no backend.
ensure_backend() {
  BACKEND_URL="$(current_backend)"
  if [ -z "$BACKEND_URL" ]; then
    note "No Pulumi backend chosen (no PULUMI_BACKEND_URL, no 'pulumi login'): using this project's"
    note "local backend. To use another one, run 'pulumi login <url>' (see README, 'Where state lives')."
    mkdir -p "$LOCAL_STATE_DIR"
    "$PULUMI_BIN" login "$LOCAL_BACKEND_URL" >&2
    BACKEND_URL="$LOCAL_BACKEND_URL"
  fi
}

# True when stack $1 encrypts its secrets with a passphrase on backend $2, as the CLI decides it:
# the stack file's `secretsprovider` (a KMS or Vault URL) wins, then its `encryptionsalt` (the
# passphrase provider's state), then the backend's default - Pulumi Cloud's own per-stack key
# for an https backend, the passphrase for every self-managed one (file, s3, gs, azblob, ...).
stack_uses_passphrase() {
  local stack_file="$REPO_ROOT/Pulumi.$1.yaml" provider=""
  if [ -f "$stack_file" ]; then
    provider="$(sed -n 's/^secretsprovider:[[:space:]]*//p' "$stack_file" | tr -d "\"'")"
    if [ -n "$provider" ]; then
      [ "$provider" = "passphrase" ]
      return
    fi
    grep -q '^encryptionsalt:' "$stack_file" && return 0
  fi
  case "$2" in
    https://* | http://*) return 1 ;;
    *) return 0 ;;
  esac
}

# Prints what is wrong with the passphrase Pulumi would read, nothing when it can read one. Pulumi
# takes PULUMI_CONFIG_PASSPHRASE when it is set at all (even empty), else reads the file
# PULUMI_CONFIG_PASSPHRASE_FILE names (pulumi/pulumi pkg/secrets/passphrase/manager.go,
# readPassphrase); `make up` pipes the Okta token to Pulumi, which then cannot ask on a terminal.
passphrase_problem() {
  [ -n "${PULUMI_CONFIG_PASSPHRASE+set}" ] && return 0
  local file="${PULUMI_CONFIG_PASSPHRASE_FILE:-}"
  if [ -z "$file" ]; then
    printf '%s\n' "stack $1 keeps its secrets (Okta token, root token) encrypted with a passphrase on" \
      "$2: set PULUMI_CONFIG_PASSPHRASE_FILE (a file holding it) or" \
      "PULUMI_CONFIG_PASSPHRASE, in this shell and in every shell you run pulumi from."
  elif [ ! -f "$file" ] || [ ! -r "$file" ]; then
    printf '%s\n' "PULUMI_CONFIG_PASSPHRASE_FILE names $file, which is not a readable file:" \
      "point it at the file holding stack $1's passphrase (README, Where state lives)."
  fi
}

# Prints what is wrong with Python $1 (too old for this project), nothing when it will do.
python_problem() {
  "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && return 0
  printf '%s\n' "$1 is $("$1" -V 2>&1 || echo 'not found'); this project needs Python 3.11 or newer (make up PYTHON=python3.11)"
}

# The Okta credential the stack file holds, if any: the keys scripts/up looks for before it stores
# OKTA_API_TOKEN (scripts/check_stack.py counts them the same way).
stack_file_okta_credential() {
  local stack_file="$REPO_ROOT/Pulumi.$1.yaml"
  [ -f "$stack_file" ] || return 0
  grep -E '^[[:space:]]+okta:(apiToken|accessToken|privateKey):' "$stack_file" | head -n 1 |
    sed -E 's/^[[:space:]]+(okta:[A-Za-z]+):.*/\1/' || true
}

# True when the stack file imports an ESC environment, whose keys only Pulumi can read.
stack_imports_environment() {
  [ -f "$REPO_ROOT/Pulumi.$1.yaml" ] && grep -q '^environment:' "$REPO_ROOT/Pulumi.$1.yaml"
}
