import pytest

from papershelf.errors import InputError
from papershelf.topics import TopicRules, load_topics, parse_topics, rule_pattern

from .conftest import TOPICS


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


def test_first_rule_and_field_are_recorded():
    topics = parse_topics(
        "topics:\n"
        "  - slug: peft\n    name: PEFT\n    description: d\n    rules: [LoRA, adapter*]\n"
        "  - slug: dialogue\n    name: Dialogue\n    description: d\n    rules: [dialogue]\n",
        "t.yml",
    )
    found = TopicRules(topics).match("Adapters for chat", "We use LoRA and adapters; dialogue.")
    assert [(m.topic, m.rule, m.field, m.matched) for m in found] == [
        ("peft", "adapter*", "title", "Adapters"),
        ("dialogue", "dialogue", "abstract", "dialogue"),
    ]


def test_real_taxonomy_loads():
    topics = load_topics(TOPICS)
    assert 15 <= len(topics) <= 30
    assert all(t.description and t.rules for t in topics)


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
    ],
)
def test_bad_topics_name_file_and_line(text, message):
    with pytest.raises(InputError) as info:
        parse_topics(text, "t.yml")
    assert str(info.value) == message


def test_fast_matcher_agrees_with_the_regex_reference():
    from papershelf.formats import read_listing
    from papershelf.papers import merge_listings

    from .conftest import FIXTURES, LISTINGS

    files = sorted(LISTINGS.iterdir()) + [FIXTURES / "hostile.txt", FIXTURES / "simple.txt"]
    papers, _ = merge_listings([read_listing(path) for path in files])
    rules = TopicRules(load_topics(TOPICS))
    texts = [(p.title, p.abstract) for p in papers] + [
        ("Fine\u2003tuning with LoRA_x and lora", "İstanbul LoRA\u00a0adapters, in-context."),
        ("ADAPTERS-based FINETUNING", "retrieval-augmented\tgeneration; RL."),
    ]
    assert sum(bool(rules.match(*t)) for t in texts) > 250
    for title, abstract in texts:
        assert rules.match(title, abstract) == rules.match_with_regexes(title, abstract), title
