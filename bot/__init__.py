"""firstline core: questions in, cited answers out. Never imports a chat SDK."""

import os

__version__ = "0.1.0"

# llama.cpp and torch run their threads on OpenMP, whose runtimes read OMP_WAIT_POLICY once, when
# they load: on torch's import, so it is set here, before any of our modules imports either. The
# default lets a thread waiting at a barrier spin (GOMP_SPINCOUNT 300000); where other processes
# share the cores, the spinning thread holds the core the working one needs, and the SLM read
# prompts at 18 tokens/s instead of 53 at load 9 on 2 cores (tests/bench/bench_threads.py).
# Passive waiting sleeps at once. An OMP_WAIT_POLICY set by the operator wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
