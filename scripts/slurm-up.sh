#!/usr/bin/env bash
# Starts a one-node Slurm cluster on this machine (Debian's slurm-wlm and munge), for
# the Slurm backend's tests: the recipe of ../shared/docs/slurm.md. Idempotent: it
# installs only what is missing and starts only what is not running. Needs root.
#
#   scripts/slurm-up.sh          # install if needed, start, wait until the node is idle
#   scripts/slurm-up.sh --stop   # stop the daemons it started (by their pid files)
set -euo pipefail

pids=/run/xp-slurm
if [ "${1:-}" = "--stop" ]; then
    for daemon in slurmd slurmctld munged; do
        [ -f "$pids/$daemon.pid" ] && kill "$(cat "$pids/$daemon.pid")" 2>/dev/null || true
        rm -f "$pids/$daemon.pid"
    done
    exit 0
fi

up() { sinfo --noheader --format=%t 2>/dev/null | grep -qE '^(idle|mix|alloc)'; }
if up; then
    sinfo
    exit 0
fi
[ "$(id -u)" = 0 ] || { echo "slurm-up: run as root (it installs packages and starts daemons)" >&2; exit 1; }
if ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    echo "slurm-up: installing slurm-wlm and munge"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi
mkdir -p "$pids"

running() { [ -f "$pids/$1.pid" ] && kill -0 "$(cat "$pids/$1.pid")" 2>/dev/null; }

if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    mkdir -p /etc/munge /var/log/munge /run/munge /var/lib/munge
    [ -f /etc/munge/munge.key ] || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
    chown -R munge:munge /etc/munge /var/log/munge /run/munge /var/lib/munge
    chmod 400 /etc/munge/munge.key
    /usr/sbin/munged --force --pid-file="$pids/munged.pid" 2>/dev/null
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
fi

conf=/etc/slurm/slurm.conf
if [ ! -f "$conf" ]; then
    host=$(hostname -s)
    mem=$(($(free -m | awk '/Mem:/{print $2}') - 1024))
    mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
    cat >"$conf" <<CONF
# Written by xp's scripts/slurm-up.sh: a one-node cluster for tests.
ClusterName=xp
SlurmctldHost=$host
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmUser=root
SlurmdUser=root
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldPidFile=$pids/slurmctld.pid
SlurmdPidFile=$pids/slurmd.pid
ReturnToService=2
NodeName=$host CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
fi

running slurmctld || /usr/sbin/slurmctld
running slurmd || /usr/sbin/slurmd
for _ in $(seq 60); do
    if up; then
        sinfo
        exit 0
    fi
    sleep 0.5
done
echo "slurm-up: the node did not come up; see /var/log/slurm/slurmctld.log and slurmd.log" >&2
sinfo >&2 || true
exit 1
