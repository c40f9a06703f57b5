#!/bin/bash
# A/B of two server builds, alternating runs, server CPU per run from /proc.
# usage: ab2.sh A_JAR B_JAR get|put ROUNDS [extra server args...]
a=$1; b=$2; mode=$3; rounds=$4; shift 4
cd /tmp/ab
opts=$(cat jvm.options)
declare -A jar=([a]=$a [b]=$b) port=([a]=8817 [b]=8818)
for v in a b; do
  rm -rf d$v; mkdir d$v
  extra=$([ $v = b ] && echo "${B_OPTS:-}"); nohup java $opts $extra -jar ${jar[$v]} --data-dir /tmp/ab/d$v --port ${port[$v]} "$@" > $v.log 2>&1 &
  echo $! > $v.pid
done
sleep 8
bench() { # server-key runs extra-args
  /work/main/benchmarks/bin/quiver-bench --uri grpc://127.0.0.1:${port[$1]} --mode $mode --schema mixed --streams 1 --records-per-stream 10000000 --warmup 0 --runs $2 --path bench/mixed --no-progress "${@:3}" 2>&1 | grep "^median" | awk '{print $2}'
}
for v in a b; do echo "warm-up $v: $(bench $v 2) MB/s"; done
for r in $(seq $rounds); do
  for v in a b; do
    pid=$(cat $v.pid); t0=$(awk '{print $14+$15}' /proc/$pid/stat)
    if [ $mode = get ]; then mbs=$(bench $v 3 --no-load); else mbs=$(bench $v 3); fi
    t1=$(awk '{print $14+$15}' /proc/$pid/stat)
    echo "round $r $v: $mbs MB/s, cpu/run $(echo "scale=2; ($t1-$t0)/100/3" | bc)"
  done
done
for v in a b; do kill $(cat $v.pid); done
