import re

import pytest

from papershelf.ingest.text import normalise_title, short_name, slugify

SAFE_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("CorDA: Context-Oriented Decomposition Adaptation", "CorDA"),
        ("LiNeS: Post-training Layer Scaling", "LiNeS"),
        ("Yi: Open Foundation Models by 01.AI", "Yi"),
        ("TÜLU 3: Pushing Frontiers in Open Language Model Post-Training", "TÜLU 3"),
        ("HelpSteer2-Preference: Complementing Ratings", "HelpSteer2-Preference"),
        ("From Text to Source: Results in Detecting", None),
        ("Model soups: averaging weights", None),
        ("Survey: a survey", None),
        ("Fine-tuning Language Models for Factuality", None),
    ],
)
def test_short_name(title, expected):
    assert short_name(title) == expected


def test_normalised_titles_fold_case_and_punctuation():
    assert normalise_title("Fine-Tuning  LLMs: A Guide") == normalise_title(
        "fine tuning llms - a guide"
    )
    assert normalise_title("Fine-Tuning LLMs") == "fine tuning llms"


def test_symbol_only_titles_stay_distinct():
    assert normalise_title("🤖🤖") != normalise_title("🦜🦜")


def test_slug_of_plain_title_is_readable():
    assert (
        slugify("Language Models are Few-Shot Learners") == "language-models-are-few-shot-learners"
    )


@pytest.mark.parametrize(
    "title",
    [
        "../../etc/passwd",
        "<script>alert(1)</script>",
        "TÜLU 3: Pushing Frontiers",
        "🤖🤖🤖",
        "نموذج لغوي كبير",
        "x" * 500,
        "CON",
        "a/b\\c?d#e%f",
    ],
)
def test_slugs_are_safe_file_names_and_urls(title):
    slug = slugify(title)
    assert SAFE_SLUG.match(slug), slug
    assert len(slug) <= 90


def test_lossy_slugs_get_a_hash_so_they_do_not_collide():
    assert slugify("Tulu 3") == "tulu-3"
    assert slugify("TÜLU 3") != slugify("Tulu 3")
    assert slugify("🤖") != slugify("🦜")
    assert slugify("a" * 100 + " one") != slugify("a" * 100 + " two")
