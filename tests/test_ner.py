"""Entity extraction: the seed page's bodies, people and sub-districts; scoring; bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.evaluate_ner import bio_spans, evaluate_bio, read_bio
from tasks.layout import parse_page
from tasks.ner import DEFAULT_MODEL, Entity, EntityExtractor, get_extractor, place_label, read_entity_dict
from tasks.tables import split_sentences

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "raw" / "000_c9cd572a92cace71.txt"
DEV_BIO = ROOT.parent / "shared" / "corpus" / "ner" / "peoples_daily_ner.dev.bio"  # beside the clone

DEPARTMENTS = ("区委", "区发改委", "区商务委", "区人社局", "区民政局", "区建管委", "区绿化市容局",
               "区房管局", "区教育局党委", "区卫健委", "区城管执法局", "区市场监管局", "团区委",
               "区检察院", "区公安分局")
PEOPLE = ("杨晓梅", "毛信慧", "成佳佳", "李跃旗", "谢坚钢")
SUBDISTRICTS = ("五角场街道", "殷行街道")


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    return get_extractor()


@pytest.fixture(scope="module")
def seed_sentences() -> list[str]:
    """The seed page as the pipeline sees it (laid-out paragraphs split into sentences), plus
    its raw lines (bylines such as ``■记者 杨晓梅`` are kept out of the paragraphs by layout)."""
    text = SEED.read_text(encoding="utf-8")
    out: list[str] = []
    for art in parse_page(text).articles:
        for para in art.paragraphs:
            out += [para.text[s:e] for s, e in split_sentences(para.text)]
    out += [ln for ln in text.splitlines() if ln.strip()]
    return out


def _found(extractor: EntityExtractor, sentences: list[str]) -> list[tuple[str, list[Entity]]]:
    return list(zip(sentences, extractor.extract(sentences), strict=True))


def _labels_of(pairs: list[tuple[str, list[Entity]]], name: str,
               within: bool = False) -> list[str | None]:
    """For every occurrence of ``name`` in the sentences: the label of an entity spanning it
    exactly, or with ``within`` of one containing it (``区委`` in ``杨浦区委``, ``团区委``);
    None when no entity does."""
    labels: list[str | None] = []
    for sent, ents in pairs:
        start = sent.find(name)
        while start >= 0:
            end = start + len(name)
            hit = [e.label for e in ents if (e.start == start and e.end == end)
                   or (within and e.start <= start and end <= e.end)]
            labels.append(hit[0] if hit else None)
            start = sent.find(name, start + 1)
    return labels


def test_model_file_is_shipped_and_small() -> None:
    assert DEFAULT_MODEL.exists()
    assert DEFAULT_MODEL.stat().st_size < 5_000_000


def test_seed_page_departments_are_org(extractor: EntityExtractor, seed_sentences: list[str]) -> None:
    pairs = _found(extractor, seed_sentences)
    for name in DEPARTMENTS:
        labels = _labels_of(pairs, name, within=True)
        if not labels:  # not on the page: checked in its own sentence
            sent = f"会上，{name}负责人介绍了明年的工作安排。"
            labels = _labels_of(_found(extractor, [sent]), name)
        assert labels and all(lab == "ORG" for lab in labels), (name, labels)


def test_seed_page_people_are_person(extractor: EntityExtractor, seed_sentences: list[str]) -> None:
    pairs = _found(extractor, seed_sentences)
    for name in PEOPLE:
        labels = _labels_of(pairs, name)
        assert labels, f"{name} is on the seed page"
        assert all(lab == "PERSON" for lab in labels), (name, labels)


def test_seed_page_subdistricts_are_gpe(extractor: EntityExtractor, seed_sentences: list[str]) -> None:
    pairs = _found(extractor, seed_sentences)
    for name in SUBDISTRICTS:
        labels = _labels_of(pairs, name)
        assert labels and all(lab == "GPE" for lab in labels), (name, labels)


@pytest.mark.parametrize("sentence,name,label", [
    # bodies that are in no dictionary: the pattern rule must catch them
    ("浦东新区科技局和市农委联合发文。", "浦东新区科技局", "ORG"),
    ("浦东新区科技局和市农委联合发文。", "市农委", "ORG"),
    ("县交通局将加快道路建设。", "县交通局", "ORG"),
    ("区住建委召开会议。", "区住建委", "ORG"),
    ("省农业厅组织专家调研。", "省农业厅", "ORG"),
    # the segmenter's user dictionary: a listed sub-district, and a town by the rule
    ("新江湾城街道的居民参加活动。", "新江湾城街道", "GPE"),
    ("江湾镇的居民参加活动。", "江湾镇", "GPE"),
])
def test_rules_generalise(extractor: EntityExtractor, sentence: str, name: str, label: str) -> None:
    labels = _labels_of(_found(extractor, [sentence]), name)
    assert labels == [label]


def test_rules_do_not_fire_on_common_words(extractor: EntityExtractor) -> None:
    sents = ["本区举行机关工作人员宪法知识竞赛，全区养老床位达到10800张。",
             "在大桥、平凉等试点街道探索认知障碍老年人全程关爱机制。",
             "市管干部和全部内部人员参加。"]
    for _, ents in _found(extractor, sents):
        assert not [e for e in ents if e.source == "rule"], ents
    assert not _labels_of(_found(extractor, sents[1:2]), "试点街道")[0]


def test_spans_exact_sorted_and_disjoint(extractor: EntityExtractor, seed_sentences: list[str]) -> None:
    for sent, ents in _found(extractor, seed_sentences):
        end = 0
        for e in ents:
            assert sent[e.start:e.end] == e.text and e.text
            assert e.start >= end
            assert e.label in ("PERSON", "ORG", "GPE", "LOC") and e.source in ("crf", "rule", "dict")
            end = e.end


def test_tagged_input_is_reused(extractor: EntityExtractor) -> None:
    from tasks.segment import get_segmenter

    sents = ["区发改委将注重打造创新创业的样板间。", "谢坚钢强调，要以创新策源为重点。"]
    tagged = [get_segmenter().tag(s) for s in sents]
    assert extractor.extract(sents, tagged) == extractor.extract(sents)
    # a tagging that does not tile its sentence is ignored, not trusted
    assert extractor.extract(sents, [[("x", "n")], []]) == extractor.extract(sents)


def test_place_label_rule() -> None:
    assert place_label("殷行街道") == "GPE"
    assert place_label("上海") == "GPE"
    assert place_label("杨浦区") == "GPE"
    assert place_label("黄浦江") == "LOC"
    assert place_label("军工路") == "LOC"
    assert place_label("控江路街道") == "GPE"


def test_entity_dictionary_format(tmp_path: Path) -> None:
    p = tmp_path / "d.txt"
    p.write_text("# comment\n\n区侨办\n黄浦江 LOC\n", encoding="utf-8")
    assert [(e.text, e.label) for e in read_entity_dict(p)] == [("区侨办", "ORG"), ("黄浦江", "LOC")]
    p.write_text("区侨办 ORGANISATION\n", encoding="utf-8")
    with pytest.raises(ValueError):
        read_entity_dict(p)
    shipped = read_entity_dict(ROOT / "tasks" / "dicts" / "ner_orgs.txt")
    assert len(shipped) > 50


def test_bio_spans_and_tiny_file_scores(tmp_path: Path) -> None:
    assert bio_spans(["B-PER", "I-PER", "O", "I-LOC", "B-ORG", "B-ORG"]) == {
        (0, 2, "PER"), (3, 4, "LOC"), (4, 5, "ORG"), (5, 6, "ORG")}

    class Fixed(EntityExtractor):
        """Predicts 张三 as PERSON and 北京 as ORG wherever they occur."""

        def __init__(self) -> None:
            pass

        def extract(self, sentences, tagged=None):  # type: ignore[override]
            out = []
            for s in sentences:
                ents = []
                for name, lab in (("张三", "PERSON"), ("北京", "ORG")):
                    i = s.find(name)
                    if i >= 0:
                        ents.append(Entity(i, i + 2, name, lab, "rule"))
                out.append(ents)
            return out

    lines = []
    for sent, tags in (("张三去北京", ["B-PER", "I-PER", "O", "B-LOC", "I-LOC"]),
                       ("李四在北京", ["B-PER", "I-PER", "O", "B-ORG", "I-ORG"]),
                       ("张三好", ["B-PER", "I-PER", "O"])):
        lines += [f"{c} {t}" for c, t in zip(sent, tags, strict=True)] + [""]
    p = tmp_path / "tiny.bio"
    p.write_text("\n".join(lines), encoding="utf-8")
    assert [s.text for s in read_bio(p)] == ["张三去北京", "李四在北京", "张三好"]
    res = evaluate_bio(p, Fixed())
    # PER: 2 predicted, both right, 3 gold -> P 1, R 2/3
    assert res["PER"]["precision"] == 1.0 and res["PER"]["recall"] == pytest.approx(2 / 3)
    assert res["PER"]["f1"] == pytest.approx(0.8)
    # ORG: 2 predicted, 1 right, 1 gold -> P 0.5, R 1; LOC: nothing predicted, 1 gold
    assert res["ORG"]["precision"] == 0.5 and res["ORG"]["recall"] == 1.0
    assert res["LOC"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "gold": 1, "predicted": 0}


@pytest.mark.skipif(not DEV_BIO.exists(), reason="shared NER corpus not present")
def test_dev_file_beats_the_jieba_baseline_clearly(extractor: EntityExtractor) -> None:
    res = evaluate_bio(DEV_BIO, extractor)
    # jieba tags alone: PER 0.455, LOC 0.639, ORG 0.426 (in-sample here: the model trained on it)
    assert res["PER"]["f1"] > 0.455 + 0.2
    assert res["LOC"]["f1"] > 0.639 + 0.1
    assert res["ORG"]["f1"] > 0.426 + 0.2


@pytest.mark.parametrize("text", [
    "", "2020", "1234567890", "“没有闭合的引号", "”》）", "。。。！！！", "，", "Hello World COVID-19",
    "😀🎉👍", "区", "街道", "镇", "记者", "\x00\x00", "\ud800孤立代理", "　 \t\n", "团区委" * 4,
    "李" * 50, "上海市" + "区发改委" * 100, "杨浦区委书记谢坚钢" * 1200,
    "约翰—", "—格伦", "·", "拉·", "桥本", "桥本龙", "令欣", "城市哈斯", "印巴", "国务卿奥",
])
def test_malformed_input_never_raises(extractor: EntityExtractor, text: str) -> None:
    out = extractor.extract([text, "谢坚钢强调", text])
    assert len(out) == 3
    for ents in (out[0], out[2]):
        for e in ents:
            assert text[e.start:e.end] == e.text
    assert out[0] == out[2]


def test_empty_batch(extractor: EntityExtractor) -> None:
    assert extractor.extract([]) == []


def test_bulk_viterbi_matches_plain_viterbi(extractor: EntityExtractor) -> None:
    """The prefix-batched Viterbi decodes exactly like a per-length-group reference, on real
    weights with random emissions (sentence lengths 0..60, an empty batch member included)."""
    import numpy as np

    crf = extractor.crf
    assert crf is not None
    rng = np.random.default_rng(0)
    lengths = rng.integers(0, 60, size=300)
    lengths[5] = 0
    e = (rng.standard_normal((int(lengths.sum()), len(crf.labels))) * 3).astype(np.float32)
    assert (crf.viterbi(e, lengths) == crf.viterbi_plain(e, lengths)).all()


def test_key_index_finds_exactly_the_keys() -> None:
    import numpy as np

    from tasks.ner import _KeyIndex

    rng = np.random.default_rng(1)
    for keys in (np.unique(rng.integers(0, 1 << 18, 5000)),  # dense table
                 np.unique(rng.integers(0, 1 << 42, 5000)),  # hash table, 16-bit hash screen
                 np.unique(rng.integers(0, 1 << 42, 20000)),  # hash table, low-bits screen
                 np.array([], dtype=np.int64)):
        ix = _KeyIndex(keys)
        q = np.concatenate([keys, rng.integers(0, 1 << 42, 2000), [-5, 0, 1 << 45]])
        rng.shuffle(q)
        want = np.searchsorted(keys, q)
        want = np.where((want < len(keys)) & (keys[np.minimum(want, len(keys) - 1)] == q)
                        if len(keys) else False, want, len(keys))
        assert (ix.rows(q) == want).all()
        # hits: the offsets of the queries that are keys, and their rows
        at, rows = ix.hits(q)
        assert at.tolist() == np.flatnonzero(want < len(keys)).tolist()
        assert rows.tolist() == want[at].tolist()


def test_literals_find_what_the_alternation_of_the_words_finds() -> None:
    """_Literals (bigram prefilter + look-ups) finds the spans ``re.finditer`` finds with the
    words' alternation, longest first: words sharing prefixes, overlapping and nested words,
    one-character words, random texts over a small alphabet (many overlaps), the real dictionary
    on the seed page."""
    import random
    import re

    from tasks.ner import _Literals

    def regex_spans(words, text):
        alts = "|".join(map(re.escape, sorted(words, key=len, reverse=True)))
        return [m.span() for m in re.finditer(alts, text)]

    rnd = random.Random(3)
    for words in (["区委", "区委书记", "委书", "书记处", "记处长"], ["甲乙", "乙丙丁", "丙", "甲乙丙丁戊"],
                  ["".join(rnd.choice("甲乙丙丁") for _ in range(rnd.randint(1, 5))) for _ in range(12)],
                  ["".join(rnd.choice("甲乙丙丁") for _ in range(rnd.randint(2, 4))) for _ in range(8)]):
        finder = _Literals(words)
        for _ in range(200):
            text = "".join(rnd.choice("甲乙丙丁戊区委书记处长\x00 ") for _ in range(rnd.randint(0, 40)))
            assert finder.finditer(text) == regex_spans(words, text), (words, text)
    rules = EntityExtractor(model=None)
    text = SEED.read_text(encoding="utf-8")
    assert rules._dict_words is not None
    got = rules._dict_words.finditer(text)
    assert got and got == regex_spans(list(rules._dict_label), text)


def test_surname_titles_found_in_bulk_where_the_lookahead_regex_finds_them() -> None:
    """_surname_title_candidates looks at a surname followed by a title's first character only:
    the same candidates as a lookahead regex over every position (the seed page, and texts
    dense in surnames and titles, a character past the BMP among them)."""
    import random
    import re

    from tasks.ner import _NOT_SURNAME_POS, _SURNAME_TITLE_WORDS, _TIER_CRF, SURNAMES, featurize

    lookahead = re.compile("(?=[%s](?:%s))" % (SURNAMES, "|".join(_SURNAME_TITLE_WORDS)))
    rnd = random.Random(5)
    texts = [p for p in SEED.read_text(encoding="utf-8").splitlines() if p.strip()]
    texts += ["".join(rnd.choice(["王", "张", "和", "先生", "副局长", "主席", "的", "老", "𠀋", "，"])
                      for _ in range(rnd.randint(1, 30))) for _ in range(300)]
    f = featurize(texts)
    got: list[list] = [[] for _ in texts]
    EntityExtractor._surname_title_candidates(f, got)
    want: list[list] = [[] for _ in texts]
    starts = f.starts.tolist()
    for m in lookahead.finditer(f.text):
        b = m.start()
        if f.boundary[b] and int(f.token_pos[b]) not in _NOT_SURNAME_POS:
            si = max(i for i, o in enumerate(starts) if o <= b)
            want[si].append((_TIER_CRF, b - starts[si], b - starts[si] + 1, "PERSON", "rule"))
    assert got == want and any(got)


def test_compact_lexicon_answers_like_the_dictionary_on_real_words() -> None:
    """The entity lexicon keeps one byte per word (its class bits) and int32 rows: every word of
    jieba's dictionary and of the world places gets exactly the classes its lines give it, and
    strings that are no word get none."""
    import numpy as np

    from tasks import ner

    want: dict[str, int] = {}
    for line in ner.jieba_dict_path().read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 3 and ner._LEX_MIN_LEN <= len(parts[0]) <= ner._LEX_MAX_LEN:
            want[parts[0]] = want.get(parts[0], 0) | (1 << ner._LEX_TAG_CLASS.get(parts[2], 4))
    for line in ner.WORLD_PLACES.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            for w in line.split():
                if ner._LEX_MIN_LEN <= len(w) <= ner._LEX_MAX_LEN:
                    want[w] = want.get(w, 0) | (1 << 5)
    table = ner.lexicon()
    assert sum(len(vals) for _, vals in table.values()) == len(want)
    assert all(vals.dtype == np.uint8 for _, vals in table.values())
    assert all((ix.dense if ix.dense is not None else ix.slot_row).dtype == np.int32
               for ix, _ in table.values())
    words = sorted(want)[::7] + ["伊拉克", "莫斯科", "区委书记", "五角场"]
    non_words = ["的的的", "区委书记谢", "谢坚钢在", "钢在五角"]
    for w in words + non_words:
        cp = np.frombuffer(w.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        got = [int(v[0]) for length, hit, v in ner._word_hits(cp, table) if length == len(w)]
        assert got == ([want[w]] if w in want else []), w


def test_lexicon_reads_odd_dictionary_lines_as_line_split_does(tmp_path: Path) -> None:
    import numpy as np

    from tasks import ner

    # lines split in bulk and lines that only Python's str.split reads (runs of spaces, a tab,
    # a separator character, non-ASCII or signed digits, too many parts) give the same words
    lines = ["北京 10 ns", "上海  5 ns", " 广州 3 ns", "深圳 0 ns", "杭州 ３ nr", "武汉 7",
             "南京\x1c 4 nt", "长沙 99999999999999999999 nt", "重庆 +4 nr", "成都 12 nr extra",
             "天津 4 nt\t", "北京 2 nr", "西安 20 x", "一二三四五六七八九 5 n"]
    path = tmp_path / "dict.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for min_freq in (1, 5):
        want: dict[str, int] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if (len(parts) == 3 and ner._LEX_MIN_LEN <= len(parts[0]) <= ner._LEX_MAX_LEN
                    and int(parts[1]) >= min_freq):
                want[parts[0]] = want.get(parts[0], 0) | (1 << ner._LEX_TAG_CLASS.get(parts[2], 4))
        for w in ner.world_places():
            if ner._LEX_MIN_LEN <= len(w) <= ner._LEX_MAX_LEN:
                want[w] = want.get(w, 0) | (1 << 5)
        table = ner.lexicon(path, min_freq)
        assert sum(len(vals) for _, vals in table.values()) == len(want)
        for w in ["北京", "上海", "广州", "深圳", "杭州", "长沙", "重庆", "天津", "西安", "南京"]:
            cp = np.frombuffer(w.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
            got = [int(v[0]) for length, hit, v in ner._word_hits(cp, table) if length == len(w)]
            assert got == ([want[w]] if w in want else []), (w, min_freq)


def test_augment_replaces_person_names_only() -> None:
    from tasks.evaluate_ner import BioSentence
    from tasks.train_ner import augment

    def sent(text: str, tags: str) -> BioSentence:
        return BioSentence(tuple(text), tuple(tags.split()))

    s1 = sent("副总理李岚清会见了约翰·史密斯", "O O O B-PER I-PER I-PER O O O "
              "B-PER I-PER I-PER I-PER I-PER I-PER")
    s2 = sent("江主席在北京", "B-PER O O O B-LOC I-LOC")
    s3 = sent("北京下雨", "B-LOC I-LOC O O")
    names = {"chinese": ["张三丰", "王五"], "foreign": ["卡斯特罗"], "orgs": ["国务院"]}
    out = augment([s1, s2, s3], copies=3, seed=1, names=names, made_up=1.0, foreign=False)
    assert len(out) == 6  # s3 names no person: not copied
    for a in out:
        assert len(a.chars) == len(a.tags)
        per = sorted(x for x in bio_spans(a.tags) if x[2] == "PER")
        if a.text.startswith("副总理"):
            (b1, e1, _), (b2, e2, _) = per
            assert a.text[:3] == "副总理" and a.text[e1:e1 + 3] == "会见了"
            assert a.text[b1] in "".join(w[0] for w in names["chinese"]) and 2 <= e1 - b1 <= 3
            assert a.text[b2:e2] == "约翰·史密斯"  # transliterated: kept without foreign
        else:
            assert a.text == "江主席在北京" and per == [(0, 1, "PER")]  # a lone surname: kept
    assert {a.text for a in out if a.text.startswith("副总理")} != {s1.text}


def test_body_rule_skips_verbs_ending_in_a_suffix(extractor: EntityExtractor) -> None:
    # 举办 ends in 办 like 区府办, but is a verb: no body 河北省怀来县举办
    ents = extractor.extract(["董存瑞的家乡河北省怀来县举办一系列活动。"])[0]
    assert not [e for e in ents if "举办" in e.text], ents
    assert _labels_of(_found(extractor, ["区发改委和区府办联合发文。"]), "区府办") == ["ORG"]


def test_org_suffix_distance_feature() -> None:
    from tasks.ner import featurize

    f = featurize(["中科院水生生物研究所和湖北省水产局，合作。", "北京队"])
    dist = (f.ints["os"] >> 2).tolist()
    assert dist[:3] == [2, 1, 0]  # 中科院:院 ends a token
    assert dist[9] == 0 and dist[16] == 0  # 研究所, 水产局
    assert dist[17:21] == [9, 9, 9, 9]  # no suffix ahead in this sentence (none = 9)
    assert dist[-3:] == [2, 1, 0]  # 北京队, not seen across the sentence boundary


def test_dictionary_word_features_mark_begin_middle_end() -> None:
    from tasks.ner import LEXICON_CLASSES, featurize

    text = "代表团访问了乌兹别克斯坦和秘鲁。"
    f = featurize([text])
    g = f.ints[f"lx{LEXICON_CLASSES[5]}"].tolist()  # class G: the world-places list
    s = text.index("乌兹别克斯坦")
    assert g[s] & 4 and g[s + 5] & 1  # the country begins and ends there
    assert all(v & 2 for v in g[s + 1:s + 5])  # and goes on through the middle
    assert g[text.index("秘鲁")] & 4 and g[text.index("秘鲁") + 1] & 1
    assert g[:s] == [0] * s  # 代表团访问了: no place
    w = f.ints["lxW"].tolist()  # 代表团 / 访问 are words of jieba's dictionary (class W)
    assert w[0] & 4 and w[3] & 4 and w[4] & 1


def test_title_and_speech_features_read_the_text_not_the_tokens() -> None:
    from tasks.ner import featurize

    text = "钱先生笑着说，老孙表示同意。"
    tt = featurize([text]).ints["tt"].tolist()
    assert tt[0] & 2 and tt[0] & 8  # 钱: a title (先生) starts after it; 钱 is a surname
    assert tt[3] & 4  # 笑: a title ends just before it
    assert tt[text.index("孙")] & 1  # 孙: a verb of saying (表示) starts after it
    assert not tt[text.index("同")] & 7


@pytest.mark.parametrize("span,end,label", [
    ("王小姐", 1, "PER"), ("欧阳先生", 2, "PER"), ("郑某", 1, "PER"), ("罗局长", 1, "PER"),
    ("黄明远先生", 5, "PER"),  # not a bare surname: the CRF's span stands
    ("石门村", 3, "LOC"), ("卡拉巴省", 4, "LOC"), ("吴镇", 2, "PER"), ("周建国", 3, "PER"),
])
def test_person_span_fixes(span: str, end: int, label: str) -> None:
    from tasks.ner import person_span

    text = "据说" + span + "。"
    assert person_span(text, 2, 2 + len(span)) == (2 + end, label)


def test_clusters_group_items_that_share_their_neighbours(tmp_path: Path) -> None:
    from tasks.build_clusters import build
    from tasks.ner import clusters

    raw = tmp_path / "raw" / "paper"
    raw.mkdir(parents=True)
    paras = []
    for i in range(12):
        paras += [f"我们昨天吃了{w}。" for w in ("苹果", "香蕉", "橘子")]
        paras += [f"他们明天去{w}开会。" for w in ("北京", "上海", "广州")]
    # lines broken anywhere inside a paragraph, paragraphs apart by a blank line
    text = "\n\n".join(p[:3] + "\n" + p[3:] for p in paras)
    (raw / "01.txt").write_text(text, encoding="utf-8")
    out = build(tmp_path / "raw", tmp_path / "clusters.tsv", word_k=12, char_k=24)
    words, chars, coarse, _ = clusters(out)
    assert words["苹果"] == words["香蕉"] == words["橘子"] > 0
    assert words["北京"] == words["上海"] == words["广州"] > 0
    assert words["苹果"] != words["北京"]
    assert chars[ord("吃")] > 0 and coarse[ord("吃")] > 0
    assert words.get("没有的词", 0) == 0


def test_dictionary_word_features_match_a_plain_search() -> None:
    """The hashed bulk look-up finds exactly the dictionary words a plain search finds (no
    false hit from a hash collision: 中国北 is no word, though 中国北方 and 中国 are)."""
    import jieba

    from tasks.ner import LEXICON_CLASSES, WORLD_PLACES, _LEX_TAG_CLASS, featurize

    words: dict[str, int] = {}
    for line in (Path(jieba.__file__).parent / "dict.txt").read_text(encoding="utf-8").splitlines():
        w, _, tag = line.split()
        if 2 <= len(w) <= 8:
            words[w] = words.get(w, 0) | (1 << _LEX_TAG_CLASS.get(tag, 4))
    for line in WORLD_PLACES.read_text(encoding="utf-8").splitlines():
        for w in ([] if line.startswith("#") else line.split()):
            words[w] = words.get(w, 0) | (1 << 5)
    texts = ["进行《中国北方鼓曲名家》的录制，", "老周在布宜诺斯艾利斯见到了马丁内斯先生。"]
    f = featurize(texts)
    got = [[int(f.ints[f"lx{c}"][k]) for c in LEXICON_CLASSES] for k in range(len(f.word_of_char))]
    want = []
    for t in texts:
        rows = [[0] * len(LEXICON_CLASSES) for _ in t]
        for i in range(len(t)):
            for n in range(2, 9):
                m = words.get(t[i:i + n], 0) if i + n <= len(t) else 0
                for c in range(len(LEXICON_CLASSES)):
                    if m >> c & 1:
                        rows[i][c] |= 4
                        rows[i + n - 1][c] |= 1
                        for j in range(i + 1, i + n - 1):
                            rows[j][c] |= 2
        want += rows
    assert got == want


def test_every_feature_value_is_non_negative_and_the_emissions_read_the_tables_as_keys():
    """CrfModel.emissions gathers the rows of its direct tables with the values as they are
    (mode 'clip': a value past a table reads its last row, the zero weights of an unknown key),
    which holds only for values >= 0: every template's values are, on the seed page and on texts
    of every kind of character (past the BMP, private use, controls, Latin, digits, empty
    sentences, one-character ones); and the emissions equal those of each value looked up as a
    key (its weights when the model has the key, zeros when not)."""
    import random

    import numpy as np

    from tasks.ner import featurize

    rnd = random.Random(11)
    alphabet = ["王", "区", "委", "，", "。", "𠀋", "\ue000", "\x01", "A", "z", "７", "9", " ", "·",
                "“", "\U0010fffd", "先生", "北京", "局"]
    texts = [p for p in SEED.read_text(encoding="utf-8").splitlines() if p.strip()]
    texts += ["", "王"] + ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 40)))
                           for _ in range(300)]
    f = featurize(texts)
    assert f.ints and all(int(v.min()) >= 0 for v in f.ints.values() if len(v))
    crf = get_extractor().crf
    assert crf is not None
    n = len(crf.labels)
    want = np.zeros((len(f.word_of_char), n), dtype=np.float64)
    unknown = past = 0  # values that are no key of their table; values past the table's end
    for t, (keys, w) in crf.int_tables.items():
        if t in crf._direct:
            at = np.searchsorted(keys, f.ints[t])
            found = (at < len(keys)) & (keys[np.minimum(at, len(keys) - 1)] == f.ints[t])
            want[found] += w[at[found], :n]
            unknown += int((~found).sum())
            past += int((f.ints[t] >= len(crf._direct[t])).sum())
    assert unknown > past > 0  # both ways of being no key are met
    got = np.zeros_like(want)
    rows = np.empty((len(f.word_of_char), w.shape[1]), dtype=np.float32)
    for t in crf.int_tables:
        if t in crf._direct:
            np.take(crf._direct[t], f.ints[t], axis=0, out=rows, mode="clip")
            got += rows[:, :n]
    assert np.allclose(got, want, rtol=0, atol=1e-5)


def test_featurize_without_the_crf_gives_the_same_tokens_and_no_crf_values():
    """With no model, only the tokens and their geometry are worked out: the same as with the
    CRF's values, which are left out."""
    from tasks.ner import featurize

    texts = ["区发改委主任王晓明表示，明年将推出十项措施。", "", "杨浦区殷行街道", "12345"]
    full, light = featurize(texts), featurize(texts, crf=False)
    assert full.ints and not light.ints
    for name in ("lengths", "word_of_char", "prev_word", "next_word", "starts", "boundary",
                 "token_start", "token_end", "token_pos"):
        assert (getattr(full, name) == getattr(light, name)).all(), name
    assert full.words == light.words and full.text == light.text


@pytest.mark.parametrize("text,span,expected", [
    ("据悉，总编辑王晨都表示同意。", "王晨都", ["王晨"]),  # 都 (an adverb token) is cut off
    ("部长瓦利六日宣布了计划。", "瓦利六日", ["瓦利"]),  # a time word
    ("他回复了李四光函中的问题。", "李四光函", ["李四光"]),  # a locality word going on past the span
    ("贺龙元帅当时也在。", "贺龙元帅", ["贺龙"]),  # a title after a full name
    ("王家传人王汝大夫采用中药。", "王汝大夫", ["王汝"]),
    ("决赛是赵汝权对陶汉明。", "赵汝权对陶汉明", ["赵汝权", "陶汉明"]),  # a match: two persons
    ("每公斤提价1卢比。", "卢比", []),  # after a numeral: a currency
    ("共计11亿马克。", "马克", []),
    ("卡洛斯·阿马特都来了。", "卡洛斯·阿马特", ["卡洛斯·阿马特"]),  # a transliteration stands
    ("记者周建国报道。", "周建国", ["周建国"]),
    ("委员有徐起超、沈求我，副主席李赣骝。", "沈求我", ["沈求我"]),  # 我 (a pronoun) stays
    ("王大夫来了。", "王大夫", ["王大夫"]),  # a title after one character: person_span's case
    ("县长吴方军分管工业。", "吴", ["吴方军"]),  # a lone surname + two given-name characters
    ("郑全军又安排了工作。", "郑", ["郑全军"]),
    ("本届汤尤杯赛开幕。", "汤", ["汤"]),  # 尤杯赛: no token of two given-name characters
    ("会收到陈老师寄来的信。", "陈", ["陈"]),  # an honorific
    ("他们为刘家解决困难。", "刘", ["刘"]),
    # edges: characters that begin or end no name, joined foreign names, a title in front
    ("但事实令欣嘉眼神暗淡。", "令欣嘉", ["欣嘉"]),
    ("立即回信向学昭女士检讨。", "向学昭", ["学昭"]),
    ("和万春离开太行山快十年。", "和万春", ["和万春"]),  # 和 is a surname too: kept
    ("郑咏是国家一级演员。", "郑咏是", ["郑咏"]),
    ("市长罗朗·雷斯及各界人士出席。", "罗朗·雷斯及", ["罗朗·雷斯"]),
    ("哈萨克斯坦的阿·德米特里延科均获得金牌。", "阿·德米特里延科均", ["阿·德米特里延科"]),
    ("队员张文均获得金牌。", "张文均", ["张文均"]),  # 均 ends Chinese given names: kept
    ("美国参议员约翰—格伦在招贴画上签名。", "格伦", ["约翰—格伦"]),
    ("印度前总理拉·甘地访华。", "拉·甘", ["拉·甘地"]),
    ("国务卿奥尔布赖特说，", "国务卿奥尔布赖特", ["奥尔布赖特"]),
])
def test_person_parts(text: str, span: str, expected: list[str]) -> None:
    from tasks.ner import featurize, person_parts

    f = featurize([text], crf=False)
    o = int(f.starts[0])
    b = o + text.index(span)
    assert [f.text[s:e] for s, e in person_parts(f, b, b + len(span))] == expected


def test_surname_before_a_title_is_a_person() -> None:
    # without the model only the rules and jieba's tags speak: 毛主席 is one jieba noun
    ex = EntityExtractor(model=None)
    sents = ["他坚决贯彻毛主席制定的方针。", "对此，常副局长表示同意。",
             "这是一个古老的传说。", "总理和总统会谈，并向主任汇报。"]
    got = [[(e.text, e.label) for e in ents if e.label == "PERSON"] for ents in ex.extract(sents)]
    assert got[0] == [("毛", "PERSON")]
    assert got[1] == [("常", "PERSON")]
    assert ("古", "PERSON") not in got[2]  # 古老: 老 is no title here (jieba's nr 古老 may be)
    assert got[3] == []  # 和, 向: function words


@pytest.mark.parametrize("span,end,label", [
    ("马拉若", 4, "LOC"),  # 马拉若岛
    ("克里姆林", 5, "LOC"),  # 克里姆林宫
    ("项", 1, "PER"),  # one character: 项市长 stays a person
    ("周建国", 3, "PER"),  # 周建国市长: a title starts after the name
    ("休斯", 4, "ORG"),  # 休斯公司
    ("乔治·梅森", 7, "ORG"),  # 乔治·梅森大学
    ("李中文", 3, "PER"),  # 李中文报道: 报道 is no newspaper
    ("张明", 2, "PER"),  # 张明报名: nor is 报名
    ("克林顿", 3, "PER"),  # 克林顿政府 names the person
    ("李大娘", 1, "PER"),  # a kinship honorific after a bare surname
])
def test_person_span_before_a_place_ending(span: str, end: int, label: str) -> None:
    from tasks.ner import person_span

    text = {"马拉若": "途经马拉若岛时", "克里姆林": "包括克里姆林宫内", "项": "托项市长办",
            "周建国": "由周建国市长主持", "休斯": "后来休斯公司认为", "乔治·梅森": "在乔治·梅森大学",
            "李中文": "记者李中文报道：", "张明": "昨天张明报名参加", "克林顿": "此后克林顿政府承诺", "李大娘": "从此李大娘成了"}[span]
    b = text.index(span)
    assert person_span(text, b, b + len(span)) == (b + end, label)


def test_a_span_does_not_begin_or_end_in_a_middle_dot() -> None:
    from tasks.ner import featurize

    f = featurize(["葛兰素·威康公司"], crf=False)
    o = int(f.starts[0])
    assert not EntityExtractor._plausible(f, o, o + 4, "PER")  # 葛兰素·
    assert not EntityExtractor._plausible(f, o + 3, o + 6, "PER")  # ·威康
    assert EntityExtractor._plausible(f, o, o + 6, "ORG")


@pytest.mark.parametrize("text,span,crf_type,expected", [
    ("美国国务卿奥尔布赖特21日透露，", "奥尔布赖特", "LOC", "PER"),  # after a title
    ("保守党候选人帕斯特拉纳赢得选举。", "帕斯特拉纳", "LOC", "PER"),
    ("我在成都见到伯奇费尔院士时，", "伯奇费尔", "LOC", "PER"),  # before 院士
    ("联合国对伊拉克的制裁已进入第八年。", "伊拉克", "PER", "LOC"),  # a country is no person
    ("通往旅游胜地帕塔亚的高速公路", "帕塔亚", "LOC", "LOC"),  # nothing says person
    ("美国总统克林顿说，", "美国", "LOC", "LOC"),  # a country before a title stays a place
    ("保加利亚南部城市哈斯科沃举办画展。", "哈斯科沃", "PER", "LOC"),  # after 城市
    ("列车在埃舍德小镇出轨。", "埃舍德", "PER", "LOC"),  # before 小镇
    ("记者见到了哈斯科沃。", "哈斯科沃", "PER", "PER"),  # nothing says place
])
def test_model_type_mended_by_context(text: str, span: str, crf_type: str, expected: str) -> None:
    from tasks.ner import _context_type, featurize

    f = featurize([text], crf=False)
    b = int(f.starts[0]) + text.index(span)
    assert _context_type(f, b, b + len(span), crf_type) == expected


@pytest.mark.parametrize("text,name", [
    ("据报道，东条英机当年下令偷袭珍珠港。", "东条英机"),
    ("日本首相桥本龙太郎今天会见了代表团。", "桥本龙太郎"),
    ("防卫厅长官久间章生转达了问候。", "久间章生"),
    ("松下幸之助的经营理念影响很大。", "松下幸之助"),
])
def test_japanese_names(extractor: EntityExtractor, text: str, name: str) -> None:
    from tasks.ner import _japanese_name_candidates, featurize

    f = featurize([text], crf=False)
    cands: list[list[tuple[int, int, int, str, str]]] = [[]]
    _japanese_name_candidates(f, cands)
    assert [(text[s:e], lab) for _, s, e, lab, _ in cands[0]] == [(name, "PERSON")]
    assert (name, "PERSON") in [(e.text, e.label) for e in extractor.extract([text])[0]]


def test_japanese_surname_before_a_title_is_left_to_the_model() -> None:
    from tasks.ner import _japanese_name_candidates, featurize

    f = featurize(["桥本首相表示，田中先生也同意。"], crf=False)
    cands: list[list[tuple[int, int, int, str, str]]] = [[]]
    _japanese_name_candidates(f, cands)
    assert cands == [[]]


@pytest.mark.parametrize("text,name,label", [
    ("欧佩克决定再次减产。", "欧佩克", "ORG"),  # the dictionary of world bodies
    ("新华社北京电", "新华社", "ORG"),
    ("印度外交部发表声明。", "印度外交部", "ORG"),  # a country's body: the country is part of it
    ("斯里兰卡议会通过了法案。", "斯里兰卡议会", "ORG"),
    ("意大利参议院否决了法案。", "意大利参议院", "ORG"),
])
def test_world_bodies(text: str, name: str, label: str) -> None:
    # the rules alone (no model): the dictionary's entries, with the country before a body
    rules = EntityExtractor(model=None)
    assert (name, label) in [(e.text, e.label, e.source)[:2] for e in rules.extract([text])[0]
                             if e.source == "dict"]


class _ForcedLabels:
    """A CRF stand-in that scores like ``crf`` but decodes to the given labels (to put the
    model's held-out mistakes in front of the rules)."""

    def __init__(self, crf, labels) -> None:
        self.crf, self.labels = crf, labels

    def emissions(self, f):
        return self.crf.emissions(f)

    def viterbi(self, e, lengths):
        return self.labels

    def spans(self, labels, lengths):
        return self.crf.spans(labels, lengths)


def test_two_country_abbreviations_are_two_places(extractor: EntityExtractor) -> None:
    import numpy as np

    from tasks.ner import featurize

    text = "他不赞成对印巴实行制裁，愿与韩方共同努力。"
    f = featurize([text])
    crf = extractor.crf
    assert crf is not None
    labels = crf.viterbi(crf.emissions(f), f.lengths)
    for span in ("印巴", "韩方"):  # as models held out on them called them: persons
        b = text.index(span)
        labels[b:b + 2] = crf.labels.index("B-PER"), crf.labels.index("I-PER")
    forced = EntityExtractor(model=None)
    forced.crf = _ForcedLabels(crf, np.asarray(labels))
    got = [(e.text, e.label) for e in forced.extract([text])[0]]
    assert {("印", "GPE"), ("巴", "GPE"), ("韩", "GPE")} <= set(got)
    assert not any(lab == "PERSON" for _, lab in got)


def test_cross_validation_on_several_splits_prints_each_and_the_mean(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tasks.train_ner import main

    lines = []
    names = ("张三", "李四", "王五", "赵六", "孙七", "周八")
    for i in range(12):
        name, place = names[i % 6], ("北京", "上海", "广州")[i % 3]
        sent = f"{name}去{place}开会"
        tags = ["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O", "O"]
        lines += [f"{c} {t}" for c, t in zip(sent, tags, strict=True)] + [""]
    p = tmp_path / "small.bio"
    p.write_text("\n".join(lines), encoding="utf-8")
    assert main([str(p), "--cv", "2", "--seed", "0", "1", "--augment", "0",
                 "--max-iterations", "20"]) == 0
    out = capsys.readouterr().out
    assert "(seed 0)" in out and "(seed 1)" in out
    per = next(ln for ln in out.splitlines() if ln.startswith("PER") and "mean" in ln).split()
    f1 = [float(x) for x in per[1:3]]
    assert float(per[per.index("mean") + 1]) == pytest.approx(sum(f1) / 2, abs=1e-3)
    assert float(per[per.index("lowest") + 1]) == min(f1)
