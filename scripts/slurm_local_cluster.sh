#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for tests/cluster and for trying scripts/slurm/:
# munged, slurmctld and slurmd started by hand (no systemd), all state, logs and the munge key
# in one folder. Installs nothing: Debian's slurm-wlm and munge must be there
# (scripts/install-deps.sh --test). `stop` ends only the daemons that `start` started (their
# pid files in the folder, each checked to still be that daemon).
#
#   scripts/slurm_local_cluster.sh start   # prints: export SLURM_CONF=<folder>/slurm.conf
#   scripts/slurm_local_cluster.sh status
#   scripts/slurm_local_cluster.sh stop
#
# PS_SLURM_DIR (default /tmp/photosynth-slurm-<uid>) holds everything; PS_SLURM_PORT (default
# 16817) is slurmctld's port, slurmd takes the next one, so a real cluster's daemons on the
# default ports are left alone.
# Settings measured on the 2-core CI machine: proctrack/pgid (linuxproc missed scancel 3 times
# in 15), task/none and no cgroups (no systemd to delegate them), NodeAddr 127.0.0.1.
set -euo pipefail

dir=${PS_SLURM_DIR:-/tmp/photosynth-slurm-$(id -u)}
port=${PS_SLURM_PORT:-16817}
conf=$dir/slurm.conf
node=$(hostname -s)

die() {
  echo "slurm_local_cluster: $*" >&2
  exit 1
}

# The pid in the file when that process is alive and still runs `name`.
live_pid() {
  local file=$1 name=$2 pid
  [ -f "$file" ] || return 1
  pid=$(cat "$file" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
  [ "$(cat "/proc/$pid/comm")" = "$name" ] || return 1
  echo "$pid"
}

write_config() {
  local cpus memory_mb
  cpus=$(nproc)
  memory_mb=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10))
  cat >"$conf" <<EOF
# Written by scripts/slurm_local_cluster.sh: a single-node cluster for tests.
ClusterName=photosynth-local
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
# Short cycles: a test waits on them.
SchedulerParameters=sched_interval=2
MessageTimeout=20
KillWait=5
MinJobAge=600
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory_mb State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
  for program in munged slurmctld slurmd sbatch; do
    command -v "$program" >/dev/null || [ -x "/usr/sbin/$program" ] ||
      die "$program not found: install Debian's slurm-wlm and munge (scripts/install-deps.sh --test)"
  done
  [ "$(id -u)" -eq 0 ] || die "slurmd starts jobs as their users: run as root (CI runs as root)"
  id munge >/dev/null 2>&1 || die "no 'munge' user: install Debian's munge package"
  if live_pid "$dir/slurmctld.pid" slurmctld >/dev/null; then
    echo "export SLURM_CONF=$conf"
    return 0
  fi
  mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
  chmod 755 "$dir"
  # munged wants its own key, socket folder and files owned by its user and private to it.
  if [ ! -f "$dir/munge/munge.key" ]; then
    head -c 1024 /dev/urandom >"$dir/munge/munge.key"
  fi
  chown -R munge:munge "$dir/munge"
  chmod 400 "$dir/munge/munge.key"
  chmod 711 "$dir/munge"  # clients reach the socket through it
  if ! live_pid "$dir/munge/munged.pid" munged >/dev/null; then
    su -s /bin/sh munge -c "/usr/sbin/munged --key-file=$dir/munge/munge.key \
      --socket=$dir/munge/munge.socket --pid-file=$dir/munge/munged.pid \
      --log-file=$dir/munge/munged.log --seed-file=$dir/munge/munged.seed" ||
      die "munged did not start: $(tail -3 "$dir/munge/munged.log" 2>/dev/null)"
  fi
  write_config
  SLURM_CONF=$conf /usr/sbin/slurmctld -i -f "$conf" ||
    die "slurmctld did not start: $(tail -5 "$dir/slurmctld.log" 2>/dev/null)"
  SLURM_CONF=$conf /usr/sbin/slurmd -f "$conf" -N "$node" ||
    die "slurmd did not start: $(tail -5 "$dir/slurmd.log" 2>/dev/null)"
  # Ready when the node takes jobs.
  local state=""
  for _ in $(seq 1 60); do
    state=$(SLURM_CONF=$conf sinfo -h -n "$node" -o %t 2>/dev/null || true)
    case "$state" in
      idle* | mix* | alloc*) echo "export SLURM_CONF=$conf"; return 0 ;;
    esac
    sleep 1
  done
  die "node $node not ready after 60 s (state '$state'); logs: $dir/slurmctld.log, $dir/slurmd.log"
}

stop() {
  local pid name file
  for entry in "slurmd:$dir/slurmd.pid" "slurmctld:$dir/slurmctld.pid" \
               "munged:$dir/munge/munged.pid"; do
    name=${entry%%:*}
    file=${entry#*:}
    pid=$(live_pid "$file" "$name") || continue
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      [ -d "/proc/$pid" ] || break
      sleep 0.1
    done
    [ -d "/proc/$pid" ] && kill -9 "$pid" 2>/dev/null || true
    rm -f "$file"
  done
}

status() {
  for entry in "slurmd:$dir/slurmd.pid" "slurmctld:$dir/slurmctld.pid" \
               "munged:$dir/munge/munged.pid"; do
    if pid=$(live_pid "${entry#*:}" "${entry%%:*}"); then
      echo "${entry%%:*}: running (pid $pid)"
    else
      echo "${entry%%:*}: not running"
    fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
