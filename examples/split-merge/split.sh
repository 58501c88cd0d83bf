#!/bin/sh
# four chunks of the numbers 1..40
for c in 0 1 2 3; do seq $((c * 10 + 1)) $((c * 10 + 10)) > chunk.$c; done
