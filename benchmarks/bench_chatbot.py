"""The chatbot of lecture 13: intent accuracy and macro-F1 on the held-out split, and training time.

Runs ``lectures/13_chatbot.ipynb`` in the sandbox (bubblewrap where it can, two CPU cores)
in smoke mode (2 epochs) and, unless ``--quick``, in full mode (20 epochs), and reads the
figures the notebook prints in its ``metrics`` cell.  The comparison for accuracy and F1 is
the lecture's own linear baseline (TF-IDF character n-grams + a linear SVM) measured in the
same run on the same split; for training time, that baseline's fit.  There is no target:
these are the figures the lecture's prose quotes, for people.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Row  # noqa: E402

METRICS = re.compile(r"^CHATBOT_METRICS (\{.*\})$", re.M)


def lecture_metrics(smoke: bool, backend: str, output: Path) -> tuple[dict, float]:
    """The lecture's metrics and its wall time in the sandbox, two cores."""
    import nbformat

    from coursebench.execution import Limits
    from coursebench.lectures import discover, run_lectures, select

    lecture = select(discover(), ["13"])
    limits = Limits(timeout=900 if smoke else 1800, memory="3G", cpus=2.0, pids=512)
    (result,) = run_lectures(lecture, smoke=smoke, output=output, backend=backend, workers=1, limits=limits)
    if not result.ok:
        raise RuntimeError(f"lecture 13 failed ({result.status}) at cell {result.failed_cell}: {result.ename}: {result.evalue}")
    executed = nbformat.read(str(output / f"{lecture[0].name}.ipynb"), as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    found = METRICS.search(printed)
    if not found:
        raise RuntimeError("lecture 13 ran but printed no CHATBOT_METRICS line")
    return json.loads(found.group(1)), result.wall_time


def run(quick: bool) -> list[Row]:
    from coursebench.execution import availability

    backend = "bwrap" if availability("bwrap")[0] else "auto"
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-chatbot-") as tmp:
        for smoke in (True,) if quick else (True, False):
            mode = "smoke" if smoke else "full"
            m, wall = lecture_metrics(smoke, backend, Path(tmp) / mode)
            where = f"{mode}, {m['epochs']} epochs, {m['test_utterances']} held-out utterances"
            rows += [
                Row(f"chatbot held-out accuracy ({mode})", m["accuracy"], m["baseline_accuracy"], unit="",
                    note=f"Keras subword classifier vs TF-IDF + linear SVM; {where}; "
                         f"en {m['accuracy_en']:.3f}, ko {m['accuracy_ko']:.3f} (ko with word tokens "
                         f"{m['word_tokens_accuracy_ko']:.3f})"),
                Row(f"chatbot macro-F1 ({mode})", m["macro_f1"], m["baseline_macro_f1"], unit="",
                    note=f"same models; {where}"),
                Row(f"chatbot training time, 2 cores ({mode})", m["train_seconds"], m["baseline_train_seconds"],
                    note=f"Keras fit of {m['train_utterances']} utterances vs the SVM's fit; the whole notebook "
                         f"took {wall:.0f} s in the sandbox ({backend})"),
                Row(f"chatbot fallback ({mode})", m["answered_accuracy"], m["accuracy"], unit="",
                    note=f"accuracy of the answered utterances vs all; answers {m['coverage']:.0%}, asks back on "
                         f"{m['oos_fallback']:.0%} of out-of-scope ones; FAQ retrieval hit@3 "
                         f"{m['retrieval_hit_at_3']:.0%}"),
            ]
    return rows
