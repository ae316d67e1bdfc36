"""The scheduler process: APScheduler jobs defined in code, run by `flask --app wsgi arrears scheduler`.

Never started inside web workers. See `process.py` for leases and misfires, `jobs.py` for the work.
"""

from __future__ import annotations

from .process import JOBS, build_scheduler, run_scheduler

__all__ = ["JOBS", "build_scheduler", "run_scheduler"]
