"""Every README code block runs as written (the runner: ``doc_blocks``).

* ``python`` blocks each run on their own (a fresh namespace: the
  README's examples are independent of one another);
* ``sh`` blocks: every ``archgym`` command runs in a fresh folder and must exit
  0 (what is not run, and why, is ``doc_blocks.SKIP``);
* ``console`` blocks (``make demo``, ``make test``: a fresh virtualenv,
  minutes) are shown, not run; ``.ci/run`` runs ``make test`` itself.
"""
from __future__ import annotations

import doc_blocks

README = doc_blocks.ROOT / "README.md"


def test_readme_is_a_landing_page():
    text = README.read_text()
    assert len(text.splitlines()) <= 200
    for section in ("## Prerequisites", "## Two commands", "## Three examples", "## Environments", "## Searchers",
                    "## Documentation"):
        assert section in text, section
    assert "make demo" in text and "make test" in text


def test_every_example_runs_on_its_own(tmp_path):
    ran = doc_blocks.run_page(README, tmp_path, fresh_namespace=True)
    assert ran["python"] >= 2 and ran["commands"] >= 5, ran


def test_readme_links_point_at_files():
    import re

    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README.read_text()):
        if not target.startswith("http"):
            assert (doc_blocks.ROOT / target).exists(), target
