#!/usr/bin/env bash
# Bring up a single-node Slurm cluster on this machine (partition `cpu`), for the tests that submit real jobs.
#
#   bash tests/cluster/slurm_up.sh          # idempotent: returns at once when the cluster already answers
#
# Needs root and Debian's `slurm-wlm` and `munge` (apt-get install -y slurm-wlm munge). Process tracking by
# /proc and no task plugin, so it runs in containers without cgroups; starts in about 15 seconds.
set -euo pipefail

if sinfo -h -p cpu -o %a 2>/dev/null | grep -q up && srun --version >/dev/null 2>&1 \
    && scontrol ping 2>/dev/null | grep -q UP; then
  exit 0
fi
for bin in slurmctld slurmd munged sbatch; do
  command -v "$bin" >/dev/null || { echo "slurm_up: $bin not found; apt-get install -y slurm-wlm munge" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "slurm_up: run as root (it starts munged, slurmctld and slurmd)" >&2; exit 1; }

# munge: one key, the daemon as its own user
install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
install -d -o munge -g munge -m 0755 /run/munge
[ -s /etc/munge/munge.key ] || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged

# never replace a real cluster's configuration: only a file this script wrote (its first line) is rewritten
MARK="# tracemix single-node test cluster (tests/cluster/slurm_up.sh)"
if [ -s /etc/slurm/slurm.conf ] && [ "$(head -n1 /etc/slurm/slurm.conf)" != "$MARK" ]; then
  echo "slurm_up: /etc/slurm/slurm.conf exists and was not written by this script; leaving it alone" >&2
  exit 1
fi

node=$(hostname -s)
cpus=$(slurmd -C | sed -n 's/.*CPUs=\([0-9]*\).*/\1/p')
mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
install -d /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat > /etc/slurm/slurm.conf <<CONF
$MARK
ClusterName=tracemix
SlurmctldHost=${node}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# Schedule every second so dependent jobs start as soon as their parents finish
SchedulerParameters=sched_interval=1,bf_interval=1,batch_sched_delay=0
MinJobAge=600
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem} State=UNKNOWN
PartitionName=cpu Nodes=${node} Default=YES MaxTime=INFINITE State=UP
CONF

pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 60); do
  if sinfo -h -p cpu -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
    echo "slurm_up: partition cpu on ${node} (${cpus} CPUs) is up"
    exit 0
  fi
  sleep 0.5
done
echo "slurm_up: the cluster did not come up; see /var/log/slurm/slurmctld.log and slurmd.log" >&2
sinfo >&2 || true
exit 1
