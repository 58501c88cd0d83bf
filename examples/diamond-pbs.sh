#!/bin/bash
# The seed's diamond written with dependent submits, PBS style: A, then B and C, then D.
# Run it with a pool running (dsched start):  bash examples/diamond-pbs.sh
cd "$(dirname "$0")"
submit() { dsubmit "$@"; }
A=$(submit -N A diamond-job.sh)
echo "Submitted job A as $A"
B=$(submit -N B -W depend=afterok:$A diamond-job.sh)
C=$(submit -N C -W depend=afterok:$A diamond-job.sh)
echo "Submitted jobs B & C as $B, $C"
D=$(submit -N D -W depend=afterok:$B:$C diamond-job.sh)
echo "Submitted job D as $D"
