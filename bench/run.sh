#!/usr/bin/env bash
# run.sh — the gethelp screen-sharing benchmark (see bench/README.md).
#
#   bash bench/run.sh [--wayland] [--with-vnc] [--levels low,medium,high,full] [--keep]
#
# For each bandwidth level: a fresh Xvfb, `gethelp host invite` sharing it and
# a headless `gethelp viewer open` on loopback, then shared/bench/workload.sh
# on that display. With --with-vnc, the same workload again under x11vnc +
# TigerVNC vncviewer (Tight JPEG quality 8, then ZRLE), bytes counted by a TCP
# relay. bench/report turns the logs into per-phase tables, RESULT, RATIO and
# PROBE lines on stdout; progress goes to stderr.
#
# Options:
#   --wayland         share a headless sway instead of an Xvfb (--source
#                     wayland), driven by bench/workload-wayland.sh; the VNC
#                     baseline is then wayvnc (installs sway, foot, wtype,
#                     grim, and wayvnc with --with-vnc)
#   --with-vnc        also run the VNC baseline (installs x11vnc/vncviewer)
#   --levels L,L      gethelp bandwidth levels to run (default low,medium,high,full)
#   --vnc-only        only the VNC baseline (to test the harness without gethelp)
#   --direct          viewer connects to the host directly, without the UDP
#                     relay that counts QUIC bytes on the wire
#   --keep            keep the logs (they are kept anyway when a run fails)
#   --perf            record the server process with `perf record -g` during
#                     the workload, into RUNDIR/perf.data, timestamps in Unix
#                     time like phases.log (implies --keep)
#
# Every process it starts is stopped by PID on exit, also on error, SIGINT
# or SIGTERM. Everything listens on 127.0.0.1 or on Xvfb's and sway's local
# sockets.
set -euo pipefail
export LC_ALL=C

die() { echo "run.sh: $*" >&2; exit 1; }
say() { echo "run.sh: $*" >&2; }
usage() { sed -n '2,30s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

WITH_VNC=0 VNC_ONLY=0 DIRECT=0 KEEP=0 PERF=0 WAYLAND=0 LEVELS=low,medium,high,full
while (($#)); do
  case $1 in
    --wayland) WAYLAND=1 ;;
    --with-vnc) WITH_VNC=1 ;;
    --vnc-only) WITH_VNC=1 VNC_ONLY=1 ;;
    --levels) (($# >= 2)) || die "--levels needs a value, e.g. --levels high,full"; LEVELS=$2; shift ;;
    --levels=*) LEVELS=${1#*=} ;;
    --direct) DIRECT=1 ;;
    --keep) KEEP=1 ;;
    --perf) PERF=1 KEEP=1 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done
IFS=, read -r -a LEVEL_LIST <<<"$LEVELS"
((VNC_ONLY)) && LEVEL_LIST=()
for l in "${LEVEL_LIST[@]}"; do
  case $l in low | medium | high | full) ;; *) die "unknown level '$l' (use low, medium, high, full)" ;; esac
done

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null) || die "$HERE is not inside a git checkout of gethelp"
SHARED=$REPO/../shared
[[ -f $SHARED/bench/workload.sh && -f $SHARED/bench/setup.sh ]] ||
  die "the shared benchmark (shared/bench/workload.sh, setup.sh) is not at $SHARED; it must sit next to the repository, in $(dirname "$REPO")/shared"
SHARED=$(cd "$SHARED" && pwd)

# --- processes ---------------------------------------------------------------
PIDS=()   # everything started in the background, stopped in reverse order
WORK=""
now_ms() { local t=${EPOCHREALTIME/[.,]/}; REPLY=${t%???}; }
alive() { # PID: running and not a zombie
  local s
  { read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
  s=${s##*) }
  [[ ${s:0:1} != Z ]]
}
untrack() {
  local p keep=()
  for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}
wait_exit() { # PID SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do alive "$1" || return 0; sleep 0.1; done
  return 1
}
stop_pid() { # PID: SIGTERM, up to 5 s, then SIGKILL; reaps it
  local pid=$1
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_exit "$pid" 5; then
      say "process $pid ignored SIGTERM for 5 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
  untrack "$pid"
}
cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}"; done
  if [[ -n $WORK ]]; then
    if ((rc != 0)); then
      say "stopped (exit $rc); logs are in $WORK"
    elif ((KEEP)); then
      say "logs are in $WORK"
    else
      rm -rf "$WORK"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

tail_of() { [[ -s $1 ]] && { echo; tail -n 8 "$1" | sed 's/^/    /'; }; return 0; }

# wait_for FILE ERE SECONDS PID: until a line of FILE matches, while PID lives.
wait_for() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -q -E -- "$2" "$1" 2>/dev/null && return 0
    alive "$4" || { grep -q -E -- "$2" "$1" 2>/dev/null; return; }
    sleep 0.1
  done
  return 1
}

# start_xvfb: a fresh Xvfb on the first free display from :150; sets
# XDISP (the number) and XPID.
start_xvfb() {
  local n pid i
  for ((n = 150; n < 250; n++)); do
    [[ -e /tmp/.X$n-lock || -e /tmp/.X11-unix/X$n ]] && continue
    Xvfb ":$n" -screen 0 1920x1080x24 -noreset -nolisten tcp </dev/null >"$WORK/xvfb-$n.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    for ((i = 0; i < 100; i++)); do
      alive "$pid" || break
      xdpyinfo -display ":$n" >/dev/null 2>&1 && { XDISP=$n XPID=$pid; return 0; }
      sleep 0.1
    done
    stop_pid "$pid" # lost a race for :$n, or too slow: try the next one
  done
  die "could not start Xvfb on any display :150-:249 (see $WORK/xvfb-*.log)"
}

# start_sway: a fresh headless sway (wlroots' headless backend, pixman, no
# input devices) with one 1920x1080 output whose background is the
# workload's desktop colour; run as root, it runs as the user nobody (sway
# refuses root) in a directory of its own. Sets SWAYPID and SWAYENV (the
# environment of its clients; root reaches nobody's sockets).
SWAYN=0
start_sway() {
  local dir rt pid i sock="" ipc=""
  SWAYN=$((SWAYN + 1))
  dir=$WORK/sway-$SWAYN rt=$WORK/sway-$SWAYN/run
  mkdir -p "$dir"
  mkdir -m 700 "$rt"
  cat >"$dir/config" <<'EOF'
output HEADLESS-1 resolution 1920x1080 position 0 0 bg #2e3440 solid_color
xwayland disable
default_border none
focus_follows_mouse no
input type:keyboard repeat_rate 0
EOF
  local -a as=()
  if ((EUID == 0)); then
    chown -R nobody:"$(id -g nobody)" "$dir"
    as=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups)
  fi
  env -i PATH="$PATH" HOME="$dir" XDG_RUNTIME_DIR="$rt" LANG=C.UTF-8 \
    WLR_BACKENDS=headless WLR_LIBINPUT_NO_DEVICES=1 WLR_RENDERER=pixman WLR_HEADLESS_OUTPUTS=1 \
    "${as[@]}" sway -c "$dir/config" </dev/null >"$dir/sway.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  for ((i = 0; i < 100; i++)); do
    alive "$pid" || break
    sock=$(find "$rt" -maxdepth 1 -type s -name 'wayland-*' -printf '%f\n' 2>/dev/null | head -n 1)
    ipc=$(find "$rt" -maxdepth 1 -type s -name 'sway-ipc.*.sock' 2>/dev/null | head -n 1)
    if [[ -n $sock && -n $ipc ]] && SWAYSOCK=$ipc swaymsg -t get_outputs >/dev/null 2>&1; then
      SWAYPID=$pid SWAYENV=(XDG_RUNTIME_DIR="$rt" WAYLAND_DISPLAY="$sock" SWAYSOCK="$ipc")
      return 0
    fi
    sleep 0.1
  done
  die "sway did not start$(tail_of "$dir/sway.log")"
}

# start_desktop: the shared desktop of one run, an Xvfb or with --wayland a
# sway. Sets DPID (its server), DNAME (for the logs) and DENV (the
# environment of its clients).
start_desktop() {
  if ((WAYLAND)); then
    start_sway
    DPID=$SWAYPID DNAME="headless sway" DENV=("${SWAYENV[@]}")
  else
    start_xvfb
    DPID=$XPID DNAME="Xvfb :$XDISP" DENV=(DISPLAY=":$XDISP")
  fi
}

# start_backdrop DIR: with --wayland, bench/wlbackdrop on the desktop, for
# the probes and the fidelity check (on X11 they set the root window); bd
# CMD sends it a command and waits for its answer. Sets BDPID.
start_backdrop() {
  mkfifo "$1/bd.in" "$1/bd.out"
  exec {BDIN}<>"$1/bd.in" {BDOUT}<>"$1/bd.out"
  env "${DENV[@]}" "$WLBACKDROP" <"$1/bd.in" >"$1/bd.out" 2>"$1/bd.err" &
  BDPID=$!
  PIDS+=("$BDPID")
  BDERR=$1/bd.err
  read -t 10 -r _ <&"$BDOUT" || die "wlbackdrop did not start$(tail_of "$1/bd.err")"
}
bd() {
  local r want
  echo "$*" >&"$BDIN"
  case $1 in load) want="ok $2" ;; show) want="shown $2" ;; esac
  r=""
  read -t 30 -r r <&"$BDOUT" || true
  [[ $r == "$want" ]] || die "wlbackdrop: no '$want'$(tail_of "$BDERR")"
}
stop_backdrop() {
  stop_pid "$BDPID"
  exec {BDIN}>&- {BDOUT}>&-
}

# --- measurements --------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)
ticks() { # PID: utime+stime in clock ticks, all threads; -1 if gone
  local s f
  { read -r s <"/proc/$1/stat"; } 2>/dev/null || { echo -1; return 0; }
  s=${s##*) }
  read -r -a f <<<"$s"
  echo $((f[11] + f[12]))
}
ctxsw() { # PID: voluntary + involuntary context switches, all threads alive now; -1 if gone
  local n=0 f k v
  [[ -d /proc/$1/task ]] || { echo -1; return 0; }
  for f in /proc/"$1"/task/*/status; do
    while read -r k v; do
      [[ $k == voluntary_ctxt_switches: || $k == nonvoluntary_ctxt_switches: ]] && n=$((n + v))
    done <"$f" 2>/dev/null
  done
  echo "$n"
}
udp_rcvbuf_errors() {
  awk '/^Udp:/ { if (++n == 1) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") c = i } else { print (c ? $c : -1); exit } }' /proc/net/snmp
}
snap() { # DIR WHEN ROLE=PID...: append CPU ticks of each process to DIR/meta
  local dir=$1 when=$2 kv la
  shift 2
  {
    now_ms
    echo "t_$when=$REPLY"
    for kv in "$@"; do
      echo "cpu_${kv%%=*}_$when=$(ticks "${kv#*=}")"
      echo "csw_${kv%%=*}_$when=$(ctxsw "${kv#*=}")"
    done
    echo "udp_rcvbuf_errors_$when=$(udp_rcvbuf_errors)"
    read -r la _ </proc/loadavg
    echo "load_$when=$la"
  } >>"$dir/meta"
}

# start_sampler DIR ROLE=PID...: CPU of each process every 50 ms into
# DIR/cpu.log, for the per-phase CPU column; sets SPID.
start_sampler() {
  local dir=$1
  shift
  "$REPORT" cpusample -interval 50ms -log "$dir/cpu.log" "$@" </dev/null 2>"$dir/cpusample.err" &
  SPID=$!
  PIDS+=("$SPID")
}

# start_perf DIR PID: with --perf, perf record of PID into DIR/perf.data;
# sets PERFPID (empty without --perf).
start_perf() {
  PERFPID=""
  ((PERF)) || return 0
  perf record -q -k realtime -F 999 -g -p "$2" -o "$1/perf.data" </dev/null >"$1/perf.out" 2>&1 &
  PERFPID=$!
  PIDS+=("$PERFPID")
  sleep 0.2
}
stop_perf() { # perf writes its file on SIGINT
  [[ -n $PERFPID ]] || return 0
  kill -INT "$PERFPID" 2>/dev/null || true
  wait_exit "$PERFPID" 10 || true
  stop_pid "$PERFPID"
}

run_workload() { # DIR
  local pid rc=0 script=$SHARED/bench/workload.sh
  ((WAYLAND)) && script=$HERE/workload-wayland.sh
  env "${DENV[@]}" WLBACKDROP="$WLBACKDROP" bash "$script" </dev/null >"$1/phases.log" 2>"$1/workload.err" &
  pid=$!
  PIDS+=("$pid")
  wait "$pid" || rc=$?
  untrack "$pid"
  ((rc == 0)) || die "the workload failed (exit $rc)$(tail_of "$1/workload.err")"
}

# run_probes DIR: after the workload, PROBES full-screen colour changes
# 0.7 s apart; each line gives the time before xsetroot started and after it
# returned (its XCloseDisplay syncs, so the change is on the screen). On
# Wayland wlbackdrop shows them: before the show command and after its
# answer (the compositor has applied the commit; it draws it at the
# output's next refresh, up to 16.7 ms later).
PROBES=10
run_probes() {
  local i b colours=('#5e81ac' '#d08770')
  if ((WAYLAND)); then
    bd load p0 solid "${colours[0]}"
    bd load p1 solid "${colours[1]}"
    bd load desk solid '#2e3440'
  fi
  sleep 0.7
  for ((i = 1; i <= PROBES; i++)); do
    now_ms; b=$REPLY
    if ((WAYLAND)); then
      bd show "p$((i % 2))"
    else
      env "${DENV[@]}" xsetroot -solid "${colours[i % 2]}"
    fi
    now_ms
    echo "PROBE $i $b $REPLY" >>"$1/probes.log"
    sleep 0.7
  done
  if ((WAYLAND)); then bd show desk; else env "${DENV[@]}" xsetroot -solid '#2e3440'; fi
}

# fidelity DIR VIEWER-FD VIEWER-PID: show TESTIMG on the host's screen,
# wait 2 s, and compare a gethelp viewer snapshot with the screen (on
# Wayland grim's capture of it, the cursor drawn in as gethelp does).
fidelity() {
  local dir=$1 psnr ae
  shift
  if ((WAYLAND)); then
    bd load test ppm "$TESTIMG"
    bd show test
    sleep 2
    env "${DENV[@]}" grim -c "$dir/screen-host.png"
  else
    env "${DENV[@]}" display-im6.q16 -window root "$TESTIMG" >/dev/null 2>&1 || true
    sleep 2
    env "${DENV[@]}" import-im6.q16 -window root "$dir/screen-host.png"
  fi
  echo "{\"type\":\"snapshot\",\"path\":\"$dir/screen-viewer.png\"}" >&"$1"
  if ! wait_for "$dir/viewer.jsonl" '"type":"snapshot"' 10 "$2" || [[ ! -s $dir/screen-viewer.png ]]; then
    echo "fidelity=no snapshot from the viewer" >>"$dir/meta"
    return 0
  fi
  psnr=$(compare-im6.q16 -metric PSNR "$dir/screen-host.png" "$dir/screen-viewer.png" null: 2>&1 || true)
  ae=$(compare-im6.q16 -metric AE "$dir/screen-host.png" "$dir/screen-viewer.png" null: 2>&1 || true)
  echo "fidelity=viewer snapshot vs host screen 2 s after a 1920x1080 photo-like test image: PSNR ${psnr//$'\n'/ } dB, ${ae//$'\n'/ } pixels differ" >>"$dir/meta"
}

RUNS=()

run_gethelp() { # LEVEL
  local level=$1 label=gethelp-$1 source=x11
  ((WAYLAND)) && label=wayland-gethelp-$1 source=wayland
  local dir=$WORK/$label dpid hpid vpid rpid="" hin vin inv addr raddr
  mkdir -p "$dir/state" "$dir/config"
  start_desktop
  dpid=$DPID
  say "$label: $DNAME, gethelp host (--bandwidth $level) and headless viewer"
  local -a env=(XDG_STATE_HOME="$dir/state" XDG_CONFIG_HOME="$dir/config")
  mkfifo "$dir/host.in" "$dir/viewer.in"
  exec {hin}<>"$dir/host.in" {vin}<>"$dir/viewer.in" # read-write: opening never blocks

  env "${env[@]}" "${DENV[@]}" "$GETHELP" host invite --json --source "$source" --bandwidth "$level" \
    --listen 127.0.0.1:0 --out "$dir/invitation.gethelp" --ttl 10m --name bench \
    <"$dir/host.in" >"$dir/host.jsonl" 2>"$dir/host.err" {hin}>&- {vin}>&- &
  hpid=$!
  PIDS+=("$hpid")
  wait_for "$dir/host.jsonl" '"type":"invitation"' 20 "$hpid" ||
    die "$label: the host printed no invitation$(tail_of "$dir/host.jsonl")$(tail_of "$dir/host.err")"
  (umask 077 && "$REPORT" field "$dir/host.jsonl" invitation password >"$dir/password")
  inv=$dir/invitation.gethelp

  if ((!DIRECT)); then
    # Count the QUIC datagrams too: point a copy of the invitation at a UDP
    # relay. The invitation's addresses are not authenticated (the
    # certificate pin and the password proof are), so this is allowed.
    addr=$(awk '$1 == "address:" { print $2; exit }' "$inv")
    [[ -n $addr ]] || die "$label: no address in $inv"
    "$REPORT" udprelay -listen 127.0.0.1:0 -to "$addr" -log "$dir/udp.log" \
      </dev/null >"$dir/udprelay.out" 2>"$dir/udprelay.err" {hin}>&- {vin}>&- &
    rpid=$!
    PIDS+=("$rpid")
    wait_for "$dir/udprelay.out" '^listening ' 10 "$rpid" || die "$label: the UDP relay did not start$(tail_of "$dir/udprelay.err")"
    raddr=$(awk '{ print $2; exit }' "$dir/udprelay.out")
    awk -v a="$raddr" '$1 == "address:" { if (!done) print "address: " a; done = 1; next } { print }' \
      "$inv" >"$dir/invitation-relay.gethelp"
    inv=$dir/invitation-relay.gethelp
  fi

  env -u DISPLAY -u WAYLAND_DISPLAY "${env[@]}" "$GETHELP" viewer open --json --password-file "$dir/password" --name bench "$inv" \
    <"$dir/viewer.in" >"$dir/viewer.jsonl" 2>"$dir/viewer.err" {hin}>&- {vin}>&- &
  vpid=$!
  PIDS+=("$vpid")
  wait_for "$dir/viewer.jsonl" '"type":"connected"' 30 "$vpid" ||
    die "$label: the viewer did not connect$(tail_of "$dir/viewer.jsonl")$(tail_of "$dir/viewer.err")$(tail_of "$dir/host.err")"
  wait_for "$dir/viewer.jsonl" '"type":"frame"' 30 "$vpid" ||
    die "$label: the viewer got no frame$(tail_of "$dir/viewer.jsonl")$(tail_of "$dir/viewer.err")$(tail_of "$dir/host.err")"
  sleep 1 # let the first picture finish before the workload starts

  {
    echo "label=$label"
    echo "kind=gethelp"
    echo "clk_tck=$CLK_TCK"
    echo "describe=gethelp host --source $source --bandwidth $level on $DNAME, headless viewer$( ((DIRECT)) || echo ' through a UDP relay'); bytes = the viewer frame events' \"bytes\""
    ((WAYLAND)) && echo "display=sway"
  } >"$dir/meta"
  local -a procs=(server="$hpid" viewer="$vpid" xvfb="$dpid")
  ((WAYLAND)) && procs[2]=display="$dpid"
  say "$label: workload on $DNAME"
  start_sampler "$dir" "${procs[@]}"
  start_perf "$dir" "${procs[0]#*=}"
  snap "$dir" start "${procs[@]}"
  run_workload "$dir"
  snap "$dir" end "${procs[@]}"
  stop_perf
  ((WAYLAND)) && start_backdrop "$dir"
  run_probes "$dir"
  snap "$dir" last "${procs[@]}"
  stop_pid "$SPID"
  fidelity "$dir" "$vin" "$vpid"

  echo '{"type":"disconnect"}' >&"$hin"
  wait_for "$dir/host.jsonl" '"type":"disconnected"' 10 "$hpid" ||
    say "WARNING: $label: the host printed no disconnected event"
  wait_exit "$vpid" 10 || say "WARNING: $label: the viewer did not exit within 10 s of the disconnect"
  stop_pid "$vpid"
  wait_exit "$hpid" 5 || true # the host may keep running after the session; SIGTERM then
  stop_pid "$hpid"
  [[ -n $rpid ]] && stop_pid "$rpid"
  ((WAYLAND)) && stop_backdrop
  stop_pid "$dpid"
  exec {hin}>&- {vin}>&-
  RUNS+=("$dir")
}

run_vnc() { # LABEL DESCRIPTION VNCVIEWER-OPTION...
  local label=$1 describe=$2
  shift 2
  local dir=$WORK/$label d dpid dname vd vxpid port spid rpid rport cpid i server=x11vnc
  ((WAYLAND)) && server=wayvnc
  mkdir -p "$dir"
  start_desktop
  d=${XDISP:-} dpid=$DPID dname=$DNAME
  say "$label: $dname, $server, relay, Xvfb for the viewer, vncviewer $*"
  start_xvfb
  vd=$XDISP vxpid=$XPID
  port=$("$REPORT" freeport)
  if ((WAYLAND)); then
    # wayvnc with its defaults (at most 30 updates a second, cursor not
    # drawn into the picture) on the one output.
    env "${DENV[@]}" wayvnc 127.0.0.1 "$port" </dev/null >"$dir/wayvnc.out" 2>"$dir/wayvnc.log" &
    spid=$!
    PIDS+=("$spid")
    for ((i = 0; i < 200; i++)); do
      alive "$spid" || break
      [[ -n $(ss -Hltn "sport = :$port") ]] && break
      sleep 0.1
    done
    [[ -n $(ss -Hltn "sport = :$port") ]] || die "$label: wayvnc did not start$(tail_of "$dir/wayvnc.log")"
  else
    x11vnc -display ":$d" -rfbport "$port" -listen 127.0.0.1 -noipv6 -rfbportv6 -1 \
      -forever -shared -nopw -norc </dev/null >"$dir/x11vnc.out" 2>"$dir/x11vnc.log" &
    spid=$!
    PIDS+=("$spid")
    wait_for "$dir/x11vnc.out" "^PORT=$port\$" 20 "$spid" || die "$label: x11vnc did not start$(tail_of "$dir/x11vnc.log")"
  fi

  "$REPORT" relay -listen 127.0.0.1:0 -to "127.0.0.1:$port" -log "$dir/relay.log" \
    </dev/null >"$dir/relay.out" 2>"$dir/relay.err" &
  rpid=$!
  PIDS+=("$rpid")
  wait_for "$dir/relay.out" '^listening ' 10 "$rpid" || die "$label: the relay did not start$(tail_of "$dir/relay.err")"
  rport=$(awk '{ n = split($2, a, ":"); print a[n]; exit }' "$dir/relay.out")

  DISPLAY=":$vd" vncviewer "$@" -ViewOnly=1 -Shared=1 -SendClipboard=0 -AcceptClipboard=0 \
    -SendPrimary=0 -RemoteResize=0 "127.0.0.1::$rport" </dev/null >"$dir/vncviewer.log" 2>&1 &
  cpid=$!
  PIDS+=("$cpid")
  # Connected and the first picture received: the relay has passed server
  # data (it flushes its log every 200 ms); then the same 1 s as for gethelp.
  wait_for "$dir/relay.log" ' s2c ' 30 "$cpid" || die "$label: vncviewer did not connect$(tail_of "$dir/vncviewer.log")$(tail_of "$dir/$server.log")"
  sleep 1.5

  {
    echo "label=$label"
    echo "kind=vnc"
    echo "clk_tck=$CLK_TCK"
    echo "describe=$describe; server $server on $dname, vncviewer on Xvfb :$vd; bytes = TCP payload server->viewer at the relay"
    ((WAYLAND)) && echo "display=sway"
  } >"$dir/meta"
  local -a procs=(server="$spid" viewer="$cpid" xvfb="$dpid")
  ((WAYLAND)) && procs[2]=display="$dpid"
  say "$label: workload on $dname"
  start_sampler "$dir" "${procs[@]}"
  start_perf "$dir" "${procs[0]#*=}"
  snap "$dir" start "${procs[@]}"
  run_workload "$dir"
  snap "$dir" end "${procs[@]}"
  stop_perf
  ((WAYLAND)) && start_backdrop "$dir"
  run_probes "$dir"
  snap "$dir" last "${procs[@]}"
  stop_pid "$SPID"

  alive "$cpid" || say "WARNING: $label: vncviewer exited during the run$(tail_of "$dir/vncviewer.log")"
  alive "$spid" || say "WARNING: $label: $server exited during the run$(tail_of "$dir/$server.log")"
  stop_pid "$cpid"
  stop_pid "$rpid"
  stop_pid "$spid"
  ((WAYLAND)) && stop_backdrop
  stop_pid "$vxpid"
  stop_pid "$dpid"
  RUNS+=("$dir")
}

# apt_install PACKAGE...: installs those of the Debian packages that are
# missing, as shared/bench/setup.sh does.
apt_install() {
  local p sudo="" missing=()
  for p; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  ((EUID == 0)) || sudo=sudo
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# --- main ----------------------------------------------------------------------
peer=()
((WITH_VNC)) && peer=(--peer)
bash "$SHARED/bench/setup.sh" "${peer[@]}" >&2 || die "setup.sh failed: run it as root, or: sudo bash $SHARED/bench/setup.sh ${peer[*]}"
for t in Xvfb xdpyinfo xsetroot go git; do command -v "$t" >/dev/null || die "$t is missing"; done
((PERF)) && { command -v perf >/dev/null || die "perf is missing (--perf)"; }
if ((WITH_VNC)); then
  for t in x11vnc vncviewer; do command -v "$t" >/dev/null || die "$t is missing"; done
fi
WLBACKDROP=""
if ((WAYLAND)); then
  # sway and its clients: the compositor, the terminal, typing, captures
  # for the fidelity check, the terminal's font; the VNC baseline's server.
  wl=(sway foot wtype grim fonts-dejavu-core)
  ((WITH_VNC)) && wl+=(wayvnc)
  apt_install "${wl[@]}" || die "could not install ${wl[*]}: run as root, or apt-get install them"
  for t in sway swaymsg foot wtype grim; do command -v "$t" >/dev/null || die "$t is missing"; done
  ((!WITH_VNC)) || command -v wayvnc >/dev/null || die "wayvnc is missing"
fi

WORK=$(mktemp -d /tmp/gethelp-bench.XXXXXX)
REPORT=$WORK/report
GETHELP=$WORK/gethelp
say "building bench/report"
(cd "$REPO" && go build -o "$REPORT" ./bench/report) || die "bench/report does not build"
if ((WAYLAND)); then
  chmod 711 "$WORK" # sway, run as nobody, reaches its own directory in it
  WLBACKDROP=$WORK/wlbackdrop
  (cd "$REPO" && go build -o "$WLBACKDROP" ./bench/wlbackdrop) || die "bench/wlbackdrop does not build"
fi
TESTIMG=$WORK/test.ppm
if ((${#LEVEL_LIST[@]})); then
  say "building gethelp"
  (cd "$REPO" && go build -o "$GETHELP" ./cmd/gethelp) 2>"$WORK/build.err" ||
    die "gethelp does not build$(tail_of "$WORK/build.err")"
  # The fidelity check's image: photo-like, with sharp thin lines.
  convert-im6.q16 -size 1920x1080 -seed 7 plasma:fractal -blur 0x1 \
    -fill white -draw 'rectangle 100,100 1800,101' -fill black -draw 'rectangle 100,300 1800,300' \
    -fill '#ff0000' -draw 'rectangle 960,0 961,1079' -depth 8 "$TESTIMG"
fi

echo "# gethelp screen-sharing benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "# gethelp $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo '?'), $(go version | cut -d' ' -f3-), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $(uname -sr)"
version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null; }
if ((WAYLAND)); then
  echo "# Wayland: sway $(version sway) (headless, pixman), foot $(version foot), wtype $(version wtype)"
fi
if ((WITH_VNC && WAYLAND)); then
  echo "# wayvnc $(version wayvnc), tigervnc-viewer $(version tigervnc-viewer)"
elif ((WITH_VNC)); then
  echo "# x11vnc $(version x11vnc), tigervnc-viewer $(version tigervnc-viewer)"
fi
for l in "${LEVEL_LIST[@]}"; do run_gethelp "$l"; done
if ((WITH_VNC && WAYLAND)); then
  # wayvnc 0.5 (neatvnc 0.5) sends JPEG only for quality level 9 or 0; at
  # any other level its Tight is lossless.
  run_vnc wayvnc-tight9 "wayvnc + TigerVNC vncviewer, Tight with JPEG quality level 9" -PreferredEncoding Tight -QualityLevel 9 -AutoSelect=0
  run_vnc wayvnc-zrle "wayvnc + TigerVNC vncviewer, ZRLE (lossless)" -PreferredEncoding ZRLE -AutoSelect=0
elif ((WITH_VNC)); then
  run_vnc vnc-tight8 "x11vnc + TigerVNC vncviewer, Tight with JPEG quality 8" -PreferredEncoding Tight -QualityLevel 8 -AutoSelect=0
  run_vnc vnc-zrle "x11vnc + TigerVNC vncviewer, ZRLE (lossless)" -PreferredEncoding ZRLE -AutoSelect=0
fi
echo "# load average after the runs $(cut -d' ' -f1-3 /proc/loadavg)"
"$REPORT" summary "${RUNS[@]}" | tee "$WORK/report.txt"
