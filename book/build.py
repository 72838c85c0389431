"""Build the static site of the executed notebooks (Jupyter Book 1, offline): ``make site`` calls this.

    python book/build.py --profile cpu      # figures/ and build/notebooks/cpu/  ->  build/site/cpu/html/
    python book/build.py --profile smoke    # build/figures/smoke/ and build/notebooks/smoke/ (what the test uses)

The site is made of what a run left behind, never re-executed: the executed notebooks the runner keeps
under ``build/notebooks/<profile>/``, the profile's figures folder (PNG, REPORT.md), and the README. A
landing page maps each paper artefact to its notebook, its verdict and its figure, read from the run-info
JSON beside each figure (``nashlib.results.report.collect``), so it states nothing a notebook did not.
Nothing is fetched: no MathJax, no require.js, no launch buttons; the test opens the site in headless
Chromium and fails on any request that leaves the machine.
"""

from __future__ import annotations

import argparse
import html
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the checkout's nashlib, also when run as a script

from nashlib import runner  # noqa: E402
from nashlib.results import report  # noqa: E402

FIRST = "nash_annotated"  # the teaching notebook comes first: the method before the findings

CONFIG = {
    "title": "nash-companion",
    "author": "nash-companion",
    "copyright": "the nash-companion authors",
    "only_build_toc_files": True,
    "execute": {"execute_notebooks": "off"},  # the pages show what the run computed
    "html": {"use_repository_button": False, "use_issues_button": False, "use_edit_page_button": False,
             "use_multitoc_numbering": False},
    "launch_buttons": {"binderhub_url": "", "jupyterhub_url": "", "colab_url": "", "thebe": False},
    "parse": {"myst_enable_extensions": ["colon_fence"]},  # no dollarmath: no page needs MathJax
    "sphinx": {"config": {"html_js_files": [],  # Jupyter Book 1 adds require.js from a CDN by default
                          "html_extra_path": ["_extra"],  # the figures, copied as they are (the landing page's thumbnails)
                          "html_show_sourcelink": False,
                          "nb_merge_streams": True,
                          "nb_output_stderr": "remove"}},  # progress bars; the executed .ipynb keeps them
}


def sources(profile: str) -> tuple[Path, Path, list[str]]:
    """The figures folder, the executed notebooks' folder and the notebooks found there, or a clear error."""
    figures = runner.default_out_dir(profile)
    executed = runner.BUILD_DIR / "notebooks" / profile
    names = [n for n in runner.available() if (executed / f"{n}.ipynb").exists()]
    if not names:
        raise SystemExit(f"no executed notebooks in {executed}; run `make figures PROFILE={profile}` first")
    if not (figures / "REPORT.md").exists():
        raise SystemExit(f"no {figures / 'REPORT.md'}; run `make figures PROFILE={profile}` first")
    names.sort(key=lambda n: (n != FIRST, n))
    return figures, executed, names


def landing(profile: str, figures: Path, names: list[str]) -> str:
    """index.md: every paper artefact with its notebook page, verdict and figure; then the other notebooks."""
    rows = report.collect(figures)
    lines = [f"# nash-companion: the executed notebooks ({profile} profile)", "",
             "A runnable companion to *NASH: A Simple Unified Framework of Structured Pruning for Accelerating "
             "Encoder-Decoder Language Models* (Ko et al., 2023). Each row is a finding of the paper, the notebook "
             "that tests it, the verdict that notebook computed from its own numbers, and its figure." +
             (f" New to structured pruning? Start with [NASH, annotated](notebooks/{FIRST}.ipynb): the method "
              "step by step, on the library's real code." if FIRST in names else ""), "",
             "| paper | claim | verdict | notebook | figure |", "|---|---|---|---|---|"]
    for r in rows:
        verdict = f"**{r.verdict}**" + (" (stale)" if r.stale else "")
        thumb = (f'<a href="figures/{r.figure}.png"><img src="figures/{r.figure}.png" width="160" '
                 f'alt="{html.escape(r.figure)}"></a>') if (figures / f"{r.figure}.png").exists() else "none"
        page = f"[{r.figure}](notebooks/{r.figure}.ipynb)" if r.figure in names else f"{r.figure} (not run)"
        lines.append(f"| {r.finding} | {report._cell(r.claim)} | {verdict} | {page} | {thumb} |")
    others = [n for n in names if n not in {r.figure for r in rows}]
    if others:
        lines += ["", "Notebooks without a verdict (the method, set-up): " +
                  ", ".join(f"[{n}](notebooks/{n}.ipynb)" for n in others) + "."]
    lines += ["", "Every verdict with its numbers: [REPORT](figures/REPORT.md). How to run it all: "
              "[the README](readme.md)."]
    return "\n".join(lines) + "\n"


def toc(names: list[str]) -> dict:
    return {"format": "jb-book", "root": "index", "parts": [
        {"caption": "Results", "chapters": [{"file": "figures/REPORT"}, {"file": "readme"}]},
        {"caption": "Notebooks", "chapters": [{"file": f"notebooks/{n}"} for n in names]}]}


def stage(profile: str, src: Path) -> list[str]:
    """Copy what the site shows into ``src`` and write its config, table of contents and landing page."""
    figures, executed, names = sources(profile)
    shutil.rmtree(src, ignore_errors=True)
    (src / "notebooks").mkdir(parents=True)
    shutil.copytree(figures, src / "figures", ignore=shutil.ignore_patterns("*.json", "*.csv"))
    shutil.copytree(figures, src / "_extra" / "figures", ignore=shutil.ignore_patterns("*.json", "*.csv", "*.md"))
    for n in names:
        shutil.copy2(executed / f"{n}.ipynb", src / "notebooks" / f"{n}.ipynb")
    shutil.copy2(REPO / "README.md", src / "readme.md")
    (src / "index.md").write_text(landing(profile, figures, names))
    (src / "_config.yml").write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    (src / "_toc.yml").write_text(yaml.safe_dump(toc(names), sort_keys=False))
    return names


def build(profile: str, out: Path) -> Path:
    """Stage and build; the HTML folder. Fails (non-zero exit of jupyter-book) on a broken build."""
    src = out / "src"
    stage(profile, src)
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", str(src), "--path-output", str(out), "--warningiserror",
           "--quiet"]
    subprocess.run(cmd, check=True)
    return out / "_build" / "html"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--out", default=None, help="default: build/site/<profile>")
    args = ap.parse_args(argv)
    out = Path(args.out) if args.out else runner.BUILD_DIR / "site" / args.profile
    print(build(args.profile, out.resolve()) / "index.html")


if __name__ == "__main__":
    main()
