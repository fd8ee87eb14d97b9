"""``cleanup``, ``stats`` and ``daemon``: looking after the store by hand or on a schedule."""

from __future__ import annotations

import argparse

from .. import output
from .common import emit, open_existing, open_manager, output_option, positive_float


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cleanup = sub.add_parser("cleanup", help="delete expired entries now")
    cleanup.add_argument("--force", action="store_true", help="include manual-strategy entries")
    cleanup.add_argument(
        "--namespace", metavar="NS", help="only keys under NS/ ('default': the whole store)"
    )
    cleanup.add_argument(
        "--dry-run", action="store_true", help="report what would be deleted; delete nothing"
    )
    output_option(cleanup)
    cleanup.set_defaults(handler=cmd_cleanup)

    stats = sub.add_parser("stats", help="entries, sizes and expiry by policy")
    output_option(stats)
    stats.set_defaults(handler=cmd_stats)

    daemon = sub.add_parser("daemon", help="scheduled maintenance (one per store)")
    daemon.add_argument("--once", action="store_true", help="run one pass and exit (for cron)")
    when = daemon.add_mutually_exclusive_group()
    when.add_argument("--interval-hours", type=positive_float, metavar="H")
    when.add_argument("--at", type=_clock_time, metavar="HH:MM", help="daily (default 02:00)")
    daemon.set_defaults(handler=cmd_daemon)


def _clock_time(text: str) -> tuple[int, int]:
    from ..background.daemon import parse_at

    try:
        return parse_at(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_cleanup(args: argparse.Namespace) -> int:
    with open_manager(args) as manager:
        report = manager.cleanup(force=args.force, namespace=args.namespace, dry_run=args.dry_run)
    emit(args, report, lambda r: f"cleanup: {output.format_cleanup(r)}")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    with open_existing(args) as manager:
        stats = manager.get_stats()
    emit(args, stats, output.format_stats)
    return 0


def cmd_daemon(args: argparse.Namespace) -> int:
    from ..background.daemon import Daemon, Schedule, run_once

    with open_manager(args) as manager:
        if args.once:
            run_once(manager)  # logs what it did, or that another process has the maintenance turn
            return 0
        schedule = Schedule(interval_hours=args.interval_hours, at=args.at or (2, 0))
        return Daemon(manager, schedule).run()
