#!/usr/bin/env bash
# Installs what the cluster tests' one-node SLURM (tools/local-slurm.sh) runs on: Debian's slurmctld, slurmd, the
# SLURM client commands and munge, plus slurmdbd and the MariaDB server so that sacct answers. Best effort, like
# install-browser.sh: without root or apt the SLURM tests report why they are skipped. Exit 0 either way.
set -uo pipefail
packages=(slurmctld slurmd slurm-client munge slurmdbd mariadb-server)
have() { command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 && command -v munged >/dev/null 2>&1 \
  && command -v slurmdbd >/dev/null 2>&1 && command -v mariadb-install-db >/dev/null 2>&1; }
have && exit 0
if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
  echo "atmsae: installing SLURM (slurmctld, slurmd, munge, slurmdbd, mariadb-server) for the cluster tests..."
  apt() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 "$@"; }
  (apt install -y -q "${packages[@]}" >/dev/null 2>&1 || { apt update -q >/dev/null 2>&1 && apt install -y -q "${packages[@]}" >/dev/null 2>&1; }) \
    && echo "atmsae: SLURM installed" \
    || echo "atmsae: could not install SLURM (apt failed); the SLURM tests will be skipped"
else
  echo "atmsae: SLURM not found and cannot install it here (needs root and apt); the SLURM tests will be skipped"
fi
exit 0
