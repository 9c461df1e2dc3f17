#!/usr/bin/env bash
# workload-wayland.sh — shared/bench/workload.sh's desktop workload, on sway.
#
# The same phases, in the same order, with the same timings and the same
# stdout protocol (PHASE <name> <unix_ms> / END <name> <unix_ms>, other lines
# start with "INFO "), driven with what works on a wlroots compositor:
#
#   X11 (workload.sh)                     here
#   xterm 122x32, 9x15 font, 1106x488     foot, 122x32 cells of 9x15 px
#                                         (DejaVu Sans Mono 13 px, line height
#                                         15 px, letter spacing 1 px) in a
#                                         floating window resized to 1106x488
#   xdotool type --delay 66 (~9.5 s)      wtype -d 26 (~9.4 s), one -k Return
#                                         per line
#   xdotool windowmove, 60 steps 33 ms    swaymsg move position, same steps
#   xdotool windowunmap                   swaymsg move scratchpad
#   xsetroot -solid / -mod, and           bench/wlbackdrop (a bottom-layer
#   display -window root PHOTO            surface; each change one commit)
#   pointer parked bottom right           swaymsg seat seat0 cursor set
#
# The images, the 3000 log lines, the typed text and the agent that runs in
# the terminal are workload.sh's (the same generator and seeds).
#
# HOW TO RUN (bench/run.sh --wayland does all this)
#   sway must run headless with no other window: WLR_BACKENDS=headless
#   WLR_LIBINPUT_NO_DEVICES=1 WLR_RENDERER=pixman, one 1920x1080 output.
#   WAYLAND_DISPLAY, XDG_RUNTIME_DIR and SWAYSOCK name it; WLBACKDROP is the
#   path of a built bench/wlbackdrop (go build -o X ./bench/wlbackdrop).
#   bash bench/workload-wayland.sh > phases.log
#
# KNOBS: WORKLOAD_IDLE_S, WORKLOAD_SETTLE_S and WORKLOAD_KEEP_TMP as in
# workload.sh.
#
# CLEANUP: foot (and the agent in it), wlbackdrop, sleeps and image tools
# are stopped by PID on exit, also on error, SIGINT or SIGTERM. The window
# and the background go with them: the screen is left as sway draws it
# with no client (bench/run.sh shows its own background for the probes).
# Needs: bash 5, sway (swaymsg), foot, wtype, fonts-dejavu-core,
# ImageMagick 6 (convert-im6.q16) or 7 (magick).
set -euo pipefail
export LC_ALL=C

: "${WAYLAND_DISPLAY:?WAYLAND_DISPLAY must name the sway to drive}"
: "${XDG_RUNTIME_DIR:?XDG_RUNTIME_DIR must be set}"
: "${SWAYSOCK:?SWAYSOCK must name the IPC socket of sway}"
: "${WLBACKDROP:?WLBACKDROP must be the path of a built bench/wlbackdrop}"
export WAYLAND_DISPLAY XDG_RUNTIME_DIR SWAYSOCK
IDLE_S=${WORKLOAD_IDLE_S:-5}
SETTLE_S=${WORKLOAD_SETTLE_S:-1}

info() { echo "INFO $*"; }
die() { echo "workload-wayland.sh: $*" >&2; exit 1; }

# --- time helpers (no forks) -------------------------------------------------
now_ms() { local t=${EPOCHREALTIME/[.,]/}; REPLY=${t%???}; }
PH=""
phase() { now_ms; PH=$1; echo "PHASE $PH $REPLY"; }
endphase() { now_ms; echo "END $PH $REPLY"; PH=""; }

# --- process bookkeeping -----------------------------------------------------
PIDS=()          # long-lived direct children (foot, wlbackdrop)
CHILD=""         # the child being waited for right now (see run)
TMP=""
cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  if [[ -n "$CHILD" ]]; then kill "$CHILD" 2>/dev/null || true; wait "$CHILD" 2>/dev/null || true; fi
  if [[ -n "$TMP" && -s "$TMP/agent.pid" ]]; then
    kill "$(cat "$TMP/agent.pid")" 2>/dev/null || true
  fi
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [[ -n "$TMP" && -z "${WORKLOAD_KEEP_TMP:-}" ]]; then rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

run() {
  local rc=0
  "$@" &
  CHILD=$!
  wait "$CHILD" || rc=$?
  CHILD=""
  return "$rc"
}
nap() { run sleep "$1"; }
nap_until() {
  now_ms
  local d=$(( $1 - REPLY ))
  (( d > 0 )) || return 0
  nap "$(printf '%d.%03d' $((d / 1000)) $((d % 1000)))"
}
msg() { swaymsg -q -- "$@" >/dev/null || die "swaymsg $*: failed"; }

# --- preflight -----------------------------------------------------------------
for t in swaymsg foot wtype; do
  command -v "$t" >/dev/null || die "$t missing (apt-get install sway foot wtype)"
done
[[ -x $WLBACKDROP ]] || die "WLBACKDROP=$WLBACKDROP is not an executable"
if command -v convert-im6.q16 >/dev/null; then
  IM_CONVERT=(convert-im6.q16)
elif command -v magick >/dev/null; then
  IM_CONVERT=(magick)
else
  die "ImageMagick missing (convert-im6.q16 or magick)"
fi
TMP=$(mktemp -d /tmp/bench-workload-wl.XXXXXX)
chmod 755 "$TMP"

# The background: wlbackdrop reads commands from one FIFO and answers on
# another; bd CMD waits for its answer.
mkfifo "$TMP/bd.in" "$TMP/bd.out"
exec {BDIN}<>"$TMP/bd.in" {BDOUT}<>"$TMP/bd.out"
"$WLBACKDROP" <"$TMP/bd.in" >"$TMP/bd.out" 2>"$TMP/bd.err" &
PIDS+=($!)
bd() {
  local want
  echo "$*" >&"$BDIN"
  read -t 30 -r REPLY <&"$BDOUT" || die "wlbackdrop gave no answer to '$*': $(cat "$TMP/bd.err")"
  case $1 in load) want="ok $2" ;; show) want="shown $2" ;; esac
  [[ $REPLY == "$want" ]] || die "wlbackdrop answered '$REPLY' to '$*': $(cat "$TMP/bd.err")"
}
read -t 10 -r ready <&"$BDOUT" || die "wlbackdrop did not start: $(cat "$TMP/bd.err")"
[[ $ready =~ ^ready\ ([0-9]+)x([0-9]+)$ ]] || die "wlbackdrop: '$ready'"
SW=${BASH_REMATCH[1]} SH=${BASH_REMATCH[2]}
info "wayland=$WAYLAND_DISPLAY size=${SW}x${SH} tmp=$TMP"

# --- setup (untimed) -----------------------------------------------------------
DESK_BG='#2e3440'
bd load desk solid "$DESK_BG"
bd show desk
msg seat seat0 cursor set $((SW - 20)) $((SH - 20))

# workload.sh's four photo-like images, same commands and seeds.
"${IM_CONVERT[@]}" -size "${SW}x${SH}" -seed 101 plasma:fractal -blur 0x1.5 -depth 8 "$TMP/photo1.ppm"
"${IM_CONVERT[@]}" -size "${SW}x${SH}" -seed 202 plasma:steelblue-navy -depth 8 "$TMP/photo2.ppm"
"${IM_CONVERT[@]}" -size "${SW}x${SH}" -seed 303 plasma:fractal -blur 0x3 -modulate 100,60 -depth 8 "$TMP/photo3.ppm"
"${IM_CONVERT[@]}" -size "${SW}x${SH}" radial-gradient:'#ffd8a8'-'#5c2a0c' -depth 8 "$TMP/photo4.ppm"
# workload.sh's ten changes, each loaded beforehand.
CHANGES=(
  "solid #4c566a"
  "ppm $TMP/photo1.ppm"
  "mod 16 16 #88c0d0 #2e3440"
  "ppm $TMP/photo2.ppm"
  "solid #bf616a"
  "ppm $TMP/photo3.ppm"
  "mod 5 5 #ebcb8b #3b4252"
  "ppm $TMP/photo4.ppm"
  "solid #a3be8c"
  "solid $DESK_BG"
)
for ((i = 0; i < ${#CHANGES[@]}; i++)); do
  # shellcheck disable=SC2086 # the change's words are the command's arguments
  bd load "c$i" ${CHANGES[i]}
done

# workload.sh's 3000 log-like lines (same generator, same text).
awk -v N=3000 'BEGIN {
  x = 20240601
  nl = split("INFO INFO INFO DEBUG INFO WARN INFO ERROR", lvl, " ")
  nc = split("api worker scheduler db cache auth mailer billing", comp, " ")
  nm = split("GET GET GET POST PUT DELETE", meth, " ")
  np = split("/api/v1/items /api/v1/users /login /static/app.js /api/v2/orders /healthz /metrics /api/v1/search?q=printer", path, " ")
  for (i = 1; i <= N; i++) {
    x = (x * 16807) % 2147483647; a = x
    x = (x * 16807) % 2147483647; b = x
    x = (x * 16807) % 2147483647; c = x
    t = i * 137
    printf "2024-06-01T09:%02d:%02d.%03d %-5s %-9s %-6s %-28s status=%d bytes=%d dur=%dms id=%08d\n",
      int(t / 60000) % 60, int(t / 1000) % 60, t % 1000,
      lvl[a % nl + 1], comp[b % nc + 1], meth[c % nm + 1], path[int(a / 7) % np + 1],
      (c % 17 == 0) ? 500 : ((b % 11 == 0) ? 404 : 200), b % 90000 + 120, a % 900 + 1, c % 100000000
  }
}' > "$TMP/lines.txt"

# workload.sh's agent, run inside the terminal.
cat > "$TMP/agent.sh" <<'AGENT'
dir=$1
echo $$ > "$dir/agent.pid"
exec 3<"$dir/ctl" 4>"$dir/ack"
printf '\033[H\033[2J'
printf 'bench@desktop:~$ '
echo ready >&4
while read -r cmd <&3; do
  case $cmd in
    scroll)
      mapfile -t L < "$dir/lines.txt"
      printf '\r\n'
      for ((i = 0; i < ${#L[@]}; i += 30)); do
        printf '%s\n' "${L[@]:i:30}"
        sleep 0.05
      done
      printf 'bench@desktop:~$ '
      echo done >&4 ;;
    exit) exit 0 ;;
  esac
done
AGENT
mkfifo "$TMP/ctl" "$TMP/ack"
exec {CTL}<>"$TMP/ctl" {ACK}<>"$TMP/ack"

APP="benchterm-$$"
CRIT="[app_id=\"^$APP\$\"]"
WW=1106 WH=488
# 9x15 cells, like the xterm's font: 122x32 of them in the window.
foot --config=/dev/null --app-id="$APP" --title="$APP" --font='DejaVu Sans Mono:pixelsize=13' \
  -o line-height=15px -o letter-spacing=1px \
  -o colors.background=1d1f21 -o colors.foreground=c5c8c6 -o scrollback.lines=0 -o cursor.blink=no \
  bash --noprofile --norc "$TMP/agent.sh" "$TMP" </dev/null >"$TMP/foot.log" 2>&1 &
PIDS+=($!)
read -t 15 -r _ <&"$ACK" || die "foot or its helper did not start: $(tail -n 5 "$TMP/foot.log")"
for ((i = 0; i < 100; i++)); do
  swaymsg -t get_tree | grep -q "\"app_id\": \"$APP\"" && break
  nap 0.1
done
((i < 100)) || die "the terminal's window did not appear"
msg "$CRIT floating enable, resize set $WW $WH, move position 80 80, focus"
info "terminal app_id=$APP size=${WW}x${WH}"
nap 1

# --- phases --------------------------------------------------------------------
phase idle
nap "$IDLE_S"
endphase

LINES=(
  'git log --oneline --graph --decorate --all | head -n 40'
  'The quick brown fox jumps over the lazy dog while the nightly build runs.'
  'ssh admin@printserver.example.org "sudo systemctl restart cups"'
  'Remote assistance: checking disk usage, network settings, printer queue.'
  'df -h /home && free -m && ip -brief addr'
)
TYPE=() n=0
for l in "${LINES[@]}"; do TYPE+=("$l" -k Return); n=$((n + ${#l} + 1)); done
info "typing $n characters"
phase typing
run wtype -d 26 "${TYPE[@]}"
nap "$SETTLE_S"
endphase

phase scroll
echo scroll >&"$CTL"
read -t 60 -r _ <&"$ACK" || die "scroll helper did not finish"
nap "$SETTLE_S"
endphase

X0=80; Y0=80
X1=$(( SW - WW - 80 )); Y1=$(( SH - WH - 80 ))
(( X1 > X0 )) || X1=$X0
(( Y1 > Y0 )) || Y1=$Y0
info "window-move from=$X0,$Y0 to=$X1,$Y1 size=${WW}x${WH}"
phase window-move
now_ms; T0=$REPLY
for ((i = 1; i <= 60; i++)); do
  nap_until $(( T0 + (i - 1) * 33 ))
  msg "$CRIT move position $(( X0 + (X1 - X0) * i / 60 )) $(( Y0 + (Y1 - Y0) * i / 60 ))"
done
nap "$SETTLE_S"
endphase

phase fullscreen
now_ms; T0=$REPLY
msg "$CRIT move scratchpad"
for ((i = 0; i < ${#CHANGES[@]}; i++)); do
  nap_until $(( T0 + 100 + i * 600 ))
  bd show "c$i"
done
nap 0.6
nap "$SETTLE_S"
endphase

phase idle-end
nap "$IDLE_S"
endphase

echo exit >&"$CTL"
info "done"
