"""The example of the guide's Python page (docs/guide/python.md), run as written but
with fewer steps: it trains, compares and plots."""

import re

from conftest import ROOT

GUIDE = ROOT / "docs" / "guide" / "python.md"


def example_code() -> str:
    """The ``python`` blocks of the page's example section, in order."""
    page = GUIDE.read_text("utf-8")
    section = page.split("## Example: two experiments compared", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 3, f"the example of {GUIDE} has {len(blocks)} python blocks"
    return "\n".join(blocks)


def test_the_guide_example_trains_two_experiments_compares_and_plots(tmp_path, monkeypatch, capsys):
    code = example_code()
    assert "STEPS = 3000" in code
    code = code.replace("STEPS = 3000", "STEPS = 40")
    (tmp_path / "experiments").symlink_to(ROOT / "experiments")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    scope: dict = {}
    exec(compile(code, str(GUIDE), "exec"), scope)

    accuracy = scope["test_accuracy"]
    assert sorted(accuracy["point"]) == ["cls_mlm", "cls_only"]
    assert set(accuracy["seeds"]) == {3}
    paired = scope["table"].attrs["paired"]
    assert list(paired["point"]) == ["cls_mlm"] and list(paired["against"]) == ["cls_only"]
    assert paired["p_value"].between(0, 1).all()
    # 40 steps, an evaluation every 2: 20 points per run, six runs.
    assert len(scope["valid"]) == 6 * 20
    figure = tmp_path / "cls_accuracy.png"
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "cls_mlm" in printed and "p_value" in printed
