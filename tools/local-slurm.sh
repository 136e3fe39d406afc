#!/usr/bin/env bash
# A one-node SLURM on this machine, for the cluster tests and for trying `atmsae sweep --slurm` / `atmsae study
# --slurm` without a cluster: Debian's munged, slurmctld and slurmd, with every key, socket, port, state file and log
# private to DIR, so it never meets a system SLURM or another copy of itself.
#
#   tools/local-slurm.sh start DIR   starts it; prints SLURM_CONF=DIR/slurm.conf (export it for sbatch, squeue, ...)
#   tools/local-slurm.sh stop DIR    cancels every job, stops the daemons and waits until they are gone
#   tools/local-slurm.sh env DIR     prints SLURM_CONF=... of a running one
#
# Needs root (slurmd starts jobs as their owner) and the packages tools/install-slurm.sh installs. With the MariaDB
# server and slurmdbd installed too, it also starts a private MariaDB and slurmdbd, so `sacct` answers; without them
# SLURM runs with accounting off (squeue and scontrol still work); ATMSAE_SLURM_ACCOUNTING=0 turns it off too (starts in
# about a second instead of ten). Exits non-zero with one line when it cannot start, leaving no daemon behind.
set -euo pipefail

die() { echo "local-slurm: $*" >&2; exit 1; }
[[ $# -eq 2 ]] || die "usage: $0 start|stop|env DIR"
action=$1
dir=$(realpath -m "$2")
conf="$dir/slurm.conf"
node=atmsae-node

free_port() { # a TCP port nothing listens on
  local p
  for _ in $(seq 50); do
    p=$(shuf -i 20000-60000 -n 1)
    ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }
  done
  die "no free TCP port found"
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND until it succeeds
  local limit=$1 what=$2; shift 2
  for _ in $(seq $((limit * 5))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  die "$what did not come up within ${limit}s (logs in $dir/log)"
}

pid_alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_accounting() { # private MariaDB on a TCP port of 127.0.0.1 and slurmdbd in front of it
  local dbport=$1 dbdport=$2 mariadbd
  mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
  mkdir -p "$dir/mysql"
  mariadb-install-db --no-defaults --user=root --datadir="$dir/mysql" --auth-root-authentication-method=normal \
    >"$dir/log/mariadb-install.log" 2>&1 || die "mariadb-install-db failed (see $dir/log/mariadb-install.log)"
  "$mariadbd" --no-defaults --user=root --datadir="$dir/mysql" --bind-address=127.0.0.1 --port="$dbport" \
    --socket="$dir/run/mysql.sock" --pid-file="$dir/run/mariadbd.pid" --log-error="$dir/log/mariadbd.log" \
    --skip-grant-tables=0 --innodb-buffer-pool-size=32M >/dev/null 2>&1 &
  wait_for 60 "MariaDB" mariadb --no-defaults -uroot --socket="$dir/run/mysql.sock" -e "select 1"
  cat >"$dir/slurmdbd.conf" <<EOF
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$dbdport
SlurmUser=root
PidFile=$dir/run/slurmdbd.pid
LogFile=$dir/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$dbport
StorageUser=root
StorageLoc=slurm_acct_db
EOF
  chmod 600 "$dir/slurmdbd.conf"
  SLURM_CONF=$conf slurmdbd || die "slurmdbd did not start (see $dir/log/slurmdbd.log)"
  wait_for 60 "slurmdbd" sacctmgr -i list cluster
  sacctmgr -i add cluster atmsae >/dev/null 2>&1 || true
}

start() {
  for tool in munged slurmctld slurmd sbatch; do
    command -v "$tool" >/dev/null || die "$tool not found (tools/install-slurm.sh installs Debian's slurm-wlm and munge)"
  done
  [[ $(id -u) == 0 ]] || die "needs root (slurmd starts jobs as their owner)"
  if [[ -f $conf ]] && pid_alive "$dir/run/slurmctld.pid"; then
    echo "SLURM_CONF=$conf"
    return
  fi
  mkdir -p "$dir"/{state,spool,log,run,munge}
  trap 'stop >/dev/null 2>&1' EXIT # a start that fails half-way leaves no daemon behind
  chmod 700 "$dir/munge"
  head -c 1024 /dev/urandom >"$dir/munge/munge.key"
  chmod 400 "$dir/munge/munge.key"
  munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed" \
    || die "munged did not start (see $dir/log/munged.log)"

  local accounting=none dbdport="" ctldport slurmdport memory
  ctldport=$(free_port)
  slurmdport=$(free_port)
  memory=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
  export SLURM_CONF=$conf
  if command -v slurmdbd >/dev/null && command -v mariadb-install-db >/dev/null \
      && [[ ${ATMSAE_SLURM_ACCOUNTING:-1} != 0 ]]; then
    accounting=slurmdbd
    dbdport=$(free_port)
  fi
  cat >"$conf" <<EOF
# written by tools/local-slurm.sh: a one-node SLURM private to $dir
ClusterName=atmsae
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=$ctldport
SlurmdPort=$slurmdport
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/$accounting
${dbdport:+AccountingStorageHost=localhost}
${dbdport:+AccountingStoragePort=$dbdport}
${dbdport:+AccountingStoragePass=$dir/munge/munge.socket}
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=30
MinJobAge=3600
MaxArraySize=100001
NodeName=$node NodeHostname=$(hostname -s) NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  if [[ $accounting == slurmdbd ]]; then
    start_accounting "$(free_port)" "$dbdport"
  fi
  slurmctld -f "$conf" || die "slurmctld did not start (see $dir/log/slurmctld.log)"
  wait_for 30 "slurmctld" scontrol ping
  slurmd -f "$conf" -N "$node" || die "slurmd did not start (see $dir/log/slurmd.log)"
  wait_for 60 "the node" bash -c "sinfo -h -n $node -o %T | grep -qx idle"
  trap - EXIT
  echo "SLURM_CONF=$conf"
}

stop_pids() { # TERM to every daemon at once, wait up to 30 s for them all, then KILL what is left
  local pids=() file pid
  for file in "$@"; do
    [[ -f $file ]] && pid=$(cat "$file") && kill "$pid" 2>/dev/null && pids+=("$pid")
  done
  for _ in $(seq 150); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && return 0
    sleep 0.2
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}

stop() {
  export SLURM_CONF=$conf
  if [[ -f $conf ]] && pid_alive "$dir/run/slurmctld.pid"; then
    scancel --full --quiet $(squeue -h -o %A 2>/dev/null) 2>/dev/null || true
    for _ in $(seq 200); do # KillWait is 30 s: a job may checkpoint before it goes
      [[ -z $(squeue -h -t all -o %A --states=RUNNING,COMPLETING,CONFIGURING 2>/dev/null) ]] && break
      sleep 0.2
    done
  fi
  stop_pids "$dir"/run/{slurmd,slurmctld,slurmdbd,mariadbd,munged}.pid
}

case $action in
  start) start ;;
  stop) stop ;;
  env) echo "SLURM_CONF=$conf" ;;
  *) die "usage: $0 start|stop|env DIR" ;;
esac
