"""Numbers printed in the paper (Ko et al. 2023, arXiv 2310.10054), quoted for comparison.

Only what the paper states is here; every notebook prints these beside its own measurements.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["TABLE1", "TABLE1_DATASETS", "table1", "FIGURE4_LN_DROPOUT_SHARE", "SPEED_PROTOCOL", "TABLE3",
           "TABLE3_DATASETS", "TABLE3_L0_LAYERS", "TABLE4", "TABLE4_DATASETS", "FIGURE8", "TABLE11", "TABLE11_DATASETS",
           "TABLE2", "TABLE2_DATASETS", "TABLE2_COLUMNS", "TABLE5", "TABLE5_MODELS", "TABLE5_COLUMNS", "TABLE6",
           "TABLE6_COLUMNS", "TABLE6_APPROX", "TABLE10", "TABLE10_DL", "TABLE10_COLUMNS", "FIGURE7", "FIGURE10",
           "FIGURE2_SPARSITIES", "FIGURE2", "PAPER_SETTINGS"]

# Table 1: quality (METEOR for TweetQA, ROUGE-L otherwise) and generation speedup against T5-Base.
TABLE1 = {
    #            TweetQA        XSum           SAMSum         CNN/DailyMail
    "T5-Base": [(57.16, 1.00), (28.66, 1.00), (43.33, 1.00), (37.47, 1.00)],
    "T5-Small": [(51.42, 1.92), (25.04, 1.96), (38.14, 2.14), (35.59, 2.11)],
    "CoFi-T5": [(49.99, 1.42), (25.04, 1.12), (37.35, 1.45), (34.71, 1.53)],
    "NASH-2": [(48.03, 4.02), (26.96, 3.74), (38.89, 5.53), (33.70, 4.91)],
    "NASH-3": [(50.77, 2.99), (28.20, 2.42), (41.09, 4.24), (36.02, 3.37)],
    "NASH-4": [(55.08, 2.52), (28.64, 1.64), (41.34, 2.99), (36.78, 2.69)],
}
TABLE1_DATASETS = ("TweetQA", "XSum", "SAMSum", "CNN/DailyMail")

# Figure 4's caption: layer normalisation and dropout take 20-25 % of T5-base inference time.
FIGURE4_LN_DROPOUT_SHARE = (0.20, 0.25)

# Appendix F: RTX 3090 + AMD EPYC 7502, batch 32, beam 4, all decoding steps until completion.
SPEED_PROTOCOL = "RTX 3090 GPU, batch 32, beam 4, decoding until completion (Appendix F)"


# Table 3: two-layer decoder, layer selection strategies (accuracy for RTE/BoolQ/CB, ROUGE-L SAMSum, METEOR
# TweetQA). The L0 row "failed to achieve the target sparsity" on all but BoolQ (gray in the paper).
TABLE3_DATASETS = ("RTE", "BoolQ", "CB", "SAMSum", "TweetQA")
TABLE3 = {
    "uniform": (76.17, 79.51, 91.07, 47.37, 52.74),
    "low": (75.81, 79.82, 89.29, 46.14, 49.70),
    "high": (75.45, 78.99, 87.50, 39.45, 47.40),
    "l0": (78.70, 79.20, 92.86, 48.52, 56.41),
}
# remaining self-attention, cross-attention and FFN layers of the L0 selection, per dataset
TABLE3_L0_LAYERS = ((2, 4, 2), (0, 3, 2), (4, 7, 4), (6, 7, 5), (11, 10, 8))

# Table 4: T5-base with a uniform 4-layer decoder; encoder pruning strategies: (quality, speedup) per dataset
TABLE4_DATASETS = ("RTE", "SAMSum", "TweetQA")
TABLE4 = {
    "none": ((77.97, 2.12), (41.06, 2.78), (54.73, 2.42)),
    "uniform 0.25": ((74.36, 2.35), (40.42, 2.86), (53.62, 2.55)),
    "uniform 0.5": ((71.84, 2.59), (39.36, 2.94), (49.62, 2.68)),
    "L0 0.3": ((78.70, 2.24), (41.34, 2.99), (55.08, 2.52)),
    "L0 0.6": ((76.89, 2.61), (40.49, 3.12), (49.48, 2.75)),
}

# Figure 8 / Appendix A: CoFi-T5 at 90 % target sparsity, 20 seeds. Only a figure; the text states:
FIGURE8 = ("CoFi-T5 (T5-base, target 0.9, 20 seeds) misses its target: RTE runs mostly over-prune, SAMSum runs all "
           "under-prune, and quality varies more across seeds than BERT's under CoFi")


# Table 11 (Appendix G.2): GLUE / SuperGLUE accuracy (MCC for CoLA, Pearson for STS-B) and speedup against
# T5-Base; NASH with two decoder layers. The one place the paper reports SST-2.
TABLE11_DATASETS = ("QNLI", "SST-2", "CoLA", "MRPC", "RTE", "STS-B", "BoolQ", "WiC", "COPA", "CB")
TABLE11 = {
    "T5-Base": [(93.26, 1.0), (95.53, 1.0), (63.14, 1.0), (89.71, 1.0), (78.70, 1.0), (90.85, 1.0), (79.45, 1.0),
                (72.57, 1.0), (70.00, 1.0), (91.07, 1.0)],
    "T5-Small": [(91.03, 2.5), (92.32, 2.8), (44.93, 2.5), (88.73, 2.4), (68.95, 2.3), (89.27, 2.6), (75.87, 3.0),
                 (69.28, 2.0), (55.00, 2.0), (82.14, 2.6)],
    "CoFi-T5": [(87.88, 2.1), (91.28, 2.1), (42.92, 2.0), (75.74, 2.1), (66.96, 1.7), (86.49, 1.9), (78.69, 2.0),
                (68.97, 2.0), (65.00, 2.2), (87.50, 2.2)],
    "NASH-2": [(91.19, 3.0), (92.74, 2.8), (56.56, 3.0), (86.27, 3.3), (76.17, 3.0), (90.39, 2.9), (79.51, 2.9),
               (71.16, 2.6), (69.00, 3.0), (89.29, 2.7)],
}


def table1() -> pd.DataFrame:
    """Table 1 as a tidy frame: model, dataset, quality, speedup."""
    rows = [dict(model=m, dataset=d, quality=q, speedup=s)
            for m, vals in TABLE1.items() for d, (q, s) in zip(TABLE1_DATASETS, vals)]
    return pd.DataFrame(rows)


# Table 2 (Sec. 5.2, "Instruction Tuning"): T5 models tuned on databricks-dolly-15k (14k train / 1k eval split,
# following Gu et al. 2023), evaluated on three instruction-following sets. Per set, three columns:
#   GPT Eval - GPT-4 judge (Appendix E): ratio of the summed 1-10 GPT-4 scores of the model's responses to those
#              of the reference answers; printed as a number like 61.32 (the scale, apparently x100, is not stated)
#   ROUGE-L  - ROUGE-L
#   Speedup  - against T5-Base
# NASH-L = NASH with L decoder layers. Appendix E prints no further GPT-4 numbers (only the method and the prompt,
# Figure 9), so the GPT Eval columns here are the only GPT-4 judge numbers in the paper.
TABLE2_DATASETS = ("Dolly", "Self-Instruct", "Vicuna")  # "Dolly Evaluation", "Self-Instruct", "Vicuna Evaluation"
TABLE2_COLUMNS = ("gpt4_eval", "rouge_l", "speedup")
TABLE2 = {
    #            Dolly                  Self-Instruct          Vicuna
    "T5-Base": [(61.32, 32.53, 1.00), (40.15, 14.20, 1.00), (59.26, 20.47, 1.00)],
    "T5-Small": [(47.03, 29.29, 1.96), (29.82, 11.67, 1.91), (34.98, 17.40, 2.21)],
    "NASH-2": [(41.28, 28.09, 5.15), (26.74, 10.58, 5.27), (45.53, 20.09, 5.90)],
    "NASH-3": [(52.82, 30.87, 3.62), (32.18, 11.91, 3.79), (50.59, 21.07, 4.24)],
    "NASH-4": [(56.85, 31.43, 2.67), (36.44, 13.01, 2.94), (54.21, 21.83, 3.17)],
}


# Table 5 (Sec. 5.3, "NASH on Different LMs"): SAMSum on deeper T5-Small-efficient models (Tay et al. 2021);
# "NL 16/20/24" = number of layers of the unpruned model. Per model, two columns: R-L (ROUGE-L) and Speedup
# (against "Base", the unpruned deep model of that column). Rows as printed: "Base", "CoFi-T5*" (the asterisk is
# not explained in the markdown), "NASH (2 DL)" -> "NASH-2", "NASH (4 DL)" -> "NASH-4" (DL = decoder layers).
TABLE5_MODELS = ("NL 16", "NL 20", "NL 24")
TABLE5_COLUMNS = ("rouge_l", "speedup")
TABLE5 = {
    #           NL 16          NL 20          NL 24
    "Base": [(41.31, 1.0), (41.73, 1.0), (41.83, 1.0)],
    "CoFi-T5": [(33.53, 1.6), (35.87, 1.6), (36.65, 1.5)],
    "NASH-2": [(36.50, 4.6), (35.45, 5.2), (35.29, 5.9)],
    "NASH-4": [(39.05, 3.6), (38.66, 3.8), (38.25, 4.3)],
}


# Table 6 (Sec. 5.3, "Comparison with Tao et al. (2023)"): BART-Base on CNN/DailyMail, NASH vs SIMPLE (Tao et al.
# 2023, numbers taken by the paper from the original work; "50%" / "27%" are SIMPLE's sparsities).
# Rows: ROUGE-L; Speedup (against BART-Base); # Params in millions (printed "139M", "80M", ... without "M").
# Speedup cells: SIMPLE 50% is printed "~1.5×" (approximate; stored as 1.5); the SIMPLE 27% cell is EMPTY in the
# markdown -- probably one merged cell "~1.5×" spanning both SIMPLE columns (the text: "SIMPLE reaches a maximum
# of 1.5 times on the GPU"), but that is not certain, so it is None.
TABLE6_COLUMNS = ("BART-Base", "NASH-2", "NASH-3", "SIMPLE 50%", "SIMPLE 27%")
TABLE6 = {
    "rouge_l": (41.68, 40.87, 41.14, 39.91, 40.39),
    "speedup": (1.0, 3.2, 2.1, 1.5, None),  # 1.5 printed as "~1.5×"; last cell empty (see above)
    "params_m": (139, 80, 89.8, 70.9, 102.4),
}
TABLE6_APPROX = {("speedup", "SIMPLE 50%"): "~1.5×"}  # cells printed with "~", kept verbatim


# Table 10 (Appendix G.1): NASH vs Tay et al. (2021)'s shallow-decoder pretrained T5 models with the same number of
# decoder layers (# DL). Quality only, no speedup column. The table names no metric; by Sec. 5.1 / Table 1 it is
# METEOR for TweetQA (TQA) and ROUGE-L for SAMSum (SAM).
TABLE10_DL = (2, 4, 6, 8)
TABLE10_COLUMNS = ("TweetQA", "SAMSum")  # per DL
TABLE10 = {
    #                    DL 2            DL 4            DL 6            DL 8
    "Tay et al. (2021)": [(51.16, 39.30), (51.67, 40.96), (51.68, 41.07), (52.67, 41.18)],
    "NASH": [(48.03, 38.90), (55.11, 41.37), (56.92, 42.23), (58.02, 42.51)],
}
# NB as printed: Table 10's NASH DL 2 SAMSum 38.90 vs Table 1's NASH-2 SAMSum 38.89; DL 4 55.11 / 41.37 vs
# Table 1's NASH-4 55.08 / 41.34 (TweetQA DL 2, 48.03, agrees).


# Figure 2 (Section 3): CoFi-T5 on the encoder alone or the decoder alone, with or without depth pruning, at these
# target sparsities of the pruned part (T5-base, SAMSum); only a plot, no numbers. The text reads it as:
FIGURE2_SPARSITIES = {"encoder": (0.2, 0.4, 0.6, 0.7, 0.8, 0.9, 0.95), "decoder": (0.6, 0.7, 0.8, 0.9, 0.95)}
FIGURE2 = ("depth pruning matters on the decoder (large speedup, minor degradation) and not on the encoder; width "
           "pruning of the decoder shrinks the model with degradation and negligible speedup (Finding 3.1); light "
           "encoder pruning slightly speeds up and improves quality, heavy encoder pruning degrades it (Finding 3.2)")


# Figure 7 (Sec. 5.2, "Multi-task Learning"): only a plot; the text states no numbers. The multi-task mix is
# SAMSum, TweetQA and five (unnamed) GLUE/SuperGLUE tasks (Sec. 5.1). The text says:
FIGURE7 = ("Multi-task (SAMSum, TweetQA + five GLUE/SuperGLUE tasks): T5-Base and NASH fluctuate with the number of "
           "tasks, NASH varies significantly less than T5-Small and consistently outperforms T5-Small in both "
           "generation performance and speedup (no numbers printed)")

# Figure 10 (Appendix G.2): accuracy vs speedup on CoLA, RTE, BoolQ, CB; only a plot, summarised by Table 11. Text:
FIGURE10 = ("NLU (CoLA, RTE, BoolQ, CB): NASH (T5-Base) outperforms CoFi-T5 on all datasets, is less effective than "
            "on NLG, and its performance stays robust across compression rates (no numbers beyond Table 11)")


# Tables 8 and 9 (Appendix D): hyperparameters, as printed. Keys:
#   epochs          "Training epochs" (epochs trained)
#   warmup_epochs   "Warm-up epochs" (epochs until the target sparsity is met)
#   finetune_epochs "Fine-tune epochs" (fine-tuning after the pruning)
#   batch_size      samples per update
#   lr              AdamW learning rate
#   reg_lr          learning rate of the L0 regularisation's lambda_1, lambda_2 (Lagrangian multipliers)
#   lambda_enc, lambda_dec  weights of the layer (hidden-state) distillation losses
#   max_input_length, max_target_length  (tokens)
#   eval_steps      evaluation frequency (steps)
#   size            which column of Table 8/9 applies ("small"/"large" NLG is the grouping of Appendix D's text;
#                   Table 8 itself lists the tasks by name; "small"/"middle"/"high" are Table 9's column names)
# Task grouping (Appendix D): NLG small = TweetQA ("TQA"), SAMSum ("SAM"); NLG large = XSum, CNN/DailyMail
# ("CNN/DM"); NLU small = CB, COPA (< 1,000 samples); middle = MRPC, RTE, STS-B, CoLA, WiC, BoolQ (Appendix D
# writes "WIC, BOOLQ"; 1,000-10,000 samples); high = MNLI, QQP, QNLI, SST-2 (> 10,000; MNLI and QQP get no results
# anywhere in the paper). Names below follow Tables 1 and 11. The paper prints no hyperparameters for the
# instruction-tuning (Table 2) or multi-task (Figure 7) runs. Footnote 3: the longer warm-up is applied to both
# CoFi-T5 and NASH. Target encoder sparsity is 30 % for all experiments (Sec. 5.1).
_NLG = dict(lr=3e-5, eval_steps=1000, batch_size=4, max_input_length=512, max_target_length=128, reg_lr=0.01,
            lambda_enc=0.001, lambda_dec=0.001)
_NLG_SMALL = dict(_NLG, size="small", epochs=20, warmup_epochs=16, finetune_epochs=20)
_NLG_LARGE = dict(_NLG, size="large", epochs=3, warmup_epochs=2, finetune_epochs=3)
_NLU = dict(lr=3e-5, batch_size=32, max_input_length=128, max_target_length=5, reg_lr=0.01, lambda_enc=0.001,
            lambda_dec=0.001, finetune_epochs=20)
_NLU_SMALL = dict(_NLU, size="small", epochs=150, warmup_epochs=120, eval_steps=20)
_NLU_MIDDLE = dict(_NLU, size="middle", epochs=100, warmup_epochs=80, eval_steps=50)
_NLU_HIGH = dict(_NLU, size="high", epochs=20, warmup_epochs=16, eval_steps=500)
PAPER_SETTINGS = {
    # Table 8 (NLG)
    "TweetQA": dict(_NLG_SMALL, table=8),
    "SAMSum": dict(_NLG_SMALL, table=8),
    "XSum": dict(_NLG_LARGE, table=8),
    "CNN/DailyMail": dict(_NLG_LARGE, table=8),
    # Table 9 (NLU)
    "CB": dict(_NLU_SMALL, table=9),
    "COPA": dict(_NLU_SMALL, table=9),
    "MRPC": dict(_NLU_MIDDLE, table=9),
    "RTE": dict(_NLU_MIDDLE, table=9),
    "STS-B": dict(_NLU_MIDDLE, table=9),
    "CoLA": dict(_NLU_MIDDLE, table=9),
    "WiC": dict(_NLU_MIDDLE, table=9),
    "BoolQ": dict(_NLU_MIDDLE, table=9),
    "MNLI": dict(_NLU_HIGH, table=9),
    "QQP": dict(_NLU_HIGH, table=9),
    "QNLI": dict(_NLU_HIGH, table=9),
    "SST-2": dict(_NLU_HIGH, table=9),
}
