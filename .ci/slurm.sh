#!/usr/bin/env bash
# A real one-node SLURM on this machine, for the SLURM tests (tests/test_slurm_study.py) and
# for a laptop (docs/cluster.md, "A real SLURM on one machine").
#
#   .ci/slurm.sh start   install slurm-wlm + munge (apt, as root) if missing, write a munge
#                        key and a one-node slurm.conf, start munged, slurmctld, slurmd, wait
#                        until `sinfo` shows the node idle; PIDs go to $STATE/pids
#   .ci/slurm.sh stop    stop exactly the daemons `start` started (by PID), nothing else
#   .ci/slurm.sh status  sinfo
#
# Recipe: /work/shared/recipes/slurm-local.md (Debian 12 packages: Slurm 22.05.8, ~6 s).
# Partition "debug" (default), node = this host with its CPU count; the dask-jobqueue
# config for it is workflows/cluster/slurm-local.yaml. If slurmctld already answers
# (a SLURM started earlier, by this script or by the site), `start` uses it and records
# no PIDs, so `stop` leaves it alone.
set -euo pipefail
STATE=${EDRIVE_SLURM_STATE:-/tmp/edrive-slurm}
PIDS=$STATE/pids
CONF=/etc/slurm/slurm.conf

log() { echo "slurm.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

install_packages() {
    if command -v slurmctld >/dev/null && command -v munged >/dev/null; then return; fi
    [ "$(id -u)" = 0 ] || die "slurm-wlm/munge are not installed and this is not root"
    command -v apt-get >/dev/null || die "no apt-get: install slurm-wlm and munge yourself"
    log "installing slurm-wlm munge (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends slurm-wlm munge >"$STATE/apt.log" 2>&1 \
        || { apt-get update >>"$STATE/apt.log" 2>&1 \
             && apt-get install -y --no-install-recommends slurm-wlm munge >>"$STATE/apt.log" 2>&1; } \
        || die "apt-get install slurm-wlm munge failed (see $STATE/apt.log)"
}

write_config() {
    local host cpus mem
    host=$(hostname)
    cpus=$(nproc)
    # RealMemory: 80 % of the machine in MB (the jobs ask for far less)
    mem=$(awk '/MemTotal/ {printf "%d", $2 / 1024 * 0.8}' /proc/meminfo)
    mkdir -p /etc/munge /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm \
        /run/munge /var/lib/munge /var/log/munge
    if [ ! -s /etc/munge/munge.key ]; then
        head -c 1024 /dev/urandom >/etc/munge/munge.key
    fi
    chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
    chmod 400 /etc/munge/munge.key
    chmod 700 /etc/munge
    cat >"$CONF" <<EOF
# written by .ci/slurm.sh (edrive): one node, one partition
ClusterName=local
SlurmctldHost=$host
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmUser=root
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
MpiDefault=none
SchedulerType=sched/backfill
KillWait=5
InactiveLimit=0
MinJobAge=30
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

pid_of() {  # pid file -> pid, waiting for the daemon to write it
    local f=$1
    for _ in $(seq 50); do
        [ -s "$f" ] && { cat "$f"; return; }
        sleep 0.1
    done
    die "no pid file $f"
}

start() {
    mkdir -p "$STATE"
    if command -v sinfo >/dev/null && sinfo -h -o %t 2>/dev/null | grep -q .; then
        log "a SLURM controller already answers; using it (nothing to stop)"
        : >"$PIDS"
        wait_idle
        return
    fi
    install_packages
    write_config
    : >"$PIDS"
    if ! munge -n </dev/null >/dev/null 2>&1; then
        runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/edrive-munged.pid \
            || die "munged did not start"
        echo "munged $(pid_of /run/munge/edrive-munged.pid)" >>"$PIDS"
    fi
    slurmctld -c -f "$CONF" || die "slurmctld did not start (see $STATE/slurmctld.log)"
    echo "slurmctld $(pid_of "$STATE/slurmctld.pid")" >>"$PIDS"
    slurmd -f "$CONF" || die "slurmd did not start (see $STATE/slurmd.log)"
    echo "slurmd $(pid_of "$STATE/slurmd.pid")" >>"$PIDS"
    wait_idle
}

wait_idle() {
    local t0=$SECONDS
    while [ $((SECONDS - t0)) -lt 60 ]; do
        if sinfo -h -o %t 2>/dev/null | grep -Eq '^(idle|mix|alloc)'; then
            log "SLURM up: $(sinfo -h -o '%P %D %t %c' | head -1) after $((SECONDS - t0)) s"
            return
        fi
        sleep 0.5
    done
    die "the node did not become idle within 60 s (see $STATE/slurm*.log)"
}

stop() {
    [ -f "$PIDS" ] || { log "nothing started by this script"; return; }
    # reverse order: slurmd, slurmctld, munged; only the PIDs this script recorded
    tac "$PIDS" | while read -r name pid; do
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" && log "stopped $name ($pid)"
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        fi
    done
    rm -f "$PIDS"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) sinfo ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
