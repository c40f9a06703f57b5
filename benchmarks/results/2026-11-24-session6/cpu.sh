#!/bin/bash
# usage: cpu.sh PID PORT RUNS -> prints MB/s median and server CPU s per run
pid=$1; port=$2; runs=$3
t0=$(awk '{print $14+$15}' /proc/$pid/stat)
out=$(/work/main/benchmarks/bin/quiver-bench --uri grpc://127.0.0.1:$port --mode get --schema mixed --streams 1 --records-per-stream 10000000 --warmup 0 --runs $runs --path bench/$4 --no-load --no-progress 2>&1 | grep median)
t1=$(awk '{print $14+$15}' /proc/$pid/stat)
echo "port $port: $(echo $out | awk '{print $2}') MB/s, cpu/run $(echo "scale=2; ($t1-$t0)/100/$runs" | bc)"
