"""MkDocs hook: the command-line reference is the parser itself.

On ``reference/cli.md`` the marker ``<!-- archgym-cli -->`` becomes one
section per command of :data:`archgym.cli.COMMANDS` (and per subcommand of
``bench`` and ``proxy``) with its ``--help`` text, so the page can never
disagree with the commands.
"""
from __future__ import annotations

import argparse

MARKER = "<!-- archgym-cli -->"


def _help(parser: argparse.ArgumentParser) -> str:
    parser.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=100)
    return parser.format_help().rstrip()


def render() -> str:
    from archgym.cli import build_parser

    top = build_parser()
    out = ["## archgym", "", "```text", _help(top), "```", ""]
    subs = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    for name, parser in subs.choices.items():
        out += [f"## archgym {name}", "", "```text", _help(parser), "```", ""]
        nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        for action in nested:
            for sub_name, sub in action.choices.items():
                out += [f"### archgym {name} {sub_name}", "", "```text", _help(sub), "```", ""]
    return "\n".join(out)


def on_page_markdown(markdown, page, **kwargs):
    if MARKER in markdown:
        return markdown.replace(MARKER, render())
    return markdown
