"""Pieces every assignment shares: the opening cell and the closing checklist."""

from __future__ import annotations

import textwrap

from _build import Cell, md


def header(title: str, learn: list[str], lecture: str, minutes: int, kind: str = "lab") -> Cell:
    goals = "\n".join(f"- {item}" for item in learn)
    template = textwrap.dedent("""
        # {title}

        Follows lecture **{lecture}**. About {minutes} minutes.

        **In this {kind} you will**

        {goals}

        **How it works**

        - Write your code where it says `# YOUR CODE HERE` and delete the `raise NotImplementedError()`
          line. Answer the written questions where it says "YOUR ANSWER HERE".
        - Each task is followed by a test cell. The visible `assert`s are there to help you; the
          grader also runs **hidden tests** that check your answer more thoroughly — passing the
          visible tests is necessary, not sufficient.
        - Do not rename functions or variables the tests use, and do not delete or edit the locked
          cells (they are restored before grading anyway).
        - Before you submit: **Kernel → Restart Kernel and Run All Cells**. The grader runs your
          notebook top to bottom in a fresh kernel, without internet, with a time limit. If it only
          works when you run cells out of order, it does not work.
        """)
    return md("intro", template.replace("{title}", title).replace("{lecture}", lecture)
              .replace("{minutes}", str(minutes)).replace("{goals}", goals).replace("{kind}", kind))


def checklist() -> Cell:
    return md("checklist", """
        ## Before you submit ✔

        1. Restart the kernel and run all cells: no errors, every visible test passes.
        2. No `raise NotImplementedError()` left, every "YOUR ANSWER HERE" replaced.
        3. Nothing slow left behind (a search over a huge grid, thousands of epochs): the grader
           stops notebooks that run too long, and a stopped notebook scores only the tests that
           finished.
        """)
