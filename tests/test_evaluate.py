"""The scorer of ``newsflow eval``, on hand-made cases."""

from __future__ import annotations

import json

import pytest

from tasks.evaluate import _match_source, load_gold, normalise_body, score_page


def art(paragraphs, title=None, kicker=None, subtitle=None, reporters=(), dateline=None, cf=None, ct=None):
    return dict(paragraphs=list(paragraphs), title=title, kicker=kicker, subtitle=subtitle,
                reporters=list(reporters), dateline=dateline, continued_from_page=cf, continues_to_page=ct)


P1 = ["本报讯 12月4日，杨浦区国家宪法日主题活动在沪东工人文化宫举行。", "区城管执法局获一等奖，区市场监管局、团区委获二等奖。"]
P2 = ["五角场是杨浦商圈企业、双创企业最为集中的区域。", "明年，五角场街道将以党建为引领，服务商圈能级提升。"]


def test_normalised_body_drops_space_dateline_and_markers():
    assert normalise_body(["本报讯 12 月 4 日，", "（上接第 1 版）区委召开会议。（下转第二版）"]) == "12月4日，区委召开会议。"


def test_perfect_prediction_scores_one_everywhere():
    gold = [art(P1, title="宪法知识竞赛", reporters=["杨晓梅"], dateline="本报讯"), art(P2, title="商圈", cf=1)]
    d = score_page(gold, gold).as_dict()
    assert d["article_f1"] == 1.0
    for k in ("headline_accuracy", "reporters_accuracy", "dateline_accuracy", "continuation_accuracy", "paragraph_f1"):
        assert d[k] == 1.0, k


def test_headline_lines_may_swap_title_and_kicker_but_not_change():
    gold = [art(P1, title="本区举行宪法知识竞赛", kicker="普及宪法知识 弘扬宪法精神")]
    swapped = [art(P1, title="普及宪法知识弘扬宪法精神", kicker="本区举行宪法知识竞赛")]
    assert score_page(swapped, gold).as_dict()["headline_accuracy"] == 1.0
    wrong = [art(P1, title="本区举行宪法知识竞赛")]
    assert score_page(wrong, gold).as_dict()["headline_accuracy"] == 0.0


def test_merged_articles_are_not_found_and_cost_precision_and_recall():
    gold = [art(P1), art(P2)]
    merged = [art(P1 + P2)]
    d = score_page(merged, gold).as_dict()
    assert (d["found_articles"], d["article_precision"], d["article_recall"]) == (0, 0.0, 0.0)
    split = [art(P1), art(P2[:1]), art(P2[1:])]
    d = score_page(split, gold).as_dict()
    assert d["found_articles"] == 1
    assert d["article_precision"] == pytest.approx(1 / 3) and d["article_recall"] == 0.5


def test_small_differences_still_match_and_each_prediction_matches_once():
    gold = [art(P1), art(P1)]
    pred = [art([P1[0], P1[1][:-1]])]  # one character short: ratio above 0.98
    d = score_page(pred, gold).as_dict()
    assert d["found_articles"] == 1 and d["article_recall"] == 0.5


def test_paragraph_boundaries_and_fields_are_scored_separately():
    gold = [art(P1, reporters=["杨晓梅"], dateline="本报讯", ct=2)]
    pred = [art(["".join(P1)], reporters=["杨晓梅", "毛信慧"], dateline=None, ct=2)]
    d = score_page(pred, gold).as_dict()
    assert d["found_articles"] == 1
    assert d["paragraph_f1"] == 0.0  # the one boundary was missed
    assert d["reporters_accuracy"] == 0.0 and d["dateline_accuracy"] == 0.0
    assert d["continuation_accuracy"] == 1.0


def test_gold_files_and_source_paths(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"file": "raw/人民日报/2020-02-01/02.txt", "articles": []}))
    (tmp_path / "b.json").write_text(json.dumps({"articles": []}))
    assert [f for f, _ in load_gold(tmp_path)] == ["raw/人民日报/2020-02-01/02.txt", "b.json"]
    sources = ["人民日报/2020-02-01/02.txt", "人民日报/2020-02-02/02.txt", "02.txt"]
    assert _match_source("raw/人民日报/2020-02-01/02.txt", sources) == sources[0]
    assert _match_source("raw/x/03.txt", sources) is None
    (tmp_path / "c.json").write_text(json.dumps({"pages": []}))
    with pytest.raises(ValueError, match="not a gold page"):
        load_gold(tmp_path / "c.json")


def test_paragraph_boundaries_survive_a_small_text_difference():
    """A caption kept in the first paragraph must not shift every later boundary."""
    paras = P1 + P2
    gold = [art(paras)]
    pred = [art([paras[0] + "图为现场", *paras[1:]])]
    d = score_page(pred, gold).as_dict()
    assert d["found_articles"] == 1
    assert d["paragraph_f1"] == 1.0
    pred = [art([paras[0] + "图为现场" + paras[1], *paras[2:]])]  # and a boundary really lost
    assert score_page(pred, gold).as_dict()["paragraph_f1"] == pytest.approx(0.8)
