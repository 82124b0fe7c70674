"""The command layer: argparse, printing and file writing for the ``edrive`` verbs that
have moved out of the library (see docs/architecture.md)."""
