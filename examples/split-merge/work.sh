#!/bin/sh
# the sum of one chunk
awk '{ s += $1 } END { print s }' "$1"
