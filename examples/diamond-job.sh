#!/bin/bash
echo "I am job $PBS_JOBNAME"
