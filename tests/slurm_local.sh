# tests/slurm_local.sh -- sourced (bash) by tests/slurm_jobs.sh and
# tests/fss_study.sh: a single-node SLURM on localhost
# (../shared/notes/slurm-localhost.md).  Needs root; installs the Debian
# packages slurmctld slurmd slurm-client munge with apt-get when missing.
# The caller defines skip() (prints "SKIPPED: reason" and exits) and may set
# SLURM_LOCAL_CLUSTER (cluster name) and SLURM_LOCAL_PREFIX (temporary
# directory prefix).  Afterwards SLURM_CONF, T (the directory), HOST are set
# and an EXIT trap stops slurmctld, slurmd and munged and removes T (kept
# with KEEP=1).
[ "$(id -u)" -eq 0 ] || skip "needs root to run munged/slurmctld/slurmd"
for p in slurmctld slurmd slurm-client munge; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="${missing:-} $p"
done
if [ -n "${missing:-}" ]; then
  echo "installing:$missing"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null 2>&1; } ||
    skip "could not install$missing with apt-get"
fi
for c in munged mungekey slurmctld slurmd sbatch squeue sinfo scontrol scancel h5diff mpirun; do
  command -v "$c" >/dev/null || skip "$c not found"
done
if (exec 3<>/dev/tcp/127.0.0.1/6817) 2>/dev/null; then skip "port 6817 in use (another SLURM running?)"; fi
if pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null; then skip "a slurmctld/slurmd is already running (one per machine)"; fi

T=$(mktemp -d "${SLURM_LOCAL_PREFIX:-/tmp/ising-slurm}.XXXXXX")
chmod 755 "$T"
HOST=$(hostname -s)
MUNGE_SOCK=$T/munge/munge.socket
export SLURM_CONF=$T/slurm.conf
started=0
cleanup() {
  if [ "$started" = 1 ]; then
    scancel --full --quiet $(squeue -h -o %i 2>/dev/null) 2>/dev/null
    scontrol shutdown >/dev/null 2>&1
    for i in $(seq 50); do
      kill -0 "$(cat "$T/slurmctld.pid" 2>/dev/null)" 2>/dev/null ||
        kill -0 "$(cat "$T/slurmd.pid" 2>/dev/null)" 2>/dev/null || break
      sleep 0.1
    done
    for f in "$T/slurmd.pid" "$T/slurmctld.pid"; do
      pid=$(cat "$f" 2>/dev/null) && kill "$pid" 2>/dev/null
    done
  fi
  munged --stop -S "$MUNGE_SOCK" >/dev/null 2>&1
  [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# munge
mkdir -p "$T/munge" && chmod 755 "$T/munge"
mungekey -c -k "$T/munge/munge.key" >/dev/null 2>&1 ||
  { dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 2>/dev/null; chmod 400 "$T/munge/munge.key"; }
munged --force -S "$MUNGE_SOCK" --key-file="$T/munge/munge.key" \
  --pid-file="$T/munge/munged.pid" --log-file="$T/munge/munged.log" \
  --seed-file="$T/munge/munged.seed" >/dev/null 2>&1 || skip "munged did not start"
chmod 755 "$T/munge"

# slurm
mem=$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)
mkdir -p "$T/state" "$T/spool"
cat > "$SLURM_CONF" <<EOF
ClusterName=${SLURM_LOCAL_CLUSTER:-isingtest}
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCK
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerParameters=sched_interval=2
MinJobAge=300
NodeName=$HOST CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$HOST Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
started=1
slurmctld -f "$SLURM_CONF" -i >/dev/null 2>&1 || skip "slurmctld did not start (see $T/slurmctld.log)"
slurmd -f "$SLURM_CONF" >/dev/null 2>&1 || skip "slurmd did not start"
for i in $(seq 100); do
  [ "$(sinfo -h -N -o %t 2>/dev/null)" = idle ] && break
  sleep 0.2
done
[ "$(sinfo -h -N -o %t 2>/dev/null)" = idle ] || skip "node not idle after 20 s: $(sinfo -h -N -o %t 2>&1)"
echo "SLURM up on $HOST ($(nproc) CPUs), SLURM_CONF=$SLURM_CONF"
