"""One module per `wirelab` subcommand.

Each module defines:
    HELP: str                          one-line help shown by `wirelab --help`
    add_arguments(parser) -> None      fills an argparse sub-parser
    run(args) -> int                   runs the command, returns the exit status
Modules are imported lazily by analyzer.cli so a slow import (textual, scapy) only costs the
command that needs it.
"""
