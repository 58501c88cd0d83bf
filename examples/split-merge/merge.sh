#!/bin/sh
cat result.0 result.1 result.2 result.3 | awk '{ s += $1 } END { print "total", s }'
