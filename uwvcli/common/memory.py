"""Keeping Python's cyclic garbage collector out of the way of bulk work.

Loading and evaluating a million dossiers allocates millions of small objects that never form
cycles. Each collection would walk all of them again (it cost a third to half of the run time),
for no garbage found; reference counting frees them as usual. Switching the collector is a
decision for the whole process, so only the command-line shell makes it (`uwvcli.cli.main`), and
the one command that runs as a service (`uwvcli simulator`) takes it back; library code never
touches `gc`."""

from __future__ import annotations

import gc


def pause_cycle_collection() -> None:
    """Switch the cyclic collector off for the rest of this process: a uwvcli command is batch
    work that ends, and what little cyclic garbage it makes (tracebacks, parsers) is freed when
    the process exits."""
    gc.disable()


def resume_cycle_collection() -> None:
    """For a command that runs until it is stopped (the simulator as a service): cyclic garbage
    of days of TLS connections and parsed envelopes must be collected as it goes."""
    gc.enable()
