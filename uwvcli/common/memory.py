"""Keeping Python's cyclic garbage collector out of the way of bulk work.

Loading and evaluating a million dossiers allocates millions of small objects that never form
cycles. Each collection would walk all of them again (it cost a third to half of the run time),
for no garbage found; reference counting frees them as usual. Switching the collector is a
decision for the whole process, so only the command-line shell makes it, once (`uwvcli.cli.main`);
library code never touches `gc`."""

from __future__ import annotations

import gc


def pause_cycle_collection() -> None:
    """Switch the cyclic collector off for the rest of this process: a uwvcli command is batch
    work that ends, and what little cyclic garbage it makes (tracebacks, parsers) is freed when
    the process exits."""
    gc.disable()
