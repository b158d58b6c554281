"""The README's visibility table, generated from the domain's table (:func:`rp_api.domain.visibility.markdown`).

``python -m rp_api.visibility_docs [README.md]`` rewrites what lies between the README's two markers; a test fails
when the README's block differs from what the table generates.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rp_api.domain.visibility import markdown

START = "<!-- visibility:start -->"
END = "<!-- visibility:end -->"


def block() -> str:
    """The markers and the generated table between them."""
    return f"{START}\n\n{markdown()}\n{END}"


def current(readme: str) -> str:
    """The README's block, markers included (ValueError when a marker is missing or out of order)."""
    start, end = readme.find(START), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no {START} … {END} block")
    return readme[start : end + len(END)]


def regenerated(readme: str) -> str:
    """The README with its block generated again."""
    return readme.replace(current(readme), block(), 1)


def main(argv: list[str]) -> int:
    path = Path(argv[0] if argv else "README.md")
    text = path.read_text(encoding="utf-8")
    updated = regenerated(text)
    if updated != text:
        path.write_text(updated, encoding="utf-8")
        sys.stderr.write(f"rp_api.visibility_docs: wrote {path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
