#!/usr/bin/env bash
# Runs every check and test of gethelp, installing what the tests need first.
# Used by `make test` and by CI (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests need; installed only when missing.
#   xvfb                 a real X server for the X11 capture and input tests
#   xserver-xephyr       a nested X server: a "physical" keyboard for ESC tests
#   xterm, xdotool       a real application to type into, and a stand-in helper
#   chromium             headless browser for the web UI tests
#   fonts-dejavu-core    so pages render text in screenshots
#   nftables, iproute2   network namespaces with real NAT for the connectivity tests
#   sway, foot, grim     a headless Wayland compositor, a terminal and a reference capture
PKGS=(xvfb xserver-xephyr xterm xdotool chromium fonts-dejavu-core nftables iproute2 sway foot grim)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  echo "test.sh: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "test.sh: gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [[ -n "$unformatted" ]]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
echo "test.sh: go vet"
go vet ./...
echo "test.sh: go test -race"
go test -race -count=1 -timeout 15m ./...
