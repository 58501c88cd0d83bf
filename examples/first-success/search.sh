#!/bin/sh
# Part 2 holds the answer and finds it after a second; the other parts search for a long time.
if [ "$1" = 2 ]; then sleep 1; echo "found the answer in part $1"; exit 0; fi
sleep 60
echo "nothing in part $1"
exit 1
