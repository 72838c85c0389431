"""Metrics against values computed by hand, METEOR against nltk's documented 0.6944 on real WordNet."""

import math
from pathlib import Path

import pytest

from nashlib.data import metrics as m

# nltk.translate.meteor_score's docstring: hypothesis1, reference1..3; both documented scores are 0.6944
HYP = "It is a guide to action which ensures that the military always obeys the commands of the party"
REFS = ["It is a guide to action that ensures that the military will forever heed Party commands",
        "It is the guiding principle which guarantees the military forces always being under the command of the Party",
        "It is the practical guide for the army always to heed the directions of the party"]


@pytest.fixture(scope="module")
def wordnet():
    m.setup_wordnet()  # idempotent; fails with the apt-get fix when Debian's WordNet is missing
    return m.wordnet()


def test_rouge_by_hand():
    # pred 3 tokens, ref 6: unigram overlap 3 -> P 1, R 1/2, F 2/3; bigrams 2 of 2 vs 5 -> F 4/7; LCS 3 -> 2/3
    assert m.rouge(["the cat sat"], ["the cat sat on the mat"]) == pytest.approx(
        {"rouge1": 2 / 3, "rouge2": 4 / 7, "rougeL": 2 / 3, "rougeLsum": 2 / 3})
    # stemming on: cats -> cat, running/runs -> run
    assert m.rouge(["cats running"], ["cat runs"])["rouge1"] == 1.0
    assert m.rouge(["cats running"], ["cat runs"], stemming=False)["rouge1"] == 0.0
    # sentence order swapped: LCS over the whole text is 3 of 6 (F 1/2); per sentence (Lsum) all 6 match
    swapped = m.rouge(["The cat sat. The dog ran."], ["The dog ran. The cat sat."])
    assert (swapped["rougeL"], swapped["rougeLsum"], swapped["rouge2"]) == pytest.approx((0.5, 1.0, 0.8))
    # the best of several references counts; the mean runs over examples
    assert m.rouge(["the cat", "a b"], [["a dog", "the cat"], "c d"])["rouge1"] == pytest.approx(0.5)


def test_sentence_splitting():
    assert m.regex_sentences('He said "hi." Then he left! 3 cats came.\nNew line') == [
        'He said "hi."', "Then he left!", "3 cats came.", "New line"]
    assert m.regex_sentences("version 2.5 is out. it works") == ["version 2.5 is out. it works"]
    assert m.sentence_splitter() in ("punkt", "regex")


def test_label_metrics_by_hand():
    refs, preds = ["a", "a", "n", "n"], ["a", "n", "n", "n"]
    assert m.accuracy(preds, refs) == 0.75
    assert m.f1(preds, refs, positive="a") == pytest.approx(2 / 3)  # TP 1, FN 1, FP 0
    assert m.matthews(preds, refs) == pytest.approx(2 / math.sqrt(12))  # (1*2 - 0*1) / sqrt(1*2*2*3)
    assert m.matthews(["a"] * 4, refs) == 0.0  # undefined -> 0, as scikit-learn
    assert m.matthews(["x", "y", "z"], ["x", "y", "z"]) == pytest.approx(1.0)
    assert m.accuracy([" yes", "yes"], [["no", "yes"], "no"]) == 0.5
    with pytest.warns(m.UndefinedMetricWarning, match=r"positive='b' occurs in neither .*labels seen: \['a', 'n'\]"):
        assert m.f1(preds, refs, positive="b") == 0.0  # as documented: never predicted nor true -> 0
    with pytest.raises(TypeError, match="positive=1 \\(int\\); expected a label word"):
        m.f1(preds, refs, positive=1)


def test_correlations_by_hand():
    # x 1,2,4 vs y 1,2,3: deviations (-4/3,-1/3,5/3), (-1,0,1): r = 3 / sqrt(42/9 * 2) = 9 / sqrt(84)
    assert m.pearson(["1", "2", "4"], ["1", "2", "3"]) == pytest.approx(9 / math.sqrt(84))
    assert m.spearman(["1", "2", "4"], ["1", "2", "3"]) == pytest.approx(1.0)
    # a non-number prediction counts as -1 (T5): x -1,2,3: r = 4 / sqrt(78/9 * 2)
    assert m.pearson(["yes", "2", "3"], ["1", "2", "3"]) == pytest.approx(4 / math.sqrt(78 / 9 * 2))
    with pytest.raises(ValueError, match="reference 1 is 'high', not a finite number"):
        m.pearson(["1", "2"], ["1", "high"])
    with pytest.raises(ValueError, match="reference 0 is 'nan', not a finite number"):
        m.spearman(["1", "2"], ["nan", "2"])
    assert m.pearson(["inf", "2", "3"], ["1", "2", "3"]) == m.pearson(["-1", "2", "3"], ["1", "2", "3"])


@pytest.mark.parametrize("metric", [m.pearson, m.spearman])
def test_a_constant_side_makes_a_correlation_zero_with_a_warning_not_nan(metric):
    with pytest.warns(m.UndefinedMetricWarning, match=r"every prediction is 3 \(3 of them\); .* counts as 0"):
        assert metric(["3.0", "3", "3.0"], ["1.0", "2.4", "5.0"]) == 0.0
    with pytest.warns(m.UndefinedMetricWarning, match="every reference is 2.4"):
        assert metric(["1", "2", "3"], ["2.4"] * 3) == 0.0
    with pytest.warns(m.UndefinedMetricWarning):  # through the task suite as well: a number, not NaN
        assert m.compute("stsb", ["1.0"] * 3, ["1.0", "2.0", "3.0"])["score"] == 0.0


def test_input_errors():
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        m.accuracy(["a", "b"], ["a"])
    with pytest.raises(TypeError, match="not one string"):
        m.rouge("the cat", "the cat")
    with pytest.raises(TypeError, match="prediction 0 is 1"):
        m.accuracy([1], ["1"])
    with pytest.raises(ValueError, match="no predictions"):
        m.accuracy([], [])
    with pytest.raises(TypeError, match=r"reference 1 is None \(NoneType\); expected a string or a non-empty list"):
        m.accuracy(["a", "b"], ["a", None])
    with pytest.raises(TypeError, match=r"reference 0 is 1 \(int\); .*labels as words"):
        m.compute("sst2", ["positive"], [1])
    with pytest.raises(TypeError, match=r"reference 0 is \[\] \(list\)"):
        m.rouge(["a"], [[]])
    with pytest.raises(TypeError, match=r"reference 0 is \['a', None\]"):
        m.rouge(["a"], [["a", None]])


def test_task_suites():
    assert m.compute("mrpc", ["equivalent", "not_equivalent"], ["equivalent"] * 2) == pytest.approx(
        {"score": 0.5, "accuracy": 0.5, "f1": 2 / 3})
    assert m.compute("samsum", ["the cat sat"], ["the cat sat on the mat"])["score"] == pytest.approx(2 / 3)
    assert set(m.compute("cola", ["acceptable"] * 2, ["acceptable", "not_acceptable"])) == {
        "score", "matthews_correlation", "accuracy"}
    with pytest.raises(ValueError, match="no metric for task 'mnli'; known tasks: samsum"):
        m.compute("mnli", ["a"], ["a"])
    from nashlib.data import tasks
    assert set(m.TASK_METRICS) == set(tasks.names())
    assert all(tasks.get(t).metric == m.TASK_METRICS[t] for t in tasks.names())


def test_lexnames_table():
    lines = m.LEXNAMES.splitlines()
    assert len(lines) == 45 and lines[0] == "00\tadj.all\t3" and lines[3] == "03\tnoun.Tops\t1"
    assert lines[29] == "29\tverb.body\t2" and lines[44] == "44\tadj.ppl\t3"
    m._check_lexnames(Path("/usr/share/wordnet"))  # every synset's file number fits its part of speech


def test_lexnames_check_can_fail(tmp_path):
    for pos in ("noun", "verb", "adj", "adv"):
        (tmp_path / f"data.{pos}").write_text("  1 license header\n")
    (tmp_path / "data.verb").write_text("  1 license header\n00001740 03 v 01 breathe 0 000 | x\n")
    with pytest.raises(ValueError, match=r"lexicographer file 3 \(noun.Tops\)"):
        m._check_lexnames(tmp_path)


def test_wordnet_missing_says_how_to_fix(tmp_path):
    with pytest.raises(m.WordNetMissing, match="apt-get install -y --no-install-recommends wordnet-base"):
        m.setup_wordnet(tmp_path, force=True)


def test_meteor_reference_value(wordnet):
    from nltk.translate.meteor_score import meteor_score, single_meteor_score

    assert wordnet._lexnames == m.LEXNAMES.split()[1::3]  # nltk read our lexnames in order
    assert wordnet.synset("dog.n.01").lexname() == "noun.animal"
    assert wordnet.synset("run.v.01").lexname() == "verb.motion"
    assert round(single_meteor_score(REFS[0].split(), HYP.split(), wordnet=wordnet), 4) == 0.6944
    assert round(meteor_score([r.split() for r in REFS], HYP.split(), wordnet=wordnet), 4) == 0.6944
    assert round(m.meteor([HYP], [REFS]), 4) == 0.6944
    assert m.meteor(["the cat"], ["the cat"]) == pytest.approx(0.9375)  # 2 of 2 matched, 1 chunk: 1 - 0.5 (1/2)^3
    assert m.meteor(["zebra"], ["the cat"]) == 0.0


def test_evaluate_interface(wordnet):
    import evaluate

    rouge = m.load("rouge")
    assert isinstance(rouge, evaluate.EvaluationModule)
    out = rouge.compute(predictions=["the cat sat"], references=["the cat sat on the mat"])
    assert out == pytest.approx({"rouge1": 2 / 3, "rouge2": 4 / 7, "rougeL": 2 / 3, "rougeLsum": 2 / 3})
    assert m.load("matthews_correlation").compute(predictions=["a", "n", "n", "n"], references=["a", "a", "n", "n"]) \
        == pytest.approx({"matthews_correlation": 2 / math.sqrt(12)})
    tweet = m.load("tweetqa").compute(predictions=[HYP], references=[REFS])
    assert round(tweet["score"], 4) == 0.6944
    with pytest.raises(ValueError, match="unknown metric 'bleu'; allowed: rouge, meteor"):
        m.load("bleu")


def test_per_row_scores_average_to_the_task_metric():
    preds = ["a cat sat", "the dog", "", "birds fly high"]
    refs = [["a cat sat down"], ["a dog"], ["nothing"], ["birds fly high"]]
    rows = m.per_row("samsum", preds, refs)  # ROUGE-L
    assert rows.shape == (4,) and rows[2] == 0.0 and rows[3] == pytest.approx(1.0)
    assert rows.mean() == pytest.approx(m.compute("samsum", preds, refs)["score"], abs=1e-12)
    labels = m.per_row("sst2", ["positive", "negative", "positive"], [["positive"], ["positive"], ["positive"]])
    assert labels.tolist() == [1.0, 0.0, 1.0]


def test_per_row_is_none_where_the_metric_is_not_a_mean_over_rows():
    assert m.per_row("cola", ["acceptable"], [["acceptable"]]) is None  # Matthews correlation
    with pytest.raises(ValueError, match="no metric for task"):
        m.per_row("nope", [], [])
