"""The distributed summary on a Dask cluster: pass 1 per file, pass 2 per partition (each
planning its own share), the merge here.  Only packet positions (worker to worker), a few
facts per file and each partition's conversation JSON cross the network (no engine state).
A worker that dies is retried by Dask."""
from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager

from analyzer.distributed.merge import merged_engine_warnings, write_merged_summary
from analyzer.distributed.part import analyze_partition
from analyzer.distributed.partition import file_facts, file_pass
from analyzer.distributed.plan import file_order
from analyzer.errors import WirelabError
from analyzer.sources.open import open_capture

RETRIES = 2


@contextmanager
def dask_client(address: str):
    """A distributed.Client for "local:N" (a LocalCluster of N single-threaded worker
    processes started here) or a scheduler address ("tcp://host:8786")."""
    import dask
    from distributed import Client, LocalCluster
    cluster = None
    if address.startswith("local:"):
        try:
            n = int(address[6:])
        except ValueError:
            raise WirelabError(f"--dask {address}: expected local:N with N a number") from None
        if n < 1:
            raise WirelabError(f"--dask {address}: N must be at least 1")
        # without Dask's statistical profiler, which samples the analysis all along (~5 % of
        # the workers' CPU); the workers take the setting with them when they start
        with dask.config.set({"distributed.worker.profile.enabled": False}):
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=":0", silence_logs=logging.ERROR)
        client = Client(cluster)
    else:
        try:
            client = Client(address, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise WirelabError(f"--dask {address}: cannot reach the scheduler ({exc})") from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _stderr_progress(futures) -> None:
    """Dask's text progress bar, drawn on stderr (stdout carries the JSON)."""
    from distributed.diagnostics.progressbar import TextProgressBar

    class StderrBar(TextProgressBar):
        def _draw_bar(self, remaining, all, **kwargs):
            frac = (1 - remaining / all) if all else 1.0
            sys.stderr.write(f"\r[{'#' * int(self.width * frac):<{self.width}}] | "
                             f"{int(100 * frac)}% Completed")
            sys.stderr.flush()

        def _draw_stop(self, **kwargs):
            sys.stderr.write("\33[2K\r")
            sys.stderr.flush()

    StderrBar(futures)


def _gather(futures, what) -> list:
    """The futures' results, in order; a task that failed: one line naming what it was."""
    from distributed import as_completed
    results: list = [None] * len(futures)
    place = {fut.key: k for k, fut in enumerate(futures)}
    for fut in as_completed(futures):           # each result fetched as soon as it is ready
        k = place[fut.key]
        try:
            results[k] = fut.result()
        except WirelabError as exc:
            raise WirelabError(str(exc)) from None
        except Exception as exc:
            raise WirelabError(f"{what[k]}: {type(exc).__name__}: {exc}") from None
    return results


def summary_on_dask(client, files: list[str], display_path: str, fp, decode_as=None,
                    sidecar=None, summaries: bool = False, progress: bool = False) -> dict:
    """Write the `summary --json` object of `files` (merged as analyzer.sources.merged does)
    to fp.  Returns {"partitions", "workers", "dashboard", "warnings"}."""
    for path in files:                      # a bad file: one line naming it, before any work
        open_capture(path).close()
    addresses = sorted(client.scheduler_info().get("workers", {})) or [None]
    workers = len(addresses)
    parts = 2 * workers
    # pass 1 and pass 2 submitted at once: the pass-1 arrays go from worker to worker, and
    # each partition task works out its own share (analyzer.distributed.plan).  Each task
    # is placed up front (files by size, partitions in turn): the scheduler would otherwise
    # send partitions where most pass-1 data lies, one worker doing the work of two
    home = _by_size(files, addresses)
    passed = [client.submit(file_pass, p, parts, pure=False, retries=RETRIES,
                            **_placed(home[k])) for k, p in enumerate(files)]
    facts = [client.submit(file_facts, f, pure=False, retries=RETRIES) for f in passed]
    partials = [client.submit(analyze_partition, passed, i, decode_as, sidecar, display_path,
                              summaries, pure=False, retries=RETRIES,
                              **_placed(addresses[i % workers])) for i in range(parts)]
    if progress:
        _stderr_progress(passed + partials)
    del passed
    facts = _gather(facts, files)
    done = _gather(partials, [f"partition {i}" for i in range(parts)])
    order = file_order(facts)
    source_warnings = [w if len(files) == 1 else f"{os.path.basename(files[k])}: {w}"
                       for k in order for w in facts[k]["warnings"]]
    head = {"file": display_path,
            "packets": sum(f["packets"] for f in facts),
            "loopback_duplicates": sum(d["loopback_duplicates"] for d in done),
            "warnings": source_warnings + merged_engine_warnings([d["warnings"] for d in done])}
    write_merged_summary(fp, head, done)
    return {"partitions": parts, "workers": workers, "dashboard": client.dashboard_link,
            "warnings": head["warnings"]}


def _by_size(files: list[str], addresses: list) -> list:
    """A worker for each file: the biggest files first, each to the least loaded worker."""
    load = {a: 0 for a in addresses}
    home: list = [None] * len(files)
    for k in sorted(range(len(files)), key=lambda k: -os.path.getsize(files[k])):
        home[k] = min(addresses, key=lambda a: load[a])
        load[home[k]] += os.path.getsize(files[k])
    return home


def _placed(address) -> dict:
    """Where a task should run; another worker may still take it (a worker that died)."""
    return {} if address is None else {"workers": [address], "allow_other_workers": True}
