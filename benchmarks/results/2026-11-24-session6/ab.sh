#!/bin/bash
# A/B of two server jars: alternating DoGets of the same 10M-row mixed table, server CPU per run.
# usage: ab.sh ROUNDS [extra server args...]
rounds=$1; shift
cd /tmp/ab
opts=$(cat jvm.options)
for v in old new; do
  rm -rf d$v; mkdir d$v
  port=$([ $v = old ] && echo 8817 || echo 8818)
  nohup java $opts -jar $([ $v = old ] && echo /tmp/ab/old/flight-server/target/quiver-server.jar || echo /tmp/ab/newdir/quiver-server.jar) --data-dir /tmp/ab/d$v --port $port "$@" > $v.log 2>&1 &
  echo $! > $v.pid
done
sleep 8
for v in old new; do
  port=$([ $v = old ] && echo 8817 || echo 8818)
  /work/main/benchmarks/bin/quiver-bench --uri grpc://127.0.0.1:$port --mode get --schema mixed --streams 1 --records-per-stream 10000000 --warmup 2 --runs 2 --path bench/mixed --no-progress 2>&1 | grep -E "median"
done
for r in $(seq $rounds); do
  for v in old new; do
    port=$([ $v = old ] && echo 8817 || echo 8818)
    echo -n "round $r $v: "; /tmp/prof/cpu.sh $(cat $v.pid) $port 3 mixed
  done
done
for v in old new; do kill $(cat $v.pid); done
