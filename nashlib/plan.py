"""The bill before paying it: every model a profile's ``make figures`` trains, and an estimate of the hours.

    python -m nashlib.runner plan --profile paper [--only table1_nash_vs_baselines] [--measure]

:func:`jobs` lists the teachers, small dense baselines and pruned students each notebook trains, built with
the same library functions the notebooks call (``lineup.nash``, ``lineup.cofi``, ``variants.config``,
``lineup.small_config``), so that a model two notebooks share (Table 1's NASH-3 is Figure 8's and Table 3's)
is counted once, under the first notebook that needs it; the others load it from the on-disk cache.
It is an estimate, said plainly in what it prints:

- every teacher is assumed usable (the real rule, ``baselines.pruning_teachers``, needs the trained teacher);
- CoFi-T5's matched target depends on what NASH-3 reached, so it is one job per seed whatever the value;
- Table 3's strategies that pick the same layers share one student in the notebook (``same_layers``): the plan
  counts each strategy, an upper bound;
- hours count optimizer steps only (a pruning step includes the teacher's forward pass for distillation);
  scoring, generation and timing are left out.

:func:`measure_steps` times one dense training step and one pruning step (student with NASH's masks and the
teacher's forward pass) of each teacher shape at its batch and lengths, on the profile's device (on the CPU
when the profile wants CUDA and there is none, and it says so), interleaved, median of three. Without
``--measure`` the plan lists the jobs and steps only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from nashlib import settings
from nashlib.settings import Profile, TeacherConfig

__all__ = ["Job", "StepTimes", "jobs", "measure_steps", "measure", "render", "TABLE3_STRATEGIES", "TABLE4_ENCODERS"]

# The notebooks' own arms (their parameters cells and first cells); a test checks the counts against real runs.
TABLE3_STRATEGIES = ("uniform", "uniform-paper", "low", "high", "l0")  # table3_layer_selection, 2 decoder layers
TABLE4_ENCODERS = {"none": 0.0, "L0 0.3": 0.3, "L0 0.6": 0.6}  # table4_encoder_pruning, 4 decoder layers
TABLE10_DEPTHS = (2, 4, 6, 8)  # table10_shallow_decoders: depths below the teacher's
TABLE4_KEPT = (0.75, 0.5)  # table4's uniform 0.25 / 0.5: encoder layers kept, as shares of the teacher's


@dataclass(frozen=True)
class Job:
    notebook: str  # the first notebook (in run order) that trains it
    kind: str  # "teacher", "small dense", "shallow dense" or "student"
    task: str
    name: str  # e.g. "NASH-3, seed 2"
    steps: int  # optimizer steps: training (teachers), pruning + fine-tuning (students)
    teacher: TeacherConfig  # the teacher (or, for a small dense model, its own config) whose shape sets the cost
    key: object = None  # what makes two jobs the same run (a PruneConfig or TeacherConfig)


@dataclass(frozen=True)
class StepTimes:
    device: str  # where it was measured
    train_s: float  # one dense training step (forward, backward, AdamW) of the teacher's shape
    prune_s: float  # one pruning step: student with NASH's masks + the teacher's forward pass


def _teacher_jobs(p: Profile) -> list[Job]:
    from nashlib.experiments import lineup

    out = [Job("teachers", "teacher", t.task, f"teacher ({t.init})", t.steps, t, t) for t in p.teachers]
    for t in p.teachers:
        if not p.pruning_tasks or t.task in p.pruning_tasks:
            small = lineup.small_config(t)
            out.append(Job("teachers", "small dense", t.task, f"small dense ({small.init})", small.steps, small, small))
    return out


def _student(notebook: str, t: TeacherConfig, name: str, cfg, p: Profile, recipe_of: str | None = None) -> Job:
    """A student of teacher ``t``; its fine-tuning steps from the recipe of ``recipe_of`` (default: ``t``'s task)."""
    steps = cfg.steps + p.recipe(recipe_of or t.task).finetune_steps
    return Job(notebook, "student", t.task, name, steps, t, (t, cfg))


def _small(notebook: str, t: TeacherConfig, seed: int) -> Job:
    from nashlib.experiments import lineup

    small = dataclasses.replace(lineup.small_config(t), seed=seed)
    return Job(notebook, "small dense", t.task, f"small dense ({small.init}), seed {seed}", small.steps, small, small)


def _table1(p: Profile, t: TeacherConfig, nb: str = "table1_nash_vs_baselines", seeds=None) -> list[Job]:
    from nashlib.experiments import lineup

    R, out = p.recipe(t.task), []
    for s in R.paired_seeds if seeds is None else seeds:
        out += [_small(nb, t, s)] if seeds is None else []
        out += [_student(nb, t, f"{k}, seed {s}", c, p) for k, c in lineup.nash_lineup(R, seed=s).items()
                if seeds is None or k == "NASH-3"]
        # CoFi-T5's target is NASH-3's reached sparsity, known only then: one job per seed, its cost alike
        out.append(_student(nb, t, f"CoFi-T5 (matched to NASH-3), seed {s}", lineup.cofi(0.5, R, seed=s), p))
    return out


def _fig8(p: Profile, t: TeacherConfig) -> list[Job]:
    from nashlib.experiments import lineup

    R, nb = p.recipe(t.task), "fig8_cofi_instability"
    return [job for s in R.seeds for job in (
        _student(nb, t, f"CoFi-T5 {R.high_sparsity:g}, seed {s}", lineup.cofi(R.high_sparsity, R, seed=s), p),
        _student(nb, t, f"NASH-3, seed {s}", lineup.nash(3, R, seed=s), p))]


def _table3(p: Profile, t: TeacherConfig) -> list[Job]:
    from nashlib.experiments import lineup

    R = p.recipe(t.task)
    return [_student("table3_layer_selection", t, f"NASH-2 {k}, seed {s}", lineup.nash(2, R, selection=k, seed=s), p)
            for s in R.paired_seeds for k in TABLE3_STRATEGIES]


def _table4(p: Profile, t: TeacherConfig) -> list[Job]:
    from nashlib.experiments import lineup

    R, nb, out = p.recipe(t.task), "table4_encoder_pruning", []
    kept = sorted({max(1, round(share * t.encoder_layers)) for share in TABLE4_KEPT} - {t.encoder_layers})
    for s in R.paired_seeds:
        out += [_student(nb, t, f"NASH-4 {k}, seed {s}", lineup.nash(4, R, sparsity=v, seed=s), p)
                for k, v in TABLE4_ENCODERS.items()]
        out += [_student(nb, t, f"NASH-4, {n} encoder layers, seed {s}",
                         lineup.nash(4, R, sparsity=0.0, encoder_layers=n, seed=s), p) for n in kept]
    return out


def _decoder_depth(t: TeacherConfig) -> int:
    """The teacher's decoder depth: its own for scratch, the published shape's for a known hub name (else 12)."""
    from nashlib import shapes

    if t.init == "scratch":
        return t.decoder_layers
    known = shapes.SHAPES.get(t.init.removeprefix("google-t5/"))
    return known.num_decoder_layers if known is not None else 12


def _table10(p: Profile, t: TeacherConfig) -> list[Job]:
    from nashlib.experiments import lineup, shallow

    nb, out, R = "table10_shallow_decoders", [], p.recipe(t.task)
    for d in (d for d in TABLE10_DEPTHS if d < _decoder_depth(t)):
        dense = shallow.shallow_config(t, d)
        if dense is not None:
            out.append(Job(nb, "shallow dense", t.task, f"dense {d}-layer ({dense.init})", dense.steps, dense, dense))
        out += [_student(nb, t, f"NASH-{d}, seed {s}", lineup.nash(d, R, seed=s), p) for s in R.paired_seeds]
    return out


def _variants(p: Profile, t: TeacherConfig) -> list[Job]:
    from nashlib.experiments import generation, variants

    if not generation.is_generation(t.task):  # the notebook's GENERATION_ONLY default
        return []
    R = p.recipe(t.task)
    return [_student("variants_paper_vs_released", t, f"{v.name}, seed {s}", variants.config(v, R, s), p)
            for s in R.paired_seeds for v in variants.VARIANTS]


def _table11(p: Profile, t: TeacherConfig) -> list[Job]:
    """Per NLU teacher ``t`` and seed: the small dense model, NASH-2 and CoFi-T5 matched to NASH-2's reached sparsity
    (unknown until then: a placeholder target, distinct from the NASH-3-matched one, its cost alike)."""
    from nashlib.experiments import lineup

    R, nb = p.recipe(t.task), "table11_nlu"
    return [job for s in R.paired_seeds for job in (
        _small(nb, t, s), _student(nb, t, f"NASH-2, seed {s}", lineup.nash(2, R, seed=s), p),
        _student(nb, t, f"CoFi-T5 (matched to NASH-2), seed {s}", lineup.cofi(0.55, R, seed=s), p))]


def _first_structures(p: Profile, t: TeacherConfig, nb: str) -> list[Job]:
    """What ``speed.mapped.table1_students`` trains: NASH-2/3/4 and the NASH-3-matched CoFi-T5 at the first seed."""
    from nashlib.experiments import lineup

    R = p.recipe(t.task)
    s = R.paired_seeds[0]
    return [_student(nb, t, f"{k}, seed {s}", c, p) for k, c in lineup.nash_lineup(R, seed=s).items()] + [
        _student(nb, t, f"CoFi-T5 (matched to NASH-3), seed {s}", lineup.cofi(0.5, R, seed=s), p)]


def _table2(p: Profile, t: TeacherConfig) -> list[Job]:
    """Per Dolly teacher ``t`` and seed: the small dense model and NASH-2/3/4 (``experiments.instruct``)."""
    from nashlib.experiments import lineup

    R, nb = p.recipe(t.task), "table2_instruction_tuning"
    return [job for s in R.paired_seeds for job in (
        _small(nb, t, s), *(_student(nb, t, f"NASH-{d}, seed {s}", lineup.nash(d, R, seed=s), p) for d in (2, 3, 4)))]


def _fig2_sweeps(p: Profile, t: TeacherConfig) -> list[Job]:
    """Per pruning task and seed: every arm of Figure 2's four quality curves (``experiments.partwise``)."""
    from nashlib.experiments import partwise

    R = p.recipe(t.task)
    return [_student("fig2_quality_sweeps", t, f"{arm}, seed {s}", cfg, p) for s in R.paired_seeds
            for arm, cfg in partwise.configs(R, s, p.sweep_points).items()]


def _fig7(p: Profile, t: TeacherConfig) -> list[Job]:
    """Per mixture of the notebook's first 1..K tasks (``experiments.multitask``; ``t`` is the first task's teacher):
    its teacher (the first task's own for one task), and per seed the small dense model and NASH-3."""
    from nashlib.experiments import lineup, multitask

    nb, names, out = "fig7_multitask", p.tasks_for("fig7_multitask"), []
    names = [n for n in names if n in p.tasks] if names else [t.task]
    for mix in multitask.mixes(names):
        m, R = multitask.teacher_config(p, mix), p.recipe(names[0])
        if mix != names[0]:
            out.append(Job(nb, "teacher", mix, f"teacher ({m.init}) of the mixture", m.steps, m, m))
        out += [job for s in R.paired_seeds for job in (
            _small(nb, m, s), _student(nb, m, f"NASH-3, seed {s}", lineup.nash_lineup(R, seed=s)["NASH-3"], p, names[0]))]
    return out


# what each notebook trains beyond the teachers, per pruning task (jobs() walks them in the runner's order)
_NEEDS = {
    "fig2_quality_sweeps": _fig2_sweeps,
    "fig6_pruned_structure": lambda p, t: _table1(p, t, "fig6_pruned_structure",
                                                  seeds=p.recipe(t.task).paired_seeds[:1]),
    "fig8_cofi_instability": _fig8,
    "table1_nash_vs_baselines": _table1,
    "table3_layer_selection": _table3,
    "table4_encoder_pruning": _table4,
    "table10_shallow_decoders": _table10,
    "teachers": lambda p, t: [_small("teachers", t, t.seed)],
    "variants_paper_vs_released": _variants,
}
_NEEDS_NLU = {"table11_nlu": _table11}  # per NLU teacher (its own tasks), then Table 1's structures it rebuilds
_NEEDS_DOLLY = {"table2_instruction_tuning": _table2}  # per Dolly teacher, then Table 1's structures it rebuilds
_NEEDS_FIRST = {"fig7_multitask": _fig7}  # once, given the notebook's first task (its mixtures start with it)


def jobs(p: Profile | str, only: Sequence[str] = ()) -> list[Job]:
    """Every training job of ``p``'s notebooks (``only``: of those), each once, under the first notebook (in run
    order) that trains it; the teachers, which every pruning notebook needs, first."""
    p = settings.get(p) if isinstance(p, str) else p

    def pruned(name: str) -> list[TeacherConfig]:  # the notebook's tasks (settings.notebook_overrides)
        chosen = p.tasks_for(name)
        return [t for t in p.teachers if not chosen or t.task in chosen]
    from nashlib.data import tasks
    from nashlib.experiments.nlu import NLU_KINDS

    nlu = [t for t in p.teachers if tasks.get(t.task).kind in NLU_KINDS]
    own = {**{k: nlu for k in _NEEDS_NLU}, **{k: [t for t in p.teachers if t.task == "dolly"] for k in _NEEDS_DOLLY}}
    needed, rest = set(), []  # the teachers the selected notebooks train (every one: the teachers notebook)
    for name, needs in sorted({**_NEEDS, **_NEEDS_NLU, **_NEEDS_DOLLY, **_NEEDS_FIRST}.items()):  # the runner's order
        if not only or name in only:
            chosen = pruned(name)  # its first task: whose structures Tables 2 and 11 rebuild at T5-base's shape
            mine = chosen[:1] if name in _NEEDS_FIRST else own.get(name, chosen)
            firsts = chosen[:1] if name in own else []
            needed |= {t.task for t in (p.teachers if name == "teachers" else [*mine, *firsts])}
            rest += [job for t in mine for job in needs(p, t)]
            rest += _first_structures(p, chosen[0], name) if firsts else []
    everything = [Job("teachers", "teacher", t.task, f"teacher ({t.init})", t.steps, t, t) for t in p.teachers
                  if not only or t.task in needed] + rest
    seen, out = set(), []
    for j in everything:
        if j.key not in seen:
            seen.add(j.key)
            out.append(j)
    return out


def _model(t: TeacherConfig):
    """A randomly initialised model of ``t``'s shape: scratch shapes from the config, hub names by their config."""
    import torch
    from transformers import AutoConfig, AutoModelForSeq2SeqLM, T5ForConditionalGeneration

    from nashlib import shapes

    torch.manual_seed(0)
    if t.init == "scratch":  # the teachers' own shape (experiments.teachers builds it the same way)
        return T5ForConditionalGeneration(shapes.t5_config(shapes.Shape(
            t.d_model, t.d_kv, t.num_heads, t.d_ff, t.encoder_layers, t.decoder_layers, t.vocab_size)))
    name = t.init.removeprefix("google-t5/")
    if name in shapes.SHAPES:
        return shapes.build_t5(name)
    return AutoModelForSeq2SeqLM.from_config(AutoConfig.from_pretrained(t.init))  # a folder, or the hub


def _step_calls(t: TeacherConfig, device: str, student_batch: int) -> dict:
    import torch

    from nashlib.pruning.masks import PruningMasks

    teacher, student = _model(t).to(device).eval(), _model(t).to(device).train()
    g = torch.Generator().manual_seed(0)
    vocab = student.config.vocab_size

    def rows(n):
        return dict(input_ids=torch.randint(2, vocab, (n, t.max_source_len), generator=g).to(device),
                    labels=torch.randint(2, vocab, (n, t.max_target_len), generator=g).to(device))
    batch, student_rows = rows(t.batch), rows(student_batch)
    masks = PruningMasks(student, types=("heads", "ffn_units"), parts=("encoder",)).to(device).train()
    dense_opt = torch.optim.AdamW(student.parameters(), lr=1e-5)
    prune_opt = torch.optim.AdamW(list(student.parameters()) + list(masks.parameters()), lr=1e-5)

    def train():
        student(**batch).loss.backward()
        dense_opt.step()
        dense_opt.zero_grad(set_to_none=True)

    def prune():
        with torch.no_grad():
            teacher(**student_rows)  # the distillation targets
        masks.attach()
        (student(**student_rows).loss + masks.expected_sparsity("encoder")).backward()
        prune_opt.step()
        prune_opt.zero_grad(set_to_none=True)
        masks.detach()
    return {"train": train, "prune": prune}


def measure_steps(p: Profile, t: TeacherConfig, *, repeats: int = 3) -> StepTimes:
    """Median seconds of one training step of ``t`` (its shape, batch and lengths) and of one pruning step of a
    student of it (``p.recipe(t.task).batch``), interleaved (see above)."""
    import torch

    from nashlib.speed import timing

    device = "cuda" if p.device == "cuda" and torch.cuda.is_available() else "cpu"
    calls = _step_calls(t, device, p.recipe(t.task).batch)
    summary = timing.summarize(timing.measure(calls, warmup=1, repeats=repeats, device=device))
    median = dict(zip(summary.config, summary.wall_median_s))
    return StepTimes(device, float(median["train"]), float(median["prune"]))


def _shape_key(t: TeacherConfig) -> TeacherConfig:
    return dataclasses.replace(t, seed=0)  # the seed changes the numbers, not the cost


def measure(p: Profile | str, only: Sequence[str] = (), *, repeats: int = 3) -> dict[TeacherConfig, StepTimes]:
    """:func:`measure_steps` for every model shape the plan trains (teachers and small dense models)."""
    p = settings.get(p) if isinstance(p, str) else p
    keys = dict.fromkeys(_shape_key(j.teacher) for j in jobs(p, only))
    return {k: measure_steps(p, k, repeats=repeats) for k in keys}


def _duration(hours: float) -> str:
    return f"{hours:.1f} hours" if hours >= 1 else f"{hours * 60:.1f} minutes"


def render(p: Profile | str, only: Sequence[str] = (), times: dict[TeacherConfig, StepTimes] | None = None) -> str:
    """The plan as text: models and steps per notebook, kind and task, then totals (hours when ``times`` are given:
    :func:`measure`)."""
    import pandas as pd

    p = settings.get(p) if isinstance(p, str) else p
    rows = []
    for j in jobs(p, only):
        row = dict(notebook=j.notebook, kind=j.kind, task=j.task, models=1, steps=j.steps)
        if times is not None:
            st = times[_shape_key(j.teacher)]
            row["hours"] = j.steps * (st.prune_s if j.kind == "student" else st.train_s) / 3600
        rows.append(row)
    data = pd.DataFrame(rows).groupby(["notebook", "kind", "task"], sort=False, as_index=False).sum()
    R = p.student
    lines = [f"profile {p.name} ({p.description})",
             f"students: paired seeds {list(R.paired_seeds)}, Figure 8: {len(R.seeds)} seeds; teachers: at most their "
             "steps (early stopping may end them sooner)",
             *(f"  {task}: {p.recipe(task).describe()}" for task in dict.fromkeys(data.task)), "",
             data.to_string(index=False, float_format=lambda v: f"{v:.2f}"), "",
             f"total: {int(data.models.sum())} models, {int(data.steps.sum()):,} optimizer steps"
             + ("" if times is None else f", about {_duration(data.hours.sum())}")]
    for k, st in (times or {}).items():
        lines.append(f"  {k.task} {k.init if k.init != 'scratch' else f'scratch d_model {k.d_model}'}: training "
                     f"step {st.train_s:.3f} s (batch {k.batch}), pruning step {st.prune_s:.3f} s "
                     f"(batch {p.recipe(k.task).batch}), "
                     f"measured on {st.device}")
    if times and any(st.device != p.device for st in times.values()):
        lines.append(f"  the profile runs on {p.device}; there is none here, so the steps were timed on the CPU")
    lines.append("An estimate (nashlib.plan): every teacher assumed usable; Table 3's strategies that pick the same "
                 "layers counted apart (an upper bound); scoring, generation and timing left out.")
    return "\n".join(lines)
