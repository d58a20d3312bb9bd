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
# pkg/workspace/creds.go, GetCurrentCloudURL). The stored login is the CLI's to read: it may be
# encrypted (PULUMI_CREDENTIAL_STORE) or come from a credentials helper, so this asks the CLI
# (`pulumi whoami -v`) and never reads credentials.json. Only when nothing is chosen does this log
# in to the project-local file backend, with `pulumi login --non-interactive`, so that every later
# `pulumi` command in any shell reaches the same state. See docs/decisions.md, "Where state lives".

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PULUMI_CLI_ROOT="$REPO_ROOT/.pulumi-cli"
LOCAL_STATE_DIR="$REPO_ROOT/.pulumi-state"
LOCAL_BACKEND_URL="file://$LOCAL_STATE_DIR"
# The official installer, as the pinned SDK's own PulumiCommand.install() fetches and runs it
# (pulumi/pulumi sdk/python/lib/pulumi/automation/_cmd.py, _install_posix).
PULUMI_INSTALL_SCRIPT_URL="https://get.pulumi.com/install.sh"
PULUMI_FOUND="" # set by find_pulumi

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

# Sets PULUMI_BIN to the Pulumi CLI this project can use without installing one: the one PULUMI
# names, else the one on PATH when it is at least the pinned version, else the pinned one in
# .pulumi-cli; to "" when there is none (then PULUMI_REFUSED says why PULUMI= cannot be used, or
# PULUMI_TOO_OLD that the one on PATH is too old). Runs nothing but `pulumi version`, and only once
# per shell: scripts/up calls it before installing anything, resolve_pulumi reuses the answer.
find_pulumi() {
  [ -z "${PULUMI_FOUND:-}" ] || return 0
  PULUMI_FOUND=yes PULUMI_BIN="" PULUMI_REFUSED="" PULUMI_REFUSED_FIX="" PULUMI_TOO_OLD=""
  local pinned on_path on_path_version="" local_cli named named_version
  pinned="$(pinned_pulumi_version)"
  [ -n "$pinned" ] || die "requirements.txt pins no pulumi== version"
  if [ -n "${PULUMI:-}" ]; then
    named="$(command -v "$PULUMI" || true)"
    if [ -z "$named" ]; then
      PULUMI_REFUSED="PULUMI=$PULUMI is not an executable: name the Pulumi CLI by its path"
      return 0
    fi
    named_version="$(cli_version "$named")"
    if version_at_least "$named_version" "$pinned"; then
      PULUMI_BIN="$named"
    else
      PULUMI_REFUSED="PULUMI=$PULUMI is ${named_version:+version }"
      PULUMI_REFUSED+="${named_version:-not a Pulumi CLI (no version)};"
      PULUMI_REFUSED_FIX="this project needs the Pulumi CLI $pinned or newer."
    fi
    return 0
  fi
  on_path="$(command -v pulumi || true)"
  [ -z "$on_path" ] || on_path_version="$(cli_version "$on_path")"
  if [ -n "$on_path" ] && version_at_least "$on_path_version" "$pinned"; then
    PULUMI_BIN="$on_path"
    return 0
  fi
  local_cli="$PULUMI_CLI_ROOT/bin/pulumi"
  if [ -x "$local_cli" ] && [ "$(cli_version "$local_cli")" = "$pinned" ]; then
    PULUMI_BIN="$local_cli"
    return 0
  fi
  if [ -n "$on_path" ]; then
    PULUMI_TOO_OLD="The Pulumi CLI on PATH ($on_path, ${on_path_version:-version unknown})"
    PULUMI_TOO_OLD+=" is older than $pinned."
  fi
}

# Sets PULUMI_BIN to a Pulumi CLI of at least the pinned version, installing it if need be.
resolve_pulumi() {
  find_pulumi
  [ -z "$PULUMI_REFUSED" ] || die "$PULUMI_REFUSED" ${PULUMI_REFUSED_FIX:+"$PULUMI_REFUSED_FIX"}
  [ -z "$PULUMI_BIN" ] || return 0
  [ -z "$PULUMI_TOO_OLD" ] || note "$PULUMI_TOO_OLD"
  install_pulumi "$(pinned_pulumi_version)"
  PULUMI_BIN="$PULUMI_CLI_ROOT/bin/pulumi"
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

# Where the CLI keeps its stored logins (pulumi/pulumi sdk/go/common/workspace/creds.go,
# getCredsFilePath). Only ever tested for existence: its content is the CLI's (plain JSON, or since
# PULUMI_CREDENTIAL_STORE an encrypted envelope with no `current` in sight).
credentials_file() {
  printf '%s\n' "${PULUMI_CREDENTIALS_PATH:-${PULUMI_HOME:-$HOME/.pulumi}}/credentials.json"
}

# What `pulumi whoami -v` prints for a Pulumi Cloud whose console URL the CLI cannot derive (a
# self-hosted one not at `api.<domain>`): an empty "Backend URL:".
SELF_HOSTED_CLOUD="a self-hosted Pulumi Cloud"

# The backend the CLI will use, by its own precedence; empty when the user chose none.
# PULUMI_BACKEND_URL and the project's `backend.url` are read here, as the CLI reads them; the rest
# - the stored login, a credentials helper, PULUMI_ACCESS_TOKEN - is the CLI's to say
# (cli_backend), when PULUMI_BIN names one. Without a CLI yet (scripts/up's first checks run before
# it installs one), no stored login can be read: with no credentials file at all there is none
# (PULUMI_ACCESS_TOKEN then means Pulumi Cloud, which the CLI logs in to with it); with one, this
# returns 2, printing nothing, and the caller asks again once the CLI is here. Returns 1 after
# saying why when the CLI cannot tell.
current_backend() {
  if [ -n "${PULUMI_BACKEND_URL:-}" ]; then
    printf '%s\n' "$PULUMI_BACKEND_URL"
    return
  fi
  local from_project
  # `backend:` / `  url: ...` in Pulumi.yaml (this project sets none; a fork may).
  from_project="$(sed -n '/^backend:/,/^[^[:space:]#]/s/^[[:space:]]\{1,\}url:[[:space:]]*//p' \
    "$REPO_ROOT/Pulumi.yaml" | head -n 1 | tr -d "\"'")"
  if [ -n "$from_project" ]; then
    printf '%s\n' "$from_project"
    return
  fi
  if [ -n "${PULUMI_BIN:-}" ]; then
    cli_backend
    return
  fi
  [ ! -e "$(credentials_file)" ] || return 2
  if [ -n "${PULUMI_ACCESS_TOKEN:-}" ]; then
    printf '%s\n' "https://api.pulumi.com"
  fi
}

# The backend PULUMI_BIN is logged in to, as `pulumi whoami -v` says it: its "Backend URL:" line
# (pulumi/pulumi pkg/cmd/pulumi/whoami/whoami.go, renderWhoAmIText: the state URL of a
# self-managed backend, the console URL of Pulumi Cloud). Nothing when nobody is logged in: exit 3,
# ExitAuthenticationError (pkg/cmd/pulumi/cmd/exit_codes.go), "this command requires logging in"
# (a CLI whose whoami still logs in: "PULUMI_ACCESS_TOKEN must be set for login during
# non-interactive CLI sessions"). --non-interactive and no terminal on stdin, so that no CLI
# version asks for a token instead. whoami says the same when a stored Pulumi Cloud login no
# longer works (an expired or revoked token): when a login may exist - PULUMI_ACCESS_TOKEN, or a
# credentials file - this stops rather than move the user to another backend.
cli_backend() {
  local answer status=0 why=""
  answer="$("$PULUMI_BIN" whoami -v --non-interactive </dev/null 2>&1)" || status=$?
  if [ "$status" -eq 0 ]; then
    if ! grep -q '^Backend URL:' <<<"$answer"; then
      report "\`pulumi whoami -v\` ($PULUMI_BIN) printed no \"Backend URL:\" line:" "$answer"
      return 1
    fi
    answer="$(sed -n '/^Backend URL:/{s/^Backend URL:[[:space:]]*//p;q;}' <<<"$answer")"
    printf '%s\n' "${answer:-$SELF_HOSTED_CLOUD}"
    return 0
  fi
  if [ "$status" -ne 3 ]; then
    report "could not ask the Pulumi CLI which backend it uses (\`pulumi whoami -v\` exited $status):" \
      "$answer"
    return 1
  fi
  if [ -n "${PULUMI_ACCESS_TOKEN:-}" ]; then
    why="PULUMI_ACCESS_TOKEN is set"
  elif [ -e "$(credentials_file)" ]; then
    why="it keeps stored credentials in $(credentials_file) (a login that expired?)"
  fi
  [ -n "$why" ] || return 0
  report "the Pulumi CLI says nobody is logged in, yet $why:" "$answer" \
    "Log in again to your backend (\`pulumi login\` for Pulumi Cloud, \`pulumi login <url>\` for" \
    "another), or choose this project's own: pulumi login --non-interactive $LOCAL_BACKEND_URL" \
    "make up never moves a login to another backend (README, Where state lives)."
  return 1
}

# Sets BACKEND_URL; logs in to the project-local file backend when the user chose no backend.
# Non-interactive (the flag, and no terminal on stdin): since Pulumi 3.257 an interactive login to
# a backend with no stacks asks "You don't have any stacks yet. What would you like to do?", whose
# default answer runs `pulumi new` (pulumi/pulumi pkg/cmd/pulumi/auth/onboarding.go, offerFirstStep;
# in 3.260, gone by 3.274). It asks only when cmdutil.Interactive() (sdk/go/common/util/cmdutil
# console.go): no --non-interactive (pkg/cmd/pulumi/pulumi.go), stdin and stdout terminals, not CI.
ensure_backend() {
  local status=0
  BACKEND_URL="$(current_backend)" || status=$?
  # current_backend has said why (it returns 2 only when there is no CLI, and there is one now).
  [ "$status" -eq 0 ] || exit 1
  if [ -z "$BACKEND_URL" ]; then
    note "No Pulumi backend chosen (no PULUMI_BACKEND_URL, no 'pulumi login'): using this project's"
    note "local backend. To use another one, run 'pulumi login <url>' (see README, 'Where state lives')."
    mkdir -p "$LOCAL_STATE_DIR"
    "$PULUMI_BIN" login --non-interactive "$LOCAL_BACKEND_URL" </dev/null >&2
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
    https://* | http://* | "$SELF_HOSTED_CLOUD") return 1 ;;
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

# True when backend $1 can open ESC environments: Pulumi Cloud (or a self-hosted one), never a DIY
# backend (pulumi/pulumi pkg/backend/diy/backend.go, IsDIYBackendURL: file, mem, s3, gs, azblob;
# on one, pkg/cmd/pulumi/config/config_env.go, errBackendNoEnvironments: "backend <host> does not
# support environments; Pulumi ESC environments require the Pulumi Cloud backend, ...").
backend_has_environments() {
  case "$1" in
    file://* | mem://* | s3://* | gs://* | azblob://*) return 1 ;;
    *) return 0 ;;
  esac
}

# True when the stack file imports an ESC environment, whose keys only Pulumi can read.
stack_imports_environment() {
  [ -f "$REPO_ROOT/Pulumi.$1.yaml" ] && grep -q '^environment:' "$REPO_ROOT/Pulumi.$1.yaml"
}
