#!/usr/bin/env bash
# A throw-away single-node SLURM cluster for tests/test_slurm.py (usable by hand too):
#
#   tests/slurm/cluster.sh up DIR       write /etc/slurm/{slurm,gres}.conf, start munged,
#                                       slurmctld and slurmd; state, logs and PIDs go in DIR
#   tests/slurm/cluster.sh down DIR     cancel leftover jobs, stop the daemons by PID, remove
#                                       the config files written by `up`
#   tests/slurm/cluster.sh status DIR   sinfo / squeue
#
# Needs root and Debian's slurm-wlm + munge (apt-get install --no-install-recommends slurm-wlm
# munge). No systemd: the daemons are started directly and stopped by the PIDs in DIR.
# Cluster: one node named `hostname -s` (at 127.0.0.1) with the CPUs and memory `slurmd -C`
# sees and NGPUS (default 2) fake GPUs (gres.conf, File=/dev/null...), one default partition
# `test`, no accounting (squeue is the status command, so MinJobAge keeps finished jobs
# visible), proctrack/linuxproc and task/none (no cgroups needed).
# Jobs find the config at the default /etc/slurm/slurm.conf (SLURM_CONF does not reach nested
# srun calls), which is why it is written there; `up` refuses to overwrite a slurm.conf it did
# not write (exit status 3), and leaves a munged that was already running alone.
set -euo pipefail

MARK="# noisyrnn-test-cluster (tests/slurm/cluster.sh)"
CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
GRES=$CONF_DIR/gres.conf
PARTITION=${PARTITION:-test}
NGPUS=${NGPUS:-2}

die() { echo "cluster.sh: $*" >&2; exit 1; }
log() { echo "cluster.sh: $*" >&2; }
refuse() { echo "cluster.sh: $*" >&2; exit 3; } # not ours to change (the test skips)

usage() { sed -n '2,9s/^# \{0,1\}//p' "$0" >&2; exit 2; }

# --------------------------------------------------------------------------- processes
alive() { # alive PID NAME: PID runs and is NAME (a recycled PID is not ours)
    [[ -n "$1" && -d /proc/$1 ]] && [[ "$(cat "/proc/$1/comm" 2>/dev/null)" == "$2"* ]]
}

stop_pidfile() { # stop_pidfile FILE NAME: SIGTERM the PID in FILE, SIGKILL after 15 s
    local file=$1 name=$2 pid
    [[ -s $file ]] || return 0
    pid=$(tr -dc '0-9' <"$file")
    if alive "$pid" "$name"; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 150); do alive "$pid" "$name" || break; sleep 0.1; done
        if alive "$pid" "$name"; then
            log "$name ($pid) ignored SIGTERM, killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$file"
}

wait_for() { # wait_for SECONDS CMD...: retry CMD every 0.5 s
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
}

# --------------------------------------------------------------------------- munge
start_munge() {
    local dir=$1
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
    install -d -o munge -g munge -m 0700 /etc/munge
    if [[ ! -s /etc/munge/munge.key ]]; then
        log "creating /etc/munge/munge.key"
        if command -v mungekey >/dev/null; then
            runuser -u munge -- mungekey --create --keyfile=/etc/munge/munge.key
        else
            dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
        fi
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
    local pid
    pid=$(tr -dc "0-9" 2>/dev/null </run/munge/munged.pid || true)
    if alive "$pid" munged && munge -n </dev/null | unmunge >/dev/null 2>&1; then
        log "munged already running (pid $pid), using it"
        return 0
    fi
    runuser -u munge -- munged --force
    wait_for 10 test -s /run/munge/munged.pid || die "munged wrote no PID file"
    cp /run/munge/munged.pid "$dir/munged.pid" # ours: `down` stops it
    wait_for 10 bash -c 'munge -n </dev/null | unmunge' || die "munge/unmunge does not work"
}

# --------------------------------------------------------------------------- config
write_config() {
    local dir=$1 host node gpus i
    host=$(hostname -s)
    # "NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1
    #  RealMemory=24105": what slurmd will register, so the node never drains as too small
    node=$(slurmd -C | head -n1)
    [[ $node == NodeName=* ]] || die "slurmd -C printed: $node"
    gpus=""
    local files=(/dev/null /dev/zero /dev/full /dev/urandom)
    ((NGPUS >= 1 && NGPUS <= ${#files[@]})) || die "NGPUS must be 1..${#files[@]}"
    for ((i = 0; i < NGPUS; i++)); do
        gpus+="NodeName=$host Name=gpu File=${files[$i]}"$'\n'
    done
    install -d "$CONF_DIR" "$dir/state" "$dir/spool"
    cat >"$CONF" <<EOF
$MARK
# Single-node test cluster; state, logs and PIDs in $dir. Removed by \`cluster.sh down\`.
ClusterName=noisyrnntest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# no cgroups, no accounting (squeue polls; MinJobAge keeps finished jobs visible to it)
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=3600
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=5
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
DefMemPerCPU=1000
ReturnToService=2
SlurmdTimeout=300
InactiveLimit=0
KillWait=5
GresTypes=gpu
NodeName=$host NodeAddr=127.0.0.1 ${node#* } Gres=gpu:$NGPUS State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    printf '%s\n%s' "$MARK" "$gpus" >"$GRES"
}

ours() { # ours FILE: FILE is absent or was written by this script
    [[ ! -e $1 ]] || head -n1 "$1" | grep -qF "$MARK"
}

conf_value() { # conf_value KEY: KEY=VALUE from our slurm.conf
    [[ -e $CONF ]] || return 0
    sed -n "s/^$1=//p" "$CONF" | head -n1
}

stop_slurm() { # stop the daemons named in our slurm.conf (a previous `up` left them)
    local ctld_pid slurmd_pid
    ctld_pid=$(conf_value SlurmctldPidFile)
    slurmd_pid=$(conf_value SlurmdPidFile)
    if [[ -n $ctld_pid ]] && alive "$(tr -dc '0-9' <"$ctld_pid" 2>/dev/null)" slurmctld; then
        # leftover jobs: their slurmstepd would outlive slurmd
        scancel --quiet --full --user=root >/dev/null 2>&1 || true
        # shellcheck disable=SC2016 # expanded by the inner bash
        wait_for 15 bash -c '[[ -z "$(squeue -h -t R,CG,PD -o %i 2>/dev/null)" ]]' || true
    fi
    [[ -z $slurmd_pid ]] || stop_pidfile "$slurmd_pid" slurmd
    [[ -z $ctld_pid ]] || stop_pidfile "$ctld_pid" slurmctld
}

# --------------------------------------------------------------------------- commands
up() {
    local dir=$1
    ((EUID == 0)) || die "must run as root"
    for cmd in slurmctld slurmd munged munge sbatch squeue; do
        command -v $cmd >/dev/null || die "$cmd not found (apt-get install slurm-wlm munge)"
    done
    ours "$CONF" || refuse "$CONF exists and was not written by this script; not touching it"
    ours "$GRES" || refuse "$GRES exists and was not written by this script; not touching it"
    stop_slurm # a previous run's daemons, if any
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    start_munge "$dir"
    write_config "$dir"
    slurmctld || die "slurmctld did not start: $(tail -n 20 "$dir/slurmctld.log" 2>/dev/null)"
    wait_for 30 scontrol ping || die "slurmctld does not answer: $(tail -n 20 "$dir/slurmctld.log")"
    slurmd || die "slurmd did not start: $(tail -n 20 "$dir/slurmd.log" 2>/dev/null)"
    local host
    host=$(hostname -s)
    if ! wait_for 60 bash -c "sinfo -h -n $host -o %t | grep -qx idle"; then
        scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true
        wait_for 30 bash -c "sinfo -h -n $host -o %t | grep -qx idle" ||
            die "node $host not idle: $(sinfo -h -N -o '%N %t %E')"$'\n'"$(tail -n 20 "$dir/slurmd.log")"
    fi
    log "up: $(sinfo -h -o '%P %D %t %c CPUs %m MB %G')"
}

down() {
    local dir=$1
    [[ -d $dir ]] || die "no such directory: $dir"
    dir=$(cd "$dir" && pwd)
    if ours "$CONF" && [[ -e $CONF && "$(conf_value StateSaveLocation)" == "$dir/state" ]]; then
        stop_slurm # also cancels leftover jobs
    fi
    stop_pidfile "$dir/slurmd.pid" slurmd
    stop_pidfile "$dir/slurmctld.pid" slurmctld
    stop_pidfile "$dir/munged.pid" munged
    if ours "$CONF" && [[ -e $CONF && "$(conf_value StateSaveLocation)" == "$dir/state" ]]; then
        rm -f "$CONF"
        ! ours "$GRES" || rm -f "$GRES"
    fi
    log "down"
}

status() {
    sinfo -N -o '%N %P %t %c %m %G' && squeue -t all
}

(($# == 2)) || usage
case $1 in
up) up "$2" ;;
down) down "$2" ;;
status) status ;;
*) usage ;;
esac
