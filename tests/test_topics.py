import re

import pytest
import sqlite_utils

from papershelf.collection.topics import (
    TopicRules,
    load_taxonomy,
    load_topics,
    parse_taxonomy,
    parse_topics,
    phrase_problem,
    rule_pattern,
    sentence_kind,
)
from papershelf.errors import InputError

from .conftest import REPO, TOPICS


@pytest.mark.parametrize(
    ("rule", "text", "matches"),
    [
        ("fine-tuning", "Fine-Tuning helps", True),
        ("fine-tuning", "finetuning helps", True),
        ("fine-tuning", "fine tuning helps", True),
        ("LoRA", "we use lora.", True),
        ("LoRA", "LoRAMoE is new", False),
        ("adapter*", "adapters and adapter-based", True),
        ("RL", "RLHF", False),
        ("RL", "via RL on imagined", True),
        ("in-context learning", "In-context learning (ICL)", True),
    ],
)
def test_rules_match_whole_words_ignoring_case(rule, text, matches):
    assert bool(rule_pattern(rule).search(text)) is matches


def _rules(yaml_topics: str) -> TopicRules:
    return TopicRules(parse_topics("topics:\n" + yaml_topics, "t.yml"))


def _topic(slug: str, rules: str, extra: str = "") -> str:
    return f"  - slug: {slug}\n    name: {slug}\n    description: d\n    rules: [{rules}]\n{extra}"


PEFT = _topic("peft", "adapter*, LoRA", "    strong: [low-rank adaptation]\n")
CONTRIBUTION = "In this work we propose {}."
BACKGROUND = "Large models are costly, and {} is popular."


def _scores(rules: TopicRules, title: str, abstract: str) -> dict[str, tuple]:
    return {c.topic: (c.score, c.member, c.rank, c.reason) for c in rules.match(title, abstract)}


def test_every_match_is_evidence_with_its_place_and_sentence():
    found = _rules(PEFT).match("Adapters for chat", f"{BACKGROUND.format('LoRA')} We use LoRA.")
    assert [
        (e.rule, e.field, e.sentence_kind, e.matched, e.snippet, e.weight, e.counted)
        for e in found[0].evidence
    ] == [
        ("adapter*", "title", "title", "Adapters", "Adapters for chat", 1.0, True),
        ("LoRA", "abstract", "background", "LoRA", "Large models are costly, and LoRA is popular.",
         0.2, True),
        ("LoRA", "abstract", "background", "LoRA", "We use LoRA.", 0.1, True),  # a recurrence
    ]  # fmt: skip
    assert found[0].score == 1.3  # 1.0 + 0.2 + one recurrence 0.1: the counted weights


@pytest.mark.parametrize(
    ("title", "abstract", "expected"),
    [
        ("LoRA everywhere", "Nothing here.", (1.0, True, 1, None)),  # the title alone is enough
        ("A study", CONTRIBUTION.format("LoRA"), (0.5, False, None, "below threshold 1.0")),
        ("A study", BACKGROUND.format("LoRA"), (0.2, False, None, "below threshold 1.0")),
        # a strong phrase is enough alone where the paper says what it does, not elsewhere
        ("A study", CONTRIBUTION.format("low-rank adaptation"), (1.0, True, 1, None)),
        ("A study", BACKGROUND.format("low-rank adaptation"), (0.5, False, None,
                                                                 "below threshold 1.0")),
        # two distinct rules in the contribution sentence add up
        ("A study", CONTRIBUTION.format("LoRA adapters"), (1.0, True, 1, None)),
    ],
)  # fmt: skip
def test_weights_by_field_sentence_and_strength(title, abstract, expected):
    assert _scores(_rules(PEFT), title, abstract) == {"peft": expected}


@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        ("We propose a new adapter.", "contribution"),
        ("We first carefully propose adapters.", "contribution"),
        ("Here, we study adapters.", "contribution"),
        ("This paper studies adapters.", "contribution"),
        ("In this work, adapters are studied.", "contribution"),
        ("Our experiments use adapters.", "contribution"),
        ("We are interested in adapters.", "background"),
        ("Adapters we know are popular.", "background"),
        ("Recent work studies adapters.", "background"),
    ],
)
def test_contribution_and_background_sentences(sentence, kind):
    assert sentence_kind(sentence) == kind
    found = _rules(PEFT).match("A study", f"Models are large. {sentence} The end.")
    assert [e.sentence_kind for e in found[0].evidence] == [kind]


def test_recurrence_adds_a_tenth_each_up_to_three_tenths():
    abstract = " ".join(f"Sentence {i} uses adapters." for i in range(6))
    (candidate,) = _rules(PEFT).match("A study", abstract)
    assert candidate.score == 0.5  # 0.2 + 0.3
    assert [e.counted for e in candidate.evidence] == [True, True, True, True, False, False]
    # The evidence explains the score: what each counted match adds sums to it.
    assert [e.weight for e in candidate.evidence if e.counted] == [0.2, 0.1, 0.1, 0.1]
    assert candidate.reason == "below threshold 1.0"


def test_an_exclusion_cancels_the_match_it_overlaps():
    rules = _rules(_topic("code", "code, source code", "    exclude: [source code is available]\n"))
    assert rules.match("A study", "Our source code is available online.") == []
    (candidate,) = rules.match("Code models", "Our source code is available online.")
    assert [e.matched for e in candidate.evidence] == ["Code"]


def test_a_topic_threshold_is_its_own():
    rules = _rules(_topic("peft", "LoRA", "    threshold: 0.5\n"))
    assert _scores(rules, "A study", CONTRIBUTION.format("LoRA")) == {"peft": (0.5, True, 1, None)}


def test_the_three_strongest_topics_are_kept_and_the_strongest_is_primary():
    rules = _rules(
        _topic("a", "alpha") + _topic("b", "beta") + _topic("c", "gamma") + _topic("d", "delta")
    )
    found = rules.match("Alpha beta gamma delta", "We propose gamma. We study delta.")
    assert [(c.topic, c.score, c.rank, c.primary, c.reason) for c in found] == [
        ("c", 1.1, 1, True, None),  # the title, and one more mention
        ("d", 1.1, 2, False, None),
        ("a", 1.0, 3, False, None),  # ties by the topics' order
        ("b", 1.0, None, False, "beyond the 3 strongest topics"),
    ]
    assert found[0].explanation == "“gamma” in the title; 1 more mention in the abstract"
    assert found[3].explanation == ""  # only memberships are explained on pages


def test_mentions_beyond_the_cap_are_told_as_not_counted():
    # Found by a review: "3 more mentions" was said of papers with up to 26 more.
    rules = _rules(_topic("c", "gamma"))
    (found,) = rules.match("Gamma", "We propose gamma. " + "Gamma is good. " * 5)
    assert found.score == 1.3  # the title, and three more mentions at most
    assert found.explanation == "“Gamma” in the title; 6 more mentions, 3 counted"


def test_a_long_sentence_is_shown_in_whole_words_with_an_ellipsis_where_cut():
    words = " ".join(f"word{i}" for i in range(60))
    abstract = f"In this work we study {words} adapters {words} to the end."
    (found,) = _rules(PEFT).match("A study", abstract)
    snippet = found.evidence[0].snippet
    assert snippet.startswith("…word") and snippet.endswith("…")
    assert "adapters" in snippet and len(snippet) <= 202
    assert set(snippet.strip("…").split()) <= set(abstract.split())  # no word cut
    # Text with no space near the cut (as in Chinese) keeps its context.
    unspaced = "言" * 150 + " adapters " + "語" * 150
    (found,) = _rules(PEFT).match("A study", f"In this work we study {unspaced}.")
    assert len(found.evidence[0].snippet) > 150


def test_an_abbreviation_and_its_expansion_written_as_one_rule_count_once():
    abstract = "Models trained with DPO are popular. Direct preference optimization is cheap."
    apart = _rules(_topic("pref", "DPO, direct preference optimization")).match("A study", abstract)
    assert apart[0].score == 0.4  # two rules, 0.2 each
    together = _rules(_topic("pref", "DPO | direct preference optimization"))
    (candidate,) = together.match("A study", abstract)
    assert candidate.score == 0.3  # one rule (0.2), and one more mention (0.1)
    assert {e.rule for e in candidate.evidence} == {"DPO | direct preference optimization"}
    assert [e.matched for e in candidate.evidence] == ["DPO", "Direct preference optimization"]


def test_text_matched_by_two_rules_of_a_topic_is_evidence_once():
    rules = _rules(_topic("peft", "parameter-efficient, parameter efficient, efficient"))
    (candidate,) = rules.match("Parameter-efficient tuning", "")
    assert [(e.rule, e.matched) for e in candidate.evidence] == [
        ("parameter-efficient", "Parameter-efficient")
    ]


def test_scoring_is_deterministic(tmp_path, fixture_listings):
    import os
    import subprocess
    import sys

    tables = ("paper_topics", "topic_scores", "topic_evidence")
    dumps = []
    # Two processes with different string hashing: set and dict orders differ between them.
    for name, seed in (("one.db", "1"), ("two.db", "2")):
        command = [sys.executable, "build.py", "db", "--listings", str(fixture_listings)]
        command += ["--topics", str(TOPICS), "--db", str(tmp_path / name)]
        environment = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(command, cwd=REPO, env=environment, check=True, capture_output=True)
        db = sqlite_utils.Database(tmp_path / name)
        dumps.append({t: list(db.execute(f"select * from {t}").fetchall()) for t in tables})
    assert dumps[0] == dumps[1]
    assert all(dumps[0][t] for t in tables)


# Topic slugs are permalinks: every slug ever published keeps a page (a topic that merges
# into another is listed under `retired:` and its page redirects).
PUBLISHED_SLUGS = [
    "parameter-efficient-fine-tuning",
    "instruction-tuning",
    "preference-optimisation",
    "reinforcement-learning",
    "post-training",
    "in-context-learning",
    "prompting",
    "multitask-generalisation",
    "model-merging",
    "continual-learning",
    "retrieval",
    "vision-language",
    "text-to-image",
    "representation-learning",
    "dialogue",
    "recommendation",
    "code",
    "reasoning",
    "agents-tool-use",
    "multilingual",
    "domain-adaptation",
    "data-curation",
    "pre-training",
    "efficiency",
    "long-context",
    "interpretability",
    "knowledge-factuality",
    "safety",
    "evaluation",
    "speech-audio",
    "theory",
    "personalisation",
]


def test_every_topic_an_exclusion_points_to_is_a_topic():
    # Found by a new user's walk-through: Personalisation sent readers to "(Recommendation)",
    # a topic of no such name. A reference is the start of a topic's name.
    names = [t.name for t in load_topics(TOPICS)]
    pointed = [
        (topic.slug, part)
        for topic in load_topics(TOPICS)
        for ref in re.findall(r"\(([A-Z][^()]*)\)", topic.description.partition("Excludes:")[2])
        for part in ref.split(", ")
    ]
    assert len(pointed) > 10
    assert [p for p in pointed if not any(name.startswith(p[1]) for name in names)] == []


def test_real_taxonomy_loads_and_keeps_every_published_slug():
    taxonomy = load_taxonomy(TOPICS)
    assert 15 <= len(taxonomy.topics) <= 40
    assert all(t.description and t.rules for t in taxonomy.topics)
    kept = {t.slug for t in taxonomy.topics} | set(taxonomy.retired)
    assert [slug for slug in PUBLISHED_SLUGS if slug not in kept] == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "topics:\n  - slug: a\n    name: A: B\n",
            "t.yml:3: invalid YAML: mapping values are not allowed here",
        ),
        ("nothing: here\n", "t.yml:1: expected a mapping with a 'topics:' list"),
        (
            "topics:\n  - slug: a\n    name: A\n    description: d\n",
            "t.yml:2: topic 1 has no 'rules'",
        ),
        (
            "topics:\n  - slug: Bad Slug\n    name: A\n    description: d\n    rules: [x]\n",
            "t.yml:2: topic slug 'Bad Slug' must be lowercase letters, digits and hyphens",
        ),
        (
            "topics:\n"
            "  - slug: a\n    name: A\n    description: d\n    rules: [x]\n"
            "  - slug: a\n    name: A\n    description: d\n    rules: [y]\n",
            "t.yml:6: duplicate topic slug 'a'",
        ),
        (
            "topics:\n" + _topic("a", "x", "    threshold: high\n"),
            "t.yml:2: topic 'a': 'threshold' must be a positive number, not 'high'",
        ),
        (
            "topics:\n" + _topic("a", "x", "    threshold: 0\n"),
            "t.yml:2: topic 'a': 'threshold' must be a positive number, not 0",
        ),
        (
            "topics:\n" + _topic("a", "x", "    strong: LoRA\n"),
            "t.yml:6: topic 'a': 'strong' must be a list of phrases",
        ),
        (
            "topics:\n" + _topic("a", "x", "    exclude: ['-*']\n"),
            "t.yml:6: topic 'a': 'exclude' must be a list of phrases",
        ),
        (
            "topics:\n" + _topic("a", "x", "    stong: [y]\n"),
            "t.yml:6: topic 'a': unknown key 'stong' (expected slug, name, description, "
            "rules, strong, exclude, threshold)",
        ),
        # Found by a new user's walk-through: "rule:" was reported as no 'rules' at all,
        # and two topics of one name made two pages of one title.
        (
            "topics:\n  - slug: a\n    name: A\n    description: d\n    rule: [x]\n",
            "t.yml:5: topic 'a': unknown key 'rule' (expected slug, name, description, "
            "rules, strong, exclude, threshold)",
        ),
        (
            "topics:\n" + _topic("a", "x") + _topic("b", "y").replace("name: b", "name: a"),
            "t.yml:6: duplicate topic name 'a'",
        ),
        (
            "topics:\n" + _topic("a", "x") + "retired:\n  old: gone\n",
            "t.yml:7: retired slug 'old': 'gone' is not a topic",
        ),
        (
            "topics:\n" + _topic("a", "x") + "retired:\n  a: a\n",
            "t.yml:7: retired slug 'a' is still a topic",
        ),
        (
            "topics:\n" + _topic("a", "x") + "version: 2\n",
            "t.yml:1: unknown key 'version' (expected 'topics', 'retired')",
        ),
        # Found by a review: a curator's pattern, a stray * or an empty spelling built
        # without a word, and a key given twice lost the first list (YAML keeps the last).
        (
            "topics:\n" + _topic("a", "x") + "    strong:\n      - LoRA\n      - (lora|qlora)+\n",
            "t.yml:8: topic 'a': strong '(lora|qlora)+' is not a phrase: an unmatched bracket "
            "is pattern syntax, and a rule's words match as written. A phrase is words (a "
            "trailing * matches any ending), its spellings separated by '|'",
        ),
        (
            "topics:\n" + _topic("a", "fine*tuning"),
            "t.yml:5: topic 'a': rules 'fine*tuning' is not a phrase: a * may only end a "
            "spelling, after a letter or digit. A phrase is words (a trailing * matches any "
            "ending), its spellings separated by '|'",
        ),
        (
            "topics:\n" + _topic("a", "'lora | '"),
            "t.yml:5: topic 'a': rules 'lora | ' is not a phrase: a spelling between the | "
            "is empty. A phrase is words (a trailing * matches any ending), its spellings "
            "separated by '|'",
        ),
        (
            "topics:\n" + _topic("a", "x", "    rules: [y]\n"),
            "t.yml:6: invalid YAML: the key 'rules' is given twice",
        ),
        # Lines that were missing or pointed at the mapping, not the entry.
        ("topics:\n" + _topic("a", "x") + "  - just a name\n", "t.yml:6: topic 2 is not a mapping"),
        (
            "topics:\n" + _topic("a", "x") + "retired: [old]\n",
            "t.yml:6: 'retired' must map old topic slugs to kept ones",
        ),
        (
            "topics:\n" + _topic("a", "x") + _topic("b", "y") + "retired:\n  c: a\n  old: gone\n",
            "t.yml:12: retired slug 'old': 'gone' is not a topic",
        ),
    ],
)
def test_bad_topics_name_file_and_line(text, message):
    with pytest.raises(InputError) as info:
        parse_taxonomy(text, "t.yml")
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("topic", "title", "abstract", "member"),
    [
        # Formal analyses of what models can learn belong to Theory …
        (
            "theory",
            "What Formal Languages Can Transformers Express?",
            "We prove that transformers recognize exactly the formal languages of a logic.",
            True,
        ),
        # … neighbours in words that are other subjects do not.
        (
            "theory",
            "LeanAgent: Lifelong Learning for Formal Theorem Proving",
            "We propose LeanAgent, a framework for formal theorem proving that generates "
            "formal proofs in Lean.",
            False,
        ),
        (
            "theory",
            "Theory of Mind in Large Language Models",
            "We introduce a theory of mind test.",
            False,
        ),
        (
            "theory",
            "Formality Style Transfer",
            "We propose a method for formality transfer.",
            False,
        ),
        (
            "theory",
            "Game-Theoretic Regularization for Multimodal Training",
            "In this work we propose a game theory view of modality competition.",
            False,
        ),
        # Adapting to one user, or to a user's own subject, is Personalisation …
        (
            "personalisation",
            "Subject-Driven Generation with Diffusion Models",
            "We propose a method for text-to-image customization from three photos of a pet.",
            True,
        ),
        # … a recommender personalising for its users is Recommendation's, and words
        # about users or customising are not enough.
        (
            "personalisation",
            "Graph Networks for Personalized Recommendation",
            "We propose a model for personalized recommendation of items to users.",
            False,
        ),
        (
            "personalisation",
            "Personalized News Recommendation with Large Language Models",
            "We propose an LLM-based recommender that builds user profiles from reading "
            "history and produces personalized news feeds.",
            False,
        ),
        (
            "personalisation",
            "Privacy Attacks on Individual Users of Language Models",
            "We propose an attack that identifies individual users whose data trained the "
            "model. Our attack recovers user-specific information.",
            False,
        ),
        (
            "personalisation",
            "Customized Kernels for Efficient LLM Inference",
            "We introduce customized CUDA kernels that fuse dequantization with matrix "
            "multiplication.",
            False,
        ),
        (
            "personalisation",
            "Personalized PageRank for Graph Neural Networks",
            "We propose a graph neural network that propagates with personalized PageRank.",
            False,
        ),
        # Image generation takes a subject-driven generator, not every model customised.
        (
            "text-to-image",
            "DreamBooth: Fine Tuning Text-to-Image Diffusion Models for Subject-Driven Generation",
            "We present a new approach for personalization of text-to-image models.",
            True,
        ),
        (
            "text-to-image",
            "Model Customization for Enterprises with Low-Rank Adapters",
            "We propose a method for efficient customization of LLMs with LoRA on domain data.",
            False,
        ),
        (
            "text-to-image",
            "Personalization of Chatbots",
            "We propose personalization of dialogue agents to each user.",
            False,
        ),
    ],
)
def test_real_topics_take_their_subject_not_its_namesakes(topic, title, abstract, member):
    rules = TopicRules(load_topics(TOPICS))
    found = {c.topic: c.member for c in rules.match(title, abstract)}
    assert found.get(topic, False) is member


def test_fast_matcher_agrees_with_the_regex_reference():
    from papershelf.collection.papers import merge_listings
    from papershelf.ingest.formats import read_listing

    from .conftest import FIXTURES, LISTINGS

    files = sorted(LISTINGS.iterdir()) + [FIXTURES / "hostile.txt", FIXTURES / "simple.txt"]
    papers, _ = merge_listings([read_listing(path) for path in files])
    rules = TopicRules(load_topics(TOPICS))
    texts = [(p.title, p.abstract) for p in papers] + [
        ("Fine\u2003tuning with LoRA_x and lora", "İstanbul LoRA\u00a0adapters, in-context."),
        ("ADAPTERS-based FINETUNING", "retrieval-augmented\tgeneration; RL."),
    ]
    assert sum(any(c.member for c in rules.match(*t)) for t in texts) > 200
    for title, abstract in texts:
        assert rules.match(title, abstract) == rules.match_with_regexes(title, abstract), title


EDGE_TOPICS = (
    _topic("peft", "adapter*, fine-tuning, LoRA")
    + _topic("code", "'C++', 'code, data', '.NET'", "    exclude: [code is available]\n")
    + _topic("rl", "RL | reinforcement learning, policy optimi*")
)


@pytest.mark.parametrize(
    ("title", "abstract"),
    [
        # Separators: one space or hyphen (or none) inside a phrase, not other punctuation.
        ("Fine,tuning and fine--tuning", "Fine tuning, fine-tuning and finetuning. We use LoRA."),
        # Phrases with characters that are not word characters, and what surrounds them.
        ("C++ and ASP.NET", "We use .NET, (C++) and C++x; code, data and code,data."),
        # Other punctuation in their place is not them ("code; data", "C..", ",NET").
        ("C.. and C+! and ;NET", "code; data, code.data, code,data; ,NET and .NET."),
        # A wildcard at the end of the title, a match at the start of the abstract.
        ("Policy optimisation with adapters", "adapter-based RL. Policy optimization_x."),
        # Non-ASCII text: whitespace, letters and punctuation outside ASCII.
        ("Ünïcode\u3000LoRA\u2014adapters", "Ça marche: RL\u00a0with «LoRA» and ﬁne-tuning."),
        ("", "RL"),
        ("LoRA", ""),
        ("The code is available", "Our code is available; code, data and RL here."),
    ],
)
def test_fast_matcher_agrees_at_edges(title, abstract):
    rules = _rules(EDGE_TOPICS)
    assert rules.match(title, abstract) == rules.match_with_regexes(title, abstract)


def test_fast_matcher_finds_words_next_to_punctuation_and_not_inside_words():
    rules = _rules(EDGE_TOPICS)
    found = rules.match("C++ tricks: LoRA-adapters", "We study (RL) and RLHF; XLoRA is not.")
    matched = sorted((c.topic, e.matched) for c in found for e in c.evidence)
    assert matched == [
        ("code", "C++"),
        ("peft", "LoRA"),
        ("peft", "adapters"),
        ("rl", "RL"),
    ]


def test_new_keys_are_optional_and_a_strong_phrase_is_a_rule():
    taxonomy = parse_taxonomy(
        "topics:\n" + PEFT + _topic("merging", "model merging") + "retired:\n  soups: merging\n",
        "t.yml",
    )
    peft, merging = taxonomy.topics
    assert peft.rules == ("adapter*", "LoRA", "low-rank adaptation")
    assert (merging.strong, merging.exclude, merging.threshold) == ((), (), 1.0)
    assert taxonomy.retired == {"soups": "merging"}


def test_a_retired_slug_redirects_to_the_topic_that_took_it_in(tmp_path, fixture_listings):
    from papershelf.publish.mkdocs_build import load_site_config
    from papershelf.publish.site import build_site
    from papershelf.store.pipeline import build_database

    from .conftest import CONFIG, METADATA

    topics = tmp_path / "topics.yml"
    topics.write_text(
        TOPICS.read_text(encoding="utf-8") + "\nretired:\n  model-soups: model-merging\n",
        encoding="utf-8",
    )
    build_database(fixture_listings, topics, tmp_path / "papers.db")
    db = sqlite_utils.Database(tmp_path / "papers.db")
    assert list(db["retired_topics"].rows) == [{"slug": "model-soups", "topic": "model-merging"}]
    # MkDocs in strict mode: the redirect page must not warn either.
    build_site(tmp_path / "papers.db", tmp_path / "site", tmp_path / "docs", CONFIG, METADATA)
    html = (tmp_path / "site" / "topics" / "model-soups" / "index.html").read_text("utf-8")
    assert '<meta http-equiv="refresh" content="0; url=../model-merging/">' in html
    assert '<a href="../model-merging/">' in html
    # Found by a review: the redirect was a page of its own for search engines, in the
    # sitemap, its canonical address itself.
    site_url = load_site_config(CONFIG, tmp_path / "docs").site_url or ""
    kept = f"{site_url.rstrip('/')}/topics/model-merging/" if site_url else "../model-merging/"
    assert f'<link rel="canonical" href="{kept}">' in html and 'content="noindex"' in html
    assert "model-soups" not in (tmp_path / "site" / "sitemap.xml").read_text("utf-8")
    for slug in load_topics(TOPICS):  # every topic keeps its page
        assert (tmp_path / "site" / "topics" / slug.slug / "index.html").exists()


def test_an_ordinary_rule_does_not_weaken_a_strong_phrase_it_shares_text_with():
    # audit20t: a curator who adds an ordinary rule that one spelling of a strong phrase
    # also matches adds evidence; it must not take the strong phrase's weight away.
    strong = _topic("peft", "adapter*", "    strong: [LoRA | low-rank adaptation]\n")
    both = _topic("peft", "adapter*, LoRA", "    strong: [LoRA | low-rank adaptation]\n")
    abstract = CONTRIBUTION.format("LoRA")
    assert _scores(_rules(both), "Tuning", abstract) == _scores(_rules(strong), "Tuning", abstract)


def test_a_longer_ordinary_rule_at_a_strong_phrase_changes_nothing():
    # The strong "LoRA" takes the place of "LoRA fine-tuning"; the rest of that text is
    # then matched as it would be without the longer rule (a review found the two ways
    # of getting this wrong: 0.5, the strong phrase lost; 1.0, "fine-tuning" lost).
    alone = _rules(_topic("peft", "fine-tun*", "    strong: [LoRA]\n"))
    longer = _rules(_topic("peft", "LoRA fine-tuning, fine-tun*", "    strong: [LoRA]\n"))
    abstract = "We propose LoRA fine-tuning."
    assert _scores(longer, "A study", abstract) == _scores(alone, "A study", abstract)
    (found,) = longer.match("A study", abstract)
    assert found.score == 1.5
    assert [e.matched for e in found.evidence] == ["LoRA", "fine-tuning"]


def test_literal_punctuation_in_a_rule_is_matched_as_written():
    # Found by a review: the check for pattern syntax refused phrases that match literally.
    rules = ["C++", "TD(λ)", "R^2", "[1]", "[CLS]", "$100"]
    topics = parse_topics("topics:\n" + _topic("a", ", ".join(f"'{r}'" for r in rules)), "t")
    assert topics[0].rules == tuple(rules)
    for rule in rules:
        (found,) = TopicRules(topics).match(f"About {rule} here", "")
        assert [e.matched for e in found.evidence] == [rule]


def test_a_snippet_that_reaches_its_sentence_end_has_no_ellipsis_there():
    # Found by a review: "…with further fine-tuning.…", the space after the sentence
    # taken for text left out.
    words = " ".join(f"word{i}" for i in range(60))
    # The window of 200 characters around the match ends on the space after the sentence.
    rest = " z" * 47 + "z"  # 95 characters between the match and the full stop
    abstract = f"In this work we study {words} adapters{rest}. Next one."
    (found,) = _rules(PEFT).match("A study", abstract)
    snippet = found.evidence[0].snippet
    assert snippet.startswith("…") and snippet.endswith("zz.")


@pytest.mark.parametrize("phrase", ["models?", "colou?r", "[Ll]oRA", "a{2,3}", "f(x)*", "x.+"])
def test_habits_of_patterns_are_refused(phrase):
    # Found by a review: "models?" and "[Ll]oRA" were taken as text and matched nothing.
    assert "is pattern syntax" in phrase_problem(phrase)


def test_a_merge_key_still_reads():
    # review21: 3c823e6's duplicate-key check constructs every key node itself, the merge
    # key "<<" too, for which the safe loader has no constructor: a topics file that
    # shares fields with an anchor read at 101cfa1 and is now "invalid YAML".
    shared = "  - &base\n    slug: a\n    name: A\n    description: d\n    rules: [x]\n"
    taxonomy = parse_topics("topics:\n" + shared + "  - <<: *base\n    slug: b\n    name: B\n", "t")
    assert [t.slug for t in taxonomy] == ["a", "b"]


def test_a_longer_ordinary_rule_does_not_take_a_later_strong_phrase_away():
    # review22: since 746f15e, a strong phrase that takes the place of a longer ordinary
    # rule leaves the whole longer text taken, so an ordinary rule a curator adds
    # ("LoRA fine-tuning") cancels a second strong phrase inside it ("fine-tun*"): the
    # score falls from 2.0 to 1.0, against the rule above. At e89e62a both were 2.0.
    strong = _topic("peft", "adapter*", "    strong: [LoRA, fine-tun*]\n")
    both = _topic("peft", "adapter*, LoRA fine-tuning", "    strong: [LoRA, fine-tun*]\n")
    abstract = CONTRIBUTION.format("LoRA fine-tuning")
    assert _scores(_rules(both), "Tuning", abstract) == _scores(_rules(strong), "Tuning", abstract)
