import json

import pandas as pd
import pytest

from nashlib.results import plotting


def _fig():
    fig, axes = plotting.subplots(1, 1)
    axes[0, 0].plot([1, 2], [3, 4])
    return fig


def test_save_figure_writes_png_csv_and_run_info(tmp_path):
    data = pd.DataFrame(dict(x=[1, 2], y=[3.5, 4.5]))
    paths = plotting.save_figure(_fig(), "demo", data, out_dir=tmp_path, profile="smoke", verdict="holds")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.csv", "demo.json", "demo.png"]
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pd.testing.assert_frame_equal(pd.read_csv(paths["csv"]), data)
    info = json.loads(paths["json"].read_text())
    assert info["profile"] == "smoke" and info["verdict"] == "holds" and "packages" in info


def test_only_cpu_profile_may_write_committed_figures():
    with pytest.raises(ValueError, match="profile 'smoke' may not write into .*figures"):
        plotting.save_figure(_fig(), "demo", pd.DataFrame(), out_dir=plotting.COMMITTED_FIGURES, profile="smoke")


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".hidden"])
def test_bad_figure_names(tmp_path, name):
    with pytest.raises(ValueError, match="figure name"):
        plotting.save_figure(_fig(), name, pd.DataFrame(), out_dir=tmp_path, profile="smoke")
    assert not any(tmp_path.iterdir())


def test_label_points_keeps_labels_apart():
    fig, axes = plotting.subplots()
    ax = axes[0, 0]
    xs, ys = [2.03, 2.05, 2.09, 2.12, 1.0], [63.4, 66.1, 65.4, 64.5, 74.2]  # Table 4's crowded points
    ax.scatter(xs, ys)
    ax.margins(x=0.25, y=0.2)
    notes = plotting.label_points(ax, xs, ys, ["none", "L0 0.3", "L0 0.6", "uniform 0.5", "teacher"])
    assert [n.get_text() for n in notes] == ["none", "L0 0.3", "L0 0.6", "uniform 0.5", "teacher"]
    assert len(ax.texts) == 5  # the rejected trial positions are removed
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [n.get_window_extent(renderer) for n in notes]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert plotting._overlap(a, b) == 0, (a, b)
    with pytest.raises(ValueError, match="2 xs, 2 ys and 1 labels; allowed: equal lengths"):
        plotting.label_points(ax, [1, 2], [1, 2], ["a"])
