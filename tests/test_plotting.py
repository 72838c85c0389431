import json

import pandas as pd
import pytest

from nashlib import plotting


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
