#!/usr/bin/env python3
"""Runs the PyTorch reference script with its timer reading this process's CPU time
(time.process_time) instead of the wall clock, for comparisons on a machine shared with other jobs.
Arguments are the reference's own, after the path of the reference script:

  /usr/bin/python3 bench/torch-cpu-clock.py path/to/torch_reference.py --threads 1 loss --loss ntxent --batch 1024

With one thread, CPU time is the time the step would take on an idle core; with more threads it is
the sum over threads (total work), so only 1-thread runs are comparable this way.
"""
import runpy, sys, time

time.perf_counter = time.process_time
reference = sys.argv[1]
sys.argv = [reference] + sys.argv[2:]
runpy.run_path(reference, run_name="__main__")
