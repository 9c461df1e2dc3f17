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
#   coturn               an external TURN relay, as a help desk may run one
#   sway, foot, grim     a headless Wayland compositor, a terminal and a reference capture
#   dbus-daemon, pipewire, gstreamer1.0-pipewire, gstreamer1.0-tools, gstreamer1.0-plugins-base
#                        the desktop portal path: a private session bus for a fake portal,
#                        a real PipeWire, and gst-launch-1.0 reading its stream
#   wine, wine64, gcc-mingw-w64-x86-64
#                        the Windows host's tests, run under Wine on Xvfb
PKGS=(xvfb xserver-xephyr xterm xdotool chromium fonts-dejavu-core nftables iproute2 coturn sway foot grim dbus-daemon pipewire gstreamer1.0-pipewire gstreamer1.0-tools gstreamer1.0-plugins-base gcc-mingw-w64-x86-64)
# Wine needs its recommended libraries (X rendering, input) to open windows.
WITH_RECOMMENDS=(wine wine64)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
missing_rec=()
for p in "${WITH_RECOMMENDS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing_rec+=("$p")
done
if ((${#missing[@]} + ${#missing_rec[@]})); then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  echo "test.sh: installing ${missing[*]} ${missing_rec[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -qq
  if ((${#missing[@]})); then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if ((${#missing_rec[@]})); then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing_rec[@]}" >/dev/null
  fi
fi

echo "test.sh: gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [[ -n "$unformatted" ]]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
echo "test.sh: go vet"
go vet ./...
echo "test.sh: the Windows build"
GOOS=windows GOARCH=amd64 go vet ./cmd/gethelp ./host/windows/
GOOS=windows GOARCH=amd64 go build -o /dev/null ./cmd/gethelp
echo "test.sh: go test -race"
go test -race -count=1 -timeout 15m ./...
