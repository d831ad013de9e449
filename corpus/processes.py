"""Whether a process on this host still runs: the one check behind stale temp files, stale index locks and orphaned runs."""

from __future__ import annotations

import os


def pid_running(pid: int) -> bool:
    """True while process `pid` exists on this host (one we may not signal counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
