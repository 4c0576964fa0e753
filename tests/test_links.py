import pytest

from papershelf.collection.links import classify, extract_links


def test_trailing_punctuation_is_not_part_of_a_link():
    text = (
        "Code: https://github.com/PandaVT/DataTager. Data at https://github.com/thunlp/UltraChat}. "
        "(see https://github.com/Facico/Dynamic-Logit-Fusion.) and "
        "https://github.com/ZhaolinGao/REFUEL/, "
        "or https://a.github.io/x; https://github.com/a/b), https://github.com/c/d!"
    )
    assert [link.url for link in extract_links(text)] == [
        "https://github.com/PandaVT/DataTager",
        "https://github.com/thunlp/UltraChat",
        "https://github.com/Facico/Dynamic-Logit-Fusion",
        "https://github.com/ZhaolinGao/REFUEL/",
        "https://a.github.io/x",
        "https://github.com/a/b",
        "https://github.com/c/d",
    ]


def test_balanced_parentheses_stay_in_a_link():
    links = extract_links("See https://en.wikipedia.org/wiki/Foo_(bar).")
    assert links[0].url == "https://en.wikipedia.org/wiki/Foo_(bar)"


def test_repeated_links_are_kept_once():
    assert len(extract_links("https://github.com/a/b and https://github.com/a/b.")) == 1


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://github.com/IBM/ensemble-instruct", "code"),
        ("https://gitlab.com/group/project", "code"),
        ("https://github.com/", "other"),
        ("https://huggingface.co/nvidia/Llama-3.1-Nemotron-70B-Reward", "model"),
        ("https://huggingface.co/datasets/nvidia/HelpSteer2", "dataset"),
        ("https://huggingface.co/spaces/org/demo", "space"),
        ("https://org-demo.hf.space", "space"),
        ("https://huggingface.co/Cornell-AGI", "other"),
        ("https://huggingface.co/papers/2401.00001", "other"),
        ("https://mm-rlhf.github.io", "project"),
        ("https://sites.google.com/stanford.edu/droc", "project"),
        ("https://aka.ms/BLURB", "other"),
    ],
)
def test_classify(url, kind):
    assert classify(url) == kind


def test_only_http_links_are_found():
    assert extract_links("javascript:alert(1) ftp://x.org/y mailto:a@b.c") == ()
